"""diff and report as a user runs them: help, bad BASE or HEAD, bad options, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

PLANS = "tests/unit/review/plans"
ROOT = Path(__file__).parents[3]


@pytest.fixture
def broken(tmp_path: Path) -> Path:
    """A plan with two problems: an unknown key and a lease on a missing cluster."""
    text = (ROOT / PLANS / "base.yaml").read_text()
    text = text.replace("    nodes: 16\n", "    nodse: 16\n", 1)
    text = text.replace("cluster: infer-d\n    gpus: 96", "cluster: infer-x\n    gpus: 96")
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("command", ["diff", "report"])
def test_help(cli, command):
    result = cli(command, "--help")
    assert result.exit_code == 0
    assert "REF:PATH" in result.output and "--format" in result.output


def test_invalid_head_shows_heads_errors_and_exits_1(cli, broken):
    result = cli("diff", f"{PLANS}/base.yaml", broken)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"HEAD {broken} is not a valid plan:\n")
    assert f"{broken}:" in result.stderr and "unknown key 'nodse'. Did you mean 'nodes'?" in result.stderr
    assert "cluster 'infer-x' is not defined in `clusters`" in result.stderr
    assert "BASE" not in result.stderr and "Traceback" not in result.output


def test_invalid_base_shows_bases_errors(cli, broken):
    result = cli("diff", broken, f"{PLANS}/base.yaml")
    assert result.exit_code == 1
    assert result.stderr.startswith(f"BASE {broken} is not a valid plan:\n") and "HEAD" not in result.stderr


def test_both_invalid_shows_both(cli, broken, tmp_path):
    empty = tmp_path / "empty.yaml"
    empty.write_text("")
    result = cli("diff", broken, empty)
    assert result.exit_code == 1
    assert f"BASE {broken} is not a valid plan:" in result.stderr
    assert f"HEAD {empty} is not a valid plan:" in result.stderr and "is empty" in result.stderr


def test_invalid_side_as_json(cli, broken):
    result = cli("diff", f"{PLANS}/base.yaml", broken, "--format", "json")
    assert result.exit_code == 1
    out = json.loads(result.stdout)
    assert out["valid"] is False
    assert {e["side"] for e in out["errors"]} == {"head"}
    assert all({"path", "line", "column", "message", "source"} <= set(e) for e in out["errors"])
    assert any(e["path"] == "clusters.train-z.nodse" for e in out["errors"])


def test_missing_file(cli):
    result = cli("diff", f"{PLANS}/base.yaml", f"{PLANS}/nope.yaml")
    assert result.exit_code == 1
    assert "nope.yaml:1:1: (plan): no such file." in result.stderr


def test_bad_catalog_file_is_reported(cli, tmp_path):
    catalog = tmp_path / "catalog.yaml"
    catalog.write_text("instance_types: 7\n")
    result = cli("diff", f"{PLANS}/base.yaml", f"{PLANS}/base.yaml", "--catalog", catalog)
    assert result.exit_code == 1
    assert result.stderr.startswith(f"CATALOG {catalog} is not a valid catalog:\n")


@pytest.mark.parametrize("args", [
    ["--as-of", "15/11/2026"],
    ["--as-of", "2026-02-30"],
    ["--format", "yaml"],
])
def test_bad_options_are_usage_errors(cli, args):
    result = cli("diff", f"{PLANS}/base.yaml", f"{PLANS}/base.yaml", *args)
    assert result.exit_code == 2


def test_missing_argument_is_a_usage_error(cli):
    assert cli("diff", f"{PLANS}/base.yaml").exit_code == 2


def test_report_of_an_invalid_plan(cli, broken):
    result = cli("report", broken, "--format", "json")
    assert result.exit_code == 1
    assert {e["side"] for e in json.loads(result.stdout)["errors"]} == {"plan"}


def test_report_output_to_an_unwritable_place(cli, tmp_path):
    result = cli("report", f"{PLANS}/base.yaml", "--output", tmp_path / "no" / "such" / "dir" / "r.html", "-f", "html")
    assert result.exit_code == 1
    assert "cannot write" in result.output


def test_diff_and_report_never_import_a_cloud_sdk():
    code = ("import sys\nfrom typer.testing import CliRunner\n"
            "sys.path.insert(0, 'tests/unit/review')\nfrom conftest import review_app\n"
            "app = review_app()\n"
            f"r = CliRunner().invoke(app, ['diff', '{PLANS}/base.yaml', '{PLANS}/no-site.yaml', '-f', 'markdown'])\n"
            "assert r.exit_code == 0, r.output\n"
            f"r = CliRunner().invoke(app, ['report', '{PLANS}/base.yaml', '-f', 'html'])\n"
            "assert r.exit_code == 0, r.output\n"
            "print(sorted(m for m in sys.modules if m == 'pulumi' or m.startswith(('pulumi.', 'pulumi_'))))\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
