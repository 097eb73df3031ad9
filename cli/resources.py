"""`capacity resources`: the cloud resources a plan declares, rendered offline under Pulumi's mocks."""

from __future__ import annotations

import datetime as dt
import json
import sys
from typing import Annotated, Optional

import typer

from capacity.words import count
from capacity.cli.output import (CatalogOption, Format, FormatOption, PlanArgument, day_option, emit_json,
                                 load_or_exit, say)


OnOption = Annotated[
    Optional[dt.date],
    day_option("--on", help="Render as deployed on this day, YYYY-MM-DD (default today): it decides which leases "
                            "hold their nodes."),
]


def resources(plan: PlanArgument, fmt: FormatOption = Format.text, catalog: CatalogOption = None,
              on: OnOption = None) -> None:
    """List every resource the plan would register: type, name, parent and inputs. Offline: no
    credentials, no engine."""
    loaded = load_or_exit(plan, catalog, fmt)
    from capacity.components.render import RenderError, render

    from capacity.plan.schedule import purchases

    day = on or dt.date.today()
    bought = purchases(loaded, day)
    try:
        rendering = render(loaded, day)
    except RenderError as exc:
        say(f"capacity: cannot render {plan}: {exc}")
        raise typer.Exit(1) from None
    if fmt == Format.json:
        emit_json({"plan": loaded.name, "on": day.isoformat(), "count": len(rendering.resources),
                   "resources": rendering.resources, "reservations": [p.as_json() for p in bought],
                   "warnings": rendering.warnings})
        return
    for warning in rendering.warnings:
        say(f"warning: {warning}")
    sys.stdout.write(_text(rendering.resources))
    sys.stdout.write("".join(f"reservation: {p.sentence()}\n" for p in bought))
    sys.stdout.write(f"{count(len(rendering.resources), 'resource')} in plan {loaded.name} as of {day}.\n")


def _text(resources: list[dict]) -> str:
    """One line per resource, indented under its parent, then its inputs one per line."""
    depth: dict[str, int] = {}
    lines = []
    for resource in resources:
        level = depth.get(resource["parent"], -1) + 1
        depth[f"{resource['type']}::{resource['name']}"] = level
        pad = "  " * level
        lines.append(f"{pad}{resource['type']}  {resource['name']}")
        for key, value in resource["inputs"].items():
            lines.append(f"{pad}    {key}: {json.dumps(value, sort_keys=True)}")
    return "".join(line + "\n" for line in lines)
