"""Owned data centers' hardware: the inventory of every owned site.

Where it lives: `CAPACITY_INVENTORY_URL` (or `--inventory-url`), a PostgreSQL URL shared by a team
and its CI, one schema per site; else one SQLite file per site under `<state dir>/inventory/`.

- `loader`: read and check an inventory file (CSV or YAML).
- `store`: the database: nodes, who holds them (each allocation and pool owned by a stack's
  resource), transactional allocation and lease pools, versioned schema and migrations.
- `engines`: SQLite and PostgreSQL behind one connection interface.
- `locality`: which nodes to take or give back, keeping holders in few racks.
- `ledger`: the inventory against the stacks' states: orphans released, shortages found early, audit.

`prepare_sites` imports a plan's inventory files on first use; the engine calls it before Pulumi
starts (never `validate`, `diff` or `resources`, which have no side effects).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from capacity.inventory.db import EngineFailure, is_postgres, pg_sites, shown_url
from capacity.errors import InventoryError
from capacity.inventory.store import STATES, Holding, Inventory, Node
from capacity.state import state_dir
from capacity.words import count

if TYPE_CHECKING:
    from capacity.plan.catalog import Catalog

__all__ = ["InventoryError", "Inventory", "Node", "Holding", "STATES", "db_path", "location", "shown_location",
           "open_site", "import_file", "prepare_sites", "sites", "inventory_url"]

URL_ENV = "CAPACITY_INVENTORY_URL"


def inventory_url() -> str | None:
    """The shared PostgreSQL inventory, if one is set (`--inventory-url` sets the variable)."""
    url = os.environ.get(URL_ENV, "").strip()
    if url and not is_postgres(url):
        raise InventoryError(f"{URL_ENV} is not a PostgreSQL URL (it starts with '{url.split(':')[0]}'). "
                             "To fix: postgresql://USER@HOST:PORT/DATABASE, or unset it for the SQLite files.")
    return url or None


def inventory_dir() -> Path:
    return state_dir() / "inventory"


def db_path(site: str) -> Path:
    """Where the SQLite inventory of an owned site lives (a site name is a DNS label: a safe file name)."""
    return inventory_dir() / f"{site}.db"


def location(site: str) -> str | Path:
    """The site's inventory: the PostgreSQL URL when one is set, else its SQLite file."""
    return inventory_url() or db_path(site)


def shown_location(site: str) -> str:
    """Where the site's inventory lives, safe to print and to keep in a state (no password)."""
    url = inventory_url()
    return shown_url(url) if url else str(db_path(site))


def where() -> str:
    """Where the inventories live, for messages."""
    url = inventory_url()
    return shown_url(url) if url else str(inventory_dir())


def sites() -> list[str]:
    """Sites that have an inventory where inventories live now."""
    url = inventory_url()
    if url:
        try:
            return pg_sites(url)
        except EngineFailure as exc:
            raise InventoryError(f"{exc}. To fix: check {URL_ENV} and that the server is up.") from None
    return sqlite_sites()


def sqlite_sites() -> list[str]:
    """Sites with a SQLite inventory in the state dir (not the hidden files of an unfinished import)."""
    folder = inventory_dir()
    return sorted(p.stem for p in folder.glob("*.db") if not p.name.startswith(".")) if folder.is_dir() else []


def open_site(site: str) -> Inventory:
    """The inventory of `site`; InventoryError (with the fix) if it has none yet."""
    return Inventory(location(site), site)


def site_nodes(site: str) -> int | None:
    """How many nodes the site's inventory holds; None when it has none (no inventory yet, or an empty
    file). An inventory that exists but fails (a full disk, a lost server) raises InventoryError."""
    try:
        with open_site(site) as inv:
            return inv.node_count()
    except InventoryError as exc:
        if exc.absent:
            return None
        raise


def import_file(path: str | Path, site: str, catalog: "Catalog | None" = None,
                shown_as: str | None = None, force: bool = False) -> tuple[int, int]:
    """Check every row of an inventory file, then add its nodes to the site's inventory in one
    transaction. A new SQLite inventory appears whole or not at all. Returns (added, already present).
    `force` replaces an empty (0-byte) SQLite file: the caller has been told what that means."""
    from capacity.plan.catalog import load_catalog
    from capacity.plan.inventory_file import read_inventory

    rows = read_inventory(path, catalog or load_catalog(), shown_as)
    shown = shown_as or str(path)
    url = inventory_url()
    if url:
        with Inventory(url, site, create=True) as inv:
            return inv.add(rows, shown)
    target = db_path(site)
    if force and target.is_file() and target.stat().st_size == 0:
        target.unlink()
    if target.exists():
        with Inventory(target, site) as inv:
            return inv.add(rows, shown)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{site}-", suffix=".db", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        with Inventory(tmp, site, create=True) as inv:
            counts = inv.add(rows, shown)
        try:
            os.link(tmp, target)  # atomic, and never over an inventory another run just made
        except FileExistsError:
            with Inventory(target, site) as inv:
                return inv.add(rows, shown)
        return counts
    finally:
        for leftover in (tmp, Path(f"{tmp}-wal"), Path(f"{tmp}-shm")):
            leftover.unlink(missing_ok=True)


def refuse_reimport(site: str, holders: list[str], file: str | Path) -> None:
    """A site with no nodes here while stacks hold some of its nodes: its inventory was lost (or
    lives elsewhere). Importing the file again would sell those nodes twice."""
    if not holders:
        return
    raise InventoryError(
        f"site {site} has no nodes in its inventory ({shown_location(site)}), but stack(s) "
        f"{', '.join(sorted(holders))} hold nodes of it: the inventory was deleted or emptied, or it lives "
        f"elsewhere (a team shares one through {URL_ENV}). Importing {file} again would hand out nodes "
        "those stacks hold. To fix: restore the inventory from a backup (or point "
        f"{URL_ENV} at the team's); or, knowing the risk, re-import it with "
        f"`capacity inventory import {file} --site {site} --force`, then run `capacity inventory audit --fix` "
        "and check `capacity inventory list`.")


def prepare_sites(loaded, plan_path: str | Path,
                  holders: Callable[[str], list[str]] = lambda site: []) -> list[str]:
    """Before an engine run: import the inventory file of every owned site that has no nodes yet
    (the file is relative to the plan), unless `holders(site)` names stacks that hold nodes of it.
    Returns one line per import, for the user. InventoryError when a site has neither an
    inventory nor a file to import, or when its inventory was lost."""
    done = []
    for name, site in loaded.plan.sites.items():
        if site.provider != "owned" or site_nodes(name):
            continue
        if db_path(name).is_file() and not inventory_url() and db_path(name).stat().st_size == 0:
            open_site(name)  # raises: an empty file is never an empty site
        if not site.inventory:
            raise InventoryError(
                f"owned site {name} has no inventory yet. To fix: run `capacity inventory import FILE --site {name}`, "
                "or name the file on the site (`inventory: FILE`, relative to the plan).")
        file = Path(plan_path).parent / site.inventory
        refuse_reimport(name, holders(name), file)
        added, _ = import_file(file, name, loaded.catalog, shown_as=str(file))
        done.append(f"site {name}: imported {count(added, 'node')} from {file} into {shown_location(name)}")
    return done


def migrate_to(url: str, only: list[str] | None = None) -> list[tuple[str, dict[str, int]]]:
    """Copy the SQLite inventories of the state dir (every site, or `only`) into the PostgreSQL
    database at `url`, each site in one transaction, and check the copy's counts match.
    Returns (site, counts) per site copied."""
    if not is_postgres(url):
        raise InventoryError(f"--to must be a PostgreSQL URL (postgresql://USER@HOST:PORT/DATABASE), not '{url}'.")
    found = sqlite_sites()
    chosen = found if only is None else only
    missing = [site for site in chosen if site not in found]
    if missing or not chosen:
        raise InventoryError(f"no SQLite inventory for {', '.join(missing) or 'any site'} in {inventory_dir()}. "
                             "To fix: run it where the inventories are (or set CAPACITY_STATE_DIR).")
    copied = []
    for site in chosen:
        with Inventory(db_path(site), site) as source:
            rows, counts = source.dump(), source.counts()
        with Inventory(url, site, create=True) as target:
            target.load(rows)
            landed = target.counts()
        if landed != counts:
            raise InventoryError(f"site {site}: the copy in {shown_url(url)} does not match the SQLite file "
                                 f"({landed} != {counts}). The SQLite inventory is unchanged. To fix: drop the "
                                 f"site's schema in PostgreSQL and retry.")
        copied.append((site, counts))
    return copied
