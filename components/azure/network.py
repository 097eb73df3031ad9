"""An Azure site's network: resource group, virtual network, a node subnet with its network
security group, and the GatewaySubnet for VPN links."""

from __future__ import annotations

import pulumi
from pulumi_azure_native import network as net
from pulumi_azure_native import resources

from capacity.components.addressing import carve
from capacity.components.base import Component, SiteContext
from capacity.components.naming import fit

RESOURCE_GROUP_NAME = 90
VNET_NAME = 64
SUBNET_NAME = 80
NSG_NAME = 80
SMALLEST_SUBNET = 29
GATEWAY_SUBNET = 27  # Azure's advice for VPN gateways: /27 or larger


class SiteNetwork(Component):
    KIND = "SiteNetwork"

    network_id: pulumi.Output[str]
    resource_group_name: pulumi.Output[str]
    node_subnet_id: pulumi.Output[str]
    gateway_subnet_id: pulumi.Output[str]

    def __init__(self, ctx: SiteContext) -> None:
        super().__init__("azure", ctx.name, ctx.opts)
        site, name, tags = ctx.site, ctx.name, ctx.tags
        self.location = site.region
        # Layout: nodes in the first half; the GatewaySubnet and the Kubernetes service range in the second.
        nodes, rest = carve(site.network.cidr, 2, SMALLEST_SUBNET, f"site '{name}' (nodes, gateway and services)")
        gateway_block, self.service_cidr = carve(rest, 2, GATEWAY_SUBNET, f"site '{name}' (gateway and services)")
        gateway_block = next(gateway_block.subnets(new_prefix=max(GATEWAY_SUBNET, gateway_block.prefixlen)))

        group = resources.ResourceGroup(
            f"{name}-rg", resource_group_name=site.resource_group or fit(ctx.plan, name, limit=RESOURCE_GROUP_NAME),
            location=site.region, tags=tags, opts=self.child())
        vnet = net.VirtualNetwork(
            f"{name}-vnet", virtual_network_name=fit(ctx.plan, name, limit=VNET_NAME),
            resource_group_name=group.name, location=site.region,
            address_space={"address_prefixes": [str(site.network.cidr)]}, tags=tags,
            # The subnets are resources of their own; the VNet must not remove them on update.
            opts=self.child(ignore_changes=["subnets"]))
        nsg = net.NetworkSecurityGroup(
            f"{name}-nsg", network_security_group_name=fit(ctx.plan, name, "gpu", limit=NSG_NAME),
            resource_group_name=group.name, location=site.region, tags=tags, opts=self.child())
        # GPU fabric: everything within the site's network. Linked sites are in the VirtualNetwork
        # service tag (address spaces behind the VPN gateway), which the default rules allow.
        net.SecurityRule(
            f"{name}-gpu-fabric", security_rule_name="gpu-fabric", network_security_group_name=nsg.name,
            resource_group_name=group.name, priority=100, direction="Inbound", access="Allow", protocol="*",
            source_address_prefix=str(site.network.cidr), source_port_range="*",
            destination_address_prefix=str(site.network.cidr), destination_port_range="*", opts=self.child())
        subnet = net.Subnet(
            f"{name}-nodes", subnet_name="nodes", virtual_network_name=vnet.name, resource_group_name=group.name,
            address_prefix=str(nodes), network_security_group={"id": nsg.id}, opts=self.child())
        gateway = net.Subnet(
            f"{name}-gateway", subnet_name="GatewaySubnet", virtual_network_name=vnet.name,
            resource_group_name=group.name, address_prefix=str(gateway_block),
            opts=self.child(depends_on=[subnet]))  # one subnet change at a time on a VNet

        self.network_id = vnet.id
        self.resource_group_name = group.name
        self.node_subnet_id = subnet.id
        self.gateway_subnet_id = gateway.id
        self.network_security_group_id = nsg.id
        self.register_outputs({"network_id": vnet.id, "resource_group_name": group.name,
                               "node_subnet_id": subnet.id, "gateway_subnet_id": gateway.id})
