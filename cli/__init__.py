"""The `capacity` command line (installed as capacity.cli). `main.py` composes one module per noun."""
