"""Fixtures for owned-site tests: a private state dir and small inventories built row by row."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacity.inventory import Inventory, import_file, location

ROOT = Path(__file__).parents[3]


def pytest_configure(config):
    config.addinivalue_line("markers", "inventory_db(name): run this owned-site test on that inventory database only")


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.inventory_db("postgresql")`: the test is about one database; its other run is not
    collected. The PostgreSQL runs get the `postgres` marker (their server is asked for at run time)."""
    kept = []
    for item in items:
        only = item.get_closest_marker("inventory_db")
        param = getattr(getattr(item, "callspec", None), "params", {}).get("inventory_db")
        if param == "postgresql":
            item.add_marker("postgres")
        if only is None or param is None or param in only.args:
            kept.append(item)
        else:
            config.hook.pytest_deselected(items=[item])
    items[:] = kept


@pytest.fixture(autouse=True, params=["sqlite", "postgresql"])
def inventory_db(request, monkeypatch) -> str:
    """Every owned-site test runs on both inventory databases: SQLite files in the state dir, and a
    fresh database on the session's real PostgreSQL server (CAPACITY_INVENTORY_URL)."""
    monkeypatch.delenv("CAPACITY_INVENTORY_URL", raising=False)
    if request.param == "postgresql":
        monkeypatch.setenv("CAPACITY_INVENTORY_URL", request.getfixturevalue("postgres_url"))
    return request.param


@pytest.fixture(autouse=True)
def state_dir(tmp_path: Path, monkeypatch) -> Path:
    """Every test gets its own CAPACITY_STATE_DIR; nothing lands in the repository."""
    path = tmp_path / "state"
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(path))
    return path


@pytest.fixture
def write_file(tmp_path: Path):
    def write(name: str, text: str) -> Path:
        path = tmp_path / name
        path.write_text(text)
        return path

    return write


def racks_csv(layout: dict[str, int], model: str = "hgx-h100", prefix: str = "N") -> str:
    """A CSV inventory: {rack: node count}; serials <prefix>-<rack>-<n>."""
    lines = ["serial,rack,model"]
    for rack, count in layout.items():
        lines += [f"{prefix}-{rack}-{n:02d},{rack},{model}" for n in range(1, count + 1)]
    return "\n".join(lines) + "\n"


@pytest.fixture
def site(write_file):
    """site(layout, name='lab-1', model=...) -> an open Inventory holding those racks (all free)."""
    opened: list[Inventory] = []

    def make(layout: dict[str, int], name: str = "lab-1", model: str = "hgx-h100") -> Inventory:
        path = write_file(f"{name}-{model}.csv", racks_csv(layout, model, prefix=model.split("-")[-1].upper()))
        import_file(path, name)
        inv = Inventory(location(name), name)
        opened.append(inv)
        return inv

    yield make
    for inv in opened:
        inv.close()
