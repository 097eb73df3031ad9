"""`capacity fit` and `capacity available` on the command line: the JSON and markdown contracts, bad
command lines (exit 2), and plans from strangers (exit 1, the same errors and safety as `validate`)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.cli.main import app

HAND = Path(__file__).parent / "plans" / "fit" / "hand.yaml"
ROOT = Path(__file__).parents[3]
runner = CliRunner()
DEMAND = ["--gpus", "64", "--accelerator", "H100", "--start", "2027-01-01", "--end", "2027-03-02",
          "--as-of", "2026-12-01"]
OPTION_KEYS = {"rank", "kind", "site", "cluster", "provider", "instance_type", "nodes", "gpus", "cost", "revenue",
               "margin", "reservation", "notes"}


def fit(*args: str, plan: Path = HAND):
    return runner.invoke(app, ["fit", str(plan), *args])


def test_json_contract():
    result = fit(*DEMAND, "--price", "3", "--format", "json", "--top", "3")
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"demand", "options", "refused"}
    assert len(data["options"]) == 3
    for option in data["options"]:
        assert OPTION_KEYS <= set(option)
        assert set(option["cost_covers"]) == {"start", "end"}
        assert option["kind"] in ("existing", "grow", "new")
    assert [o["rank"] for o in data["options"]] == [1, 2, 3]
    best = data["options"][0]
    assert (best["kind"], best["cluster"], best["added_nodes"]) == ("grow", "big", 2)
    assert best["revenue"] == 64 * 24 * 60 * 3 and best["margin"] == round(best["revenue"] - best["cost"], 2)
    assert {"cluster": "big", "why": "free 48 of 64 from 2027-03-01 to 2027-03-02"} in data["refused"]
    assert all(set(r) == {"cluster", "why"} for r in data["refused"])


def test_nothing_fits_exits_0_and_says_what_would():
    args = ["--gpus", "96", "--instance-type", "hgx-h100", "--start", "2027-03-01", "--end", "2027-04-01"]
    result = fit(*args)
    assert result.exit_code == 0
    assert "Nothing fits." in result.stdout
    assert "The largest share for the whole window: 32 GPUs on cluster lab." in result.stdout
    data = json.loads(fit(*args, "-f", "json").stdout)
    assert data["options"] == [] and data["instead"]["largest_share"] == {"cluster": "lab", "gpus": 32}


def test_markdown_reads_as_a_pr_comment():
    result = fit(*DEMAND, "--price", "3", "--format", "markdown", "--top", "4")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0] == "### Where 64 H100 GPUs (dedicated-nodes) from 2027-01-01 to 2027-03-02 at $3.00/GPU-hour fits"
    assert "| # | kind | where | type x nodes | cost | covers | revenue | margin | notes |" in lines
    rows = [line for line in lines if line.startswith("| 1 ")]
    assert rows and rows[0].startswith("| 1 | grow | big +2 nodes at aws-use1 (aws) | p5.48xlarge x8 |")
    assert rows[0].count("|") == 10  # no cell breaks the table
    assert "- big: free 48 of 64 from 2027-03-01 to 2027-03-02" in lines
    assert "more options not shown (`--top`)." in result.stdout


def test_markdown_of_a_large_plan_fits_in_one_comment(tmp_path):
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from genplan import generate
    finally:
        sys.path.pop(0)
    plan = tmp_path / "big.yaml"
    plan.write_text(generate(20, 200, 2000))
    result = fit("--gpus", "4096", "--accelerator", "H100", "--start", "2027-03-01", "--end", "2027-06-01",
                 "-f", "markdown", "--top", "1000", plan=plan)
    assert result.exit_code == 0
    assert len(result.stdout.encode()) < 65_536
    assert "more clusters (`--format json` lists all)" in result.stdout


@pytest.mark.parametrize("args,words", [
    (["--gpus", "0"], "--gpus"),
    (["--start", "2027-03-02", "--end", "2027-01-01"], "--end must be after --start"),
    (["--start", "2027-03-01", "--end", "2027-03-01"], "--end must be after --start"),
    (["--accelerator", "H1000"], "Did you mean 'H100'"),
    (["--instance-type", "p5.48xlarge"], "exactly one of --accelerator or --instance-type"),
    (["--site", "aws-us1"], "Did you mean 'aws-use1'"),
    (["--provider", "amazon"], "not a provider"),
    (["--isolation", "private"], "--isolation"),
    (["--start", "2027-02-30"], "--start"),
])
def test_bad_command_lines_exit_2(args, words):
    flags = {**dict(zip(DEMAND[::2], DEMAND[1::2])), **dict(zip(args[::2], args[1::2]))}  # args override
    result = fit(*[part for pair in flags.items() for part in pair])
    assert result.exit_code == 2, result.output
    assert words in result.output


HOSTILE = [
    b"apiVersion: !!python/object/apply:os.system ['touch PWNED']\n",
    b"a: &a [x, x]\nb: &b [*a, *a]\n" + b"".join(f"c{i}: &c{i} [*b, *b, *b, *b, *b, *b, *b, *b]\n".encode() for i in range(1)),
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    HAND.read_bytes().replace(b"nodes: 16", b"nodes: 1"),  # leases over the cluster: invalid
]


@pytest.mark.parametrize("raw", HOSTILE, ids=["python-tag", "aliases", "binary", "oversubscribed"])
@pytest.mark.parametrize("command", [["fit", *DEMAND], ["available"]])
def test_plans_from_strangers_fail_as_validate_does(tmp_path, raw, command):
    plan = tmp_path / "plan.yaml"
    plan.write_bytes(raw)
    (tmp_path / "nodes.csv").write_bytes(HAND.with_name("nodes.csv").read_bytes())
    expected = runner.invoke(app, ["validate", str(plan), "-f", "json"])
    result = runner.invoke(app, [command[0], str(plan), *command[1:], "-f", "json"])
    assert (result.exit_code, expected.exit_code) == (1, 1), result.output
    assert json.loads(result.stdout)["errors"] == json.loads(expected.stdout)["errors"]
    assert "root:" not in result.output and not (tmp_path / "PWNED").exists()
    text = runner.invoke(app, [command[0], str(plan), *command[1:]])
    assert text.exit_code == 1 and "Traceback" not in text.output


def test_an_inventory_outside_the_plans_folder_is_not_read(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_bytes(HAND.read_bytes().replace(b"inventory: nodes.csv", b"inventory: ../../../../../etc/passwd"))
    for args in (["available", str(plan), "--from", "2027-01-01"],
                 ["fit", str(plan), "--gpus", "40", "--instance-type", "hgx-h100", "--start", "2027-01-01",
                  "--end", "2027-02-01"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1, result.output  # the plan is refused, as validate refuses it
        assert "is outside the plan's directory" in result.output and "root:" not in result.output


@pytest.mark.parametrize("args", [["available", "stacks/example.yaml"],
                                  ["fit", "stacks/example.yaml", "--gpus", "8", "--accelerator", "H100",
                                   "--start", "2027-01-01", "--end", "2027-02-01", "-f", "markdown"]])
def test_fit_and_available_never_import_pulumi(args):
    code = (f"import sys\nfrom capacity.cli.main import app\ntry:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
            "print('MODULES=' + ','.join(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')"
            " or m.startswith('ruamel'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "MODULES=\n" in out + "\n", out
    assert "Where 8 H100" in out or "Free GPUs" in out


def test_dates_at_the_end_of_the_calendar_are_no_crash(tmp_path):
    plan = tmp_path / "far.yaml"
    plan.write_bytes(HAND.read_bytes().replace(b"end: 2028-01-01", b"end: 9999-12-31"))
    (tmp_path / "nodes.csv").write_bytes(HAND.with_name("nodes.csv").read_bytes())
    assert runner.invoke(app, ["validate", str(plan)]).exit_code == 0
    for args in (["available", str(plan), "--from", "9999-12-30"],
                 ["fit", str(plan), "--gpus", "640", "--accelerator", "H100", "--start", "9999-01-01",
                  "--end", "9999-12-31", "--as-of", "9998-12-01"],
                 ["fit", str(plan), "--gpus", "8", "--accelerator", "H100", "--start", "9999-12-30",
                  "--end", "9999-12-31", "--site", "dc-1"]):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, (args, result.output)


def test_an_accelerator_in_any_case_is_the_catalogs():
    lower = [arg.lower() if arg == "H100" else arg for arg in DEMAND]
    as_given = json.loads(fit(*DEMAND, "--format", "json").stdout)
    assert json.loads(fit(*lower, "--format", "json").stdout) == as_given
    assert as_given["demand"]["accelerator"] == "H100"
    result = runner.invoke(app, ["available", str(HAND), "--accelerator", "h100", "--format", "json"])
    assert result.exit_code == 0 and {c["accelerator"] for c in json.loads(result.stdout)["clusters"]} == {"H100"}
