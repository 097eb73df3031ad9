"""The `capacity` command line. `main.py` composes one module per noun."""
