"""Microsoft Azure: resource group and VNet, AKS or VM scale sets of GPU VMs, capacity
reservation groups, and route-based VPN gateways. Every resource names its location; the
subscription comes from the login."""

from capacity.components.azure.compute import InstanceCluster, KubernetesCluster, Reservation
from capacity.components.azure.network import SiteNetwork
from capacity.components.azure.interconnect import Interconnect
from capacity.components.azure.vpn import LinkEnd, OwnedVpn, VpnGateway
from capacity.components.cloud import CloudProvider

PROVIDER = CloudProvider("azure", SiteNetwork, Reservation, KubernetesCluster, InstanceCluster, VpnGateway, LinkEnd,
                         owned_vpn=OwnedVpn, interconnect=Interconnect)
