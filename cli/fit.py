"""Where new demand fits: `capacity available PLAN` and `capacity fit PLAN`. Read-only, no engine,
no network; `fit --write` edits the plan file in place, and only with a plan that still validates."""

from __future__ import annotations

import datetime as dt
import enum
import sys
from pathlib import Path
from typing import Annotated, List, Optional

import typer

from capacity.cli.output import (
    CatalogOption,
    PlanArgument,
    day_option,
    emit_json,
    fail,
    load_or_exit,
    print_problems,
    remember_format,
    say,
)



class FitFormat(str, enum.Enum):
    text = "text"
    json = "json"
    markdown = "markdown"


FormatOption = Annotated[FitFormat, typer.Option("--format", "-f", help="Output format (markdown: for a PR comment).",
                                                 callback=remember_format)]


class Isolation(str, enum.Enum):
    dedicated = "dedicated-nodes"
    shared = "shared-quota"


def _known(value: str | None, choices, what: str, flag: str) -> None:
    """Exit 2 when `value` is not one of `choices`, with a did-you-mean."""
    from capacity.errors import did_you_mean

    choices = sorted(set(choices))
    if value is not None and value not in choices:
        raise typer.BadParameter(f"'{value}' is not {what}.{did_you_mean(value, choices)} "
                                 f"Known: {', '.join(choices[:40])}.", param_hint=flag)


def _accelerator(value: str | None, loaded) -> str | None:
    """The catalog's spelling of an accelerator given in any case (h100 is H100); exit 2 if unknown."""
    known = {t.accelerator for t in loaded.catalog.of()}
    spelled = {name.lower(): name for name in known}
    value = spelled.get(value.lower(), value) if value is not None else None
    _known(value, known, "an accelerator in the catalog", "--accelerator")
    return value


def _load(plan: str, catalog: str | None, fmt: FitFormat):
    from capacity.cli.output import Format

    return load_or_exit(plan, catalog, Format.json if fmt == FitFormat.json else Format.text)


def available(
    plan: PlanArgument,
    from_: Annotated[Optional[dt.date], day_option(
        "--from", help="First day shown (YYYY-MM-DD; default today).")] = None,
    to: Annotated[Optional[dt.date], day_option(
        "--to", help="Day after the last one shown (YYYY-MM-DD; default: the plan's last lease or reservation date).")] = None,
    accelerator: Annotated[Optional[str], typer.Option("--accelerator", help="Only clusters of this GPU model.")]
    = None,
    site: Annotated[Optional[List[str]], typer.Option("--site", help="Only this site (repeatable).")] = None,
    fmt: FormatOption = FitFormat.text,
    catalog: CatalogOption = None,
) -> None:
    """Each cluster's free GPUs over time, and owned sites' spare nodes and power headroom."""
    from capacity.review import fit_show
    from capacity.review.available import available as compute, default_end

    loaded = _load(plan, catalog, fmt)
    accelerator = _accelerator(accelerator, loaded)
    for name in site or []:
        _known(name, loaded.plan.sites, "a site of the plan", "--site")
    start = from_ or dt.date.today()
    end = to or default_end(loaded, start)
    if start >= end:
        raise typer.BadParameter(f"the window {start} to {end} is empty; --to must be after --from.",
                                 param_hint="'--from' / '--to'")
    result = compute(loaded, start, end, accelerator, set(site or []))
    if fmt == FitFormat.json:
        emit_json(result.as_json())
    else:
        render = fit_show.available_markdown if fmt == FitFormat.markdown else fit_show.available_text
        sys.stdout.write(render(result))


def fit(
    plan: PlanArgument,
    gpus: Annotated[int, typer.Option("--gpus", min=1, max=1_000_000, help="GPUs wanted.", show_default=False)],
    start: Annotated[dt.date, day_option("--start", help="First day of the demand (YYYY-MM-DD).")],
    end: Annotated[dt.date, day_option("--end", help="Day the demand ends (YYYY-MM-DD, exclusive).")],
    accelerator: Annotated[Optional[str], typer.Option("--accelerator", help="GPU model (H100...).")] = None,
    instance_type: Annotated[Optional[str], typer.Option("--instance-type", help="Or an exact instance type.")]
    = None,
    price: Annotated[Optional[float], typer.Option("--price", min=0, max=1_000_000,
                                                   help="Price per GPU-hour the tenant pays, USD: ranks by margin.")]
    = None,
    isolation: Annotated[Isolation, typer.Option("--isolation", help="How the lease holds its GPUs.")]
    = Isolation.dedicated,
    tenant: Annotated[Optional[str], typer.Option("--tenant", help="The tenant (needed by --write).")] = None,
    site: Annotated[Optional[List[str]], typer.Option("--site", help="Only at this site (repeatable).")] = None,
    provider: Annotated[Optional[List[str]], typer.Option("--provider", help="Only this provider (repeatable).")]
    = None,
    top: Annotated[int, typer.Option("--top", min=1, max=1000, help="Options shown.")] = 10,
    fmt: FormatOption = FitFormat.text,
    write: Annotated[Optional[str], typer.Option("--write", metavar="LEASE", help=(
        "Write the best option (or --option K) into the plan file as lease LEASE, with the cluster or "
        "reservation it needs; comments and layout stay."))] = None,
    option: Annotated[Optional[int], typer.Option("--option", min=1, help="The option --write writes (its rank).")]
    = None,
    as_of: Annotated[Optional[dt.date], day_option(
        "--as-of", help="Today, for what can be bought when (YYYY-MM-DD; default today).")] = None,
    catalog: CatalogOption = None,
) -> None:
    """Every place a new lease fits for its whole window: existing clusters, growth, new capacity; ranked."""
    from capacity.providers import specs
    from capacity.review.fit import Demand, fit as compute

    if (accelerator is None) == (instance_type is None):
        raise typer.BadParameter("give exactly one of --accelerator or --instance-type.",
                                 param_hint="'--accelerator' / '--instance-type'")
    if start >= end:
        raise typer.BadParameter(f"the demand starts {start}, on or after it ends {end}; "
                                 "--end must be after --start.", param_hint="'--start' / '--end'")
    if option is not None and write is None:
        raise typer.BadParameter("--option chooses what --write writes; give --write LEASE too.",
                                 param_hint="--option")
    _write_flags(plan, write, tenant, price)
    for name in provider or []:
        _known(name, specs(), "a provider", "--provider")
    loaded = _load(plan, catalog, fmt)
    accelerator = _accelerator(accelerator, loaded)
    _known(instance_type, {t.instance_type for t in loaded.catalog.of()}, "an instance type in the catalog",
           "--instance-type")
    for name in site or []:
        _known(name, loaded.plan.sites, "a site of the plan", "--site")
    if write and write in loaded.plan.leases:
        raise typer.BadParameter(f"the plan already has a lease '{write}'. To fix: name the new one.",
                                 param_hint="--write")
    demand = Demand(gpus, start, end, accelerator, instance_type, price, isolation.value, tenant,
                    frozenset(site or []), frozenset(provider or []), as_of or dt.date.today())
    result = compute(loaded, demand)
    written = _write(loaded, plan, catalog, result, write, option) if write else None
    _show(result, fmt, top, written)


def _write_flags(plan: str, write: str | None, tenant: str | None, price: float | None) -> None:
    from capacity.fields import check_name

    if write is None:
        return
    if plan == "-":
        raise typer.BadParameter("--write edits the plan file; a plan read from stdin has none.", param_hint="--write")
    try:
        check_name(write)
    except ValueError as exc:
        raise typer.BadParameter(f"lease name: {exc}.", param_hint="--write") from None
    if tenant is None or price is None:
        raise typer.BadParameter("a written lease needs --tenant and --price.", param_hint="--write")
    try:
        check_name(tenant)
    except ValueError as exc:
        raise typer.BadParameter(f"tenant: {exc}.", param_hint="--tenant") from None


def _write(loaded, plan: str, catalog: str | None, result, lease: str, option: int | None) -> dict:
    """Write the chosen option into the plan file, if the plan still validates with it; else exit 1."""
    import os
    import shutil

    from capacity.errors import PlanError
    from capacity.plan.edit import edit_text
    from capacity.plan.loading import load_plan
    from capacity.review.fit import plan_changes

    if not result.options:
        say("capacity fit: nothing fits, so nothing was written.")
        raise fail(1)
    rank = option or 1
    if rank > len(result.options):
        say(f"capacity fit: there are {len(result.options)} options; --option {rank} is not one of them.")
        raise fail(1)
    chosen = result.options[rank - 1]
    path = Path(plan).resolve()  # a symlinked plan: its target is edited, the link stays
    # bytes, not text mode: Windows line endings stay as they are
    text = edit_text(path.read_bytes().decode("utf-8"), plan_changes(loaded, chosen, result.demand, lease))
    temporary = path.with_name(f".{path.name}.fit-{os.getpid()}")
    try:
        temporary.write_bytes(text.encode("utf-8"))
        shutil.copymode(path, temporary)
        load_plan(temporary, catalog, shown_as=plan)
        os.replace(temporary, path)
    except PlanError as exc:
        say(f"capacity fit: the plan with option {rank} would not be valid, so {plan} is unchanged:")
        print_problems(exc.problems)
        raise fail(1) from None
    finally:
        temporary.unlink(missing_ok=True)
    say(f"wrote lease {lease} (option {rank}: {chosen.kind} on {chosen.cluster}) to {plan}; "
        f"review it with `capacity diff`.")
    return {"file": plan, "lease": lease, "option": rank}


def _show(result, fmt: FitFormat, top: int, written: dict | None) -> None:
    from capacity.review import fit_show

    if fmt == FitFormat.json:
        emit_json({**result.as_json(top), **({"written": written} if written else {})})
    elif fmt == FitFormat.markdown:
        sys.stdout.write(fit_show.fit_markdown(result, top))
    else:
        sys.stdout.write(fit_show.fit_text(result, top))


COMMANDS = (available, fit)
