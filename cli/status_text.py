"""`capacity status` as text, made from the same data as its JSON (`StackStatus.as_json()`)."""

from __future__ import annotations

from typing import Any

from capacity.engine.links import link_lines
from capacity.words import count, inert


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
