"""Plans named as files or as `REF:PATH` in git (`origin/main:stacks/prod.yaml`).

A source that is an existing file is read as a file. Otherwise `REF:PATH` is read from the git
repository around the current directory: git is run with argument lists (never a shell), the
blob's size is checked before it is read, and its bytes go through the same safe YAML reader and
checks as a file, with `REF:PATH` as the file name in every error. PATH is from the top of the
repository, as in `git show REF:PATH`. A catalog the plan names is read from the same REF.
"""

from __future__ import annotations

import posixpath
import re
import subprocess
from pathlib import Path

from capacity.errors import CapacityError
from capacity.plan.catalog import Catalog
from capacity.plan.loading import LoadedPlan, build
from capacity.plan.files import OnDisk, Refused
from capacity.plan.reader import MAX_BYTES, Document, parse_bytes, read_file

GIT_TIMEOUT = 60


class SourceError(CapacityError):
    """A plan source that cannot be read: a missing ref or path, no git, no repository."""


def split(source: str) -> tuple[str, str] | None:
    """(REF, PATH) when `source` names a plan in git rather than an existing file."""
    if Path(source).is_file() or ":" not in source:
        return None
    ref, path = source.split(":", 1)
    return ref, path


def load_source(source: str, catalog: str | Path | Catalog | None = None, cwd: str | Path | None = None) -> LoadedPlan:
    """Read, model and check the plan at `source`. Raises SourceError or PlanError."""
    parts = split(source)
    if parts is None:
        return build(read_file(source), catalog, OnDisk(source, source))
    ref, path = parts
    return build(parse_bytes(read_git(ref, path, cwd), source), catalog, InGit(ref, path, cwd))


class InGit:
    """Files beside a plan in git: at the plan's ref, never above the top of the repository."""

    def __init__(self, ref: str, path: str, cwd: str | Path | None = None):
        self.ref, self.path, self.cwd = ref, path, cwd

    def read(self, relative: str) -> Document:
        path = posixpath.normpath(posixpath.join(posixpath.dirname(self.path), relative))
        if path == ".." or path.startswith(("../", "/")):
            raise Refused(f"'{relative}' is outside the repository; a plan reads files only from inside it. "
                          "To fix: keep the catalog inside, or pass it with --catalog.")
        try:
            return parse_bytes(read_git(self.ref, path, self.cwd, "catalog"), f"{self.ref}:{path}")
        except SourceError as exc:
            raise Refused(str(exc)) from None


_PLAIN_REF = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/-]{0,200}")


def _fetch_advice(ref: str) -> str:
    """The command that fetches `ref`, only for a name that is plainly a branch or tag: a ref that
    starts with `-` or holds anything else is never echoed as a command to run."""
    name = ref.removeprefix("origin/")
    if _PLAIN_REF.fullmatch(name) and ".." not in name:
        return f" (git fetch origin {name})"
    return " (git fetch origin, then the branch or tag by its name)"


def read_git(ref: str, path: str, cwd: str | Path | None = None, what: str = "plan") -> bytes:
    """The bytes of the file PATH at REF; `what` names it in errors (a plan, a catalog)."""
    source = f"{ref}:{path}"
    if not ref or not path:
        raise SourceError(f"{source}: give both a git ref and a path, as in origin/main:stacks/prod.yaml "
                          "(or name an existing file).")
    if any(ord(c) < 32 for c in source):
        raise SourceError(f"{source!r}: a git ref or path cannot hold control characters.")
    lines = _git(["cat-file", "--batch-check"], cwd, source, stdin=f"{ref}^{{commit}}\n{source}\n").splitlines()
    commit, blob = (lines + ["", ""])[:2]
    if commit.endswith(" missing") or not commit:
        raise SourceError(f"{source}: git ref '{ref}' does not exist in this repository. To fix: check the name, "
                          f"or fetch it first{_fetch_advice(ref)}.")
    if blob.endswith(" missing") or not blob:
        or_else = ", or name a plan file on disk" if what == "plan" else ""
        raise SourceError(f"{source}: there is no file '{path}' at {ref} (paths start at the top of the "
                          f"repository). To fix: check the path{or_else}.")
    sha, kind, length = blob.split()
    if kind != "blob":
        raise SourceError(f"{source}: '{path}' at {ref} is a {'directory' if kind == 'tree' else kind}, "
                          f"not a {what} file.")
    if int(length) > MAX_BYTES:
        raise SourceError(f"{source}: is larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                          f"{what}s are refused above that size.")
    # `cat-file blob` gives the committed bytes, with no textconv or filter applied (as `git show REF:PATH`
    # shows a blob), and the object id was resolved above, so what is read is what was measured.
    return _git_bytes(["cat-file", "blob", sha], cwd, source)


def _run(args: list[str], cwd, source: str, stdin: bytes | None) -> subprocess.CompletedProcess:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, input=stdin, capture_output=True, timeout=GIT_TIMEOUT,
                              check=False)
    except FileNotFoundError:
        raise SourceError(f"{source}: reading REF:PATH needs git, which is not installed (or not on PATH).") from None
    except subprocess.TimeoutExpired:
        raise SourceError(f"{source}: git did not answer within {GIT_TIMEOUT} s.") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()
        reason = reason[-1] if reason else f"exit code {done.returncode}"
        if "not a git repository" in reason:
            raise SourceError(f"{source}: no such file, and the current directory is not inside a git repository "
                              "to read it as REF:PATH. To fix: run from the repository, or name a plan file.")
        raise SourceError(f"{source}: git failed: {reason.removeprefix('fatal: ')}")
    return done


def _git(args: list[str], cwd, source: str, stdin: str) -> str:
    return _run(args, cwd, source, stdin.encode()).stdout.decode("utf-8", "replace")


def _git_bytes(args: list[str], cwd, source: str) -> bytes:
    return _run(args, cwd, source, None).stdout
