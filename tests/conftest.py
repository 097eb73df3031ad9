"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

# What a test needs, by the fixture that provides it: the test gets the marker, so that
# `pytest -m "not engine and not apiserver"` runs the fast part (markers are listed in pyproject.toml).
MARKERS = {
    "pulumi_cli": "engine",  # the real Pulumi engine
    "postgres_server": "postgres",  # a throwaway PostgreSQL server
    "kube_api": "apiserver",  # a real kube-apiserver (tests/integration/conftest.py)
    "kubernetes_bins": "apiserver",  # what starts one
    "chromium": "chromium",  # headless Chromium (tests/integration/browser/conftest.py)
    "slurm_installed": "slurm",  # a local Slurm cluster (tests/integration/conftest.py)
}


def pytest_collection_modifyitems(config, items):
    """Mark every test with what its fixtures (direct or through other fixtures) start."""
    for item in items:
        needs = set(getattr(item, "fixturenames", ()))
        for fixture, marker in MARKERS.items():
            if fixture in needs:
                item.add_marker(marker)


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
    from capacity.errors import EngineError
    from capacity.engine.pulumi_cli import ensure_pulumi

    try:
        return ensure_pulumi(install=True, echo=print)
    except EngineError as exc:
        if os.environ.get("CAPACITY_REQUIRE_ENGINE") == "1":
            pytest.fail(f"CAPACITY_REQUIRE_ENGINE=1 but no Pulumi CLI can be had:\n{exc}")
        pytest.skip(f"no Pulumi CLI can be had here: {exc}")


def _engine_required() -> bool:
    return os.environ.get("CI") == "true" or os.environ.get("CAPACITY_REQUIRE_ENGINE") == "1"


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server for the session (tests/pgserver.py), stopped at the end.
    Without PostgreSQL installed, tests that need it skip, unless in CI (CI=true or
    CAPACITY_REQUIRE_ENGINE=1), where that is a failure."""
    from tests.pgserver import PgServer, find_bin

    bindir = find_bin()
    if bindir is None:
        message = "no PostgreSQL server binaries (/usr/lib/postgresql/*/bin/initdb); `apt-get install postgresql`"
        if _engine_required():
            pytest.fail(f"CI needs PostgreSQL: {message}")
        pytest.skip(message)
    import shutil
    import tempfile

    root = Path(tempfile.mkdtemp(prefix="capacity-pg-"))  # not under pytest's 0700 folder: postgres reads it
    server = PgServer(bindir, root)
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server, request) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return postgres_server.create_database(request.node.name)
