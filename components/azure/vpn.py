"""Azure ends of site-to-site VPN links: a route-based VPN gateway with a static public IP, and
per link a local network gateway (the peer) and an IPsec connection."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization
from pulumi_azure_native import network as net

from capacity.components.azure.network import SiteNetwork
from capacity.components.base import Component, LinkContext, SiteContext
from capacity.components.edge import EdgeContext
from capacity.components.naming import fit

NAME = 80
GATEWAY_SKU = "VpnGw2AZ"
BGP_ASN = 65515  # Azure's own; BGP is on only where owned routers connect (their connections use it)


class VpnGateway(Component):
    KIND = "VpnGateway"

    gateway_id: pulumi.Output[str]
    public_ip: pulumi.Output[str]

    def __init__(self, ctx: SiteContext, network: SiteNetwork) -> None:
        super().__init__("azure", ctx.name, ctx.opts)
        group, location = network.resource_group_name, network.location
        address = net.PublicIPAddress(
            f"{ctx.name}-vpn-ip", public_ip_address_name=fit(ctx.plan, ctx.name, "vpn", limit=NAME),
            resource_group_name=group, location=location, sku={"name": "Standard", "tier": "Regional"},
            public_ip_allocation_method="Static", zones=["1", "2", "3"], tags=ctx.tags, opts=self.child())
        name = fit(ctx.plan, ctx.name, "vpn", limit=NAME)
        gateway = net.VirtualNetworkGateway(
            f"{ctx.name}-vpn", virtual_network_gateway_name=name,
            resource_group_name=group, location=location, gateway_type="Vpn", vpn_type="RouteBased",
            vpn_gateway_generation="Generation2", sku={"name": GATEWAY_SKU, "tier": GATEWAY_SKU},
            enable_bgp=ctx.bgp, bgp_settings=self._bgp(ctx, group, name) if ctx.bgp else None, active_active=False,
            ip_configurations=[{"name": "default", "private_ip_allocation_method": "Dynamic",
                                "public_ip_address": {"id": address.id}, "subnet": {"id": network.gateway_subnet_id}}],
            tags=ctx.tags, opts=self.child())
        self.gateway_id = gateway.id
        self.public_ip = address.ip_address
        self.ip_configuration_id = gateway.id.apply(lambda found: f"{found}/ipConfigurations/default")
        self.register_outputs({"gateway_id": gateway.id, "public_ip": address.ip_address})

    def _bgp(self, ctx: SiteContext, group: pulumi.Input[str], name: str) -> dict:
        """Azure's ASN, and the APIPA addresses its end of each owned VPN session takes (owned
        routers peer on 169.254.21.0-169.254.22.255 addresses: Azure must have its own there)."""
        client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self))
        configuration = pulumi.Output.concat("/subscriptions/", client.subscription_id, "/resourceGroups/", group,
                                             "/providers/Microsoft.Network/virtualNetworkGateways/", name,
                                             "/ipConfigurations/default")
        return {"asn": BGP_ASN, "bgp_peering_addresses": [
            {"ipconfiguration_id": configuration, "custom_bgp_ip_addresses": list(ctx.bgp_addresses)}]}


class LinkEnd(Component):
    KIND = "LinkEnd"

    outside_address: pulumi.Output[str]

    def __init__(self, ctx: LinkContext, network: SiteNetwork, gateway: VpnGateway,
                 peer_address: pulumi.Input[str], peer_cidr: str, psk: pulumi.Output[str]) -> None:
        name = f"{ctx.name}-{ctx.site.name}"
        super().__init__("azure", name, ctx.opts)
        group, location = network.resource_group_name, network.location
        peer = net.LocalNetworkGateway(
            name, local_network_gateway_name=fit(ctx.peer.name, limit=NAME), resource_group_name=group,
            location=location, gateway_ip_address=peer_address,
            local_network_address_space={"address_prefixes": [peer_cidr]}, tags=ctx.tags, opts=self.child())
        connection = net.VirtualNetworkGatewayConnection(
            name, virtual_network_gateway_connection_name=fit(ctx.name, limit=NAME), resource_group_name=group,
            location=location, connection_type="IPsec", connection_protocol="IKEv2",
            virtual_network_gateway1={"id": gateway.gateway_id}, local_network_gateway2={"id": peer.id},
            shared_key=psk, tags=ctx.tags, opts=self.child())
        self.outside_address = gateway.public_ip
        self.register_outputs({"outside_address": gateway.public_ip, "connection_id": connection.id})


class OwnedVpn(Component):
    """Towards an owned site: per router a local network gateway (its address, ASN and BGP address)
    and a BGP connection on the site's VPN gateway, each with its own key."""

    KIND = "OwnedVpn"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("azure", name, ctx.link.opts)
        vpn, group, location = gateway(), network.resource_group_name, network.location
        self.sessions, self.keys, ids = [], [], []
        for index, edge in enumerate(ctx.edges):
            session = ctx.session(index, edge, vpn.public_ip)
            router_ip = session["owned_inside"].split("/")[0]
            router = net.LocalNetworkGateway(
                f"{name}-{index + 1}", local_network_gateway_name=fit(ctx.link.peer.name, str(index + 1), limit=NAME),
                resource_group_name=group, location=location, gateway_ip_address=edge.public_ip,
                local_network_address_space={"address_prefixes": [f"{router_ip}/32"]},
                bgp_settings={"asn": edge.asn, "bgp_peering_address": router_ip}, tags=ctx.link.tags,
                opts=self.child())
            key = ctx.key(index)
            connection = net.VirtualNetworkGatewayConnection(
                f"{name}-{index + 1}", virtual_network_gateway_connection_name=fit(ctx.link.name, str(index + 1), limit=NAME),
                resource_group_name=group, location=location, connection_type="IPsec", connection_protocol="IKEv2",
                virtual_network_gateway1={"id": vpn.gateway_id}, local_network_gateway2={"id": router.id},
                enable_bgp=True, shared_key=key, gateway_custom_bgp_ip_addresses=[
                    {"ip_configuration_id": vpn.ip_configuration_id, "custom_bgp_ip_address": session["cloud_inside"]}],
                tags=ctx.link.tags, opts=self.child())
            self.sessions.append(session)
            self.keys.append(key)
            ids.append(connection.id)
        self.link_id = ids[0]
        self.register_outputs({"link_id": ids[0]})
