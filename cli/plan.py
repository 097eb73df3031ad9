"""Commands on a plan file that never touch an engine: validate and schema."""

from __future__ import annotations

import enum
import sys
from typing import Annotated

import typer

from capacity.words import count
from capacity.cli.output import CatalogOption, Format, FormatOption, PlanArgument, emit_json, load_or_exit

# An invalid plan has no trustworthy totals.
_NO_SUMMARY = {"summary": {"sites": None, "clusters": None, "leases": None, "gpus": None}}


def validate(plan: PlanArgument, fmt: FormatOption = Format.text, catalog: CatalogOption = None) -> None:
    """Check a plan: its YAML, every field, references, catalog, networks, power and leases."""
    loaded = load_or_exit(plan, catalog, fmt, json_extra=_NO_SUMMARY)
    summary = loaded.summary()
    if fmt == Format.json:
        emit_json({"valid": True, "errors": [], "summary": summary})
        return
    sys.stdout.write(
        f"{loaded.doc.file}: valid. {count(summary['sites'], 'site')} ({', '.join(summary['providers'])}), "
        f"{count(summary['clusters'], 'cluster')}, {count(summary['gpus'], 'GPU')}, "
        f"{count(summary['leases'], 'lease')}, {count(summary['links'], 'link')}.\n"
    )


class SchemaFormat(str, enum.Enum):
    json = "json"


def schema(
    fmt: Annotated[SchemaFormat, typer.Option("--format", "-f", help="Output format (the schema is JSON).")]
    = SchemaFormat.json,
) -> None:
    """Print the plan's JSON Schema (for editors: yaml-language-server, VS Code)."""
    from capacity.plan.schema import plan_schema

    emit_json(plan_schema())
