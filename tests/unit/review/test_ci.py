"""The CI workflow's scripts and the pre-commit hook, really run (the workflows' structure:
test_workflow_files.py).

The jobs' shell scripts are taken out of the workflow and run on git repositories made here, with
`capacity`, `python` and a recording `gh` on PATH, so what CI does with added, changed, deleted,
invalid and oddly named plans, and which comment it updates, is tested, not only how the YAML
looks. They need no jq: what shell does not do well is in capacity/review/ci.py, tested here too.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from capacity.plan import reader as yamlsafe
from capacity.review import ci
from tests.unit.review.conftest import ROOT, step

HOOKS = ROOT / ".pre-commit-hooks.yaml"
DOCS = ROOT / "docs/ci.md"
PLANS = Path(__file__).parent / "plans"


# ------------------------------------------------------------------ the scripts, run for real


FAKE_GH = """
import json, os, sys
args = sys.argv[1:]
with open(os.environ["GH_LOG"], "a") as log:
    body = next((a[len("body=@"):] for a in args if a.startswith("body=@")), None)
    log.write(json.dumps({"args": args, "body": open(body).read() if body else None}) + "\\n")
if "--paginate" in args:
    sys.stdout.write(open(os.environ["GH_COMMENTS"]).read())
"""


@pytest.fixture
def capacity_bin(tmp_path: Path) -> Path:
    """A directory with `capacity` (validate, diff and report), `python` (this one, as setup-python
    gives) and `gh` (records its calls in $GH_LOG and answers `--paginate` with $GH_COMMENTS)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    shims = {
        "capacity": f"#!{sys.executable}\nimport sys\nsys.path[:0] = [{str(ROOT)!r}, {str(Path(__file__).parent)!r}]\n"
                    "from conftest import review_app\nreview_app()(prog_name='capacity')\n",
        "python": f'#!/bin/sh\nexec {shlex.quote(sys.executable)} "$@"\n',
        "gh": f"#!{sys.executable}{FAKE_GH}",
    }
    for name, text in shims.items():
        (bin_dir / name).write_text(text)
        (bin_dir / name).chmod(0o755)
    return bin_dir


def _env(bin_dir: Path, tmp_path: Path, **extra: str) -> dict:
    return {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
            "GITHUB_OUTPUT": str(tmp_path / "output"), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary"), **extra}


def test_review_script_on_a_pull_request(workflow, repo, git, capacity_bin, tmp_path):
    # base commit: stacks/plan.yaml (from the fixture), a plan that the pull request deletes, one
    # that it turns into something else, and inventories (YAML too: not plans)
    (repo / "stacks/gone.yaml").write_bytes((PLANS / "base.yaml").read_bytes())
    (repo / "stacks/was-plan.yaml").write_bytes((PLANS / "base.yaml").read_bytes())
    (repo / "stacks/inventory").mkdir()
    (repo / "stacks/inventory/east.csv").write_text("serial\n")
    (repo / "stacks/inventory/west.yaml").write_text("nodes: []\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more plans")
    # the pull request: one plan shrinks, one is new, one is broken, one does not even parse, one is
    # deleted, one is no plan any more, one has an odd name, and the inventories change
    (repo / "stacks/plan.yaml").write_bytes((PLANS / "shrink.yaml").read_bytes())
    (repo / "stacks/new.yaml").write_bytes((PLANS / "growth.yaml").read_bytes())
    hostile = (PLANS / "base.yaml").read_text().replace("power_mw: 20", "power_mw: <b>@all")
    (repo / "stacks/bad.yaml").write_text(hostile)
    (repo / "stacks/unparsed.yaml").write_text("apiVersion: capacity/v1\nkind: CapacityPlan\nsites: [\n")
    (repo / "stacks/gone.yaml").unlink()
    (repo / "stacks/was-plan.yaml").write_text("nodes: []\n")
    (repo / "stacks/odd name.yaml").write_text("x")
    (repo / "stacks/x\n::error::forged.yaml").write_text("x")  # printed raw, its 2nd line would be a command
    (repo / "stacks/inventory/east.csv").write_text("serial\nA1\n")
    (repo / "stacks/inventory/west.yaml").write_text("nodes: [{serial: W1, rack: r1, model: dgx-b200}]\n")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the pull request")

    script = step(workflow["jobs"]["review"], "Validate and diff the changed plans")["run"]
    done = subprocess.run(["bash", "-c", script], cwd=repo, env=_env(capacity_bin, tmp_path, PR="7"),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::warning::skipping 'stacks/odd?name.yaml'" in done.stdout
    assert "::warning::skipping 'stacks/x???error??forged.yaml'" in done.stdout
    assert not [line for line in done.stdout.splitlines() if line.startswith("::error::")]
    assert "::error file=stacks/bad.yaml::" in done.stdout and "::error file=stacks/unparsed.yaml::" in done.stdout
    assert "::notice::stacks/inventory/west.yaml is not a capacity plan" in done.stdout
    assert (tmp_path / "output").read_text() == "invalid=1\n"

    out = repo / ".capacity-review"
    assert sorted(p.name for p in out.iterdir()) == [
        "pr-number", "stacks_bad.yaml.md", "stacks_gone.yaml.md", "stacks_new.yaml.md", "stacks_plan.yaml.md",
        "stacks_unparsed.yaml.md", "stacks_was-plan.yaml.md"]
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
    assert "is deleted" in comments["stacks_was-plan.yaml.md"]  # no plan any more: as good as deleted
    assert "is not valid" in comments["stacks_unparsed.yaml.md"] and "not valid YAML" in comments["stacks_unparsed.yaml.md"]
    bad = comments["stacks_bad.yaml.md"]
    assert "### Capacity plan `stacks/bad.yaml` is not valid" in bad
    assert "stacks/bad.yaml:" in bad and "power_mw" in bad
    assert "<b>" not in bad and "@all" not in bad and "&lt;b&gt;&#64;all" in bad  # plan text made inert
    summary = (tmp_path / "summary").read_text()
    assert all(body in summary for body in comments.values())


def test_changed_plans_script(workflow, repo, git, capacity_bin, tmp_path):
    before = git(repo, "rev-parse", "HEAD").strip()
    (repo / "stacks/plan.yaml").write_text((PLANS / "growth.yaml").read_text())
    (repo / "stacks/other.yaml").write_text((PLANS / "base.yaml").read_text())
    (repo / "stacks/data.csv").write_text("x\n")
    (repo / "stacks/inventory").mkdir()
    (repo / "stacks/inventory/west.yaml").write_text("nodes: []\n")  # YAML, but no plan
    (repo / "stacks/team").mkdir()
    (repo / "stacks/team/deep.yml").write_text((PLANS / "base.yaml").read_text())  # a plan at any depth
    (repo / "stacks/odd name.yaml").write_text("x")
    (repo / "stacks/$(touch pwned).yaml").write_text("x")
    (repo / "stacks/y\n::error::forged.yml").write_text("x")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "push")
    script = step(workflow["jobs"]["changed"], "List the plans to deploy")["run"]
    output = tmp_path / "output"

    def run(given: str) -> list[str]:
        output.unlink(missing_ok=True)
        done = subprocess.run(["bash", "-c", script], cwd=repo, capture_output=True, text=True,
                              env=_env(capacity_bin, tmp_path, BEFORE=given))
        assert done.returncode == 0, done.stdout + done.stderr
        assert "::warning::skipping 'stacks/odd?name.yaml'" in done.stdout
        assert "::warning::skipping 'stacks/??touch?pwned?.yaml'" in done.stdout
        assert "::warning::skipping 'stacks/y???error??forged.yml'" in done.stdout
        assert not [line for line in done.stdout.splitlines() if line.startswith("::error::")]
        (line,) = output.read_text().splitlines()
        assert line.startswith("plans=")
        return json.loads(line.removeprefix("plans="))

    # the push's own changes; every plan when `before` is no commit here (a new branch: all zeros)
    assert run(before) == ["stacks/other.yaml", "stacks/plan.yaml", "stacks/team/deep.yml"]
    assert run("0" * 40) == ["stacks/other.yaml", "stacks/plan.yaml", "stacks/team/deep.yml"]
    assert not (repo / "pwned").exists()
    git(repo, "rm", "-q", "stacks/other.yaml", "stacks/odd name.yaml", "stacks/$(touch pwned).yaml",
        "stacks/y\n::error::forged.yml")
    git(repo, "commit", "-q", "-m", "delete some")
    after_delete = git(repo, "rev-parse", "HEAD~1").strip()
    output.unlink()
    done = subprocess.run(["bash", "-c", script], cwd=repo, check=True, capture_output=True, text=True,
                          env=_env(capacity_bin, tmp_path, BEFORE=after_delete))
    assert output.read_text() == "plans=[]\n", "a deleted plan is not deployed"
    assert "Plans to deploy: []" in done.stdout


def test_changed_plans_never_takes_an_option_for_a_commit(repo, git, tmp_path_factory):
    (repo / "stacks/b.yml").write_text((PLANS / "base.yaml").read_text())
    (repo / "stacks/a b.yml").write_text("x")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "more")
    every = (["stacks/b.yml", "stacks/plan.yaml"], ["stacks/a b.yml"])
    assert ci.changed_plans("--output=/dev/null", repo) == every  # no option given to git: every plan
    assert ci.changed_plans("HEAD~1", repo) == (["stacks/b.yml"], ["stacks/a b.yml"])
    assert ci.changed_plans("HEAD", repo) == ([], [])
    outside = tmp_path_factory.mktemp("not-a-repo")
    with pytest.raises(ci.git.GitError, match="`git ls-files` failed: not a git repository"):
        ci.changed_plans("", outside)


def test_a_plan_whose_catalog_changes_is_reviewed_and_deployed(repo, git):
    (repo / "stacks/team").mkdir()
    (repo / "stacks/catalogs").mkdir()
    named = (PLANS / "base.yaml").read_text().replace("  name: review\n", "  name: review\n  catalog: ../catalogs/gpus.yaml\n")
    (repo / "stacks/team/named.yaml").write_text(named)
    (repo / "stacks/catalogs/gpus.yaml").write_bytes((PLANS / "catalog.yaml").read_bytes())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "a plan with its catalog")
    (repo / "stacks/catalogs/gpus.yaml").write_text((PLANS / "catalog.yaml").read_text().replace("56.00", "60.00"))
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "the catalog alone changes")
    # reviewed as a changed plan, the catalog itself no "not a plan" notice; deployed again
    assert ci.review_plans("HEAD~1", repo) == ([("M", "stacks/team/named.yaml")], [], [])
    assert ci.changed_plans("HEAD~1", repo) == (["stacks/team/named.yaml"], [])
    git(repo, "rm", "-q", "stacks/catalogs/gpus.yaml")
    git(repo, "commit", "-q", "-m", "the catalog is deleted")
    assert ci.changed_plans("HEAD~1", repo) == (["stacks/team/named.yaml"], [])  # and validate says what is missing
    assert ci.changed_plans("HEAD~2", repo)[0] == ["stacks/team/named.yaml"]


def _comment(id_: int, login: str, body: str) -> dict:
    return {"id": id_, "user": {"login": login, "type": "Bot" if login.endswith("[bot]") else "User"}, "body": body}


def test_post_or_update_the_comments_script(workflow, capacity_bin, tmp_path):
    """The step's own script, with `gh` recording: it edits the bot's comment for a plan and posts the others."""
    review = tmp_path / "work/.capacity-review"
    review.mkdir(parents=True)
    plan_body = "<!-- capacity-diff: stacks/plan.yaml -->\n### Capacity plan `review`: +512 H100\n"
    new_body = "<!-- capacity-diff: stacks/new.yaml -->\n### New capacity plan `stacks/new.yaml`\n"
    (review / "stacks_plan.yaml.md").write_text(plan_body)
    (review / "stacks_new.yaml.md").write_text(new_body)
    (review / "pr-number").write_text("7\n")
    bot = ci.BOT
    pages = [  # two pages, as `gh api --paginate` prints them: one JSON array after the other
        [_comment(1, "mallory", new_body + "a human quoting the marker: never edited by the bot"),
         _comment(2, bot, "<!-- capacity-diff: stacks/plan.yaml.bak -->\nanother plan")],
        [_comment(42, bot, plan_body.replace("+512", "+256")), _comment(43, bot, plan_body)],
    ]
    comments = tmp_path / "comments.json"
    comments.write_text("\n".join(json.dumps(page, indent=1) for page in pages) + "\n")
    log = tmp_path / "gh.log"
    script = step(workflow["jobs"]["review"], "Post or update the comments")["run"]
    env = _env(capacity_bin, tmp_path, GH_LOG=str(log), GH_COMMENTS=str(comments), GH_TOKEN="t", GH_REPO="o/r", PR="7")
    done = subprocess.run(["bash", "-c", script], cwd=review.parent, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    calls = [json.loads(line) for line in log.read_text().splitlines()]
    assert calls[0] == {"args": ["api", "--paginate", "repos/o/r/issues/7/comments"], "body": None}
    writes = sorted((call["args"][2], call["args"][3], call["body"]) for call in calls[1:])
    assert writes == [("PATCH", "repos/o/r/issues/comments/42", plan_body),
                      ("POST", "repos/o/r/issues/7/comments", new_body)]


def test_find_comment():
    body = "<!-- capacity-diff: stacks/prod.yaml -->\n### Capacity plan\n"
    last_page = [_comment(6, ci.BOT, "<!-- capacity-diff: stacks/prod.yaml --> and more\n"),
                 {"id": 7, "user": None, "body": body},
                 _comment(8, ci.BOT, body.replace("\n", "\r\n")),
                 _comment(9, ci.BOT, body)]
    text = json.dumps([_comment(5, "alice", body)]) + json.dumps([]) + "\n " + json.dumps(last_page)
    comments = ci.read_pages(text)
    assert [c["id"] for c in comments] == [5, 6, 7, 8, 9]
    assert ci.find_comment(comments, body) == 8  # the oldest of the bot's, whatever the line ends
    assert ci.find_comment(comments, body, author="alice") == 5
    assert ci.find_comment(comments, "<!-- capacity-diff: stacks/other.yaml -->\n") is None
    assert ci.read_pages("") == [] and ci.find_comment([], body) is None
    with pytest.raises(ci.CiError, match="marker line"):
        ci.find_comment(comments, "### no marker\n")
    with pytest.raises(ci.CiError, match="marker line"):
        ci.find_comment(comments, "<!-- capacity-diff: stacks/a b.yaml -->\n")
    with pytest.raises(ci.CiError, match="not JSON"):
        ci.read_pages("[1] [")
    with pytest.raises(ci.CiError, match="JSON arrays"):
        ci.read_pages('{"message": "Not Found"}')


def test_find_comment_command(tmp_path, capsys):
    comments, body = tmp_path / "comments.json", tmp_path / "body.md"
    comments.write_text(json.dumps([_comment(11, ci.BOT, "<!-- capacity-diff: stacks/a.yaml -->\nold")]))
    body.write_text("<!-- capacity-diff: stacks/a.yaml -->\nnew\n")
    assert ci.main(["find-comment", str(comments), str(body)]) == 0
    assert capsys.readouterr().out == "11\n"
    assert ci.main(["find-comment", str(comments), str(body), "--author", "someone"]) == 0
    assert capsys.readouterr().out == ""
    body.write_text("no marker\n")
    assert ci.main(["find-comment", str(comments), str(body)]) == 1
    assert "error: the comment does not start with a marker line" in capsys.readouterr().err
    assert ci.main(["find-comment", str(tmp_path / "missing.json"), str(body)]) == 1
    assert "cannot read" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        ci.main(["find-comment"])
    assert exit_.value.code == 2


# ------------------------------------------------------------------ which files are plans


@pytest.mark.parametrize(("text", "plan"), [
    ((PLANS / "base.yaml").read_text(), True),
    ('{"apiVersion": "capacity/v1", "kind": "CapacityPlan", "metadata": {"name": "j"}}', True),  # JSON is YAML
    ("kind: CapacityPlan\nsites: [\n", True),  # does not parse, but says it is a plan: reported, not skipped
    ("kind: 'CapacityPlan'\nsites: {a: 1, a: 2}\n", True),  # duplicate keys refused by the reader
    ("nodes:\n  - {serial: A1, rack: r1, model: hgx-h100}\n", False),  # an inventory
    ("kind: CapacityPlanTemplate\n", False),
    ("# kind: CapacityPlan (a comment)\nnodes: []\n", False),
    ("- kind: CapacityPlan\n", True),  # a list the reader refuses, that says it is a plan: reported
    ("x: !!python/object/apply:os.system [touch pwned]\n", False),  # tags are refused, never run
    ("", False),
    ("\xff\xfe", False),
])
def test_is_plan_by_kind(text, plan, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    raw = text.encode("latin-1") if text.startswith("\xff") else text.encode()
    assert ci.is_plan(raw) is plan
    assert not (tmp_path / "pwned").exists()


def test_is_plan_too_large_to_read_counts_as_a_plan(tmp_path):
    big = tmp_path / "big.yaml"
    with big.open("wb") as handle:
        handle.truncate(ci.MAX_BYTES + 1)
    assert ci.MAX_BYTES == yamlsafe.MAX_BYTES
    assert ci._read_file(big) is None and ci.is_plan(None)  # reported as too large by validate
    assert ci._read_file(tmp_path) == b""  # a directory is no plan


def test_the_repository_plans_are_its_plans():
    plans, unsafe = ci.changed_plans("", ROOT)
    assert plans == ["stacks/example.yaml", "stacks/owned-large.yaml", "stacks/quickstart.yaml"] and unsafe == []
    inventories = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "stacks/inventory").iterdir())
    assert "stacks/inventory/owned-large-west.yaml" in inventories
    assert not list((ROOT / "stacks").glob("*.csv")), "inventories live in stacks/inventory/"


def test_ci_helper_find_comment_needs_only_the_standard_library():
    """The companion workflow runs find-comment from a bare checkout; the changed job installs only PyYAML."""
    code = ("import sys, capacity.review.ci; heavy = {'yaml', 'pydantic', 'typer', 'pulumi'} & set(sys.modules); "
            "print(sorted(heavy)); from capacity.review.ci import is_plan; is_plan(b'kind: CapacityPlan'); "
            "print(sorted({'pydantic', 'typer', 'pulumi'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert done.stdout == "[]\n[]\n"


# ------------------------------------------------------------------ deploy check


CLOUD_PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: cloud}
sites:
  aws-use1: {provider: aws, region: us-east-1, network: {cidr: 10.0.0.0/16}}
"""


def _write_plan(folder: Path, owned: bool) -> Path:
    plan = folder / "plan.yaml"
    plan.write_text((ROOT / "stacks/quickstart.yaml").read_text() if owned else CLOUD_PLAN)
    return plan


def test_deploy_check_requires_a_backend_and_an_inventory_for_owned_sites(tmp_path):
    (tmp_path / "o").mkdir()
    (tmp_path / "c").mkdir()
    owned, cloud = _write_plan(tmp_path / "o", True), _write_plan(tmp_path / "c", False)
    backend = {"PULUMI_BACKEND_URL": "s3://state"}
    assert ci.deploy_problems(cloud, backend) == []
    assert ci.deploy_problems(owned, {**backend, "CAPACITY_INVENTORY_URL": "postgresql://db/inv"}) == []
    (problem,) = ci.deploy_problems(owned, backend)
    assert "has owned sites (lab-1)" in problem and "CAPACITY_INVENTORY_URL" in problem
    assert ci.owned_sites(ROOT / "stacks/owned-large.yaml") == ["dc-east", "dc-west"]
    no_backend = ci.deploy_problems(cloud, {"PULUMI_BACKEND_URL": ""})
    assert len(no_backend) == 1 and "PULUMI_BACKEND_URL" in no_backend[0]
    assert len(ci.deploy_problems(owned, {})) == 2


def test_deploy_check_command(tmp_path, capsys, monkeypatch):
    plan = _write_plan(tmp_path, True)
    monkeypatch.setenv("PULUMI_BACKEND_URL", "s3://state")
    monkeypatch.delenv("CAPACITY_INVENTORY_URL", raising=False)
    assert ci.main(["deploy-check", str(plan)]) == 1
    out = capsys.readouterr().out
    assert out.startswith("::error::") and "CAPACITY_INVENTORY_URL" in out and "s3://state" not in out
    monkeypatch.setenv("CAPACITY_INVENTORY_URL", "postgresql://u:secret@db/inv")
    assert ci.main(["deploy-check", str(plan)]) == 0
    assert "secret" not in capsys.readouterr().out  # a URL's password is never printed
    plan.write_text("sites: [\n")
    assert ci.main(["deploy-check", str(plan)]) == 1
    assert "cannot read the plan" in capsys.readouterr().err


def test_deploy_check_script(workflow, tmp_path, capacity_bin):
    check = step(workflow["jobs"]["deploy"], "Require a shared backend, and a shared inventory for owned sites")
    plan = _write_plan(tmp_path, True)
    env = _env(capacity_bin, tmp_path, PLAN=str(plan), PULUMI_BACKEND_URL="", CAPACITY_INVENTORY_URL="")
    done = subprocess.run(["bash", "-c", check["run"]], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert [line.split(" ")[0] for line in done.stdout.splitlines()] == ["::error::set", "::error::" + str(plan)]


# ------------------------------------------------------------------ pre-commit


def test_pre_commit_hook_definition():
    (hook,) = yaml.safe_load(HOOKS.read_text())
    assert hook["id"] == "capacity-validate" and hook["language"] == "python" and hook["pass_filenames"] is True
    assert "additional_dependencies" not in hook  # pre-commit installs the light core: no cloud SDK
    files = re.compile(hook["files"])
    assert files.search("stacks/prod.yaml") and files.search("infra/stacks/prod.yml")
    assert files.search("stacks/inventory/west.yaml")  # looked at, then skipped by kind
    assert not files.search("stacks/inventory.csv") and not files.search("docs/stacks.md")


def test_pre_commit_snippet_names_a_rev_that_can_exist():
    """The docs' `rev` is a tag this repository has, or (none being tagged) a commit to pin."""
    rev = re.search(r"^\s+rev: (.+?)\s+#", DOCS.read_text(), re.M).group(1)
    tags = subprocess.run(["git", "tag", "--list"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    assert rev in tags or (rev == "<commit SHA>" and not tags), rev


def test_pre_commit_hook_runs_validate_on_each_file(capacity_bin, tmp_path):
    (hook,) = yaml.safe_load(HOOKS.read_text())
    bad = tmp_path / "bad.yaml"
    bad.write_text((PLANS / "base.yaml").read_text().replace("nodes: 32", "nodes: 0"))
    good = PLANS / "base.yaml"
    env = _env(capacity_bin, tmp_path)
    # pre-commit runs the entry split like a shell would, with the staged file names appended
    done = subprocess.run([*shlex.split(hook["entry"]), str(good), str(bad)], env=env, capture_output=True, text=True)
    assert done.returncode == 1
    assert f"{good}: valid." in done.stdout and "clusters.train-a.nodes: must be more than 0" in done.stderr
    done = subprocess.run([*shlex.split(hook["entry"]), str(good), str(good)], env=env, capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.count("valid.") == 2


def test_the_repository_passes_its_own_hook(capacity_bin, tmp_path):
    (hook,) = yaml.safe_load(HOOKS.read_text())
    files = re.compile(hook["files"])
    staged = [p.relative_to(ROOT).as_posix() for p in sorted((ROOT / "stacks").rglob("*"))]
    staged = [name for name in staged if files.search(name)]
    assert "stacks/inventory/owned-large-west.yaml" in staged
    done = subprocess.run([*shlex.split(hook["entry"]), *staged], cwd=ROOT, env=_env(capacity_bin, tmp_path),
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
    assert sorted(line.split(":")[0] for line in done.stdout.splitlines()) == [
        "stacks/example.yaml", "stacks/owned-large.yaml", "stacks/quickstart.yaml"]  # the inventory is skipped
