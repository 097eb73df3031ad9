"""Azure ExpressRoute to an owned site: a circuit through a partner (or on an ExpressRoute Direct
port pair when no partner is named), its private peering (primary and secondary /30s, BGP to the
router), and an ExpressRoute gateway on the site's network with the connection to the circuit."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import network as net

from capacity.components.azure.network import SiteNetwork
from capacity.components.azure.vpn import NAME
from capacity.components.base import Component
from capacity.components.edge import EdgeContext
from capacity.components.naming import fit

GATEWAY_SKU = "ErGw1AZ"
SKU = {"name": "Standard_MeteredData", "tier": "Standard", "family": "MeteredData"}


class Interconnect(Component):
    KIND = "Interconnect"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("azure", name, ctx.link.opts)
        link, edge, tags = ctx.plan_link, ctx.edges[0], ctx.link.tags
        where = {"resource_group_name": network.resource_group_name, "location": network.location}
        circuit = net.ExpressRouteCircuit(
            name, circuit_name=fit(ctx.link.name, limit=NAME), sku=SKU, tags=tags, opts=self.child(),
            **self._carrier(name, ctx, where), **where)
        key = ctx.key(0)
        peering = net.ExpressRouteCircuitPeering(
            name, circuit_name=circuit.name, resource_group_name=network.resource_group_name,
            peering_name="AzurePrivatePeering", peering_type="AzurePrivatePeering", peer_asn=edge.asn,
            primary_peer_address_prefix=str(ctx.blocks[0]), secondary_peer_address_prefix=str(ctx.blocks[1]),
            vlan_id=ctx.vlan, shared_key=key, opts=self.child())
        address = net.PublicIPAddress(
            f"{name}-er", public_ip_address_name=fit(ctx.link.name, "er", limit=NAME), sku={"name": "Standard"},
            public_ip_allocation_method="Static", zones=["1", "2", "3"], tags=tags, opts=self.child(), **where)
        er_gateway = net.VirtualNetworkGateway(
            f"{name}-er", virtual_network_gateway_name=fit(ctx.link.name, "er", limit=NAME), gateway_type="ExpressRoute",
            sku={"name": GATEWAY_SKU, "tier": GATEWAY_SKU},
            ip_configurations=[{"name": "default", "private_ip_allocation_method": "Dynamic",
                                "public_ip_address": {"id": address.id}, "subnet": {"id": network.gateway_subnet_id}}],
            tags=tags, opts=self.child(), **where)
        net.VirtualNetworkGatewayConnection(
            name, virtual_network_gateway_connection_name=fit(ctx.link.name, limit=NAME), connection_type="ExpressRoute",
            virtual_network_gateway1={"id": er_gateway.id}, peer={"id": circuit.id}, tags=tags,
            opts=self.child(depends_on=[peering]), **where)
        # Azure takes the second address of each /30, the router the first.
        self.sessions = [ctx.session(i, edge, None, router_first=True) for i in (0, 1)]
        self.keys = [key, key]
        self.link_id = circuit.id
        self.register_outputs({"link_id": circuit.id})

    def _carrier(self, name: str, ctx: EdgeContext, where: dict) -> dict:
        """Through the partner's network, or on an ExpressRoute Direct port pair of our own."""
        link = ctx.plan_link
        if link.provider_partner:
            return {"service_provider_properties": {"service_provider_name": link.provider_partner,
                                                    "peering_location": link.location,
                                                    "bandwidth_in_mbps": round(link.bandwidth_gbps * 1000)}}
        port = net.ExpressRoutePort(
            name, express_route_port_name=fit(ctx.link.name, "port", limit=NAME), peering_location=link.location,
            bandwidth_in_gbps=round(link.bandwidth_gbps), encapsulation="Dot1Q", tags=ctx.link.tags,
            opts=self.child(), **where)
        return {"express_route_port": {"id": port.id}, "bandwidth_in_gbps": link.bandwidth_gbps}
