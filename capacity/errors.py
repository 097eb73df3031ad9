"""Problems found in a plan, each pointing at its line."""

from __future__ import annotations

import difflib
from dataclasses import asdict, dataclass
from typing import Iterable

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

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("file")
        return {"path": data["path"], "line": data["line"], "column": data["column"], "message": data["message"]}


class PlanError(Exception):
    """A plan that cannot be used; carries every problem found."""

    def __init__(self, problems: Iterable[Problem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
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
