"""One owned site's inventory in SQLite: its racks and nodes, and who holds each node.

A node is free, allocated (to a cluster's allocation, and perhaps carved into a lease's pool),
failed or in maintenance. Every change runs in one `BEGIN IMMEDIATE` transaction on a WAL
database, so concurrent runs (threads of one dynamic provider, or two `capacity` processes)
queue for the write lock and never hand out the same node twice.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Iterator

from capacity import words
from capacity.errors import Problem, did_you_mean
from capacity.inventory.db import BUSY_TIMEOUT_S, EngineFailure, connect, is_postgres, shown_url
from capacity.errors import InventoryError
from capacity.inventory.faults import stop_here
from capacity.inventory.locality import give_back, pick

if TYPE_CHECKING:
    from capacity.plan.inventory_file import NodeRow

STATES = ("free", "allocated", "failed", "maintenance")
UNHEALTHY = ("failed", "maintenance")

# The schema, one list of statements per version. Version 1 is the layout the first release wrote
# (SQLite only, its version in `PRAGMA user_version`); from version 2 the version is in `meta`.
MIGRATIONS: dict[int, list[str]] = {
    1: ["""
CREATE TABLE IF NOT EXISTS allocations (
    key     TEXT PRIMARY KEY,             -- '<stack>/<cluster>': the resource that owns the nodes
    stack   TEXT NOT NULL,
    cluster TEXT NOT NULL,
    model   TEXT NOT NULL,
    count   INTEGER NOT NULL              -- the nodes the cluster asks for
)""", """
CREATE TABLE IF NOT EXISTS pools (
    key        TEXT PRIMARY KEY,          -- '<stack>/<lease>'
    allocation TEXT NOT NULL,
    lease      TEXT NOT NULL,
    tenant     TEXT NOT NULL,
    isolation  TEXT NOT NULL CHECK (isolation IN ('dedicated-nodes', 'shared-quota')),
    gpus       INTEGER NOT NULL,
    count      INTEGER NOT NULL           -- whole nodes carved out (dedicated-nodes in force)
)""", """
CREATE TABLE IF NOT EXISTS nodes (
    serial     TEXT PRIMARY KEY,
    rack       TEXT NOT NULL,
    model      TEXT NOT NULL,
    gpus       INTEGER NOT NULL CHECK (gpus > 0),
    kw         DOUBLE PRECISION NOT NULL CHECK (kw > 0),
    state      TEXT NOT NULL CHECK (state IN ('free', 'allocated', 'failed', 'maintenance')),
    allocation TEXT,                      -- the holder (kept by a held node that fails, until replaced)
    pool       TEXT,                      -- the lease pool it is carved into, if any
    changed    TEXT NOT NULL,
    CHECK (state != 'allocated' OR allocation IS NOT NULL),
    CHECK (state != 'free' OR (allocation IS NULL AND pool IS NULL)),
    CHECK (pool IS NULL OR allocation IS NOT NULL)
)""",
        "CREATE INDEX IF NOT EXISTS nodes_by_allocation ON nodes (allocation)",
        "CREATE INDEX IF NOT EXISTS nodes_by_pool ON nodes (pool)",
        "CREATE INDEX IF NOT EXISTS nodes_free ON nodes (state, model, rack)"],
    2: ["CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        "ALTER TABLE pools ADD COLUMN stack TEXT",  # the pool's owner, like an allocation's
        "UPDATE pools SET stack = substr(key, 1, length(key) - length(lease) - 1)",
        "CREATE INDEX allocations_by_stack ON allocations (stack)",
        "CREATE INDEX pools_by_stack ON pools (stack)"],
}
SCHEMA_VERSION = max(MIGRATIONS)


@dataclass(frozen=True)
class Node:
    serial: str
    rack: str
    model: str
    gpus: int
    kw: float
    state: str
    allocation: str | None = None
    pool: str | None = None
    tenant: str | None = None

    @property
    def healthy(self) -> bool:
        return self.state not in UNHEALTHY


@dataclass(frozen=True)
class Holding:
    """What an allocation or a lease pool holds: healthy nodes, and held nodes that went bad."""

    key: str
    serials: list[str]
    racks: list[str]
    gpus: int
    kw: float
    unhealthy: dict[str, str] = field(default_factory=dict)

    def outputs(self) -> dict:
        return {"serials": self.serials, "racks": self.racks, "gpus": self.gpus, "kw": round(self.kw, 3),
                "unhealthy": self.unhealthy}


def _holding(key: str, nodes: Iterable[Node], gpus: int | None = None, kw: float | None = None) -> Holding:
    nodes = list(nodes)
    healthy = sorted((n for n in nodes if n.state == "allocated"), key=lambda n: n.serial)
    return Holding(
        key=key,
        serials=[n.serial for n in healthy],
        racks=sorted({n.rack for n in healthy}),
        gpus=sum(n.gpus for n in healthy) if gpus is None else gpus,
        kw=sum(n.kw for n in healthy) if kw is None else kw,
        unhealthy={n.serial: n.state for n in sorted(nodes, key=lambda n: n.serial) if n.state in UNHEALTHY},
    )


def _missing(site: str, where: str) -> str:
    return (f"site {site} has no inventory ({where} has none). To fix: run "
            f"`capacity inventory import FILE --site {site}`, or name the file in the plan (`inventory:`).")


def _check_file(path: Path, site: str) -> None:
    """A SQLite inventory must exist and hold a database: an empty file is a truncated or
    half-copied inventory, never an empty site."""
    if not path.is_file():
        raise InventoryError(_missing(site, str(path)), absent=True)
    if path.stat().st_size == 0:
        raise InventoryError(
            f"the inventory of site {site} ({path}) is an empty file: it was truncated or only half copied, "
            "and what it recorded (who holds which node) is gone from it. To fix: restore it from a backup; "
            f"or re-import the site with `capacity inventory import FILE --site {site} --force` and then run "
            "`capacity inventory audit --fix` to line it up with the stacks' states.", absent=True)


def shortage(site: str, model: str, key: str, need: int, count: int, states: Counter, free: list[str]) -> str:
    """Why an allocation cannot grow: the same words from `up` and from the checks before it."""
    counts = ", ".join(f"{states[s]} {s}" for s in STATES if states[s])
    shown = ", ".join(sorted(free)[:10]) + (f" and {len(free) - 10} more" if len(free) > 10 else "")
    return (f"site {site} has {words.count(len(free), f'free {model} node')}; {key} needs {need} more ({count} in all). "
            f"Free: {shown or 'none'}. The site's {model} nodes: {counts or 'none'}. To fix: import more "
            f"(`capacity inventory import FILE --site {site}`), return repaired nodes with "
            "`capacity inventory mark SERIAL --state free`, or shrink the cluster.")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


class Inventory:
    """An open inventory: a SQLite file's path or a PostgreSQL URL, and the site. Not shared
    between threads: open one per thread."""

    def __init__(self, location: str | Path, site: str, create: bool = False):
        self.site = site
        self.path = location if is_postgres(location) else Path(location)
        if not create and isinstance(self.path, Path):
            _check_file(self.path, site)
        elif create and isinstance(self.path, Path):
            self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self.engine = connect(location, site)
        except EngineFailure as exc:
            raise self._db_error(exc) from None
        self.shown = self.engine.shown
        self.db = self.engine
        try:
            self._migrate(create)
        except BaseException as exc:
            self.engine.close()
            if isinstance(exc, self.engine.errors):
                raise self._db_error(self.engine.failure(exc)) from None
            raise

    def close(self) -> None:
        self.engine.close()

    def __enter__(self) -> "Inventory":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def _db_error(self, exc: EngineFailure) -> InventoryError:
        if exc.locked:
            return InventoryError(f"the inventory of site {self.site} stayed locked for {BUSY_TIMEOUT_S:.0f}s by "
                                  f"another run ({self.path if isinstance(self.path, Path) else shown_url(self.path)}). "
                                  "To fix: wait for it to finish, then retry.")
        where = self.path if isinstance(self.path, Path) else shown_url(self.path)
        if "disk is full" in str(exc).lower() or "no space left" in str(exc).lower():
            return InventoryError(f"the inventory of site {self.site} ({where}) cannot be written: no space left on "
                                  "device. Nothing in it is lost and there is nothing to restore. To fix: free space "
                                  "on that file system, then run the same command again.")
        return InventoryError(f"the inventory of site {self.site} ({where}) cannot be used: {exc}. "
                              "To fix: restore it from a backup, or check the database is reachable and retry.")

    def version(self) -> int:
        """The schema version: from `meta` (2 on), 1 for the first release's layout, 0 when empty."""
        tables = self.engine.tables()
        if "meta" in tables:
            row = self.engine.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
            return int(row[0]) if row else 0
        return 1 if "nodes" in tables else 0

    def _migrate(self, create: bool) -> None:
        if self.engine.known_current() or self.version() == SCHEMA_VERSION:
            self.engine.mark_current()
            return
        with self.write():
            version = self.version()  # again, under the write lock: another run may have done it
            if version == 0 and not create:
                raise InventoryError(_missing(self.site, self.shown), absent=True)
            if version > SCHEMA_VERSION:
                raise InventoryError(f"the inventory of site {self.site} ({self.shown}) was written by a newer "
                                     f"capacity (schema {version}). To fix: upgrade capacity.")
            self.engine.create_container()
            for step in range(version + 1, SCHEMA_VERSION + 1):
                for statement in MIGRATIONS[step]:
                    self.engine.execute(statement)
            self.engine.execute("INSERT INTO meta (key, value) VALUES ('site', ?) ON CONFLICT (key) DO NOTHING",
                                (self.site,))
            self.engine.execute("INSERT INTO meta (key, value) VALUES ('version', ?) "
                                "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (str(SCHEMA_VERSION),))
            self.engine.mark_version(SCHEMA_VERSION)
        self.engine.mark_current()

    @contextmanager
    def write(self) -> Iterator[Any]:
        """One write transaction: it holds the site's write lock from its first statement."""
        try:
            self.engine.begin_write()
        except self.engine.errors as exc:
            self._rollback()
            raise self._db_error(self.engine.failure(exc)) from None
        try:
            yield self.engine
        except BaseException as exc:
            self._rollback()
            if isinstance(exc, self.engine.errors):
                raise self._db_error(self.engine.failure(exc)) from None
            raise
        stop_here("before-commit")
        try:
            self.engine.execute("COMMIT")
        except self.engine.errors as exc:
            self._rollback()
            raise self._db_error(self.engine.failure(exc)) from None

    def _rollback(self) -> None:
        try:
            self.engine.execute("ROLLBACK")
        except self.engine.errors:
            pass  # no transaction open, or the connection is gone (the server rolls back)

    @contextmanager
    def read(self) -> Iterator[Any]:
        """One read transaction: a consistent snapshot (readers never wait for writers)."""
        try:
            self.engine.begin_read()
        except self.engine.errors as exc:
            raise self._db_error(self.engine.failure(exc)) from None
        try:
            yield self.engine
        except self.engine.errors as exc:
            self._rollback()
            raise self._db_error(self.engine.failure(exc)) from None
        finally:
            self._rollback()  # nothing to keep: ending a read this way is the same as COMMIT

    def node_count(self) -> int:
        with self.read() as db:
            return db.execute("SELECT COUNT(*) FROM nodes").fetchone()[0]

    # --- nodes ---------------------------------------------------------------------------------

    def _nodes(self, where: str = "", args: tuple = ()) -> list[Node]:
        rows = self.db.execute(
            "SELECT n.serial, n.rack, n.model, n.gpus, n.kw, n.state, n.allocation, n.pool, p.tenant "
            f"FROM nodes n LEFT JOIN pools p ON p.key = n.pool {where}", args)
        return sorted((Node(*row) for row in rows), key=lambda n: (n.rack, n.serial))  # one order on both engines

    def nodes(self) -> list[Node]:
        with self.read():
            return self._nodes()

    def add(self, rows: "list[NodeRow]", file: str = "") -> tuple[int, int]:
        """Add imported nodes. A serial already here with the same rack, model, GPUs and kW is left
        as it is; one that differs is an error. Returns (added, already present)."""
        with self.write() as db:
            known = {n.serial: n for n in self._nodes()}
            problems, fresh = [], []
            for row in rows:
                old = known.get(row.serial)
                if old is None:
                    fresh.append(row)
                elif (old.rack, old.model, old.gpus, old.kw) != (row.rack, row.model, row.gpus, row.kw):
                    problems.append(Problem(row.line, 1, "serial", f"serial '{row.serial}' is already in the inventory "
                                            f"of site {self.site} as {old.model} in rack {old.rack} ({old.kw:g} kW); "
                                            "this row differs. To fix: one serial per physical node.", file))
            if problems:
                raise InventoryError(problems=problems)
            db.executemany(
                "INSERT INTO nodes (serial, rack, model, gpus, kw, state, changed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(r.serial, r.rack, r.model, r.gpus, r.kw, r.state, _now()) for r in fresh])
        return len(fresh), len(rows) - len(fresh)

    def mark(self, serial: str, state: str) -> tuple[Node, Node]:
        """The operator's out-of-band change: a node failed, went to maintenance, or is free again.
        A held node that fails stays with its holder (the next refresh reports it, the next up
        replaces it); marking it free takes it from the holder. Returns the node before and after."""
        if state not in ("free",) + UNHEALTHY:
            raise InventoryError(f"cannot mark a node '{state}'; use free, failed or maintenance.")
        with self.write() as db:
            found = self._nodes("WHERE n.serial = ?", (serial,))
            if not found:
                serials = [row[0] for row in db.execute("SELECT serial FROM nodes")]
                raise InventoryError(f"site {self.site} has no node '{serial}'.{did_you_mean(serial, serials)}")
            before = found[0]
            if state == "free" and before.state == "allocated":
                raise InventoryError(
                    f"{serial} is allocated to {before.allocation}; it returns to the free pool when its cluster "
                    f"lets it go. To fix: mark it failed or maintenance to take it out of service.")
            if state == "free":
                db.execute("UPDATE nodes SET state = 'free', allocation = NULL, pool = NULL, changed = ? "
                           "WHERE serial = ?", (_now(), serial))
            else:
                db.execute("UPDATE nodes SET state = ?, changed = ? WHERE serial = ?", (state, _now(), serial))
            return before, self._nodes("WHERE n.serial = ?", (serial,))[0]

    # --- allocations ---------------------------------------------------------------------------

    def allocate(self, key: str, stack: str, cluster: str, model: str, count: int, budget_kw: float) -> Holding:
        """Make the allocation `key` hold `count` healthy nodes of `model`, keeping the nodes it has:
        held nodes that failed are let go, extra nodes are freed (never those in a lease pool),
        missing ones are taken from free nodes, filling racks, within the site's power budget."""
        with self.write() as db:
            db.execute("INSERT INTO allocations (key, stack, cluster, model, count) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (key) DO UPDATE SET stack = excluded.stack, cluster = excluded.cluster, "
                       "model = excluded.model, count = excluded.count", (key, stack, cluster, model, count))
            held = self._nodes("WHERE n.allocation = ?", (key,))
            self._let_go([n for n in held if not n.healthy])
            self._free([n for n in held if n.healthy and n.model != model])
            self._shrink_to_target(key)
            healthy = self._nodes("WHERE n.allocation = ? AND n.state = 'allocated'", (key,))
            need = count - len(healthy)
            if need > 0:
                self._grow(key, model, need, healthy, budget_kw)
            return _holding(key, self._nodes("WHERE n.allocation = ?", (key,)))

    def _grow(self, key: str, model: str, need: int, healthy: list[Node], budget_kw: float) -> None:
        free = self._nodes("WHERE n.state = 'free' AND n.model = ?", (model,))
        if len(free) < need:
            states = Counter(s for (s,) in self.db.execute("SELECT state FROM nodes WHERE model = ?", (model,)))
            raise InventoryError(shortage(self.site, model, key, need, len(healthy) + need, states,
                                          [n.serial for n in free]))
        chosen = pick(free, need, Counter(n.rack for n in healthy))
        used = self.db.execute("SELECT COALESCE(SUM(kw), 0) FROM nodes WHERE state = 'allocated'").fetchone()[0]
        adding = sum(n.kw for n in chosen)
        if used + adding > budget_kw + 1e-9:
            raise InventoryError(
                f"allocating {words.count(need, f'{model} node')} ({adding:,.1f} kW) to {key} would bring site {self.site} to "
                f"{used + adding:,.1f} kW, over its power budget of {budget_kw:,.0f} kW. "
                "To fix: raise the site's power_mw or shrink a cluster.")
        self.db.executemany("UPDATE nodes SET state = 'allocated', allocation = ?, changed = ? WHERE serial = ?",
                            [(key, _now(), n.serial) for n in chosen])

    def _shrink_to_target(self, key: str) -> None:
        """Free the allocation's healthy nodes beyond its count, never one carved into a lease pool
        (a pool shrinking or going away later in the same run lets its nodes go then)."""
        row = self.db.execute("SELECT count FROM allocations WHERE key = ?", (key,)).fetchone()
        if row is None:
            return
        healthy = self._nodes("WHERE n.allocation = ? AND n.state = 'allocated'", (key,))
        excess = len(healthy) - row[0]
        if excess > 0:
            self._free(give_back(healthy, excess, [n for n in healthy if n.pool is None]))

    def _free(self, nodes: list[Node]) -> None:
        self.db.executemany("UPDATE nodes SET state = 'free', allocation = NULL, pool = NULL, changed = ? "
                            "WHERE serial = ?", [(_now(), n.serial) for n in nodes])

    def _let_go(self, nodes: list[Node]) -> None:
        """Held nodes that failed leave their holder and keep their state."""
        self.db.executemany("UPDATE nodes SET allocation = NULL, pool = NULL, changed = ? WHERE serial = ?",
                            [(_now(), n.serial) for n in nodes])

    def allocation(self, key: str) -> Holding:
        """What the allocation holds now (a node failed out of band shows in `unhealthy`)."""
        with self.read():
            return _holding(key, self._nodes("WHERE n.allocation = ?", (key,)))

    def release(self, key: str) -> list[str]:
        """Return every node of the allocation (and of its pools) to the free pool; held nodes that
        failed keep their state and leave the holder."""
        return self.release_except(key, set())

    def release_except(self, key: str, kept: set[str]) -> list[str]:
        """`release`, leaving alone the nodes in `kept` (those a state claims). Returns the freed serials."""
        with self.write() as db:
            held = [n for n in self._nodes("WHERE n.allocation = ?", (key,)) if n.serial not in kept]
            self._free([n for n in held if n.healthy])
            self._let_go([n for n in held if not n.healthy])
            db.execute("DELETE FROM pools WHERE allocation = ?", (key,))
            db.execute("DELETE FROM allocations WHERE key = ?", (key,))
            return [n.serial for n in held]

    # --- lease pools ---------------------------------------------------------------------------

    def carve(self, key: str, allocation: str, lease: str, tenant: str, isolation: str, gpus: int,
              count: int) -> Holding:
        """Make the pool `key` hold `count` whole healthy nodes of `allocation` (dedicated-nodes), or
        record a quota of `gpus` on the allocation's shared nodes (shared-quota, count 0)."""
        with self.write() as db:
            alloc = db.execute("SELECT stack FROM allocations WHERE key = ?", (allocation,)).fetchone()
            if alloc is None:
                raise InventoryError(f"lease {lease}: site {self.site} has no allocation {allocation} to carve from. "
                                     "To fix: run `capacity refresh`, then `capacity up`.")
            db.execute("INSERT INTO pools (key, stack, allocation, lease, tenant, isolation, gpus, count) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO UPDATE SET allocation = excluded.allocation, "
                       "stack = excluded.stack, lease = excluded.lease, tenant = excluded.tenant, "
                       "isolation = excluded.isolation, gpus = excluded.gpus, count = excluded.count",
                       (key, alloc[0], allocation, lease, tenant, isolation, gpus, count))
            held = self._nodes("WHERE n.pool = ?", (key,))
            lost = [n for n in held if n.state != "allocated" or n.allocation != allocation]
            db.executemany("UPDATE nodes SET pool = NULL WHERE serial = ?", [(n.serial,) for n in lost])
            kept = [n for n in held if n not in lost]
            if len(kept) > count:
                extra = give_back(kept, len(kept) - count)
                db.executemany("UPDATE nodes SET pool = NULL WHERE serial = ?", [(n.serial,) for n in extra])
                self._shrink_to_target(allocation)
            elif len(kept) < count:
                spare = self._nodes("WHERE n.allocation = ? AND n.state = 'allocated' AND n.pool IS NULL",
                                    (allocation,))
                if len(spare) < count - len(kept):
                    raise InventoryError(
                        f"lease {lease} needs {words.count(count, 'whole node')} of {allocation}, which has "
                        f"{words.count(len(spare) + len(kept), 'healthy node')} outside other leases' pools. To fix: grow the cluster or shrink a lease.")
                chosen = pick(spare, count - len(kept), Counter(n.rack for n in kept))
                db.executemany("UPDATE nodes SET pool = ?, changed = ? WHERE serial = ?",
                               [(key, _now(), n.serial) for n in chosen])
            if isolation == "shared-quota":
                return self._quota(key, allocation, lease, gpus)
            return _holding(key, self._nodes("WHERE n.pool = ?", (key,)))

    def _quota(self, key: str, allocation: str, lease: str, gpus: int) -> Holding:
        shared = self._nodes("WHERE n.allocation = ? AND n.state = 'allocated' AND n.pool IS NULL", (allocation,))
        have = sum(n.gpus for n in shared)
        if gpus > have:
            raise InventoryError(f"lease {lease} asks a quota of {gpus} GPUs on the shared nodes of {allocation}, "
                                 f"which have {have}. To fix: grow the cluster or shrink the lease.")
        return self._shared(key, shared, gpus)

    @staticmethod
    def _shared(key: str, shared: list[Node], gpus: int) -> Holding:
        per_gpu = sum(n.kw for n in shared) / max(1, sum(n.gpus for n in shared))
        return _holding(key, shared, gpus=gpus, kw=gpus * per_gpu)

    def pool(self, key: str) -> Holding:
        """What the pool holds now; for a shared quota, the shared nodes it draws on."""
        with self.read() as db:
            row = db.execute("SELECT allocation, isolation, gpus FROM pools WHERE key = ?", (key,)).fetchone()
            if row is not None and row[1] == "shared-quota":
                shared = self._nodes("WHERE n.allocation = ? AND n.state = 'allocated' AND n.pool IS NULL", (row[0],))
                return self._shared(key, shared, row[2])
            return _holding(key, self._nodes("WHERE n.pool = ?", (key,)))

    def drop_pool(self, key: str) -> list[str]:
        """The pool's nodes go back to their cluster (or free, when the cluster has shrunk meanwhile).
        Returns the serials that were in the pool."""
        with self.write() as db:
            row = db.execute("SELECT allocation FROM pools WHERE key = ?", (key,)).fetchone()
            carved = [n.serial for n in self._nodes("WHERE n.pool = ?", (key,))]
            db.execute("UPDATE nodes SET pool = NULL, changed = ? WHERE pool = ?", (_now(), key))
            db.execute("DELETE FROM pools WHERE key = ?", (key,))
            if row is not None:
                self._shrink_to_target(row[0])
            return carved

    # --- summaries -----------------------------------------------------------------------------

    def owned_by(self, stack: str | None = None) -> list[tuple[str, str]]:
        """(kind, key) of every pool and allocation (of one stack, or of all): pools first, so that
        letting go of them all never frees a node twice."""
        where, args = ("WHERE stack = ?", (stack,)) if stack is not None else ("", ())
        with self.read() as db:
            pools = [("pool", key) for (key,) in db.execute(f"SELECT key FROM pools {where}", args)]
            allocations = [("allocation", key) for (key,) in db.execute(f"SELECT key FROM allocations {where}", args)]
        return sorted(pools) + sorted(allocations)

    def holdings(self) -> tuple[dict[str, str], dict[str, str]]:
        """Allocation key -> its stack, pool key -> its stack."""
        with self.read() as db:
            allocations = dict(db.execute("SELECT key, stack FROM allocations").fetchall())
            pools = dict(db.execute("SELECT key, COALESCE(stack, '') FROM pools").fetchall())
        return allocations, pools

    def unpool(self, key: str) -> None:
        """Forget a lease pool: its nodes stay with their cluster, none is freed."""
        with self.write() as db:
            db.execute("UPDATE nodes SET pool = NULL, changed = ? WHERE pool = ?", (_now(), key))
            db.execute("DELETE FROM pools WHERE key = ?", (key,))

    def adopt(self, key: str, stack: str, cluster: str, model: str, count: int, serials: Iterable[str]) -> list[str]:
        """Give an allocation the free nodes among `serials` (what its state says it holds): the
        recovery after a lost inventory was imported again. Never takes a node someone holds."""
        with self.write() as db:
            db.execute("INSERT INTO allocations (key, stack, cluster, model, count) VALUES (?, ?, ?, ?, ?) "
                       "ON CONFLICT (key) DO NOTHING", (key, stack, cluster, model, count))
            wanted = set(serials)
            taken = [n.serial for n in self._nodes("WHERE n.state = 'free'") if n.serial in wanted]
            db.executemany("UPDATE nodes SET state = 'allocated', allocation = ?, changed = ? WHERE serial = ?",
                           [(key, _now(), serial) for serial in taken])
            return taken

    def adopt_pool(self, key: str, stack: str, allocation: str, lease: str, tenant: str, isolation: str,
                   gpus: int, count: int, serials: Iterable[str]) -> None:
        """Record a lease pool again, carving the nodes among `serials` its allocation holds."""
        with self.write() as db:
            db.execute("INSERT INTO pools (key, stack, allocation, lease, tenant, isolation, gpus, count) "
                       "VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (key) DO NOTHING",
                       (key, stack, allocation, lease, tenant, isolation, gpus, count))
            db.executemany("UPDATE nodes SET pool = ? WHERE serial = ? AND allocation = ? AND pool IS NULL",
                           [(key, serial, allocation) for serial in serials])

    # --- moving an inventory -------------------------------------------------------------------

    def dump(self) -> dict[str, list[tuple]]:
        """Every row of every table, in one snapshot."""
        with self.read() as db:
            return {table: [tuple(row) for row in db.execute(f"SELECT {', '.join(columns)} FROM {table}")]
                    for table, columns in COPIED.items()}

    def load(self, rows: dict[str, list[tuple]]) -> None:
        """Fill an inventory that has no nodes yet with `dump()`'s rows, in one transaction."""
        with self.write() as db:
            if db.execute("SELECT COUNT(*) FROM nodes").fetchone()[0]:
                raise InventoryError(f"site {self.site} already has nodes in {self.shown}; nothing was copied. "
                                     "To fix: copy into a database where the site has no inventory yet.")
            for table, columns in COPIED.items():
                marks = ", ".join("?" for _ in columns)
                db.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows[table])

    def counts(self) -> dict[str, int]:
        """Rows per table, and nodes per state and holder: what a copy must keep."""
        with self.read() as db:
            found = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in COPIED}
            for state, count in db.execute("SELECT state, COUNT(*) FROM nodes GROUP BY state"):
                found[f"nodes {state}"] = count
            found["nodes held"] = db.execute("SELECT COUNT(*) FROM nodes WHERE allocation IS NOT NULL").fetchone()[0]
            found["nodes in pools"] = db.execute("SELECT COUNT(*) FROM nodes WHERE pool IS NOT NULL").fetchone()[0]
        return found


COPIED = {
    "allocations": ("key", "stack", "cluster", "model", "count"),
    "pools": ("key", "stack", "allocation", "lease", "tenant", "isolation", "gpus", "count"),
    "nodes": ("serial", "rack", "model", "gpus", "kw", "state", "allocation", "pool", "changed"),
}
