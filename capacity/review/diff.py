"""What a change to a plan means: the objects changed, GPUs and money per provider and site, risks.

`diff_plans(base, head, as_of)` compares two valid plans. "Active or future" leases are those
that end after `as_of` (today by default); a lease that has ended is history and carries no risk.
The JSON shape (`PlanDiff.as_json`) is the contract of docs/plan-format.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from capacity.plan import schedule
from capacity.review import economics
from capacity.review.link_risks import link_path_risks
from capacity.review.economics import Totals, Usage, Window
from capacity.plan.model import Cluster, Lease, Reservation
from capacity.plan.loading import LoadedPlan
from capacity.words import count
from capacity.review.quotas import QuotaChange, quota_changes

LEVELS = ("high", "medium", "low")
OBJECTS = ("plan", "site", "link", "cluster", "reservation", "lease")
KINDS = ("added", "removed", "changed")
# Cluster fields whose change replaces the nodes (the reservation is compared on its own).
REPLACING = ("site", "instance_type", "accelerator")


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    object: str  # site | link | cluster | reservation | lease
    name: str
    detail: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # dotted field -> (base, head)
    site: str | None = None

    def as_json(self) -> dict:
        return {"kind": self.kind, "object": self.object, "name": self.name, "detail": self.detail,
                "site": self.site,
                "fields": {k: {"base": b, "head": h} for k, (b, h) in self.fields.items()}}


@dataclass(frozen=True)
class Risk:
    level: str  # high | medium | low
    kind: str  # capacity-removed, lease-cancelled, ...
    name: str
    message: str
    objects: tuple[str, ...] = ()  # "cluster:train-a", "lease:acme-q1", ...

    def as_json(self) -> dict:
        return {"level": self.level, "kind": self.kind, "name": self.name, "message": self.message,
                "objects": list(self.objects)}


@dataclass(frozen=True)
class Delta:
    """A figure on both sides."""

    base: float
    head: float

    @property
    def delta(self) -> float:
        return self.head - self.base

    def as_json(self, money: bool = False) -> dict:
        if money:
            return {"base": round(self.base, 2), "head": round(self.head, 2), "delta": round(self.delta, 2)}
        return {"base": self.base, "head": self.head, "delta": self.delta}


@dataclass(frozen=True)
class Figures:
    """GPUs, run-rate and lease value of one group (a provider, a site, the whole plan) on both sides,
    and the GPU-hours leased out and used internally in the diff's window."""

    gpus: Delta
    monthly_cost: Delta
    lease_value: Delta
    leased_gpu_hours: Delta
    internal_gpu_hours: Delta
    idle_gpu_hours: Delta
    utilisation: Delta

    @classmethod
    def of(cls, base: tuple[Totals, Usage] | None, head: tuple[Totals, Usage] | None) -> "Figures":
        (bt, bu), (ht, hu) = base or (Totals(), Usage()), head or (Totals(), Usage())
        return cls(Delta(bt.gpus, ht.gpus), Delta(bt.monthly_cost, ht.monthly_cost),
                   Delta(bt.lease_value, ht.lease_value), Delta(bu.leased_gpu_hours, hu.leased_gpu_hours),
                   Delta(bu.internal_gpu_hours, hu.internal_gpu_hours), Delta(bu.idle_gpu_hours, hu.idle_gpu_hours),
                   Delta(round(bu.utilisation, 6), round(hu.utilisation, 6)))

    @property
    def changed(self) -> bool:
        return any(abs(d.delta) > 0.005 for d in (self.gpus, self.monthly_cost, self.lease_value,
                                                   self.leased_gpu_hours, self.internal_gpu_hours))

    def as_json(self) -> dict:
        utilisation = self.utilisation.as_json()
        utilisation["delta"] = round(utilisation["delta"], 6)
        return {"gpus": self.gpus.as_json(), "monthly_cost": self.monthly_cost.as_json(True),
                "lease_value": self.lease_value.as_json(True), "leased_gpu_hours": self.leased_gpu_hours.as_json(),
                "internal_gpu_hours": self.internal_gpu_hours.as_json(), "idle_gpu_hours": self.idle_gpu_hours.as_json(),
                "utilisation": utilisation}


@dataclass
class PlanDiff:
    base: LoadedPlan
    head: LoadedPlan
    base_label: str
    head_label: str
    as_of: dt.date
    window: Window  # GPU-hours are counted over it: every lease of either side
    total: Figures
    providers: dict[str, Figures]
    sites: dict[str, Figures]
    site_status: dict[str, str]  # added | removed | changed | unchanged
    site_provider: dict[str, str]
    gpu_changes: list[tuple[int, str, str]]  # (delta, accelerator, site), largest first
    changes: list[Change]
    risks: list[Risk]
    quotas: list[QuotaChange] = field(default_factory=list)
    """Tenants' GPU quotas in Kubernetes clusters that the change moves (capacity/review/quotas.py)."""

    @property
    def headline(self) -> str:
        return headline(self)

    def counts(self) -> dict:
        return {"changes": {k: sum(c.kind == k for c in self.changes) for k in KINDS},
                "risks": {level: sum(r.level == level for r in self.risks) for level in LEVELS}}

    @property
    def purchases(self) -> list[dict]:
        return purchases(self.head, self.as_of)

    def changed_clusters(self) -> list[str]:
        """Clusters whose own fields, reservation or leases changed, in plan order."""
        names = {c.name for c in self.changes if c.object in ("cluster", "reservation")}
        for change in self.changes:
            if change.object == "lease":
                for side in (self.base, self.head):
                    lease = side.plan.leases.get(change.name)
                    if lease is not None:
                        names.add(lease.cluster)
        order = list(self.head.plan.clusters) + [c for c in self.base.plan.clusters if c not in self.head.plan.clusters]
        return [name for name in order if name in names]

    def as_json(self) -> dict:
        return {
            "plans": {"base": {"source": self.base_label, "name": self.base.name},
                      "head": {"source": self.head_label, "name": self.head.name}},
            "as_of": self.as_of.isoformat(),
            "window": {"from": self.window.start.isoformat(), "to": self.window.end.isoformat(),
                       "hours": self.window.hours},
            "headline": self.headline,
            **self.total.as_json(),
            "providers": {name: figures.as_json() for name, figures in self.providers.items()},
            "sites": {name: {"provider": self.site_provider[name], "status": self.site_status[name],
                             **figures.as_json()} for name, figures in self.sites.items()},
            "counts": self.counts(),
            "changes": [c.as_json() for c in self.changes],
            "risks": [r.as_json() for r in self.risks],
            "purchases": self.purchases,
            **({"quotas": [q.as_json() for q in self.quotas]} if self.quotas else {}),
        }


def diff_plans(base: LoadedPlan, head: LoadedPlan, as_of: dt.date | None = None,
               base_label: str = "BASE", head_label: str = "HEAD") -> PlanDiff:
    as_of = as_of or dt.date.today()
    window = _window(base, head, as_of)
    base_book, head_book = (economics.book(side, window, over_time=False) for side in (base, head))
    changes = _Changes(base, head)
    changes.run()
    site_names = list(head.plan.sites) + [s for s in base.plan.sites if s not in head.plan.sites]
    site_names.sort(key=lambda s: (_site_provider(base, head, s), s))
    sites = {s: Figures.of(_side(base_book.sites, s), _side(head_book.sites, s)) for s in site_names}
    touched = {c.site for c in changes.out if c.site}
    return PlanDiff(
        base=base, head=head, base_label=base_label, head_label=head_label, as_of=as_of, window=window,
        total=Figures.of(_side({"": base_book.total}, ""), _side({"": head_book.total}, "")),
        providers={p: Figures.of(_side(base_book.providers, p), _side(head_book.providers, p))
                   for p in sorted(set(base_book.providers) | set(head_book.providers))},
        sites=sites,
        site_status={s: _site_status(base, head, s, s in touched or sites[s].changed) for s in site_names},
        site_provider={s: _site_provider(base, head, s) for s in site_names},
        gpu_changes=_gpu_changes(base, head),
        changes=changes.sorted(),
        risks=_Risks(base, head, as_of).run(),
        quotas=quota_changes(base, head, as_of),
    )


def _window(base: LoadedPlan, head: LoadedPlan, as_of: dt.date) -> Window:
    """Every lease of both sides; a year from `as_of` when neither has one."""
    leases = [*base.plan.leases.values(), *head.plan.leases.values()]
    if not leases:
        return Window(as_of, as_of + dt.timedelta(days=365))
    return Window(min(lease.start for lease in leases), max(lease.end for lease in leases))


def _side(groups: dict, name: str) -> tuple[Totals, Usage] | None:
    group = groups.get(name)
    return (group.totals, group.usage) if group is not None else None


def _site_provider(base: LoadedPlan, head: LoadedPlan, site: str) -> str:
    return (head.plan.sites.get(site) or base.plan.sites[site]).provider


def _site_status(base: LoadedPlan, head: LoadedPlan, site: str, touched: bool) -> str:
    if site not in base.plan.sites:
        return "added"
    if site not in head.plan.sites:
        return "removed"
    return "changed" if touched else "unchanged"


def _gpu_changes(base: LoadedPlan, head: LoadedPlan) -> list[tuple[int, str, str]]:
    counts: Counter = Counter()
    for sign, side in ((-1, base), (1, head)):
        for name, cluster in side.plan.clusters.items():
            counts[(side.types[name].accelerator, cluster.site)] += sign * side.gpus(name)
    moves = [(delta, acc, site) for (acc, site), delta in counts.items() if delta]
    return sorted(moves, key=lambda m: (-abs(m[0]), m[2], m[1]))


# ------------------------------------------------------------------ changes


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def _flat(data: dict, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def changed_fields(before: Any, after: Any, exclude: set[str] | None = None) -> dict[str, tuple[Any, Any]]:
    """Dotted fields whose values differ between two models (as JSON values)."""
    a = _flat(before.model_dump(mode="json", exclude=exclude))
    b = _flat(after.model_dump(mode="json", exclude=exclude))
    return {k: (a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a] if a.get(k) != b.get(k)}


def _fields_detail(fields: dict[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{k}: {_shown(b)} -> {_shown(h)}" for k, (b, h) in fields.items())


def _money(value: float) -> str:
    return f"${value:,.0f}"


def price_text(value: float) -> str:
    """$2.40, or every digit the plan gave ($2.375)."""
    return f"${value:.2f}" if abs(value * 100 - round(value * 100)) < 1e-9 else f"${value:g}"


def reserved(cluster: Cluster | None) -> Reservation | None:
    return cluster.reservation if cluster is not None and cluster.reserved else None


def _reservation_detail(r: Reservation) -> str:
    priced = f", {price_text(r.price_per_gpu_hour)}/GPU-h" if r.price_per_gpu_hour is not None else ""
    bought = f", bought {r.buy_day}" if r.buy_day else ""
    return f"{r.kind} {_span(r)}{priced}{bought}"


def purchases(side: LoadedPlan, as_of: dt.date) -> list[dict]:
    """The plan's reservations not run out by `as_of`, by the day each is bought, with the dollars
    each costs before its start."""
    return [{**p.as_json(), "spent_before_start": round(spent_before_start(side, p.cluster), 2)}
            for p in schedule.purchases(side, as_of) if p.state != schedule.ENDED]


def spent_before_start(side: LoadedPlan, cluster: str) -> float:
    """Dollars paid for a reservation before its planned start: a capacity reservation is billed
    from the day it is bought; a capacity block is paid whole when bought."""
    r = reserved(side.plan.clusters[cluster])
    if r is None or r.start is None or not r.lead:
        return 0.0
    per_gpu = economics.price(side, cluster).per_gpu_hour or 0.0
    days = (r.end - r.start).days if r.kind == "capacity-block" and r.end else r.lead
    return side.gpus(cluster) * days * economics.HOURS_PER_DAY * per_gpu


class _Changes:
    def __init__(self, base: LoadedPlan, head: LoadedPlan):
        self.base, self.head = base, head
        self.out: list[Change] = []

    def add(self, kind: str, obj: str, name: str, detail: str, fields=None, site: str | None = None) -> None:
        self.out.append(Change(kind, obj, name, detail, fields or {}, site))

    def run(self) -> None:
        self.metadata()
        self.sites()
        self.links()
        self.clusters()
        self.leases()

    def sorted(self) -> list[Change]:
        rank = {o: i for i, o in enumerate(OBJECTS)}
        return sorted(self.out, key=lambda c: (rank[c.object], c.name, KINDS.index(c.kind)))

    def metadata(self) -> None:
        fields = {f"metadata.{k}": v for k, v in changed_fields(self.base.plan.metadata, self.head.plan.metadata).items()}
        if fields:
            self.add("changed", "plan", self.head.name, _fields_detail(fields), fields)

    def sites(self) -> None:
        before, after = self.base.plan.sites, self.head.plan.sites
        for name in before.keys() | after.keys():
            a, b = before.get(name), after.get(name)
            if a is None or b is None:
                site = a or b
                owned = (f", {site.power_mw:g} MW, {price_text(site.cost_per_gpu_hour)}/GPU-h"
                         if site.provider == "owned" else "")
                self.add("removed" if b is None else "added", "site", name,
                         f"{site.provider} {site.location_label}, {site.network.cidr}{owned}", site=name)
            elif a != b:
                fields = changed_fields(a, b)
                self.add("changed", "site", name, _fields_detail(fields), fields, site=name)

    def links(self) -> None:
        before = {(frozenset(link.between), link.kind == "interconnect"): link for link in self.base.plan.links}
        after = {(frozenset(link.between), link.kind == "interconnect"): link for link in self.head.plan.links}
        for pair in before.keys() | after.keys():
            a, b = before.get(pair), after.get(pair)
            ends = sorted(pair[0])
            name = (b or a).name
            if a is None or b is None:
                link = a or b
                self.add("removed" if b is None else "added", "link", name, f"{ends[0]} <-> {ends[1]} ({link.kind})")
            elif fields := changed_fields(a, b, exclude={"between"}):
                self.add("changed", "link", name, _fields_detail(fields), fields)

    def clusters(self) -> None:
        before, after = self.base.plan.clusters, self.head.plan.clusters
        for name in before.keys() | after.keys():
            a, b = before.get(name), after.get(name)
            if a is None or b is None:
                side = self.base if b is None else self.head
                cluster = a or b
                entry = side.types[name]
                cost = economics.monthly_cost(side, name)
                self.add("removed" if b is None else "added", "cluster", name,
                         f"{side.gpus(name):,} {entry.accelerator} ({cluster.nodes} x {entry.instance_type}) "
                         f"on {cluster.site}, {_money(cost)}/month", site=cluster.site)
            elif a != b:
                fields = changed_fields(a, b, exclude={"reservation"})
                gpus = (self.base.gpus(name), self.head.gpus(name))
                types = (self.base.types[name].instance_type, self.head.types[name].instance_type)
                if fields:
                    detail = _fields_detail(fields)
                    if gpus[0] != gpus[1]:
                        detail += f" ({gpus[0]:,} -> {count(gpus[1], 'GPU')})"
                    if types[0] != types[1] and "instance_type" not in fields:
                        detail += f" (instance type {types[0]} -> {types[1]})"
                    self.add("changed", "cluster", name, detail, fields, site=b.site)
            self.reservation(name, reserved(a), reserved(b), (b or a).site)

    def reservation(self, cluster: str, a: Reservation | None, b: Reservation | None, site: str) -> None:
        if a is None and b is None or a == b:
            return
        if a is None or b is None:
            self.add("removed" if b is None else "added", "reservation", cluster,
                     f"{_reservation_detail(a or b)} on cluster {cluster}", site=site)
            return
        fields = changed_fields(a, b)
        self.add("changed", "reservation", cluster, _fields_detail(fields), fields, site=site)

    def leases(self) -> None:
        before, after = self.base.plan.leases, self.head.plan.leases
        for name, a in before.items():
            b = after.get(name)
            if b is None:
                self.add("removed", "lease", name, _lease_detail(a), site=self.base.plan.clusters[a.cluster].site)
            elif a != b:
                fields = changed_fields(a, b)
                value = economics.lease_value(b) - economics.lease_value(a)
                sign = "+" if value >= 0 else "-"
                self.add("changed", "lease", name, f"{_fields_detail(fields)} (value {sign}{_money(abs(value))})",
                         fields, site=self.head.plan.clusters[b.cluster].site)
        for name, b in after.items():
            if name not in before:
                self.add("added", "lease", name, _lease_detail(b), site=self.head.plan.clusters[b.cluster].site)


def _lease_detail(lease: Lease) -> str:
    priced = ("internal use" if lease.internal else
              f"{price_text(lease.price)}/GPU-h ({_money(economics.lease_value(lease))})")
    return f"{lease.tenant}: {count(lease.gpus, 'GPU')} on {lease.cluster}, {lease.start} to {lease.end}, {priced}"


# ------------------------------------------------------------------ risks

NO_REFUND = " Capacity blocks are paid up front and cannot be cancelled or cut: the spend stays."


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _span(r: Reservation) -> str:
    return f"{r.start or 'now'} to {r.end or 'open-ended'}"


def _objects(cluster: str, leases: dict[str, Lease]) -> list[str]:
    return [f"cluster:{cluster}"] + [f"lease:{n}" for n in leases]


def _peak_from(leases: list[Lease], day: dt.date) -> tuple[int, dt.date | None]:
    """Most GPUs the leases hold at once from `day` on, and the first day they do."""
    steps = economics.leased_steps(lease for lease in leases if lease.end > day)
    best, when = steps.at(day), day
    for later, gpus in zip(steps.days, steps.gpus):
        if later > day and gpus > best:
            best, when = gpus, later
    return best, (when if best else None)


class _Risks:
    """Risks of going from BASE to HEAD. Only leases that end after `as_of` count."""

    def __init__(self, base: LoadedPlan, head: LoadedPlan, as_of: dt.date):
        self.base, self.head, self.as_of = base, head, as_of
        self.out: list[Risk] = []
        self.open_base = self._open_by_cluster(base)
        self.open_head = self._open_by_cluster(head)

    def _open_by_cluster(self, side: LoadedPlan) -> dict[str, dict[str, Lease]]:
        """{cluster: {lease name: lease}} of the leases running or still to come."""
        out: dict[str, dict[str, Lease]] = defaultdict(dict)
        for name, lease in side.plan.leases.items():
            if lease.end > self.as_of:
                out[lease.cluster][name] = lease
        return dict(out)

    def add(self, level: str, kind: str, name: str, message: str, objects: list[str]) -> None:
        self.out.append(Risk(level, kind, name, message, tuple(objects)))

    def run(self) -> list[Risk]:
        self.renamed()
        self.sites()
        self.links()
        for risk in link_path_risks(self.base, self.head, self.as_of):
            self.add(*risk)
        self.capacity()
        self.reservations()
        self.paid_early()
        self.ending_under_leases()
        self.leases()
        self.below_cost()
        return sorted(self.out, key=lambda r: (LEVELS.index(r.level), r.kind, r.name))

    def running(self, lease: Lease) -> bool:
        return lease.start <= self.as_of < lease.end

    def renamed(self) -> None:
        old, new = self.base.name, self.head.name
        if old != new:
            self.add("high", "stack-renamed", new,
                     f"metadata.name changes from {old} to {new}: `up` creates a new stack {new} with every "
                     f"resource again (reservations held twice); the old stack {old} keeps running and billing "
                     f"until destroyed. To fix: keep the name, or destroy {old} once {new} is up.",
                     [f"plan:{old}", f"plan:{new}"])

    def sites(self) -> None:
        for name, site in self.base.plan.sites.items():
            if name in self.head.plan.sites:
                continue
            clusters = [c for c, spec in self.base.plan.clusters.items() if spec.site == name]
            leases = [lease for c in clusters for lease in self.open_base.get(c, {})]
            gpus = sum(self.base.gpus(c) for c in clusters)
            held = f" and {count(len(leases), 'active or future lease')} ({_names(leases)})" if leases else ""
            self.add("high" if leases else "medium", "site-removed", name,
                     f"site {name} ({site.provider} {site.location_label}) is removed with its "
                     f"{count(len(clusters), 'cluster')} ({count(gpus, 'GPU')}){held}.",
                     [f"site:{name}"] + [f"cluster:{c}" for c in clusters] + [f"lease:{n}" for n in leases])

    def links(self) -> None:
        kept = {frozenset(link.between) for link in self.head.plan.links}
        for link in self.base.plan.links:
            a, b = sorted(link.between)
            if frozenset(link.between) in kept or not {a, b} <= self.head.plan.sites.keys():
                continue  # kept, or a site went too (that is its own risk)
            at_a, at_b = self._tenants_at(a), self._tenants_at(b)
            shared = sorted(at_a.keys() & at_b.keys())
            if not shared:
                continue
            leases = sorted({name for tenant in shared for name in at_a[tenant] + at_b[tenant]})
            now = any(self.running(self.head.plan.leases[name]) for name in leases)
            many = len(shared) > 1
            self.add("high" if now else "medium", "link-removed", f"{a}--{b}",
                     f"the link {a} <-> {b} is removed, but tenant{'s' if many else ''} {_names(shared)} "
                     f"{'have' if many else 'has'} {'running' if now else 'future'} leases at both sites "
                     f"({_names(leases)}).",
                     [f"link:{a}--{b}"] + [f"lease:{name}" for name in leases])

    def _tenants_at(self, site: str) -> dict[str, list[str]]:
        """{tenant: lease names} of HEAD's running or future leases on the site's clusters."""
        out: dict[str, list[str]] = defaultdict(list)
        for cluster, leases in self.open_head.items():
            if self.head.plan.clusters[cluster].site == site:
                for name, lease in leases.items():
                    out[lease.tenant].append(name)
        return out

    def capacity(self) -> None:
        """Clusters that held leases in BASE: a removed one is told with BASE's leases (they are what
        it breaks); a shrunk or replaced one with HEAD's (they are what it must hold)."""
        for name, leases in self.open_base.items():
            if name not in self.head.plan.clusters:
                self._cluster_removed(name, leases, _objects(name, leases))
                continue
            leases = self.open_head.get(name, {})
            if self.head.gpus(name) < self.base.gpus(name):
                self._cluster_shrunk(name, leases, _objects(name, leases))
            elif leases:
                self._cluster_replaced(name, leases, _objects(name, leases))

    def _cluster_removed(self, name: str, leases: dict[str, Lease], objects: list[str]) -> None:
        moved = all(n in self.head.plan.leases for n in leases)  # every lease now lives elsewhere
        self.add("medium" if moved else "high", "capacity-removed", name,
                 f"cluster {name} ({count(self.base.gpus(name), 'GPU')}) is removed under "
                 f"{count(len(leases), 'active or future lease')} ({_names(list(leases))})"
                 + ("; they all move to other clusters." if moved else "."), objects)

    def _cluster_shrunk(self, name: str, leases: dict[str, Lease], objects: list[str]) -> None:
        before, after = self.base.gpus(name), self.head.gpus(name)
        need, when = _peak_from(list(leases.values()), self.as_of)
        if need > after:
            message = (f"cluster {name} shrinks from {before:,} to {count(after, 'GPU')}, but its active and future "
                       f"leases held {count(need, 'GPU')} at once (from {when}): they no longer fit.")
        else:
            fits = "they still fit" if len(leases) != 1 else "it still fits"
            message = (f"cluster {name} shrinks from {before:,} to {count(after, 'GPU')} under "
                       f"{count(len(leases), 'active or future lease')}; {fits} (at most {count(need, 'GPU')} at once).")
        self.add("high" if need > after else "medium", "capacity-shrunk", name, message, objects)

    def _cluster_replaced(self, name: str, leases: dict[str, Lease], objects: list[str]) -> None:
        before, after = self.base.plan.clusters[name], self.head.plan.clusters[name]
        what = [f for f in REPLACING if getattr(before, f) != getattr(after, f)] + self._site_moved(after.site)
        if not what:
            return
        now = [n for n, lease in leases.items() if self.running(lease)]
        self.add("medium" if now else "low", "capacity-replaced", name,
                 f"cluster {name} is replaced ({', '.join(what)} changes): "
                 + (f"running leases {_names(now)} move to new nodes." if now
                    else f"{count(len(leases), 'future lease')} will start on new nodes."), objects)

    def _site_moved(self, site: str) -> list[str]:
        a, b = self.base.plan.sites.get(site), self.head.plan.sites[site]
        if a is None or a == b:
            return []
        return [f"site {f}" for f in ("provider", "region", "location") if getattr(a, f, None) != getattr(b, f, None)]

    def reservations(self) -> None:
        for name, spec in self.base.plan.clusters.items():
            a = reserved(spec)
            if a is None or (a.end is not None and a.end <= self.as_of):
                continue  # nothing held, or it has run out
            cluster = self.head.plan.clusters.get(name)
            b = reserved(cluster)
            leases = list((self.open_base if cluster is None else self.open_head).get(name, {}))
            objects = [f"cluster:{name}"] + [f"lease:{n}" for n in leases]
            block = a.kind == "capacity-block"
            refund = NO_REFUND if block else ""
            if b is None:
                held = (f" {count(len(leases), 'active or future lease')} depend{'s' if len(leases) == 1 else ''} "
                        f"on it ({_names(leases)}).") if leases else ""
                self.add("high" if block or leases else "medium", "reservation-removed", name,
                         f"the {a.kind} of cluster {name} ({_span(a)}) is removed." + (refund or held), objects)
            elif a.kind != b.kind:
                self.add("high" if block else "medium", "reservation-changed", name,
                         f"the reservation of cluster {name} changes from {a.kind} to {b.kind}." + refund, objects)
            else:
                later_start = (b.start or dt.date.min) > (a.start or dt.date.min)
                if later_start or (b.end or dt.date.max) < (a.end or dt.date.max):
                    self.add("high" if block else "medium", "reservation-shortened", name,
                             f"the {a.kind} of cluster {name} is shortened: it holds {_span(b)} instead of "
                             f"{_span(a)}." + refund, objects)
                if block and cluster.nodes < spec.nodes:
                    self.add("high", "reservation-shrunk", name, f"the capacity block of cluster {name} drops "
                             f"from {spec.nodes} to {cluster.nodes} nodes." + NO_REFUND, objects)

    def paid_early(self) -> None:
        """HEAD's reservations bought ahead of their start, when this change makes or alters that spend."""
        for name, cluster in self.head.plan.clusters.items():
            r = reserved(cluster)
            if r is None or r.buy_day is None or not r.lead or r.start <= self.as_of:
                continue  # nothing bought ahead, or it has started: the early spend is history
            spent = spent_before_start(self.head, name)
            before = self.base.plan.clusters.get(name)
            was = reserved(before)
            if (was is not None and was.buy_day is not None and r.buy_day >= was.buy_day
                    and spent <= spent_before_start(self.base, name) + 0.005):
                continue  # no new, larger or earlier spend ahead of the start
            gpus = self.head.gpus(name)
            when = f"bought on {r.buy_day}, {count(r.lead, 'day')} before its start on {r.start}"
            if r.kind == "capacity-block":
                message = f"the capacity block of cluster {name} is {when}, and paid whole then: {_money(spent)}."
            else:
                per_gpu = economics.price(self.head, name).per_gpu_hour or 0.0
                message = (f"the {r.kind} of cluster {name} is {when}: {_money(spent)} is billed before its start "
                           f"({gpus:,} GPUs x {count(r.lead * economics.HOURS_PER_DAY, 'hour')} x "
                           f"{price_text(per_gpu)}). To fix: lower `reservation.lead_days` if the capacity can "
                           "be bought later.")
            self.add("low" if r.kind == "capacity-block" else "medium", "reservation-paid-early", name, message,
                     [f"cluster:{name}"])

    def ending_under_leases(self) -> None:
        """HEAD's reservations that run out while leases on them still run."""
        for name, cluster in self.head.plan.clusters.items():
            r = reserved(cluster)
            if r is None or r.end is None:
                continue
            over = {n: lease for n, lease in self.open_head.get(name, {}).items()
                    if lease.end > r.end and not self._outlived_before(name, n, r.end, lease.end)}
            if not over:
                continue
            last = max(lease.end for lease in over.values())
            block = r.kind == "capacity-block"
            after = ("their capacity ends with the block" if block else
                     "from then their GPUs are on-demand, at the on-demand price and only if the cloud has them")
            self.add("high" if block else "medium", "reservation-ends-under-lease", name,
                     f"the {r.kind} of cluster {name} ends on {r.end}, but {count(len(over), 'lease')} on it "
                     f"({_names(list(over))}) run until {last}: {after}. To fix: extend the reservation to {last}.",
                     [f"cluster:{name}"] + [f"lease:{n}" for n in over])

    def _outlived_before(self, cluster: str, lease: str, reservation_end: dt.date, lease_end: dt.date) -> bool:
        """BASE already had the lease outlive the same reservation end: not news."""
        was, old = reserved(self.base.plan.clusters.get(cluster)), self.base.plan.leases.get(lease)
        return (was is not None and was.end == reservation_end and old is not None
                and (old.cluster, old.end) == (cluster, lease_end))

    def below_cost(self) -> None:
        """HEAD's sold leases priced under what their cluster's GPUs cost, when this change makes them so."""
        prices: dict[tuple[str, str], economics.Price] = {}

        def price(side: LoadedPlan, cluster: str) -> economics.Price:
            key = (side is self.head, cluster)
            if key not in prices:
                prices[key] = economics.price(side, cluster)
            return prices[key]

        for name, lease in self.head.plan.leases.items():
            if lease.internal or lease.end <= self.as_of:
                continue
            cost = price(self.head, lease.cluster)
            if cost.per_gpu_hour is None or lease.price >= cost.per_gpu_hour:
                continue
            old = self.base.plan.leases.get(name)
            if (old is not None and not old.internal and old.cluster in self.base.plan.clusters
                    and (old.price, price(self.base, old.cluster)) == (lease.price, cost)):
                continue
            loss = (cost.per_gpu_hour - lease.price) * lease.gpus * economics.lease_hours(lease)
            self.add("medium", "lease-below-cost", name,
                     f"lease {name} ({lease.tenant}) pays {price_text(lease.price)} per GPU-hour on cluster "
                     f"{lease.cluster}, whose GPUs cost {price_text(cost.per_gpu_hour)} ({cost.source} price): "
                     f"{_money(loss)} lost over its term.", [f"lease:{name}", f"cluster:{lease.cluster}"])

    def leases(self) -> None:
        after = self.head.plan.leases
        for name, a in self.base.plan.leases.items():
            if a.end <= self.as_of:
                continue  # history
            b = after.get(name)
            objects = [f"lease:{name}", f"cluster:{a.cluster}"]
            if b is None:
                self._lease_cancelled(name, a, objects)
            elif a != b:
                self._lease_changed(name, a, b, objects)

    def _lease_cancelled(self, name: str, a: Lease, objects: list[str]) -> None:
        hours = a.gpus * (a.end - max(a.start, self.as_of)).days * economics.HOURS_PER_DAY
        now = self.running(a)
        what = f"{a.tenant}, {count(a.gpus, 'GPU')} on {a.cluster} until {a.end}"
        when = "while running" if now else "before it starts"
        if a.internal:
            self.add("medium" if now else "low", "internal-use-cancelled", name,
                     f"internal use {name} ({what}) is cancelled {when}: {hours:,} GPU-hours of the company's "
                     "own work lose their capacity.", objects)
            return
        self.add("high" if now else "medium", "lease-cancelled", name,
                 f"lease {name} ({what}) is cancelled {when}: {_money(hours * a.price)} of contracted revenue is lost.",
                 objects)

    def _lease_changed(self, name: str, a: Lease, b: Lease, objects: list[str]) -> None:
        who = f"lease {name} ({a.tenant})"
        if b.end < a.end or b.start > a.start:
            ended = b.end <= self.as_of
            lost = economics.lease_value(a) - economics.lease_value(b)
            self.add("high" if ended else "medium", "lease-shortened", name,
                     f"{who} is shortened: it runs {b.start} to {b.end} instead of {a.start} to {a.end}"
                     + (", so it has already ended" if ended else "") + f" ({_money(lost)} less).", objects)
        if b.gpus < a.gpus:
            self.add("medium", "lease-shrunk", name, f"{who} shrinks from {a.gpus:,} to {count(b.gpus, 'GPU')}.", objects)
        if a.internal != b.internal:
            self.add("medium" if b.internal else "low", "lease-internal-changed", name,
                     f"{who} becomes internal use: {_money(economics.lease_value(a))} of contracted revenue is gone."
                     if b.internal else f"{who} is now sold at {price_text(b.price)} per GPU-hour instead of "
                                        "internal use.", objects)
        elif b.price != a.price:
            self.add("medium" if b.price < a.price else "low", "lease-repriced", name,
                     f"{who} is repriced from {price_text(a.price)} to {price_text(b.price)} per GPU-hour.", objects)
        if b.cluster != a.cluster:
            now = self.running(a)
            self.add("medium" if now else "low", "lease-moved", name,
                     f"{who} moves from cluster {a.cluster} to {b.cluster}{' while running' if now else ''}.",
                     objects + [f"cluster:{b.cluster}"])
        if b.tenant != a.tenant:
            self.add("medium", "lease-reassigned", name, f"lease {name} passes from tenant {a.tenant} to {b.tenant}.",
                     objects)


# ------------------------------------------------------------------ headline


def compact_money(value: float, signed: bool = False) -> str:
    """$1.2M, -$45.6K, $999: three significant digits."""
    size, unit, a = 1.0, "", abs(value)
    for size, unit in ((1e9, "B"), (1e6, "M"), (1e3, "K"), (1.0, "")):
        if a >= size * 0.9995:
            break
    text = f"{a / size:.3g}" if a >= 1 else f"{a:.2g}"
    sign = ("+" if value > 0 else "-" if value < 0 else "") if signed else ("-" if value < 0 else "")
    return f"{sign}${text}{unit}"


def signed(value: int) -> str:
    return f"{value:+,}" if value else "0"


def headline(d: PlanDiff) -> str:
    if not d.changes:
        return f"No changes to {d.head.name}"
    parts = [f"{signed(delta)} {acc} on {site}" for delta, acc, site in d.gpu_changes[:3]]
    if len(d.gpu_changes) > 3:
        parts.append(f"{len(d.gpu_changes) - 3} more GPU changes")
    if not parts:
        parts.append("no GPU change")
    cost = d.total.monthly_cost.delta
    parts.append(f"{compact_money(cost, True)}/month" if round(cost) else "no run-rate change")
    value = d.total.lease_value.delta
    if round(value):
        parts.append(f"lease value {compact_money(value, True)}")
    counts = d.counts()["risks"]
    risks = [f"{counts[level]:,} {level}" for level in LEVELS if counts[level]]
    total = sum(counts.values())
    parts.append(f"{' and '.join(risks) if len(risks) < 3 else ', '.join(risks)} risk{'s' if total > 1 else ''}"
                 if risks else "no risks")
    return ", ".join(parts)


# Every kind of risk, as documented in docs/plan-format.md ("Risks").
RISK_KINDS = ("stack-renamed", "site-removed", "link-removed", "only-path-removed", "capacity-removed", "capacity-shrunk",
              "capacity-replaced", "reservation-removed", "reservation-changed", "reservation-shortened",
              "reservation-shrunk", "reservation-paid-early", "reservation-ends-under-lease", "lease-cancelled",
              "internal-use-cancelled", "lease-shortened", "lease-shrunk", "lease-repriced", "lease-moved",
              "lease-reassigned", "lease-internal-changed", "lease-below-cost")
