"""The risks of going from BASE to HEAD: one rule per function, all in `RULES`.

Only leases that end after `as_of` count: a lease that has ended is history and carries no risk.
Every kind a rule can raise is in `RISK_KINDS` and documented in docs/plan-format.md ("Risks").
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Callable

from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Lease, Reservation
from capacity.review import costs, economics
from capacity.review.changes import REPLACING, reserved, span
from capacity.review.costs import spent_before_start
from capacity.review.link_risks import link_path_risks
from capacity.review.money import dollars, price_text
from capacity.words import count

LEVELS = ("high", "medium", "low")


@dataclass(frozen=True)
class Risk:
    level: str  # high | medium | low
    kind: str  # capacity-removed, lease-cancelled, ...
    name: str
    message: str
    objects: tuple[str, ...] = ()  # "cluster:train-a", "lease:acme-q1", ...
    amount: float | None = None  # the dollars the message names, as a number (None: no money at stake)

    def as_json(self) -> dict[str, object]:
        return {"level": self.level, "kind": self.kind, "name": self.name, "message": self.message,
                "objects": list(self.objects), **({"amount": round(self.amount, 2)} if self.amount is not None else {})}


@dataclass
class Sides:
    """BASE and HEAD, the day risks are judged on, their open leases by cluster, the risks found."""

    base: LoadedPlan
    head: LoadedPlan
    as_of: dt.date
    out: list[Risk] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.open_base = self._open_by_cluster(self.base)
        self.open_head = self._open_by_cluster(self.head)

    def _open_by_cluster(self, side: LoadedPlan) -> dict[str, dict[str, Lease]]:
        """{cluster: {lease name: lease}} of the leases running or still to come."""
        out: dict[str, dict[str, Lease]] = defaultdict(dict)
        for name, lease in side.plan.leases.items():
            if lease.end > self.as_of:
                out[lease.cluster][name] = lease
        return dict(out)

    def add(self, level: str, kind: str, name: str, message: str, objects: list[str],
            amount: float | None = None) -> None:
        self.out.append(Risk(level, kind, name, message, tuple(objects), amount))

    def running(self, lease: Lease) -> bool:
        return lease.start <= self.as_of < lease.end

NO_REFUND = " Capacity blocks are paid up front and cannot be cancelled or cut: the spend stays."


def _names(names: list[str], limit: int = 5) -> str:
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


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


def renamed(s: Sides) -> None:
    old, new = s.base.name, s.head.name
    if old != new:
        s.add("high", "stack-renamed", new,
              f"metadata.name changes from {old} to {new}: `up` creates a new stack {new} with every "
              f"resource again (reservations held twice); the old stack {old} keeps running and billing "
              f"until destroyed. To fix: keep the name, or destroy {old} once {new} is up.",
              [f"plan:{old}", f"plan:{new}"])


def sites(s: Sides) -> None:
    for name, site in s.base.plan.sites.items():
        if name in s.head.plan.sites:
            continue
        clusters = [c for c, spec in s.base.plan.clusters.items() if spec.site == name]
        leases = [lease for c in clusters for lease in s.open_base.get(c, {})]
        gpus = sum(s.base.gpus(c) for c in clusters)
        held = f" and {count(len(leases), 'active or future lease')} ({_names(leases)})" if leases else ""
        s.add("high" if leases else "medium", "site-removed", name,
              f"site {name} ({site.provider} {site.location_label}) is removed with its "
              f"{count(len(clusters), 'cluster')} ({count(gpus, 'GPU')}){held}.",
              [f"site:{name}"] + [f"cluster:{c}" for c in clusters] + [f"lease:{n}" for n in leases])


def links(s: Sides) -> None:
    kept = {frozenset(link.between) for link in s.head.plan.links}
    for link in s.base.plan.links:
        a, b = sorted(link.between)
        if frozenset(link.between) in kept or not {a, b} <= s.head.plan.sites.keys():
            continue  # kept, or a site went too (that is its own risk)
        at_a, at_b = _tenants_at(s, a), _tenants_at(s, b)
        shared = sorted(at_a.keys() & at_b.keys())
        if not shared:
            continue
        leases = sorted({name for tenant in shared for name in at_a[tenant] + at_b[tenant]})
        now = any(s.running(s.head.plan.leases[name]) for name in leases)
        many = len(shared) > 1
        s.add("high" if now else "medium", "link-removed", f"{a}--{b}",
              f"the link {a} <-> {b} is removed, but tenant{'s' if many else ''} {_names(shared)} "
              f"{'have' if many else 'has'} {'running' if now else 'future'} leases at both sites "
              f"({_names(leases)}).",
              [f"link:{a}--{b}"] + [f"lease:{name}" for name in leases])


def _tenants_at(s: Sides, site: str) -> dict[str, list[str]]:
    """{tenant: lease names} of HEAD's running or future leases on the site's clusters."""
    out: dict[str, list[str]] = defaultdict(list)
    for cluster, leases in s.open_head.items():
        if s.head.plan.clusters[cluster].site == site:
            for name, lease in leases.items():
                out[lease.tenant].append(name)
    return out


def capacity(s: Sides) -> None:
    """Clusters that held leases in BASE: a removed one is told with BASE's leases (they are what
    it breaks); a shrunk or replaced one with HEAD's (they are what it must hold)."""
    for name, leases in s.open_base.items():
        if name not in s.head.plan.clusters:
            _cluster_removed(s, name, leases, _objects(name, leases))
            continue
        leases = s.open_head.get(name, {})
        if s.head.gpus(name) < s.base.gpus(name):
            _cluster_shrunk(s, name, leases, _objects(name, leases))
        elif leases:
            _cluster_replaced(s, name, leases, _objects(name, leases))


def _cluster_removed(s: Sides, name: str, leases: dict[str, Lease], objects: list[str]) -> None:
    moved = all(n in s.head.plan.leases for n in leases)  # every lease now lives elsewhere
    s.add("medium" if moved else "high", "capacity-removed", name,
          f"cluster {name} ({count(s.base.gpus(name), 'GPU')}) is removed under "
          f"{count(len(leases), 'active or future lease')} ({_names(list(leases))})"
          + ("; they all move to other clusters." if moved else "."), objects)


def _cluster_shrunk(s: Sides, name: str, leases: dict[str, Lease], objects: list[str]) -> None:
    before, after = s.base.gpus(name), s.head.gpus(name)
    need, when = _peak_from(list(leases.values()), s.as_of)
    if need > after:
        message = (f"cluster {name} shrinks from {before:,} to {count(after, 'GPU')}, but its active and future "
                   f"leases held {count(need, 'GPU')} at once (from {when}): they no longer fit.")
    else:
        fits = "they still fit" if len(leases) != 1 else "it still fits"
        message = (f"cluster {name} shrinks from {before:,} to {count(after, 'GPU')} under "
                   f"{count(len(leases), 'active or future lease')}; {fits} (at most {count(need, 'GPU')} at once).")
    s.add("high" if need > after else "medium", "capacity-shrunk", name, message, objects)


def _cluster_replaced(s: Sides, name: str, leases: dict[str, Lease], objects: list[str]) -> None:
    before, after = s.base.plan.clusters[name], s.head.plan.clusters[name]
    what = [f for f in REPLACING if getattr(before, f) != getattr(after, f)] + _site_moved(s, after.site)
    if not what:
        return
    now = [n for n, lease in leases.items() if s.running(lease)]
    s.add("medium" if now else "low", "capacity-replaced", name,
          f"cluster {name} is replaced ({', '.join(what)} changes): "
          + (f"running leases {_names(now)} move to new nodes." if now
             else f"{count(len(leases), 'future lease')} will start on new nodes."), objects)


def _site_moved(s: Sides, site: str) -> list[str]:
    a, b = s.base.plan.sites.get(site), s.head.plan.sites[site]
    if a is None or a == b:
        return []
    return [f"site {f}" for f in ("provider", "region", "location") if getattr(a, f, None) != getattr(b, f, None)]


def reservations(s: Sides) -> None:
    for name, spec in s.base.plan.clusters.items():
        a = reserved(spec)
        if a is None or (a.end is not None and a.end <= s.as_of):
            continue  # nothing held, or it has run out
        cluster = s.head.plan.clusters.get(name)
        b = reserved(cluster)
        leases = list((s.open_base if cluster is None else s.open_head).get(name, {}))
        objects = [f"cluster:{name}"] + [f"lease:{n}" for n in leases]
        block = a.kind == "capacity-block"
        refund = NO_REFUND if block else ""
        if b is None:
            held = (f" {count(len(leases), 'active or future lease')} depend{'s' if len(leases) == 1 else ''} "
                    f"on it ({_names(leases)}).") if leases else ""
            s.add("high" if block or leases else "medium", "reservation-removed", name,
                  f"the {a.kind} of cluster {name} ({span(a)}) is removed." + (refund or held), objects)
        elif a.kind != b.kind:
            s.add("high" if block else "medium", "reservation-changed", name,
                  f"the reservation of cluster {name} changes from {a.kind} to {b.kind}." + refund, objects)
        else:
            later_start = (b.start or dt.date.min) > (a.start or dt.date.min)
            if later_start or (b.end or dt.date.max) < (a.end or dt.date.max):
                s.add("high" if block else "medium", "reservation-shortened", name,
                      f"the {a.kind} of cluster {name} is shortened: it holds {span(b)} instead of "
                      f"{span(a)}." + refund, objects)
            if block and cluster is not None and cluster.nodes < spec.nodes:
                s.add("high", "reservation-shrunk", name, f"the capacity block of cluster {name} drops "
                      f"from {spec.nodes} to {cluster.nodes} nodes." + NO_REFUND, objects)


def paid_early(s: Sides) -> None:
    """HEAD's reservations bought ahead of their start, when this change makes or alters that spend."""
    for name, cluster in s.head.plan.clusters.items():
        r = reserved(cluster)
        if r is None or r.buy_day is None or r.start is None or not r.lead or r.start <= s.as_of:
            continue  # nothing bought ahead, or it has started: the early spend is history
        spent = spent_before_start(s.head, name)
        before = s.base.plan.clusters.get(name)
        was = reserved(before)
        if (was is not None and was.buy_day is not None and r.buy_day >= was.buy_day
                and spent <= spent_before_start(s.base, name) + 0.005):
            continue  # no new, larger or earlier spend ahead of the start
        gpus = s.head.gpus(name)
        when = f"bought on {r.buy_day}, {count(r.lead, 'day')} before its start on {r.start}"
        if r.kind == "capacity-block":
            message = f"the capacity block of cluster {name} is {when}, and paid whole then: {dollars(spent)}."
        else:
            per_gpu = costs.committed(s.head, name).per_gpu_hour or 0.0
            message = (f"the {r.kind} of cluster {name} is {when}: {dollars(spent)} is billed before its start "
                       f"({gpus:,} GPUs x {count(r.lead * costs.HOURS_PER_DAY, 'hour')} x "
                       f"{price_text(per_gpu)}). To fix: lower `reservation.lead_days` if the capacity can "
                       "be bought later.")
        s.add("low" if r.kind == "capacity-block" else "medium", "reservation-paid-early", name, message,
              [f"cluster:{name}"], spent)


def ending_under_leases(s: Sides) -> None:
    """HEAD's reservations that run out while leases on them still run."""
    for name, cluster in s.head.plan.clusters.items():
        r = reserved(cluster)
        if r is None or r.end is None:
            continue
        over = {n: lease for n, lease in s.open_head.get(name, {}).items()
                if lease.end > r.end and not _outlived_before(s, name, n, r.end, lease.end)}
        if not over:
            continue
        last = max(lease.end for lease in over.values())
        block = r.kind == "capacity-block"
        after = ("their capacity ends with the block" if block else
              "from then their GPUs are on-demand, at the on-demand price and only if the cloud has them")
        s.add("high" if block else "medium", "reservation-ends-under-lease", name,
              f"the {r.kind} of cluster {name} ends on {r.end}, but {count(len(over), 'lease')} on it "
              f"({_names(list(over))}) run until {last}: {after}. To fix: extend the reservation to {last}.",
              [f"cluster:{name}"] + [f"lease:{n}" for n in over])


def _outlived_before(s: Sides, cluster: str, lease: str, reservation_end: dt.date, lease_end: dt.date) -> bool:
    """BASE already had the lease outlive the same reservation end: not news."""
    was, old = reserved(s.base.plan.clusters.get(cluster)), s.base.plan.leases.get(lease)
    return (was is not None and was.end == reservation_end and old is not None
            and (old.cluster, old.end) == (cluster, lease_end))


def amendments(s: Sides) -> None:
    """Amendments HEAD adds, alters or drops on leases still to run: each valued from its own day,
    until the lease's next amendment or its end."""
    for name, b in s.head.plan.leases.items():
        a = s.base.plan.leases.get(name)
        if a is None or b.end <= s.as_of or a.amendments == b.amendments or (a.start, a.end) != (b.start, b.end):
            continue  # a new lease, history, no amendment change, or moved dates (lease-shortened says it)
        objects = [f"lease:{name}", f"cluster:{b.cluster}"]
        for amendment in b.amendments:
            if amendment not in a.amendments:
                _amendment_added(s, name, a, b, amendment.from_, objects)
        for amendment in a.amendments:
            if amendment.from_ not in {x.from_ for x in b.amendments}:
                day = amendment.from_
                change = economics.lease_value_between(b, day, _next_day(a, day)) - economics.lease_value_between(
                    a, day, _next_day(a, day))
                s.add("high" if day <= s.as_of else "medium", "amendment-removed", name,
                      f"lease {name} ({b.tenant}) loses its amendment from {day}: it keeps "
                      f"{count(b.gpus_on(day), 'GPU')} at {price_text(b.price_on(day))} per GPU-hour instead "
                      f"({dollars(change, signed=True)}).", objects, change)


def _next_day(lease: Lease, day: dt.date) -> dt.date:
    """The lease's next amendment after `day`, else its end."""
    return next((t.start for t in lease.terms if t.start > day), lease.end)


def _amendment_added(s: Sides, name: str, a: Lease, b: Lease, day: dt.date, objects: list[str]) -> None:
    """An amendment of HEAD that BASE did not have: valued from its day to the next one."""
    until = _next_day(b, day)
    change = economics.lease_value_between(b, day, until) - economics.lease_value_between(a, day, until)
    who, past = f"lease {name} ({b.tenant})", day <= s.as_of
    when = f"from {day}" + (" (already in force: a change backdated)" if past else "")
    if b.gpus_on(day) < a.gpus_on(day):
        s.add("high" if past else "medium", "amendment-shrinks-lease", name,
              f"{who} is amended {when} to {count(b.gpus_on(day), 'GPU')} instead of {a.gpus_on(day):,} "
              f"until {until} ({dollars(change, signed=True)}); the tenant's quota and nodes shrink on that day.",
              objects, change)
    if b.price_on(day) != a.price_on(day) and not b.internal:
        lower = b.price_on(day) < a.price_on(day)
        s.add(("high" if past else "medium") if lower else "low", "amendment-reprices-lease", name,
              f"{who} is amended {when} to {price_text(b.price_on(day))} per GPU-hour instead of "
              f"{price_text(a.price_on(day))} until {until} ({dollars(change, signed=True)}).", objects, change)


def below_cost(s: Sides) -> None:
    """HEAD's sold leases priced under what their cluster's GPUs cost, when this change makes them so."""
    prices: dict[tuple[bool, str], costs.Price] = {}

    def price(side: LoadedPlan, cluster: str) -> costs.Price:
        key = (side is s.head, cluster)
        if key not in prices:
            prices[key] = costs.committed(side, cluster)
        return prices[key]

    for name, lease in s.head.plan.leases.items():
        if lease.internal or lease.end <= s.as_of:
            continue
        cost = price(s.head, lease.cluster)
        loss = economics.below_cost(lease, cost.per_gpu_hour)
        if cost.per_gpu_hour is None or not loss:
            continue
        old = s.base.plan.leases.get(name)
        if (old is not None and not old.internal and old.cluster in s.base.plan.clusters
                and (_prices(old), price(s.base, old.cluster)) == (_prices(lease), cost)):
            continue
        low = min(t.price for t in lease.terms)
        s.add("medium", "lease-below-cost", name,
              f"lease {name} ({lease.tenant}) pays {price_text(low)} per GPU-hour on cluster "
              f"{lease.cluster}, whose GPUs cost {price_text(cost.per_gpu_hour)} ({cost.source} price): "
              f"{dollars(loss)} lost over its term.", [f"lease:{name}", f"cluster:{lease.cluster}"], loss)


def _prices(lease: Lease) -> list[float]:
    return [t.price for t in lease.terms]


def leases(s: Sides) -> None:
    after = s.head.plan.leases
    for name, a in s.base.plan.leases.items():
        if a.end <= s.as_of:
            continue  # history
        b = after.get(name)
        objects = [f"lease:{name}", f"cluster:{a.cluster}"]
        if b is None:
            _lease_cancelled(s, name, a, objects)
        elif a != b:
            _lease_changed(s, name, a, b, objects)


def _lease_cancelled(s: Sides, name: str, a: Lease, objects: list[str]) -> None:
    hours = a.gpus * (a.end - max(a.start, s.as_of)).days * costs.HOURS_PER_DAY
    now = s.running(a)
    what = f"{a.tenant}, {count(a.gpus, 'GPU')} on {a.cluster} until {a.end}"
    when = "while running" if now else "before it starts"
    if a.internal:
        s.add("medium" if now else "low", "internal-use-cancelled", name,
              f"internal use {name} ({what}) is cancelled {when}: {hours:,} GPU-hours of the company's "
              "own work lose their capacity.", objects)
        return
    lost = economics.lease_value(a, since=s.as_of)
    s.add("high" if now else "medium", "lease-cancelled", name,
          f"lease {name} ({what}) is cancelled {when}: {dollars(lost)} of contracted revenue is lost.", objects, lost)


def _lease_changed(s: Sides, name: str, a: Lease, b: Lease, objects: list[str]) -> None:
    who = f"lease {name} ({a.tenant})"
    if b.end < a.end or b.start > a.start:
        ended = b.end <= s.as_of
        lost = economics.lease_value(a) - economics.lease_value(b)
        s.add("high" if ended else "medium", "lease-shortened", name,
              f"{who} is shortened: it runs {b.start} to {b.end} instead of {a.start} to {a.end}"
              + (", so it has already ended" if ended else "") + f" ({dollars(lost)} less).", objects, lost)
    if b.gpus < a.gpus:
        s.add("medium", "lease-shrunk", name, f"{who} shrinks from {a.gpus:,} to {count(b.gpus, 'GPU')}.", objects)
    if a.internal != b.internal:
        gone = economics.lease_value(a) if b.internal else None
        s.add("medium" if b.internal else "low", "lease-internal-changed", name,
              f"{who} becomes internal use: {dollars(gone or 0)} of contracted revenue is gone."
              if b.internal else f"{who} is now sold at {price_text(b.price)} per GPU-hour instead of "
                                 "internal use.", objects, gone)
    elif b.price != a.price:
        s.add("medium" if b.price < a.price else "low", "lease-repriced", name,
              f"{who} is repriced from {price_text(a.price)} to {price_text(b.price)} per GPU-hour.", objects,
              economics.lease_value(b) - economics.lease_value(a))
    if b.cluster != a.cluster:
        now = s.running(a)
        s.add("medium" if now else "low", "lease-moved", name,
              f"{who} moves from cluster {a.cluster} to {b.cluster}{' while running' if now else ''}.",
              objects + [f"cluster:{b.cluster}"])
    if b.tenant != a.tenant:
        s.add("medium", "lease-reassigned", name, f"lease {name} passes from tenant {a.tenant} to {b.tenant}.",
              objects)


def only_paths(s: Sides) -> None:
    for risk in link_path_risks(s.base, s.head, s.as_of):
        s.add(*risk)


Rule = Callable[[Sides], None]
# In the order they run; the output is sorted by level, kind and name.
RULES: tuple[Rule, ...] = (renamed, sites, links, only_paths, capacity, reservations, paid_early, ending_under_leases, leases,
                           amendments, below_cost)


def risks(base: LoadedPlan, head: LoadedPlan, as_of: dt.date) -> list[Risk]:
    sides = Sides(base, head, as_of)
    for rule in RULES:
        rule(sides)
    return sorted(sides.out, key=lambda r: (LEVELS.index(r.level), r.kind, r.name))


# Every kind of risk, as documented in docs/plan-format.md ("Risks").
RISK_KINDS = ("stack-renamed", "site-removed", "link-removed", "only-path-removed", "capacity-removed",
              "capacity-shrunk",
              "capacity-replaced", "reservation-removed", "reservation-changed", "reservation-shortened",
              "reservation-shrunk", "reservation-paid-early", "reservation-ends-under-lease", "lease-cancelled",
              "internal-use-cancelled", "lease-shortened", "lease-shrunk", "lease-repriced", "lease-moved",
              "lease-reassigned", "lease-internal-changed", "lease-below-cost", "amendment-shrinks-lease",
              "amendment-reprices-lease", "amendment-removed")
