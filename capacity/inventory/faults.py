"""A hook for crash tests: `CAPACITY_FAULT=POINT[:N]` makes the N-th pass (default the first) of a
process through POINT write the file `CAPACITY_FAULT_FILE` and stop there, so that a test can
kill the whole process tree at exactly that moment (kill -9 gives no chance to clean up).
Without CAPACITY_FAULT it costs one environment lookup.

Points: `before-commit` (inside an inventory write transaction), `after-commit` (a provider's
inventory change committed, its result not yet in the engine's state)."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter
from pathlib import Path

_passes: Counter = Counter()
_lock = threading.Lock()


def stop_here(point: str) -> None:
    spec = os.environ.get("CAPACITY_FAULT")
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name != point:
        return
    with _lock:
        _passes[point] += 1
        if _passes[point] != int(nth or 1):
            return
    Path(os.environ["CAPACITY_FAULT_FILE"]).write_text(f"{point}:{nth or 1} pid {os.getpid()}\n")
    while True:  # until the test kills us
        time.sleep(3600)
