"""docs/cli.md is generated from the CLI and kept current; the pages it links to exist."""

from __future__ import annotations

import re
from pathlib import Path

import typer.main

from capacity.cli.main import app
from capacity.cli.reference import render

ROOT = Path(__file__).parents[3]
PAGE = ROOT / "docs/cli.md"
PAGES = ("cli.md", "state.md", "file-formats.md")


def test_reference_is_current():
    assert PAGE.read_text() == render(), "docs/cli.md is behind the CLI: run python -m capacity.cli.reference > docs/cli.md"


def test_reference_has_every_command_and_flag():
    page = render()
    root = typer.main.get_command(app)
    for path, command in _commands(root, ("capacity",)):
        heading = f"\n## {' '.join(path)}\n"
        assert heading in page, path
        section = page.split(heading, 1)[1].split("\n## ", 1)[0]
        for param in command.params:
            for flag in param.opts if param.param_type_name == "option" else ():
                if flag not in ("-h", "--help"):
                    assert re.search(rf"`[^`]*{re.escape(flag)}\b", section), (path, flag)


def test_links_and_anchors_resolve():
    for name in PAGES:
        text = (ROOT / "docs" / name).read_text()
        for target in re.findall(r"\]\(([^)#]+\.md)\)", text):
            assert (ROOT / "docs" / target).is_file(), (name, target)
    page = PAGE.read_text()
    headings = {line[3:].lower().replace(" ", "-") for line in page.splitlines() if line.startswith("## ")}
    for anchor in re.findall(r"\]\(#([^)]+)\)", page):
        assert anchor in headings, anchor


def test_readme_lists_the_pages():
    readme = (ROOT / "README.md").read_text()
    for name in PAGES:
        assert f"docs/{name}" in readme, name


def _commands(command, path):
    yield path, command
    for name, sub in getattr(command, "commands", {}).items():
        if not sub.hidden:
            yield from _commands(sub, (*path, name))
