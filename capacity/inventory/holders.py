"""Whose stack holds a node: a stack of one backend, not only a name.

Every allocation and lease pool records the backend of the stack that holds it (`backend`: the id
of capacity/engine/identity.py, `backend_url`: its URL without credentials). Two backends may each
have a stack of the same name; the inventory keys are the stack's name, so the second one is
refused before any change, naming both. What an older capacity wrote has no backend yet (NULL):
the first run of a stack that claims it records its own.

- `Holder`: a backend's id and shown URL.
- `foreign`: a stack name's allocations and pools held by another backend.
- `claim`: the nodes a run needs, taken in one transaction per site before the update starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from capacity.errors import InventoryError


@dataclass(frozen=True)
class Holder:
    id: str
    url: str


@dataclass(frozen=True)
class Want:
    """An owned cluster's nodes, as the plan asks them."""

    key: str
    stack: str
    cluster: str
    model: str
    count: int


def rows(inv, stack: str | None = None) -> list[tuple[str, str, str, str | None, str | None]]:
    """(kind, key, stack, backend, backend_url) of every pool and allocation (of one stack, or all)."""
    where, args = ("WHERE stack = ?", (stack,)) if stack is not None else ("", ())
    with inv.read() as db:
        found = [("pool", *row) for row in db.execute(
            f"SELECT key, COALESCE(stack, ''), backend, backend_url FROM pools {where}", args)]
        found += [("allocation", *row) for row in db.execute(
            f"SELECT key, stack, backend, backend_url FROM allocations {where}", args)]
    return sorted(found, key=lambda r: (r[0] != "pool", r[1]))


def is_mine(backend: str | None, holder: Holder | None) -> bool:
    """A row with no backend yet (written before backends were recorded) counts as anyone's."""
    return holder is None or backend is None or backend == holder.id


UNRECORDED = "an unrecorded backend (written by an earlier capacity)"


def foreign(inv, stack: str, holder: Holder, new: bool = False) -> list[tuple[str, str, str]]:
    """(kind, key, backend URL) of `stack`'s allocations and pools that another backend's stack holds.
    For a stack `new` here (no state of it holds nodes), rows with no backend recorded count as
    another's too: this backend's own runs record theirs before changing anything."""
    return [(kind, key, url or UNRECORDED) for kind, key, _stack, backend, url in rows(inv, stack)
            if not is_mine(backend, holder) or (new and backend is None)]


def refuse_foreign(stack: str, holder: Holder, sites: Iterable[str], verb: str = "up", new: bool = False) -> None:
    """Before any change: `stack` here must not be a stack of another backend in the inventory."""
    from capacity.inventory import open_site, shown_location

    found = []
    for site in sites:
        try:
            inv = open_site(site)
        except InventoryError:
            continue  # no inventory yet: nobody holds anything there
        with inv:
            found += [(site, *row) for row in foreign(inv, stack, holder, new)]
    if not found:
        return
    others = sorted({url for *_rest, url in found})
    keys = ", ".join(f"{kind} {key} (site {site})" for site, kind, key, _url in found[:6])
    raise InventoryError(
        f"stack '{stack}' of backend {holder.url} cannot {verb}: the inventory ({shown_location(found[0][0])}) "
        f"gives the name '{stack}' to a stack of another backend, {', '.join(others)}, which holds {keys}"
        f"{' and more' if len(found) > 6 else ''}. Nothing was changed. Two backends must not share a stack "
        f"name on one inventory. To fix: run with that backend (PULUMI_BACKEND_URL or --backend), or give "
        "this plan another stack name (--stack NAME, or metadata.name).")


def claim(inv, wants: list[Want], holder: Holder, budget_kw: float) -> list[str]:
    """Give each allocation its missing healthy nodes and record `holder` as its owner, all in one
    transaction: either every cluster of the site gets its nodes, or nothing changes and the
    shortage is raised. Never frees a node (the update does what shrinks). Returns the keys that
    did not exist before (to release if the update fails)."""
    fresh = []
    with inv.write() as db:
        for stack in sorted({want.stack for want in wants}):  # under the write lock: a racing run of another backend
            other = db.execute("SELECT backend_url FROM allocations WHERE stack = ? AND backend IS NOT NULL "
                               "AND backend != ?", (stack, holder.id)).fetchone()
            if other is not None:
                raise InventoryError(f"stack '{stack}' of backend {holder.url} cannot take nodes at site {inv.site}: "
                                     f"the inventory gives the name '{stack}' to a stack of another backend, "
                                     f"{other[0] or '?'}. Nothing was changed. To fix: run with that backend, or "
                                     "give this plan another stack name (--stack NAME, or metadata.name).")
        for want in wants:
            row = db.execute("SELECT backend, backend_url FROM allocations WHERE key = ?", (want.key,)).fetchone()
            if row is not None and not is_mine(row[0], holder):
                raise InventoryError(f"{want.key} at site {inv.site} is held by a stack of backend {row[1] or '?'}, "
                                     f"not of {holder.url}. Nothing was changed.")
            if row is None:
                fresh.append(want.key)
                db.execute("INSERT INTO allocations (key, stack, cluster, model, count, backend, backend_url) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (want.key, want.stack, want.cluster, want.model, want.count, holder.id, holder.url))
            else:
                db.execute("UPDATE allocations SET backend = ?, backend_url = ? WHERE key = ?",
                           (holder.id, holder.url, want.key))
                db.execute("UPDATE pools SET backend = ?, backend_url = ? WHERE allocation = ?",
                           (holder.id, holder.url, want.key))
            healthy = inv._nodes("WHERE n.allocation = ? AND n.state = 'allocated' AND n.model = ?",
                                 (want.key, want.model))
            if want.count > len(healthy):
                inv._grow(want.key, want.model, want.count - len(healthy), healthy, budget_kw)
    return fresh
