"""Every command takes --format json, and says its errors in it; completion offers stacks and sites."""

from __future__ import annotations

import json
import os

import pytest
import typer
from typer.testing import CliRunner

from capacity.cli.main import app

runner = CliRunner()


def _commands(command, path: tuple[str, ...] = ()):
    if hasattr(command, "commands"):  # a group
        if command.callback is not None and path and command.invoke_without_command:
            yield path, command  # `capacity stacks` lists
        for name, sub in command.commands.items():
            yield from _commands(sub, (*path, name))
    else:
        yield path, command


def test_every_command_takes_format_json():
    root = typer.main.get_command(app)
    lacking = [" ".join(path) for path, command in _commands(root)
               if not any("--format" in getattr(p, "opts", []) for p in command.params)]
    assert lacking == []


def _json_error(args: list[str], code: int) -> dict:
    result = runner.invoke(app, args)
    assert result.exit_code == code, result.output
    data = json.loads(result.stdout)
    assert data["ok"] is False and data["error"]["exit_code"] == code
    return data["error"]


def test_errors_are_json_on_stdout_with_format_json(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path))
    error = _json_error(["inventory", "list", "--site", "nosuch", "-f", "json"], 1)
    assert error["kind"] == "inventory" and "site nosuch has no inventory" in error["message"]
    assert _json_error(["destroy", "-f", "json"], 2)["message"] == "give the plan file or --stack."


def test_the_same_errors_are_text_on_stderr_without_it(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["inventory", "list", "--site", "nosuch"])
    assert result.exit_code == 1 and result.stdout == ""
    assert result.stderr.startswith("error: site nosuch has no inventory")
    json_first = runner.invoke(app, ["destroy", "-f", "json"])  # the format of one run does not leak into the next
    assert json_first.exit_code == 2
    again = runner.invoke(app, ["destroy"])
    assert again.exit_code == 2 and again.stdout == "" and "give the plan file or --stack" in again.stderr


def test_a_typed_error_keeps_its_kind_and_exit_code():
    from capacity.errors import CapacityError, InventoryShortage, LeaseGuardRefusal, StackLocked, StackNotFound

    for cls, kind in ((StackLocked, "stack-locked"), (StackNotFound, "stack-not-found"),
                      (LeaseGuardRefusal, "lease-guard-refusal"), (InventoryShortage, "inventory-shortage")):
        error = cls("said")
        assert isinstance(error, CapacityError) and error.as_json() == {"kind": kind, "message": "said", "exit_code": 1}


def _complete(args: str, tmp_path, **env: str) -> list[str]:
    words = f"capacity {args}"
    environ = {"_CAPACITY_COMPLETE": "complete_bash", "COMP_WORDS": words,
               "COMP_CWORD": str(len(words.split()) - (0 if words.endswith(" ") else 1)),
               "CAPACITY_STATE_DIR": str(tmp_path), **env}
    result = runner.invoke(app, [], env=environ, prog_name="capacity")
    return result.stdout.split()


def test_completion_offers_the_stacks_of_the_backend(tmp_path):
    stacks = tmp_path / "pulumi" / ".pulumi" / "stacks" / "capacity"
    stacks.mkdir(parents=True)
    for name in ("prod-east.json", "prod-west.json.gz", "staging.json", "prod-old.json.bak"):
        (stacks / name).write_text("{}")
    assert _complete("status --stack prod", tmp_path) == ["prod-east", "prod-west"]
    assert _complete("stacks rm st", tmp_path) == ["staging"]
    other = tmp_path / "elsewhere" / ".pulumi" / "stacks" / "capacity"
    other.mkdir(parents=True)
    (other / "mine.json").write_text("{}")
    assert _complete(f"destroy --backend file://{tmp_path / 'elsewhere'} --stack ", tmp_path) == ["mine"]


def test_completion_offers_the_sites_with_an_inventory(tmp_path):
    (tmp_path / "inventory").mkdir()
    for name in ("lab-1.db", "lab-2.db", "dc-9.db"):
        (tmp_path / "inventory" / name).write_bytes(b"")
    assert _complete("inventory list --site lab", tmp_path) == ["lab-1", "lab-2"]
    assert _complete("inventory mark N1 --site d", tmp_path) == ["dc-9"]
    assert _complete("inventory list --site ", tmp_path, CAPACITY_INVENTORY_URL="postgresql://u@127.0.0.1:1/x") == []
