"""`capacity status`: what a stack holds, read from its state (no engine run, no provider call).

Built on the program's stack outputs (`clusters`, `leases`, see components/program.py) plus, for
each lease pool, the node lists its resources report (outputs named `nodes`, `node_ids` or
`serials`, as the owned allocations do). GPUs per node come from the plan's catalog entries, or
from the shipped catalog when no plan is given.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from capacity.engine.events import type_chain
from capacity.engine.links import link_lines, link_rows
from capacity.words import count, inert

_NODE_KEYS = ("serials", "node_ids", "nodes")
_PLUMBING = ("pulumi:pulumi:Stack", "pulumi:providers:")


def managed_resources(deployment: dict | None) -> list[dict]:
    """The resources a stack holds, as status, stacks, destroy and `stacks rm` count them: all but
    Pulumi's own plumbing (the stack itself and its provider instances)."""
    return [r for r in (deployment or {}).get("resources") or [] if not str(r.get("type")).startswith(_PLUMBING)]


def _gpus_per_node(loaded, cluster: str, info: dict) -> int | None:
    if loaded is not None and cluster in loaded.types and loaded.types[cluster].instance_type == info.get("instance_type"):
        return loaded.types[cluster].gpus
    try:
        from capacity.plan.catalog import load_catalog

        entry = load_catalog(None).lookup(str(info.get("provider")), str(info.get("instance_type")))
    except Exception:  # noqa: BLE001 - a status without GPU counts beats no status
        return None
    return entry.gpus if entry else None


def _pool_nodes(deployment: dict) -> dict[str, list[str]]:
    """LeasePool component urn -> node names/serials reported by the resources under it."""
    resources = deployment.get("resources") or []
    by_urn = {r["urn"]: r for r in resources}
    found: dict[str, list[str]] = defaultdict(list)
    for resource in resources:
        outputs = resource.get("outputs") or {}
        nodes = next((outputs[k] for k in _NODE_KEYS if isinstance(outputs.get(k), list)), None)
        if not nodes:
            continue
        parent = resource.get("parent")
        while parent and parent in by_urn:
            chain = type_chain(parent)
            if chain and chain[-1].endswith(":LeasePool"):
                found[parent].extend(str(n) for n in nodes if isinstance(n, (str, int)))
                break
            parent = by_urn[parent].get("parent")
    return found


def _gpus_in_use(deployment: dict) -> dict[str, Any]:
    """Namespace -> GPUs its ResourceQuota reported in use (`status.used`, as last read by up or refresh)."""
    used: dict[str, Any] = {}
    for resource in deployment.get("resources") or []:
        if resource.get("type") != "kubernetes:core/v1:ResourceQuota":
            continue
        outputs = resource.get("outputs") or {}
        namespace = (outputs.get("metadata") or {}).get("namespace")
        reported = ((outputs.get("status") or {}).get("used") or {}).get("requests.nvidia.com/gpu")
        if namespace and reported is not None:
            used[namespace] = reported
    return used


def _slurm_outputs(deployment: dict, kind: str, key: str) -> dict[str, Any]:
    """Slurm object name -> its output `key`, for the QOS (`gpus_in_use`: GPUs its jobs held, as
    slurmctld counted them when up or refresh last read it) or reservations (`node_names`)."""
    return {(r.get("outputs") or {}).get("name"): (r.get("outputs") or {}).get(key)
            for r in deployment.get("resources") or [] if r.get("type") == f"pulumi-python:dynamic/slurm:{kind}"}


def stack_status(pstack, loaded=None) -> dict[str, Any]:
    deployment = pstack.deployment() if pstack.exists() else None
    data: dict[str, Any] = {"stack": pstack.name, "backend": pstack.backend.shown, "deployed": bool(deployment)}
    if loaded is not None:
        from capacity.plan.schedule import purchases

        data["plan"] = loaded.name
        data["reservations"] = [p.as_json() for p in purchases(loaded, dt.date.today())]
    if not deployment:
        return data
    resources = managed_resources(deployment)
    if not resources:
        data["deployed"] = False
        return data
    outputs = pstack.outputs()
    clusters_out = outputs.get("clusters") if isinstance(outputs.get("clusters"), dict) else {}
    leases_out = outputs.get("leases") if isinstance(outputs.get("leases"), dict) else {}
    data.update({
        "last_update": (deployment.get("manifest") or {}).get("time"),
        "resources": len(resources),
        "pending_operations": len(deployment.get("pending_operations") or []),
    })
    clusters, by_provider, by_site = [], defaultdict(int), {}
    total = 0
    for name, info in sorted(clusters_out.items()):
        per_node = _gpus_per_node(loaded, name, info)
        nodes = int(info.get("nodes") or 0)
        gpus = nodes * per_node if per_node else None
        clusters.append({"name": name, "site": info.get("site"), "provider": info.get("provider"),
                         "instance_type": info.get("instance_type"), "nodes": nodes, "gpus": gpus,
                         "shared_nodes": info.get("shared_nodes"), "cluster_id": info.get("cluster_id"),
                         "reservation_id": info.get("reservation_id")})
        if gpus:
            total += gpus
            by_provider[str(info.get("provider"))] += gpus
            site = by_site.setdefault(str(info.get("site")), {"provider": info.get("provider"), "gpus": 0})
            site["gpus"] += gpus
    pools = _pool_nodes(deployment)
    pool_by_name = {urn.rsplit("::", 1)[-1]: nodes for urn, nodes in pools.items()}
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
    data.update({"gpus": total, "by_provider": dict(sorted(by_provider.items())),
                 "by_site": dict(sorted(by_site.items())), "clusters": clusters, "leases": leases,
                 "links": link_rows(outputs)})
    return data


def _reservation_lines(data: dict[str, Any]) -> list[str]:
    """The plan's reservations still to buy or run out as planned (not drift)."""
    words = {"scheduled": lambda r: f"scheduled, bought on {r['buy_day']} for {r['start']}",
             "ended": lambda r: f"ended as planned on {r['end']}"}
    return [f"  reservation of {r['cluster']} ({r['kind']}): {words[r['state']](r)}"
            for r in data.get("reservations", []) if r["state"] in words]


def render_text(data: dict[str, Any]) -> str:
    lines = [f"Stack {data['stack']} ({data['backend']})", *_reservation_lines(data)]
    if not data.get("deployed"):
        lines.append("  not deployed: run `capacity up` on the plan.")
        return "\n".join(lines) + "\n"
    counts = ", ".join(count(len(data.get(key, [])), key[:-1]) for key in ("clusters", "leases"))
    lines.append(f"  {data.get('gpus', 0):,} GPUs in {counts}, {count(data.get('resources', 0), 'resource')}; "
                 f"last update {data.get('last_update') or 'unknown'}")
    if data.get("pending_operations"):
        lines.append(f"  {data['pending_operations']} operations were interrupted; the next `capacity up` recovers them.")
    if data.get("by_provider"):
        lines.append("  by provider: " + ", ".join(f"{p} {g:,}" for p, g in data["by_provider"].items()))
    if data.get("by_site"):
        lines.append("  by site:     " + ", ".join(f"{s} {v['gpus']:,}" for s, v in data["by_site"].items()))
    if data.get("clusters"):
        lines.append("")
        lines.append("  Clusters")
        for c in data["clusters"]:
            gpus = count(c['gpus'], 'GPU') if c.get("gpus") is not None else "? GPUs"
            extra = f", reservation {c['reservation_id']}" if c.get("reservation_id") else ""
            shared = f", {c['shared_nodes']} shared" if c.get("shared_nodes") is not None else ""
            lines.append(f"    {c['name']}: {c['nodes']} x {c['instance_type']} = {gpus} at {c['site']} "
                         f"({c['provider']}){shared}{extra}; id {c.get('cluster_id') or '-'}")
    if data.get("leases"):
        lines.append("")
        lines.append("  Leases")
        for lease in data["leases"]:
            state = (f"ended as planned on {lease['ended']}" if lease.get("ended") else
                     "in force" if lease.get("in_force") else "not started")
            holds = count(lease['nodes'], 'node') if lease.get("nodes") else "quota on the shared pool" \
                if lease.get("isolation") == "shared-quota" else "no nodes yet"
            names = f" [{', '.join(lease['node_names'][:8])}{' ...' if len(lease['node_names']) > 8 else ''}]" \
                if lease.get("node_names") else ""
            lines.append(f"    {lease['name']}: {lease.get('tenant')} on {lease.get('cluster')}, {lease.get('isolation')}, "
                         f"{state}: {holds}{names}; pool {lease.get('pool_id') or '-'}{_tenancy_text(lease)}")
    lines += link_lines(data.get("links") or [])
    return "".join(inert(line) + "\n" for line in lines)


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


def _tenancy_text(lease: dict[str, Any]) -> str:
    use = lease.get("gpus_in_use")
    if lease.get("qos"):
        nodes = f" ({lease['slurm_nodes']})" if lease.get("slurm_nodes") else ""
        reservation = f", reservation {lease['slurm_reservation']}{nodes}" if lease.get("slurm_reservation") else ""
        return (f"; Slurm account {lease.get('slurm_account')}, QOS {lease['qos']} limit {lease.get('gpu_limit')} GPUs"
                f"{reservation}{f', {use} in use' if use is not None else ''}")
    if not lease.get("namespace"):
        return ""
    use = lease.get("gpus_in_use")
    in_use = f", {use} in use" if use is not None else ""
    return f"; namespace {lease['namespace']}, quota {lease.get('gpu_quota')} GPUs{in_use}"
