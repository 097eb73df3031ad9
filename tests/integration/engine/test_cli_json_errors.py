"""Errors of the engine commands with --format json: one JSON document on stdout, typed by kind."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from capacity.cli.main import app

runner = CliRunner()


def _error(args: list[str]) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == 1, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False
    return data["error"]


def test_status_of_an_unknown_stack_is_a_json_error(state):
    error = _error(["status", "--stack", "nosuch", "-f", "json"])
    assert error["kind"] == "stack-not-found" and "No stack 'nosuch'" in error["message"]
    text = runner.invoke(app, ["status", "--stack", "nosuch"])
    assert text.exit_code == 1 and text.stdout == "" and text.stderr.startswith("error: No stack 'nosuch'")


def test_removing_an_unknown_stack_is_a_json_error(state):
    error = _error(["stacks", "rm", "nosuch", "-f", "json"])
    assert error["kind"] == "stack-not-found" and "does not exist" in error["message"]


def test_a_live_lock_is_a_stack_locked_error(state):
    import os
    import socket

    locks = state / "pulumi" / ".pulumi" / "locks" / "organization" / "capacity" / "held"
    locks.mkdir(parents=True)
    stacks = state / "pulumi" / ".pulumi" / "stacks" / "capacity"
    stacks.mkdir(parents=True)
    (stacks / "held.json").write_text(json.dumps({"version": 3, "checkpoint": {"stack": "held", "latest": None}}))
    (locks / "lock.json").write_text(json.dumps({"pid": os.getpid(), "username": "me", "hostname": socket.gethostname(),
                                                 "timestamp": "now"}))
    error = _error(["stacks", "rm", "held", "-f", "json"])
    assert error["kind"] == "stack-locked" and "in use by another run" in error["message"]
