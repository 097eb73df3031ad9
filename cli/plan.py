"""Commands on a plan file that never touch an engine: validate and schema."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from capacity.words import count
from capacity.cli.output import (CatalogOption, Format, FormatOption, PlanArgument, emit_json, fail, load_or_exit,
                                 remember_format)

# An invalid plan has no trustworthy totals.
_NO_SUMMARY = {"summary": {"sites": None, "clusters": None, "leases": None, "gpus": None}}


def validate(
    plan: PlanArgument,
    fmt: FormatOption = Format.text,
    catalog: CatalogOption = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too (exit 1), as errors do.")] = False,
) -> None:
    """Check a plan: its YAML, every field, references, catalog, networks, power and leases; then
    warn of money nobody meant to spend (a lease below cost, past its reservation, an idle reservation)."""
    from capacity.review.warnings import plan_warnings

    loaded = load_or_exit(plan, catalog, fmt, json_extra={**_NO_SUMMARY, "warnings": []})
    summary = loaded.summary()
    warnings = plan_warnings(loaded)
    failed = strict and bool(warnings)
    if fmt == Format.json:
        emit_json({"valid": not failed, "errors": [], "warnings": [w.as_json() for w in warnings],
                   "summary": summary})
    else:
        for warning in warnings:
            sys.stderr.write(f"warning: {warning}\n")
        sys.stdout.write(
            f"{loaded.doc.file}: valid{' (with warnings, failed by --strict)' if failed else ''}. "
            f"{count(summary['sites'], 'site')} ({', '.join(summary['providers'])}), "
            f"{count(summary['clusters'], 'cluster')}, {count(summary['gpus'], 'GPU')}, "
            f"{count(summary['leases'], 'lease')}, {count(summary['links'], 'link')}"
            f"{_warned(len(warnings))}.\n"
        )
    if failed:
        raise fail(1)


def _warned(n: int) -> str:
    return f"; {count(n, 'warning')}" if n else ""


class SchemaFormat(str, enum.Enum):
    json = "json"


def schema(
    fmt: Annotated[SchemaFormat, typer.Option("--format", "-f", help="Output format (the schema is JSON; errors too).",
                                              callback=remember_format)] = SchemaFormat.json,
) -> None:
    """Print the plan's JSON Schema (for editors: yaml-language-server, VS Code)."""
    from capacity.plan.schema import plan_schema

    emit_json(plan_schema())
