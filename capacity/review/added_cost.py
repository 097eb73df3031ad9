"""What GPUs added to a plan cost over a window: the one rule `fit` prices its options with.

A cluster's GPUs cost its committed price per GPU-hour inside its reservation's window and its
on-demand price outside it (an owned site: its `cost_per_gpu_hour` all the time). A capacity
reservation with no price of its own bills at the on-demand price; a capacity block with none at
the catalog's figure (an estimate: block prices move with demand).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from capacity.plan.catalog import InstanceType
from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Reservation

HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Rate:
    """How one cluster's GPUs are billed, per GPU-hour."""

    outside: float | None
    """On-demand (or an owned site's cost), outside any reservation; None: the catalog has no price."""
    inside: float | None = None
    """Committed, inside [start, end) of the reservation."""
    start: dt.date | None = None
    end: dt.date | None = None


def rate(entry: InstanceType, reservation: Reservation | None, owned_cost: float | None = None) -> Rate:
    """The rate of GPUs of type `entry` under `reservation` (owned_cost: an owned site's price)."""
    outside = owned_cost if owned_cost is not None else entry.price_per_gpu_hour
    if reservation is None or reservation.kind == "none":
        return Rate(outside)
    inside = reservation.price_per_gpu_hour if reservation.price_per_gpu_hour is not None else entry.price_per_gpu_hour
    return Rate(outside, inside, reservation.start, reservation.end)


def cluster_rate(loaded: LoadedPlan, cluster: str) -> Rate:
    spec = loaded.plan.clusters[cluster]
    site = loaded.plan.sites[spec.site]
    owned = site.cost_per_gpu_hour if site.provider == "owned" else None
    return rate(loaded.types[cluster], spec.reservation, owned)


def cost(billing: Rate, gpus: int, start: dt.date, end: dt.date) -> float | None:
    """`gpus` GPUs billed at `billing` over [start, end); None when a needed price is unknown."""
    inside_days = 0
    if billing.inside is not None:
        lo = max(start, billing.start or start)
        hi = min(end, billing.end or end)
        inside_days = max((hi - lo).days, 0)
    outside_days = (end - start).days - inside_days
    total = 0.0
    for days, price in ((inside_days, billing.inside), (outside_days, billing.outside)):
        if days:
            if price is None:
                return None
            total += days * HOURS_PER_DAY * gpus * price
    return round(total, 2)
