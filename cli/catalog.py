"""`capacity catalog`: the GPU instance types a plan can name, in a table that fits 80 columns."""

from __future__ import annotations

import sys
import textwrap
from typing import Annotated, Optional

import typer

from capacity.cli.output import CatalogOption, Format, FormatOption, color, emit_json, print_problems, say

WIDTH = 80
HEADER = ("provider", "instance type", "gpus", "mem/gpu", "$/h or kW", "regions")
RIGHT = {3, 4, 5}  # numbers are right-aligned
INDENT = len(HEADER[0]) + 2  # a --wide region list sits under the instance type


def catalog(
    provider: Annotated[Optional[str], typer.Option("--provider", "-p", help="Only this provider.")] = None,
    region: Annotated[Optional[str], typer.Option("--region", "-r", help="Only the types offered in this region.")]
    = None,
    wide: Annotated[bool, typer.Option("--wide", "-w", help="List each type's regions under it.")] = False,
    fmt: FormatOption = Format.text,
    catalog_file: CatalogOption = None,
) -> None:
    """List the GPU instance types: GPUs per node, memory per GPU, price per node-hour (power per
    node for owned hardware) and regions, in the order `accelerator:` picks from."""
    from capacity.plan.catalog import load_catalog
    from capacity.errors import PlanError

    try:
        cat = load_catalog(catalog_file)
    except PlanError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    _check_choice("--provider", provider, sorted({p for p, _ in cat.types}))
    entries = cat.of(provider)
    if region is not None:
        regions = sorted({r for p, names in cat.regions.items() if provider in (None, p) for r in names})
        if not regions:
            raise typer.BadParameter(f"{provider} has no regions: its types are offered at every site.",
                                     param_hint="--region")
        _check_choice("--region", region, regions)
        entries = [e for e in entries if region in e.regions]
    if fmt == Format.json:
        emit_json([entry.as_json() for entry in entries])
        return
    if not entries:
        say(f"No GPU instance types in {region}{f' on {provider}' if provider else ''}.")
        return
    sys.stdout.write("".join(line + "\n" for line in table(entries, wide, bold=color())))
    sys.stdout.write(f"figures as of {cat.as_of}\n")


def _check_choice(option: str, value: str | None, known: list[str]) -> None:
    from capacity.errors import did_you_mean

    if value is not None and value not in known:
        listed = f"Known: {', '.join(known)}." if len(known) <= 12 else "`capacity catalog --wide` lists them."
        raise typer.BadParameter(f"unknown {option.lstrip('-')} '{value}'.{did_you_mean(value, known)} {listed}",
                                 param_hint=option)


def table(entries: list, wide: bool = False, bold: bool = False) -> list[str]:
    """One line per type (and with `wide`, its regions wrapped under it), aligned columns."""
    rows = [_row(e) for e in entries]
    widths = [max(len(row[i]) for row in [HEADER, *rows]) for i in range(len(HEADER))]
    header = _line(HEADER, widths)
    lines = [f"\x1b[1m{header}\x1b[0m" if bold else header]
    for entry, row in zip(entries, rows):
        lines.append(_line(row, widths))
        if wide and entry.regions:
            lines += textwrap.wrap(" ".join(sorted(entry.regions)), WIDTH, initial_indent=" " * INDENT,
                                   subsequent_indent=" " * INDENT, break_on_hyphens=False)
    return lines


def _row(e) -> tuple[str, ...]:
    cost = f"${e.price_per_hour:,.2f}" if e.price_per_hour is not None else (
        f"{e.kw_per_node:g} kW" if e.kw_per_node is not None else "-")
    return (e.provider, e.instance_type, f"{e.gpus} {e.accelerator}", f"{e.gpu_memory_gb} GB", cost,
            str(len(e.regions)) if e.regions else "-")


def _line(cells: tuple[str, ...], widths: list[int]) -> str:
    return "  ".join(cell.rjust(w) if i in RIGHT else cell.ljust(w)
                     for i, (cell, w) in enumerate(zip(cells, widths))).rstrip()
