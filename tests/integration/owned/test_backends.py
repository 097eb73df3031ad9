"""Two backends (two file:// directories) sharing one inventory (one PostgreSQL database, or one
SQLite state dir), each with a stack of the same name and its own plan: the second is refused
before any change, naming both; its destroy and audit --fix never free the first's nodes; audit
from either side is right. Then: a forgotten CAPACITY_INVENTORY_URL after a migrate, and the
ledger of the previous release upgraded in place."""

from __future__ import annotations

import json
import os
from collections import Counter

import pytest

from capacity.inventory import Inventory, location

from tests.integration.engine.conftest import kill_tree

from .workdirs import Runner, killed_at, plan_copy


@pytest.fixture
def two(tmp_path, pulumi_cli):
    """Runners of backends a and b, their inventory shared (one state dir for the SQLite files)."""
    runners = [Runner(tmp_path, name, tmp_path / f"backend-{name}") for name in ("a", "b")]
    for runner in runners:
        runner.env["CAPACITY_STATE_DIR"] = str(tmp_path / "shared-state")
    return runners


def _nodes(tmp_path) -> dict[str, str | None]:
    where = os.environ.get("CAPACITY_INVENTORY_URL") or tmp_path / "shared-state" / "inventory" / "lab-1.db"
    with Inventory(where, "lab-1") as inv:
        return {n.serial: n.allocation for n in inv.nodes()}


def test_a_stack_name_of_another_backend_is_refused_and_never_freed(two, tmp_path):
    a, b = two
    plans = tmp_path / "plans"
    first, other = plan_copy(plans / "a", "team", 6), plan_copy(plans / "b", "team", 4, cluster="infer")
    a.run("up", first, "--yes")
    before = _nodes(tmp_path)
    assert Counter(before.values()) == {"team/train": 6, None: 6}

    refused = b.run("up", other, "--yes", expect=1)
    assert "stack 'team' of backend" in refused.stderr and "backend-b" in refused.stderr
    assert "backend-a" in refused.stderr and "Nothing was changed" in refused.stderr
    assert _nodes(tmp_path) == before
    assert "backend-a" in b.run("preview", other, expect=1).stderr  # preview says the same

    b.run("destroy", "--stack", "team", "--yes", "--allow-destroy", expect=None)
    assert _nodes(tmp_path) == before
    audit_b = json.loads(b.run("inventory", "audit", "--format", "json").stdout)
    assert audit_b["problems"] == [] and {f["stack"] for f in audit_b["elsewhere"]} == {"team"}
    b.run("inventory", "audit", "--fix", "--allow-destroy")
    assert _nodes(tmp_path) == before
    assert a.audit() == []
    a.run("destroy", "--stack", "team", "--yes", "--allow-destroy")
    assert set(_nodes(tmp_path).values()) == {None}
    b.run("up", other, "--yes")  # the name is free again
    assert Counter(_nodes(tmp_path).values()) == {"team/infer": 4, None: 8}


def test_a_killed_run_then_racing_backends_never_hold_a_node_twice(two, tmp_path):
    a, b = two
    plans = tmp_path / "plans"
    first, other = plan_copy(plans / "a", "team", 6), plan_copy(plans / "b", "team", 4, cluster="infer")
    # a's first up is killed -9 once its nodes are committed, before its state is saved
    killed_at(a, "after-commit", tmp_path, "up", first, "--yes", kill_tree=kill_tree)
    claimed = _nodes(tmp_path)
    assert Counter(claimed.values())["team/train"] == 6
    assert "backend-a" in b.run("up", other, "--yes", expect=1).stderr
    b.run("destroy", "--stack", "team", "--yes", "--allow-destroy", expect=None)
    assert _nodes(tmp_path) == claimed  # b frees nothing it does not hold
    a.run("up", first, "--yes")  # the rerun adopts what the killed run claimed
    assert _nodes(tmp_path) == claimed and a.audit() == [] and b.audit() == []
    assert list((tmp_path / "shared-state" / "tmp").glob("run-*")) == []  # the killed run's TMPDIR too

    a.run("destroy", "--stack", "team", "--yes", "--allow-destroy")
    runs = [a.start("up", first, "--yes"), b.start("up", other, "--yes")]
    outputs = [run.communicate(timeout=300)[0] for run in runs]
    codes = [run.returncode for run in runs]
    assert sorted(codes) == [0, 1], outputs
    assert "another backend" in outputs[codes.index(1)] and "Nothing was changed" in outputs[codes.index(1)]
    held = Counter(_nodes(tmp_path).values())
    assert held in ({"team/train": 6, None: 6}, {"team/infer": 4, None: 8})  # one holder, no node twice
    assert a.audit() == [] and b.audit() == []


@pytest.mark.engine("sqlite")  # it starts on SQLite and migrates to the session's PostgreSQL
def test_a_forgotten_inventory_url_after_a_migrate_is_refused(tmp_path, pulumi_cli, postgres_url):
    runner = Runner(tmp_path, "solo", tmp_path / "backend")
    runner.env.pop("CAPACITY_INVENTORY_URL", None)  # from SQLite, whichever inventory the other tests use
    plan = plan_copy(tmp_path / "plans", "solo", 4)
    runner.run("up", plan, "--yes")
    runner.run("inventory", "migrate", "--to", postgres_url)
    assert not (runner.work / ".capacity" / "inventory" / "lab-1.db").exists()  # retired

    refused = runner.run("up", plan, "--yes", expect=1)  # CAPACITY_INVENTORY_URL forgotten
    assert "CAPACITY_INVENTORY_URL=" in refused.stderr and "Nothing was changed" in refused.stderr
    assert not (runner.work / ".capacity" / "inventory" / "lab-1.db").exists()
    fresh = runner.run("up", plan_copy(tmp_path / "plans", "fresh", 2, cluster="other"), "--yes", expect=1)  # new stack
    assert "was moved to" in fresh.stderr and not (runner.work / ".capacity" / "inventory" / "lab-1.db").exists()
    runner.env["CAPACITY_INVENTORY_URL"] = postgres_url
    runner.run("up", plan, "--yes")  # moved on purpose: the stack follows it
    with Inventory(postgres_url, "lab-1") as inv:
        assert Counter(n.allocation for n in inv.nodes()) == {"solo/train": 4, None: 8}
    assert "no changes" in runner.run("preview", plan).stdout
    del runner.env["CAPACITY_INVENTORY_URL"]
    assert "CAPACITY_INVENTORY_URL=" in runner.run("preview", plan, expect=1).stderr


def test_the_previous_releases_ledger_upgrades_in_place(site, monkeypatch):
    """Today's layout (schema 2, no backends) on either engine: opened by this release, it gains
    the holders' backend columns, keeps every row, and its rows count as the first claimer's."""
    from capacity.inventory import db as engines, holders, store

    with monkeypatch.context() as today:
        today.setattr(store, "MIGRATIONS", {k: v for k, v in store.MIGRATIONS.items() if k <= 2})
        today.setattr(store, "SCHEMA_VERSION", 2)
        inv = site({"r1": 4})
        with inv.write() as db:  # rows as the previous release wrote them
            db.execute("INSERT INTO allocations (key, stack, cluster, model, count) "
                       "VALUES ('qs/train', 'qs', 'train', 'hgx-h100', 2)")
            db.execute("INSERT INTO pools (key, stack, allocation, lease, tenant, isolation, gpus, count) "
                       "VALUES ('qs/acme', 'qs', 'qs/train', 'acme', 'acme-corp', 'dedicated-nodes', 8, 1)")
            serials = [n.serial for n in inv._nodes()][:2]
            db.execute("UPDATE nodes SET state = 'allocated', allocation = 'qs/train' WHERE serial IN (?, ?)", serials)
            db.execute("UPDATE nodes SET pool = 'qs/acme' WHERE serial = ?", serials[:1])
        assert inv.version() == 2
        inv.close()
    assert store.SCHEMA_VERSION == 3
    _url, kept = getattr(engines._idle, "slot", (None, None))
    if kept is not None:  # a PostgreSQL connection kept for reuse knows the schema as it was: a new process's
        kept.close()
    with Inventory(location("lab-1"), "lab-1") as upgraded:
        assert upgraded.version() == 3
        assert [r[:2] + r[3:] for r in holders.rows(upgraded)] == [("pool", "qs/acme", None, None),
                                                                   ("allocation", "qs/train", None, None)]
        mine = holders.Holder("dir-x", "file:///x")
        assert holders.foreign(upgraded, "qs", mine) == []
        assert holders.claim(upgraded, [holders.Want("qs/train", "qs", "train", "hgx-h100", 2)], mine, 1e9) == []
        assert {r[3] for r in holders.rows(upgraded)} == {"dir-x"}  # recorded by the first claim
        assert holders.foreign(upgraded, "qs", holders.Holder("dir-y", "file:///y")) != []
        assert len(upgraded.pool("qs/acme").serials) == 1


def test_on_a_ledger_of_the_previous_release_a_new_stack_of_another_backend_is_refused(two, tmp_path):
    """Rows written before backends were recorded: a backend where the stack has no state may not
    take them (nor free them); the backend whose state holds them records itself on its next run."""
    a, b = two
    plans = tmp_path / "plans"
    first = plan_copy(plans / "a", "team", 6)
    a.run("up", first, "--yes")
    where = os.environ.get("CAPACITY_INVENTORY_URL") or tmp_path / "shared-state" / "inventory" / "lab-1.db"
    with Inventory(where, "lab-1") as inv, inv.write() as db:  # as the previous release left them
        db.execute("UPDATE allocations SET backend = NULL, backend_url = NULL")
        db.execute("UPDATE pools SET backend = NULL, backend_url = NULL")
    before = _nodes(tmp_path)
    refused = b.run("up", plan_copy(plans / "b", "team", 4, cluster="infer"), "--yes", expect=1)
    assert "written by an earlier capacity" in refused.stderr and "Nothing was changed" in refused.stderr
    b.run("destroy", "--stack", "team", "--yes", "--allow-destroy", expect=None)
    assert b.audit() == []  # listed as elsewhere: b has no stack 'team'
    b.run("inventory", "audit", "--fix", "--allow-destroy")
    assert _nodes(tmp_path) == before
    a.run("up", first, "--yes")  # its state holds them: it records its backend
    assert "backend-a" in b.run("up", plan_copy(plans / "b", "team", 4, cluster="infer"), "--yes", expect=1).stderr
    assert _nodes(tmp_path) == before and a.audit() == []
