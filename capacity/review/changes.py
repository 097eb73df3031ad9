"""What a change to a plan adds, removes and alters: sites, links, clusters, reservations, leases."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, TypeVar

from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Cluster, Lease, Reservation
from capacity.review import costs, economics
from capacity.review.money import dollars, price_text
from capacity.words import count

OBJECTS = ("plan", "site", "link", "cluster", "reservation", "lease")
KINDS = ("added", "removed", "changed")
# Cluster fields whose change replaces the nodes (the reservation is compared on its own).
REPLACING = ("site", "instance_type", "accelerator")


@dataclass(frozen=True)
class Change:
    kind: str  # added | removed | changed
    object: str  # site | link | cluster | reservation | lease
    name: str
    detail: str
    fields: dict[str, tuple[Any, Any]] = field(default_factory=dict)  # dotted field -> (base, head)
    site: str | None = None
    amount: float | None = None  # the dollars the detail names: a cluster's run-rate, a lease's value or its change

    def as_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "object": self.object, "name": self.name, "detail": self.detail,
                "site": self.site,
                "fields": {k: {"base": b, "head": h} for k, (b, h) in self.fields.items()},
                **({"amount": round(self.amount, 2)} if self.amount is not None else {})}


T = TypeVar("T")


def either(a: T | None, b: T | None) -> T:
    """The one of two that is there (a first)."""
    found = a if a is not None else b
    assert found is not None, "neither side has it"
    return found


def span(r: Reservation) -> str:
    return f"{r.start or 'now'} to {r.end or 'open-ended'}"


def _shown(value: Any) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, list):
        return "[" + ", ".join(_shown(v) for v in value) + "]"
    return str(value)


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = value
    return out


def changed_fields(before: Any, after: Any, exclude: set[str] | None = None) -> dict[str, tuple[Any, Any]]:
    """Dotted fields whose values differ between two models (as JSON values)."""
    a = _flat(before.model_dump(mode="json", exclude=exclude))
    b = _flat(after.model_dump(mode="json", exclude=exclude))
    return {k: (a.get(k), b.get(k)) for k in list(a) + [k for k in b if k not in a] if a.get(k) != b.get(k)}


def _fields_detail(fields: dict[str, tuple[Any, Any]]) -> str:
    return "; ".join(f"{k}: {_shown(b)} -> {_shown(h)}" for k, (b, h) in fields.items())


def reserved(cluster: Cluster | None) -> Reservation | None:
    return cluster.reservation if cluster is not None and cluster.reserved else None


def _reservation_detail(r: Reservation) -> str:
    priced = f", {price_text(r.price_per_gpu_hour)}/GPU-h" if r.price_per_gpu_hour is not None else ""
    bought = f", bought {r.buy_day}" if r.buy_day else ""
    return f"{r.kind} {span(r)}{priced}{bought}"


class Changes:
    """The objects a change adds, removes or alters, in plan order."""

    def __init__(self, base: LoadedPlan, head: LoadedPlan):
        self.base, self.head = base, head
        self.out: list[Change] = []

    def add(self, kind: str, obj: str, name: str, detail: str,
            fields: dict[str, tuple[Any, Any]] | None = None, site: str | None = None,
            amount: float | None = None) -> None:
        self.out.append(Change(kind, obj, name, detail, fields or {}, site, amount))

    def run(self) -> None:
        self.metadata()
        self.sites()
        self.links()
        self.clusters()
        self.leases()

    def sorted(self) -> list[Change]:
        rank = {o: i for i, o in enumerate(OBJECTS)}
        return sorted(self.out, key=lambda c: (rank[c.object], c.name, KINDS.index(c.kind)))

    def metadata(self) -> None:
        fields = {f"metadata.{k}": v for k, v in changed_fields(self.base.plan.metadata, self.head.plan.metadata).items()}
        if fields:
            self.add("changed", "plan", self.head.name, _fields_detail(fields), fields)

    def sites(self) -> None:
        before, after = self.base.plan.sites, self.head.plan.sites
        for name in before.keys() | after.keys():
            a, b = before.get(name), after.get(name)
            if a is None or b is None:
                site: Any = either(a, b)  # a provider's site model (the plan's union)
                owned = (f", {site.power_mw:g} MW, {price_text(site.cost_per_gpu_hour)}/GPU-h"
                         if site.provider == "owned" else "")
                self.add("removed" if b is None else "added", "site", name,
                         f"{site.provider} {site.location_label}, {site.network.cidr}{owned}", site=name)
            elif a != b:
                fields = changed_fields(a, b)
                self.add("changed", "site", name, _fields_detail(fields), fields, site=name)

    def links(self) -> None:
        before = {(frozenset(link.between), link.kind == "interconnect"): link for link in self.base.plan.links}
        after = {(frozenset(link.between), link.kind == "interconnect"): link for link in self.head.plan.links}
        for pair in before.keys() | after.keys():
            a, b = before.get(pair), after.get(pair)
            ends = sorted(pair[0])
            name = either(a, b).name
            if a is None or b is None:
                link = either(a, b)
                self.add("removed" if b is None else "added", "link", name, f"{ends[0]} <-> {ends[1]} ({link.kind})")
            elif fields := changed_fields(a, b, exclude={"between"}):
                self.add("changed", "link", name, _fields_detail(fields), fields)

    def clusters(self) -> None:
        before, after = self.base.plan.clusters, self.head.plan.clusters
        for name in before.keys() | after.keys():
            a, b = before.get(name), after.get(name)
            if a is None or b is None:
                side = self.base if b is None else self.head
                cluster = either(a, b)
                entry = side.types[name]
                cost = costs.monthly_cost(side, name)
                self.add("removed" if b is None else "added", "cluster", name,
                         f"{side.gpus(name):,} {entry.accelerator} ({cluster.nodes} x {entry.instance_type}) "
                         f"on {cluster.site}, {dollars(cost)}/month", site=cluster.site, amount=cost)
            elif a != b:
                fields = changed_fields(a, b, exclude={"reservation"})
                gpus = (self.base.gpus(name), self.head.gpus(name))
                types = (self.base.types[name].instance_type, self.head.types[name].instance_type)
                if fields:
                    detail = _fields_detail(fields)
                    if gpus[0] != gpus[1]:
                        detail += f" ({gpus[0]:,} -> {count(gpus[1], 'GPU')})"
                    if types[0] != types[1] and "instance_type" not in fields:
                        detail += f" (instance type {types[0]} -> {types[1]})"
                    self.add("changed", "cluster", name, detail, fields, site=either(b, a).site)
            self.reservation(name, reserved(a), reserved(b), either(b, a).site)

    def reservation(self, cluster: str, a: Reservation | None, b: Reservation | None, site: str) -> None:
        if a is None and b is None or a == b:
            return
        if a is None or b is None:
            self.add("removed" if b is None else "added", "reservation", cluster,
                     f"{_reservation_detail(either(a, b))} on cluster {cluster}", site=site)
            return
        fields = changed_fields(a, b)
        self.add("changed", "reservation", cluster, _fields_detail(fields), fields, site=site)

    def leases(self) -> None:
        before, after = self.base.plan.leases, self.head.plan.leases
        for name, a in before.items():
            b = after.get(name)
            if b is None:
                self.add("removed", "lease", name, _lease_detail(a), site=self.base.plan.clusters[a.cluster].site,
                         amount=_value(a))
            elif a != b:
                fields = changed_fields(a, b)
                value = economics.lease_value(b) - economics.lease_value(a)
                sign = "+" if value >= 0 else "-"
                self.add("changed", "lease", name, f"{_fields_detail(fields)} (value {sign}{dollars(abs(value))})",
                         fields, site=self.head.plan.clusters[b.cluster].site, amount=value)
        for name, b in after.items():
            if name not in before:
                self.add("added", "lease", name, _lease_detail(b), site=self.head.plan.clusters[b.cluster].site,
                         amount=_value(b))


def _value(lease: Lease) -> float | None:
    return None if lease.internal else economics.lease_value(lease)


def _lease_detail(lease: Lease) -> str:
    priced = ("internal use" if lease.internal else
              f"{price_text(lease.price)}/GPU-h ({dollars(economics.lease_value(lease))})")
    amended = f", {count(len(lease.amendments), 'amendment')}" if lease.amendments else ""
    return (f"{lease.tenant}: {count(lease.gpus, 'GPU')} on {lease.cluster}, {lease.start} to {lease.end}, "
            f"{priced}{amended}")

