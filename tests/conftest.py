"""Fixtures shared by every test folder."""

from __future__ import annotations

import os

import pytest


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
