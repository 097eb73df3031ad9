"""`capacity fit --write`: the chosen option goes into the plan file; comments and layout of the rest stay,
the result validates, and `capacity diff` of before and after shows exactly that change."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.cli.main import app
from capacity.plan.edit import edit_text

HAND = Path(__file__).parent / "plans" / "fit" / "hand.yaml"
runner = CliRunner()
DEMAND = ["--gpus", "64", "--accelerator", "H100", "--start", "2027-01-01", "--end", "2027-02-01",
          "--price", "3.5", "--tenant", "globex", "--as-of", "2026-12-01"]


@pytest.fixture
def plan(tmp_path) -> Path:
    for name in ("hand.yaml", "nodes.csv"):
        shutil.copy(HAND.with_name(name), tmp_path / name)
    return tmp_path / "hand.yaml"


def write(plan: Path, *args: str):
    return runner.invoke(app, ["fit", str(plan), *DEMAND, "--write", "globex-jan", *args])


def kept_in_order(before: str, after: str, changed: set[str] = frozenset()) -> bool:
    """Every line of `before` (but the changed ones) is in `after`, in the same order."""
    lines = iter(after.splitlines())
    return all(any(line == seen for seen in lines) for line in before.splitlines() if line not in changed)


def diff_json(before: Path, after: Path) -> dict:
    result = runner.invoke(app, ["diff", str(before), str(after), "--format", "json", "--as-of", "2026-12-01"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def diff_changes(before: Path, after: Path) -> list[dict]:
    return diff_json(before, after)["changes"]


def test_writing_an_existing_cluster_adds_only_the_lease(plan, tmp_path):
    before = plan.read_text()
    shutil.copy(plan, tmp_path / "before.yaml")
    result = write(plan, "--site", "aws-use1", "--format", "json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["written"] == {"file": str(plan), "lease": "globex-jan", "option": 1}
    after = plan.read_text()
    assert kept_in_order(before, after)  # comments, order and layout of the rest unchanged
    assert after.endswith("  globex-jan:\n    tenant: globex\n    cluster: big\n    gpus: 64\n    start: 2027-01-01\n"
                          "    end: 2027-02-01\n    price_per_gpu_hour: 3.5\n    isolation: dedicated-nodes\n")
    assert runner.invoke(app, ["validate", str(plan)]).exit_code == 0
    diffed = diff_json(tmp_path / "before.yaml", plan)
    assert [(c["kind"], c["object"], c["name"]) for c in diffed["changes"]] == [("added", "lease", "globex-jan")]
    assert diffed["lease_value"]["delta"] == 64 * 24 * 31 * 3.5  # and values it
    assert diffed["monthly_cost"]["delta"] == 0


def test_writing_growth_changes_the_nodes_line_only(plan, tmp_path):
    before = plan.read_text()
    shutil.copy(plan, tmp_path / "before.yaml")
    result = write(plan, "--site", "dc-1", "--gpus", "56")
    assert result.exit_code == 0, result.output
    after = plan.read_text()
    assert kept_in_order(before, after, changed={"    nodes: 4"})
    assert "  lab:            # 4 x 8 = 32 GPUs, owned\n    site: dc-1\n    instance_type: hgx-h100\n    nodes: 7\n" in after
    assert "    power_mw: 0.1              # 100 kW: the 4 lab nodes draw 40.8, room for 5 more\n" in after
    changes = diff_changes(tmp_path / "before.yaml", plan)
    assert sorted((c["kind"], c["object"], c["name"]) for c in changes) == [
        ("added", "lease", "globex-jan"), ("changed", "cluster", "lab")]
    lab = next(c for c in changes if c["name"] == "lab")
    assert lab["fields"]["nodes"] == {"base": 4, "head": 7}


def test_writing_a_new_capacity_block_adds_the_cluster_and_its_reservation(plan, tmp_path):
    shutil.copy(plan, tmp_path / "before.yaml")
    listed = json.loads(runner.invoke(app, ["fit", str(plan), *DEMAND, "--provider", "aws", "--top", "100",
                                            "-f", "json"]).stdout)["options"]
    rank = next(o["rank"] for o in listed if o["reservation"] and o["reservation"]["kind"] == "capacity-block"
                and o["instance_type"] == "p5.48xlarge")
    result = write(plan, "--provider", "aws", "--option", str(rank))
    assert result.exit_code == 0, result.output
    assert ("  aws-use1-p5-48xlarge:\n    site: aws-use1\n    instance_type: p5.48xlarge\n    nodes: 8\n"
            "    reservation:\n      kind: capacity-block\n      start: 2027-01-01\n      end: 2027-02-05\n      lead_days: 31\n") in plan.read_text()  # 31 days: 5 whole weeks
    changes = diff_changes(tmp_path / "before.yaml", plan)
    kinds = sorted((c["kind"], c["object"], c["name"]) for c in changes)
    assert ("added", "cluster", "aws-use1-p5-48xlarge") in kinds and ("added", "lease", "globex-jan") in kinds
    assert ("added", "reservation", "aws-use1-p5-48xlarge") in kinds


def test_a_result_that_would_not_validate_is_not_written(plan):
    plan.write_text(plan.read_text().replace("leases:\n", "tenants:\n  acme: {groups: [acme]}\n"
                                             "  research: {groups: [research]}\n  initech: {groups: [initech]}\n"
                                             "leases:\n", 1))
    before = plan.read_text()
    result = write(plan, "--site", "aws-use1")
    assert result.exit_code == 1
    assert "would not be valid" in result.stderr and "tenant 'globex' is not defined" in result.stderr
    assert plan.read_text() == before
    assert [p.name for p in plan.parent.iterdir() if p.name.startswith(".")] == []


@pytest.mark.parametrize("args,words", [
    (["--write", "acme"], "already has a lease 'acme'"),
    (["--write", "Bad_Name"], "lease name"),
    (["--option", "2"], "give --write LEASE too"),
])
def test_bad_write_command_lines_exit_2(plan, args, words):
    result = runner.invoke(app, ["fit", str(plan), *DEMAND, *args])
    assert result.exit_code == 2 and words in result.output


def test_write_needs_a_tenant_and_a_price_and_a_file(plan):
    demand = [a for a in DEMAND if a not in ("--tenant", "globex")]
    assert runner.invoke(app, ["fit", str(plan), *demand, "--write", "x"]).exit_code == 2
    result = runner.invoke(app, ["fit", "-", *DEMAND, "--write", "x"], input=plan.read_text())
    assert result.exit_code == 2 and "stdin" in result.output


def test_an_option_past_the_last_exits_1(plan):
    before = plan.read_text()
    result = write(plan, "--site", "dc-1", "--gpus", "56", "--option", "2")
    assert result.exit_code == 1 and "there are 1 options" in result.stderr
    assert plan.read_text() == before


def test_edit_keeps_four_space_indents_sequences_quotes_and_flow_mappings():
    text = ("# top\nmetadata:\n    name: x   # the name\n    labels: {team: 'ml'}\nlinks:\n    -   between: [a, b]\n"
            "leases: {}\n")
    out = edit_text(text, [(("leases", "n"), {"gpus": 8}), (("clusters", "c", "nodes"), 2)])
    assert out == ("# top\nmetadata:\n    name: x   # the name\n    labels: {team: 'ml'}\nlinks:\n    -   between: [a, b]\n"
                   "leases:\n    n:\n        gpus: 8\nclusters:\n    c:\n        nodes: 2\n")


def test_edit_keeps_windows_line_endings():
    text = "# plan\r\nleases:\r\n  a:\r\n    gpus: 8   # eight\r\n"
    out = edit_text(text, [(("leases", "b"), {"gpus": 16})])
    assert out == "# plan\r\nleases:\r\n  a:\r\n    gpus: 8   # eight\r\n  b:\r\n    gpus: 16\r\n"


def test_write_keeps_the_files_windows_line_endings(plan):
    plan.write_bytes(plan.read_bytes().replace(b"\n", b"\r\n"))
    before = plan.read_bytes()
    assert write(plan, "--site", "aws-use1").exit_code == 0
    after = plan.read_bytes()
    assert after.startswith(before) and after.count(b"\n") == after.count(b"\r\n")
    assert after.endswith(b"  globex-jan:\r\n    tenant: globex\r\n    cluster: big\r\n    gpus: 64\r\n"
                          b"    start: 2027-01-01\r\n    end: 2027-02-01\r\n    price_per_gpu_hour: 3.5\r\n"
                          b"    isolation: dedicated-nodes\r\n")


@pytest.mark.parametrize("text,expected", [
    # a comment (and blank line) before the next section stays before it, not above the new entry
    ("leases:\n  a:\n    gpus: 8   # eight\n\n# about tenants\ntenants:\n  x: 1\n",
     "leases:\n  a:\n    gpus: 8   # eight\n  b:\n    gpus: 16\n\n# about tenants\ntenants:\n  x: 1\n"),
    ("leases:\n  a:\n    gpus: 8   # eight\ntenants:\n  x: 1\n",
     "leases:\n  a:\n    gpus: 8   # eight\n  b:\n    gpus: 16\ntenants:\n  x: 1\n"),
    ("leases:\n  a:\n    gpus: 8\n\n# trailing note\n", "leases:\n  a:\n    gpus: 8\n  b:\n    gpus: 16\n\n# trailing note\n"),
])
def test_edit_keeps_comments_with_what_follows(text, expected):
    assert edit_text(text, [(("leases", "b"), {"gpus": 16})]) == expected
