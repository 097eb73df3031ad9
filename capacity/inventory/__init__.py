"""Owned data centers' hardware: one SQLite inventory per site under `<state dir>/inventory/`.

- `loader`: read and check an inventory file (CSV or YAML).
- `store`: the database: nodes, who holds them, transactional allocation and lease pools.
- `locality`: which nodes to take or give back, keeping holders in few racks.

`prepare_sites` imports a plan's inventory files on first use; the engine calls it before Pulumi
starts (never `validate`, `diff` or `resources`, which have no side effects).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from typing import TYPE_CHECKING

from capacity.inventory.errors import InventoryError
from capacity.inventory.store import STATES, Holding, Inventory, Node
from capacity.state import state_dir
from capacity.words import count

if TYPE_CHECKING:
    from capacity.catalog import Catalog

__all__ = ["InventoryError", "Inventory", "Node", "Holding", "STATES", "db_path", "open_site", "import_file",
           "prepare_sites", "sites"]


def inventory_dir() -> Path:
    return state_dir() / "inventory"


def db_path(site: str) -> Path:
    """Where the inventory of an owned site lives (a site name is a DNS label: a safe file name)."""
    return inventory_dir() / f"{site}.db"


def sites() -> list[str]:
    """Sites that have an inventory in the state dir."""
    folder = inventory_dir()
    return sorted(p.stem for p in folder.glob("*.db")) if folder.is_dir() else []


def open_site(site: str) -> Inventory:
    """The inventory of `site`; InventoryError (with the fix) if it has none yet."""
    return Inventory(db_path(site), site)


def import_file(path: str | Path, site: str, catalog: "Catalog | None" = None,
                shown_as: str | None = None) -> tuple[int, int]:
    """Check every row of an inventory file, then add its nodes to the site's inventory in one
    transaction. A new inventory appears whole or not at all. Returns (added, already present)."""
    from capacity.catalog import load_catalog
    from capacity.inventory.loader import read_inventory

    rows = read_inventory(path, catalog or load_catalog(), shown_as)
    target = db_path(site)
    if target.exists():
        with Inventory(target, site) as inv:
            return inv.add(rows, shown_as or str(path))
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{site}-", suffix=".db", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with Inventory(tmp, site, create=True) as inv:
            counts = inv.add(rows, shown_as or str(path))
        try:
            os.link(tmp, target)  # atomic, and never over an inventory another run just made
        except FileExistsError:
            with Inventory(target, site) as inv:
                return inv.add(rows, shown_as or str(path))
        return counts
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def prepare_sites(loaded, plan_path: str | Path) -> list[str]:
    """Before an engine run: import the inventory file of every owned site that has no inventory
    yet (the file is relative to the plan). Returns one line per import, for the user.
    InventoryError when a site has neither an inventory nor a file to import."""
    done = []
    for name, site in loaded.plan.sites.items():
        if site.provider != "owned" or db_path(name).exists():
            continue
        if not site.inventory:
            raise InventoryError(
                f"owned site {name} has no inventory yet. To fix: run `capacity inventory import FILE --site {name}`, "
                "or name the file on the site (`inventory: FILE`, relative to the plan).")
        file = Path(plan_path).parent / site.inventory
        added, _ = import_file(file, name, loaded.catalog, shown_as=str(file))
        done.append(f"site {name}: imported {count(added, 'node')} from {file} into {db_path(name)}")
    return done
