"""Money and GPU figures of one plan: run-rates, lease values, leased GPUs over time, utilisation.

Conventions (docs/plan-format.md, "Machine-readable output"):
- what a cluster costs on each day is capacity/review/costs.py's rule (its reservation's price
  inside the reservation's window, on demand outside it, a capacity block only inside its block);
  the run-rate is a cluster at full size for a month (730 hours) at its committed price;
- a lease's value is GPUs x hours x price over its whole term (start inclusive, end exclusive),
  term by term where amendments change its GPUs or price;
- an internal lease (the company's own use) takes capacity like any lease but has no price: its
  GPU-hours count as use (`internal_gpu_hours`), never as revenue or lease value;
- utilisation is (leased + internal) GPU-hours over the GPU-hours available; the rest is idle;
- figures in a window [start, end) count GPU-hours inside it only; the cost of a lease's GPU-hours
  (its share of its cluster's cost) splits the cost into sold, internal use and idle.
"""

from __future__ import annotations

import bisect
import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Lease
from capacity.review import costs
from capacity.review.costs import HOURS_PER_DAY, HOURS_PER_MONTH, Price, monthly_cost
from capacity.review.link_costs import add_link_costs



def price(loaded: LoadedPlan, cluster: str) -> Price:
    """The cluster's committed price (its reservation's, else on demand)."""
    return costs.committed(loaded, cluster)


def lease_hours(lease: Lease) -> int:
    return (lease.end - lease.start).days * HOURS_PER_DAY


def lease_value(lease: Lease, since: dt.date = dt.date.min) -> float:
    """Revenue of the lease's terms from `since` on (its whole term by default)."""
    return lease_value_between(lease, since, dt.date.max)


def lease_value_between(lease: Lease, start: dt.date, end: dt.date) -> float:
    """Revenue of the lease's days in [start, end)."""
    return sum(t.gpus * _days(t.start, t.end, start, end) * HOURS_PER_DAY * t.price for t in lease.terms)


def below_cost(lease: Lease, cost_per_gpu_hour: float | None) -> float:
    """Dollars a sold lease loses over its term where its price is under `cost_per_gpu_hour` (0: none)."""
    if lease.internal or cost_per_gpu_hour is None:
        return 0.0
    return sum((cost_per_gpu_hour - t.price) * t.gpus * t.hours for t in lease.terms if t.price < cost_per_gpu_hour)


def _days(start: dt.date, end: dt.date, window_start: dt.date, window_end: dt.date) -> int:
    return max((min(end, window_end) - max(start, window_start)).days, 0)


def overlap_hours(start: dt.date, end: dt.date, window: "Window") -> int:
    return _days(start, end, window.start, window.end) * HOURS_PER_DAY


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
    for start, end, count in spans:
        change[start] += count
        if end is not None:
            change[end] -= count
    days: list[dt.date] = []
    gpus: list[int] = []
    held = 0
    for day in sorted(change):
        held += change[day]
        days.append(day)
        gpus.append(held)
    return Steps(tuple(days), tuple(gpus))


def leased_steps(leases: Iterable[Lease]) -> Steps:
    return _steps((t.start, t.end, t.gpus) for lease in leases for t in lease.terms)


def available(loaded: LoadedPlan, cluster: str) -> tuple[dt.date, dt.date | None]:
    """When a cluster's GPUs exist: a capacity block's days only; any other cluster always."""
    start, end = costs.runs(loaded, cluster)
    return start, (None if end == dt.date.max else end)


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
    sold_cost: float = 0.0  # the share of `cost` that the leased-out GPU-hours take
    internal_cost: float = 0.0  # the share that internal use takes: the cost of the company's own work

    @property
    def idle_cost(self) -> float:
        return max(self.cost - self.sold_cost - self.internal_cost, 0.0)

    @property
    def sold_margin(self) -> float:
        """Revenue less the cost of the GPU-hours sold: what the leases earn."""
        return self.revenue - self.sold_cost

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
        self.sold_cost += other.sold_cost
        self.internal_cost += other.internal_cost


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


def usage(loaded: LoadedPlan, cluster: str, leases: Iterable[Lease], window: Window) -> Usage:
    """The window's figures of a cluster and the leases on it, term by term."""
    spans = costs.spans(loaded, cluster, window.start, window.end)
    out = Usage(available_gpu_hours=costs.available_gpu_hours(loaded, cluster, window.start, window.end),
                cost=sum(loaded.gpus(cluster) * s.hours * (s.price.per_gpu_hour or 0.0) for s in spans))
    for lease in leases:
        for term in lease.terms:
            hours = term.gpus * overlap_hours(term.start, term.end, window)
            share = sum(term.gpus * _days(term.start, term.end, s.start, s.end) * HOURS_PER_DAY
                        * (s.price.per_gpu_hour or 0.0) for s in spans)
            if lease.internal:
                out.internal_gpu_hours += hours
                out.internal_cost += share
            else:
                out.leased_gpu_hours += hours
                out.revenue += hours * term.price
                out.sold_cost += share
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
        figures = usage(loaded, name, leases, window)
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
