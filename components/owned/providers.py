"""Dynamic resources of owned data centers: node allocations and lease pools in a site's inventory.

Pulumi pickles each provider object (with dill) into the state and runs it in the
`pulumi-resource-pulumi-python` host, so the providers hold nothing: the inventory's path, the
keys and the sizes are resource inputs. Outputs: node `serials`, `racks`, `gpus`, `kw`, and the
held nodes that went bad out of band (`unhealthy`), which `refresh` records and the next `up` fixes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Optional

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult

from capacity.inventory.db import is_postgres, shown_url
from capacity.errors import InventoryError
from capacity.inventory.faults import stop_here
from capacity.inventory.store import Inventory

OUTPUTS = ("serials", "racks", "gpus", "kw", "unhealthy")


def _open(props: dict[str, Any]) -> Inventory:
    return Inventory(_location(props), props["site"])


def _location(props: dict[str, Any]) -> str:
    """The inventory the resource was made in: a SQLite file, or the PostgreSQL database whose
    password-free URL the state keeps (the full URL comes from CAPACITY_INVENTORY_URL)."""
    db = props["db"]
    if not is_postgres(db):
        return db
    url = os.environ.get("CAPACITY_INVENTORY_URL", "")
    if not is_postgres(url) or shown_url(url) != db:
        raise InventoryError(f"the nodes of {props.get('allocation') or props.get('pool')} are in the inventory at {db}, "
                             f"but CAPACITY_INVENTORY_URL is {shown_url(url) if is_postgres(url) else 'not set'}. "
                             "To fix: set CAPACITY_INVENTORY_URL (or --inventory-url) to that database.")
    return url


def _exists(props: dict[str, Any]) -> bool:
    """Whether the resource's inventory is there (a deleted SQLite file holds nothing to read or free)."""
    return is_postgres(props["db"]) or Path(props["db"]).is_file()


def _inputs(props: dict[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    return {name: props[name] for name in names}


def _diff(olds: dict[str, Any], news: dict[str, Any], replace_on: tuple[str, ...], update_on: tuple[str, ...],
          wanted: int) -> DiffResult:
    """Replace when an identity input changes, update when a size input changes or when the last
    read found nodes gone bad or missing (drift)."""
    replaces = [k for k in replace_on if olds.get(k) != news.get(k)]
    changed = [k for k in update_on if olds.get(k) != news.get(k)]
    drift = bool(olds.get("unhealthy")) or len(olds.get("serials") or []) < wanted
    return DiffResult(changes=bool(replaces or changed or drift), replaces=replaces, delete_before_replace=True)


class NodeAllocationProvider(ResourceProvider):
    """A cluster's nodes: `count` healthy nodes of `model`, taken from the site's free nodes."""

    serialize_as_secret_always = False  # it holds no state at all, let alone secrets

    INPUTS = ("db", "site", "allocation", "stack", "cluster", "model", "count", "budget_kw")
    REPLACE_ON = ("site", "allocation", "model")
    UPDATE_ON = ("db", "stack", "cluster", "count")  # a moved inventory: the same key adopts the same nodes

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        with _open(props) as inv:
            held = inv.allocate(props["allocation"], props["stack"], props["cluster"], props["model"],
                                int(props["count"]), float(props["budget_kw"]))
        stop_here("after-commit")
        return {**_inputs(props, self.INPUTS), **held.outputs()}

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["allocation"], outs=self._apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(olds, news, self.REPLACE_ON, self.UPDATE_ON, int(news.get("count") or 0))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not _exists(props):
            return ReadResult(id_=id_, outs={**props, "serials": [], "racks": [], "gpus": 0, "kw": 0, "unhealthy": {}})
        with _open(props) as inv:
            return ReadResult(id_=id_, outs={**props, **inv.allocation(props["allocation"]).outputs()})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if _exists(props):
            with _open(props) as inv:
                inv.release(props["allocation"])
            stop_here("after-commit")


class LeasePoolProvider(ResourceProvider):
    """A lease's capacity: `count` whole nodes carved out of the cluster's allocation
    (dedicated-nodes, while the lease is in force), or a quota of `gpus` on its shared nodes."""

    serialize_as_secret_always = False

    INPUTS = ("db", "site", "pool", "allocation", "lease", "tenant", "isolation", "gpus_leased", "count")
    REPLACE_ON = ("site", "pool", "allocation")
    UPDATE_ON = ("db", "lease", "tenant", "isolation", "gpus_leased", "count")

    def _apply(self, props: dict[str, Any]) -> dict[str, Any]:
        with _open(props) as inv:
            held = inv.carve(props["pool"], props["allocation"], props["lease"], props["tenant"], props["isolation"],
                             int(props["gpus_leased"]), int(props["count"]))
        stop_here("after-commit")
        return {**_inputs(props, self.INPUTS), **self._outputs(props, held)}

    @staticmethod
    def _outputs(props: dict[str, Any], held) -> dict[str, Any]:
        out = held.outputs()
        if props["isolation"] == "shared-quota":  # the shared nodes are the cluster's, not the lease's
            out["shared_serials"], out["serials"], out["racks"] = out["serials"], [], []
        else:
            out["shared_serials"] = []
        return out

    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["pool"], outs=self._apply(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        return _diff(olds, news, self.REPLACE_ON, self.UPDATE_ON, int(news.get("count") or 0))

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=self._apply(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        if not _exists(props):
            empty = {"serials": [], "shared_serials": [], "racks": [], "gpus": 0, "kw": 0, "unhealthy": {}}
            return ReadResult(id_=id_, outs={**props, **empty})
        with _open(props) as inv:
            return ReadResult(id_=id_, outs={**props, **self._outputs(props, inv.pool(props["pool"]))})

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        if _exists(props):
            with _open(props) as inv:
                inv.drop_pool(props["pool"])
            stop_here("after-commit")


def _props(args: Any, outputs: tuple[str, ...]) -> dict[str, Any]:
    """A dataclass of inputs as resource properties, plus the outputs (None until known)."""
    return {**{f.name: getattr(args, f.name) for f in fields(args)}, **{name: None for name in outputs}}


@dataclass(frozen=True, kw_only=True)
class NodeAllocationArgs:
    db: str
    site: str
    allocation: str
    """'<stack>/<cluster>': the holder's key in the inventory."""
    stack: str
    cluster: str
    model: str
    count: int
    budget_kw: float
    """The site's power budget: allocated nodes' kW summed over the site stay within it."""


class NodeAllocation(Resource, module="owned", name="NodeAllocation"):
    db: pulumi.Output[str]
    allocation: pulumi.Output[str]
    serials: pulumi.Output[list]
    racks: pulumi.Output[list]
    gpus: pulumi.Output[int]
    kw: pulumi.Output[float]
    unhealthy: pulumi.Output[dict]

    def __init__(self, name: str, args: NodeAllocationArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(NodeAllocationProvider(), name, _props(args, OUTPUTS), opts)


@dataclass(frozen=True, kw_only=True)
class LeasePoolArgs:
    db: str
    site: str
    pool: str
    """'<stack>/<lease>': the pool's key in the inventory."""
    allocation: pulumi.Input[str]
    """The cluster's allocation (its output, so the pool follows it)."""
    lease: str
    tenant: str
    isolation: str
    gpus_leased: int
    count: int
    """Whole nodes held now (dedicated-nodes in force), else 0."""


class LeasePool(Resource, module="owned", name="LeasePool"):
    pool: pulumi.Output[str]
    serials: pulumi.Output[list]
    shared_serials: pulumi.Output[list]
    racks: pulumi.Output[list]
    gpus: pulumi.Output[int]
    kw: pulumi.Output[float]
    unhealthy: pulumi.Output[dict]

    def __init__(self, name: str, args: LeasePoolArgs, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(LeasePoolProvider(), name, _props(args, OUTPUTS + ("shared_serials",)), opts)
