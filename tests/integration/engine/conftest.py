"""Fixtures for the tests that run the real Pulumi engine (no mocks).

`pulumi_cli` (tests/conftest.py) finds or installs the pinned CLI once per session; without one
the engine tests skip, unless CAPACITY_REQUIRE_ENGINE=1 (set by .ci/run) makes that a failure.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import time
import traceback
from pathlib import Path

import pytest


@pytest.fixture
def state(tmp_path, monkeypatch, pulumi_cli) -> Path:
    """A scratch working directory whose .capacity/ holds the state; a known passphrase."""
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(work / ".capacity"))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "engine-tests")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    return work / ".capacity"


def descendants(pid: int) -> list[int]:
    """Every process below pid (Linux /proc)."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int) -> None:
    """SIGKILL a process and everything it started, as an OOM killer or a lost machine would."""
    victims = [pid, *descendants(pid)]  # before the kill: orphans are re-parented at once
    for victim in victims:
        try:
            os.kill(victim, signal.SIGKILL)
        except ProcessLookupError:
            pass
    # SIGKILL is delivered at once but a process takes a moment to die: until then it is alive
    # (and, rightly, its lock is not stale).
    deadline = time.monotonic() + 10
    while any(_alive(victim) for victim in victims) and time.monotonic() < deadline:
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state not in ("Z", "X")


def wait_for(predicate, timeout: float = 60, what: str = "a condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


@pytest.fixture(name="kill_tree")
def _kill_tree_fixture():
    return kill_tree


@pytest.fixture(name="wait_for")
def _wait_for_fixture():
    return wait_for


def _compose_app():
    """The `capacity` app, or (until cli/main.py wires them) one composed of the engine's commands."""
    import typer

    from capacity.cli import deploy, engine

    try:
        from capacity.cli.main import app

        names = {c.name or c.callback.__name__ for c in app.registered_commands}
        if {"up", "preview", "status"} <= names:
            return app
    except ImportError:
        pass
    app = typer.Typer(pretty_exceptions_show_locals=False, no_args_is_help=True)
    app.add_typer(engine.app)
    app.add_typer(deploy.stacks_app)
    for fn in deploy.COMMANDS:
        app.command()(fn)
    return app


@pytest.fixture
def capacity(state):
    """capacity(*args) -> the CliRunner result of `capacity ARGS`, in the scratch state."""
    from typer.testing import CliRunner

    app = _compose_app()
    runner = CliRunner()

    def run(*args: str, expect: int | None = 0):
        result = runner.invoke(app, [str(a) for a in args])
        if result.exception is not None and not isinstance(result.exception, SystemExit):
            raise AssertionError("an exception escaped the CLI:\n" + "".join(traceback.format_exception(*result.exc_info)))
        if expect is not None and result.exit_code != expect:
            raise AssertionError(f"capacity {' '.join(map(str, args))} exited {result.exit_code}, not {expect}:\n"
                                 f"{result.output}\n{result.exception!r}")
        assert "Traceback" not in result.output
        return result

    return run


@pytest.fixture
def quickstart(tmp_path) -> Path:
    """A copy of stacks/quickstart.yaml and its inventory, free to edit."""
    import shutil

    root = Path(__file__).resolve().parents[3] / "stacks"
    folder = tmp_path / "plans"
    folder.mkdir()
    shutil.copy(root / "quickstart.yaml", folder / "quickstart.yaml")
    (folder / "inventory").mkdir()
    shutil.copy(root / "inventory/quickstart-inventory.csv", folder / "inventory/quickstart-inventory.csv")

    def around_today(data):  # the same story whatever day the tests run on
        today = dt.date.today()
        for name, lease in data.get("leases", {}).items():
            running = name == "acme-pilot"
            lease["start"] = today - dt.timedelta(days=30) if running else today + dt.timedelta(days=30)
            lease["end"] = today + dt.timedelta(days=180 if running else 90)

    return edit_plan(folder / "quickstart.yaml", around_today)


def edit_plan(path: Path, change) -> Path:
    """Rewrite a plan file: change(data) edits the parsed YAML in place."""
    import yaml

    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path
