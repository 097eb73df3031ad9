"""Rendered plans for the component tests (each render runs the program under mocks)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from capacity.plan.loading import load_plan, load_text
from capacity.components.render import Rendering, render

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "stacks" / "example.yaml"
# A day when acme-q1, globex-eval and initech-serve are in force, acme-q2 is yet to start and the
# capacity block of burst-a (2027-01-04 to 2027-01-18) is over.
DAY = dt.date(2027, 2, 1)


class Rendered:
    """A rendering with look-ups by type and name."""

    def __init__(self, rendering: Rendering) -> None:
        self.resources = rendering.resources
        self.warnings = rendering.warnings

    def of_type(self, token: str) -> list[dict]:
        return [r for r in self.resources if r["type"] == token]

    def one(self, token: str, name: str) -> dict:
        found = [r for r in self.of_type(token) if r["name"] == name]
        assert len(found) == 1, f"{token} {name}: {len(found)} found"
        return found[0]

    def inputs(self, token: str, name: str) -> dict:
        return self.one(token, name)["inputs"]

    def children(self, parent: str) -> list[dict]:
        return [r for r in self.resources if r["parent"] == parent]

    def types(self, prefix: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            if r["type"].startswith(prefix):
                counts[r["type"]] = counts.get(r["type"], 0) + 1
        return counts


def rendered(text_or_path, on: dt.date = DAY) -> Rendered:
    loaded = load_plan(text_or_path) if isinstance(text_or_path, Path) else load_text(text_or_path, "plan.yaml")
    return Rendered(render(loaded, on))


@pytest.fixture(scope="session")
def example() -> Rendered:
    return rendered(EXAMPLE)
