"""The lease guard: no run takes capacity from an in-force lease without --allow-destroy.

It runs inside the program, so inside the update and under the stack's lock: what it reads is the
state the update will change, whatever another run did a moment before, and it refuses before
the program declares a single resource (an update changes resources as they are declared and
deletes the undeclared ones only once the program has finished, so a refusal changes nothing).

What is held comes from the state's resources, never from stack outputs (a run killed at its end
writes every resource but no outputs): each lease pool component carries its lease's facts as its
inputs (`capacityLease`: cluster, site, instance type, isolation, GPUs, start, end), recorded
when the component is registered, before its capacity exists.

A lease is in force on a day inside [start, end). Its capacity is taken when the new plan
- drops it (delete), or it ends up with no plan at all (destroy);
- moves it to another cluster, site, instance type or isolation (its capacity is made anew);
- gives it fewer GPUs (shrink), or a start after today (postpone: its capacity is released).
Ending it (an end of today or before) is how a lease is meant to go, and is not refused, unless
its Kubernetes namespace still runs workloads: GPUs its ResourceQuota reported in use when the
state last read it (`up` or `refresh`), which the end of the lease would delete with it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

from capacity.engine import deployment as state
from capacity.errors import LeaseGuardRefusal
from capacity.words import inert

FACTS = "capacityLease"
FACTS_CLUSTER = "capacityCluster"
_PLACE = ("cluster", "site", "instance_type", "isolation")


def is_component(type_token: Any, kind: str) -> bool:
    """`capacity:<provider>:<kind>` (not a resource of another package with the same last name)."""
    token = str(type_token or "")
    return token.startswith("capacity:") and token.endswith(f":{kind}")


def plan_facts(loaded, day: dt.date | None = None) -> dict[str, dict[str, Any]]:
    """lease -> its facts, for every lease of the plan (None: no plan, as for destroy). Its GPUs are
    those it holds on `day` (today), so an amendment that shrinks a lease is a shrink. With `day`
    (the day the plan is deployed as): leases ended by then are left out (their pools go), and
    `holds` says whether the pool holds its capacity on that day."""
    if loaded is None:
        return {}
    facts = {}
    for name, lease in loaded.plan.leases.items():
        if day is not None and lease.end <= day:
            continue
        cluster = loaded.plan.clusters.get(lease.cluster)
        entry = loaded.types.get(lease.cluster)
        facts[name] = {"cluster": lease.cluster, "site": cluster.site if cluster else "",
                       "instance_type": entry.instance_type if entry else "", "isolation": lease.isolation,
                       "gpus": int(lease.gpus_at(day or dt.date.today())), "start": lease.start.isoformat(),
                       "end": lease.end.isoformat()}
        if day is not None:
            facts[name]["holds"] = lease.start <= day
    return facts


def real_gpus(loaded, facts: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The facts with `gpus` as the nodes will really hold them: for a dedicated-nodes lease at an
    owned site, the nodes the plan gives it times the GPUs per node the inventory recorded at import
    (a catalog edit cannot make a node bigger)."""
    per_node = _ledger_gpus_per_node(loaded, {(f["site"], f["instance_type"]) for f in facts.values()})
    found = {}
    for name, fact in facts.items():
        entry = loaded.types.get(fact["cluster"])
        recorded = per_node.get((fact["site"], fact["instance_type"]))
        if fact["isolation"] == "dedicated-nodes" and entry is not None and recorded and entry.gpus:
            fact = dict(fact, gpus=min(fact["gpus"], -(-fact["gpus"] // entry.gpus) * recorded))
        found[name] = fact
    return found


def _ledger_gpus_per_node(loaded, wanted: set[tuple[str, str]]) -> dict[tuple[str, str], int]:
    """(site, model) -> the fewest GPUs per node the site's inventory records for that model."""
    from capacity.inventory import InventoryError, open_site

    found: dict[tuple[str, str], int] = {}
    for site in sorted({s for s, _model in wanted}):
        plan_site = loaded.plan.sites.get(site)
        if plan_site is None or plan_site.provider != "owned":
            continue
        try:
            with open_site(site) as inv:
                nodes = inv.nodes()
        except InventoryError:
            continue  # not imported yet: nothing is held there
        for node in nodes:
            key = (site, node.model)
            if key in wanted:
                found[key] = min(found.get(key, node.gpus), node.gpus)
    return found


def held(deployment: Optional[dict]) -> dict[str, dict[str, Any]]:
    """lease -> facts, for every lease pool in the state's resources; `in_use`: the GPUs of
    workloads its namespace ran when last read (0 without one)."""
    found = {}
    resources = state.resources(deployment)
    pools = state.by_urn(state.of_type(deployment, lambda token: is_component(token, "LeasePool")))
    in_use = gpus_in_use(resources, pools)
    for urn, resource in pools.items():
        facts = (resource.get("inputs") or {}).get(FACTS)
        found[state.urn_name(urn)] = dict(facts if isinstance(facts, dict) else {}, in_use=in_use.get(urn, 0))
    return found


def gpus_in_use(resources: list[dict], pools: dict[str, dict]) -> dict[str, int]:
    """Lease pool urn -> GPUs in use in its namespace: `status.used` of the ResourceQuota under it,
    as the last up or refresh read it."""
    by_urn = state.by_urn(resources)
    found: dict[str, int] = {}
    for resource in resources:
        if resource.get("type") != "kubernetes:core/v1:ResourceQuota":
            continue
        used = (((resource.get("outputs") or {}).get("status") or {}).get("used") or {}).get("requests.nvidia.com/gpu")
        pool = state.ancestor(by_urn, resource, lambda urn: urn in pools)
        if pool is not None and str(used or "0").isdigit():
            found[pool] = found.get(pool, 0) + int(used or 0)
    return found


def in_force(facts: dict[str, Any], day: dt.date) -> bool:
    """Recorded facts say the lease runs on `day`; a pool without facts (deployed before they were
    recorded) counts as in force: the guard errs on the side of the tenant."""
    if not facts.get("start") or not facts.get("end"):
        return True
    return str(facts["start"]) <= day.isoformat() < str(facts["end"])


def takings(deployed: dict[str, dict], planned: dict[str, dict], day: dt.date,
            deploy_day: dt.date | None = None) -> list[str]:
    """What the planned leases would take from the deployed ones in force on `day` (the real today,
    whatever day the plan is deployed as: `deploy_day`), one line per lease. A lease not in force
    whose objects go (ended, or left out of the plan) is taking while its namespace runs workloads."""
    lines = []
    for name, old in sorted(deployed.items()):
        if not in_force(old, day):
            ended = str(old.get("end", "")) <= (deploy_day or day).isoformat()
            if old.get("in_use") and (ended or name not in planned):
                lines.append(f"remove {'ended ' if ended else ''}lease '{inert(name)}' whose namespace still runs "
                             f"workloads ({old['in_use']} GPUs in use when last read; `capacity refresh` reads it "
                             "again)")
            continue
        new = planned.get(name)
        if new is None:
            lines.append(f"delete in-force lease '{inert(name)}'{_held(old)}")
            continue
        moved = [f"{key} {inert(old[key])} -> {inert(new.get(key))}" for key in _PLACE
                 if key in old and old[key] != new.get(key)]
        if moved:
            lines.append(f"move in-force lease '{inert(name)}' ({', '.join(moved)}): its capacity is deleted and "
                         "made anew")
        elif _gpus(new) < _gpus(old):
            lines.append(f"shrink in-force lease '{inert(name)}' from {_gpus(old)} to {_gpus(new)} GPUs")
        elif not new.get("holds", True):
            lines.append(f"release in-force lease '{inert(name)}': as on the day given with --on it has not started, "
                         "so its pool would hold nothing (--on never takes capacity from a lease in force today)")
        elif str(new.get("start", "")) > day.isoformat():
            lines.append(f"postpone in-force lease '{inert(name)}' to {inert(new['start'])}: its capacity is "
                         "released until then")
    return lines


def _gpus(facts: dict[str, Any]) -> int:
    try:
        return int(facts.get("gpus") or 0)
    except (TypeError, ValueError):
        return 0


def _held(facts: dict[str, Any]) -> str:
    if not _gpus(facts):
        return ""
    return f" ({_gpus(facts)} GPUs on cluster '{inert(facts.get('cluster', '?'))}' until {inert(facts.get('end', '?'))})"


SLURM_QOS = "pulumi-python:dynamic/slurm:Qos"


def busy_slurm_leases(deployment: Optional[dict], planned: dict[str, dict], day: dt.date,
                      queued: Optional[Callable[[str, str, str], int]] = None) -> list[str]:
    """Slurm leases whose objects this run removes (dropped from the plan, or ended by `day`)
    while their account still has running or pending jobs under their QOS, asked of Slurm now
    (`queued(cluster, account, qos)`); one line each. Dropping an in-force lease is `takings`' to say."""
    resources = (deployment or {}).get("resources") or []
    queues = [r.get("outputs") or {} for r in resources if r.get("type") == SLURM_QOS]
    facts = held(deployment) if queues else {}
    if queued is None:
        from capacity.components.slurm.access import queued_jobs as queued
    lines = []
    for queue in sorted(queues, key=lambda q: str(q.get("lease"))):
        lease, new = str(queue.get("lease")), planned.get(str(queue.get("lease")))
        if (new is not None and str(new.get("end", "")) > day.isoformat()) or \
                (new is None and in_force(facts.get(lease, {}), day)):
            continue
        account, qos = str(queue.get("account")), str(queue.get("name"))
        try:
            jobs = queued(str(facts.get(lease, {}).get("cluster", "")), account, qos)
        except Exception as exc:  # noqa: BLE001 - unknown counts as busy: the guard errs on the tenant's side
            lines.append(f"end lease '{inert(lease)}' without knowing whether Slurm account '{inert(account)}' still "
                         f"has jobs under QOS {inert(qos)}: {inert(str(exc))}")
            continue
        if jobs:
            lines.append(f"end lease '{inert(lease)}' whose Slurm account '{inert(account)}' still has {jobs} running "
                         f"or pending job{'s' if jobs != 1 else ''} under QOS {inert(qos)} (its end cancels them)")
    return lines


REFUSAL_MARK = "keep those leases' capacity in the plan"
"""A phrase of every refusal: how the progress display knows not to show it twice."""


def refusal(verb: str, lines: list[str]) -> str:
    shown = [f"  - {line}" for line in lines[:20]]
    if len(lines) > 20:
        shown.append(f"  - ... and {len(lines) - 20} more")
    return (f"This {verb} would take capacity away from active leases:\n" + "\n".join(shown) + "\n"
            "Nothing was changed. To fix: keep those leases' capacity in the plan, end the leases first, "
            "or run again with --allow-destroy if the tenants have agreed.")


@dataclass
class LeaseGuard:
    """The guard of one run: `check()` is called first thing in the program."""

    read_state: Callable[[], Optional[dict]]
    verb: str = "up"
    allow: bool = False
    found: list[str] = field(default_factory=list)

    def check(self, loaded, *, dry_run: bool, day: dt.date | None = None) -> None:
        """Record what would be taken; refuse (raise) in a real run unless allowed. What is in force
        is judged on the real today; `day` (--on) is the day the plan is deployed as."""
        today = dt.date.today()
        deployment, planned = self.read_state(), plan_facts(loaded, day or today)
        self.found = (takings(held(deployment), real_gpus(loaded, planned) if loaded else planned, today, day)
                      + busy_slurm_leases(deployment, planned, day or today))
        if self.found and not self.allow and not dry_run:
            raise LeaseGuardRefusal(refusal(self.verb, self.found))


def cluster_sites(deployment: Optional[dict]) -> set[tuple[str, str]]:
    """(site, cluster) of every cluster component in the state's resources (site '' if unrecorded)."""
    found = set()
    for resource in state.of_type(deployment, lambda token: is_component(token, "GpuCluster")):
        facts = (resource.get("inputs") or {}).get(FACTS_CLUSTER)
        site = str(facts.get("site", "")) if isinstance(facts, dict) else ""
        found.add((site, state.urn_name(str(resource.get("urn", "")))))
    return found


def recording_facts(loaded, day: dt.date | None = None):
    """A stack transformation that records the facts above as the inputs of lease pool and cluster
    components, when they are registered."""
    import pulumi

    leases = plan_facts(loaded, day)
    clusters = {name: {"site": cluster.site} for name, cluster in loaded.plan.clusters.items()}

    def record(args: pulumi.ResourceTransformationArgs) -> Optional[pulumi.ResourceTransformationResult]:
        if is_component(args.type_, "LeasePool") and args.name in leases:
            key, facts = FACTS, leases[args.name]
        elif is_component(args.type_, "GpuCluster") and args.name in clusters:
            key, facts = FACTS_CLUSTER, clusters[args.name]
        else:
            return None
        return pulumi.ResourceTransformationResult({**(args.props or {}), key: facts}, args.opts)

    return record
