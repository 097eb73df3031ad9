"""What `capacity validate` warns about: a valid plan that will cost money nobody meant to spend.

Warnings never make a plan invalid (`validate --strict` makes them fail): a sold lease priced under
its cluster's cost per GPU-hour, a lease that runs on past its capacity reservation's end (its
nodes then go on demand, at the on-demand price), and a reservation bought but idle, with no lease
on it, for more than `IDLE_DAYS` days in a row.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from capacity.errors import Problem
from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Lease
from capacity.review import costs, economics
from capacity.review.money import dollars, price_text

IDLE_DAYS = 30


def plan_warnings(loaded: LoadedPlan) -> list[Problem]:
    """Every warning of a valid plan, in plan order."""
    out: list[Problem] = []
    for rule in (_below_cost, _past_reservation, _idle_reservations):
        out += rule(loaded)
    return out


def _below_cost(loaded: LoadedPlan) -> list[Problem]:
    out = []
    for name, lease in loaded.plan.leases.items():
        cost = costs.committed(loaded, lease.cluster)
        loss = economics.below_cost(lease, cost.per_gpu_hour)
        if loss and cost.per_gpu_hour is not None:
            low = min(t.price for t in lease.terms)
            out.append(loaded.doc.problem(("leases", name, "price_per_gpu_hour"), (
                f"sold at {price_text(low)} per GPU-hour, under the {price_text(cost.per_gpu_hour)} its cluster "
                f"'{lease.cluster}' costs ({cost.source} price): {dollars(loss)} lost over its term. "
                "To fix: raise the price, or write `internal: true` if it is the company's own use.")))
    return out


def _past_reservation(loaded: LoadedPlan) -> list[Problem]:
    out = []
    for name, lease in loaded.plan.leases.items():
        spec = loaded.plan.clusters[lease.cluster]
        r = spec.reservation
        if not spec.reserved or r is None or r.kind != "capacity-reservation" or r.end is None or lease.end <= r.end:
            continue
        on_demand = costs.on_demand(loaded, lease.cluster).per_gpu_hour
        priced = f" ({price_text(on_demand)} per GPU-hour)" if on_demand is not None else ""
        out.append(loaded.doc.problem(("leases", name, "end"), (
            f"runs until {lease.end}, past the end of cluster '{lease.cluster}''s reservation on {r.end}: from "
            f"then its GPUs are on demand, at the on-demand price{priced} and only if the cloud has them. "
            f"To fix: extend the reservation to {lease.end}, or end the lease by {r.end}.")))
    return out


def _idle_reservations(loaded: LoadedPlan) -> list[Problem]:
    out = []
    on_cluster: dict[str, list[Lease]] = defaultdict(list)
    for lease in loaded.plan.leases.values():
        on_cluster[lease.cluster].append(lease)
    for name, spec in loaded.plan.clusters.items():
        r = spec.reservation
        if not spec.reserved or r is None:
            continue
        first = r.buy_day or r.start
        if first is None:
            continue  # bought on the first deploy: no date to count from
        stretch = longest_idle(on_cluster[name], first, r.end)
        if stretch is not None:
            start, end = stretch
            until = f"until {end}" if end else "with no end"
            out.append(loaded.doc.problem(("clusters", name, "reservation"), (
                f"the {r.kind} is paid from {first} but no lease uses it from {start} {until} "
                f"(more than {IDLE_DAYS} days). To fix: start it later, end it sooner, or lease its GPUs.")))
    return out


def longest_idle(leases: list[Lease], first: dt.date,
                 last: dt.date | None) -> tuple[dt.date, dt.date | None] | None:
    """The longest stretch of [first, last) with none of the leases, if over IDLE_DAYS days."""
    steps = economics.leased_steps(leases)
    cuts = sorted({first, *(d for d in steps.days if d > first and (last is None or d < last))})
    best: tuple[dt.date, dt.date | None] | None = None
    idle_from: dt.date | None = None
    for day in cuts + ([last] if last else []):
        busy = day != last and steps.at(day) > 0
        if idle_from is None and not busy and day != last:
            idle_from = day
        elif idle_from is not None and (busy or day == last):
            if (day - idle_from).days > IDLE_DAYS and (best is None or best[1] is None
                                                        or (day - idle_from) > (best[1] - best[0])):
                best = (idle_from, day)
            idle_from = None
    if idle_from is not None and last is None:
        return idle_from, None  # idle to the open end
    return best
