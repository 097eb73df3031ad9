"""Small helpers for sentences shown to people."""

from __future__ import annotations


def count(number: int, noun: str) -> str:
    """'1 cluster', '2 clusters'."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"
