"""`capacity fit`: every place a new demand fits for its whole window, ranked.

Kinds of option (docs/fit.md):
- existing: a cluster with enough free GPUs (whole nodes for dedicated-nodes) at every instant of
  the window; it costs nothing more, the plan already pays for those GPUs;
- grow: an owned cluster grown from spare inventory nodes within the site's power, or a cloud
  cluster without a capacity block grown by nodes; it costs the added nodes over the window;
- new: new cloud capacity at a site of the plan (`fit_new`).
Ranked by margin with a price, else by cost; ties: fewer changes to the plan, then name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Any

from capacity.plan.catalog import InstanceType
from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Lease
from capacity.review.costs import HOURS_PER_DAY, cluster_rate, cost
from capacity.review.available import SiteRoom, owned_rooms
from capacity.review.timeline import Span, lifetime, leases_by_cluster, plus_days, spans

EXISTING, GROW, NEW = "existing", "grow", "new"


@dataclass(frozen=True)
class Demand:
    gpus: int
    start: dt.date
    end: dt.date
    accelerator: str | None = None
    instance_type: str | None = None
    price: float | None = None
    isolation: str = "dedicated-nodes"
    tenant: str | None = None
    sites: frozenset[str] = frozenset()
    providers: frozenset[str] = frozenset()
    as_of: dt.date = field(default_factory=dt.date.today)

    @property
    def dedicated(self) -> bool:
        return self.isolation == "dedicated-nodes"

    @property
    def hours(self) -> int:
        return (self.end - self.start).days * HOURS_PER_DAY

    @property
    def revenue(self) -> float | None:
        return None if self.price is None else round(self.gpus * self.hours * self.price, 2)

    def wants(self, entry: InstanceType) -> bool:
        if self.instance_type is not None:
            return entry.instance_type == self.instance_type
        return entry.accelerator == self.accelerator

    def where(self, site: str, provider: str) -> bool:
        return (not self.sites or site in self.sites) and (not self.providers or provider in self.providers)

    def nodes(self, per_node: int) -> int | None:
        """Nodes of `per_node` GPUs the demand takes; None when dedicated GPUs are not whole nodes."""
        if self.dedicated and self.gpus % per_node:
            return None
        return -(-self.gpus // per_node)

    def as_json(self) -> dict[str, Any]:
        return {"gpus": self.gpus, "accelerator": self.accelerator, "instance_type": self.instance_type,
                "start": self.start.isoformat(), "end": self.end.isoformat(), "hours": self.hours,
                "price_per_gpu_hour": self.price, "isolation": self.isolation, "tenant": self.tenant,
                "sites": sorted(self.sites), "providers": sorted(self.providers), "as_of": self.as_of.isoformat()}


@dataclass(frozen=True)
class Option:
    kind: str
    site: str
    cluster: str
    provider: str
    instance_type: str
    nodes: int
    """Nodes the demand takes."""
    gpus: int
    cost: float | None
    revenue: float | None
    covers: tuple[dt.date, dt.date]
    """The days its cost covers."""
    changes: int
    """Entries of the plan it adds or edits (the lease counts as one)."""
    added_nodes: int = 0
    reservation: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()
    rank: int = 0

    @property
    def margin(self) -> float | None:
        if self.revenue is None or self.cost is None:
            return None
        return round(self.revenue - self.cost, 2)

    def as_json(self) -> dict[str, Any]:
        return {"rank": self.rank, "kind": self.kind, "site": self.site, "cluster": self.cluster,
                "provider": self.provider, "instance_type": self.instance_type, "nodes": self.nodes,
                "gpus": self.gpus, "added_nodes": self.added_nodes, "cost": self.cost, "revenue": self.revenue,
                "margin": self.margin, "cost_covers": {"start": self.covers[0].isoformat(),
                                                       "end": self.covers[1].isoformat()},
                "reservation": self.reservation, "notes": list(self.notes)}


@dataclass(frozen=True)
class Refusal:
    cluster: str
    why: str

    def as_json(self) -> dict[str, Any]:
        return {"cluster": self.cluster, "why": self.why}


@dataclass(frozen=True)
class Fit:
    demand: Demand
    options: list[Option]
    refused: list[Refusal]
    instead: dict[str, Any] | None = None
    """When nothing fits: the nearest window and the largest share on the plan's clusters."""

    def as_json(self, top: int | None = None) -> dict[str, Any]:
        shown = self.options[:top] if top else self.options
        out: dict[str, Any] = {"demand": self.demand.as_json(), "options": [o.as_json() for o in shown],
               "refused": [r.as_json() for r in self.refused]}
        if self.instead is not None:
            out["instead"] = self.instead
        return out


def fit(loaded: LoadedPlan, demand: Demand) -> Fit:
    from capacity.review.fit_new import new_options, nothing_fits

    grouped = leases_by_cluster(loaded)
    rooms = owned_rooms(loaded)
    options: list[Option] = []
    refused: list[Refusal] = []
    for name, spec in loaded.plan.clusters.items():
        entry = loaded.types[name]
        if not demand.wants(entry) or not demand.where(spec.site, entry.provider):
            continue
        found, why = _on_cluster(loaded, name, grouped.get(name, []), demand, rooms.get(spec.site))
        options += found
        if why:
            refused.append(Refusal(name, why))
    options += new_options(loaded, demand)
    ranked = rank(options, demand.price is not None)
    instead = None if ranked else nothing_fits(loaded, demand, grouped)
    return Fit(demand, ranked, refused, instead)


def rank(options: list[Option], by_margin: bool) -> list[Option]:
    """Best first: the highest margin (with a price) or the lowest cost; then fewer changes, then name."""
    far = float("inf")

    def key(o: Option) -> tuple[float, int, str, str, str]:
        money = -(o.margin if o.margin is not None else -far) if by_margin else (o.cost if o.cost is not None else far)
        return money, o.changes, o.cluster, o.instance_type, o.reservation["kind"] if o.reservation else ""

    return [replace(o, rank=i) for i, o in enumerate(sorted(options, key=key), 1)]


def fits(span: Span, demand: Demand, need_nodes: int) -> bool:
    return span.nodes >= need_nodes if demand.dedicated else span.gpus >= demand.gpus


def _on_cluster(loaded: LoadedPlan, name: str, leases: list[Lease], demand: Demand,
                room: SiteRoom | None) -> tuple[list[Option], str]:
    """(options on this cluster, why it does not fit as it is or "" when it does)."""
    entry = loaded.types[name]
    spec = loaded.plan.clusters[name]
    need = demand.nodes(entry.gpus)
    if need is None:
        return [], (f"dedicated-nodes leases take whole nodes of {entry.gpus} GPUs; {demand.gpus} is not "
                    "(use shared-quota, or ask for whole nodes)")
    steps = spans(loaded, name, leases, demand.start, demand.end)
    short = [s for s in steps if not fits(s, demand, need)]
    option = partial(Option, site=spec.site, cluster=name, provider=entry.provider, instance_type=entry.instance_type,
                     nodes=need, gpus=demand.gpus, revenue=demand.revenue)
    if not short:
        return [option(EXISTING, cost=0.0, covers=(demand.start, demand.end), changes=1,
                       notes=(_paid_for(loaded, name),))], ""
    worst = min(short, key=lambda s: (s.nodes if demand.dedicated else s.gpus, s.start))
    free = worst.nodes * entry.gpus if demand.dedicated else worst.gpus
    why = f"free {free} of {demand.gpus} from {worst.start} to {worst.end}"
    born, gone = lifetime(spec)
    if born is not None:
        why += f" (its capacity block runs {born} to {gone})"
        return [], why
    grow, grow_why = _grow(loaded, name, steps, demand, need, room, option)
    return grow, why + (f"; {grow_why}" if grow_why else "")


def _paid_for(loaded: LoadedPlan, name: str) -> str:
    spec = loaded.plan.clusters[name]
    if loaded.plan.sites[spec.site].provider == "owned":
        return "idle GPUs of an owned cluster: the plan already pays for them"
    held = spec.real_reservation  # set exactly when the cluster is reserved
    if held is not None:
        return f"idle GPUs of its {held.kind}: the plan already pays for them"
    return "idle GPUs of a running cluster: the plan already pays for them"


def _grow(loaded: LoadedPlan, name: str, steps: list[Span], demand: Demand, need: int, room: SiteRoom | None,
          option: partial[Option]) -> tuple[list[Option], str]:
    entry = loaded.types[name]
    spec = loaded.plan.clusters[name]
    if demand.dedicated:
        add = need - min(s.nodes for s in steps)
    else:
        add = -(-(demand.gpus - min(s.gpus for s in steps)) // entry.gpus)
    notes = [f"adds {add} node{'s' if add != 1 else ''} to {name} ({spec.nodes} -> {spec.nodes + add})"]
    if room is not None:
        limit = room.growth(entry.instance_type)
        if add > limit:
            spare = "no inventory file" if room.spare is None else \
                f"{room.spare.get(entry.instance_type, 0)} spare {entry.instance_type} in its inventory"
            per_node = room.kw_per_node.get(entry.instance_type) or 0
            power = int(max(room.headroom_kw, 0) // per_node) if per_node else 0
            return [], (f"growing it needs {add} more nodes; site {spec.site} has {spare} "
                        f"and power for {power} more ({room.headroom_kw:,.1f} kW free)")
        notes.append(f"from spare inventory nodes; {room.headroom_kw - add * (entry.kw_per_node or 0):,.1f} kW "
                     "of the site's power left")
    rate = cluster_rate(loaded, name)
    added = cost(rate, add * entry.gpus, demand.start, demand.end)
    after = cost(rate, add * entry.gpus, demand.end, plus_days(demand.end, 30))
    notes.append(f"the plan keeps the added nodes after {demand.end} (a cluster has no end date): "
                 f"shrink it back then, or they cost {_money(after)} per 30 days")
    held = spec.real_reservation  # set exactly when the cluster is reserved
    if held is not None:
        notes.append(f"the {held.kind} grows with the cluster")
    return [option(GROW, cost=added, covers=(demand.start, demand.end), changes=2, added_nodes=add,
                   notes=tuple(notes))], ""


def _money(value: float | None) -> str:
    return "an unknown amount" if value is None else f"${value:,.0f}"


def plan_changes(loaded: LoadedPlan, option: Option, demand: Demand,
                 lease: str) -> list[tuple[tuple[str, ...], object]]:
    """What writing `option` as lease `lease` sets in the plan: the cluster it needs, then the lease."""
    puts: list[tuple[tuple[str, ...], object]] = []
    if option.kind == GROW:
        nodes = loaded.plan.clusters[option.cluster].nodes + option.added_nodes
        puts.append((("clusters", option.cluster, "nodes"), nodes))
    elif option.kind != EXISTING:
        cluster: dict[str, object] = {"site": option.site, "instance_type": option.instance_type,
                                      "nodes": option.added_nodes}
        if option.reservation:
            r = option.reservation
            held: dict[str, object] = {"kind": r["kind"], "start": dt.date.fromisoformat(r["start"]),
                                       "end": dt.date.fromisoformat(r["end"])}
            cluster["reservation"] = held
            if r["lead_days"] is not None:
                held["lead_days"] = r["lead_days"]
        puts.append((("clusters", option.cluster), cluster))
    entry = {"tenant": demand.tenant, "cluster": option.cluster, "gpus": demand.gpus, "start": demand.start,
             "end": demand.end, "price_per_gpu_hour": demand.price, "isolation": demand.isolation}
    puts.append((("leases", lease), entry))
    return puts
