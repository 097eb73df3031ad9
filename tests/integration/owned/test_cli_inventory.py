"""`capacity inventory import | list | mark` as an operator runs them: output and exit codes."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from capacity.inventory import open_site, shown_location
from capacity.cli.inventory import app

from .conftest import ROOT, racks_csv

runner = CliRunner()
QUICKSTART = str(ROOT / "stacks" / "quickstart.yaml")
SAMPLE = str(ROOT / "stacks" / "inventory" / "quickstart-inventory.csv")


def run(*args: str):
    return runner.invoke(app, list(args))


@pytest.mark.parametrize("args", [["--help"], ["import", "--help"], ["list", "--help"], ["mark", "--help"]])
def test_help(args):
    result = run(*args)
    assert result.exit_code == 0 and "Usage" in result.output


def test_import_list_mark(state_dir):
    result = run("import", SAMPLE, "--site", "lab-1", "--plan", QUICKSTART)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("site lab-1: 12 nodes added from ") and shown_location("lab-1") in result.stdout
    again = run("import", SAMPLE, "--site", "lab-1")
    assert again.exit_code == 0 and "0 nodes added" in again.stdout and "(12 already there)" in again.stdout

    with open_site("lab-1") as inv:
        inv.allocate("quickstart/train", "quickstart", "train", "hgx-h100", 5, 1500)
        inv.carve("quickstart/acme", "quickstart/train", "acme", "acme-corp", "dedicated-nodes", 16, 2)
    listed = run("list")
    assert listed.exit_code == 0
    lines = listed.stdout.splitlines()
    assert lines[0].startswith("site lab-1 (") and lines[1].split() == \
        ["rack", "serial", "model", "gpus", "kW", "state", "holder", "pool"]
    assert sum("quickstart/train" in line for line in lines) == 5
    assert sum("quickstart/acme (acme-corp)" in line for line in lines) == 2
    assert ("3 racks, 12 nodes: 7 free, 5 allocated, 0 failed, 0 in maintenance; GPUs 40 allocated of 96 "
            "(56 free); 51.0 kW allocated") in listed.stdout

    victim = next(line.split()[1] for line in lines if "quickstart/acme" in line)
    marked = run("mark", victim, "--site", "lab-1", "--state", "failed")
    assert marked.exit_code == 0
    assert f"{victim} (site lab-1, rack r01): allocated -> failed, held by quickstart/train " \
           "(lease pool quickstart/acme)." in marked.stdout
    assert "capacity up" in marked.stderr

    data = json.loads(run("list", "--site", "lab-1", "--format", "json").stdout)
    [entry] = data["sites"]
    node = next(n for r in entry["racks"] for n in r["nodes"] if n["serial"] == victim)
    assert node == {"serial": victim, "model": "hgx-h100", "gpus": 8, "kw": 10.2, "state": "failed",
                    "holder": "quickstart/train", "pool": "quickstart/acme", "tenant": "acme-corp"}
    assert entry["totals"] == {"racks": 3, "nodes": 12, "free": 7, "allocated": 4, "failed": 1, "maintenance": 0,
                               "gpus": 96, "gpus_free": 56, "gpus_allocated": 32, "kw_allocated": 40.8}


def test_import_errors_exit_1_with_every_line(write_file):
    bad = write_file("bad.csv", racks_csv({"r1": 2}) + "X-1,r1,hgx-h1000\nN-r1-01,r2,hgx-h100\n")
    result = run("import", str(bad), "--site", "lab-1")
    assert result.exit_code == 1
    assert f"{bad}:4:" in result.stderr and "unknown system model 'hgx-h1000'" in result.stderr
    assert f"{bad}:5:" in result.stderr and "repeats line 2" in result.stderr
    assert "2 problems found." in result.stderr and "Traceback" not in result.output


def test_import_against_a_plan_names_its_owned_sites():
    result = run("import", SAMPLE, "--site", "lab-2", "--plan", QUICKSTART)
    assert result.exit_code == 2 and "Did you mean 'lab-1'?" in result.output


def test_invalid_plan_exits_1(write_file):
    plan = write_file("plan.yaml", "apiVersion: capacity/v1\nkind: CapacityPlan\n")
    result = run("import", SAMPLE, "--site", "lab-1", "--plan", str(plan))
    assert result.exit_code == 1 and "metadata" in result.output


@pytest.mark.parametrize("args,code,text", [
    (["import", SAMPLE, "--site", "Lab_1"], 2, "e.g. 'lab-1'"),
    (["mark", "X", "--site", "lab-1", "--state", "allocated"], 2, "allocated"),
    (["mark", "X", "--site", "lab-1"], 2, "--state"),
    (["list", "--site", "lab-9"], 1, "site lab-9 has no inventory"),
    (["mark", "X", "--site", "lab-9", "--state", "failed"], 1, "site lab-9 has no inventory"),
])
def test_bad_command_lines(args, code, text):
    result = run(*args)
    assert result.exit_code == code and text in result.output


def test_mark_unknown_serial_and_refusals():
    run("import", SAMPLE, "--site", "lab-1")
    unknown = run("mark", "LAB1-R01-N1", "--site", "lab-1", "--state", "failed")
    assert unknown.exit_code == 1 and "Did you mean 'LAB1-R01-N01'?" in unknown.stderr
    with open_site("lab-1") as inv:
        serial = inv.allocate("s/a", "s", "a", "hgx-h100", 1, 1500).serials[0]
    refused = run("mark", serial, "--site", "lab-1", "--state", "free")
    assert refused.exit_code == 1 and "allocated to s/a" in refused.stderr


def test_list_without_inventories():
    result = run("list")
    assert result.exit_code == 0 and "no inventories in" in result.stdout
    assert json.loads(run("list", "--format", "json").stdout) == {"sites": []}
