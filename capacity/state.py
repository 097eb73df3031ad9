"""Where capacity keeps local state: Pulumi's file backend, passphrase, owned inventories."""

from __future__ import annotations

import os
from pathlib import Path


def state_dir() -> Path:
    """`$CAPACITY_STATE_DIR`, else `.capacity/` in the current directory."""
    return Path(os.environ.get("CAPACITY_STATE_DIR") or Path.cwd() / ".capacity").absolute()
