"""A GCP site's network: a custom-mode VPC, one subnetwork in the region (with the Kubernetes pod
and service ranges), firewall rules for the GPU fabric, Cloud NAT for egress, and a compact
placement policy."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from capacity.components.addressing import carve
from capacity.components.base import Component, SiteContext
from capacity.components.naming import fit

NAME = 63
SMALLEST_RANGE = 29
MTU = 8896  # the largest GCP MTU: jumbo frames for GPU traffic


def zones(site) -> list[str]:
    return list(site.zones or [f"{site.region}-a"])


class SiteNetwork(Component):
    KIND = "SiteNetwork"

    network_id: pulumi.Output[str]
    subnetwork_id: pulumi.Output[str]
    placement_policy: pulumi.Output[str]

    def __init__(self, ctx: SiteContext) -> None:
        super().__init__("gcp", ctx.name, ctx.opts)
        site, name = ctx.site, ctx.name
        self.region, self.zones, self.project = site.region, zones(site), site.project
        # Layout: nodes and services a quarter each, pods the other half.
        nodes, services, *pods = carve(site.network.cidr, 4, SMALLEST_RANGE, f"site '{name}' (nodes, services, pods)")
        pods = pods[0].supernet()

        network = gcp.compute.Network(
            f"{name}-vpc", name=fit(ctx.plan, name, limit=NAME), auto_create_subnetworks=False,
            routing_mode="REGIONAL", mtu=MTU, opts=self.child())
        subnetwork = gcp.compute.Subnetwork(
            f"{name}-nodes", name=fit(ctx.plan, name, "nodes", limit=NAME), network=network.id, region=site.region,
            ip_cidr_range=str(nodes), private_ip_google_access=True,
            secondary_ip_ranges=[{"range_name": "pods", "ip_cidr_range": str(pods)},
                                 {"range_name": "services", "ip_cidr_range": str(services)}],
            opts=self.child())
        gcp.compute.Firewall(
            f"{name}-gpu-fabric", name=fit(ctx.plan, name, "gpu-fabric", limit=NAME), network=network.id,
            direction="INGRESS", source_ranges=[str(site.network.cidr)], allows=[{"protocol": "all"}],
            description="GPU nodes: all traffic within the site", opts=self.child())
        router = gcp.compute.Router(
            f"{name}-router", name=fit(ctx.plan, name, "router", limit=NAME), network=network.id,
            region=site.region, opts=self.child())
        gcp.compute.RouterNat(
            f"{name}-nat", name=fit(ctx.plan, name, "nat", limit=NAME), router=router.name, region=site.region,
            nat_ip_allocate_option="AUTO_ONLY", source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            opts=self.child())
        policy = gcp.compute.ResourcePolicy(
            f"{name}-compact", name=fit(ctx.plan, name, "compact", limit=NAME), region=site.region,
            group_placement_policy={"collocation": "COLLOCATED"}, opts=self.child())

        self.network_id = network.id
        self.network_name = network.name
        self.subnetwork_id = subnetwork.id
        self.placement_policy = policy.self_link
        self.placement_policy_name = policy.name
        self.register_outputs({"network_id": network.id, "subnetwork_id": subnetwork.id,
                               "placement_policy": policy.self_link})
