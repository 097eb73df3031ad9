"""Every command takes --format json, and says its errors in it; completion offers stacks and sites."""

from __future__ import annotations

import json
import os
from pathlib import Path

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


PLAN = str(Path(__file__).parents[1] / "review" / "plans" / "base.yaml")


def _raise(*args, **kwargs):
    from capacity.errors import CapacityError

    raise CapacityError("could not, said the layer below. To fix: nothing.", exit_code=1)


# Each command of review.py and plan.py, and a function of the layer below it calls (made to fail).
FAILING = {
    "diff": (["diff", PLAN, PLAN], "capacity.review.diff.diff_plans"),
    "report": (["report", PLAN], "capacity.review.economics.book"),
    "calendar": (["calendar", PLAN], "capacity.review.calendar.events"),
    "validate": (["validate", PLAN], "capacity.review.warnings.plan_warnings"),
    "schema": (["schema"], "capacity.plan.schema.plan_schema"),
}


@pytest.mark.parametrize("command", sorted(FAILING))
def test_an_error_in_a_plan_or_review_command_is_json_with_format_json(command, monkeypatch):
    args, target = FAILING[command]
    monkeypatch.setattr(target, _raise)
    error = _json_error([*args, "--format", "json"], 1)
    assert error == {"kind": "error", "message": "could not, said the layer below. To fix: nothing.", "exit_code": 1}


@pytest.mark.parametrize("command", ["diff", "report", "calendar", "validate"])
def test_an_error_in_a_plan_or_review_command_is_text_without_it(command, monkeypatch):
    args, target = FAILING[command]
    monkeypatch.setattr(target, _raise)
    for fmt in ("text", "markdown") if command != "validate" else ("text",):
        result = runner.invoke(app, [*args, "--format", fmt])
        assert result.exit_code == 1 and result.stdout == ""
        assert result.stderr == "error: could not, said the layer below. To fix: nothing.\n"


def test_plan_problems_keep_their_own_json_shape(tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    for args in (["diff", PLAN, str(empty)], ["report", str(empty)], ["calendar", str(empty)]):
        result = runner.invoke(app, [*args, "--format", "json"])
        assert result.exit_code == 1
        data = json.loads(result.stdout)
        assert data["valid"] is False and "ok" not in data and "is empty" in data["errors"][0]["message"]


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
