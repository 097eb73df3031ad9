"""The `Provider` of a cloud, assembled from its component classes.

The three clouds differ in their resources, not in how the program uses them: a cloud package
names its classes here and is done.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Optional

import pulumi

from capacity.components.base import ClusterContext, Component, LeaseContext, LinkContext, SiteContext
from capacity.components.pools import LeasePool


@dataclass(frozen=True)
class CloudProvider:
    name: str
    site_network: type
    reservation_type: type
    kubernetes_cluster: type
    instance_cluster: type
    """For `orchestrator: none`."""
    gateway: type
    link: type
    site_options: Callable[[SiteContext], Optional[pulumi.ResourceOptions]] = lambda ctx: None
    owned_vpn: Optional[type] = None
    """A VPN to an owned site's routers (components/edge.py): called with (EdgeContext, network, gateway getter)."""
    interconnect: Optional[type] = None
    """A dedicated interconnect to an owned site's router, called as `owned_vpn` is."""

    def options(self, ctx: SiteContext) -> Optional[pulumi.ResourceOptions]:
        return self.site_options(ctx)

    def network(self, ctx: SiteContext) -> Component:
        return self.site_network(ctx)

    def reservation(self, ctx: ClusterContext, network: Component) -> Optional[Component]:
        return self.reservation_type(ctx, network) if ctx.cluster.reserved else None

    def cluster(self, ctx: ClusterContext, network: Component, reservation: Optional[Component]) -> Component:
        kind = self.kubernetes_cluster if ctx.cluster.orchestrator == "kubernetes" else self.instance_cluster
        return kind(ctx, network, reservation)

    def lease_pool(self, ctx: LeaseContext, cluster) -> Component:
        return LeasePool(self.name, ctx, cluster)

    def vpn_gateway(self, ctx: SiteContext, network: Component) -> Component:
        return self.gateway(ctx, network)

    def link_end(self, ctx: LinkContext, network: Component, gateway: Component, peer_address: pulumi.Input[str],
                 peer_cidr: str, psk: pulumi.Output[str]) -> Component:
        return self.link(ctx, network, gateway, peer_address, peer_cidr, psk)
