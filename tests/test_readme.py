"""The README's commands are the ones CI and newcomers run."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).parents[1]


def _sh_blocks() -> list[str]:
    text = (ROOT / "README.md").read_text()
    return [block.split("```", 1)[0].strip() for block in text.split("```sh\n")[1:]]


def test_ci_runs_exactly_the_readme_test_command():
    test_command = _sh_blocks()[1]
    ci_lines = [line for line in (ROOT / ".ci/run").read_text().splitlines() if line and not line.startswith("#")]
    assert test_command in ci_lines
    assert "pytest" in test_command


def test_first_command_deploys_the_quickstart():
    first = _sh_blocks()[0]
    assert "capacity up stacks/quickstart.yaml" in first
    assert (ROOT / "stacks/quickstart.yaml").is_file()


def test_both_commands_install_the_tested_versions():
    for command in _sh_blocks()[:2]:
        assert "pip install -q -c constraints.txt -e" in command
    pinned = [line for line in (ROOT / "constraints.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert all("==" in line for line in pinned)
    assert any(line.startswith("pulumi==") for line in pinned)
