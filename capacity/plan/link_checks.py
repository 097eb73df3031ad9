"""The rules for links: both ends exist, owned ends have a gateway, interconnects join an owned site
to a cloud at a speed it sells, ASNs do not clash with a cloud's, and no VPN neither end can start."""

from __future__ import annotations

from typing import TYPE_CHECKING

from capacity.errors import did_you_mean
from capacity.plan.reader import Path_
from capacity.providers import ProviderSpec, spec, specs
from capacity.providers.owned import OwnedSite

if TYPE_CHECKING:
    from capacity.plan.checks import Checker
    from capacity.plan.model import Link


# Inside (BGP) addresses of links to owned routers: four /30s each in 169.254.21.0/24 and 169.254.22.0/24
# (components/addressing.py), so at most 32 such links in a plan.
MAX_EDGE_LINKS = 32


def check_links(c: Checker) -> None:
    """`c` is a checks.Checker: reports every problem of `plan.links` and of the owned gateways."""
    _gateway_asns(c)
    _edge_link_count(c)
    seen: dict[tuple[frozenset[str], str], int] = {}
    for index, link in enumerate(c.plan.links):
        path = ("links", index, "between")
        a, b = link.between
        if a == b:
            c.report(path, f"links site '{a}' to itself. To fix: name two different sites.")
            continue
        if not all([c.exists("sites", a, path + (0,), "site"), c.exists("sites", b, path + (1,), "site")]):
            continue
        pair = (frozenset(link.between), link.kind)
        if pair in seen:
            c.report(path, f"repeats the {link.kind} of links[{seen[pair]}] between '{a}' and '{b}'.")
        seen[pair] = index
        ends = [spec(c.plan.sites[s].provider) for s in (a, b)]
        for site, provider in zip((a, b), ends):
            there = c.plan.sites[site]  # an OwnedSite exactly when its provider is owned
            if isinstance(there, OwnedSite) and not there.network.edges:
                c.report(path, f"site '{site}' is {provider.title}: {provider.link_note}.")
        if link.kind == "interconnect":
            _interconnect(c, index, link, ends)
        elif all(p.link_address_from_connection for p in ends):
            _no_first_end(c, path, ends)


def _no_first_end(c: Checker, path: Path_, ends: list[ProviderSpec]) -> None:
    titles = " and ".join(sorted({p.title for p in ends}))
    via = " or ".join(s.title for s in specs().values()
                      if not s.owned and not s.link_address_from_connection and s.bgp_asn)
    c.report(path, f"both ends ({titles}) get their VPN tunnel addresses only from a connection that needs "
                   "the peer's address first, so neither can be built first; a VPN between them is not supported. "
                   f"To fix: link each of them to an owned site (its router routes between them), or to a {via} "
                   "site, or join them with interconnects at one colocation facility.")


def _interconnect(c: Checker, index: int, link: Link, ends: list[ProviderSpec]) -> None:
    owned = [p for p in ends if p.owned]
    if len(owned) != 1:
        c.report(("links", index, "kind"), "an interconnect joins an owned site to a cloud site (a dedicated circuit "
                                           "from the site's router to the cloud). To fix: use `kind: vpn` here, "
                                           "or name one owned and one cloud site.")
        return
    cloud = next(p for p in ends if not p.owned)
    partner = link.provider_partner is not None
    offered = c.catalog.bandwidths(cloud.name, partner)
    if link.bandwidth_gbps in offered:
        return
    how = "through a partner" if partner else "as dedicated ports"
    shown = [f"{g:g}" for g in offered]
    c.report(("links", index, "bandwidth_gbps"),
             f"{cloud.title} does not offer {link.bandwidth_gbps:g} Gbps interconnects {how}; it offers "
             f"{', '.join(shown) or 'none'} Gbps.{did_you_mean(f'{link.bandwidth_gbps:g}', shown)} "
             f"To fix: pick one of these{'' if partner else ', or add `provider_partner` for hosted speeds'}.")


def _gateway_asns(c: Checker) -> None:
    taken = {s.bgp_asn: s.title for s in specs().values() if s.bgp_asn}
    taken.update({asn: s.title for s in specs().values() for asn in s.reserved_asns})
    for name, site in c.plan.sites.items():
        if not isinstance(site, OwnedSite):  # the sites of owned providers
            continue
        network = site.network
        for index, gateway in enumerate(network.edges):
            where = ("gateway",) if network.gateway else ("gateways", index)
            if gateway.asn in taken:
                c.report(("sites", name, "network", *where, "asn"),
                         f"ASN {gateway.asn} is {taken[gateway.asn]}'s own side of its VPNs and interconnects; "
                         "BGP would see its own ASN and drop the routes. To fix: pick another private ASN, "
                         "e.g. 65010.")


def _edge_link_count(c: Checker) -> None:
    def owned(name: str) -> bool:
        site = c.plan.sites.get(name)
        return site is not None and spec(site.provider).owned

    edge = [i for i, link in enumerate(c.plan.links) if link.kind == "interconnect" or any(map(owned, link.between))]
    if len(edge) > MAX_EDGE_LINKS:
        c.report(("links", edge[MAX_EDGE_LINKS]), f"{len(edge)} links end on owned routers or are interconnects; a plan "
                 f"holds at most {MAX_EDGE_LINKS} (their BGP addresses are /30s of 169.254.21.0/24 and 169.254.22.0/24, four each). "
                 "To fix: split the plan, or join sites through fewer links.")
