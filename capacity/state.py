"""Where capacity keeps local state: Pulumi's file backend, passphrase, owned inventories."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """`$CAPACITY_STATE_DIR`, else `.capacity/` in the current directory."""
    return Path(os.environ.get("CAPACITY_STATE_DIR") or Path.cwd() / ".capacity").absolute()


GITIGNORE = "# Written by capacity: secrets (passphrase), states and inventories never belong in git.\n*\n"


def made_state_dir(path: Path | None = None) -> Path:
    """The state dir, made if missing: owner-only (mode 0700: the passphrase, states and inventories
    in it are nobody else's), with its own `.gitignore` (`*`) so `git add -A` never takes it."""
    path = path or state_dir()
    made = not path.is_dir()
    if made:
        path.mkdir(parents=True, exist_ok=True)
        os.chmod(path, 0o700)
    ignore = path / ".gitignore"
    if (made or path.name == ".capacity") and not ignore.exists():
        try:
            fd = os.open(ignore, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path
        with os.fdopen(fd, "w") as fh:
            fh.write(GITIGNORE)
    return path
