"""Google Cloud: VPC and subnetwork, GKE or managed instance groups of GPU machines, compute
reservations, and Classic VPN tunnels."""

import pulumi
import pulumi_gcp as gcp

from capacity.components.cloud import CloudProvider
from capacity.components.gcp.compute import InstanceCluster, KubernetesCluster, Reservation
from capacity.components.gcp.network import SiteNetwork
from capacity.components.gcp.interconnect import Interconnect
from capacity.components.gcp.vpn import LinkEnd, OwnedVpn, VpnGateway


def site_options(ctx) -> pulumi.ResourceOptions:
    """One provider per site, for its project and region."""
    provider = gcp.Provider(f"{ctx.name}-gcp", project=ctx.site.project, region=ctx.site.region)
    return pulumi.ResourceOptions(providers=[provider])


PROVIDER = CloudProvider("gcp", SiteNetwork, Reservation, KubernetesCluster, InstanceCluster, VpnGateway, LinkEnd,
                         site_options, OwnedVpn, Interconnect)
