"""`capacity available`: each cluster's free GPUs over time, and each owned site's room to grow.

Free GPUs come from `timeline.spans` (one sweep over the dated events of each cluster). An owned
site's room is its spare inventory nodes (free in its inventory file, in no cluster) by model, and
its power headroom (`power_mw` less the clusters' draw at the catalog's kW per node).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from capacity.plan.inventory_file import site_inventory
from capacity.plan.loading import LoadedPlan
from capacity.review.timeline import Span, by_gpus, last_event, leases_by_cluster, plus_days, spans


@dataclass(frozen=True)
class ClusterFree:
    name: str
    site: str
    provider: str
    accelerator: str
    instance_type: str
    gpus: int
    free: list[Span]

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "site": self.site, "provider": self.provider, "accelerator": self.accelerator,
                "instance_type": self.instance_type, "gpus": self.gpus,
                "free": [{"start": s.start.isoformat(), "end": s.end.isoformat(), "gpus": s.gpus} for s in self.free]}


@dataclass(frozen=True)
class SiteRoom:
    """An owned site's room: spare nodes by model (None: no inventory file to read) and power."""

    name: str
    power_kw: float
    draw_kw: float
    spare: dict[str, int] | None
    kw_per_node: dict[str, float] = field(default_factory=dict)

    @property
    def headroom_kw(self) -> float:
        return round(self.power_kw - self.draw_kw, 3)

    def growth(self, model: str) -> int:
        """Nodes of `model` the site can add: spare in its inventory and within its power."""
        per_node = self.kw_per_node.get(model)
        by_power = int(max(self.headroom_kw, 0) // per_node) if per_node else 0
        return min((self.spare or {}).get(model, 0), by_power)

    def as_json(self) -> dict[str, Any]:
        return {"name": self.name, "provider": "owned", "power_kw": self.power_kw, "draw_kw": round(self.draw_kw, 3),
                "power_headroom_kw": self.headroom_kw, "spare_nodes": self.spare}


@dataclass(frozen=True)
class Available:
    start: dt.date
    end: dt.date
    clusters: list[ClusterFree]
    sites: list[SiteRoom]

    def as_json(self) -> dict[str, Any]:
        return {"from": self.start.isoformat(), "to": self.end.isoformat(),
                "clusters": [c.as_json() for c in self.clusters], "sites": [s.as_json() for s in self.sites]}


def default_end(loaded: LoadedPlan, start: dt.date) -> dt.date:
    """The day after which nothing changes any more (at least the day after `start`)."""
    last = last_event(loaded)
    return max(last, plus_days(start, 1)) if last else plus_days(start, 1)


def available(loaded: LoadedPlan, start: dt.date, end: dt.date, accelerator: str | None = None,
              sites: set[str] | None = None) -> Available:
    grouped = leases_by_cluster(loaded)
    clusters = []
    for name, spec in loaded.plan.clusters.items():
        entry = loaded.types[name]
        if (accelerator and entry.accelerator != accelerator) or (sites and spec.site not in sites):
            continue
        steps = by_gpus(spans(loaded, name, grouped.get(name, []), start, end))
        clusters.append(ClusterFree(name, spec.site, entry.provider, entry.accelerator, entry.instance_type,
                                    loaded.gpus(name), steps))
    rooms = [room for room in owned_rooms(loaded).values() if not sites or room.name in sites]
    return Available(start, end, clusters, rooms)


def owned_rooms(loaded: LoadedPlan) -> dict[str, SiteRoom]:
    """Every owned site's spare nodes and power headroom, by site name."""
    draw: dict[str, float] = {}
    used: dict[str, Counter[str]] = {}
    for name, spec in loaded.plan.clusters.items():
        entry = loaded.types[name]
        if entry.provider == "owned":
            draw[spec.site] = draw.get(spec.site, 0) + spec.nodes * (entry.kw_per_node or 0)
            used.setdefault(spec.site, Counter())[entry.instance_type] += spec.nodes
    kw = {t.instance_type: t.kw_per_node for t in loaded.catalog.of("owned") if t.kw_per_node}
    rooms = {}
    for name, site in loaded.plan.sites.items():
        if site.provider != "owned":
            continue
        nodes = site_inventory(site, loaded.doc, loaded.catalog)
        spare = None
        if nodes is not None:
            free = Counter(node.model for node in nodes if node.state == "free")
            spare = {model: max(n - used.get(name, Counter())[model], 0) for model, n in sorted(free.items())}
        rooms[name] = SiteRoom(name, site.power_mw * 1000, draw.get(name, 0), spare, kw)
    return rooms
