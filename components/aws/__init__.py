"""Amazon Web Services: VPC, EKS or auto scaling groups of GPU instances, EC2 capacity
reservations and capacity blocks, and VPN connections."""

import pulumi
import pulumi_aws as aws

from capacity.components.aws.compute import InstanceCluster, KubernetesCluster, Reservation
from capacity.components.aws.network import SiteNetwork
from capacity.components.aws.interconnect import Interconnect
from capacity.components.aws.vpn import LinkEnd, OwnedVpn, VpnGateway
from capacity.components.cloud import CloudProvider


def site_options(ctx) -> pulumi.ResourceOptions:
    """One provider per site, for its region."""
    return pulumi.ResourceOptions(providers=[aws.Provider(f"{ctx.name}-aws", region=ctx.site.region)])


PROVIDER = CloudProvider("aws", SiteNetwork, Reservation, KubernetesCluster, InstanceCluster, VpnGateway, LinkEnd,
                         site_options, OwnedVpn, Interconnect)
