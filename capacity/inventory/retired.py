"""SQLite inventories that `inventory migrate` moved into PostgreSQL: retired, never read again.

The file `<site>.db` is renamed `<site>.db.migrated` (kept for a backup, no longer a site: only
`*.db` files are), and `<site>.db.moved` records where it went (the URL without its password).
A stack whose state still names the old file may then follow it there (capacity/deploy/ownership.py);
a run that forgot CAPACITY_INVENTORY_URL finds no file to fall back to.
"""

from __future__ import annotations

from pathlib import Path

RETIRED = ".migrated"
MOVED = ".moved"


def retire(path: Path, target: str) -> Path:
    """Rename the SQLite inventory at `path` out of use, noting it moved to `target` (shown URL)."""
    Path(f"{path}{MOVED}").write_text(target + "\n")
    retired = Path(f"{path}{RETIRED}")
    path.replace(retired)
    for side in ("-wal", "-shm"):  # with it: a new file of the old name must never pick them up
        if Path(f"{path}{side}").exists():
            Path(f"{path}{side}").replace(f"{retired}{side}")
    return retired


def moved_to(recorded: str) -> str | None:
    """Where a retired SQLite inventory went (None: it was not moved, or `recorded` is a URL)."""
    if "://" in recorded:
        return None
    note = Path(f"{recorded}{MOVED}")
    try:
        return note.read_text().strip() or None
    except OSError:
        return None
