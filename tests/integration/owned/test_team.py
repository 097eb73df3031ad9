"""Two CI runners: two fresh working directories sharing one file backend and one inventory
(PostgreSQL). Stacks that fit get disjoint nodes; one that does not is refused before any change,
naming the free nodes; `audit` is clean; a third directory destroys a stack and frees exactly its
nodes. On SQLite, where each runner would have its own file, the second runner is refused
instead of importing the site again and handing out nodes a stack holds."""

from __future__ import annotations

import pytest

from .workdirs import Runner, holders, plan_copy


@pytest.fixture
def runners(tmp_path, pulumi_cli):
    backend = tmp_path / "backend"
    return [Runner(tmp_path, name, backend) for name in ("runner-1", "runner-2", "runner-3")]


@pytest.mark.inventory_db("postgresql")
def test_two_runners_share_one_ledger(runners, tmp_path):
    one, two, three = runners
    plans = tmp_path / "plans"
    big, small, late = plan_copy(plans, "big", 6), plan_copy(plans, "small", 4), plan_copy(plans, "late", 4)
    one.run("up", big, "--yes")
    two.run("up", small, "--yes", "--new-stack")  # its cluster is named as big's at the same site
    nodes = holders(one)
    assert nodes == {"big/train": 6, "small/train": 4, None: 2}

    refused = one.run("up", late, "--yes", "--new-stack", expect=1)
    free = sorted(serial for serial, holder in _serials(one).items() if holder is None)
    assert "has 2 free hgx-h100 nodes; late/train needs 4 more" in refused.stderr
    assert all(serial in refused.stderr for serial in free)
    assert "created" not in refused.stderr and holders(one) == nodes  # refused before any change
    preview = two.run("preview", late, expect=1)
    assert "late/train needs 4 more" in preview.stderr

    assert one.audit() == [] and three.audit() == []
    before = _serials(one)
    three.run("destroy", "--stack", "small", "--yes", "--allow-destroy")
    after = _serials(one)
    assert {s for s, h in before.items() if h == "small/train"} == {s for s, h in after.items() if h is None} - \
        {s for s, h in before.items() if h is None}
    assert {s: h for s, h in after.items() if h} == {s: h for s, h in before.items() if h == "big/train"}
    assert three.audit() == []


@pytest.mark.inventory_db("sqlite")
def test_a_second_runner_with_its_own_sqlite_file_is_refused(runners, tmp_path):
    one, two, _ = runners
    plans = tmp_path / "plans"
    one.run("up", plan_copy(plans, "big", 6), "--yes")
    refused = two.run("up", plan_copy(plans, "small", 4), "--yes", "--new-stack", expect=1)
    assert "stack(s) big hold nodes of it" in refused.stderr and "CAPACITY_INVENTORY_URL" in refused.stderr
    assert not (two.work / ".capacity" / "inventory" / "lab-1.db").exists()


def _serials(runner: Runner) -> dict[str, str | None]:
    import os

    from capacity.inventory import Inventory

    with Inventory(os.environ["CAPACITY_INVENTORY_URL"], "lab-1") as inv:
        return {n.serial: n.allocation for n in inv.nodes()}
