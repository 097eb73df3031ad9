"""The program `pulumi up` runs (Pulumi.yaml): the plan named by stack config `capacity:plan`.

The program itself is capacity/deploy/program.py. This file stands at the project's root because
Pulumi resolves Pulumi.yaml's `virtualenv` option against the program's folder when it starts the
dynamic providers of owned sites: from here, `.venv` is the README's virtualenv.
"""

from pathlib import Path

from capacity.deploy.program import main

main(Path(__file__).resolve().parent)
