"""The headless Chromium the layout tests drive (Debian's `chromium`): skipped where missing,
except in CI (CI=true), where .ci/run installs it and its absence is a failure."""

from __future__ import annotations

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> str:
    """The path of the Chromium binary."""
    if os.path.exists(CHROMIUM):
        return CHROMIUM
    if os.environ.get("CI") == "true":
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package before the tests")
    pytest.skip("headless Chromium is not installed (apt-get install chromium)")
