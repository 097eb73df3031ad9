"""Money by provider and month, on an accrual basis (when GPU-hours are used) or a cash basis
(when money changes hands).

Accrual: each cluster's cost falls on the days it runs (capacity/review/costs.py), a lease's
revenue on the days it runs. Cash: a capacity block's fee is paid whole on its buy day;
reservations, on-demand nodes and owned sites are billed monthly in arrears (a month's use paid on
the first day of the next); leases are invoiced monthly in arrears the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from capacity.plan.loading import LoadedPlan
from capacity.review import costs, economics
from capacity.review.economics import Window

ACCRUAL, CASH = "accrual", "cash"
BASES = (ACCRUAL, CASH)


@dataclass
class MonthTable:
    """Dollars per provider per month (paid or accrued), and lease revenue per month."""

    basis: str
    months: list[Window]
    providers: dict[str, list[float]] = field(default_factory=dict)
    revenue: list[float] = field(default_factory=list)

    def total(self) -> list[float]:
        return [sum(column) for column in zip(*self.providers.values())] or [0.0] * len(self.months)

    def as_json(self) -> dict[str, object]:
        return {"basis": self.basis, "months": [m.start.strftime("%Y-%m") for m in self.months],
                "providers": {p: [round(v, 2) for v in values] for p, values in self.providers.items()},
                "cost": [round(v, 2) for v in self.total()], "revenue": [round(v, 2) for v in self.revenue]}


def first_of_next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _month_of(months: list[Window], day: dt.date) -> int | None:
    return next((i for i, m in enumerate(months) if m.start <= day < m.end), None)


def _calendar_months(start: dt.date, end: dt.date) -> list[Window]:
    """Whole calendar months from the one holding `start` to the one holding the day before `end`."""
    return Window(start.replace(day=1), first_of_next_month(end - dt.timedelta(days=1))).months()


def accrued(loaded: LoadedPlan, window: Window) -> MonthTable:
    months = window.months()
    table = MonthTable(ACCRUAL, months, {p: [0.0] * len(months) for p in sorted(loaded.providers())},
                       [0.0] * len(months))
    for name, spec in loaded.plan.clusters.items():
        provider = loaded.plan.sites[spec.site].provider
        for i, month in enumerate(months):
            table.providers[provider][i] += costs.cluster_cost(loaded, name, month.start, month.end)
    for lease in loaded.plan.leases.values():
        for i, month in enumerate(months):
            table.revenue[i] += economics.lease_value_between(lease, month.start, month.end)
    return table


def paid(loaded: LoadedPlan, window: Window) -> MonthTable:
    months = window.months()
    table = MonthTable(CASH, months, {p: [0.0] * len(months) for p in sorted(loaded.providers())},
                       [0.0] * len(months))
    # Months whose bills fall in the window: from the month before it starts.
    billed = _calendar_months(window.start - dt.timedelta(days=1), window.end)
    for name, spec in loaded.plan.clusters.items():
        provider = loaded.plan.sites[spec.site].provider
        for day, amount in _cluster_payments(loaded, name, billed):
            i = _month_of(months, day)
            if i is not None:
                table.providers[provider][i] += amount
    for lease in loaded.plan.leases.values():
        for month in billed:
            i = _month_of(months, month.end)
            if i is not None:
                table.revenue[i] += economics.lease_value_between(lease, month.start, month.end)
    return table


def _cluster_payments(loaded: LoadedPlan, cluster: str, billed: list[Window]) -> list[tuple[dt.date, float]]:
    """(day paid, dollars) of a cluster: a block's fee on its buy day, else each month's bill."""
    r = loaded.plan.clusters[cluster].reservation
    if r is not None and r.kind == "capacity-block" and r.start and r.end:
        return [(r.buy_day or r.start, costs.cluster_cost(loaded, cluster, r.start, r.end))]
    return [(month.end, costs.cluster_cost(loaded, cluster, month.start, month.end)) for month in billed]


def by_month(loaded: LoadedPlan, window: Window, basis: str) -> MonthTable:
    return paid(loaded, window) if basis == CASH else accrued(loaded, window)
