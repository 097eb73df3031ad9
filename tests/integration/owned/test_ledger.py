"""The ledger's guarantees outside the happy path: a lost or emptied inventory is never silently
imported again; the schema upgrades in place; a team moves its SQLite inventory to PostgreSQL;
`validate` checks the inventory file a plan names."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from collections import Counter

import pytest
from typer.testing import CliRunner

from capacity.inventory import Inventory, InventoryError, db_path, import_file, migrate_to, open_site, sqlite_sites
from capacity.inventory.db import pg_schema
from capacity.inventory.store import SCHEMA_VERSION
from capacity.cli.inventory import app as inventory_app

from .conftest import ROOT, racks_csv
from .workdirs import Runner, holders, plan_copy

SAMPLE = ROOT / "stacks" / "inventory" / "quickstart-inventory.csv"


def _lose(runner: Runner, how: str) -> None:
    """Delete the runner's inventory of lab-1, or leave it empty (a 0-byte file; a site with no nodes)."""
    url = os.environ.get("CAPACITY_INVENTORY_URL")
    if url:
        import psycopg

        with psycopg.connect(url, autocommit=True) as db:
            if how == "deleted":
                db.execute(f'DROP SCHEMA "{pg_schema("lab-1")}" CASCADE')
            else:
                db.execute(f'DELETE FROM "{pg_schema("lab-1")}".nodes')
        return
    path = runner.work / ".capacity" / "inventory" / "lab-1.db"
    for extra in ("-wal", "-shm"):
        os.unlink(f"{path}{extra}") if os.path.exists(f"{path}{extra}") else None
    if how == "deleted":
        path.unlink()
    else:
        path.write_bytes(b"")


@pytest.mark.parametrize("how", ["deleted", "empty"])
def test_a_lost_inventory_is_refused_with_the_way_back(tmp_path, pulumi_cli, how):
    runner = Runner(tmp_path, "ci", tmp_path / "backend")
    plan = plan_copy(tmp_path / "plans", "team", 6)
    runner.run("up", plan, "--yes")
    _lose(runner, how)

    refused = runner.run("up", plan, "--yes", expect=1)
    assert "To fix: restore" in refused.stderr and "--force" in refused.stderr and "audit --fix" in refused.stderr
    assert "Traceback" not in refused.stderr
    inventory_file = plan.parent / "inventory" / "quickstart-inventory.csv"
    again = runner.run("inventory", "import", inventory_file, "--site", "lab-1", expect=1)
    assert "--force" in again.stderr

    runner.run("inventory", "import", inventory_file, "--site", "lab-1", "--force")
    assert {p["kind"] for p in runner.audit()} == {"listed-free"}
    runner.run("inventory", "audit", "--fix")
    assert runner.audit() == []
    assert holders(runner) == {"team/train": 6, None: 6}
    assert "no changes" in runner.run("preview", plan).stdout  # the inventory agrees with the state again


@pytest.mark.inventory_db("sqlite")
def test_the_first_releases_layout_upgrades_in_place(write_file):
    """A version-1 inventory (as the first release wrote it: `PRAGMA user_version = 1`, pools with no
    stack) opens, upgrades to the current schema keeping every row, and is then refused by
    the old code's version check."""
    from capacity.inventory.store import MIGRATIONS

    path = db_path("lab-1")
    path.parent.mkdir(parents=True)
    old = sqlite3.connect(path)
    for statement in MIGRATIONS[1]:
        old.execute(statement)
    old.executemany("INSERT INTO nodes VALUES (?, ?, 'hgx-h100', 8, 10.2, ?, ?, ?, '2026-01-01T00:00:00+00:00')",
                    [("N1", "r1", "allocated", "qs/train", "qs/acme"), ("N2", "r1", "allocated", "qs/train", None),
                     ("N3", "r2", "free", None, None)])
    old.execute("INSERT INTO allocations VALUES ('qs/train', 'qs', 'train', 'hgx-h100', 2)")
    old.execute("INSERT INTO pools VALUES ('qs/acme', 'qs/train', 'acme', 'acme-corp', 'dedicated-nodes', 8, 1)")
    old.execute("PRAGMA user_version = 1")
    old.commit()
    old.close()

    with open_site("lab-1") as inv:
        assert inv.version() == SCHEMA_VERSION
        assert inv.owned_by("qs") == [("pool", "qs/acme"), ("allocation", "qs/train")]
        assert Counter(n.allocation for n in inv.nodes()) == {"qs/train": 2, None: 1}
        assert inv.pool("qs/acme").serials == ["N1"]
        inv.allocate("qs/train", "qs", "train", "hgx-h100", 3, 1e9)
    upgraded = sqlite3.connect(path)
    assert upgraded.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert upgraded.execute("SELECT stack FROM pools").fetchall() == [("qs",)]
    upgraded.close()


@pytest.mark.inventory_db("sqlite")
def test_migrate_copies_a_sqlite_inventory_into_postgresql(site, postgres_url):
    inv = site({"r1": 4, "r2": 4})
    inv.allocate("qs/train", "qs", "train", "hgx-h100", 5, 1e9)
    inv.carve("qs/acme", "qs/train", "acme", "acme-corp", "dedicated-nodes", 16, 2)
    inv.mark("H100-r2-04", "failed")
    site({"r9": 2}, name="lab-2")
    before = {name: Inventory(db_path(name), name).dump() for name in ("lab-1", "lab-2")}
    held = inv.allocation("qs/train").serials
    inv.close()

    result = CliRunner().invoke(inventory_app, ["migrate", "--to", postgres_url])
    assert result.exit_code == 0, result.output
    assert "site lab-1: copied 8 nodes, 1 allocations and 1 pools" in result.stdout and "counts checked" in result.stdout
    for name in ("lab-1", "lab-2"):
        with Inventory(postgres_url, name) as copy:
            assert {t: sorted(rows) for t, rows in copy.dump().items()} == \
                {t: sorted(rows) for t, rows in before[name].items()}
    with Inventory(postgres_url, "lab-1") as copy:  # the copy works as the original did
        assert copy.allocate("qs/train", "qs", "train", "hgx-h100", 5, 1e9).serials == held

    # the SQLite files are retired: never read again, so a run that forgot the URL cannot fall back to them
    assert not db_path("lab-1").exists() and Path(f"{db_path('lab-1')}.migrated").is_file()
    assert sqlite_sites() == []
    again = CliRunner().invoke(inventory_app, ["migrate", "--to", postgres_url, "--site", "lab-1"])
    assert again.exit_code == 1 and "no SQLite inventory for lab-1" in again.output
    Path(f"{db_path('lab-1')}.migrated").rename(db_path("lab-1"))  # put back by hand: the copy is refused
    again = CliRunner().invoke(inventory_app, ["migrate", "--to", postgres_url, "--site", "lab-1"])
    assert again.exit_code == 1 and "already has nodes" in again.output
    with pytest.raises(InventoryError, match="PostgreSQL URL"):
        migrate_to("sqlite:///x.db")


def test_an_empty_file_is_never_an_empty_site(inventory_db, write_file):
    if inventory_db == "sqlite":
        db_path("lab-1").parent.mkdir(parents=True)
        db_path("lab-1").write_bytes(b"")
        with pytest.raises(InventoryError, match="is an empty file.*restore it from a backup.*--force"):
            open_site("lab-1")
        with pytest.raises(InventoryError, match="empty file"):
            import_file(write_file("inv.csv", racks_csv({"r1": 2})), "lab-1")
        assert import_file(write_file("inv.csv", racks_csv({"r1": 2})), "lab-1", force=True) == (2, 0)
    else:
        with pytest.raises(InventoryError, match="site lab-1 has no inventory"):
            open_site("lab-1")


def test_validate_checks_the_inventory_file_at_the_plan_line(tmp_path):
    from capacity.cli.main import app

    plan = tmp_path / "plan.yaml"
    text = (ROOT / "stacks" / "quickstart.yaml").read_text()
    plan.write_text(text)
    missing = CliRunner().invoke(app, ["validate", str(plan)])
    line = next(i for i, row in enumerate(text.splitlines(), 1) if "inventory:" in row)
    assert missing.exit_code == 1
    assert f"plan.yaml:{line}:16: sites.lab-1.inventory: inventory file 'inventory/quickstart-inventory.csv' does not exist" \
        in missing.output
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "quickstart-inventory.csv").write_text("serial,rack,model\nX1,r1,hgx-h1000\n")
    bad = CliRunner().invoke(app, ["validate", str(plan)])
    assert bad.exit_code == 1 and "quickstart-inventory.csv:2:" in bad.output and "hgx-h100" in bad.output
    (tmp_path / "inventory" / "quickstart-inventory.csv").write_text(SAMPLE.read_text())
    assert CliRunner().invoke(app, ["validate", str(plan)]).exit_code == 0
