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
    links: Annotated[bool, typer.Option("--links", help="List link prices instead: VPN connections and the "
                                                        "interconnect speeds each cloud sells.")] = False,
    fmt: FormatOption = Format.text,
    catalog_file: CatalogOption = None,
) -> None:
    """List the GPU instance types: GPUs per node, memory per GPU, price per node-hour (power per
    node for owned hardware) and regions, in the order `accelerator:` picks from; with --links, the
    link prices and speeds."""
    from capacity.plan.catalog import load_catalog
    from capacity.errors import PlanError

    try:
        cat = load_catalog(catalog_file)
    except PlanError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    if links:
        _links(cat, provider, fmt)
        return
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


def _links(cat, provider: str | None, fmt: Format) -> None:
    """The catalog's link prices: per provider, a VPN connection and each interconnect speed."""
    _check_choice("--provider", provider, sorted({key[0] for key in cat.links}))
    rows = [p for p in cat.links.values() if provider in (None, p.provider)]
    rows.sort(key=lambda p: (p.provider, p.kind, p.partner, p.bandwidth_gbps or 0))
    if fmt == Format.json:
        emit_json([{**p.model_dump(), "price_per_month": round(p.price_per_hour * 730, 2)} for p in rows])
        return
    for p in rows:
        speed = f"{p.bandwidth_gbps:g} Gbps" if p.bandwidth_gbps else "-"
        how = "partner" if p.partner else ("dedicated" if p.kind == "interconnect" else "")
        sys.stdout.write(f"{p.provider:<6} {p.kind:<12} {how:<9} {speed:>9} {p.price_per_hour:>8.3f}/h "
                         f"{p.price_per_hour * 730:>10,.0f}/month\n")
    sys.stdout.write(f"figures as of {cat.as_of}; data transfer not included\n")


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
