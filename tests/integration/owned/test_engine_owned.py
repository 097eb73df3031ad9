"""The owned components through the real Pulumi engine: inline Automation API program, file
backend, the `pulumi-resource-pulumi-python` host running our dynamic providers. No mocks.

Skips only where no Pulumi CLI can be had; CAPACITY_REQUIRE_ENGINE=1 makes that a failure.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from pathlib import Path

from capacity.inventory import open_site, prepare_sites
from capacity.plan.loading import load_plan

ROOT = Path(__file__).parents[3]
DAY = dt.date(2026, 12, 15)  # acme-pilot (dedicated, 2 nodes) is in force, globex-shared is not yet


def make_stack(cli, tmp_path: Path, plan: Path):
    from pulumi import automation as auto

    from capacity.engine.pulumi_cli import engine_env
    from capacity.components.program import build

    loaded = load_plan(plan)
    prepare_sites(loaded, plan)
    backend = tmp_path / "backend"
    backend.mkdir(exist_ok=True)
    env = {**engine_env(cli), "PULUMI_CONFIG_PASSPHRASE": "owned-tests"}
    options = auto.LocalWorkspaceOptions(
        work_dir=str(tmp_path),
        project_settings=auto.ProjectSettings(name="capacity", runtime="python",
                                              backend=auto.ProjectBackend(url=backend.as_uri())),
        env_vars=env,
        pulumi_command=auto.PulumiCommand(root=str(cli.root), skip_version_check=True),
    )
    return auto.create_or_select_stack(stack_name=loaded.name, project_name="capacity",
                                       program=lambda: build(loaded, on=DAY), opts=options)


def inventory() -> dict[str, tuple]:
    with open_site("lab-1") as inv:
        return {n.serial: (n.state, n.allocation, n.pool) for n in inv.nodes()}


def test_up_drift_and_destroy_through_the_engine(pulumi_cli, tmp_path):
    stack = make_stack(pulumi_cli, tmp_path, ROOT / "stacks" / "quickstart.yaml")

    up = stack.up()
    assert up.summary.resource_changes == {"create": 8}
    nodes = inventory()
    assert Counter(a for _, a, _ in nodes.values()) == {"quickstart/train": 8, None: 4}
    leased = sorted(s for s, (_, _, pool) in nodes.items() if pool == "quickstart/acme-pilot")
    assert len(leased) == 2
    resources = {r["urn"].rsplit("::", 1)[-1]: r for r in stack.export_stack().deployment["resources"]}
    train = resources["train-nodes"]["outputs"]
    assert sorted(train["serials"]) == sorted(s for s, (_, a, _) in nodes.items() if a)
    assert train["gpus"] == 64 and len(train["racks"]) == 2
    assert sorted(resources["acme-pilot-pool"]["outputs"]["serials"]) == leased

    assert stack.preview().change_summary == {"same": 8}
    assert stack.refresh().summary.resource_changes == {"same": 8}  # reading changes nothing by itself

    victim = leased[0]
    with open_site("lab-1") as inv:
        inv.mark(victim, "failed")
    refreshed = stack.refresh()
    assert refreshed.summary.resource_changes.get("update") == 2  # the cluster and the lease's pool
    assert stack.preview().change_summary.get("update") == 2
    fixed = stack.up()
    assert fixed.summary.resource_changes.get("update") == 2
    nodes = inventory()
    assert nodes[victim] == ("failed", None, None)
    assert Counter(a for _, a, _ in nodes.values()) == {"quickstart/train": 8, None: 4}
    assert sum(pool == "quickstart/acme-pilot" for _, _, pool in nodes.values()) == 2
    assert stack.preview().change_summary == {"same": 8}

    refused = None
    try:
        stack.destroy()  # no lease guard ran: the in-force lease pool's provider refuses
    except Exception as exc:  # noqa: BLE001 - the Automation API's CommandError
        refused = str(exc)
    assert refused and "refusing to release the capacity of lease 'acme-pilot'" in refused
    assert sum(pool == "quickstart/acme-pilot" for _, _, pool in inventory().values()) == 2
    stack.workspace.env_vars["CAPACITY_ALLOW_DESTROY"] = "1"  # on purpose
    stack.destroy()
    nodes = inventory()
    assert nodes.pop(victim) == ("failed", None, None)
    assert set(nodes.values()) == {("free", None, None)}
