"""Commands for reviewers: `capacity diff BASE HEAD`, `capacity report PLAN` and `capacity calendar PLAN`.
No engine, no network."""

from __future__ import annotations

import datetime as dt
import enum
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

from capacity.cli.output import (CatalogOption, day_option, emit_json, fail, one_stdin, print_problems,
                                 remember_format, say)


class DiffFormat(str, enum.Enum):
    text = "text"
    markdown = "markdown"
    json = "json"


class Basis(str, enum.Enum):
    accrual = "accrual"
    cash = "cash"


class ReportFormat(str, enum.Enum):
    text = "text"
    markdown = "markdown"
    json = "json"
    html = "html"


_SOURCE = "A plan file, REF:PATH read from git (origin/main:stacks/prod.yaml), or - for stdin."
BaseArgument = Annotated[str, typer.Argument(help=f"The plan before the change. {_SOURCE}", show_default=False)]
HeadArgument = Annotated[str, typer.Argument(help=f"The plan after the change. {_SOURCE}", show_default=False)]
PlanSource = Annotated[str, typer.Argument(help=_SOURCE, show_default=False)]
_FORMAT_HELP = "Output format (errors too, with json)."
MAX_WINDOW_DAYS = 100 * 365  # a report has a column per month: a century at most


def _load_sides(sources: dict[str, str], catalog: str | None, as_json: bool):
    """Each side's plan; or every side's problems, printed, and exit 1."""
    from capacity.plan.catalog import load_catalog
    from capacity.errors import PlanError
    from capacity.plan.gitref import SourceError, load_source
    from capacity.plan.reader import shown_name

    one_stdin(**sources, **{"--catalog": catalog})
    try:
        cat = load_catalog(catalog)
    except PlanError as exc:
        _report_failures({"catalog": (shown_name(catalog or ""), exc.problems, None)}, as_json)
        raise fail(1) from None
    plans = {}
    failures: dict[str, tuple[str, list, str | None]] = {}  # side: (file, problems, or else why)
    for side, source in sources.items():
        try:
            plans[side] = load_source(source, cat)
        except PlanError as exc:
            failures[side] = (shown_name(source), exc.problems, None)
        except SourceError as exc:
            failures[side] = (shown_name(source), [], str(exc))
    if failures:
        _report_failures(failures, as_json)
        raise fail(1) from None
    return plans


def _report_failures(failures: dict, as_json: bool) -> None:
    from capacity.words import inert

    if as_json:
        errors = []
        for side, (source, problems, message) in failures.items():
            if message:
                errors.append({"side": side, "source": source, "path": "", "line": 1, "column": 1, "message": message})
            errors += [{"side": side, "source": source, **p.as_json()} for p in problems]
        emit_json({"valid": False, "errors": errors})
        return
    for side, (source, problems, message) in failures.items():
        if message:
            say(inert(f"{side.upper()} {message}"))
            continue
        what = "catalog" if side == "catalog" else "plan"
        say(inert(f"{side.upper()} {source} is not a valid {what}:"))
        print_problems(problems)


def diff(
    base: BaseArgument,
    head: HeadArgument,
    fmt: Annotated[DiffFormat, typer.Option("--format", "-f", help=_FORMAT_HELP,
                                                    callback=remember_format)] = DiffFormat.text,
    catalog: CatalogOption = None,
    as_of: Annotated[Optional[dt.date], day_option(
        "--as-of", help="The day risks are judged on (YYYY-MM-DD; default today): leases ended by then carry no risk.")] = None,
) -> None:
    """What a change to a plan means: GPUs, run-rate, lease value, every change, and the risks."""
    from capacity.review import markdown as render_diff
    from capacity.review.diff import diff_plans
    from capacity.plan.reader import shown_name

    plans = _load_sides({"base": base, "head": head}, catalog, fmt == DiffFormat.json)
    result = diff_plans(plans["base"], plans["head"], as_of, base_label=shown_name(base),
                        head_label=shown_name(head))
    if fmt == DiffFormat.json:
        emit_json(result.as_json())
    elif fmt == DiffFormat.markdown:
        sys.stdout.write(render_diff.markdown(result))
    else:
        sys.stdout.write(render_diff.text(result))


def report(
    plan: PlanSource,
    fmt: Annotated[ReportFormat, typer.Option("--format", "-f", help=_FORMAT_HELP,
                                                      callback=remember_format)] = ReportFormat.text,
    from_: Annotated[Optional[dt.date], day_option(
        "--from", help="Start of the window for utilisation, revenue and margin "
             "(YYYY-MM-DD; default: the first lease's start).")] = None,
    to: Annotated[Optional[dt.date], day_option(
        "--to", help="End of the window, exclusive (YYYY-MM-DD; default: the last lease's end).")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.",
                                                   dir_okay=False)] = None,
    catalog: CatalogOption = None,
    basis: Annotated[Basis, typer.Option(
        "--basis", help="accrual: money when GPU-hours are used; cash: when it is paid (a capacity block on its "
                        "buy day, bills and lease invoices monthly in arrears). Sets the table by provider and "
                        "month.")] = Basis.accrual,
) -> None:
    """GPUs, run-rate, lease value, utilisation, revenue and margin per provider, site and cluster,
    and money by provider and month."""
    from capacity.review import report as layout
    from capacity.review.cash import by_month
    from capacity.review.economics import Window, book, default_window
    from capacity.plan.reader import shown_name

    loaded = _load_sides({"plan": plan}, catalog, fmt == ReportFormat.json)["plan"]
    default = default_window(loaded)
    window = Window(from_ or default.start, to or default.end)
    if window.start >= window.end:
        raise typer.BadParameter(f"the window {window.start} to {window.end} is empty; --to must be after --from.",
                                 param_hint="'--from' / '--to'")
    if window.end.year > 9998:
        raise typer.BadParameter(f"--to {window.end} is past the last day a report can count to (9998-12-31).",
                                 param_hint="'--to'")
    if (window.end - window.start).days > MAX_WINDOW_DAYS:
        raise typer.BadParameter(f"the window {window.start} to {window.end} is longer than {MAX_WINDOW_DAYS // 365} "
                                 "years (a report has a column per month). To fix: a shorter --from/--to.",
                                 param_hint="'--from' / '--to'")
    figures = book(loaded, window)
    table = by_month(loaded, window, basis.value)
    if fmt == ReportFormat.json:
        import json

        content = json.dumps(layout.as_json(figures, shown_name(plan), table), indent=2) + "\n"
    else:
        content = {ReportFormat.text: layout.text, ReportFormat.markdown: layout.markdown,
                   ReportFormat.html: layout.to_html}[fmt](figures, table)
    _write(content, output, "report", fmt.value)


class CalendarFormat(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"
    ics = "ics"


def calendar(
    plan: PlanSource,
    fmt: Annotated[CalendarFormat, typer.Option(
        "--format", "-f", help="Output format (ics: RFC 5545, for a team calendar; errors too, with json).",
        callback=remember_format)] = CalendarFormat.text,
    from_: Annotated[Optional[dt.date], day_option(
        "--from", help="First day shown (YYYY-MM-DD; default: the first event).")] = None,
    to: Annotated[Optional[dt.date], day_option("--to", help="Day after the last shown (YYYY-MM-DD, exclusive).")] = None,
    kind: Annotated[Optional[list[str]], typer.Option(
        "--kind", show_default=False,
        help="Only these kinds (repeat it): reservation-bought, reservation-starts, reservation-ends, lease-starts, "
             "lease-amended, lease-ends, internal-starts, internal-amended, internal-ends; or a group: "
             "reservation, lease, internal.")] = None,
    output: Annotated[Optional[Path], typer.Option("--output", "-o", help="Write to this file instead of stdout.",
                                                   dir_okay=False)] = None,
    catalog: CatalogOption = None,
) -> None:
    """Every dated event of a plan in order: reservations bought, starting and ending; leases starting,
    amended and ending; internal use."""
    from capacity.review import calendar as cal
    from capacity.plan.reader import shown_name

    groups = {k.split("-")[0] for k in cal.KINDS}
    unknown = [k for k in kind or [] if k not in cal.KINDS and k not in groups]
    if unknown:
        raise typer.BadParameter(f"unknown kind {', '.join(unknown)}; the kinds: {', '.join(cal.KINDS)}, or "
                                 f"{', '.join(sorted(groups))}.", param_hint="'--kind'")
    loaded = _load_sides({"plan": plan}, catalog, fmt == CalendarFormat.json)["plan"]
    found = cal.select(cal.events(loaded), from_, to, list(kind or []))
    if fmt == CalendarFormat.json:
        import json

        content = json.dumps({"plan": loaded.name, "source": shown_name(plan),
                              "events": [e.as_json() for e in found]}, indent=2) + "\n"
    elif fmt == CalendarFormat.ics:
        content = cal.ics(found, loaded.name)
    else:
        content = (cal.markdown if fmt == CalendarFormat.markdown else cal.text)(found)
    _write(content, output, "calendar", fmt.value)


def _write(content: str, output: Path | None, command: str, fmt: str) -> None:
    """To stdout, or to the file (exit 1 if it cannot be written)."""
    if output is None:
        sys.stdout.write(content)
        return
    try:
        output.write_text(content, encoding="utf-8", newline="")
    except OSError as exc:
        say(f"capacity {command}: cannot write {output}: {exc.strerror}.")
        raise fail(1) from None
    say(f"wrote {output} ({fmt}, {len(content.encode()):,} bytes)")
