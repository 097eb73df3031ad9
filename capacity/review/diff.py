"""What a change to a plan means: the objects changed, GPUs and money per provider and site, risks.

`diff_plans(base, head, as_of)` compares two valid plans. "Active or future" leases are those
that end after `as_of` (today by default); a lease that has ended is history and carries no risk.
The JSON shape (`PlanDiff.as_json`) is the contract of docs/plan-format.md.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from capacity.plan import schedule
from capacity.plan.loading import LoadedPlan
from capacity.review import economics
from capacity.review.changes import KINDS, Change, Changes
from capacity.review.costs import spent_before_start
from capacity.review.economics import GroupBook, Totals, Usage, Window
from capacity.review.money import cents, compact
from capacity.review.quotas import QuotaChange, quota_changes
from capacity.review.risks import LEVELS, RISK_KINDS, Risk, risks



@dataclass(frozen=True)
class Delta:
    """A figure on both sides."""

    base: float
    head: float

    @property
    def delta(self) -> float:
        return self.head - self.base

    def as_json(self, money: bool = False) -> dict[str, float]:
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
    cost: Delta  # dollars over the diff's window, following dates (capacity/review/costs.py)
    revenue: Delta  # lease revenue over the window

    @classmethod
    def of(cls, base: tuple[Totals, Usage] | None, head: tuple[Totals, Usage] | None) -> "Figures":
        (bt, bu), (ht, hu) = base or (Totals(), Usage()), head or (Totals(), Usage())
        return cls(Delta(bt.gpus, ht.gpus), Delta(bt.monthly_cost, ht.monthly_cost),
                   Delta(bt.lease_value, ht.lease_value), Delta(bu.leased_gpu_hours, hu.leased_gpu_hours),
                   Delta(bu.internal_gpu_hours, hu.internal_gpu_hours), Delta(bu.idle_gpu_hours, hu.idle_gpu_hours),
                   Delta(round(bu.utilisation, 6), round(hu.utilisation, 6)), Delta(bu.cost, hu.cost),
                   Delta(bu.revenue, hu.revenue))

    @property
    def changed(self) -> bool:
        return any(abs(d.delta) > 0.005 for d in (self.gpus, self.monthly_cost, self.lease_value,
                                                   self.leased_gpu_hours, self.internal_gpu_hours, self.cost))

    def as_json(self) -> dict[str, Any]:
        utilisation = self.utilisation.as_json()
        utilisation["delta"] = round(utilisation["delta"], 6)
        return {"gpus": self.gpus.as_json(), "monthly_cost": self.monthly_cost.as_json(True),
                "lease_value": self.lease_value.as_json(True), "leased_gpu_hours": self.leased_gpu_hours.as_json(),
                "internal_gpu_hours": self.internal_gpu_hours.as_json(), "idle_gpu_hours": self.idle_gpu_hours.as_json(),
                "cost": self.cost.as_json(True), "revenue": self.revenue.as_json(True),
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

    def counts(self) -> dict[str, dict[str, int]]:
        return {"changes": {k: sum(c.kind == k for c in self.changes) for k in KINDS},
                "risks": {level: sum(r.level == level for r in self.risks) for level in LEVELS}}

    @property
    def purchases(self) -> list[dict[str, Any]]:
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

    def as_json(self) -> dict[str, Any]:
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
    changes = Changes(base, head)
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
        risks=risks(base, head, as_of),
        quotas=quota_changes(base, head, as_of),
    )


def _window(base: LoadedPlan, head: LoadedPlan, as_of: dt.date) -> Window:
    """Every lease of both sides; a year from `as_of` when neither has one."""
    leases = [*base.plan.leases.values(), *head.plan.leases.values()]
    if not leases:
        return Window(as_of, as_of + dt.timedelta(days=365))
    return Window(min(lease.start for lease in leases), max(lease.end for lease in leases))


def _side(groups: Mapping[str, GroupBook], name: str) -> tuple[Totals, Usage] | None:
    group = groups.get(name)
    return (group.totals, group.usage) if group is not None else None


def _site_provider(base: LoadedPlan, head: LoadedPlan, site: str) -> str:
    found: Any = head.plan.sites.get(site) or base.plan.sites[site]  # a provider's site model
    return str(found.provider)


def _site_status(base: LoadedPlan, head: LoadedPlan, site: str, touched: bool) -> str:
    if site not in base.plan.sites:
        return "added"
    if site not in head.plan.sites:
        return "removed"
    return "changed" if touched else "unchanged"


def _gpu_changes(base: LoadedPlan, head: LoadedPlan) -> list[tuple[int, str, str]]:
    counts: Counter[tuple[str, str]] = Counter()
    for sign, side in ((-1, base), (1, head)):
        for name, cluster in side.plan.clusters.items():
            counts[(side.types[name].accelerator, cluster.site)] += sign * side.gpus(name)
    moves = [(delta, acc, site) for (acc, site), delta in counts.items() if delta]
    return sorted(moves, key=lambda m: (-abs(m[0]), m[2], m[1]))


def purchases(side: LoadedPlan, as_of: dt.date) -> list[dict[str, Any]]:
    """The plan's reservations not run out by `as_of`, by the day each is bought, with the dollars
    each costs before its start."""
    return [{**p.as_json(), "spent_before_start": cents(spent_before_start(side, p.cluster))}
            for p in schedule.purchases(side, as_of) if p.state != schedule.ENDED]


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
    parts.append(f"{compact(cost, True)}/month" if round(cost) else "no run-rate change")
    spent = d.total.cost.delta
    if round(spent):
        parts.append(f"cost to {d.window.end} {compact(spent, True)}")
    value = d.total.lease_value.delta
    if round(value):
        parts.append(f"lease value {compact(value, True)}")
    counts = d.counts()["risks"]
    risks = [f"{counts[level]:,} {level}" for level in LEVELS if counts[level]]
    total = sum(counts.values())
    parts.append(f"{' and '.join(risks) if len(risks) < 3 else ', '.join(risks)} risk{'s' if total > 1 else ''}"
                 if risks else "no risks")
    return ", ".join(parts)


__all__ = ["Change", "Risk", "RISK_KINDS", "LEVELS", "KINDS", "PlanDiff", "Figures", "diff_plans", "headline"]
