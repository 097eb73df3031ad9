"""The inventory against the stacks' states.

The inventory commits an allocation before the engine writes the resource into the state, so a
run killed in between leaves nodes held by a resource no state has. Each allocation and pool is
owned by its resource: the stack, and the resource's id (`<stack>/<cluster>`, `<stack>/<lease>`).
- A retried create of the same resource adopts what it left (the store's allocate keeps its nodes).
- `release_orphans` lets go of what a stack's state and plan no longer have (before `up`, after `destroy`).
- `audit` compares the inventory with every stack of a backend.
- `shortages` finds, before any change, the clusters the free nodes cannot serve.

The ledger reads no engine state itself: capacity/deploy hands it a stack's resources (as
capacity/engine/deployment.py reads them) and, for the whole backend, a `StackState` per stack.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Callable, Iterable

from capacity.errors import InventoryError, InventoryShortage
from capacity.inventory.store import Node, shortage


@dataclass(frozen=True)
class Claim:
    """What one resource of a state says it holds."""

    stack: str
    site: str
    kind: str  # "allocation" or "pool"
    key: str
    serials: tuple[str, ...]
    props: dict = field(default_factory=dict, compare=False, hash=False)


@dataclass(frozen=True)
class StackState:
    """One stack of a backend as the ledger needs it: its resources, and whether a run is changing
    it right now (its state then lags, by design)."""

    name: str
    resources: list[dict]
    busy: bool = False


StackStates = Callable[[], list[StackState]]
"""The backend handle: every stack of the backend, read when called."""


def claims(stack: str, resources: list[dict]) -> list[Claim]:
    """The node allocations and lease pools recorded in a stack's resources."""
    found = []
    for resource in resources:
        kind = resource.get("type", "").rsplit(":", 1)[-1]
        outputs = resource.get("outputs") or resource.get("inputs") or {}
        key = outputs.get("allocation") if kind == "NodeAllocation" else outputs.get("pool")
        if kind not in ("NodeAllocation", "LeasePool") or not isinstance(key, str) or "site" not in outputs:
            continue
        serials = outputs.get("serials") if isinstance(outputs.get("serials"), list) else []
        found.append(Claim(stack, str(outputs["site"]), "allocation" if kind == "NodeAllocation" else "pool",
                           key, tuple(str(s) for s in serials), dict(outputs)))
    return found


def plan_keys(loaded, stack: str) -> set[str]:
    """The allocation and pool keys the plan's owned clusters and their leases will have."""
    owned = {name for name, c in loaded.plan.clusters.items() if loaded.plan.sites[c.site].provider == "owned"}
    return ({f"{stack}/{name}" for name in owned}
            | {f"{stack}/{name}" for name, lease in loaded.plan.leases.items() if lease.cluster in owned})


def owned_sites(loaded) -> list[str]:
    return [name for name, site in loaded.plan.sites.items() if site.provider == "owned"]


# --- orphans ---------------------------------------------------------------------------------


def _unclaimed(stack: str, resources: list[dict], sites: Iterable[str], keep: Iterable[str]):
    """(site, open inventory, kind, key) of each allocation and pool of `stack` that its state does
    not have and that is not in `keep` (what the plan will create, and so adopt)."""
    from capacity.inventory import open_site

    held = {c.key for c in claims(stack, resources)} | set(keep)
    for site in sites:
        try:
            inv = open_site(site)
        except InventoryError:
            continue  # no inventory here: nothing it could hold
        with inv:
            for kind, key in inv.owned_by(stack):
                if key not in held:
                    yield site, inv, kind, key


def release_orphans(stack: str, resources: list[dict], sites: Iterable[str], keep: Iterable[str] = ()) -> list[str]:
    """Let go of the orphans of `stack` (see `_unclaimed`). Returns one line per release."""
    done = []
    for site, inv, kind, key in _unclaimed(stack, resources, sites, keep):
        freed = inv.drop_pool(key) if kind == "pool" else inv.release(key)
        done.append(f"site {site}: released {kind} {key} ({len(freed)} nodes), which no state of "
                    f"stack {stack} has (left by an interrupted run)")
    return done


def orphan_pools(stack: str, resources: list[dict], sites: Iterable[str], keep: Iterable[str] = ()) -> list[str]:
    """Lease pools among the orphans of `stack` (a run killed before it saved its state made them):
    letting them go takes a lease's capacity, which only --allow-destroy may. One line per pool,
    for the guard's refusal."""
    return [f"release the pool of lease '{key.split('/', 1)[-1]}' at site {site}, which a run killed "
            "before it saved its state made (no state has it)"
            for site, _inv, kind, key in _unclaimed(stack, resources, sites, keep) if kind == "pool"]


# --- shortages -------------------------------------------------------------------------------


def shortages(loaded, plan_path, stack: str, resources: list[dict]) -> list[str]:
    """What `up` would refuse for want of nodes or power, found before any change: per site and
    model, the plan's clusters need their nodes from the free ones plus those they hold already
    (and those an interrupted run left, which `up` releases or adopts). A site not imported yet
    counts the nodes of its `inventory:` file."""
    from capacity.inventory import open_site, site_nodes

    problems = []
    in_state = {c.key for c in claims(stack, resources)}
    for site in owned_sites(loaded):
        if site_nodes(site):
            with open_site(site) as inv:
                nodes = inv.nodes()
        elif loaded.plan.sites[site].inventory:
            nodes = _file_nodes(loaded, plan_path, site)
        else:
            continue
        problems += _site_shortages(loaded, stack, site, nodes, in_state)
    return problems


def _file_nodes(loaded, plan_path, site: str) -> list[Node]:
    from pathlib import Path

    from capacity.plan.inventory_file import read_inventory

    file = Path(plan_path).parent / loaded.plan.sites[site].inventory
    rows = read_inventory(file, loaded.catalog, str(file))
    return [Node(r.serial, r.rack, r.model, r.gpus, r.kw, r.state) for r in rows]


def _site_shortages(loaded, stack: str, site: str, nodes: list[Node], in_state: set[str]) -> list[str]:
    budget_kw = loaded.plan.sites[site].power_mw * 1000
    wanted = {f"{stack}/{name}": (name, loaded.types[name].instance_type, c.nodes)
              for name, c in loaded.plan.clusters.items() if c.site == site}
    left = {n.allocation for n in nodes if n.allocation and n.allocation.startswith(f"{stack}/")
            and n.allocation not in in_state and n.allocation not in wanted}  # released before the first create
    nodes = [Node(n.serial, n.rack, n.model, n.gpus, n.kw, "free") if n.allocation in left and n.healthy else n
             for n in nodes]
    free = Counter(n.model for n in nodes if n.state == "free")
    kept_kw = sum(n.kw for n in nodes if n.state == "allocated" and n.allocation not in wanted)
    add_kw = 0.0
    problems = []
    for key, (_name, model, count) in sorted(wanted.items()):
        have = [n for n in nodes if n.allocation == key and n.state == "allocated" and n.model == model]
        kept = have[:count]
        kept_kw += sum(n.kw for n in kept)
        need = count - len(kept)
        if need <= 0:
            continue
        if free[model] < need:
            states = Counter(n.state for n in nodes if n.model == model)
            free_serials = [n.serial for n in nodes if n.state == "free" and n.model == model]
            problems.append(shortage(site, model, key, need, count, states, free_serials[:free[model]]))
            free[model] = 0
            continue
        free[model] -= need
        lightest = sorted(n.kw for n in nodes if n.state == "free" and n.model == model)[:need]
        add_kw += sum(lightest)
    if kept_kw + add_kw > budget_kw + 1e-9:
        problems.append(f"the plan's clusters would bring site {site} to {kept_kw + add_kw:,.1f} kW, over its power "
                        f"budget of {budget_kw:,.0f} kW. To fix: raise the site's power_mw or shrink a cluster.")
    return problems


# --- around an engine run --------------------------------------------------------------------


def before_up(loaded, plan_path, stack: str, resources: list[dict], holders) -> list[str]:
    """Before `up` changes anything: import inventories on first use (never over one that stacks
    still hold nodes of), release what interrupted runs left that the plan no longer has, then
    check every owned cluster can get its nodes. Returns lines for the user; InventoryError if not."""
    from capacity.inventory import prepare_sites

    done = prepare_sites(loaded, plan_path, holders)
    done += release_orphans(stack, resources, owned_sites(loaded), keep=plan_keys(loaded, stack))
    check_shortages(loaded, plan_path, stack, resources)
    return done


def check_shortages(loaded, plan_path, stack: str, resources: list[dict]) -> None:
    found = shortages(loaded, plan_path, stack, resources)
    if found:
        raise InventoryShortage("\n".join(found))


def after_destroy(stack: str, resources: list[dict]) -> list[str]:
    """After `destroy`: whatever the inventory still gives the stack (an interrupted run's) goes back."""
    from capacity.inventory import sites

    return release_orphans(stack, resources, sites())


def backend_claims(states: StackStates) -> tuple[list[Claim], set[str]]:
    """The claims of every stack of the backend, and the stacks a run is changing now."""
    found, busy = [], set()
    for stack in states():
        found += claims(stack.name, stack.resources)
        if stack.busy:
            busy.add(stack.name)
    return found, busy


def holders_in(states: StackStates):
    """holders(site): the stacks of the backend whose states hold nodes of the site (read once, when first asked)."""
    read: list[list[Claim]] = []

    def holders(site: str) -> list[str]:
        if not read:
            read.append(backend_claims(states)[0])
        return sorted({c.stack for c in read[0] if c.site == site and c.serials})

    return holders


# --- audit -----------------------------------------------------------------------------------


FIXED = ("orphan", "orphan-pool", "listed-free")  # what --fix puts right


@dataclass(frozen=True)
class Finding:
    kind: str  # orphan, orphan-pool, held-by-other, listed-free, missing
    site: str
    serial: str | None
    stack: str | None
    message: str
    key: str = ""  # the orphan allocation or pool (what --fix lets go of)

    def as_json(self) -> dict:
        return {"kind": self.kind, "site": self.site, "serial": self.serial, "stack": self.stack,
                "message": self.message}


def audit(states: StackStates, sites: list[str]) -> tuple[list[Finding], set[str]]:
    """The inventory of each site against the states of every stack of the backend.
    Stacks a run is changing right now are left out (their states lag by design). Returns the
    findings and those stacks."""
    from capacity.inventory import open_site

    every, busy = backend_claims(states)
    findings = []
    for site in sites:
        with open_site(site) as inv:
            nodes = inv.nodes()
            allocations, pools = inv.holdings()
        mine = [c for c in every if c.site == site]
        findings += _orphans(site, nodes, allocations, pools, mine, busy)
        findings += _disputed(site, nodes, mine)
    return findings, busy


def _orphans(site, nodes, allocations, pools, mine: list[Claim], busy: set[str]) -> list[Finding]:
    claimed = {(c.kind, c.key) for c in mine}
    found = []
    for key, stack in sorted(allocations.items()):
        if ("allocation", key) in claimed or stack in busy:
            continue
        held = [n for n in nodes if n.allocation == key]
        for node in held:
            found.append(Finding("orphan", site, node.serial, stack, f"{node.serial} is held by {key}, which no "
                                 f"state of stack {stack} has (an interrupted run, or a lost state)", key))
        if not held:
            found.append(Finding("orphan", site, None, stack, f"allocation {key} holds no nodes and no state of "
                                 f"stack {stack} has it", key))
    for key, stack in sorted(pools.items()):
        if ("pool", key) not in claimed and stack not in busy:
            found.append(Finding("orphan-pool", site, None, stack or None,
                                 f"lease pool {key} belongs to a lease no state of stack {stack} has", key))
    return found


def _disputed(site, nodes, mine: list[Claim]) -> list[Finding]:
    by_serial = {n.serial: n for n in nodes}
    found = []
    for claim in mine:
        if claim.kind != "allocation":
            continue
        for serial in claim.serials:
            node = by_serial.get(serial)
            if node is None:
                found.append(Finding("missing", site, serial, claim.stack, f"the state of stack {claim.stack} says "
                                     f"{claim.key} holds {serial}, which the inventory does not have"))
            elif node.state == "free":
                found.append(Finding("listed-free", site, serial, claim.stack, f"the state of stack {claim.stack} "
                                     f"says {claim.key} holds {serial}; the inventory lists it free"))
            elif node.allocation not in (None, claim.key):
                found.append(Finding("held-by-other", site, serial, claim.stack, f"the state of stack {claim.stack} "
                                     f"says {claim.key} holds {serial}; the inventory gives it to {node.allocation}"))
    return found


def fix(findings: list[Finding], states: StackStates) -> list[str]:
    """Release the orphans found, never a node that some state claims; give back to their holder
    the nodes a state claims that the inventory lists free (a lost inventory imported again).
    Returns what was done."""
    from capacity.inventory import open_site

    every, _ = backend_claims(states)
    done = []
    for site in sorted({f.site for f in findings}):
        claimed = {s for c in every if c.site == site for s in c.serials}
        orphans = {(f.kind, f.key) for f in findings if f.site == site and f.kind in ("orphan", "orphan-pool")}
        listed_free = {(f.stack, f.serial) for f in findings if f.site == site and f.kind == "listed-free"}
        with open_site(site) as inv:
            done += _readopt(inv, site, [c for c in every if c.site == site], listed_free)
            for kind, key in sorted(orphans, reverse=True):  # pools first
                if kind == "orphan-pool":
                    inv.unpool(key)
                    done.append(f"site {site}: forgot lease pool {key} (its nodes stay with their cluster)")
                else:
                    released = inv.release_except(key, claimed)
                    done.append(f"site {site}: released {key}: {len(released)} nodes back to the free pool")
    return done


def _readopt(inv, site: str, mine: list[Claim], freed: set[tuple[str, str]]) -> list[str]:
    """The claims with nodes listed free take them back, and their lease pools are recorded again."""
    done = []
    stacks = {stack for stack, _ in freed}
    for claim in mine:
        if claim.stack not in stacks:
            continue
        p = claim.props
        if claim.kind == "allocation":
            taken = inv.adopt(claim.key, claim.stack, p.get("cluster", ""), p.get("model", ""), int(p.get("count") or 0),
                              [s for s in claim.serials if (claim.stack, s) in freed])
            done.append(f"site {site}: {claim.key} took back {len(taken)} nodes its state holds")
    for claim in mine:
        if claim.stack in stacks and claim.kind == "pool":
            p = claim.props
            inv.adopt_pool(claim.key, claim.stack, str(p.get("allocation", "")), str(p.get("lease", "")),
                           str(p.get("tenant", "")), str(p.get("isolation", "dedicated-nodes")),
                           int(p.get("gpus_leased") or 0), int(p.get("count") or 0), claim.serials)
    return done
