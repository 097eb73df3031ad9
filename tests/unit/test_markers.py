"""Every test is marked with the servers and tools it starts, from the fixtures it uses
(tests/conftest.py), so that `pytest -m "not engine and not apiserver"` runs the fast part."""

from __future__ import annotations

import functools
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).parents[2]
# One file per kind of test, and one that needs nothing.
FILES = {
    "engine": "tests/integration/engine/test_engine_stdin.py",
    "owned": "tests/integration/owned/test_team.py",
    "apiserver": "tests/integration/tenancy/test_tenancy_engine.py",
    "chromium": "tests/integration/browser/test_layout.py",
    "plain": "tests/unit/cli/test_habits.py",
}


@functools.lru_cache
def collected(expression: str | None = None) -> set[str]:
    """The ids of the tests in FILES that `pytest -m EXPRESSION` selects."""
    marks = ["-m", expression] if expression else []
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider", *marks,
                           *FILES.values()], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 5), done.stdout[-3000:] + done.stderr[-3000:]  # 5: none selected
    return {line for line in done.stdout.splitlines() if "::" in line}


def of(kind: str, ids: set[str]) -> set[str]:
    return {i for i in ids if i.startswith(FILES[kind])}


def test_each_marker_selects_the_tests_whose_fixtures_start_it():
    everything = collected()
    assert all(of(kind, everything) for kind in FILES)
    engine, postgres, apiserver, chromium = (collected(m) for m in ("engine", "postgres", "apiserver", "chromium"))
    assert engine == of("engine", everything) | of("owned", everything) | of("apiserver", everything)
    assert postgres == {i for i in of("owned", everything) if i.endswith("[postgresql]")} != set()
    assert apiserver == of("apiserver", everything)
    assert chromium == of("chromium", everything)


def test_the_fast_part_leaves_out_the_engine_and_the_api_server():
    everything = collected()
    fast = collected("not engine and not apiserver")
    assert fast == of("plain", everything) | of("chromium", everything)
    assert collected("not postgres and not chromium") == everything - collected("postgres") - of("chromium", everything)
