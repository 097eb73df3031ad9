"""A plan from stdin (`-`) through the real engine: up, status, a refused destroy, destroy."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from capacity.cli.main import app

ROOT = Path(__file__).parents[3]
QUICKSTART = ROOT / "stacks/quickstart.yaml"
INVENTORY = ROOT / "stacks/inventory/quickstart-inventory.csv"
runner = CliRunner()


def test_a_plan_from_stdin_goes_up_and_down_through_the_real_engine(pulumi_cli, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a plan from stdin names its inventory file relative to here
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / INVENTORY.name).write_bytes(INVENTORY.read_bytes())
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path / ".capacity"))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "stdin-test")
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE_FILE", raising=False)
    monkeypatch.delenv("PULUMI_BACKEND_URL", raising=False)
    plan = QUICKSTART.read_text()
    up = runner.invoke(app, ["up", "-", "--yes", "--format", "json"], input=plan)
    assert up.exit_code == 0, up.output
    events = [json.loads(line) for line in up.stdout.splitlines()]  # JSON lines and nothing else
    assert events[-1]["event"] == "result" and events[-1]["ok"] and events[-1]["changes"]["create"] > 0
    assert "site lab-1: imported 12 nodes" in up.stderr
    status = runner.invoke(app, ["status", "-", "--format", "json"], input=plan)
    assert status.exit_code == 0 and json.loads(status.stdout)["gpus"] == 64
    refused = runner.invoke(app, ["destroy", "-", "--yes"], input=plan)  # a lease is in force
    assert refused.exit_code == 1 and "in-force lease 'acme-pilot'" in refused.stderr and refused.stdout == ""
    down = runner.invoke(app, ["destroy", "-", "--yes", "--allow-destroy"], input=plan)
    assert down.exit_code == 0, down.output
    assert "quickstart: " in down.stderr and "deleted" in down.stderr and down.stdout == ""
