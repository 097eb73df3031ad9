"""An AWS site's network: VPC, a public subnet with NAT for egress, one private subnet per zone
for the GPU nodes, a security group for the GPU fabric (EFA) and a cluster placement group."""

from __future__ import annotations

import pulumi
import pulumi_aws as aws

from capacity.components.addressing import carve
from capacity.components.base import Component, SiteContext
from capacity.components.naming import fit

SMALLEST_SUBNET = 28  # AWS subnets are /16 to /28


def zones(site) -> list[str]:
    return list(site.zones or [f"{site.region}a", f"{site.region}b"])


class SiteNetwork(Component):
    KIND = "SiteNetwork"

    network_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    """One per zone, in the order of the site's zones; GPU nodes go in the first."""
    security_group_id: pulumi.Output[str]
    placement_group_name: pulumi.Output[str]
    private_route_table_id: pulumi.Output[str]

    def __init__(self, ctx: SiteContext) -> None:
        super().__init__("aws", ctx.name, ctx.opts)
        name, tags = ctx.name, ctx.tags
        self.zones = zones(ctx.site)
        public_block, *private_blocks = carve(ctx.site.network.cidr, len(self.zones) + 1, SMALLEST_SUBNET,
                                              f"site '{name}' (a public subnet and one per zone)")

        def named(suffix: str) -> dict[str, str]:
            return {**tags, "Name": fit(ctx.plan, name, suffix, limit=255)}

        vpc = aws.ec2.Vpc(f"{name}-vpc", cidr_block=str(ctx.site.network.cidr), enable_dns_hostnames=True,
                          enable_dns_support=True, tags=named("vpc"), opts=self.child())
        gateway = aws.ec2.InternetGateway(f"{name}-igw", vpc_id=vpc.id, tags=named("igw"), opts=self.child())
        public = aws.ec2.Subnet(f"{name}-public", vpc_id=vpc.id, cidr_block=str(public_block),
                                availability_zone=self.zones[0], map_public_ip_on_launch=True,
                                tags=named("public"), opts=self.child())
        public_routes = aws.ec2.RouteTable(f"{name}-public", vpc_id=vpc.id, tags=named("public"),
                                           routes=[{"cidr_block": "0.0.0.0/0", "gateway_id": gateway.id}],
                                           opts=self.child())
        aws.ec2.RouteTableAssociation(f"{name}-public", subnet_id=public.id, route_table_id=public_routes.id,
                                      opts=self.child())
        nat_ip = aws.ec2.Eip(f"{name}-nat", domain="vpc", tags=named("nat"), opts=self.child())
        nat = aws.ec2.NatGateway(f"{name}-nat", subnet_id=public.id, allocation_id=nat_ip.id, tags=named("nat"),
                                 opts=self.child(depends_on=[gateway]))
        # Routes to linked sites are propagated into this table by the VPN gateway.
        private_routes = aws.ec2.RouteTable(f"{name}-private", vpc_id=vpc.id, tags=named("private"),
                                            routes=[{"cidr_block": "0.0.0.0/0", "nat_gateway_id": nat.id}],
                                            opts=self.child())
        self.private_subnet_ids = []
        for zone, block in zip(self.zones, private_blocks):
            subnet = aws.ec2.Subnet(f"{name}-{zone}", vpc_id=vpc.id, cidr_block=str(block), availability_zone=zone,
                                    tags=named(zone), opts=self.child())
            aws.ec2.RouteTableAssociation(f"{name}-{zone}", subnet_id=subnet.id, route_table_id=private_routes.id,
                                          opts=self.child())
            self.private_subnet_ids.append(subnet.id)

        fabric = aws.ec2.SecurityGroup(f"{name}-gpu-fabric", vpc_id=vpc.id, tags=named("gpu-fabric"),
                                       description="GPU nodes: all traffic within the group (EFA needs it both ways)",
                                       opts=self.child())
        aws.vpc.SecurityGroupIngressRule(f"{name}-fabric-in", security_group_id=fabric.id, ip_protocol="-1",
                                         referenced_security_group_id=fabric.id, tags=tags,
                                         description="all traffic from the GPU fabric", opts=self.child())
        aws.vpc.SecurityGroupEgressRule(f"{name}-fabric-out", security_group_id=fabric.id, ip_protocol="-1",
                                        referenced_security_group_id=fabric.id, tags=tags,
                                        description="all traffic to the GPU fabric", opts=self.child())
        aws.vpc.SecurityGroupEgressRule(f"{name}-egress", security_group_id=fabric.id, ip_protocol="-1",
                                        cidr_ipv4="0.0.0.0/0", tags=tags, description="outbound", opts=self.child())
        placement = aws.ec2.PlacementGroup(f"{name}-gpu", strategy="cluster", tags=tags, opts=self.child())

        self.network_id = vpc.id
        self.security_group_id = fabric.id
        self.placement_group_name = placement.name
        self.placement_group_arn = placement.arn
        self.private_route_table_id = private_routes.id
        self.register_outputs({
            "network_id": vpc.id, "private_subnet_ids": self.private_subnet_ids,
            "security_group_id": fabric.id, "placement_group_name": placement.name,
            "private_route_table_id": private_routes.id,
        })
