"""CLI habits: --version, -h, shell completion, `-` for stdin, stdout against stderr, NO_COLOR, and
a catalog that fits 80 columns."""

from __future__ import annotations

import json
import os
import pty
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from capacity.cli.main import app

ROOT = Path(__file__).parents[3]
QUICKSTART = ROOT / "stacks/quickstart.yaml"
INVENTORY = ROOT / "stacks/inventory/quickstart-inventory.csv"
BROKEN = QUICKSTART.read_text().replace("nodes: 8", "nodes: -8")
# The console script, as a subprocess: `capacity ARGS...`
SCRIPT = "import sys; sys.argv[0] = 'capacity'; from capacity.cli.main import run; run()"
# The same, reporting on stderr which pulumi modules were imported by the time it exits.
WATCHED = ("import atexit, sys\n"
           "atexit.register(lambda: sys.stderr.write('\\nMODULES=' + ','.join(sorted(\n"
           "    m for m in sys.modules if m.split('.')[0].startswith('pulumi')))))\n" + SCRIPT)
runner = CliRunner()


def broken_line() -> int:
    return next(n for n, line in enumerate(BROKEN.splitlines(), 1) if "nodes: -8" in line)


def capacity(*args: str, env: dict | None = None, code: str = SCRIPT, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120, **kwargs)


# --- --version, -h ------------------------------------------------------------------------------


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.stdout == (f"capacity {metadata.version('capacity')} (Pulumi SDK {metadata.version('pulumi')}, "
                             f"Pulumi CLI {_pinned_cli()})\n")


def _pinned_cli() -> str:
    from capacity.engine.pulumi_cli import PULUMI_CLI_VERSION

    return PULUMI_CLI_VERSION


def test_dash_h_is_help_everywhere():
    group = typer.main.get_command(app)
    paths = [[]] + [[name] for name in group.commands] + [
        [name, sub] for name, command in group.commands.items() for sub in getattr(command, "commands", {})]
    assert len(paths) > 15
    for path in paths:
        short, long = runner.invoke(app, [*path, "-h"]), runner.invoke(app, [*path, "--help"])
        assert short.exit_code == long.exit_code == 0, path
        assert short.stdout == long.stdout and "Usage: capacity" in short.stdout, path


# --- shell completion ---------------------------------------------------------------------------


def test_show_completion_prints_the_script():
    result = capacity("--show-completion", "bash")
    assert result.returncode == 0, result.stderr
    assert "_CAPACITY_COMPLETE=complete_bash" in result.stdout and "complete -o default -F" in result.stdout


@pytest.mark.parametrize("words,cword,expected", [
    ("capacity val", 1, {"validate"}),
    ("capacity inventory i", 2, {"import"}),
    ("capacity catalog --format ", 3, {"text", "json"}),
    ("capacity up stacks/quickstart.yaml --all", 3, {"--allow-destroy"}),
])
def test_completion_answers_without_importing_pulumi(words, cword, expected):
    result = capacity(code=WATCHED, env={"_CAPACITY_COMPLETE": "complete_bash", "COMP_WORDS": words,
                                         "COMP_CWORD": str(cword)})
    assert result.returncode == 0, result.stderr
    assert set(result.stdout.split()) == expected
    assert result.stderr.strip().splitlines()[-1] == "MODULES="


def test_install_completion_writes_the_users_shell_files(tmp_path):
    result = capacity("--install-completion", "bash", env={"HOME": str(tmp_path), "SHELL": "/bin/bash"})
    assert result.returncode == 0, result.stderr
    script = tmp_path / ".bash_completions/capacity.sh"
    assert "_CAPACITY_COMPLETE=complete_bash" in script.read_text()
    assert str(script) in (tmp_path / ".bashrc").read_text()


# --- `-`: a plan from stdin ---------------------------------------------------------------------


def test_validate_reads_stdin():
    result = runner.invoke(app, ["validate", "-"], input=QUICKSTART.read_text())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("<stdin>: valid.")


def test_errors_in_a_plan_from_stdin_name_stdin_line_and_column():
    result = runner.invoke(app, ["validate", "-"], input=BROKEN)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"<stdin>:{broken_line()}:12: clusters.train.nodes: must be more than 0" in result.stderr


def test_stdin_that_is_not_yaml_is_a_clear_error():
    result = runner.invoke(app, ["validate", "-"], input="sites: [\n")
    assert result.exit_code == 1
    assert re.search(r"^<stdin>:2:1: \(plan\): is not valid YAML", result.stderr, re.M), result.stderr


def test_diff_reads_either_side_from_stdin():
    result = runner.invoke(app, ["diff", str(QUICKSTART), "-", "--format", "json"],
                           input=QUICKSTART.read_text().replace("nodes: 8", "nodes: 10"))
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["plans"]["head"]["source"] == "<stdin>" and out["gpus"]["delta"] == 16
    result = runner.invoke(app, ["diff", "-", str(QUICKSTART)], input=BROKEN)
    assert result.exit_code == 1 and result.stderr.startswith("BASE <stdin> is not a valid plan:\n")


def test_report_and_resources_read_stdin():
    report = runner.invoke(app, ["report", "-", "--format", "json"], input=QUICKSTART.read_text())
    assert report.exit_code == 0, report.output
    assert json.loads(report.stdout)["source"] == "<stdin>"
    resources = runner.invoke(app, ["resources", "-", "--format", "json"], input=QUICKSTART.read_text())
    assert resources.exit_code == 0, resources.output
    assert json.loads(resources.stdout)["plan"] == "quickstart"


def test_engine_commands_refuse_a_bad_plan_from_stdin_before_any_state(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path / "state"))
    for command in (["up", "-", "--yes"], ["preview", "-"], ["refresh", "-"], ["destroy", "-", "--yes"],
                    ["status", "-"]):
        result = runner.invoke(app, command, input=BROKEN)
        assert result.exit_code == 1, command
        assert f"<stdin>:{broken_line()}:12:" in result.stderr and result.stdout == "", command
    assert not (tmp_path / "state").exists()


def test_inventory_import_checks_against_a_plan_from_stdin(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path))
    result = runner.invoke(app, ["inventory", "import", str(INVENTORY), "--site", "lab-1", "--plan", "-"],
                           input=QUICKSTART.read_text())
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("site lab-1: 12 nodes added")


@pytest.mark.parametrize("command", [["up", "PLAN", "--yes", "--on"], ["preview", "PLAN", "--on"],
                                     ["refresh", "PLAN", "--on"],
                                     ["resources", "PLAN", "--on"], ["diff", "PLAN", "PLAN", "--as-of"],
                                     ["report", "PLAN", "--from"], ["report", "PLAN", "--to"],
                                     ["available", "PLAN", "--from"], ["available", "PLAN", "--to"],
                                     ["calendar", "PLAN", "--from"], ["calendar", "PLAN", "--to"],
                                     ["fit", "PLAN", "--gpus", "8", "--end", "2027-03-01", "--start"],
                                     ["fit", "PLAN", "--gpus", "8", "--start", "2027-02-01", "--end"],
                                     ["fit", "PLAN", "--gpus", "8", "--start", "2027-02-01", "--end", "2027-03-01",
                                      "--as-of"]])
@pytest.mark.parametrize("day,words", [("2027-02-30", "2027-02-30 is not a real calendar date"),
                                       ("2027-2-3", "'2027-2-3' is not a date; write YYYY-MM-DD")])
def test_every_day_option_reads_days_as_plans_do(command, day, words, tmp_path, monkeypatch):
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path / "state"))
    result = runner.invoke(app, [str(QUICKSTART) if a == "PLAN" else a for a in command] + [day])
    assert result.exit_code == 2, result.output
    assert words in " ".join(result.stderr.split())  # the usage box may wrap it
    assert not (tmp_path / "state").exists()


@pytest.mark.parametrize("args", [["diff", "-", "-"], ["validate", "-", "--catalog", "-"]])
def test_stdin_holds_one_file(args):
    result = runner.invoke(app, args, input=QUICKSTART.read_text())
    assert result.exit_code == 2
    assert "standard input holds one file" in result.stderr


# --- stdout against stderr ----------------------------------------------------------------------


@pytest.mark.parametrize("args", [["validate", "PLAN"], ["resources", "PLAN"], ["diff", "PLAN", "PLAN"],
                                  ["report", "PLAN"], ["catalog", "--catalog", "PLAN"]])
def test_errors_go_to_stderr_and_nothing_to_stdout(args, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("- a list\n")
    result = runner.invoke(app, [str(bad) if a == "PLAN" else a for a in args])
    assert result.exit_code == 1
    assert result.stdout == ""
    assert f"{bad}:1:1: " in result.stderr and "must be a mapping" in result.stderr


@pytest.mark.parametrize("args", [["validate", "PLAN"], ["diff", str(QUICKSTART), "PLAN"], ["resources", "PLAN"]])
def test_json_output_stays_clean_json(args):
    valid = runner.invoke(app, [str(QUICKSTART) if a == "PLAN" else a for a in args] + ["--format", "json"])
    assert valid.exit_code == 0, valid.output
    json.loads(valid.stdout)
    invalid = runner.invoke(app, ["-" if a == "PLAN" else a for a in args] + ["--format", "json"], input=BROKEN)
    assert invalid.exit_code == 1
    out = json.loads(invalid.stdout)
    assert out["valid"] is False and invalid.stderr == ""
    if args[0] == "diff":
        assert {error["source"] for error in out["errors"]} == {"<stdin>"}


def test_schema_format_json_is_the_schema():
    plain, as_json = runner.invoke(app, ["schema"]), runner.invoke(app, ["schema", "--format", "json"])
    assert plain.exit_code == as_json.exit_code == 0
    assert as_json.stdout == plain.stdout and json.loads(as_json.stdout)["title"]
    assert runner.invoke(app, ["schema", "--format", "text"]).exit_code == 2


# --- NO_COLOR, on a terminal --------------------------------------------------------------------


def on_a_terminal(*args: str, env: dict) -> str:
    """Run `capacity ARGS` with stdin, stdout and stderr on a pseudo-terminal; what it printed."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([sys.executable, "-c", SCRIPT, *args], cwd=ROOT, stdin=follower, stdout=follower,
                               stderr=follower, env={**os.environ, "TERM": "xterm-256color", "COLUMNS": "80", **env})
    os.close(follower)
    chunks = []
    try:
        while True:
            try:
                data = os.read(leader, 65536)
            except OSError:  # the terminal closes with the process
                break
            if not data:
                break
            chunks.append(data)
    finally:
        os.close(leader)
        process.wait(timeout=60)
    assert process.returncode == 0, b"".join(chunks)
    return b"".join(chunks).decode()


@pytest.mark.parametrize("args,shown", [(["catalog"], "hgx-h100"), (["inventory", "list"], "hgx-h100"),
                                        (["--install-completion", "bash"], "bash completion installed")])
def test_no_color_means_no_escape_codes_on_a_terminal(args, shown, tmp_path):
    env = {"CAPACITY_STATE_DIR": str(tmp_path), "HOME": str(tmp_path)}
    assert runner.invoke(app, ["inventory", "import", str(INVENTORY), "--site", "lab-1"], env=env).exit_code == 0
    styled = on_a_terminal(*args, env={**env, "NO_COLOR": ""})
    assert "\x1b[" in styled  # the check below can fail: without NO_COLOR there are escape codes
    plain = on_a_terminal(*args, env={**env, "NO_COLOR": "1"})
    assert "\x1b" not in plain and shown in plain
    if args == ["catalog"]:  # on a terminal too, the catalog fits 80 columns
        assert max(len(line) for line in plain.splitlines()) <= 80 and "Standard_ND128isr_NDR_GB200_v6" in plain


def test_no_color_makes_engine_progress_plain(monkeypatch):
    from capacity.cli.progress import choose_mode

    class Terminal:
        def isatty(self) -> bool:
            return True

    monkeypatch.delenv("NO_COLOR", raising=False)
    assert choose_mode("text", Terminal()) == "tty"
    monkeypatch.setenv("NO_COLOR", "1")
    assert choose_mode("text", Terminal()) == "plain"


# --- catalog: 80 columns, regions ---------------------------------------------------------------


def catalog_json(*args: str) -> list[dict]:
    result = runner.invoke(app, ["catalog", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.mark.parametrize("args", [[], ["--wide"], ["--provider", "azure", "--wide"]])
def test_catalog_fits_80_columns_with_whole_instance_types(args):
    result = runner.invoke(app, ["catalog", *args])
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    entries = catalog_json(*args[:2] if args[:1] == ["--provider"] else [])
    rows = [line.split() for line in lines if line and not line.startswith(" ")]
    for entry in entries:
        assert [entry["provider"], entry["instance_type"]] in [row[:2] for row in rows], entry["instance_type"]


def test_catalog_wide_lists_every_region():
    lines = runner.invoke(app, ["catalog", "--provider", "aws", "--wide"]).stdout.splitlines()
    p5 = next(e for e in catalog_json("--provider", "aws") if e["instance_type"] == "p5.48xlarge")
    start = next(i for i, line in enumerate(lines) if line.split()[1:2] == ["p5.48xlarge"])
    under = []
    for line in lines[start + 1:]:
        if not line.startswith(" "):
            break
        under += line.split()
    assert under == p5["regions"]


def test_catalog_region_filter():
    entries = catalog_json("--region", "eastus")
    assert entries and all("eastus" in e["regions"] and e["provider"] == "azure" for e in entries)
    every = catalog_json("--provider", "azure")
    assert len(entries) == sum("eastus" in e["regions"] for e in every)
    text = runner.invoke(app, ["catalog", "--region", "eastus"]).stdout
    assert all(e["instance_type"] in text for e in entries)


def test_catalog_unknown_region_is_a_command_line_error():
    result = runner.invoke(app, ["catalog", "--region", "us-east1", "--provider", "aws"])
    assert result.exit_code == 2
    assert "unknown region 'us-east1'. Did you mean 'us-east-1'?" in result.stderr
    owned = runner.invoke(app, ["catalog", "--region", "us-east-1", "--provider", "owned"])
    assert owned.exit_code == 2 and "owned has no regions" in owned.stderr


def test_catalog_given_as_a_list_is_named_a_catalog(tmp_path):
    listed = tmp_path / "catalog.yaml"
    listed.write_text("- {provider: aws, instance_type: x}\n")
    for args in (["catalog", "--catalog", str(listed)], ["validate", str(QUICKSTART), "--catalog", str(listed)]):
        result = runner.invoke(app, args)
        assert result.exit_code == 1
        assert (f"{listed}:1:1: (catalog): must be a mapping (as_of, sources, regions, instance_types), found a list."
                in result.stderr), args
        assert "(plan)" not in result.stderr


def test_every_line_said_to_a_person_is_inert(capsys):
    """Messages quote plans, states and the engine: none of it may drive the terminal."""
    from capacity.cli.output import say

    say("error: lease 'x\x1b[2J' on\rcluster \u202eevil\nTo fix: keep\ttabs out")
    said = capsys.readouterr().err
    assert said == "error: lease 'x\\x1b[2J' on\\x0dcluster \\u202eevil\nTo fix: keep\\x09tabs out\n"
