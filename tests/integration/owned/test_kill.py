"""kill -9 of `capacity` and every process it started, at chosen moments of `up` and `destroy`
(in an inventory transaction before its commit; right after the inventory's commit and before
the engine writes the state), then one plain rerun: it succeeds, `audit` is clean, and after
`destroy` every node is free. Real processes, real Pulumi engine, real database.

The full list of moments runs on PostgreSQL (the team's shared ledger) and a shorter one on
SQLite, to keep the run time to about a minute per engine."""

from __future__ import annotations

import pytest

from tests.integration.engine.conftest import kill_tree

from .workdirs import Runner, holders, killed_at, plan_copy

# (fault during up, fault during destroy). Per process, `before-commit:N` is the N-th inventory
# write transaction (the first up's import: 1 the schema, 2 the nodes; in the provider host:
# 1 the cluster's allocation, 2 and 3 its pools, in either order) and `after-commit:N` the N-th
# inventory change a provider has committed and not yet returned to the engine.
CYCLES = [
    ("before-commit:2", "after-commit:1"),
    ("after-commit:1", "after-commit:2"),
    ("after-commit:2", "before-commit:1"),
    ("before-commit:1", "before-commit:2"),
    ("after-commit:1", "after-commit:1"),  # (the provider of a destroy: 1 the pool, 2 the allocation)
]


@pytest.fixture
def runner(tmp_path, pulumi_cli) -> Runner:
    return Runner(tmp_path, "ci", tmp_path / "backend")


def test_every_kill_recovers_with_one_rerun(runner, tmp_path, inventory_db):
    plan = plan_copy(tmp_path / "plans", "crash", 6)
    cycles = CYCLES if inventory_db == "postgresql" else CYCLES[:2]
    for up_fault, destroy_fault in cycles:
        killed_at(runner, up_fault, tmp_path, "up", plan, "--yes", kill_tree=kill_tree)
        runner.run("up", plan, "--yes")
        assert runner.audit() == []
        assert holders(runner) == {"crash/train": 6, None: 6}
        killed_at(runner, destroy_fault, tmp_path, "destroy", plan, "--yes", "--allow-destroy", kill_tree=kill_tree)
        runner.run("destroy", plan, "--yes", "--allow-destroy")
        assert runner.audit() == []
        assert holders(runner) == {None: 12}, f"after {up_fault} / {destroy_fault}"


def test_a_kill_after_the_commit_then_destroy_or_a_changed_plan_leaks_nothing(runner, tmp_path):
    plan = plan_copy(tmp_path / "plans", "crash", 6)
    killed_at(runner, "after-commit:1", tmp_path, "up", plan, "--yes", kill_tree=kill_tree)
    assert holders(runner) == {"crash/train": 6, None: 6}  # committed; the state does not have it
    assert [p["kind"] for p in runner.audit()] == ["orphan"] * 6
    runner.run("destroy", plan, "--yes", "--allow-destroy")
    assert holders(runner) == {None: 12}

    killed_at(runner, "after-commit:1", tmp_path, "up", plan, "--yes", kill_tree=kill_tree)
    renamed = plan_copy(tmp_path / "plans", "crash", 8, cluster="big")  # the same stack, another cluster
    up = runner.run("up", renamed, "--yes")
    assert "released allocation crash/train (6 nodes)" in up.stderr
    assert holders(runner) == {"crash/big": 8, None: 4}
    assert runner.audit() == []
    runner.run("destroy", renamed, "--yes", "--allow-destroy")
    assert holders(runner) == {None: 12}


def test_a_lease_pool_a_killed_run_made_goes_only_with_allow_destroy(runner, tmp_path):
    """A run killed after its lease pool's commit saved no state (owned-only runs save it at their
    end): the pool is in the inventory only. A plan that then drops the lease, or a destroy, would
    take its capacity: refused like any in-force lease, allowed with --allow-destroy."""
    import yaml

    plan = plan_copy(tmp_path / "plans", "crash", 6)
    killed_at(runner, "after-commit:2", tmp_path, "up", plan, "--yes", kill_tree=kill_tree)  # 1 the cluster, 2 the pool
    lease = next(iter(yaml.safe_load(plan.read_text())["leases"]))
    data = yaml.safe_load(plan.read_text())
    del data["leases"][lease]
    plan.write_text(yaml.safe_dump(data))
    refused = runner.run("up", plan, "--yes", expect=1)
    assert f"release the pool of lease '{lease}'" in refused.stderr and "--allow-destroy" in refused.stderr
    refused = runner.run("destroy", plan, "--yes", expect=1)
    assert f"release the pool of lease '{lease}'" in refused.stderr
    assert ("pool", f"crash/{lease}") in _owned(runner)  # nothing was taken
    runner.run("up", plan, "--yes", "--allow-destroy")
    assert ("pool", f"crash/{lease}") not in _owned(runner) and runner.audit() == []
    runner.run("destroy", plan, "--yes", "--allow-destroy")
    assert holders(runner) == {None: 12}


def _owned(runner: Runner) -> list[tuple[str, str]]:
    """(kind, key) of every pool and allocation stack `crash` holds in the runner's inventory."""
    import os

    from capacity.inventory import Inventory

    where = os.environ.get("CAPACITY_INVENTORY_URL") or runner.work / ".capacity" / "inventory" / "lab-1.db"
    with Inventory(where, "lab-1") as inv:
        return inv.owned_by("crash")
