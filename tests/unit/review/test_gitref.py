"""BASE and HEAD as REF:PATH, read from a real git repository made in a temporary directory."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from capacity.plan import gitref
from capacity.errors import PlanError
from capacity.plan.gitref import SourceError, load_source

PLANS = Path(__file__).parent / "plans"


def test_diff_of_a_committed_plan_against_the_working_copy(cli, repo):
    (repo / "stacks/plan.yaml").write_bytes((PLANS / "shrink.yaml").read_bytes())
    result = cli("diff", "HEAD:stacks/plan.yaml", "stacks/plan.yaml", "--format", "json", "--as-of", "2026-11-15",
                 cwd=repo)
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["plans"]["base"]["source"] == "HEAD:stacks/plan.yaml"
    assert out["gpus"]["delta"] == -208
    assert ("medium", "capacity-shrunk", "train-a") in {(r["level"], r["kind"], r["name"]) for r in out["risks"]}


def test_both_sides_from_branches(cli, repo, git):
    git(repo, "checkout", "-q", "-b", "grow")
    (repo / "stacks/plan.yaml").write_bytes((PLANS / "growth.yaml").read_bytes())
    git(repo, "commit", "-q", "-am", "grow")
    (repo / "stacks/plan.yaml").write_text("not: [a plan")  # the working copy is not read
    result = cli("diff", "main:stacks/plan.yaml", "grow:stacks/plan.yaml", "--format", "markdown",
                 "--as-of", "2026-11-15", cwd=repo)
    assert result.exit_code == 0, result.output
    assert "+512 H100 on aws-use1" in result.stdout.splitlines()[1]


def test_report_reads_a_ref_too(cli, repo):
    result = cli("report", "HEAD:stacks/plan.yaml", "--format", "json", cwd=repo)
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["gpus"] == 576


def test_missing_ref_says_so(cli, repo):
    result = cli("diff", "origin/main:stacks/plan.yaml", "stacks/plan.yaml", cwd=repo)
    assert result.exit_code == 1
    assert "BASE origin/main:stacks/plan.yaml: git ref 'origin/main' does not exist in this repository" in result.stderr
    assert "git fetch origin main" in result.stderr


def test_a_hostile_ref_is_never_echoed_as_a_command(cli, repo):
    result = cli("diff", "--", "--upload-pack=touch pwned:stacks/plan.yaml", "stacks/plan.yaml", cwd=repo)
    assert result.exit_code == 1
    assert "git fetch origin --upload-pack" not in result.stderr and "fetch origin, then" in result.stderr
    assert not (repo / "pwned").exists()
    assert "Traceback" not in result.output


def test_missing_path_says_so(cli, repo):
    result = cli("diff", "stacks/plan.yaml", "HEAD:stacks/prod.yaml", cwd=repo)
    assert result.exit_code == 1
    assert "HEAD HEAD:stacks/prod.yaml: there is no file 'stacks/prod.yaml' at HEAD" in result.stderr


def test_a_directory_is_not_a_plan(repo):
    with pytest.raises(SourceError, match="'stacks' at HEAD is a directory"):
        load_source("HEAD:stacks", cwd=repo)


def test_invalid_plan_at_a_ref_names_ref_and_path(cli, repo, git):
    text = (PLANS / "base.yaml").read_text().replace("nodes: 32", "nodes: -1")
    (repo / "stacks/plan.yaml").write_text(text)
    git(repo, "commit", "-q", "-am", "break it")
    result = cli("diff", "HEAD~1:stacks/plan.yaml", "HEAD:stacks/plan.yaml", cwd=repo)
    assert result.exit_code == 1
    assert "HEAD HEAD:stacks/plan.yaml is not a valid plan:" in result.stderr
    line = next(n for n, text_line in enumerate(text.splitlines(), 1) if "nodes: -1" in text_line)
    assert f"HEAD:stacks/plan.yaml:{line}:12: clusters.train-a.nodes: must be more than 0" in result.stderr
    assert "BASE" not in result.stderr


def test_size_is_checked_before_reading(repo, monkeypatch):
    monkeypatch.setattr(gitref, "MAX_BYTES", 100)
    with pytest.raises(SourceError, match="larger than"):
        load_source("HEAD:stacks/plan.yaml", cwd=repo)


def test_outside_a_repository(tmp_path):
    with pytest.raises(SourceError, match="not inside a git repository"):
        load_source("main:stacks/plan.yaml", cwd=tmp_path)


def test_no_shell_ever_sees_the_ref(repo):
    """Shell syntax in a ref is just a name that does not exist."""
    with pytest.raises(SourceError, match="does not exist"):
        load_source("HEAD;touch pwned:stacks/plan.yaml", cwd=repo)
    with pytest.raises(SourceError, match="does not exist"):
        load_source("$(touch pwned):stacks/plan.yaml", cwd=repo)
    with pytest.raises(SourceError, match="control characters"):
        load_source("HEAD\nHEAD:stacks/plan.yaml", cwd=repo)
    assert not (repo / "pwned").exists()


def test_an_existing_file_wins_over_ref_syntax(tmp_path):
    odd = tmp_path / "HEAD:plan.yaml"
    odd.write_bytes((PLANS / "base.yaml").read_bytes())
    assert load_source(str(odd)).total_gpus == 576


def test_bytes_from_git_go_through_the_safe_reader(repo, git):
    (repo / "stacks/plan.yaml").write_text("a: !!python/object/apply:os.system ['touch pwned']\n")
    git(repo, "commit", "-q", "-am", "hostile")
    with pytest.raises(PlanError) as caught:
        load_source("HEAD:stacks/plan.yaml", cwd=repo)
    assert "tags are not allowed" in str(caught.value)
    assert str(caught.value).startswith("HEAD:stacks/plan.yaml:1:")
    assert not (repo / "pwned").exists()
