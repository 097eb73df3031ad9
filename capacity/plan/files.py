"""Files a plan names (its catalog, `metadata.catalog`), read beside the plan.

A plan may come from a pull request, so a file it names is read only from inside the repository:
- a plan on disk: the path is taken relative to the plan's directory and, symlinks followed, must
  stay inside the nearest directory above the plan that holds `.git` (the plan's own directory
  when there is none); it must be a regular file of at most 16 MiB (`yamlsafe.read_file`);
- a plan read from git (`REF:PATH`, `gitref.InGit`): the file comes from the same REF, and the
  path may not climb above the top of the repository; git checks its size before it is read.
No network and no code: the file is parsed by the same bounded YAML reader as plans.
"""

from __future__ import annotations

import posixpath
from pathlib import Path
from typing import Protocol

from capacity.plan.catalog import Catalog, own_catalog
from capacity.errors import PlanError
from capacity.plan.reader import Document, read_file

CATALOG_KEY = ("metadata", "catalog")


class Refused(Exception):
    """A named file that is not read: outside the repository, or missing. The message says why."""


class PlanFiles(Protocol):
    def read(self, relative: str) -> Document:
        """The YAML file at `relative` to the plan; Refused if it is not there or not allowed."""


def beside(shown: str, relative: str) -> str:
    """How to name `relative` to a plan shown as `shown` ('stacks/prod.yaml' -> 'stacks/x.yaml')."""
    return posixpath.normpath(posixpath.join(posixpath.dirname(shown), relative))


def repository_root(folder: Path) -> Path:
    """The nearest directory at or above `folder` that holds `.git` (`folder` itself without one)."""
    return next((d for d in (folder, *folder.parents) if (d / ".git").exists()), folder)


def outside(root: Path) -> str:
    """How a file outside `root` is named: nothing more about it is said."""
    return "repository" if (root / ".git").exists() else "plan's directory (not in a git repository)"


class OnDisk:
    """Files beside a plan file (or beside the current directory, for a plan given as text)."""

    def __init__(self, plan: str | Path | None, shown: str = ""):
        self.plan, self.shown = plan, shown

    def read(self, relative: str) -> Document:
        folder = (Path(self.plan).parent if self.plan is not None else Path.cwd()).resolve()
        root = repository_root(folder)
        target = (folder / relative).resolve()
        if not target.is_relative_to(root):
            raise Refused(f"'{relative}' is outside the {outside(root)} ({root}); a plan reads files only from "
                          "inside it. To fix: keep the catalog inside, or pass it with --catalog.")
        if not target.exists():
            raise Refused(f"there is no file '{relative}' beside the plan (looked for {beside(self.shown, relative)}). "
                          "To fix: check the path; it is relative to the plan file.")
        return read_file(target, beside(self.shown, relative))


def with_own_catalog(doc: Document, relative: str, below: Catalog, files: PlanFiles) -> Catalog:
    """The catalog for a plan that names its own: shipped, then the plan's file, then --catalog's.
    PlanError, at the plan's `metadata.catalog` or in the catalog file, when it cannot be used."""
    try:
        return own_catalog(files.read(relative), below)
    except Refused as exc:
        raise PlanError([doc.problem(CATALOG_KEY, str(exc))]) from None
