"""New cloud capacity for a demand, within each provider's rules; and what would fit when nothing does.

At each cloud site of the plan (or of `--site`), each instance type of the demand's accelerator
offered in the site's region gives a new cluster: on-demand, under a capacity reservation (billed
at the on-demand price while held) and, where the provider sells them, under a capacity block.
AWS capacity blocks: 1 to 64 instances, 1 to 14 days in days or up to 182 days in whole weeks,
bought at most 8 weeks ahead: the option says the first day it can be bought.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import partial
from typing import Any

from capacity.fields import NAME_MAX
from capacity.plan.catalog import InstanceType
from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Reservation
from capacity.providers import ProviderSpec, spec
from capacity.review.costs import cost, rate
from capacity.plan.model import Lease
from capacity.review.fit import NEW, Demand, Option, fits
from capacity.review.timeline import Span, last_event, plus_days, spans

CAPACITY_BLOCK, CAPACITY_RESERVATION = "capacity-block", "capacity-reservation"
NOT_GUARANTEED = "on-demand: no capacity is held; GPU instances are often short, so launch early"


def new_options(loaded: LoadedPlan, demand: Demand) -> list[Option]:
    options = []
    for site_name, site in sorted(loaded.plan.sites.items()):
        if site.provider == "owned" or not demand.where(site_name, site.provider):
            continue
        for entry in loaded.catalog.of(site.provider):
            if demand.wants(entry) and entry.offered_in(site.region) and entry.price_per_hour is not None:
                options += _at_site(loaded, demand, site_name, entry)
    return options


def cluster_name(loaded: LoadedPlan, site: str, instance_type: str) -> str:
    """A name for a new cluster at `site`: '<site>-<type>', made a valid name not in the plan."""
    stem = re.sub(r"[^a-z0-9-]+", "-", f"{site}-{instance_type}".lower()).strip("-")[: NAME_MAX - 4].rstrip("-")
    name, n = stem, 2
    while name in loaded.plan.clusters:
        name, n = f"{stem}-{n}", n + 1
    return name


def _at_site(loaded: LoadedPlan, demand: Demand, site: str, entry: InstanceType) -> list[Option]:
    nodes = demand.nodes(entry.gpus)
    if nodes is None:
        return []
    provider = spec(entry.provider)
    name = cluster_name(loaded, site, entry.instance_type)
    option = partial(Option, site=site, cluster=name, provider=entry.provider, instance_type=entry.instance_type,
                     nodes=nodes, gpus=demand.gpus, revenue=demand.revenue, added_nodes=nodes)
    lasting = (f"the plan keeps cluster {name} after {demand.end} (a cluster has no end date): remove it then")
    paid = nodes * entry.gpus  # whole nodes are billed
    out = [option(NEW, cost=cost(rate(entry, None), paid, demand.start, demand.end),
                  covers=(demand.start, demand.end), changes=2, notes=(NOT_GUARANTEED, lasting))]
    if CAPACITY_RESERVATION in provider.reservation_kinds:
        held = Reservation(kind=CAPACITY_RESERVATION, start=demand.start, end=demand.end)
        out.append(option(NEW, cost=cost(rate(entry, held), paid, demand.start, demand.end),
                          covers=(demand.start, demand.end), changes=3,
                          reservation=_reservation_json(held, buy_from=None),
                          notes=("a capacity reservation bills at the on-demand price while held", lasting)))
    block = capacity_block(provider, nodes, demand.start, demand.end, demand.as_of)
    if block is not None:
        held, buy_from, notes = block
        days = _window(held)
        out.append(option(NEW, cost=cost(rate(entry, held), paid, *days),
                          covers=days, changes=3, reservation=_reservation_json(held, buy_from),
                          notes=notes))
    return out


def _window(r: Reservation) -> tuple[dt.date, dt.date]:
    """The first and the end day of a reservation made here (both always set)."""
    assert r.start is not None and r.end is not None
    return r.start, r.end


def _reservation_json(r: Reservation, buy_from: dt.date | None) -> dict[str, Any]:
    start, end = _window(r)
    return {"kind": r.kind, "start": start.isoformat(), "end": end.isoformat(),
            "price_per_gpu_hour": r.price_per_gpu_hour, "buy_from": buy_from.isoformat() if buy_from else None,
            "lead_days": r.lead_days}


def block_days(provider: ProviderSpec, days: int) -> int | None:
    """The shortest capacity block covering `days` days (whole weeks past 14); None if none can."""
    if provider.capacity_block_days is None:
        return None
    low, high = provider.capacity_block_days
    length = max(days, low)
    if length > 14:
        length = -(-length // 7) * 7
    return length if length <= high else None


def capacity_block(provider: ProviderSpec, nodes: int, start: dt.date, end: dt.date,
                   as_of: dt.date) -> tuple[Reservation, dt.date, tuple[str, ...]] | None:
    """(the block, the first day it can be bought, notes) for `nodes` over [start, end), or None."""
    if CAPACITY_BLOCK not in provider.reservation_kinds or provider.capacity_block_nodes is None:
        return None
    low, high = provider.capacity_block_nodes
    length = block_days(provider, (end - start).days)
    if not low <= nodes <= high or length is None or start < as_of or plus_days(start, length) == dt.date.max:
        return None
    ahead = provider.capacity_block_ahead_days or 0
    # bought as early as it can be: `ahead` days before it starts, or today when that has passed
    block_end = plus_days(start, length)
    held = Reservation(kind=CAPACITY_BLOCK, start=start, end=block_end,
                       lead_days=min(ahead, (start - as_of).days))
    buy_from = start - dt.timedelta(days=ahead)
    notes = [f"can be bought from {buy_from} ({provider.capacity_block_ahead_days} days ahead at most)"
             if buy_from > as_of else f"can be bought now (starts within {provider.capacity_block_ahead_days} days)"]
    if block_end > end:
        notes.append(f"blocks over 14 days come in whole weeks: {length} days, to {block_end}, "
                     f"{(block_end - end).days} more than the demand")
    notes.append("priced at the catalog's figure: capacity block prices move with demand")
    return held, buy_from, tuple(notes)


def nothing_fits(loaded: LoadedPlan, demand: Demand, grouped: dict[str, list[Lease]]) -> dict[str, Any]:
    """The nearest later window of the same length, and the largest share of the window, on a cluster."""
    days = (demand.end - demand.start).days
    horizon = plus_days(max(last_event(loaded) or demand.end, demand.end), days)
    nearest: dict[str, Any] | None = None
    largest: dict[str, Any] | None = None
    for name, cluster in loaded.plan.clusters.items():
        entry = loaded.types[name]
        if not demand.wants(entry) or not demand.where(cluster.site, entry.provider):
            continue
        need = demand.nodes(entry.gpus)
        if need is None:
            continue
        steps = spans(loaded, name, grouped.get(name, []), demand.start, horizon)
        found = _first_window(steps, demand, need, days)
        if found and (nearest is None or (found, name) < (nearest["start"], nearest["cluster"])):
            nearest = {"cluster": name, "start": found, "end": plus_days(found, days)}
        inside = [s for s in steps if s.start < demand.end]
        share = min((s.nodes * entry.gpus if demand.dedicated else s.gpus) for s in inside)
        if share and (largest is None or share > largest["gpus"]):
            largest = {"cluster": name, "gpus": share}
    if nearest:
        nearest = {**nearest, "start": nearest["start"].isoformat(), "end": nearest["end"].isoformat()}
    return {"nearest_window": nearest, "largest_share": largest}


def _first_window(steps: list[Span], demand: Demand, need: int, days: int) -> dt.date | None:
    """The first day from which the demand fits for `days` days (steps run to the horizon)."""
    run = None
    for span in steps:
        if not fits(span, demand, need):
            run = None
            continue
        run = span.start if run is None else run
        if (span.end - run).days >= days:
            return run
    return None
