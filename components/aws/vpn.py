"""AWS ends of site-to-site VPN links: a virtual private gateway on the site's VPC, and per link
a customer gateway (the peer), a VPN connection with static routes and the peer's route."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from capacity.components.aws.network import SiteNetwork
from capacity.components.base import Component, LinkContext, SiteContext
from capacity.components.edge import EdgeContext


class VpnGateway(Component):
    KIND = "VpnGateway"

    gateway_id: pulumi.Output[str]
    public_ip = None
    """AWS gives each connection its own tunnel addresses (LinkEnd.outside_address)."""

    def __init__(self, ctx: SiteContext, network: SiteNetwork) -> None:
        super().__init__("aws", ctx.name, ctx.opts)
        gateway = aws.ec2.VpnGateway(f"{ctx.name}-vgw", vpc_id=network.network_id, tags=ctx.tags, opts=self.child())
        aws.ec2.VpnGatewayRoutePropagation(f"{ctx.name}-vgw", vpn_gateway_id=gateway.id,
                                           route_table_id=network.private_route_table_id, opts=self.child())
        self.gateway_id = gateway.id
        self.register_outputs({"gateway_id": gateway.id})


class LinkEnd(Component):
    KIND = "LinkEnd"

    outside_address: pulumi.Output[str]

    def __init__(self, ctx: LinkContext, network: SiteNetwork, gateway: VpnGateway,
                 peer_address: pulumi.Input[str], peer_cidr: str, psk: pulumi.Output[str]) -> None:
        name = f"{ctx.name}-{ctx.site.name}"
        super().__init__("aws", name, ctx.opts)
        peer = aws.ec2.CustomerGateway(name, ip_address=peer_address, bgp_asn="65000", type="ipsec.1",
                                       tags=ctx.tags, opts=self.child())
        connection = aws.ec2.VpnConnection(
            name, vpn_gateway_id=gateway.gateway_id, customer_gateway_id=peer.id, type="ipsec.1",
            static_routes_only=True, tunnel1_preshared_key=psk, tunnel2_preshared_key=psk,
            tunnel1_ike_versions=["ikev2"], tunnel2_ike_versions=["ikev2"], tags=ctx.tags, opts=self.child())
        aws.ec2.VpnConnectionRoute(name, vpn_connection_id=connection.id, destination_cidr_block=peer_cidr,
                                   opts=self.child())
        aws.vpc.SecurityGroupIngressRule(name, security_group_id=network.security_group_id, ip_protocol="-1",
                                         cidr_ipv4=peer_cidr, description=f"traffic from {ctx.peer.name}",
                                         tags=ctx.tags, opts=self.child())
        self.outside_address = connection.tunnel1_address
        self.register_outputs({"outside_address": connection.tunnel1_address, "connection_id": connection.id})


class OwnedVpn(Component):
    """Towards an owned site: per router a customer gateway (its address and ASN) and a VPN
    connection with two tunnels, BGP on fixed inside addresses, each tunnel its own key."""

    KIND = "OwnedVpn"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("aws", name, ctx.link.opts)
        vgw, tags = gateway(), ctx.link.tags
        self.sessions, self.keys, ids = [], [], []
        for index, edge in enumerate(ctx.edges):
            router = aws.ec2.CustomerGateway(f"{name}-{index + 1}", ip_address=edge.public_ip, bgp_asn=str(edge.asn),
                                             type="ipsec.1", tags=tags, opts=self.child())
            keys = [ctx.key(2 * index), ctx.key(2 * index + 1)]
            first, second = ctx.blocks[2 * index], ctx.blocks[2 * index + 1]
            connection = aws.ec2.VpnConnection(
                f"{name}-{index + 1}", vpn_gateway_id=vgw.gateway_id, customer_gateway_id=router.id, type="ipsec.1",
                static_routes_only=False, tunnel1_inside_cidr=str(first), tunnel2_inside_cidr=str(second),
                tunnel1_preshared_key=keys[0], tunnel2_preshared_key=keys[1],
                tunnel1_ike_versions=["ikev2"], tunnel2_ike_versions=["ikev2"], tags=tags, opts=self.child())
            self.sessions += [ctx.session(2 * index, edge, connection.tunnel1_address),
                              ctx.session(2 * index + 1, edge, connection.tunnel2_address)]
            self.keys += keys
            ids.append(connection.id)
        aws.vpc.SecurityGroupIngressRule(name, security_group_id=network.security_group_id, ip_protocol="-1",
                                         cidr_ipv4=ctx.owned_cidr, description=f"traffic from {ctx.link.peer.name}",
                                         tags=tags, opts=self.child())
        self.link_id = ids[0]
        self.register_outputs({"link_id": ids[0]})
