"""Fixtures for plan tests. valid.yaml beside this file is the plan the tests break."""

from __future__ import annotations

from pathlib import Path

import pytest

@pytest.fixture
def write_plan(tmp_path: Path):
    """write_plan(text) -> path of a plan file holding `text` (bytes written as they are)."""

    def write(text: str | bytes, name: str = "plan.yaml") -> Path:
        path = tmp_path / name
        path.write_bytes(text if isinstance(text, bytes) else text.encode())
        return path

    return write
