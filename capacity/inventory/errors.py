"""The error every inventory operation raises for things a user can act on."""

from __future__ import annotations

from typing import Iterable

from capacity.errors import Problem


class InventoryError(Exception):
    """A failed inventory operation. `problems` locate each bad row of an imported file."""

    def __init__(self, message: str = "", problems: Iterable[Problem] = (), absent: bool = False):
        self.problems = sorted(problems)
        self.absent = absent
        """The site has no inventory there (none yet, or an empty file), as opposed to one that fails."""
        super().__init__(message or "\n".join(str(p) for p in self.problems))
