"""The error every inventory operation raises for things a user can act on."""

from __future__ import annotations

from typing import Iterable

from capacity.errors import Problem


class InventoryError(Exception):
    """A failed inventory operation. `problems` locate each bad row of an imported file."""

    def __init__(self, message: str = "", problems: Iterable[Problem] = ()):
        self.problems = sorted(problems)
        super().__init__(message or "\n".join(str(p) for p in self.problems))
