"""`capacity inventory list` of a large site, in bounded memory.

Totals and column widths come from aggregate queries; the nodes are read in one ordered pass (a
server-side cursor on PostgreSQL) and written as they come, so a 1,000,000-node site is listed
without holding it. Racks and serials are ordered shortest first, then by text: `r2` before `r10`.
"""

from __future__ import annotations

import json
from typing import IO, Iterator

from capacity.inventory.store import STATES, Inventory

_ORDER = "ORDER BY length(n.rack), n.rack, length(n.serial), n.serial"
_COLUMNS = ("n.serial, n.rack, n.model, n.gpus, n.kw, n.state, n.allocation, n.pool, p.tenant")


def totals(inv: Inventory) -> dict:
    with inv.read() as db:
        racks, nodes, gpus = db.execute("SELECT COUNT(DISTINCT rack), COUNT(*), COALESCE(SUM(gpus), 0) "
                                        "FROM nodes").fetchone()
        states = dict(db.execute("SELECT state, COUNT(*) FROM nodes GROUP BY state").fetchall())
        free_gpus, held_gpus, held_kw = db.execute(
            "SELECT COALESCE(SUM(CASE WHEN state = 'free' THEN gpus ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN state = 'allocated' THEN gpus ELSE 0 END), 0), "
            "COALESCE(SUM(CASE WHEN state = 'allocated' THEN kw ELSE 0 END), 0) FROM nodes").fetchone()
    return {"racks": racks, "nodes": nodes, **{s: states.get(s, 0) for s in STATES}, "gpus": int(gpus),
            "gpus_free": int(free_gpus), "gpus_allocated": int(held_gpus), "kw_allocated": round(float(held_kw), 3)}


def rows(inv: Inventory) -> Iterator[tuple]:
    """Every node, in order, read in one pass: (serial, rack, model, gpus, kw, state, holder, pool, tenant)."""
    with inv.read() as db:
        yield from db.stream(f"SELECT {_COLUMNS} FROM nodes n LEFT JOIN pools p ON p.key = n.pool {_ORDER}")


def widths(inv: Inventory) -> dict[str, int]:
    """The widest value of each text column."""
    with inv.read() as db:
        row = db.execute(
            "SELECT COALESCE(MAX(length(n.rack)), 0), COALESCE(MAX(length(n.serial)), 0), "
            "COALESCE(MAX(length(n.model)), 0), COALESCE(MAX(length(n.state)), 0), "
            "COALESCE(MAX(length(n.allocation)), 1), "
            "COALESCE(MAX(length(n.pool) + length(p.tenant) + 3), 1) "
            "FROM nodes n LEFT JOIN pools p ON p.key = n.pool").fetchone()
        kw = db.execute("SELECT DISTINCT kw FROM nodes").fetchall()
        gpus = db.execute("SELECT MAX(gpus) FROM nodes").fetchone()[0] or 0
    return dict(zip(("rack", "serial", "model", "state", "holder", "pool"), row),
                kw=max((len(f"{k:g}") for (k,) in kw), default=2), gpus=len(str(gpus)))


HEADER = ("rack", "serial", "model", "gpus", "kW", "state", "holder", "pool")


def write_text(inv: Inventory, out: IO[str], summary: str) -> None:
    """The site's nodes as aligned columns (what a pipe or a file gets)."""
    w = widths(inv)
    sizes = [max(len(h), w[key]) for h, key in zip(HEADER, ("rack", "serial", "model", "gpus", "kw", "state",
                                                           "holder", "pool"))]
    out.write("  " + "  ".join(h.ljust(s) for h, s in zip(HEADER, sizes)).rstrip() + "\n")
    for serial, rack, model, gpus, kw, state, holder, pool, tenant in rows(inv):
        cells = (rack, serial, model, str(gpus), f"{kw:g}", state, holder or "-", f"{pool} ({tenant})" if pool else "-")
        out.write("  " + "  ".join(c.ljust(s) for c, s in zip(cells, sizes)).rstrip() + "\n")
    out.write(f"  {summary}\n")


def write_json(inv: Inventory, out: IO[str], site: str, shown: str) -> None:
    """One site's entry of `{"sites": [...]}`: racks with their nodes, then totals."""
    out.write(f'{{"site": {json.dumps(site)}, "inventory": {json.dumps(shown)}, "racks": [')
    rack_now = None
    for serial, rack, model, gpus, kw, state, holder, pool, tenant in rows(inv):
        if rack != rack_now:
            out.write("]}, " if rack_now is not None else "")
            out.write(f'{{"rack": {json.dumps(rack)}, "nodes": [')
            rack_now, first = rack, True
        out.write(("" if first else ", ") + json.dumps({"serial": serial, "model": model, "gpus": gpus, "kw": kw,
                                                        "state": state, "holder": holder, "pool": pool,
                                                        "tenant": tenant}))
        first = False
    out.write("]}" if rack_now is not None else "")
    out.write(f'], "totals": {json.dumps(totals(inv))}}}')
