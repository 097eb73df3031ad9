"""The rules a well-formed plan must also satisfy: references, catalog, networks, power, leases.

Each check appends Problems; none stops at the first. Names listed in `broken` failed the model
already, so references to them are not reported again.
"""

from __future__ import annotations

import datetime as dt
import difflib
import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Iterable

from capacity.plan.catalog import Catalog, InstanceType
from capacity.errors import Problem, did_you_mean
from capacity.plan.link_checks import check_links
from capacity.plan.model import Cluster, Plan, Reservation
from capacity.providers import spec, specs
from capacity.plan.reader import Document, Path_
from capacity.providers.owned import OwnedSite


@dataclass
class Checker:
    plan: Plan
    doc: Document
    catalog: Catalog
    broken: set[tuple[str, str]] = field(default_factory=set)
    problems: list[Problem] = field(default_factory=list)
    types: dict[str, InstanceType] = field(default_factory=dict)

    def report(self, path: Path_, message: str) -> None:
        self.problems.append(self.doc.problem(path, message))

    def exists(self, section: str, name: str, path: Path_, what: str) -> bool:
        """Does `name` exist in `section`? Reports it (with a suggestion) when it does not."""
        items = getattr(self.plan, section) or {}
        if name in items:
            return True
        if (section, name) not in self.broken:
            self.report(path, f"{what} '{name}' is not defined in `{section}`.{did_you_mean(name, items)}")
        return False


def check(plan: Plan, doc: Document, catalog: Catalog, broken: Iterable[tuple[str, str]] = ()) -> Checker:
    checker = Checker(plan, doc, catalog, set(broken))
    for rule in RULES:
        rule(checker)
    return checker


def _sites(c: Checker) -> None:
    for name, site in c.plan.sites.items():
        provider = spec(site.provider)
        if not provider.has_regions:
            continue
        known = c.catalog.regions.get(site.provider, frozenset())
        region = str(getattr(site, "region"))  # every provider with regions has the field
        if region not in known:
            c.report(("sites", name, "region"), f"'{region}' is not a region of {provider.title}."
                        f"{did_you_mean(region, known)}")
            continue
        for index, zone in enumerate(getattr(site, "zones", None) or []):
            if not zone.startswith(region):
                c.report(("sites", name, "zones", index), f"zone '{zone}' is not in region {region}.")


def _networks(c: Checker) -> None:
    for name, site in c.plan.sites.items():
        longest = spec(site.provider).longest_prefix(site)
        if site.network.cidr.prefixlen > longest:
            c.report(("sites", name, "network", "cidr"),
                     f"{site.network.cidr} is too small for the subnets of a {spec(site.provider).title} site, "
                     f"which needs a /{longest} or larger. To fix: widen the network.")
    ranked = sorted((site.network.cidr, name) for name, site in c.plan.sites.items())
    widest: tuple[ipaddress.IPv4Network, str] | None = None  # the earlier network reaching furthest
    for cidr, name in ranked:
        if widest and cidr.overlaps(widest[0]):
            line, _ = c.doc.locate(("sites", widest[1], "network", "cidr"))
            c.report(("sites", name, "network", "cidr"),
                        f"{cidr} of site '{name}' overlaps {widest[0]} of site '{widest[1]}' (line {line}); "
                        "linked sites would be unroutable. To fix: give each site its own address range.")
        if widest is None or cidr.broadcast_address > widest[0].broadcast_address:
            widest = (cidr, name)


def _clusters(c: Checker) -> None:
    for name, cluster in c.plan.clusters.items():
        if not c.exists("sites", cluster.site, ("clusters", name, "site"), "site"):
            continue
        site = c.plan.sites[cluster.site]
        region = getattr(site, "region", None)
        if region not in c.catalog.regions.get(site.provider, frozenset()):
            region = None  # an unknown region is reported at the site (_sites), not again at each cluster
        entry = _instance_type(c, name, cluster, site.provider, region)
        if entry:
            c.types[name] = entry
        if cluster.reservation:
            _reservation(c, name, cluster.reservation, site.provider)


def _instance_type(c: Checker, name: str, cluster: Cluster, provider: str, region: str | None) -> InstanceType | None:
    where = f" in {region}" if region else ""
    if cluster.instance_type is not None:
        path = ("clusters", name, "instance_type")
        entry = c.catalog.lookup(provider, cluster.instance_type)
        if entry is None:
            names = [t.instance_type for t in c.catalog.of(provider)]
            c.report(path, f"'{cluster.instance_type}' is not in the catalog for {provider}."
                        f"{did_you_mean(cluster.instance_type, names)} (`capacity catalog --provider {provider}` lists them)")
            return None
        if not entry.offered_in(region):
            c.report(path, f"{cluster.instance_type} is not offered{where}.{_offered_in('It', [entry], region)}")
            return None
        return entry
    path = ("clusters", name, "accelerator")
    accelerator = cluster.accelerator or ""  # given when instance_type is not (the model checks it)
    known = c.catalog.accelerators(provider)
    if accelerator not in known:
        c.report(path, f"'{accelerator}' is not an accelerator {provider} offers in the catalog "
                    f"({', '.join(known)}).{did_you_mean(accelerator, known)}")
        return None
    entry = c.catalog.pick(provider, accelerator, region)
    if entry is None:
        with_it = [t for t in c.catalog.of(provider) if t.accelerator == accelerator]
        c.report(path, f"no {provider} instance type with {accelerator} is offered{where}."
                    f"{_offered_in(accelerator, with_it, region)}")
    return entry


def _offered_in(subject: str, entries: list[InstanceType], region: str | None) -> str:
    """' <subject> is offered in <every region>. To fix: ...', naming the region most like `region`."""
    regions = sorted(set().union(*(e.regions for e in entries)))
    if not regions:
        return ""
    closest = difflib.get_close_matches(region or "", regions, n=1, cutoff=0)[0]
    return (f" {subject} is offered in {', '.join(regions)}. "
            f"To fix: move the site to one of these (e.g. {closest}), or pick another type.")


def _reservation(c: Checker, name: str, reservation: Reservation, provider_name: str) -> None:
    path = ("clusters", name, "reservation")
    provider = spec(provider_name)
    if reservation.kind == "none":
        return
    if reservation.kind not in provider.reservation_kinds:
        note = f": {provider.reservation_note}" if provider.reservation_note else ""
        c.report(path + ("kind",), f"{provider.title} does not support `{reservation.kind}`{note}.")
        return
    start, end = reservation.start, reservation.end
    if start and end and start >= end:
        c.report(path + ("end",), f"ends {end} on or before it starts {start}.")
        return
    if reservation.kind == "capacity-block":
        if not (start and end):
            c.report(path, "a capacity block needs both `start` and `end`.")
            return
        days = (end - start).days
        low, high = provider.capacity_block_days or (1, 0)
        if not low <= days <= high:
            c.report(path + ("end",), f"a {provider.title} capacity block lasts {low} to {high} days; this one is {days}.")
        elif days > 14 and days % 7:
            c.report(path + ("end",), f"capacity blocks over 14 days come in whole weeks; {days} days is not. "
                        f"To fix: end on {start + dt.timedelta(days=days - days % 7)} or "
                        f"{start + dt.timedelta(days=days + 7 - days % 7)}.")


def _power(c: Checker) -> None:
    draw: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for name, entry in c.types.items():
        if entry.provider == "owned":
            draw[c.plan.clusters[name].site].append((name, c.plan.clusters[name].nodes * (entry.kw_per_node or 0)))
    for site_name, clusters in draw.items():
        site = c.plan.sites[site_name]
        if not isinstance(site, OwnedSite):  # only owned instance types draw power
            continue
        budget_kw = site.power_mw * 1000
        total = sum(kw for _, kw in clusters)
        if total > budget_kw:
            parts = ", ".join(f"{n} {kw:,.0f} kW" for n, kw in clusters)
            c.report(("sites", site_name, "power_mw"),
                        f"clusters here draw {total / 1000:,.2f} MW ({parts}), over the site's {budget_kw / 1000:,.2f} MW. "
                        "To fix: shrink a cluster or raise power_mw.")


def _leases(c: Checker) -> None:
    by_cluster: dict[str, list[str]] = defaultdict(list)
    for name, lease in c.plan.leases.items():
        path = ("leases", name)
        if lease.start >= lease.end:
            c.report(path + ("end",), f"ends {lease.end} on or before it starts {lease.start}.")
            continue
        if not c.exists("clusters", lease.cluster, path + ("cluster",), "cluster"):
            continue
        entry = c.types.get(lease.cluster)
        if entry is None:
            continue
        cluster = c.plan.clusters[lease.cluster]
        if not _fits_cluster(c, name, entry.gpus, cluster.nodes * entry.gpus):
            continue
        if not _inside_reservation(c, name, cluster):
            continue
        by_cluster[lease.cluster].append(name)
    for cluster_name, names in by_cluster.items():
        _oversubscription(c, cluster_name, names)


def _fits_cluster(c: Checker, name: str, per_node: int, total: int) -> bool:
    """Each term of the lease (its amendments included) fits the cluster, in whole nodes if dedicated."""
    lease = c.plan.leases[name]
    for index, term in enumerate(lease.terms):
        path = ("leases", name) + (("amendments", index - 1, "gpus") if index else ("gpus",))
        since = f" from {term.start}" if index else ""
        if term.gpus > total:
            c.report(path, f"{term.gpus} GPUs{since} is more than cluster '{lease.cluster}' has ({total}).")
            return False
        if lease.isolation == "dedicated-nodes" and term.gpus % per_node:
            low = term.gpus - term.gpus % per_node
            c.report(path, f"dedicated-nodes leases take whole nodes of {per_node} GPUs; {term.gpus}{since} is not. "
                           f"To fix: lease {low or per_node} or {low + per_node}, or use shared-quota.")
            return False
    return True


def _inside_reservation(c: Checker, name: str, cluster: Cluster) -> bool:
    lease = c.plan.leases[name]
    reservation = cluster.real_reservation
    if reservation is None or reservation.end is None:
        return True
    start = reservation.start or dt.date.min
    if start >= reservation.end:
        return True  # the reservation's own dates are the mistake, reported at them
    # A lease may outlive a capacity reservation (its nodes go on-demand: a risk in `diff`), never a block.
    past_end = lease.end > reservation.end and reservation.kind == "capacity-block"
    if lease.start < start or past_end:
        c.report(("leases", name), f"runs {lease.start} to {lease.end}, outside the reservation of cluster "
                    f"'{lease.cluster}' ({reservation.start or 'now'} to {reservation.end}). "
                    "To fix: move the lease or extend the reservation.")
        return False
    return True


def _oversubscription(c: Checker, cluster_name: str, names: list[str]) -> None:
    """Sweep the lease starts and ends; report the first instant the leases exceed the cluster."""
    leases = c.plan.leases
    capacity = c.plan.clusters[cluster_name].nodes * c.types[cluster_name].gpus
    # Each term of each lease (amendments cut a lease into terms) starts and ends; ends sort first.
    events = sorted((day, starting, n, t.gpus, index) for n in names for index, t in enumerate(leases[n].terms)
                    for day, starting in ((t.start, 1), (t.end, 0)))
    active: dict[str, int] = {}
    held = 0
    for day, starting, name, gpus, index in events:
        if not starting:
            held -= active.pop(name)
            continue
        active[name] = gpus
        held += gpus
        if held > capacity:
            parts = ", ".join(f"{n} ({g})" for n, g in sorted(active.items()))
            c.report(("leases", name) + (("amendments", index - 1, "gpus") if index else ("gpus",)),
                        f"on {day} the leases on cluster '{cluster_name}' hold {held} GPUs, more than its {capacity}: "
                        f"{parts}. To fix: shrink, move or end one of them, or grow the cluster.")
            return



def _tenants(c: Checker) -> None:
    """Each lease names a tenant of `tenants:` (when given); each group belongs to one tenant only,
    and none is one of Kubernetes' own `system:` groups (those hold every user of the cluster)."""
    tenants = c.plan.tenants
    if tenants is None:
        return
    for name, lease in c.plan.leases.items():
        c.exists("tenants", lease.tenant, ("leases", name, "tenant"), "tenant")
    owner: dict[str, str] = {}
    for name, tenant in tenants.items():
        for index, group in enumerate(tenant.groups):
            path = ("tenants", name, "groups", index)
            if group.startswith("system:"):
                c.report(path, f"'{group}' is a Kubernetes system group (every user or node of the cluster "
                               "may be in it), so it would open the tenant's namespaces to them. "
                               "To fix: name the group of the tenant's own people.")
            elif group in owner and owner[group] != name:
                c.report(path, f"group '{group}' is also a group of tenant '{owner[group]}': its people would "
                               "reach both tenants' namespaces. To fix: give each tenant its own groups.")
            owner.setdefault(group, name)


def _slurm(c: Checker) -> None:
    """`orchestrator: slurm` goes with a `slurm` block at an owned site, one plan cluster per Slurm
    cluster; the accounts it makes (the parent, one per tenant) are names Slurm can hold apart."""
    seen: dict[str, str] = {}
    for name, cluster in c.plan.clusters.items():
        path = ("clusters", name)
        if (cluster.orchestrator == "slurm") != (cluster.slurm is not None):
            c.report(path, "a cluster with `orchestrator: slurm` needs a `slurm` block (cluster, partition), "
                           "and only such a cluster has one. To fix: write both, or neither.")
            continue
        if cluster.slurm is None:
            continue
        site = c.plan.sites.get(cluster.site)
        if site is not None and site.provider != "owned":
            c.report(path + ("orchestrator",), f"Slurm is enforced on clusters of owned sites; site '{cluster.site}' "
                     f"is {spec(site.provider).title}. To fix: describe the Slurm cluster as an owned site's cluster "
                     "(a neocloud's Slurm too), or use `orchestrator: kubernetes` or `none`.")
        slurm = cluster.slurm
        if slurm.cluster in seen:
            c.report(path + ("slurm", "cluster"), f"Slurm cluster '{slurm.cluster}' is also cluster '{seen[slurm.cluster]}'; "
                     "both would declare the same accounts. To fix: one plan cluster per Slurm cluster.")
        seen.setdefault(slurm.cluster, name)
        if slurm.partition.upper() == "DEFAULT":
            c.report(path + ("slurm", "partition"), "DEFAULT is a keyword of slurm.conf, not a partition. "
                     "To fix: name the partition of the GPU nodes.")
        _slurm_accounts(c, name, slurm.account or c.plan.metadata.name)
    _slurm_users(c)


def _slurm_accounts(c: Checker, cluster: str, parent: str) -> None:
    tenants = sorted({lease.tenant for lease in c.plan.leases.values() if lease.cluster == cluster})
    where = ("clusters", cluster, "slurm", "account")
    if parent == "root":
        c.report(where, "'root' is Slurm's own top account. To fix: set `slurm.account` to another name.")
    if len(parent) > 40:
        c.report(where, f"the parent account '{parent}' (the plan's name) is longer than 40 characters. "
                        "To fix: set a shorter `slurm.account`.")
    for tenant in tenants:
        if tenant in ("root", parent):
            like = "Slurm's top account" if tenant == "root" else "the parent account"
            c.report(where, f"tenant '{tenant}' would be an account named like {like}. "
                            "To fix: rename the tenant, or set another `slurm.account`.")
        elif len(tenant) > 40:
            c.report(where, f"tenant '{tenant}' is longer than the 40 characters of a Slurm account name. "
                            "To fix: shorten the tenant's name.")


def _slurm_users(c: Checker) -> None:
    """A Slurm user belongs to one tenant: its jobs could otherwise use another tenant's account."""
    owner: dict[str, str] = {}
    for name, tenant in (c.plan.tenants or {}).items():
        for index, user in enumerate(tenant.users):
            if user in owner and owner[user] != name:
                c.report(("tenants", name, "users", index), f"user '{user}' is also a user of tenant '{owner[user]}': "
                         "its jobs could run under both tenants' accounts. To fix: give each tenant its own users.")
            owner.setdefault(user, name)


# In order: later rules use what earlier ones resolved (instance types before power and leases).
def _inventories(c: Checker) -> None:
    from capacity.plan.inventory_file import plan_inventory_problems

    c.problems += plan_inventory_problems(c.plan, c.doc, c.catalog)


RULES = (_sites, _networks, check_links, _clusters, _power, _leases, _tenants, _slurm, _inventories)
