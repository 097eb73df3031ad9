"""The root Pulumi.yaml program: `pulumi up` deploys the plan named by stack config `capacity:plan`.

    pulumi config set capacity:plan stacks/example.yaml
    pulumi up
"""

import sys
from pathlib import Path

# Pulumi runs this file by path, putting components/ first on sys.path, where the provider packages
# (aws, azure, gcp) would shadow real top-level packages. Import from the repository root instead.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))

import pulumi  # noqa: E402

from capacity.errors import PlanError  # noqa: E402
from capacity.inventory import InventoryError, prepare_sites  # noqa: E402
from capacity.plan import load_plan  # noqa: E402
from components.program import build  # noqa: E402


def main() -> None:
    config = pulumi.Config("capacity")
    path = config.require("plan")
    catalog = config.get("catalog")
    try:  # paths in the stack config are relative to the project (Pulumi.yaml's directory)
        loaded = load_plan(_HERE.parent / path, catalog and _HERE.parent / catalog, shown_as=path)
    except PlanError as exc:
        problems = "\n".join(str(p) for p in exc.problems)
        raise pulumi.RunError(f"cannot deploy the plan {path}:\n{problems}") from None
    try:  # owned sites: their inventory files, imported on first use, as `capacity up` does
        for line in prepare_sites(loaded, _HERE.parent / path):
            pulumi.log.info(line)
    except InventoryError as exc:
        raise pulumi.RunError(str(exc)) from None
    build(loaded)


main()
