"""git, run for plans read from a repository (`gitref`) and for the CI helpers (`capacity.review.ci`).

git runs with argument lists (never a shell) and a timeout; committed files are looked up
(`cat-file --batch-check`: id, type, size) before they are read, so a caller can refuse one too
large without reading it. Only the standard library: `python -m capacity.review.ci` runs this from
a bare checkout.
"""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

from capacity.errors import CapacityError

TIMEOUT = 120
_OBJECT_ID = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")

Where = str | Path | None
"""The directory git runs in (None: the current one)."""


class GitError(CapacityError):
    """git is missing, did not answer in time, or failed."""

    def __init__(self, message: str, *, not_a_repository: bool = False):
        super().__init__(message)
        self.not_a_repository = not_a_repository
        """git ran outside any repository."""


@dataclass(frozen=True)
class Object:
    """A git object as `cat-file --batch-check` describes it."""

    id: str
    kind: str  # blob, tree, commit or tag
    size: int


def run(args: list[str], cwd: Where = None, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """`git ARGS`, finished, whatever its exit code. GitError when git is missing or does not answer."""
    try:
        return subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise GitError("git is not installed (or not on PATH).") from None
    except subprocess.TimeoutExpired:
        raise GitError(f"`git {args[0]}` did not answer within {TIMEOUT} s.") from None


def output(args: list[str], cwd: Where = None, stdin: bytes | None = None) -> bytes:
    """What `git ARGS` prints; GitError, with git's last line of complaint, when it fails."""
    done = run(args, cwd, stdin)
    if done.returncode != 0:
        lines = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = lines[-1].removeprefix("fatal: ") if lines else f"exit code {done.returncode}"
        raise GitError(f"`git {args[0]}` failed: {reason}", not_a_repository="not a git repository" in reason)
    return done.stdout


def lookup(names: list[str], cwd: Where = None) -> list[Object | None]:
    """The object each name (`REV`, `REV:PATH`, `REV^{commit}`) stands for, or None where there is none."""
    lines = output(["cat-file", "--batch-check"], cwd, "".join(f"{name}\n" for name in names).encode())
    found = [_object(line) for line in lines.decode("utf-8", "replace").splitlines()]
    return (found + [None] * len(names))[:len(names)]


def _object(line: str) -> Object | None:
    parts = line.split()  # "ID TYPE SIZE", else "NAME missing" (or ambiguous)
    if len(parts) == 3 and _OBJECT_ID.fullmatch(parts[0]) and parts[2].isdigit():
        return Object(parts[0], parts[1], int(parts[2]))
    return None


def blob(object_id: str, cwd: Where = None) -> bytes:
    """The committed bytes of a blob, with no textconv or filter applied (as `git show REF:PATH`)."""
    return output(["cat-file", "blob", object_id], cwd)


def is_commit(rev: str | None, cwd: Where = None) -> bool:
    """`rev` names a commit here (never taken as an option)."""
    if not rev or rev.startswith("-"):
        return False
    return run(["cat-file", "-e", f"{rev}^{{commit}}"], cwd).returncode == 0
