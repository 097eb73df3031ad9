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

from capacity.plan.loading import LoadedPlan

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


def on_demand(loaded: LoadedPlan, cluster: str) -> Price:
    """The price with no reservation: the owned site's cost, else the catalog's on-demand price."""
    site = loaded.plan.sites[loaded.plan.clusters[cluster].site]
    if site.provider == "owned":
        return Price(site.cost_per_gpu_hour, "owned site")
    per_gpu = loaded.types[cluster].price_per_gpu_hour
    return Price(per_gpu, "catalog") if per_gpu is not None else Price(None, "none")


def committed(loaded: LoadedPlan, cluster: str) -> Price:
    """The price inside the reservation's window: the deal's, else the on-demand price."""
    spec = loaded.plan.clusters[cluster]
    if spec.reserved and spec.reservation is not None and spec.reservation.price_per_gpu_hour is not None:
        return Price(spec.reservation.price_per_gpu_hour, "reservation")
    return on_demand(loaded, cluster)


def reserved_window(loaded: LoadedPlan, cluster: str) -> tuple[dt.date, dt.date] | None:
    """[start, end) of the cluster's reservation (open ends as date.min / date.max); None without one."""
    spec = loaded.plan.clusters[cluster]
    if not spec.reserved or spec.reservation is None:
        return None
    return spec.reservation.start or dt.date.min, spec.reservation.end or dt.date.max


def runs(loaded: LoadedPlan, cluster: str) -> tuple[dt.date, dt.date]:
    """[start, end) when a cluster's GPUs exist: a capacity block's days; any other cluster always."""
    reservation = loaded.plan.clusters[cluster].reservation
    if reservation is not None and reservation.kind == "capacity-block" and reservation.start and reservation.end:
        return reservation.start, reservation.end
    return dt.date.min, dt.date.max


def spans(loaded: LoadedPlan, cluster: str, start: dt.date, end: dt.date) -> list[Span]:
    """The days of [start, end) the cluster runs, cut where its price changes."""
    first, last = runs(loaded, cluster)
    start, end = max(start, first), min(end, last)
    if start >= end:
        return []
    window = reserved_window(loaded, cluster)
    if window is None:
        return [Span(start, end, on_demand(loaded, cluster))]
    cuts = sorted({start, end, *(d for d in window if start < d < end)})
    out = []
    for a, b in zip(cuts, cuts[1:]):
        inside = window[0] <= a < window[1]
        out.append(Span(a, b, committed(loaded, cluster) if inside else on_demand(loaded, cluster)))
    return out


def price_on(loaded: LoadedPlan, cluster: str, day: dt.date) -> Price:
    """The cluster's price on `day` (its committed price on a day it does not run)."""
    found = spans(loaded, cluster, day, day + dt.timedelta(days=1))
    return found[0].price if found else committed(loaded, cluster)


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
