"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest


def git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@example.com", "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    done = subprocess.run(["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True)
    return done.stdout


@pytest.fixture(name="git")
def git_fixture():
    """git(repo, args...) -> stdout, with a fixed identity and no user or system config."""
    return git


@pytest.fixture(scope="session")
def pulumi_cli():
    """The pinned Pulumi CLI, found or installed once per session (PATH, cache, installer or Go
    build). Without one, tests that need the engine skip, unless CAPACITY_REQUIRE_ENGINE=1 (set by
    .ci/run), which makes that a failure."""
    from capacity.engine.errors import EngineError
    from capacity.engine.pulumi_cli import ensure_pulumi

    try:
        return ensure_pulumi(install=True, echo=print)
    except EngineError as exc:
        if os.environ.get("CAPACITY_REQUIRE_ENGINE") == "1":
            pytest.fail(f"CAPACITY_REQUIRE_ENGINE=1 but no Pulumi CLI can be had:\n{exc}")
        pytest.skip(f"no Pulumi CLI can be had here: {exc}")
