"""The GPU quotas tenants hold inside Kubernetes clusters and the GPU limits of their Slurm
accounts, as a plan sets them, and how a change to the plan moves them (for `capacity diff`).

A tenant's quota on a cluster with `orchestrator: kubernetes` (or its limit, the sum of its
leases' QOS `GrpTRES=gres/gpu`, on one with `orchestrator: slurm`), on a day, is the GPUs of its
leases there running that day, amendments included (components/kubernetes/tenancy.py and
components/slurm/tenancy.py set it, lease by lease). A change is judged on the peak from the diff's
`as_of` day on, so a lease that starts later counts.
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
    orchestrator: str = "kubernetes"
    """kubernetes (namespace quotas) or slurm (QOS limits of the tenant's account)."""

    @property
    def delta(self) -> int:
        return self.head - self.base

    def as_json(self) -> dict[str, object]:
        return {"tenant": self.tenant, "cluster": self.cluster, "orchestrator": self.orchestrator,
                "base": self.base, "head": self.head, "delta": self.delta}

    def text(self) -> str:
        where = " (Slurm account limit)" if self.orchestrator == "slurm" else ""
        return f"{self.tenant} on {self.cluster}{where}: {self.base:,} -> {self.head:,} GPUs ({self.delta:+,})"


def peak_quotas(loaded: LoadedPlan, as_of: dt.date, orchestrator: str = "kubernetes") -> dict[tuple[str, str], int]:
    """(tenant, cluster) -> the most GPUs the tenant's leases there hold at once, from `as_of` on,
    on the clusters of that `orchestrator`."""
    events: dict[tuple[str, str], list[tuple[dt.date, int]]] = defaultdict(list)
    for lease in loaded.plan.leases.values():
        cluster = loaded.plan.clusters[lease.cluster]
        if cluster.orchestrator != orchestrator or lease.end <= as_of:
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
    """Each tenant's peak quota per Kubernetes cluster, then its peak limit per Slurm cluster,
    that differs between the plans, by tenant."""
    return _changes(base, head, as_of, "kubernetes") + slurm_limit_changes(base, head, as_of)


def slurm_limit_changes(base: LoadedPlan, head: LoadedPlan, as_of: dt.date) -> list[QuotaChange]:
    """Each tenant's peak GPU limit (its leases' QOS) per Slurm cluster that the change moves."""
    return _changes(base, head, as_of, "slurm")


def _changes(base: LoadedPlan, head: LoadedPlan, as_of: dt.date, orchestrator: str) -> list[QuotaChange]:
    before, after = peak_quotas(base, as_of, orchestrator), peak_quotas(head, as_of, orchestrator)
    keys = sorted(set(before) | set(after))
    return [QuotaChange(tenant, cluster, before.get((tenant, cluster), 0), after.get((tenant, cluster), 0), orchestrator)
            for tenant, cluster in keys if before.get((tenant, cluster), 0) != after.get((tenant, cluster), 0)]
