"""Refuse an `up` that would take capacity away from an active lease, unless --allow-destroy.

Dangerous: a step of the preview that deletes or replaces
- a cluster (`capacity:<provider>:GpuCluster`) or its reservation (`...:Reservation`), or one of
  their capacity-holding children, while the cluster carries an active lease;
- a lease pool (`...:LeasePool`) or its capacity-holding children, while its lease is active.

"Active" means not yet ended (running now or starting later), in the plan being deployed or in
the one deployed last (the stack's `leases` output): dropping a running lease from the plan is
itself a destroy. Steps are tied to plan objects through the component that encloses them (its
URN type chain says which kind, its name which cluster or lease). Inside a component only the
resources that hold capacity count (reservations, node groups and pools, clusters, node
allocations); a firewall rule being replaced does not take GPUs from anyone.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Iterable

from capacity.engine.events import Step, urn_name

DANGEROUS_OPS = {"delete", "replace", "delete-replaced"}
CLUSTER_KINDS = {"GpuCluster", "Reservation"}
LEASE_KINDS = {"LeasePool"}
COMPONENT_KINDS = CLUSTER_KINDS | LEASE_KINDS
# The last segment of a type token of a resource that holds capacity itself.
_CAPACITY_TYPE = re.compile(
    r"(cluster|reservation|capacityblock|nodegroup|nodepool|agentpool|pool|allocation|instance|scaleset|vmss|"
    r"managedcluster|nodes?)$",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Danger:
    step: Step
    kind: str
    """'cluster' or 'lease'."""
    target: str
    """The cluster or lease of the plan."""
    leases: tuple[str, ...]

    def message(self) -> str:
        from capacity.engine.events import short_type

        what = "delete" if self.step.op == "delete" else "replace"
        resource = f"{what} {self.step.name} [{short_type(self.step.type)}]"
        if self.kind == "lease":
            return f"{resource}: the capacity of active lease '{self.target}'"
        held = ", ".join(f"'{name}'" for name in self.leases)
        return f"{resource} of cluster '{self.target}', which carries active lease{'s' if len(self.leases) > 1 else ''} {held}"


def type_chain(urn: str) -> list[str]:
    """The type tokens from the root component down to the resource itself."""
    parts = urn.split("::")
    return parts[-2].split("$") if len(parts) >= 3 else []


def _kind(token: str) -> str:
    return token.rsplit(":", 1)[-1]


def _match(name: str, candidates: Iterable[str]) -> str | None:
    """The plan object a component name stands for: the same name, else the longest one it is
    built from (`<name>-...`, `...-<name>`)."""
    candidates = list(candidates)
    if name in candidates:
        return name
    found = [c for c in candidates if name.startswith(c + "-") or name.endswith("-" + c) or f"-{c}-" in name]
    return max(found, key=len) if found else None


def active_leases(plan_leases: dict[str, object], deployed_leases: dict[str, dict], today: dt.date | None = None
                  ) -> dict[str, str]:
    """lease name -> cluster, for every lease not yet ended in the new plan or the deployed one."""
    day = today or dt.date.today()
    active: dict[str, str] = {}
    for name, info in (deployed_leases or {}).items():
        if isinstance(info, dict) and info.get("cluster"):
            end = info.get("end")
            if end and str(end) <= day.isoformat():
                continue
            active[name] = str(info["cluster"])
    for name, lease in (plan_leases or {}).items():
        if lease.end > day:
            active[name] = lease.cluster
    return active


def dangers(steps: Iterable[Step], parents: dict[str, str], clusters: Iterable[str], leases: dict[str, str]
            ) -> list[Danger]:
    """The steps that would take capacity from an active lease.

    parents: urn -> parent urn (from the state and from the steps themselves).
    clusters: cluster names (new plan and deployed); leases: active lease -> its cluster.
    """
    clusters = set(clusters) | set(leases.values())
    found: list[Danger] = []
    seen: set[str] = set()
    for step in steps:
        if step.op not in DANGEROUS_OPS or step.urn in seen:
            continue
        chain = type_chain(step.urn)
        own_kind = _kind(chain[-1]) if chain else ""
        enclosing = [k for k in (_kind(t) for t in chain) if k in COMPONENT_KINDS]
        if not enclosing:
            continue
        if own_kind not in COMPONENT_KINDS and not _CAPACITY_TYPE.search(own_kind):
            continue  # a supporting resource (security group, route...) inside the component
        component = _enclosing_component(step.urn, parents)
        if component is None:
            continue
        comp_kind = _kind(type_chain(component)[-1])
        name = urn_name(component)
        if comp_kind in LEASE_KINDS:
            lease = _match(name, leases)
            if lease is not None:
                seen.add(step.urn)
                found.append(Danger(step, "lease", lease, (lease,)))
        else:
            cluster = _match(name, clusters)
            held = tuple(sorted(n for n, c in leases.items() if c == cluster)) if cluster else ()
            if held:
                seen.add(step.urn)
                found.append(Danger(step, "cluster", cluster, held))
    return found


def _enclosing_component(urn: str, parents: dict[str, str]) -> str | None:
    """The nearest cluster, reservation or lease-pool component at or above urn."""
    seen = set()
    current: str | None = urn
    while current and current not in seen:
        seen.add(current)
        chain = type_chain(current)
        if chain and _kind(chain[-1]) in COMPONENT_KINDS:
            return current
        current = parents.get(current)
    return None


def parent_map(deployment: dict | None, steps: Iterable[Step]) -> dict[str, str]:
    parents: dict[str, str] = {}
    for resource in (deployment or {}).get("resources") or []:
        if resource.get("parent"):
            parents[resource["urn"]] = resource["parent"]
    for step in steps:
        parent = step.new_parent or step.old_parent
        if parent:
            parents.setdefault(step.urn, parent)
    return parents


def refusal(found: list[Danger]) -> str:
    lines = [f"  - {d.message()}" for d in found[:20]]
    if len(found) > 20:
        lines.append(f"  - ... and {len(found) - 20} more")
    return ("This up would take capacity away from active leases:\n" + "\n".join(lines) + "\n"
            "Nothing was changed. To fix: keep those leases' capacity in the plan, end the leases first, "
            "or run again with --allow-destroy if the tenants have agreed.")
