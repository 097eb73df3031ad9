"""The root Pulumi.yaml program: `pulumi up` deploys the plan named by stack config `capacity:plan`.

    pulumi config set capacity:plan stacks/example.yaml
    pulumi up

The lease guard of `capacity up` holds here too: an update that would delete, move or shrink the
capacity of a lease in force fails before changing anything, unless the stack config says
`capacity:allowDestroy: true` (set it for that one run, with CAPACITY_ALLOW_DESTROY=1 in the
environment: an owned lease pool's provider refuses by itself to delete a lease in force). A
preview warns of it. (`pulumi destroy` runs no program; the lease pools' provider stops it while a
lease is in force: use `capacity destroy --stack NAME`, which is guarded.)
"""

import json
import subprocess
from pathlib import Path

import pulumi

from capacity.deploy.guard import LeaseGuard
from capacity.deploy.workflow import guarded_program
from capacity.errors import PlanError
from capacity.inventory import InventoryError, prepare_sites
from capacity.plan.loading import load_plan


def deployed_state(project: Path):
    """The stack's state, as the update that runs this program (and holds the stack's lock) sees it.
    Under Pulumi's mocks nothing is deployed."""
    from pulumi.runtime.mocks import MockMonitor
    from pulumi.runtime.settings import get_monitor

    if isinstance(get_monitor(), MockMonitor):
        return None
    stack = f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"
    try:
        done = subprocess.run(["pulumi", "stack", "export", "--stack", stack], capture_output=True, text=True,
                              cwd=project, timeout=300)
        if done.returncode == 0:
            return json.loads(done.stdout).get("deployment")
        reason = (done.stderr.strip().splitlines() or ["no output"])[-1]
    except (OSError, subprocess.SubprocessError, ValueError) as exc:
        reason = str(exc)
    raise pulumi.RunError(f"cannot read the state of stack {stack}, which the lease guard needs: {reason}")


def main(project: Path) -> None:
    """The program, with plan paths in the stack config taken relative to `project` (Pulumi.yaml's folder)."""
    config = pulumi.Config("capacity")
    path = config.require("plan")
    catalog = config.get("catalog")
    try:  # paths in the stack config are relative to the project (Pulumi.yaml's directory)
        loaded = load_plan(project / path, catalog and project / catalog, shown_as=path)
    except PlanError as exc:
        problems = "\n".join(str(p) for p in exc.problems)
        raise pulumi.RunError(f"cannot deploy the plan {path}:\n{problems}") from None
    try:  # owned sites: their inventory files, imported on first use, as `capacity up` does
        for line in prepare_sites(loaded, project / path):
            pulumi.log.info(line)
    except InventoryError as exc:
        raise pulumi.RunError(str(exc)) from None
    guard = LeaseGuard(read_state=lambda: deployed_state(project), verb="up", allow=bool(config.get_bool("allowDestroy")))
    guarded_program(loaded, guard)()
    for taking in guard.found if pulumi.runtime.is_dry_run() else []:
        pulumi.log.warn(f"up would {taking}; it will refuse without capacity:allowDestroy.")

