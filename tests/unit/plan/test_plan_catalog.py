"""A plan's own catalog (`metadata.catalog`): read beside the plan, or at the same git ref, under
--catalog, and never from outside the repository."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.errors import PlanError
from capacity.plan.loading import load_plan
from capacity.cli.main import app

ROOT = Path(__file__).parents[3]
runner = CliRunner()

BOX = ("instance_types:\n"
       "  - {{provider: owned, instance_type: my-box, accelerator: H100, gpus: {gpus}, gpu_memory_gb: 80,\n"
       "     kw_per_node: 5.0}}\n")


def plan_text(catalog: str | None = "gpus.yaml") -> str:
    """The quickstart on hardware only a custom catalog knows (my-box), naming `catalog`."""
    text = (ROOT / "stacks/quickstart.yaml").read_text().replace("instance_type: hgx-h100", "instance_type: my-box")
    text = text.replace("    inventory: inventory/quickstart-inventory.csv\n", "")
    if catalog is None:
        return text
    return text.replace("  owner: platform@example.com\n", f"  owner: platform@example.com\n  catalog: {catalog}\n")


@pytest.fixture
def repo(tmp_path: Path, git) -> Path:
    """tmp/repo (a git repository) with stacks/plan.yaml naming stacks/gpus.yaml (my-box: 4 GPUs)."""
    repo = tmp_path / "repo"
    (repo / "stacks").mkdir(parents=True)
    (repo / "stacks/plan.yaml").write_text(plan_text())
    (repo / "stacks/gpus.yaml").write_text(BOX.format(gpus=4))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "plan and its catalog")
    return repo


def validate(*args: str):
    result = runner.invoke(app, ["validate", *map(str, args), "--format", "json"])
    assert "Traceback" not in result.output
    return result.exit_code, json.loads(result.stdout)


def test_a_plan_uses_the_catalog_it_names(repo):
    code, out = validate(repo / "stacks/plan.yaml")
    assert code == 0, out
    assert out["summary"]["gpus"] == 8 * 4
    loaded = load_plan(repo / "stacks/plan.yaml")
    assert loaded.catalog.lookup("owned", "my-box").gpus == 4
    assert loaded.catalog.lookup("aws", "p5.48xlarge") is not None  # the shipped catalog is still beneath
    (repo / "stacks/plan.yaml").write_text(plan_text(catalog=None))
    code, out = validate(repo / "stacks/plan.yaml")
    assert code == 1 and "'my-box' is not in the catalog" in out["errors"][0]["message"]


def test_the_command_line_catalog_goes_over_the_plans(repo, tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text(BOX.format(gpus=8))
    code, out = validate(repo / "stacks/plan.yaml", "--catalog", extra)
    assert code == 0 and out["summary"]["gpus"] == 8 * 8  # --catalog's my-box replaces the plan's
    other = tmp_path / "other.yaml"
    other.write_text(BOX.format(gpus=2).replace("my-box", "other-box"))
    loaded = load_plan(repo / "stacks/plan.yaml", other)
    assert loaded.catalog.lookup("owned", "my-box").gpus == 4 and loaded.catalog.lookup("owned", "other-box").gpus == 2
    assert [layer.file for layer in loaded.catalog.layers] == [str(repo / "stacks/gpus.yaml"), str(other)]


def test_a_missing_or_broken_catalog_is_reported_at_its_line(repo):
    plan = repo / "stacks/plan.yaml"
    plan.write_text(plan_text("nope.yaml"))
    result = runner.invoke(app, ["validate", str(plan)])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"{plan}:8:12: metadata.catalog: there is no file 'nope.yaml' beside the plan" in result.output
    assert "To fix:" in result.output
    plan.write_text(plan_text())
    (repo / "stacks/gpus.yaml").write_text("instance_types:\n  - {provider: owned, instance_type: x, gpus: eight}\n")
    result = runner.invoke(app, ["validate", str(plan)])
    assert result.exit_code == 1 and f"{repo}/stacks/gpus.yaml:2:" in result.output


@pytest.mark.parametrize(("catalog", "message"), [
    ("/etc/passwd", "'/etc/passwd' is an absolute path"),
    ("../../outside.yaml", "is outside the repository"),
    ("link.yaml", "is outside the repository"),  # a symlink out of it
    ("fifo.yaml", "is not a regular file"),  # never blocks on a pipe
    ("https://example.com/c.yaml", "uses only letters, digits"),
    ("..", "is a directory"),  # the repository's top: inside, but no file
    ("../..", "is outside the repository"),
])
def test_a_plan_reads_no_file_outside_the_repository(repo, tmp_path, catalog, message):
    (tmp_path / "outside.yaml").write_text(BOX.format(gpus=4))
    (repo / "stacks/link.yaml").symlink_to(tmp_path / "outside.yaml")
    os.mkfifo(repo / "stacks/fifo.yaml")
    (repo / "stacks/plan.yaml").write_text(plan_text(catalog))
    code, out = validate(repo / "stacks/plan.yaml")
    assert code == 1
    assert any(e["path"] == "metadata.catalog" or e["line"] == 1 for e in out["errors"])
    assert message in " ".join(e["message"] for e in out["errors"])


def test_inside_the_repository_above_the_plan_is_fine(repo):
    (repo / "catalogs").mkdir()
    (repo / "stacks/gpus.yaml").rename(repo / "catalogs/gpus.yaml")
    (repo / "stacks/plan.yaml").write_text(plan_text("../catalogs/gpus.yaml"))
    assert validate(repo / "stacks/plan.yaml")[0] == 0


def test_outside_a_repository_only_the_plans_directory(tmp_path):
    (tmp_path / "plans").mkdir()
    (tmp_path / "gpus.yaml").write_text(BOX.format(gpus=4))
    (tmp_path / "plans/plan.yaml").write_text(plan_text("../gpus.yaml"))
    code, out = validate(tmp_path / "plans/plan.yaml")
    assert code == 1 and "outside the plan's directory (not in a git repository)" in out["errors"][0]["message"]


def test_diff_reads_each_sides_catalog_from_its_own_ref(repo, monkeypatch):
    monkeypatch.chdir(repo)
    (repo / "stacks/gpus.yaml").write_text(BOX.format(gpus=8))  # the working tree's catalog changes
    result = runner.invoke(app, ["diff", "main:stacks/plan.yaml", "stacks/plan.yaml", "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["gpus"] == {"base": 32, "head": 64, "delta": 32}


def test_a_ref_cannot_climb_out_of_the_repository(repo, git, monkeypatch):
    monkeypatch.chdir(repo)
    (repo / "stacks/plan.yaml").write_text(plan_text("../../../etc/passwd"))
    (repo / "stacks/other.yaml").write_text(plan_text("missing.yaml"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "hostile")
    result = runner.invoke(app, ["diff", "main:stacks/plan.yaml", "main:stacks/other.yaml"])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "main:stacks/plan.yaml:8:12: metadata.catalog: '../../../etc/passwd' is outside the repository" in result.output
    assert "main:stacks/other.yaml:8:12: metadata.catalog: main:stacks/missing.yaml: there is no file" in result.output


def test_report_uses_it_and_the_api_names_the_plan_as_shown(repo):
    result = runner.invoke(app, ["report", str(repo / "stacks/plan.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
    (repo / "stacks/gpus.yaml").unlink()
    with pytest.raises(PlanError, match=r"x/plan.yaml:8:12: metadata.catalog: .*\(looked for x/gpus.yaml\)"):
        load_plan(repo / "stacks/plan.yaml", shown_as="x/plan.yaml")
