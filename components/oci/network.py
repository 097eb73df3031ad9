"""An OCI site's network: a VCN with internet and NAT gateways, a DRG (the VCN's router to linked
sites), a private subnet for the GPU nodes and a public one for Kubernetes endpoints and load
balancers, and network security groups; security lists are left nearly empty, NSGs carry the rules."""

from __future__ import annotations

import ipaddress

import pulumi
import pulumi_oci as oci

from capacity.components.addressing import carve
from capacity.components.base import Component, SiteContext
from capacity.components.naming import compact, fit

SMALLEST_SUBNET = 30  # OCI subnets are /16 to /30
DNS_LABEL = 15
DISPLAY_NAME = 255
PRIVATE_RANGES = [ipaddress.IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")]
ALL = "all"
TCP = "6"
ICMP = "1"


def private_elsewhere(cidr: ipaddress.IPv4Network) -> list[ipaddress.IPv4Network]:
    """Private address space outside the site's own network: routed to the DRG, which forwards only
    what a link's IPSec connection holds a static route for. OCI route tables keep their rules
    inline, so the rules cannot be added link by link."""
    out: list[ipaddress.IPv4Network] = []
    for block in PRIVATE_RANGES:
        if cidr.subnet_of(block):
            out += sorted(block.address_exclude(cidr))
        elif not block.subnet_of(cidr):
            out.append(block)
    return out


def display_name(ctx: SiteContext, *parts: str) -> str:
    return fit(ctx.plan, ctx.name, *parts, limit=DISPLAY_NAME)


class VpnGateway(Component):
    """The site's dynamic routing gateway, attached to its VCN. Every OCI site has one, because the
    VCN's route table must name it up front; VPN links (and FastConnect) end on it."""

    KIND = "VpnGateway"

    drg_id: pulumi.Output[str]
    public_ip = None
    """OCI gives each IPSec connection its own tunnel addresses (LinkEnd.outside_address)."""

    def __init__(self, ctx: SiteContext, vcn: oci.core.Vcn, parent: pulumi.Resource) -> None:
        super().__init__("oci", ctx.name, pulumi.ResourceOptions(parent=parent))
        compartment = ctx.site.compartment
        drg = oci.core.Drg(f"{ctx.name}-drg", compartment_id=compartment, display_name=display_name(ctx, "drg"),
                           freeform_tags=ctx.tags, opts=self.child())
        self.attachment = oci.core.DrgAttachment(
            f"{ctx.name}-drg", drg_id=drg.id, display_name=display_name(ctx, "vcn"),
            network_details={"type": "VCN", "id": vcn.id}, freeform_tags=ctx.tags, opts=self.child())
        self.drg_id = drg.id
        self.register_outputs({"drg_id": drg.id, "attachment_id": self.attachment.id})


class SiteNetwork(Component):
    KIND = "SiteNetwork"

    network_id: pulumi.Output[str]
    node_subnet_id: pulumi.Output[str]
    public_subnet_id: pulumi.Output[str]
    node_nsg_id: pulumi.Output[str]
    """GPU nodes: all traffic among themselves and from the VCN; links add their peer's range."""
    endpoint_nsg_id: pulumi.Output[str]
    """Kubernetes API endpoints: 6443 from anywhere, 12250 from the VCN, out to the VCN and OCI services."""
    availability_domain: pulumi.Output[str]
    """Where GPU nodes and reservations go: the site's first availability domain."""

    def __init__(self, ctx: SiteContext) -> None:
        super().__init__("oci", ctx.name, ctx.opts)
        site, name, tags = ctx.site, ctx.name, ctx.tags
        compartment = site.compartment
        nodes_block, public_block = carve(site.network.cidr, 2, SMALLEST_SUBNET,
                                          f"site '{name}' (a node subnet and a public subnet)")

        vcn = oci.core.Vcn(f"{name}-vcn", compartment_id=compartment, cidr_blocks=[str(site.network.cidr)],
                           display_name=display_name(ctx, "vcn"), dns_label=compact(name, limit=DNS_LABEL),
                           freeform_tags=tags, opts=self.child())
        self.gateway = VpnGateway(ctx, vcn, parent=self)
        internet = oci.core.InternetGateway(f"{name}-igw", compartment_id=compartment, vcn_id=vcn.id, enabled=True,
                                            display_name=display_name(ctx, "igw"), freeform_tags=tags,
                                            opts=self.child())
        nat = oci.core.NatGateway(f"{name}-nat", compartment_id=compartment, vcn_id=vcn.id,
                                  display_name=display_name(ctx, "nat"), freeform_tags=tags, opts=self.child())
        to_links = [{"destination": str(block), "destination_type": "CIDR_BLOCK",
                     "network_entity_id": self.gateway.drg_id, "description": "linked sites, through the DRG"}
                    for block in private_elsewhere(site.network.cidr)]
        private_routes = oci.core.RouteTable(
            f"{name}-private", compartment_id=compartment, vcn_id=vcn.id, display_name=display_name(ctx, "private"),
            route_rules=[{"destination": "0.0.0.0/0", "destination_type": "CIDR_BLOCK",
                          "network_entity_id": nat.id, "description": "outbound through NAT"}, *to_links],
            freeform_tags=tags, opts=self.child(depends_on=[self.gateway.attachment]))
        public_routes = oci.core.RouteTable(
            f"{name}-public", compartment_id=compartment, vcn_id=vcn.id, display_name=display_name(ctx, "public"),
            route_rules=[{"destination": "0.0.0.0/0", "destination_type": "CIDR_BLOCK",
                          "network_entity_id": internet.id, "description": "internet"}, *to_links],
            freeform_tags=tags, opts=self.child(depends_on=[self.gateway.attachment]))
        # The VCN's default security list opens SSH to the internet; keep only path MTU discovery.
        oci.core.DefaultSecurityList(
            f"{name}-default", manage_default_resource_id=vcn.default_security_list_id, compartment_id=compartment,
            display_name=display_name(ctx, "default"),
            ingress_security_rules=[{"protocol": ICMP, "source": "0.0.0.0/0", "icmp_options": {"type": 3, "code": 4},
                                     "description": "path MTU discovery"}],
            egress_security_rules=[{"protocol": ALL, "destination": "0.0.0.0/0", "description": "outbound"}],
            freeform_tags=tags, opts=self.child())
        nodes = oci.core.Subnet(
            f"{name}-nodes", compartment_id=compartment, vcn_id=vcn.id, cidr_block=str(nodes_block),
            display_name=display_name(ctx, "nodes"), dns_label="nodes", route_table_id=private_routes.id,
            prohibit_public_ip_on_vnic=True, freeform_tags=tags, opts=self.child())
        public = oci.core.Subnet(
            f"{name}-public", compartment_id=compartment, vcn_id=vcn.id, cidr_block=str(public_block),
            display_name=display_name(ctx, "public"), dns_label="public", route_table_id=public_routes.id,
            prohibit_public_ip_on_vnic=False, freeform_tags=tags, opts=self.child())

        node_nsg = oci.core.NetworkSecurityGroup(f"{name}-gpu-nodes", compartment_id=compartment, vcn_id=vcn.id,
                                                 display_name=display_name(ctx, "gpu-nodes"), freeform_tags=tags,
                                                 opts=self.child())
        endpoint_nsg = oci.core.NetworkSecurityGroup(f"{name}-endpoint", compartment_id=compartment, vcn_id=vcn.id,
                                                     display_name=display_name(ctx, "endpoint"), freeform_tags=tags,
                                                     opts=self.child())
        vcn_cidr = str(site.network.cidr)
        rules = {
            "nodes-in-self": (node_nsg, "INGRESS", ALL, node_nsg.id, None, "all traffic among GPU nodes"),
            "nodes-in-vcn": (node_nsg, "INGRESS", ALL, vcn_cidr, None, "all traffic from the site's network"),
            "nodes-out": (node_nsg, "EGRESS", ALL, "0.0.0.0/0", None, "outbound"),
            "endpoint-in-api": (endpoint_nsg, "INGRESS", TCP, "0.0.0.0/0", 6443, "Kubernetes API"),
            "endpoint-in-nodes": (endpoint_nsg, "INGRESS", TCP, vcn_cidr, 12250, "worker nodes to the control plane"),
            "endpoint-out": (endpoint_nsg, "EGRESS", ALL, vcn_cidr, None, "control plane to worker nodes"),
            "endpoint-out-oci": (endpoint_nsg, "EGRESS", TCP, "0.0.0.0/0", 443, "control plane to OCI services"),
        }
        for rule, (nsg, direction, protocol, peer, port, description) in rules.items():
            nsg_rule(f"{name}-{rule}", nsg.id, direction, protocol, peer, description, port, self.child())

        if site.availability_domains:
            self.availability_domain = pulumi.Output.from_input(site.availability_domains[0])
        else:
            domains = oci.identity.get_availability_domains_output(
                compartment_id=compartment, opts=pulumi.InvokeOutputOptions(parent=self))
            self.availability_domain = domains.availability_domains.apply(lambda found: found[0].name)
        self.network_id = vcn.id
        self.node_subnet_id = nodes.id
        self.public_subnet_id = public.id
        self.node_nsg_id = node_nsg.id
        self.endpoint_nsg_id = endpoint_nsg.id
        self.register_outputs({
            "network_id": vcn.id, "node_subnet_id": nodes.id, "public_subnet_id": public.id,
            "node_nsg_id": node_nsg.id, "endpoint_nsg_id": endpoint_nsg.id, "drg_id": self.gateway.drg_id,
            "availability_domain": self.availability_domain,
        })


def nsg_rule(resource_name: str, nsg_id: pulumi.Input[str], direction: str, protocol: str,
             peer: pulumi.Input[str], description: str, port: int | None,
             opts: pulumi.ResourceOptions) -> oci.core.NetworkSecurityGroupSecurityRule:
    """One NSG rule; `peer` is a CIDR, or an NSG's id (an Output) for traffic within a group."""
    kind = "CIDR_BLOCK" if isinstance(peer, str) else "NETWORK_SECURITY_GROUP"
    ends = {"source": peer, "source_type": kind} if direction == "INGRESS" else \
        {"destination": peer, "destination_type": kind}
    ports = {"tcp_options": {"destination_port_range": {"min": port, "max": port}}} if port else {}
    return oci.core.NetworkSecurityGroupSecurityRule(
        resource_name, network_security_group_id=nsg_id, direction=direction, protocol=protocol,
        description=description, stateless=False, **ends, **ports, opts=opts)
