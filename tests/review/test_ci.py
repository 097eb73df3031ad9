"""The GitHub Actions workflow and the pre-commit hook: their structure, and their scripts really run.

The review job's shell script is taken out of the workflow and run on a git repository made here,
with a `capacity` on PATH, so what CI does with added, changed, deleted and invalid plans is tested,
not only how the YAML looks. actionlint checks the whole file when it is installed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
WORKFLOW = ROOT / ".github/workflows/capacity-plans.yml"
HOOKS = ROOT / ".pre-commit-hooks.yaml"
PLANS = Path(__file__).parent / "plans"


@pytest.fixture(scope="module")
def workflow() -> dict:
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as true
    return data


def step(job: dict, name: str) -> dict:
    return next(s for s in job["steps"] if s.get("name") == name)


def test_triggers(workflow):
    assert workflow["on"]["pull_request"]["paths"] == ["stacks/**"]
    assert workflow["on"]["push"] == {"branches": ["main"], "paths": ["stacks/**"]}
    assert set(workflow["on"]) == {"pull_request", "push"}  # never pull_request_target (docs/ci.md says why)
    assert workflow["permissions"] == {"contents": "read"}


def test_review_job_needs_no_secrets(workflow):
    review = workflow["jobs"]["review"]
    assert review["if"] == "github.event_name == 'pull_request'"
    assert review["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert "secrets." not in yaml.safe_dump(review)
    checkout = review["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["persist-credentials"] is False
    post = step(review, "Post or update the comments")
    assert post["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert post["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert step(review, "Fail on invalid plans")["if"] == "steps.review.outputs.invalid == '1'"


def test_deploy_job_one_at_a_time_per_plan(workflow):
    jobs = workflow["jobs"]
    assert jobs["changed"]["if"] == "github.event_name == 'push'"
    deploy = jobs["deploy"]
    assert deploy["needs"] == "changed"
    assert deploy["strategy"]["matrix"]["plan"] == "${{ fromJSON(needs.changed.outputs.plans) }}"
    assert deploy["concurrency"] == {"group": "capacity-up-${{ matrix.plan }}", "cancel-in-progress": False}
    for name in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "AWS_ACCESS_KEY_ID", "ARM_CLIENT_SECRET",
                 "GOOGLE_CREDENTIALS"):
        assert deploy["env"][name] == f"${{{{ secrets.{name} }}}}"
    runs = [s.get("run", "") for s in deploy["steps"]]
    assert 'capacity up "$PLAN" --yes' in runs
    assert runs.index('capacity validate "$PLAN"') < runs.index('capacity up "$PLAN" --yes')


def _actionlint() -> str | None:
    found = shutil.which("actionlint")
    home = Path.home() / "go" / "bin" / "actionlint"
    return found or (str(home) if home.is_file() else None)


@pytest.mark.skipif(_actionlint() is None, reason="actionlint is not installed "
                    "(go install github.com/rhysd/actionlint/cmd/actionlint@v1.7.12)")
def test_actionlint():
    done = subprocess.run([_actionlint(), "-no-color", str(WORKFLOW)], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stdout + done.stderr


# ------------------------------------------------------------------ the scripts, run for real


@pytest.fixture
def capacity_bin(tmp_path: Path) -> Path:
    """A directory with a `capacity` executable holding validate, diff and report."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shim = bin_dir / "capacity"
    shim.write_text(f"#!{sys.executable}\nimport sys\nsys.path[:0] = [{str(ROOT)!r}, {str(Path(__file__).parent)!r}]\n"
                    "from conftest import review_app\nreview_app()(prog_name='capacity')\n")
    shim.chmod(0o755)
    return bin_dir


def _env(bin_dir: Path, tmp_path: Path, **extra: str) -> dict:
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), **extra}


def test_review_script_on_a_pull_request(workflow, repo, git, capacity_bin, tmp_path):
    # base commit: stacks/plan.yaml (from the fixture) and a plan that the pull request deletes
    (repo / "stacks/gone.yaml").write_bytes((PLANS / "base.yaml").read_bytes())
    (repo / "stacks/inventory.csv").write_text("serial\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more plans")
    # the pull request: one plan shrinks, one is new, one is broken, one is deleted, one has an odd name
    (repo / "stacks/plan.yaml").write_bytes((PLANS / "shrink.yaml").read_bytes())
    (repo / "stacks/new.yaml").write_bytes((PLANS / "growth.yaml").read_bytes())
    hostile = (PLANS / "base.yaml").read_text().replace("power_mw: 20", "power_mw: <b>@all")
    (repo / "stacks/bad.yaml").write_text(hostile)
    (repo / "stacks/gone.yaml").unlink()
    (repo / "stacks/odd name.yaml").write_text("x")
    (repo / "stacks/inventory.csv").write_text("serial\nA1\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the pull request")

    script = step(workflow["jobs"]["review"], "Validate and diff the changed plans")["run"]
    done = subprocess.run(["bash", "-c", script], cwd=repo, env=_env(capacity_bin, tmp_path, PR="7"),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::warning::skipping 'stacks/odd name.yaml'" in done.stdout
    assert "::error file=stacks/bad.yaml::" in done.stdout
    assert (tmp_path / "output").read_text() == "invalid=1\n"

    out = repo / ".capacity-review"
    assert sorted(p.name for p in out.iterdir()) == [
        "pr-number", "stacks_bad.yaml.md", "stacks_gone.yaml.md", "stacks_new.yaml.md", "stacks_plan.yaml.md"]
    assert (out / "pr-number").read_text() == "7\n"
    comments = {p.name: p.read_text() for p in out.glob("*.md")}
    for name, body in comments.items():
        plan = "stacks/" + name.removeprefix("stacks_").removesuffix(".md")
        assert body.splitlines()[0] == f"<!-- capacity-diff: {plan} -->"
        assert len(body.encode()) <= 65_536
    changed = comments["stacks_plan.yaml.md"].splitlines()
    assert changed[1].startswith("### Capacity plan `review`: -192 H100 on aws-use1, -16 H100 on dallas-1")
    assert "```mermaid" in comments["stacks_plan.yaml.md"]
    assert comments["stacks_new.yaml.md"].splitlines()[1] == "### New capacity plan `stacks/new.yaml`"
    assert "### Capacity report: `review`" in comments["stacks_new.yaml.md"]
    assert "is deleted" in comments["stacks_gone.yaml.md"] and "capacity destroy" in comments["stacks_gone.yaml.md"]
    bad = comments["stacks_bad.yaml.md"]
    assert "### Capacity plan `stacks/bad.yaml` is not valid" in bad
    assert "stacks/bad.yaml:" in bad and "power_mw" in bad
    assert "<b>" not in bad and "@all" not in bad and "&lt;b&gt;&#64;all" in bad  # plan text made inert
    summary = (tmp_path / "summary").read_text()
    assert all(body in summary for body in comments.values())


@pytest.mark.skipif(shutil.which("jq") is None, reason="jq (on every GitHub runner) is not installed here")
def test_changed_plans_script(workflow, repo, git, tmp_path):
    before = git(repo, "rev-parse", "HEAD").strip()
    (repo / "stacks/plan.yaml").write_text((PLANS / "growth.yaml").read_text())
    (repo / "stacks/other.yaml").write_text((PLANS / "base.yaml").read_text())
    (repo / "stacks/data.csv").write_text("x\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "push")
    script = step(workflow["jobs"]["changed"], "List the plans this push changed")["run"]
    for given, expected in ((before, ["stacks/other.yaml", "stacks/plan.yaml"]),
                            ("0" * 40, ["stacks/other.yaml", "stacks/plan.yaml"])):
        done = subprocess.run(["bash", "-c", script], cwd=repo, capture_output=True, text=True,
                              env={**os.environ, "BEFORE": given, "GITHUB_OUTPUT": str(tmp_path / "out")})
        assert done.returncode == 0, done.stderr
        assert sorted(json.loads((repo / "plans.json").read_text())) == expected
    git(repo, "rm", "-q", "stacks/other.yaml")
    git(repo, "commit", "-q", "-m", "delete one")
    after_delete = git(repo, "rev-parse", "HEAD~1").strip()
    subprocess.run(["bash", "-c", script], cwd=repo, check=True, capture_output=True,
                   env={**os.environ, "BEFORE": after_delete, "GITHUB_OUTPUT": str(tmp_path / "out")})
    assert json.loads((repo / "plans.json").read_text()) == [], "a deleted plan is not deployed"


# ------------------------------------------------------------------ pre-commit


def test_pre_commit_hook_definition():
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["id"] == "capacity-validate" and hook["language"] == "python" and hook["pass_filenames"] is True
    files = re.compile(hook["files"])
    assert files.search("stacks/prod.yaml") and files.search("infra/stacks/prod.yml")
    assert not files.search("stacks/inventory.csv") and not files.search("docs/stacks.md")


def test_pre_commit_hook_runs_validate_on_each_file(capacity_bin, tmp_path):
    (hook,) = yaml.safe_load(HOOKS.read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text((PLANS / "base.yaml").read_text().replace("nodes: 32", "nodes: 0"))
    good = PLANS / "base.yaml"
    env = _env(capacity_bin, tmp_path)
    # pre-commit runs the entry split like a shell would, with the staged file names appended
    done = subprocess.run([*shlex.split(hook["entry"]), str(good), str(bad)], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert f"{good}: valid." in done.stdout and "clusters.train-a.nodes: must be more than 0" in done.stdout
    done = subprocess.run([*shlex.split(hook["entry"]), str(good), str(good)], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.count("valid.") == 2
