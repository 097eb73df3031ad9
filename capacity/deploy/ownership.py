"""Owned nodes around an update: whose they are, claimed before the update, released if it fails.

- `holder_of`: the identity the inventory records for a backend's stacks (capacity/inventory/holders.py).
- `claim_nodes`: before the update starts, every owned cluster of the plan gets its missing nodes
  in one transaction per site, so that of runs racing for the last nodes the loser is refused
  with the shortage before changing anything (the update's creates then adopt what was claimed).
- `release_unused`: after a failed update, what was claimed for it and no state has goes back.
- `refuse_moved_inventory`: a stack whose state keeps its nodes in another inventory than this
  run's (a forgotten CAPACITY_INVENTORY_URL) is refused before any change.
"""

from __future__ import annotations

from capacity.engine import deployment as state
from capacity.errors import InventoryError
from capacity.inventory.holders import Holder, Want, claim


def holder_of(backend) -> Holder:
    from capacity.engine.identity import backend_identity

    ident, url = backend_identity(backend.url, backend.local_dir)
    return Holder(ident, url)


def plan_wants(loaded, stack: str) -> dict[str, list[Want]]:
    """site -> the nodes each owned cluster of the plan asks for."""
    wants: dict[str, list[Want]] = {}
    for name, cluster in loaded.plan.clusters.items():
        if loaded.plan.sites[cluster.site].provider != "owned":
            continue
        wants.setdefault(cluster.site, []).append(
            Want(f"{stack}/{name}", stack, name, loaded.types[name].instance_type, cluster.nodes))
    return wants


def claim_nodes(loaded, stack: str, holder: Holder) -> dict[str, list[str]]:
    """Claim the plan's nodes, site by site; a shortage at one site gives back what the sites before
    it claimed for this run. Returns site -> allocation keys made by the claim."""
    from capacity.inventory import open_site

    fresh: dict[str, list[str]] = {}
    try:
        for site, wants in sorted(plan_wants(loaded, stack).items()):
            with open_site(site) as inv:
                fresh[site] = claim(inv, wants, holder, loaded.plan.sites[site].power_mw * 1000)
    except InventoryError:
        release_unused(fresh, None)
        raise
    return fresh


def release_unused(fresh: dict[str, list[str]], deployment: dict | None) -> list[str]:
    """Release the allocations a claim made that the state (after the update) does not have."""
    from capacity.inventory import open_site
    from capacity.inventory.ledger import claims

    kept = {c.key for c in claims("", state.resources(deployment))}
    done = []
    for site, keys in fresh.items():
        unused = [key for key in keys if key not in kept]
        if not unused:
            continue
        with open_site(site) as inv:
            for key in unused:
                freed = inv.release(key)
                done.append(f"site {site}: released the {len(freed)} nodes claimed for {key} (the update did not "
                            "make it)")
    return done


def recorded_locations(deployment: dict | None) -> dict[str, str]:
    """site -> the inventory the state's owned resources keep their nodes in (password-free)."""
    from capacity.inventory.ledger import claims

    return {c.site: str(c.props["db"]) for c in claims("", state.resources(deployment)) if c.props.get("db")}


def refuse_moved_inventory(deployment: dict | None, sites: list[str]) -> None:
    """The state keeps a site's nodes in one inventory, this run would use another: refused (the
    nodes would be allocated again from the wrong one), unless `inventory migrate` moved it there."""
    from capacity.inventory import URL_ENV, shown_location
    from capacity.inventory.retired import moved_to

    problems = [f"site {site}: its SQLite inventory {shown_location(site)} was moved to {moved_to(shown_location(site))} "
                f"by `capacity inventory migrate`. Nothing was changed. To fix: set {URL_ENV}='"
                f"{moved_to(shown_location(site))}' (with its user and password) or pass --inventory-url."
                for site in sorted(sites) if moved_to(shown_location(site))]  # a retired file: never again
    for site, recorded in sorted(recorded_locations(deployment).items()):
        now = shown_location(site)
        if site not in sites or moved_to(now) or recorded == now or moved_to(recorded) == now:
            continue
        if "://" in recorded:
            fix = f"set {URL_ENV}='{recorded}' (with its user and password) or pass --inventory-url"
        else:
            fix = f"unset {URL_ENV} to use the SQLite file {recorded} again"
        problems.append(f"site {site}: the stack's nodes are in the inventory at {recorded}, but this run's inventory "
                        f"is {now}. Nothing was changed. To fix: {fix}; or, to move the inventory on purpose, "
                        "run `capacity inventory migrate --to URL` where the old one is.")
    if problems:
        raise InventoryError("\n".join(problems))


def left_in_inventory(stack: str, holder: Holder) -> list[str]:
    """What the inventory still gives `stack` of this backend (after `stacks rm --force`): said, with
    how to release it, since no state will release it now."""
    from capacity.inventory import open_site, sites
    from capacity.inventory.holders import is_mine, rows

    lines = []
    for site in sites():
        with open_site(site) as inv:
            for kind, key, _stack, backend, _url in rows(inv, stack):
                if is_mine(backend, holder):
                    held = inv.pool(key) if kind == "pool" else inv.allocation(key)
                    lines.append(f"site {site}: {'lease pool' if kind == 'pool' else 'allocation'} {key} still holds "
                                 f"{len(held.serials)} nodes")
    if lines:
        lines.append("No state manages them now. To release them on purpose: `capacity inventory audit --fix` (nodes "
                     "outside lease pools), and add --allow-destroy for lease pools, if the tenants have agreed.")
    return lines
