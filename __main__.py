"""The program `pulumi up` runs (Pulumi.yaml): the plan named by stack config `capacity:plan`.

The program itself is components/__main__.py. This file stands at the project's root because
Pulumi resolves Pulumi.yaml's `virtualenv` option against the program's folder when it starts the
dynamic providers of owned sites: from here, `.venv` is the README's virtualenv.
"""

import runpy
from pathlib import Path

runpy.run_path(str(Path(__file__).resolve().parent / "components" / "__main__.py"), run_name="__main__")
