"""The one-way layers of pyproject.toml's import-linter contract hold, and the check can fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINT = Path(sys.executable).parent / "lint-imports"


def _lint(source_root: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(source_root)}
    return subprocess.run([str(LINT), "--config", str(ROOT / "pyproject.toml"), "--no-cache"], cwd=source_root,
                          env=env, capture_output=True, text=True, timeout=300)


def test_the_layers_are_kept():
    done = _lint(ROOT)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 kept, 0 broken" in done.stdout


def test_an_import_that_climbs_a_layer_breaks_the_contract(tmp_path):
    """The plan layer importing the CLI (a copy of the tree, one line added) fails the check."""
    shutil.copytree(ROOT / "capacity", tmp_path / "capacity", symlinks=False,
                    ignore=shutil.ignore_patterns("__pycache__"))
    model = tmp_path / "capacity" / "plan" / "model.py"
    model.write_text(model.read_text() + "\n\ndef _climb():\n    import capacity.cli.main  # noqa: F401\n")
    done = _lint(tmp_path)
    assert done.returncode == 1
    assert "capacity.plan.model -> capacity.cli.main" in done.stdout
