"""Each cluster's free capacity over time, as a step function: one sweep over dated events.

A cluster has its GPUs while it exists (a capacity block's cluster only inside its block, any
other cluster all the time). Every lease on it (internal ones included) holds its GPUs from its
`start` (inclusive) to its `end` (exclusive). Dedicated-nodes leases hold whole nodes; the
shared-quota leases share the rest, so the whole nodes left free are the nodes minus the
dedicated ones minus the nodes the shared GPUs fill.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass

from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Cluster, Lease

DEDICATED, SHARED = 0, 1


@dataclass(frozen=True)
class Span:
    """[start, end): the free GPUs and free whole nodes of a cluster, constant over these days."""

    start: dt.date
    end: dt.date
    gpus: int
    nodes: int


def lifetime(cluster: Cluster) -> tuple[dt.date | None, dt.date | None]:
    """The days a cluster has its nodes: a capacity block's own window, else always (None, None)."""
    r = cluster.reservation
    if r is not None and cluster.reserved and r.kind == "capacity-block":
        return r.start, r.end
    return None, None


def leases_by_cluster(loaded: LoadedPlan) -> dict[str, list[Lease]]:
    """Every lease, grouped by its cluster (one pass over the plan)."""
    out: dict[str, list[Lease]] = defaultdict(list)
    for lease in loaded.plan.leases.values():
        out[lease.cluster].append(lease)
    return out


def spans(loaded: LoadedPlan, name: str, leases: list[Lease], start: dt.date, end: dt.date) -> list[Span]:
    """The cluster's free GPUs and whole nodes over [start, end), in maximal constant steps."""
    per_node = loaded.types[name].gpus
    nodes = loaded.plan.clusters[name].nodes
    held = [0, 0]  # GPUs held by dedicated and by shared leases
    changes: dict[dt.date, list[int]] = defaultdict(lambda: [0, 0])
    for lease in leases:
        if lease.end <= start or lease.start >= end:
            continue
        slot = DEDICATED if lease.isolation == "dedicated-nodes" else SHARED
        if lease.start <= start:
            held[slot] += lease.gpus
        else:
            changes[lease.start][slot] += lease.gpus
        if lease.end < end:
            changes[lease.end][slot] -= lease.gpus
    born, gone = lifetime(loaded.plan.clusters[name])
    for day in (born, gone):
        if day is not None and start < day < end:
            changes.setdefault(day, [0, 0])

    def free(day: dt.date) -> tuple[int, int]:
        if (born is not None and day < born) or (gone is not None and day >= gone):
            return 0, 0
        used_nodes = -(-held[DEDICATED] // per_node) - (-held[SHARED] // per_node)
        return max(nodes * per_node - held[DEDICATED] - held[SHARED], 0), max(nodes - used_nodes, 0)

    out: list[Span] = []
    at = start
    for day in sorted(changes) + [end]:
        if day > at:
            _append(out, Span(at, day, *free(at)))
            at = day
        if day in changes:
            delta = changes[day]
            held[DEDICATED] += delta[DEDICATED]
            held[SHARED] += delta[SHARED]
    return out


def _append(out: list[Span], span: Span) -> None:
    """Add a span, joining it to the last when nothing changed."""
    if out and (out[-1].gpus, out[-1].nodes) == (span.gpus, span.nodes) and out[-1].end == span.start:
        out[-1] = Span(out[-1].start, span.end, span.gpus, span.nodes)
    else:
        out.append(span)


def by_gpus(steps: list[Span]) -> list[Span]:
    """The same steps joined where only the free whole nodes changed: constant free GPUs."""
    out: list[Span] = []
    for span in steps:
        if out and out[-1].gpus == span.gpus:
            out[-1] = Span(out[-1].start, span.end, span.gpus, min(out[-1].nodes, span.nodes))
        else:
            out.append(span)
    return out


def plus_days(day: dt.date, days: int) -> dt.date:
    """`day` + `days`, held at the last date there is (a plan may say 9999-12-31)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max


def last_event(loaded: LoadedPlan) -> dt.date | None:
    """The latest day anything in the plan starts or ends (leases, reservations)."""
    days = [d for lease in loaded.plan.leases.values() for d in (lease.start, lease.end)]
    for cluster in loaded.plan.clusters.values():
        if cluster.reserved and cluster.reservation is not None:
            days += [d for d in (cluster.reservation.start, cluster.reservation.end) if d]
    return max(days) if days else None
