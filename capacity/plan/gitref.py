"""Plans named as files or as `REF:PATH` in git (`origin/main:stacks/prod.yaml`).

A source that is an existing file is read as a file. Otherwise `REF:PATH` is read from the git
repository around the current directory (capacity.plan.git: argument lists, never a shell); the
blob's size is checked before it is read, and its bytes go through the same safe YAML reader and
checks as a file, with `REF:PATH` as the file name in every error. PATH is from the top of the
repository, as in `git show REF:PATH`. A catalog the plan names is read from the same REF.
"""

from __future__ import annotations

import posixpath
import re
from pathlib import Path

from capacity.errors import CapacityError
from capacity.plan import git
from capacity.plan.catalog import Catalog
from capacity.plan.loading import LoadedPlan, build
from capacity.plan.files import OnDisk, Refused
from capacity.plan.reader import MAX_BYTES, Document, parse_bytes, read_file


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
    try:
        commit, found = git.lookup([f"{ref}^{{commit}}", source], cwd)
        if commit is None:
            raise SourceError(f"{source}: git ref '{ref}' does not exist in this repository. To fix: check the "
                              f"name, or fetch it first{_fetch_advice(ref)}.")
        if found is None:
            or_else = ", or name a plan file on disk" if what == "plan" else ""
            raise SourceError(f"{source}: there is no file '{path}' at {ref} (paths start at the top of the "
                              f"repository). To fix: check the path{or_else}.")
        if found.kind != "blob":
            raise SourceError(f"{source}: '{path}' at {ref} is a {'directory' if found.kind == 'tree' else found.kind}, "
                              f"not a {what} file.")
        if found.size > MAX_BYTES:
            raise SourceError(f"{source}: is larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                              f"{what}s are refused above that size.")
        # The object id was resolved above, so what is read is what was measured.
        return git.blob(found.id, cwd)
    except git.GitError as exc:
        if exc.not_a_repository:
            raise SourceError(f"{source}: no such file, and the current directory is not inside a git repository "
                              "to read it as REF:PATH. To fix: run from the repository, or name a plan file.") from None
        raise SourceError(f"{source}: {exc}") from None
