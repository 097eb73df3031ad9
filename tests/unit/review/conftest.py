"""Fixtures for review tests: the plan pairs beside this file and a CLI holding the review commands.

plans/base.yaml is the BASE of every pair; the other files are HEADs (growth, shrink, reprice,
no-reservation, no-site, no-link). Tests pass --as-of so that risks, and so outputs, are stable.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import typer
import yaml
from typer.testing import CliRunner

from capacity.cli import plan, review

ROOT = Path(__file__).parents[3]
PLANS = Path(__file__).parent / "plans"
WORKFLOW = ROOT / ".github/workflows/capacity-plans.yml"
NEWEST = ROOT / ".github/workflows/newest-versions.yml"


def review_app() -> typer.Typer:
    """`validate`, `diff`, `report` and `calendar` as the entry point composes them (cli/main.py)."""
    app = typer.Typer(pretty_exceptions_show_locals=False, add_completion=False)
    app.command(rich_help_panel="Plans")(plan.validate)
    app.command(rich_help_panel="Reviews")(review.diff)
    app.command(rich_help_panel="Reviews")(review.report)
    app.command(rich_help_panel="Reviews")(review.calendar)
    return app


@pytest.fixture
def cli():
    """cli(args...) -> click Result, run from the repository root (so plan labels are relative)."""
    app, runner = review_app(), CliRunner()

    def run(*args: str, cwd: Path = ROOT):
        old = Path.cwd()
        os.chdir(cwd)
        try:
            return runner.invoke(app, [str(a) for a in args])
        finally:
            os.chdir(old)

    return run


@pytest.fixture
def repo(tmp_path: Path, git):
    """A git repository with stacks/plan.yaml = plans/base.yaml committed on branch main."""
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "stacks").mkdir()
    (tmp_path / "stacks" / "plan.yaml").write_bytes((PLANS / "base.yaml").read_bytes())
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "base plan")
    return tmp_path


# --- the CI workflows (test_ci.py, test_workflow_files.py) ---


def read_workflow(text: str) -> dict:
    """A workflow file's YAML, its `on` key as written."""
    data = yaml.safe_load(text)
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


@pytest.fixture(scope="module")
def workflow() -> dict:
    return read_workflow(WORKFLOW.read_text())


@pytest.fixture(scope="module")
def newest() -> dict:
    return read_workflow(NEWEST.read_text())


def step(job: dict, name: str) -> dict:
    return next(s for s in job["steps"] if s.get("name") == name)


def runs_of(job: dict) -> list[str]:
    return [s.get("run", "") for s in job["steps"]]
