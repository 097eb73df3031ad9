"""No orphans: when `capacity` dies, even by SIGKILL, the engine processes it started end too.

Each `pulumi` we start leads a session of its own (for Ctrl-C forwarding), and everything it starts
stays in that session: the dynamic provider host, cloud provider plugins (which Pulumi puts in
process groups of their own, so a process group would not do). A small watchdog process, one per
`capacity` process, is told each session as it starts and ends, on a pipe that only `capacity`
holds. When `capacity` dies the pipe closes; the watchdog then kills every process still in the
sessions it was told of, and exits. It runs in a session of its own, so a terminal's Ctrl-C or a
kill of `capacity`'s process group does not take it down first.
"""

from __future__ import annotations

import subprocess
import sys
import threading

# The watchdog itself: plain Python with no imports beyond the standard library, run with -I -S so
# it starts in a few milliseconds.
WATCHDOG = r"""
import os, signal, sys, time

def members(sessions):
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) in sessions:
            found.append(int(entry))
    return found

sessions = set()
for line in sys.stdin:
    sign, sid = line[:1], line[1:].strip()
    if sid.isdigit():
        (sessions.add if sign == "+" else sessions.discard)(int(sid))
for _ in range(20):
    victims = members(sessions) if sessions else []
    if not victims:
        break
    for pid in victims:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    time.sleep(0.1)
"""

_lock = threading.Lock()
_watchdog: subprocess.Popen | None = None


def _pipe() -> subprocess.Popen | None:
    global _watchdog
    with _lock:
        if _watchdog is None or _watchdog.poll() is not None:
            try:
                _watchdog = subprocess.Popen(
                    [sys.executable, "-I", "-S", "-c", WATCHDOG], stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL, start_new_session=True, close_fds=True, text=True,
                )
            except OSError:
                _watchdog = None  # no watchdog beats no engine: runs go on, unguarded against orphans
        return _watchdog


def _tell(line: str) -> None:
    watchdog = _pipe()
    if watchdog is None or watchdog.stdin is None:
        return
    try:
        watchdog.stdin.write(line + "\n")
        watchdog.stdin.flush()
    except (BrokenPipeError, OSError):
        pass


def guard_session(pid: int) -> None:
    """The session led by `pid` (a process started with start_new_session) is killed if we die."""
    if sys.platform.startswith("linux"):
        _tell(f"+{pid}")


def release_session(pid: int) -> None:
    """Its leader has ended normally: what is left of the session is its own business."""
    if sys.platform.startswith("linux"):
        _tell(f"-{pid}")
