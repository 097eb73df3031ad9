"""A private temporary directory for the engine's processes, removed when the run ends.

Provider plugins write files to the system's temporary directory (the Kubernetes provider writes
each kubeconfig it is given, tokens and all, to `$TMPDIR/kubeconfigNNNN`, and leaves it there). The
engine of a run gets `TMPDIR` pointing at `<state dir>/tmp/run-<pid>` (mode 0700, under the state
dir's `.gitignore`), removed when the run ends; one a killed run left is removed by the next run.
"""

from __future__ import annotations

import atexit
import os
import shutil
from pathlib import Path


def private_tmp(state_dir: Path) -> Path:
    """This run's private temporary directory (made once per process), stale ones removed."""
    base = state_dir / "tmp"
    base.mkdir(parents=True, exist_ok=True, mode=0o700)
    _remove_stale(base)
    mine = base / f"run-{os.getpid()}"
    if not mine.is_dir():
        mine.mkdir(mode=0o700)
        atexit.register(shutil.rmtree, mine, True)
    return mine


def _remove_stale(base: Path) -> None:
    for folder in base.glob("run-*"):
        pid = folder.name.removeprefix("run-")
        if pid.isdigit() and int(pid) != os.getpid() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
