"""`capacity status`: what a stack holds, read from its state (no engine run, no provider call).

`stack_status` returns a `StackStatus`; its `as_json()` is what `status --format json` prints, and
the CLI's text is made from that same data (capacity/cli/status_text.py).

Built on the program's stack outputs (`clusters`, `leases`, see components/program.py) plus, for
each lease pool, the node lists its resources report (outputs named `nodes`, `node_ids` or
`serials`, as the owned allocations do). GPUs per node come from the plan's catalog entries, or
from the shipped catalog when no plan is given.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from capacity.engine import deployment as state
from capacity.engine.links import link_rows

_NODE_KEYS = ("serials", "node_ids", "nodes")


def _gpus_per_node(loaded, cluster: str, info: dict) -> int | None:
    if loaded is not None and cluster in loaded.types and loaded.types[cluster].instance_type == info.get("instance_type"):
        return loaded.types[cluster].gpus
    try:
        from capacity.plan.catalog import load_catalog

        entry = load_catalog(None).lookup(str(info.get("provider")), str(info.get("instance_type")))
    except Exception:  # noqa: BLE001 - a status without GPU counts beats no status
        return None
    return entry.gpus if entry else None


def _pool_nodes(deployment: dict | None) -> dict[str, list[str]]:
    """LeasePool component urn -> node names/serials reported by the resources under it."""
    resources = state.resources(deployment)
    by_urn = state.by_urn(resources)
    found: dict[str, list[str]] = defaultdict(list)
    for resource in resources:
        outputs = resource.get("outputs") or {}
        nodes = next((outputs[k] for k in _NODE_KEYS if isinstance(outputs.get(k), list)), None)
        if not nodes:
            continue
        pool = state.ancestor(by_urn, resource, lambda urn: state.urn_type(urn).endswith(":LeasePool"))
        if pool is not None:
            found[pool].extend(str(n) for n in nodes if isinstance(n, (str, int)))
    return found


def _gpus_in_use(deployment: dict | None) -> dict[str, Any]:
    """Namespace -> GPUs its ResourceQuota reported in use (`status.used`, as last read by up or refresh)."""
    used: dict[str, Any] = {}
    for resource in state.of_type(deployment, "kubernetes:core/v1:ResourceQuota"):
        outputs = resource.get("outputs") or {}
        namespace = (outputs.get("metadata") or {}).get("namespace")
        reported = ((outputs.get("status") or {}).get("used") or {}).get("requests.nvidia.com/gpu")
        if namespace and reported is not None:
            used[namespace] = reported
    return used


@dataclass
class StackStatus:
    """What a stack holds. `details` is False when nothing is deployed (the counts are then unset)."""

    stack: str
    backend: str
    deployed: bool = False
    plan: str | None = None
    reservations: list[dict] | None = None
    """The plan's reservations by buy day (with a plan only)."""
    details: bool = False
    last_update: str | None = None
    resources: int = 0
    pending_operations: int = 0
    gpus: int = 0
    by_provider: dict[str, int] = field(default_factory=dict)
    by_site: dict[str, dict] = field(default_factory=dict)
    clusters: list[dict] = field(default_factory=list)
    leases: list[dict] = field(default_factory=list)
    links: list[dict] = field(default_factory=list)
    """Deployed links with an owned end (capacity/engine/links.py)."""

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"stack": self.stack, "backend": self.backend, "deployed": self.deployed}
        if self.plan is not None:
            data.update(plan=self.plan, reservations=self.reservations or [])
        if self.details:
            data.update(last_update=self.last_update, resources=self.resources,
                        pending_operations=self.pending_operations, gpus=self.gpus, by_provider=self.by_provider,
                        by_site=self.by_site, clusters=self.clusters, leases=self.leases, links=self.links)
        return data


def _slurm_outputs(deployment: dict | None, kind: str, key: str) -> dict[str, Any]:
    """Slurm object name -> its output `key`, for the QOS (`gpus_in_use`: GPUs its jobs held, as
    slurmctld counted them when up or refresh last read it) or reservations (`node_names`)."""
    return {(r.get("outputs") or {}).get("name"): (r.get("outputs") or {}).get(key)
            for r in state.of_type(deployment, f"pulumi-python:dynamic/slurm:{kind}")}


def stack_status(pstack, loaded=None) -> StackStatus:
    deployment = pstack.deployment() if pstack.exists() else None
    status = StackStatus(stack=pstack.name, backend=pstack.backend.shown)
    if loaded is not None:
        from capacity.plan.schedule import purchases

        status.plan = loaded.name
        status.reservations = [p.as_json() for p in purchases(loaded, dt.date.today())]
    resources = state.managed_resources(deployment)
    if not resources:
        return status
    outputs = state.stack_outputs(deployment)
    status.deployed = status.details = True
    status.last_update = state.last_update(deployment)
    status.resources = len(resources)
    status.pending_operations = len(state.pending_operations(deployment))
    clusters_out = outputs.get("clusters") if isinstance(outputs.get("clusters"), dict) else {}
    leases_out = outputs.get("leases") if isinstance(outputs.get("leases"), dict) else {}
    _add_clusters(status, loaded, clusters_out)
    status.leases = _leases(loaded, deployment, leases_out)
    status.links = link_rows(outputs)
    return status


def _add_clusters(status: StackStatus, loaded, clusters_out: dict) -> None:
    by_provider: dict[str, int] = defaultdict(int)
    by_site: dict[str, dict] = {}
    for name, info in sorted(clusters_out.items()):
        per_node = _gpus_per_node(loaded, name, info)
        nodes = int(info.get("nodes") or 0)
        gpus = nodes * per_node if per_node else None
        status.clusters.append({"name": name, "site": info.get("site"), "provider": info.get("provider"),
                                "instance_type": info.get("instance_type"), "nodes": nodes, "gpus": gpus,
                                "shared_nodes": info.get("shared_nodes"), "cluster_id": info.get("cluster_id"),
                                "reservation_id": info.get("reservation_id")})
        if gpus:
            status.gpus += gpus
            by_provider[str(info.get("provider"))] += gpus
            site = by_site.setdefault(str(info.get("site")), {"provider": info.get("provider"), "gpus": 0})
            site["gpus"] += gpus
    status.by_provider = dict(sorted(by_provider.items()))
    status.by_site = dict(sorted(by_site.items()))


def _leases(loaded, deployment: dict, leases_out: dict) -> list[dict]:
    pool_by_name = {state.urn_name(urn): nodes for urn, nodes in _pool_nodes(deployment).items()}
    in_use, slurm_use = _gpus_in_use(deployment), _slurm_outputs(deployment, "Qos", "gpus_in_use")
    slurm_nodes = _slurm_outputs(deployment, "Reservation", "node_names")
    leases = []
    for name, info in sorted(leases_out.items()):
        entry = {"name": name, "tenant": info.get("tenant"), "cluster": info.get("cluster"),
                 "isolation": info.get("isolation"), "in_force": info.get("in_force"),
                 "nodes": info.get("nodes"), "pool_id": info.get("pool_id")}
        names = pool_by_name.get(name)
        if names:
            entry["node_names"] = names
        planned = loaded.plan.leases.get(name) if loaded is not None else None
        if planned is not None and planned.end <= dt.date.today():
            entry["ended"] = planned.end.isoformat()  # ran its term: the next `up` removes its pool
        if info.get("namespace"):
            entry.update(namespace=info["namespace"], gpu_quota=info.get("gpu_quota"),
                         gpus_in_use=in_use.get(info["namespace"]))
        if info.get("qos"):
            entry.update(slurm_account=info.get("slurm_account"), qos=info["qos"], gpu_limit=info.get("gpu_limit"),
                         slurm_reservation=info.get("slurm_reservation"), gpus_in_use=slurm_use.get(info["qos"]),
                         slurm_nodes=slurm_nodes.get(info.get("slurm_reservation")))
        leases.append(entry)
    return leases


def ended_as_planned(loaded, deployed: dict[str, Any], day: dt.date) -> list[str]:
    """Deployed leases and reservations of the plan that have run out by `day`: their removal by the
    next `up` is the plan followed, not drift."""
    from capacity.plan.schedule import ENDED, purchases

    leases = deployed.get("leases") if isinstance(deployed.get("leases"), dict) else {}
    clusters = deployed.get("clusters") if isinstance(deployed.get("clusters"), dict) else {}
    out = [f"lease {name}: ended as planned on {lease.end}; its pool is removed"
           for name, lease in loaded.plan.leases.items() if name in leases and lease.end <= day]
    out += [f"reservation of cluster {p.cluster} ({p.kind}): ended as planned on {p.end}; it is removed"
            for p in purchases(loaded, day)
            if p.state == ENDED and (clusters.get(p.cluster) or {}).get("reservation_id")]
    return out


def dated_reservations(loaded, deployed: dict[str, Any], day: dt.date | None = None) -> dict[str, Any]:
    """The plan's dates as of `day` (today): reservations by buy day, and what ran out as planned.
    `lines` are the sentences for people: scheduled reservations, then what ended."""
    from capacity.plan.schedule import SCHEDULED, purchases

    day = day or dt.date.today()
    bought = purchases(loaded, day)
    ended = ended_as_planned(loaded, deployed, day)
    lines = [f"reservation: {p.sentence()}" for p in bought if p.state == SCHEDULED] + ended
    return {"reservations": [p.as_json() for p in bought], "ended_as_planned": ended, "lines": lines}
