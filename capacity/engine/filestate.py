"""The local file backend's files, read and repaired, and its faults said as what they are.

The backend keeps a stack's state in `.pulumi/stacks/capacity/<stack>.json`, the previous one in
`<stack>.json.bak`, and writes each new state as a `.tmp` file renamed into place, with a sidecar
`<file>.attrs` of attributes. A kill in the middle leaves an empty or partial `.attrs` (every later
run then fails with "failed to load checkpoint: EOF") or a stray `.tmp`: both are debris, removed
under the stack's lock with a message. A state cut short or of the wrong shape is named, with the
`.bak` to restore it from. A read-only directory, a full disk and a loop of symbolic links are said
plainly, before the engine starts when they can be seen then.
"""

from __future__ import annotations

import errno
import json
import os
import socket
import getpass
import datetime as dt
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

from capacity.errors import EngineError

_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_FULL = {errno.ENOSPC, errno.EDQUOT}


def fault(exc: OSError, path: Path, what: str) -> EngineError:
    """An OSError on the state's files, said as what it is, with what to do."""
    code = exc.errno
    if code in _FULL:
        return full_disk(path, what, (exc.strerror or "no space left on device").lower())
    if code in _READ_ONLY:
        why = "a read-only file system" if code == errno.EROFS else "not writable by this user"
        return EngineError(
            f"{what[0].upper() + what[1:]} ({path}) is read-only ({why}): capacity writes the stacks' state "
            f"and locks there.\nTo fix: make it writable, or point CAPACITY_STATE_DIR or --backend "
            f"at a writable directory.")
    if code == errno.ELOOP:
        return EngineError(
            f"{what[0].upper() + what[1:]} ({path}) is a loop of symbolic links, not a directory.\n"
            f"To fix: point the link at a real directory (`ls -l {path}` shows where it goes).")
    return EngineError(f"Cannot use {what} ({path}): {exc.strerror or exc}.")


@contextmanager
def faults_said(path: Path, what: str) -> Iterator[None]:
    """An OSError inside is raised as `fault`'s clear EngineError about `path`."""
    try:
        yield
    except OSError as exc:
        raise fault(exc, path, what) from None


def disk_full(directory: Path, margin: int = 256 * 1024) -> bool:
    """Less than `margin` bytes left for us on the disk holding directory (or its nearest parent)."""
    for candidate in (directory, *directory.parents):
        try:
            stats = os.statvfs(candidate)
        except FileNotFoundError:
            continue
        except OSError:
            return False
        return stats.f_bavail * stats.f_frsize < margin
    return False


def full_disk(path: Path, what: str, reason: str = "no space left on device") -> EngineError:
    return EngineError(
        f"The disk holding {what} ({path}) is full: {reason}. The state saved so far is "
        f"intact; there is nothing to restore.\nTo fix: free some space on that disk, then run the command "
        f"again (an interrupted run is recovered).")


def check_usable(directory: Path, what: str, write: bool) -> None:
    """A directory we are about to use: no symlink loop on the way; writable if we will write."""
    try:
        os.stat(directory)
    except FileNotFoundError:
        if not write or directory.parent == directory:
            return
        return check_usable(directory.parent, what, write)  # it will be made there
    except OSError as exc:
        raise fault(exc, directory, what) from None
    if not write:
        return
    probe = directory / f".capacity-probe-{os.getpid()}"
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            os.write(fd, b"\0" * 4096)  # a page: a full tmpfs still makes an empty file
        finally:
            os.close(fd)
    except OSError as exc:
        raise fault(exc, directory, what) from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def read_checkpoint(path: Path, stack: str) -> dict:
    """The `deployment` of a state file; a state cut short or of the wrong shape named as such."""
    try:
        raw = path.read_bytes()
        if path.suffix == ".gz":
            import gzip

            raw = gzip.decompress(raw)
    except OSError as exc:
        raise fault(exc, path, f"the state of stack '{stack}'") from None
    except (EOFError, ValueError) as exc:  # a gzip cut short
        raise EngineError(_damaged(path, stack, f"it is cut short ({exc})")) from None
    try:
        data = json.loads(raw)
    except ValueError as exc:
        reason = "it is empty" if not raw.strip() else f"it is cut short or damaged ({exc})"
        raise EngineError(_damaged(path, stack, reason)) from None
    problem = shape_problem(data)
    if problem:
        raise EngineError(_damaged(path, stack, f"it is not a Pulumi state of the shape expected: {problem}"))
    return data["checkpoint"].get("latest") or {}


def shape_problem(data: Any) -> str:
    """What is wrong with a state file's shape, or '' if nothing."""
    if not isinstance(data, dict) or not isinstance(data.get("checkpoint"), dict):
        return "no `checkpoint` object"
    latest = data["checkpoint"].get("latest")
    if latest is None:
        return ""
    if not isinstance(latest, dict):
        return "`checkpoint.latest` is not an object"
    for key in ("resources", "pending_operations"):
        if latest.get(key) is not None and not isinstance(latest[key], list):
            return f"`checkpoint.latest.{key}` is not a list"
    if any(not isinstance(r, dict) or not isinstance(r.get("urn"), str) for r in latest.get("resources") or []):
        return "a resource without a `urn`"
    return ""


def _damaged(path: Path, stack: str, reason: str) -> str:
    backup = _backup_of(path)
    if backup is None:
        fix = ("To fix: restore it from your own backup of the state directory; there is no earlier copy "
               "beside it.")
    else:
        fix = (f"The engine keeps the state before the last change in {backup}.\nTo fix: check that file, "
               f"then copy it over {path} and run `capacity refresh` on the plan.")
    return f"The state of stack '{stack}' ({path}) cannot be read: {reason}.\n{fix}"


def _backup_of(path: Path) -> Path | None:
    """The `.bak` the engine keeps beside a state, if it holds a readable state."""
    backup = path.with_name(path.name + ".bak")
    try:
        data = json.loads(backup.read_bytes())
    except (OSError, ValueError):
        return None
    return backup if not shape_problem(data) else None


# --- debris -------------------------------------------------------------------------------------


def debris(stack_dir: Path, stack: str) -> list[Path]:
    """Files of a killed write: `.attrs` that are empty or not JSON, and stray `.tmp` files."""
    found = []
    for path in sorted(stack_dir.glob(f"{stack}.json*")):
        if path.name.endswith(".tmp"):
            found.append(path)
        elif path.name.endswith(".attrs"):
            try:
                json.loads(path.read_bytes())
            except ValueError:
                found.append(path)
            except OSError:
                continue
    return found


@contextmanager
def stack_lock(lock_dir: Path) -> Iterator[None]:
    """Hold the stack's lock the way Pulumi does (a lock file naming us), so no run starts meanwhile."""
    lock_dir.mkdir(parents=True, exist_ok=True)
    path = lock_dir / f"{uuid.uuid4()}.json"
    path.write_text(json.dumps({"pid": os.getpid(), "username": getpass.getuser(), "hostname": socket.gethostname(),
                                "timestamp": dt.datetime.now(dt.timezone.utc).isoformat()}))
    try:
        others = [p for p in lock_dir.glob("*.json") if p != path]
        if others:
            raise EngineError(f"Another run took the lock of this stack meanwhile ({others[0]}); "
                              "run the command again once it has finished.")
        yield
    finally:
        path.unlink(missing_ok=True)


def repair(stack_dir: Path, lock_dir: Path, stack: str, echo: Callable[[str], None]) -> list[Path]:
    """Remove the debris of a killed write, under the stack's lock; say what was removed."""
    if not debris(stack_dir, stack):
        return []
    with stack_lock(lock_dir):
        found = debris(stack_dir, stack)
        for path in found:
            try:
                path.unlink()
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise fault(exc, path.parent, "the state directory") from None
        if found:
            echo(f"Repaired the state of stack '{stack}' after a killed run: removed "
                 + ", ".join(p.name for p in found) + " (left half-written; the state itself is intact).")
    return found
