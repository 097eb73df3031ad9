"""capacity.plan.git: the one git runner of gitref and the CI helpers, on a real repository."""

from __future__ import annotations

import pytest

from capacity.plan import git as plan_git


@pytest.fixture
def repo(tmp_path, git):
    (tmp_path / "a b.yaml").write_text("kind: CapacityPlan\n")
    git(tmp_path, "init", "-q", "-b", "main")
    git(tmp_path, "add", "-A")
    git(tmp_path, "commit", "-q", "-m", "one")
    return tmp_path


def test_lookup_then_read_a_blob(repo):
    found, missing, odd = plan_git.lookup(["HEAD:a b.yaml", "HEAD:nosuch", "HEAD:a b"], repo)
    assert found is not None and found.kind == "blob" and found.size == len("kind: CapacityPlan\n")
    assert missing is None and odd is None  # "HEAD:a b missing" has three words and is still no object
    assert plan_git.blob(found.id, repo) == b"kind: CapacityPlan\n"


def test_commits_and_options(repo):
    assert plan_git.is_commit("HEAD", repo) and plan_git.is_commit("main", repo)
    assert not plan_git.is_commit("HEAD:a b.yaml", repo)
    assert not plan_git.is_commit("--output=x", repo) and not plan_git.is_commit("", repo)


def test_failures_say_what_git_said(tmp_path, monkeypatch):
    with pytest.raises(plan_git.GitError, match="`git ls-files` failed: not a git repository") as caught:
        plan_git.output(["ls-files"], tmp_path)
    assert caught.value.not_a_repository
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(plan_git.GitError, match="git is not installed"):
        plan_git.run(["status"], tmp_path)
