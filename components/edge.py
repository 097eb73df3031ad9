"""Links with an owned end: the cloud side is built towards the site's edge routers (gateways),
and what the network team configures on those routers is exported (`links`, keys in `link_keys`).

An owned site builds nothing: its routers are the company's. Each cloud package offers
`OwnedVpn` (IPsec tunnels with BGP to the routers) and `Interconnect` (a dedicated circuit with a
BGP peering); both take an `EdgeContext` and declare `tunnels: list[dict]` or `peerings: list[dict]`,
one dict per BGP session, with the keys of `SESSION`.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import Any

import pulumi

from capacity.components.base import LinkContext
from capacity.components.linkkey import PresharedKey

SESSION = ("edge", "owned_asn", "owned_inside", "cloud_address", "cloud_asn", "cloud_inside")
"""A BGP session's fields: the owned router's public IP and ASN, its inside address (a.b.c.d/30),
the cloud's tunnel or circuit address, ASN and inside address."""


@dataclass(frozen=True)
class EdgeContext:
    link: LinkContext
    """`site` is the cloud end, `peer` the owned one."""
    plan_link: Any
    """The plan's Link (kind, bandwidth_gbps, location, provider_partner)."""
    edges: list
    """The owned site's gateways (public_ip, asn), one or two."""
    blocks: list[ipaddress.IPv4Network]
    """/30s for the BGP sessions' inside addresses, in order."""
    cloud_asn: int

    @property
    def owned_cidr(self) -> str:
        return str(self.link.peer.site.network.cidr)

    @property
    def vlan(self) -> int:
        """The 802.1Q tag of an interconnect's peering: from its inside range, so unique in the plan."""
        return 100 + int(self.blocks[0].network_address) % 4000

    def session(self, index: int, edge, cloud_address: pulumi.Input[str] | None,
                cloud_inside: pulumi.Input[str] | None = None, router_first: bool = False) -> dict:
        """Session `index` on block `index`: the cloud takes its first address, the router the second
        (the other way round with `router_first`, as ExpressRoute wants)."""
        block = self.blocks[index]
        ours, theirs = (block[1], block[2]) if router_first else (block[2], block[1])
        cloud_inside = str(theirs) if cloud_inside is None else cloud_inside
        return {"edge": edge.public_ip, "owned_asn": edge.asn, "owned_inside": f"{ours}/30",
                "cloud_address": cloud_address, "cloud_asn": self.cloud_asn,
                "cloud_inside": cloud_inside}

    def key(self, index: int) -> pulumi.Output[str]:
        """The pre-shared key of session `index` (a secret, generated once)."""
        return PresharedKey(f"{self.link.name}-psk{index + 1}").secret_key


def exported(ctx: EdgeContext, sessions: list[dict], component_id: pulumi.Input[str]) -> dict:
    """The link as `capacity status --link` and the router configuration read it (no keys)."""
    link = ctx.plan_link
    out = {"kind": link.kind, "owned": ctx.link.peer.name, "cloud": ctx.link.site.name,
           "provider": ctx.link.site.provider, "owned_cidr": ctx.owned_cidr,
           "cloud_cidr": str(ctx.link.site.site.network.cidr), "id": component_id,
           "sessions": [{k: s[k] for k in SESSION} for s in sessions]}
    if link.kind == "interconnect":
        out.update(bandwidth_gbps=link.bandwidth_gbps, location=link.location, partner=link.provider_partner,
                   vlan=ctx.vlan)
    return out


def wan(link_ctx: LinkContext, plan_link, blocks: list[ipaddress.IPv4Network]) -> tuple[dict, list]:
    """An owned-to-owned link over the company's WAN: no cloud resource; one tunnel between the
    first routers of each site, with a generated key, so that both routers are configured from it."""
    a, b = link_ctx.site, link_ctx.peer
    edge_a, edge_b = a.site.network.edges[0], b.site.network.edges[0]
    block = blocks[0]
    session = {"edge": edge_a.public_ip, "owned_asn": edge_a.asn, "owned_inside": f"{block[2]}/30",
               "cloud_address": edge_b.public_ip, "cloud_asn": edge_b.asn, "cloud_inside": str(block[1])}
    out = {"kind": plan_link.kind, "owned": a.name, "cloud": b.name, "provider": "owned",
           "owned_cidr": str(a.site.network.cidr), "cloud_cidr": str(b.site.network.cidr), "id": link_ctx.name,
           "sessions": [session]}
    return out, [PresharedKey(f"{link_ctx.name}-psk1").secret_key]
