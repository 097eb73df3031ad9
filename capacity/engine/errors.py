"""The one error the engine layer raises for things a user can act on.

The CLI prints its message (never a traceback) and exits 1. Messages end with what to do.
"""

from __future__ import annotations


class EngineError(Exception):
    """A failed engine step, with a message meant for the user."""

    def __init__(self, message: str, *, exit_code: int = 1):
        self.exit_code = exit_code
        super().__init__(message)
