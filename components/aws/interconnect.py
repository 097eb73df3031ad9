"""AWS Direct Connect to an owned site: a dedicated connection (or one a partner hosts) at the
colocation facility, and a private virtual interface on the site's VPN gateway, BGP to the router."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from capacity.components.aws.network import SiteNetwork
from capacity.components.base import Component
from capacity.components.edge import EdgeContext


def speed(gbps: float) -> str:
    """Direct Connect's names for speeds: 500Mbps, 1Gbps, 10Gbps..."""
    return f"{gbps:g}Gbps" if gbps >= 1 else f"{round(gbps * 1000)}Mbps"


class Interconnect(Component):
    KIND = "Interconnect"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("aws", name, ctx.link.opts)
        link, edge, block = ctx.plan_link, ctx.edges[0], ctx.blocks[0]
        connection = aws.directconnect.Connection(
            name, name=ctx.link.name, bandwidth=speed(link.bandwidth_gbps), location=link.location,
            provider_name=link.provider_partner, tags=ctx.link.tags, opts=self.child())
        key = ctx.key(0)
        interface = aws.directconnect.PrivateVirtualInterface(
            name, name=ctx.link.name, connection_id=connection.id, vlan=ctx.vlan, address_family="ipv4",
            bgp_asn=edge.asn, amazon_address=f"{block[1]}/30", customer_address=f"{block[2]}/30",
            bgp_auth_key=key, vpn_gateway_id=gateway().gateway_id, tags=ctx.link.tags, opts=self.child())
        self.sessions = [ctx.session(0, edge, None)]
        self.keys = [key]
        self.link_id = connection.id
        self.register_outputs({"link_id": connection.id, "interface_id": interface.id})
