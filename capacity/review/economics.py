"""Money and GPU figures of one plan: run-rates, lease values, leased GPUs over time, utilisation.

Conventions (docs/plan-format.md, "Machine-readable output"):
- a month is 730 hours; the run-rate of a cluster is its full size for a month at its price per
  GPU-hour: the reservation's `price_per_gpu_hour` when the plan gives one, else the owned site's
  `cost_per_gpu_hour`, else the catalog's on-demand price;
- a lease's value is GPUs x hours x price over its whole term (start inclusive, end exclusive);
- an internal lease (the company's own use) takes capacity like any lease but has no price: its
  GPU-hours count as use (`internal_gpu_hours`), never as revenue or lease value;
- utilisation is (leased + internal) GPU-hours over the GPU-hours available; the rest is idle;
- figures in a window [start, end) count GPU-hours inside it only; a cluster on a capacity block
  has its GPUs (and costs them) during the block's days only, any other cluster all the time.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from capacity.review.link_costs import add_link_costs
from capacity.plan.model import Lease
from capacity.plan.loading import LoadedPlan

HOURS_PER_MONTH = 730
HOURS_PER_DAY = 24


@dataclass(frozen=True)
class Price:
    """A cluster's cost per GPU-hour and where it comes from."""

    per_gpu_hour: float | None
    source: str  # "reservation" | "owned site" | "catalog" | "none"


def price(loaded: LoadedPlan, cluster: str) -> Price:
    spec = loaded.plan.clusters[cluster]
    reservation = spec.reservation
    if spec.reserved and reservation.price_per_gpu_hour is not None:
        return Price(reservation.price_per_gpu_hour, "reservation")
    site = loaded.plan.sites[spec.site]
    if site.provider == "owned":
        return Price(site.cost_per_gpu_hour, "owned site")
    per_gpu = loaded.types[cluster].price_per_gpu_hour
    return Price(per_gpu, "catalog") if per_gpu is not None else Price(None, "none")


def monthly_cost(loaded: LoadedPlan, cluster: str) -> float:
    """The cluster at full size for 730 hours (0 when the catalog has no price for it)."""
    per_gpu = price(loaded, cluster).per_gpu_hour
    return (per_gpu or 0.0) * loaded.gpus(cluster) * HOURS_PER_MONTH


def lease_hours(lease: Lease) -> int:
    return (lease.end - lease.start).days * HOURS_PER_DAY


def lease_value(lease: Lease) -> float:
    return lease.gpus * lease_hours(lease) * lease.price


def overlap_hours(start: dt.date, end: dt.date, window: "Window") -> int:
    days = (min(end, window.end) - max(start, window.start)).days
    return max(days, 0) * HOURS_PER_DAY


@dataclass(frozen=True)
class Window:
    """[start, end): the days figures are counted over."""

    start: dt.date
    end: dt.date

    @property
    def hours(self) -> int:
        return (self.end - self.start).days * HOURS_PER_DAY

    def months(self) -> list["Window"]:
        """The calendar months the window touches, each cut to the window."""
        out, day = [], self.start
        while day < self.end:
            following = (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
            out.append(Window(day, min(following, self.end)))
            day = following
        return out


def default_window(loaded: LoadedPlan, today: dt.date | None = None) -> Window:
    """From the first lease's start to the last lease's end; a year from today without leases."""
    leases = loaded.plan.leases.values()
    if not leases:
        start = today or dt.date.today()
        return Window(start, start + dt.timedelta(days=365))
    return Window(min(lease.start for lease in leases), max(lease.end for lease in leases))


# ------------------------------------------------------------------ leased GPUs over time


@dataclass(frozen=True)
class Steps:
    """GPUs over time, a step function: from days[i] on (until days[i+1]) there are gpus[i]."""

    days: tuple[dt.date, ...] = ()
    gpus: tuple[int, ...] = ()

    def at(self, day: dt.date) -> int:
        i = bisect.bisect_right(self.days, day) - 1
        return self.gpus[i] if i >= 0 else 0

    def pieces(self, window: Window) -> Iterable[tuple[dt.date, dt.date, int]]:
        """(from, until, gpus) pieces covering the window."""
        cuts = [window.start] + [d for d in self.days if window.start < d < window.end] + [window.end]
        for start, end in zip(cuts, cuts[1:]):
            yield start, end, self.at(start)

    def gpu_hours(self, window: Window) -> int:
        return sum((end - start).days * HOURS_PER_DAY * gpus for start, end, gpus in self.pieces(window))

    def peak(self, window: Window) -> int:
        return max((gpus for _, _, gpus in self.pieces(window)), default=0)


def _steps(spans: Iterable[tuple[dt.date, dt.date | None, int]]) -> Steps:
    change: dict[dt.date, int] = defaultdict(int)
    for start, end, gpus in spans:
        change[start] += gpus
        if end is not None:
            change[end] -= gpus
    days, gpus, held = [], [], 0
    for day in sorted(change):
        held += change[day]
        days.append(day)
        gpus.append(held)
    return Steps(tuple(days), tuple(gpus))


def leased_steps(leases: Iterable[Lease]) -> Steps:
    return _steps((lease.start, lease.end, lease.gpus) for lease in leases)


def available(loaded: LoadedPlan, cluster: str) -> tuple[dt.date, dt.date | None]:
    """When a cluster's GPUs exist: a capacity block's days only; any other cluster always."""
    reservation = loaded.plan.clusters[cluster].reservation
    if reservation is not None and reservation.kind == "capacity-block" and reservation.start and reservation.end:
        return reservation.start, reservation.end
    return dt.date.min, None


def capacity_steps(loaded: LoadedPlan, clusters: Iterable[str]) -> Steps:
    return _steps((*available(loaded, name), loaded.gpus(name)) for name in clusters)


# ------------------------------------------------------------------ figures, summed by group


@dataclass
class Totals:
    """What a plan holds and costs, and its contracted book: the figures a diff compares."""

    gpus: int = 0
    monthly_cost: float = 0.0
    lease_value: float = 0.0

    def add(self, other: "Totals") -> None:
        self.gpus += other.gpus
        self.monthly_cost += other.monthly_cost
        self.lease_value += other.lease_value


@dataclass
class Usage:
    """Figures inside a window: GPU-hours leased out and used internally against those available,
    money in and out."""

    available_gpu_hours: int = 0
    leased_gpu_hours: int = 0
    internal_gpu_hours: int = 0
    revenue: float = 0.0
    cost: float = 0.0

    @property
    def used_gpu_hours(self) -> int:
        return self.leased_gpu_hours + self.internal_gpu_hours

    @property
    def idle_gpu_hours(self) -> int:
        return max(self.available_gpu_hours - self.used_gpu_hours, 0)

    @property
    def utilisation(self) -> float:
        return self.used_gpu_hours / self.available_gpu_hours if self.available_gpu_hours else 0.0

    @property
    def margin(self) -> float:
        return self.revenue - self.cost

    def add(self, other: "Usage") -> None:
        self.available_gpu_hours += other.available_gpu_hours
        self.leased_gpu_hours += other.leased_gpu_hours
        self.internal_gpu_hours += other.internal_gpu_hours
        self.revenue += other.revenue
        self.cost += other.cost


def cluster_totals(loaded: LoadedPlan) -> dict[str, Totals]:
    """GPUs, run-rate and lease value of each cluster (lease value counted on the lease's cluster)."""
    out = {name: Totals(loaded.gpus(name), monthly_cost(loaded, name)) for name in loaded.plan.clusters}
    for lease in loaded.plan.leases.values():
        out[lease.cluster].lease_value += lease_value(lease)
    return out


def site_totals(loaded: LoadedPlan) -> dict[str, Totals]:
    out = {name: Totals() for name in loaded.plan.sites}
    for name, totals in cluster_totals(loaded).items():
        out[loaded.plan.clusters[name].site].add(totals)
    return out


def provider_totals(loaded: LoadedPlan, by_site: dict[str, Totals]) -> dict[str, Totals]:
    out: dict[str, Totals] = {}
    for name, totals in by_site.items():
        out.setdefault(loaded.plan.sites[name].provider, Totals()).add(totals)
    return dict(sorted(out.items()))


@dataclass
class ClusterBook:
    """Everything the report says about one cluster."""

    name: str
    site: str
    provider: str
    accelerator: str
    instance_type: str
    nodes: int
    price: Price
    totals: Totals
    usage: Usage
    capacity: Steps  # GPUs that exist over time (a capacity block only in its days)
    steps: Steps  # GPUs leased out over time
    internal: Steps  # GPUs in internal use over time
    leases: list[str]


@dataclass
class GroupBook:
    totals: Totals = field(default_factory=Totals)
    usage: Usage = field(default_factory=Usage)

    def add(self, cluster: ClusterBook) -> None:
        self.totals.add(cluster.totals)
        self.usage.add(cluster.usage)


@dataclass
class Book:
    """A plan's economics in a window, per cluster and summed per site, per provider and in all."""

    plan: LoadedPlan
    window: Window
    clusters: dict[str, ClusterBook]
    sites: dict[str, GroupBook]
    providers: dict[str, GroupBook]
    total: GroupBook
    capacity: Steps  # GPUs across the plan over time
    steps: Steps  # GPUs leased out across the plan over time
    internal: Steps  # GPUs in internal use across the plan over time


def usage(leases: Iterable[Lease], available_gpu_hours: int, cost_per_gpu_hour: float, window: Window) -> Usage:
    """The window's figures of leases on GPU-hours that cost `cost_per_gpu_hour`."""
    out = Usage(available_gpu_hours=available_gpu_hours, cost=cost_per_gpu_hour * available_gpu_hours)
    for lease in leases:
        hours = lease.gpus * overlap_hours(lease.start, lease.end, window)
        if lease.internal:
            out.internal_gpu_hours += hours
        else:
            out.leased_gpu_hours += hours
            out.revenue += hours * lease.price
    return out


def split_steps(leases: Iterable[Lease]) -> tuple[Steps, Steps]:
    """(GPUs leased out, GPUs in internal use) over time."""
    leases = list(leases)
    return (leased_steps(lease for lease in leases if not lease.internal),
            leased_steps(lease for lease in leases if lease.internal))


def book(loaded: LoadedPlan, window: Window, over_time: bool = True) -> Book:
    """The plan's book; without `over_time`, its figures only (no GPU steps for charts: faster)."""
    plan = loaded.plan
    on_cluster: dict[str, list[tuple[str, Lease]]] = defaultdict(list)
    for name, lease in plan.leases.items():
        on_cluster[lease.cluster].append((name, lease))
    totals = cluster_totals(loaded)
    clusters = {}
    for name, spec in plan.clusters.items():
        leases = [lease for _, lease in on_cluster[name]]
        per_gpu = price(loaded, name)
        capacity = capacity_steps(loaded, [name])
        figures = usage(leases, capacity.gpu_hours(window), per_gpu.per_gpu_hour or 0.0, window)
        entry = loaded.types[name]
        clusters[name] = ClusterBook(name, spec.site, plan.sites[spec.site].provider, entry.accelerator,
                                     entry.instance_type, spec.nodes, per_gpu, totals[name], figures, capacity,
                                     *(split_steps(leases) if over_time else (Steps(), Steps())),
                                     [n for n, _ in on_cluster[name]])
    sites = {name: GroupBook() for name in plan.sites}
    providers = {provider: GroupBook() for provider in sorted(loaded.providers())}
    total = GroupBook()
    for cluster in clusters.values():
        for group in (sites[cluster.site], providers[cluster.provider], total):
            group.add(cluster)
    add_link_costs(loaded, sites, providers, total)
    return Book(loaded, window, clusters, sites, providers, total, capacity_steps(loaded, plan.clusters),
                *(split_steps(plan.leases.values()) if over_time else (Steps(), Steps())))
