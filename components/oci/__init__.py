"""Oracle Cloud Infrastructure: VCN with a DRG, OKE or instance pools of bare-metal GPU shapes in an
RDMA compute cluster, compute capacity reservations, and IPSec connections."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci

from capacity.components.oci.compute import InstanceCluster, KubernetesCluster, Reservation
from capacity.components.oci.network import SiteNetwork
from capacity.components.oci.interconnect import Interconnect
from capacity.components.oci.vpn import LinkEnd, OwnedVpn
from capacity.components.pools import LeasePool


class Oci:
    def options(self, ctx):
        # One provider per site, for its region (credentials come from ~/.oci/config or OCI_* variables).
        provider = oci.Provider(f"{ctx.name}-oci", region=ctx.site.region)
        return pulumi.ResourceOptions(providers=[provider])

    def network(self, ctx):
        return SiteNetwork(ctx)

    def reservation(self, ctx, network):
        return Reservation(ctx, network) if ctx.cluster.reserved else None

    def cluster(self, ctx, network, reservation):
        kind = KubernetesCluster if ctx.cluster.orchestrator == "kubernetes" else InstanceCluster
        return kind(ctx, network, reservation)

    def lease_pool(self, ctx, cluster):
        return LeasePool("oci", ctx, cluster)

    def vpn_gateway(self, ctx, network):
        return network.gateway  # the DRG, made with the network: its route table names it

    def link_end(self, ctx, network, gateway, peer_address, peer_cidr, psk):
        return LinkEnd(ctx, network, gateway, peer_address, peer_cidr, psk)

    owned_vpn = OwnedVpn
    interconnect = Interconnect


PROVIDER = Oci()
