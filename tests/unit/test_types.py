"""The type checker: `mypy` as pyproject.toml configures it, strict on the review, the plan and
everything below them (capacity.review, capacity.plan, capacity.providers and the shared vocabulary)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
STRICT = {"disallow_untyped_defs", "disallow_incomplete_defs", "disallow_any_generics", "check_untyped_defs",
          "warn_return_any", "no_implicit_reexport", "strict_equality"}


def test_the_configured_packages_type_check():
    done = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", os.devnull], cwd=ROOT, capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-5000:] + done.stderr[-2000:]
    assert done.stdout.startswith("Success: no issues found")


def test_the_plan_and_below_are_checked_strictly():
    tomllib = pytest.importorskip("tomllib")
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mypy"]
    assert {"capacity/plan", "capacity/providers", "capacity/review", "capacity/errors.py"} <= set(config["files"])
    strict = next(o for o in config["overrides"] if "capacity.plan.*" in o["module"])
    assert {"capacity.providers.*", "capacity.review.*", "capacity.errors", "capacity.fields", "capacity.words",
            "capacity.state"} <= set(strict["module"])
    assert all(strict.get(flag) is True for flag in STRICT)
    relaxed = [o["module"] for o in config["overrides"] if any(o.get(flag) is False for flag in STRICT)]
    assert not relaxed, f"modules exempt from strict checking: {relaxed}"
