"""The GPU quotas tenants hold inside Kubernetes clusters, as a plan sets them, and how a change
to the plan moves them (for `capacity diff`).

A tenant's quota on a cluster with `orchestrator: kubernetes`, on a day, is the GPUs of its
leases there running that day, amendments included (components/kubernetes/tenancy.py sets it,
lease by lease). A
change is judged on the peak from the diff's `as_of` day on, so a lease that starts later counts.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from capacity.plan.loading import LoadedPlan


@dataclass(frozen=True)
class QuotaChange:
    tenant: str
    cluster: str
    base: int
    """Peak GPU quota from `as_of` on, in the base plan (0 if none)."""
    head: int

    @property
    def delta(self) -> int:
        return self.head - self.base

    def as_json(self) -> dict[str, object]:
        return {"tenant": self.tenant, "cluster": self.cluster, "base": self.base, "head": self.head,
                "delta": self.delta}

    def text(self) -> str:
        return f"{self.tenant} on {self.cluster}: {self.base:,} -> {self.head:,} GPUs ({self.delta:+,})"


def peak_quotas(loaded: LoadedPlan, as_of: dt.date) -> dict[tuple[str, str], int]:
    """(tenant, cluster) -> the most GPUs the tenant's leases there hold at once, from `as_of` on."""
    events: dict[tuple[str, str], list[tuple[dt.date, int]]] = defaultdict(list)
    for lease in loaded.plan.leases.values():
        cluster = loaded.plan.clusters[lease.cluster]
        if cluster.orchestrator != "kubernetes" or lease.end <= as_of:
            continue
        key = (lease.tenant, lease.cluster)
        for term in lease.terms:  # amendments change the quota on their day
            if term.end > as_of:
                events[key] += [(max(term.start, as_of), term.gpus), (term.end, -term.gpus)]
    peaks = {}
    for key, changes in events.items():
        held = peak = 0
        for _, gpus in sorted(changes):  # an end sorts before a start on the same day
            held += gpus
            peak = max(peak, held)
        peaks[key] = peak
    return peaks


def quota_changes(base: LoadedPlan, head: LoadedPlan, as_of: dt.date) -> list[QuotaChange]:
    """Each tenant's peak quota per Kubernetes cluster that differs between the plans, by tenant."""
    before, after = peak_quotas(base, as_of), peak_quotas(head, as_of)
    keys = sorted(set(before) | set(after))
    return [QuotaChange(tenant, cluster, before.get((tenant, cluster), 0), after.get((tenant, cluster), 0))
            for tenant, cluster in keys if before.get((tenant, cluster), 0) != after.get((tenant, cluster), 0)]
