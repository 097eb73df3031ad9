"""`capacity catalog`: the GPU instance types a plan can name."""

from __future__ import annotations

import sys
from typing import Annotated, Optional

import typer

from cli.output import CatalogOption, Format, FormatOption, emit_json, is_tty


def catalog(
    provider: Annotated[Optional[str], typer.Option("--provider", "-p", help="Only this provider.")] = None,
    fmt: FormatOption = Format.text,
    catalog_file: CatalogOption = None,
) -> None:
    """List the GPU instance types, their GPUs, regions and prices."""
    from capacity.errors import PlanError, did_you_mean
    from capacity.catalog import load_catalog
    from cli.output import print_problems

    try:
        cat = load_catalog(catalog_file)
    except PlanError as exc:
        print_problems(exc.problems)
        raise typer.Exit(1) from None
    known = sorted({p for p, _ in cat.types})
    if provider is not None and provider not in known:
        raise typer.BadParameter(f"unknown provider '{provider}'.{did_you_mean(provider, known)} "
                                 f"Known: {', '.join(known)}.", param_hint="--provider")
    entries = cat.of(provider)
    if fmt == Format.json:
        emit_json([entry.as_json() for entry in entries])
        return
    rows = [(e.provider, e.instance_type, e.accelerator, str(e.gpus), f"{e.gpu_memory_gb} GB",
             "-" if e.price_per_hour is None else f"${e.price_per_hour:,.2f}",
             "-" if e.kw_per_node is None else f"{e.kw_per_node:g} kW", str(len(e.regions)))
            for e in entries]
    header = ("provider", "instance type", "accelerator", "gpus", "memory/gpu", "price/hour", "power", "regions")
    if is_tty():
        from rich.console import Console
        from rich.table import Table

        table = Table(*header, title=f"GPU catalog (figures as of {cat.as_of})")
        for row in rows:
            table.add_row(*row)
        Console().print(table)
        return
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        sys.stdout.write("  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    sys.stdout.write(f"figures as of {cat.as_of}\n")
