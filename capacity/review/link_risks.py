"""A risk of a plan change: a link removed that was a site's only path to the clusters its leases
run on. Sites reach each other over the plan's links (any number of hops, owned routers included);
when the removal leaves two sites with no path between them while either holds clusters with
leases running or yet to start, the other site loses its way to them: a high risk."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from capacity.plan.loading import LoadedPlan

Risk = tuple[str, str, str, str, list[str]]  # level, kind, name, message, objects

KIND = "only-path-removed"


def _reach(loaded: LoadedPlan) -> dict[str, set[str]]:
    """Each site's component in the plan's link graph: the sites it can reach."""
    graph: dict[str, set[str]] = defaultdict(set)
    for link in loaded.plan.links:
        a, b = link.between
        graph[a].add(b)
        graph[b].add(a)
    reach: dict[str, set[str]] = {}
    for start in loaded.plan.sites:
        if start in reach:
            continue
        seen, todo = {start}, [start]
        while todo:
            for nxt in graph[todo.pop()] - seen:
                seen.add(nxt)
                todo.append(nxt)
        for site in seen:
            reach[site] = seen
    return reach


def _open_leases(loaded: LoadedPlan, site: str, as_of: dt.date) -> list[str]:
    """HEAD's leases not yet ended on the site's clusters."""
    return sorted(n for n, lease in loaded.plan.leases.items() if lease.end > as_of
                  and lease.cluster in loaded.plan.clusters and loaded.plan.clusters[lease.cluster].site == site)


def link_path_risks(base: LoadedPlan, head: LoadedPlan, as_of: dt.date) -> list[Risk]:
    """(level, kind, name, message, objects) for each removed link that cut a site off from
    clusters with leases, as diff's _Risks.add takes them."""
    kept = {link.name for link in head.plan.links}
    before, after = _reach(base), _reach(head)
    out: list[Risk] = []
    for link in base.plan.links:
        a, b = link.between
        if link.name in kept or not {a, b} <= head.plan.sites.keys() or b in after.get(a, {a}):
            continue
        cut = {there: _open_leases(head, there, as_of) for there in (a, b) if there in before.get(a, set())}
        leases = sorted({name for names in cut.values() for name in names})
        if not leases:
            continue
        at = " and ".join(f"{site} ({', '.join(names[:5])}{' ...' if len(names) > 5 else ''})"
                          for site, names in cut.items() if names)
        out.append(("high", KIND, link.name,
                    f"removing the {link.kind} {a} <-> {b} leaves {a} and {b} with no path between them, and "
                    f"leases run on clusters at {at}. To fix: keep the link, or join {a} and {b} another way "
                    "first (a VPN, an interconnect, or through another site).",
                    [f"link:{link.name}", f"site:{a}", f"site:{b}"] + [f"lease:{n}" for n in leases]))
    return out
