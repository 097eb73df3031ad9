"""Shared output helpers: JSON to stdout, problems in the reviewer's words, exit codes."""

from __future__ import annotations

import enum
import json
import sys
from typing import Annotated, Any, Optional

import typer


class Format(str, enum.Enum):
    text = "text"
    json = "json"


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format.")]
CatalogOption = Annotated[
    Optional[str], typer.Option("--catalog", help="A catalog file that extends or overrides the shipped one.")
]
PlanArgument = Annotated[str, typer.Argument(help="The capacity plan file (YAML).", show_default=False)]


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def is_tty(stream=None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def say(message: str) -> None:
    """A line for the person at the terminal (stderr, so stdout stays machine-readable)."""
    sys.stderr.write(message + "\n")


def print_problems(problems: list, stream=None) -> None:
    stream = stream or sys.stdout
    for problem in problems:
        stream.write(f"{problem}\n")
    count = len(problems)
    stream.write(f"{count} problem{'s' if count != 1 else ''} found.\n")


def fail(code: int = 1) -> typer.Exit:
    return typer.Exit(code=code)


def load_or_exit(path: str, catalog: str | None, fmt: Format = Format.text, json_extra: dict | None = None):
    """Load a plan, or print its problems (stdout; JSON with --format json) and exit 1."""
    from capacity.errors import PlanError
    from capacity.plan import load_plan

    try:
        return load_plan(path, catalog)
    except PlanError as exc:
        if fmt == Format.json:
            emit_json({"valid": False, "errors": [p.as_json() for p in exc.problems], **(json_extra or {})})
        else:
            print_problems(exc.problems)
        raise fail(1) from None
