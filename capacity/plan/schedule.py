"""When each reservation of a plan is bought and when it runs out.

A reservation is bought `reservation.lead_days` before its `start` (docs/plan-format.md); until
that day the deploy leaves it out ("scheduled"). From its `end` on it has run out as planned
("ended"): the deploy leaves it out again, and that is never drift.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from capacity.plan.loading import LoadedPlan

SCHEDULED, HELD, ENDED = "scheduled", "held", "ended"


@dataclass(frozen=True)
class Purchase:
    cluster: str
    kind: str
    buy_day: dt.date | None  # None: bought as soon as deployed
    start: dt.date | None
    end: dt.date | None
    state: str  # scheduled | held | ended

    def as_json(self) -> dict[str, str | None]:
        def day(value: dt.date | None) -> str | None:
            return value.isoformat() if value else None

        return {"cluster": self.cluster, "kind": self.kind, "buy_day": day(self.buy_day), "start": day(self.start),
                "end": day(self.end), "state": self.state}

    def sentence(self) -> str:
        if self.state == SCHEDULED:
            return f"{self.kind} of cluster {self.cluster}: scheduled, bought on {self.buy_day} for {self.start}"
        if self.state == ENDED:
            return f"{self.kind} of cluster {self.cluster}: ended as planned on {self.end}"
        return (f"{self.kind} of cluster {self.cluster}: held from {self.buy_day or 'the first deploy'}"
                f"{f' until {self.end}' if self.end else ''}")


def state(loaded: LoadedPlan, cluster: str, day: dt.date) -> str | None:
    """scheduled, held or ended on `day`; None when the cluster reserves nothing."""
    reservation = loaded.plan.clusters[cluster].real_reservation
    if reservation is None:
        return None
    if reservation.ended(day):
        return ENDED
    return SCHEDULED if reservation.scheduled(day) else HELD


def purchases(loaded: LoadedPlan, day: dt.date) -> list[Purchase]:
    """Every reservation of the plan, by the day it is bought."""
    out = []
    for name, spec in loaded.plan.clusters.items():
        found, r = state(loaded, name, day), spec.real_reservation
        if found is not None and r is not None:
            out.append(Purchase(name, r.kind, r.buy_day, r.start, r.end, found))
    return sorted(out, key=lambda p: (p.buy_day or dt.date.min, p.cluster))
