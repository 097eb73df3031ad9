"""The errors capacity raises for things a user can act on, under one root, and the problems in a plan.

Every error a user can act on is a `CapacityError`: the CLI prints its message (never a traceback)
and exits with its `exit_code`. Messages end with what to do.
"""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import Any, Iterable

from capacity.words import inert


@dataclass(frozen=True, order=True)
class Problem:
    """One violation: where it is and a sentence a reviewer understands."""

    line: int
    column: int
    path: str
    message: str
    file: str = ""
    subject: str = "plan"  # what the file holds: named when a problem is about the whole file

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}:{self.column}" if self.file else f"{self.line}:{self.column}"
        return inert(f"{where}: {self.path or f'({self.subject})'}: {self.message}")

    def as_json(self) -> dict[str, object]:
        data = asdict(self)
        data.pop("file")
        return {"path": data["path"], "line": data["line"], "column": data["column"], "message": data["message"]}


class CapacityError(Exception):
    """The root of every error meant for the user: a message, the problems found, an exit code.
    `kind` names the error in JSON output (`--format json`)."""

    kind = "error"

    def __init__(self, message: str = "", problems: Iterable[Problem] = (), *, exit_code: int = 1):
        self.problems = sorted(problems)
        self.exit_code = exit_code
        super().__init__(message or "\n".join(str(p) for p in self.problems))

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind, "message": str(self), "exit_code": self.exit_code}
        if self.problems:
            data["problems"] = [p.as_json() for p in self.problems]
        return data


class PlanError(CapacityError):
    """A plan that cannot be used; carries every problem found."""

    kind = "invalid-plan"

    def __init__(self, problems: Iterable[Problem]):
        super().__init__(problems=problems)


class EngineError(CapacityError):
    """A failed engine step, with a message meant for the user."""

    kind = "engine"

    def __init__(self, message: str, *, exit_code: int = 1):
        super().__init__(message, exit_code=exit_code)


class StackLocked(EngineError):
    """Another run holds the stack's lock."""

    kind = "stack-locked"


class StackNotFound(EngineError):
    """The backend has no stack of that name."""

    kind = "stack-not-found"


class LeaseGuardRefusal(EngineError):
    """The run would take capacity from leases in force, without --allow-destroy. Raised inside the
    program too (capacity/deploy/guard.py), where the engine reports it as the program's failure."""

    kind = "lease-guard-refusal"


class InventoryError(CapacityError):
    """A failed inventory operation. `problems` locate each bad row of an imported file."""

    kind = "inventory"

    def __init__(self, message: str = "", problems: Iterable[Problem] = (), absent: bool = False):
        super().__init__(message, problems)
        self.absent = absent
        """The site has no inventory there (none yet, or an empty file), as opposed to one that fails."""


class InventoryShortage(InventoryError):
    """The free nodes (or the power budget) of an owned site cannot serve the plan's clusters."""

    kind = "inventory-shortage"


def did_you_mean(word: object, choices: Iterable[object]) -> str:
    """' Did you mean 'x'?' for a close match, else ''."""
    match = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" Did you mean '{match[0]}'?" if match else ""


def join_path(parts: Iterable[object]) -> str:
    """('leases', 'acme-q1', 'gpus') -> 'leases.acme-q1.gpus'; list indexes as [0]."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out
