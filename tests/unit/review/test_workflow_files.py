"""The GitHub Actions workflows' structure: triggers, jobs, pins, no jq, and actionlint on them and on
the docs' companion workflow. actionlint is built once into the per-user cache with `go install`;
without a Go toolchain (or actionlint on PATH) that test skips, except under CI=true, where it fails.
Their scripts, run for real: test_ci.py.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from capacity.engine.pulumi_cli import cache_root
from tests.unit.review.conftest import NEWEST, ROOT, WORKFLOW, read_workflow, runs_of, step

DOCS = ROOT / "docs/ci.md"
JQ = re.compile(r"(?<![-\w])jq\b")  # the jq program, not `gh api --jq`
ACTIONLINT = "github.com/rhysd/actionlint/cmd/actionlint"
ACTIONLINT_VERSION = "v1.7.12"
PINNED = re.compile(r"[\w.-]+/[\w./-]+@[0-9a-f]{40} # v\d+(\.\d+)*\b.*")  # owner/repo@SHA # vX.Y.Z



def test_triggers(workflow):
    assert workflow["on"]["pull_request"]["paths"] == ["stacks/**"]
    assert workflow["on"]["push"] == {"branches": ["main"], "paths": ["stacks/**"]}
    assert workflow["on"]["schedule"] == [{"cron": "17 5 * * *"}]  # daily: leases start and end on their dates
    assert set(workflow["on"]) == {"pull_request", "push", "schedule"}  # never pull_request_target (docs/ci.md)
    assert workflow["permissions"] == {"contents": "read"}


def test_review_job_needs_no_secrets_and_installs_the_light_core(workflow):
    review = workflow["jobs"]["review"]
    assert review["if"] == "github.event_name == 'pull_request'"
    assert review["permissions"] == {"contents": "read", "pull-requests": "write"}
    assert review["concurrency"] == {"group": "capacity-review-${{ github.event.pull_request.number || github.ref }}",
                                     "cancel-in-progress": True}
    assert "secrets." not in yaml.safe_dump(review)
    checkout = review["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@") and checkout["with"]["persist-credentials"] is False
    installs = [run for run in runs_of(review) if "pip install" in run]
    assert installs == ["python -m pip install --quiet -c constraints.txt ."]  # no extras: no cloud SDK
    post = step(review, "Post or update the comments")
    assert post["if"] == "github.event.pull_request.head.repo.full_name == github.repository"
    assert post["env"]["GH_TOKEN"] == "${{ github.token }}"
    assert step(review, "Fail on invalid plans")["if"] == "steps.review.outputs.invalid == '1'"


def test_deploy_job_one_at_a_time_per_plan_behind_an_environment(workflow):
    jobs = workflow["jobs"]
    assert jobs["changed"]["if"] == "github.event_name != 'pull_request'"  # pushes and the schedule
    deploy = jobs["deploy"]
    assert deploy["needs"] == "changed" and deploy["environment"] == "production"
    assert deploy["strategy"]["matrix"]["plan"] == "${{ fromJSON(needs.changed.outputs.plans) }}"
    assert deploy["concurrency"] == {"group": "capacity-up-${{ matrix.plan }}", "cancel-in-progress": False}
    assert deploy["env"] == {"PLAN": "${{ matrix.plan }}"}
    up = next(s for s in deploy["steps"] if s.get("run") == 'capacity up "$PLAN" --yes')
    for name in ("PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE", "CAPACITY_INVENTORY_URL", "AWS_ACCESS_KEY_ID",
                 "ARM_CLIENT_SECRET", "GOOGLE_CREDENTIALS", "OCI_PRIVATE_KEY"):
        assert up["env"][name] == f"${{{{ secrets.{name} }}}}"
    check = next(s for s in deploy["steps"] if s.get("run") == 'python -m capacity.review.ci deploy-check "$PLAN"')
    assert set(check["env"]) == {"PULUMI_BACKEND_URL", "CAPACITY_INVENTORY_URL"}
    runs = runs_of(deploy)
    assert runs.index('capacity validate "$PLAN"') < runs.index(check["run"]) < runs.index(up["run"])
    assert "python -m pip install --quiet -c constraints.txt '.[all]'" in runs
    # a secret only in the steps that need it: never while pip or the engine set-up runs
    for s in deploy["steps"]:
        if "secrets." in yaml.safe_dump(s):
            assert s in (check, up), s.get("name")


def test_every_job_has_a_timeout_and_no_job_wide_secret(workflow, newest):
    jobs = {**workflow["jobs"], **{f"newest-{k}": v for k, v in newest["jobs"].items()}}
    jobs["companion"] = next(iter(read_workflow(companion_workflow())["jobs"].values()))
    for name, job in jobs.items():
        assert isinstance(job.get("timeout-minutes"), int) and 0 < job["timeout-minutes"] <= 120, name
        assert "secrets." not in yaml.safe_dump(job.get("env", {})), f"{name}: a secret in the job's env"
    for data in (workflow, newest):
        assert "secrets." not in yaml.safe_dump(data.get("env", {}))


def test_every_action_is_pinned_to_a_commit_with_its_tag():
    for name, text in ((WORKFLOW.name, WORKFLOW.read_text()), (NEWEST.name, NEWEST.read_text()),
                       ("docs/ci.md companion", companion_workflow())):
        uses = [s["uses"] for job in read_workflow(text)["jobs"].values() for s in job["steps"] if "uses" in s]
        assert uses, name
        for ref in uses:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@[0-9a-f]{40}", ref), f"{name}: {ref} is not pinned to a commit SHA"
        lines = [line.strip().removeprefix("- ").removeprefix("uses: ") for line in text.splitlines()
                 if re.match(r"\s*(- )?uses:", line)]
        assert len(lines) == len(uses)
        for line in lines:
            assert PINNED.fullmatch(line), f"{name}: `{line}` needs its release tag in a comment (# vX.Y.Z)"


def test_newest_versions_job(newest):
    assert newest["on"]["schedule"] and set(newest["on"]) == {"schedule", "workflow_dispatch"}
    assert newest["permissions"] == {"contents": "read"} and "secrets." not in NEWEST.read_text()
    (job,) = newest["jobs"].values()
    assert job["env"] == {"CI": "true", "CAPACITY_REQUIRE_ENGINE": "1"}
    runs = "\n".join(runs_of(job))
    assert "constraints.txt" not in runs  # the newest versions the ranges allow
    assert "pip install --upgrade --upgrade-strategy eager -e '.[all,test]'" in runs
    assert runs_of(job)[-1] == "python -m pytest -q"
    assert runs.index("capacity engine setup") < runs.index("python -m pytest")


def test_no_step_needs_jq(workflow):
    jobs = workflow["jobs"]
    runs = [s.get("run", "") for job in jobs.values() for s in job["steps"]]
    assert not [run for run in runs if JQ.search(run)], "jq is not on our CI machines: use capacity/review/ci.py"
    assert "python -m capacity.review.ci changed-plans" in step(jobs["changed"], "List the plans to deploy")["run"]
    assert "python -m capacity.review.ci review-plans" in step(jobs["review"], "Validate and diff the changed plans")["run"]
    assert "python -m capacity.review.ci find-comment" in step(jobs["review"], "Post or update the comments")["run"]


def actionlint() -> Path:
    """actionlint at ACTIONLINT_VERSION in the per-user cache, built there by `go install` the first time.

    Without `go` an actionlint on PATH will do; with neither, the test skips, or fails under CI=true."""
    cached = cache_root() / "actionlint" / ACTIONLINT_VERSION / "actionlint"
    if cached.is_file() and os.access(cached, os.X_OK):
        return cached
    go = shutil.which("go")
    if go is None:
        if shutil.which("actionlint"):
            return Path(shutil.which("actionlint"))
        why = f"no Go toolchain to build actionlint (go install {ACTIONLINT}@{ACTIONLINT_VERSION}) and none on PATH"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true: {why}")
        pytest.skip(why)
    cached.parent.mkdir(parents=True, exist_ok=True)
    flags = " ".join(f for f in os.environ.get("GOFLAGS", "").split() if not f.startswith("-mod="))
    with tempfile.TemporaryDirectory(dir=cached.parent) as gobin:  # then renamed: never a half-written binary
        env = {**os.environ, "GOBIN": gobin, "GOWORK": "off", "GOFLAGS": flags}
        done = subprocess.run([go, "install", f"{ACTIONLINT}@{ACTIONLINT_VERSION}"], cwd=gobin, env=env,
                              capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, f"go install {ACTIONLINT}@{ACTIONLINT_VERSION} failed:\n{done.stderr}"
        os.replace(Path(gobin) / "actionlint", cached)
    return cached


def companion_workflow() -> str:
    """The optional fork-comment workflow that docs/ci.md shows (the yaml block after its file name)."""
    text = DOCS.read_text()
    start = text.index("```yaml\n# .github/workflows/capacity-plans-comment.yml") + len("```yaml\n")
    return text[start:text.index("```", start)]


def test_actionlint(tmp_path):
    binary = actionlint()
    (tmp_path / ".github/workflows").mkdir(parents=True)
    companion = tmp_path / ".github/workflows/capacity-plans-comment.yml"
    companion.write_text(companion_workflow())
    for path, cwd in ((WORKFLOW, ROOT), (NEWEST, ROOT), (companion, tmp_path)):
        done = subprocess.run([str(binary), "-no-color", str(path)], capture_output=True, text=True, cwd=cwd)
        assert done.returncode == 0, f"{path}:\n{done.stdout}{done.stderr}"


def test_companion_workflow_runs_no_pull_request_code():
    data = read_workflow(companion_workflow())
    assert set(data["on"]) == {"workflow_run"}
    (job,) = data["jobs"].values()
    checkout = job["steps"][0]
    assert checkout["uses"].startswith("actions/checkout@")
    assert set(checkout["with"]) == {"persist-credentials", "sparse-checkout"}  # the default branch, not the PR's head
    script = job["steps"][-1]["run"]
    assert "python3 -m capacity.review.ci find-comment" in script and not JQ.search(script)  # gh's own --jq is fine
