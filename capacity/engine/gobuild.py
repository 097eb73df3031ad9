"""What the builders of Go binaries share (the Pulumi CLI in pulumi_cli.py, the Kubernetes binaries in
kubernetes_bins.py): the per-user cache, a file lock so two processes never build into it at once,
and `go` run with the module proxy's settings.

A way of building that fails raises `BuildFailed` with a one-line reason.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Callable, Iterator

Echo = Callable[[str], None]


def print_to_stderr(message: str) -> None:
    """The default Echo: a line for the person at the terminal."""
    print(message, file=sys.stderr, flush=True)


def cache_root() -> Path:
    """${CAPACITY_CACHE:-${XDG_CACHE_HOME:-~/.cache}/capacity}: built binaries, once per user."""
    if os.environ.get("CAPACITY_CACHE"):
        return Path(os.environ["CAPACITY_CACHE"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(xdg) / "capacity"


def executable(path: Path) -> bool:
    """A file we may run."""
    return path.is_file() and os.access(path, os.X_OK)


class BuildFailed(Exception):
    """One way of installing or building failed; the message is one line."""


def last_line(text: str) -> str:
    """The last non-empty line of a tool's output, cut at 300 characters: the reason it gives."""
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "(no output)"


def go_env(go: str, sumdb_off: bool, for_build: bool) -> dict[str, str]:
    """`go`'s environment: no go.work, -mod=mod for a build, the checksum database off if asked."""
    env = dict(os.environ)
    env["GOWORK"] = "off"  # a go.work around the cache must not leak into the build
    env.pop("GOFLAGS", None)
    flags = [f for f in os.environ.get("GOFLAGS", "").split() if not f.startswith("-mod=")]
    if for_build:
        flags.append("-mod=mod")
    if flags:
        env["GOFLAGS"] = " ".join(flags)
    if sumdb_off:
        env["GOSUMDB"] = "off"
    return env


def is_sumdb_failure(stderr: str) -> bool:
    """The checksum database could not be reached (not: a checksum that does not match)."""
    text = stderr.lower()
    if "security error" in text or "checksum mismatch" in text:
        return False
    return "verifying" in text and ("sum.golang.org" in text or "sumdb" in text or "gosumdb" in text)


def run_go(go: str, args: list[str], cwd: Path, sumdb_off: bool, for_build: bool, timeout: float,
            log: Path | None = None, extra_env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`go ARGS` in `cwd`, its stderr appended to `log`; BuildFailed if it cannot run or times out."""
    with tempfile.TemporaryFile("w+") as err:
        try:
            proc = subprocess.run(
                [go, *args], cwd=cwd, env={**go_env(go, sumdb_off, for_build), **(extra_env or {})},
                stdout=subprocess.PIPE,
                stderr=err, text=True, timeout=timeout,
            )
        except subprocess.TimeoutExpired:
            raise BuildFailed(f"`go {args[0]}` gave up after {timeout:.0f}s") from None
        except OSError as exc:
            raise BuildFailed(f"cannot run {go}: {exc}") from None
        err.seek(0)
        proc.stderr = err.read()
    if log is not None:
        with open(log, "a") as fh:
            fh.write(f"$ go {' '.join(args)}\n{proc.stderr}\n")
    return proc


@contextmanager
def file_lock(path: Path, echo: Echo, doing: str = "installing the Pulumi CLI") -> Iterator[None]:
    """Hold an exclusive lock on `path`; who waits is told who holds it (its pid is written in)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX: no lock, installs are still atomic renames
        yield
        return
    with open(path, "a+") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "another process"
            echo(f"Waiting for {holder}, which is {doing} into {path.parent} ...")
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"capacity pid {os.getpid()}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
