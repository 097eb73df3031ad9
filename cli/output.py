"""Shared output helpers: the asked-for output on stdout, problems and progress on stderr, exit codes."""

from __future__ import annotations

import contextvars
import datetime as dt
import enum
import errno
import json
import os
import sys
from pathlib import Path
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup


class Format(str, enum.Enum):
    text = "text"
    json = "json"


_FORMAT: contextvars.ContextVar[str] = contextvars.ContextVar("capacity_output_format", default="text")


def remember_format(value):
    """--format's callback: it also decides how an error is said (the one handler below). Any
    command's own format enum may use it."""
    _FORMAT.set(getattr(value, "value", value) or "text")
    return value


FormatOption = Annotated[Format, typer.Option("--format", "-f", help="Output format (errors too, with json).",
                                              callback=remember_format)]
CatalogOption = Annotated[
    Optional[str], typer.Option("--catalog", help="A catalog file that extends or overrides the shipped one "
                                                  "(docs/file-formats.md).")
]
PlanArgument = Annotated[str, typer.Argument(help="The capacity plan file (YAML), or - to read it from stdin.",
                                             show_default=False)]


def parse_day(text: str) -> dt.date:
    """A day given on the command line, read as the plan's dates are (capacity.fields.check_date) and
    refused in the same words."""
    from capacity.fields import check_date

    try:
        return check_date(text)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def day_option(name: str, help: str) -> Any:
    """A `--NAME YYYY-MM-DD` option (--on, --as-of, --from, --to), parsed by parse_day."""
    return typer.Option(name, parser=parse_day, metavar="YYYY-MM-DD", show_default=False, help=help)


def emit_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, sort_keys=False, default=str) + "\n")


def is_tty(stream=None) -> bool:
    stream = stream or sys.stdout
    return hasattr(stream, "isatty") and stream.isatty()


def color(stream=None) -> bool:
    """Colours and styles only on a terminal, and never when NO_COLOR is set (no-color.org)."""
    return is_tty(stream) and not os.environ.get("NO_COLOR")


def console(stream=None):
    """A rich console for tables on a terminal; with NO_COLOR it writes no escape codes at all."""
    from rich.console import Console

    return Console(file=stream or sys.stdout, color_system="auto" if color(stream) else None, highlight=False)


def say(message: str) -> None:
    """Lines for the person at the terminal (stderr, so stdout stays machine-readable). Whatever
    they quote (a plan, a state, an engine's message) cannot drive the terminal: control and bidi
    characters inside a line are shown escaped."""
    from capacity.words import inert

    sys.stderr.write("".join(inert(line) + "\n" for line in str(message).split("\n")))


def print_problems(problems: list, stream=None) -> None:
    stream = stream or sys.stderr
    for problem in problems:
        stream.write(f"{problem}\n")
    count = len(problems)
    stream.write(f"{count} problem{'s' if count != 1 else ''} found.\n")


def fail(code: int = 1) -> typer.Exit:
    return typer.Exit(code=code)


def one_stdin(**sources: Optional[str]) -> None:
    """Standard input holds one file: refuse a command line that reads two from it (exit 2)."""
    named = [name for name, source in sources.items() if source == "-"]
    if len(named) > 1:
        raise typer.BadParameter(f"{' and '.join(named)} both say '-', but standard input holds one file. "
                                 "To fix: read one of them from a file.", param_hint=" / ".join(named))


def load_or_exit(path: str, catalog: str | None, fmt: Format = Format.text, json_extra: dict | None = None):
    """Load a plan, or exit 1 with its problems: on stderr, or as JSON on stdout with --format json."""
    from capacity.errors import PlanError
    from capacity.plan.loading import load_plan

    one_stdin(PLAN=path, **{"--catalog": catalog})
    try:
        return load_plan(path, catalog)
    except PlanError as exc:
        if fmt == Format.json:
            emit_json({"valid": False, "errors": [p.as_json() for p in exc.problems], **(json_extra or {})})
        else:
            print_problems(exc.problems)
        raise fail(1) from None


def report(exc: Exception) -> typer.Exit:
    """The one handler of every error meant for the user (a `CapacityError`): with --format json,
    `{"ok": false, "error": {kind, message, exit_code[, problems]}}` on stdout; otherwise its problems,
    or `error: MESSAGE`, on stderr. Returns the exit to raise (the error's exit code)."""
    code = getattr(exc, "exit_code", 1)
    if _FORMAT.get() == "json":
        emit_json({"ok": False, "error": exc.as_json()})  # type: ignore[attr-defined]
    elif getattr(exc, "problems", None):
        print_problems(exc.problems)  # type: ignore[attr-defined]
    else:
        say(f"error: {exc}")
    return typer.Exit(code)


_DISK_FAULTS = {errno.ENOSPC, errno.EDQUOT, errno.EROFS}  # a full or read-only disk: not a bug


class Handled(TyperGroup):
    """A command group whose commands' CapacityErrors go to `report` (the root app and each noun)."""

    def invoke(self, ctx):
        from capacity.errors import CapacityError

        token = _FORMAT.set("text") if ctx.parent is None else None
        try:
            return super().invoke(ctx)
        except CapacityError as exc:
            raise report(exc) from None
        except OSError as exc:
            if exc.errno not in _DISK_FAULTS:
                raise
            from capacity.engine.filestate import fault

            raise report(fault(exc, Path(exc.filename or "?"), "the file")) from None
        finally:
            if token is not None:
                _FORMAT.reset(token)
