"""What a cluster costs, day by day: the one rule that report, diff, status and the charts use.

- Inside its reservation's window [start, end) a cluster costs the reservation's committed
  `price_per_gpu_hour`, or the catalog's on-demand price when the deal sets none.
- Outside the window it costs the on-demand price (an owned site's `cost_per_gpu_hour`, else the
  catalog's) while it runs: a capacity reservation that has ended leaves its nodes on demand.
- A capacity block's cluster runs only inside its block: it costs nothing outside it.
- The run-rate ("per month") is a cluster at full size for 730 hours at its committed price.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from capacity.plan.catalog import InstanceType
from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Reservation

HOURS_PER_MONTH = 730
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Price:
    """A cluster's cost per GPU-hour and where it comes from."""

    per_gpu_hour: float | None
    source: str  # "reservation" | "owned site" | "catalog" | "none"


@dataclass(frozen=True)
class Span:
    """[start, end): days a cluster runs at one price."""

    start: dt.date
    end: dt.date
    price: Price

    @property
    def hours(self) -> int:
        return (self.end - self.start).days * HOURS_PER_DAY


@dataclass(frozen=True)
class Rate:
    """How a cluster's GPUs are billed: the rule above as data, for a plan's cluster or one `fit` proposes."""

    outside: Price
    """On demand (or the owned site's cost): outside the reservation's window."""
    inside: Price | None = None
    """Committed: inside `window`; None without a reservation."""
    window: tuple[dt.date, dt.date] | None = None
    runs: tuple[dt.date, dt.date] = (dt.date.min, dt.date.max)
    """When the GPUs exist: a capacity block's days, any other cluster always."""


def rate(entry: InstanceType, reservation: Reservation | None, owned_cost: float | None = None) -> Rate:
    """The rate of nodes of type `entry` under `reservation` (owned_cost: an owned site's price)."""
    if owned_cost is not None:
        outside = Price(owned_cost, "owned site")
    elif entry.price_per_gpu_hour is not None:
        outside = Price(entry.price_per_gpu_hour, "catalog")
    else:
        outside = Price(None, "none")
    if reservation is None or reservation.kind == "none":
        return Rate(outside)
    inside = Price(reservation.price_per_gpu_hour, "reservation") if reservation.price_per_gpu_hour is not None \
        else outside
    window = (reservation.start or dt.date.min, reservation.end or dt.date.max)
    block = reservation.kind == "capacity-block" and reservation.start and reservation.end
    return Rate(outside, inside, window, window if block else (dt.date.min, dt.date.max))


def cluster_rate(loaded: LoadedPlan, cluster: str) -> Rate:
    """The rate of one of the plan's clusters."""
    spec = loaded.plan.clusters[cluster]
    site = loaded.plan.sites[spec.site]
    owned = site.cost_per_gpu_hour if site.provider == "owned" else None
    return rate(loaded.types[cluster], spec.reservation if spec.reserved else None, owned)


def on_demand(loaded: LoadedPlan, cluster: str) -> Price:
    """The price with no reservation: the owned site's cost, else the catalog's on-demand price."""
    return cluster_rate(loaded, cluster).outside


def committed(loaded: LoadedPlan, cluster: str) -> Price:
    """The price inside the reservation's window: the deal's, else the on-demand price."""
    billing = cluster_rate(loaded, cluster)
    return billing.inside or billing.outside


def reserved_window(loaded: LoadedPlan, cluster: str) -> tuple[dt.date, dt.date] | None:
    """[start, end) of the cluster's reservation (open ends as date.min / date.max); None without one."""
    return cluster_rate(loaded, cluster).window


def runs(loaded: LoadedPlan, cluster: str) -> tuple[dt.date, dt.date]:
    """[start, end) when a cluster's GPUs exist: a capacity block's days; any other cluster always."""
    return cluster_rate(loaded, cluster).runs


def rate_spans(billing: Rate, start: dt.date, end: dt.date) -> list[Span]:
    """The days of [start, end) the GPUs run, cut where their price changes."""
    start, end = max(start, billing.runs[0]), min(end, billing.runs[1])
    if start >= end:
        return []
    if billing.window is None or billing.inside is None:
        return [Span(start, end, billing.outside)]
    window = billing.window
    cuts = sorted({start, end, *(d for d in window if start < d < end)})
    return [Span(a, b, billing.inside if window[0] <= a < window[1] else billing.outside)
            for a, b in zip(cuts, cuts[1:])]


def spans(loaded: LoadedPlan, cluster: str, start: dt.date, end: dt.date) -> list[Span]:
    """The days of [start, end) the cluster runs, cut where its price changes."""
    return rate_spans(cluster_rate(loaded, cluster), start, end)


def price_on(loaded: LoadedPlan, cluster: str, day: dt.date) -> Price:
    """The cluster's price on `day` (its committed price on a day it does not run)."""
    found = spans(loaded, cluster, day, day + dt.timedelta(days=1))
    return found[0].price if found else committed(loaded, cluster)


def cost(billing: Rate, gpus: int, start: dt.date, end: dt.date) -> float | None:
    """`gpus` GPUs billed at `billing` over [start, end); None when a price needed is unknown."""
    total = 0.0
    for span in rate_spans(billing, start, end):
        if span.price.per_gpu_hour is None:
            return None
        total += gpus * span.hours * span.price.per_gpu_hour
    return round(total, 2)


def cluster_cost(loaded: LoadedPlan, cluster: str, start: dt.date, end: dt.date) -> float:
    """Dollars the cluster costs over [start, end) at full size (0 where no price is known)."""
    gpus = loaded.gpus(cluster)
    return sum(gpus * span.hours * (span.price.per_gpu_hour or 0.0) for span in spans(loaded, cluster, start, end))


def available_gpu_hours(loaded: LoadedPlan, cluster: str, start: dt.date, end: dt.date) -> int:
    """GPU-hours the cluster has over [start, end)."""
    first, last = runs(loaded, cluster)
    days = (min(end, last) - max(start, first)).days
    return max(days, 0) * HOURS_PER_DAY * loaded.gpus(cluster)


def monthly_cost(loaded: LoadedPlan, cluster: str) -> float:
    """The run-rate: the cluster at full size for 730 hours at its committed price (0 if unpriced)."""
    return (committed(loaded, cluster).per_gpu_hour or 0.0) * loaded.gpus(cluster) * HOURS_PER_MONTH


def spent_before_start(loaded: LoadedPlan, cluster: str) -> float:
    """Dollars paid for a reservation before its planned start: a capacity reservation is billed
    from the day it is bought; a capacity block is paid whole when bought."""
    spec = loaded.plan.clusters[cluster]
    r = spec.reservation
    if not spec.reserved or r is None or r.start is None or not r.lead:
        return 0.0
    per_gpu = committed(loaded, cluster).per_gpu_hour or 0.0
    days = (r.end - r.start).days if r.kind == "capacity-block" and r.end else r.lead
    return loaded.gpus(cluster) * days * HOURS_PER_DAY * per_gpu
