"""The two databases an inventory can live in, behind one small connection interface.

- SQLite (the default): one file per site, `<state dir>/inventory/<site>.db`, in WAL mode. A write
  transaction is `BEGIN IMMEDIATE`: writers queue for the file's write lock.
- PostgreSQL (teams and CI; `CAPACITY_INVENTORY_URL=postgresql://...`): one schema per site in a
  shared database. A write transaction takes a per-site advisory lock first, so writers of a site
  queue exactly as they do on SQLite; readers see a consistent snapshot (REPEATABLE READ).

The store's SQL is written once, with `?` placeholders, in the subset both engines understand.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
import zlib
from pathlib import Path
from typing import Any, Iterable
from urllib.parse import urlsplit

from capacity import words

BUSY_TIMEOUT_S = 60.0
PG_SCHEMES = ("postgresql", "postgres")


def is_postgres(location: str | Path) -> bool:
    return isinstance(location, str) and urlsplit(location).scheme in PG_SCHEMES and "://" in location


def shown_url(url: str) -> str:
    """A PostgreSQL URL without user, password or query: safe to print and to keep in a state."""
    return words.shown_url(url, keep_query=False)


def pg_schema(site: str) -> str:
    """The PostgreSQL schema of a site (identifiers stop at 63 bytes: long names end in a hash)."""
    name = f"site_{site}"
    if len(name) > 63:
        name = f"{name[:50]}_{hashlib.sha1(site.encode()).hexdigest()[:12]}"
    return name


class EngineFailure(Exception):
    """A database error, with whether it was a lock that was never granted."""

    def __init__(self, message: str, locked: bool = False):
        super().__init__(message)
        self.locked = locked


class Sqlite:
    kind = "sqlite"

    def __init__(self, path: Path, site: str):
        self.path = path
        self.shown = str(path)
        try:
            self.db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
        except sqlite3.Error as exc:
            raise self.failure(exc) from None

    @staticmethod
    def failure(exc: Exception) -> EngineFailure:
        return EngineFailure(str(exc), locked="locked" in str(exc) or "busy" in str(exc))

    errors = (sqlite3.Error,)

    def execute(self, sql: str, args: Iterable[Any] = ()):
        return self.db.execute(sql, tuple(args))

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        self.db.executemany(sql, rows)

    def begin_write(self) -> None:
        self.db.execute("BEGIN IMMEDIATE")

    def begin_read(self) -> None:
        self.db.execute("BEGIN")

    def create_container(self) -> None:
        pass  # the file is the container

    def tables(self) -> set[str]:
        return {name for (name,) in self.db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}

    def mark_version(self, version: int) -> None:
        self.db.execute(f"PRAGMA user_version = {int(version)}")  # older capacity then refuses the file

    def known_current(self) -> bool:
        return False  # a new connection each time: the check is one local read

    def mark_current(self) -> None:
        pass

    def close(self) -> None:
        self.db.close()


_idle = threading.local()  # per thread: `slot`, (url, an open connection not in use)


class Postgres:
    """A connection to the site's schema. Closed, it stays open for the thread's next use of the
    same database (a provider host opens an inventory for every step: connecting costs more than
    the step's statements)."""

    kind = "postgresql"

    def __init__(self, url: str, site: str):
        import psycopg

        self.url = url
        self.shown = shown_url(url)
        self.schema = pg_schema(site)
        self.lock_key = zlib.crc32(self.schema.encode())
        self.errors = (psycopg.Error,)
        try:
            self.db = self._reuse() or self._connect()
            if getattr(self.db, "capacity_schema", None) != self.schema:
                self.db.execute(f'SET search_path TO "{self.schema}"')
                self.db.capacity_schema = self.schema
        except psycopg.Error as exc:
            raise EngineFailure(f"cannot connect to {self.shown}: {str(exc).strip()}") from None

    def _reuse(self):
        url, db = getattr(_idle, "slot", (None, None))
        if url != self.url or db is None:
            return None
        _idle.slot = (None, None)
        return db if not db.closed and not db.broken else None

    def _connect(self):
        import psycopg

        db = psycopg.connect(self.url, autocommit=True, connect_timeout=10)
        db.execute(f"SET lock_timeout = '{int(BUSY_TIMEOUT_S)}s'")
        return db

    @staticmethod
    def failure(exc: Exception) -> EngineFailure:
        import psycopg

        return EngineFailure(str(exc).strip(), locked=isinstance(exc, psycopg.errors.LockNotAvailable))

    def execute(self, sql: str, args: Iterable[Any] = ()):
        return self.db.execute(sql.replace("?", "%s"), tuple(args))

    def executemany(self, sql: str, rows: list[tuple]) -> None:
        if rows:
            with self.db.cursor() as cur:
                cur.executemany(sql.replace("?", "%s"), rows)

    def begin_write(self) -> None:
        self.db.execute("BEGIN")
        self.db.execute("SELECT pg_advisory_xact_lock(%s)", (self.lock_key,))

    def create_container(self) -> None:
        self.db.execute(f'CREATE SCHEMA IF NOT EXISTS "{self.schema}"')

    def begin_read(self) -> None:
        self.db.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")

    def tables(self) -> set[str]:
        return {name for (name,) in self.db.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s", (self.schema,))}

    def mark_version(self, version: int) -> None:
        pass  # the version is in the schema's meta table only

    def known_current(self) -> bool:
        """Whether this connection already found the site's schema current (a step saves two queries)."""
        return self.schema in getattr(self.db, "capacity_current", ())

    def mark_current(self) -> None:
        self.db.capacity_current = {*getattr(self.db, "capacity_current", ()), self.schema}

    def close(self) -> None:
        import psycopg

        usable = not self.db.closed and not self.db.broken
        if not usable or self.db.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            self.db.close()
            return
        _, kept = getattr(_idle, "slot", (None, None))
        if kept is not None:
            kept.close()  # one idle connection per thread at most
        _idle.slot = (self.url, self.db)


def connect(location: str | Path, site: str) -> Sqlite | Postgres:
    if is_postgres(location):
        return Postgres(str(location), site)
    return Sqlite(Path(location), site)


def pg_sites(url: str) -> list[str]:
    """The sites that have an inventory in a PostgreSQL database."""
    import psycopg

    try:
        with psycopg.connect(url, autocommit=True, connect_timeout=10) as db:
            schemas = [s for (s,) in db.execute(
                "SELECT table_schema FROM information_schema.tables WHERE table_name = 'meta' "
                "AND table_schema LIKE 'site%%'")]
            found = []
            for schema in schemas:
                row = db.execute(f'SELECT value FROM "{schema}".meta WHERE key = %s', ("site",)).fetchone()
                if row:
                    found.append(row[0])
            return sorted(found)
    except psycopg.Error as exc:
        raise EngineFailure(f"cannot read {shown_url(url)}: {str(exc).strip()}") from None
