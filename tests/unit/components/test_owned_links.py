"""Links from an owned site's routers to every cloud, under Pulumi's mocks: the cloud side is built
towards the routers (their addresses and ASN), with BGP on distinct inside addresses and secret keys;
an owned-to-owned link builds nothing in a cloud."""

from __future__ import annotations

import ipaddress

import pytest

from capacity.components.render import SECRET

from .conftest import ROOT, Rendered, rendered

PLAN = ROOT / "tests" / "unit" / "plans" / "owned-links.yaml"
ROUTERS = ["203.0.114.10", "203.0.114.11"]
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture(scope="module")
def owned() -> Rendered:
    return rendered(PLAN)


def test_aws_vpn_has_a_customer_gateway_and_two_bgp_tunnels_per_router(owned):
    gateways = owned.of_type("aws:ec2/customerGateway:CustomerGateway")
    assert sorted(g["inputs"]["ipAddress"] for g in gateways) == ROUTERS
    assert {g["inputs"]["bgpAsn"] for g in gateways} == {"65010"}
    connections = owned.of_type("aws:ec2/vpnConnection:VpnConnection")
    assert len(connections) == 2
    for c in connections:
        assert c["inputs"]["staticRoutesOnly"] is False
        assert c["inputs"]["tunnel1PresharedKey"] == SECRET and c["inputs"]["tunnel2PresharedKey"] == SECRET
        assert c["inputs"]["tunnel1InsideCidr"] != c["inputs"]["tunnel2InsideCidr"]


def test_azure_vpn_gateway_speaks_bgp_to_each_router(owned):
    gateway = owned.inputs("azure-native:network:VirtualNetworkGateway", "azure-eus2-vpn")
    assert gateway["enableBgp"] is True and gateway["bgpSettings"]["asn"] == 65515
    # Azure's own APIPA addresses, one per session, on its gateway's IP configuration
    (declared,) = gateway["bgpSettings"]["bgpPeeringAddresses"]
    assert declared["ipconfigurationId"].endswith("/virtualNetworkGateways/owned-links-azure-eus2-vpn/ipConfigurations/default")
    assert all(a.startswith(("169.254.21.", "169.254.22.")) for a in declared["customBgpIpAddresses"])
    locals_ = owned.of_type("azure-native:network:LocalNetworkGateway")
    assert sorted(g["inputs"]["gatewayIpAddress"] for g in locals_) == ROUTERS
    assert all(g["inputs"]["bgpSettings"]["asn"] == 65010 for g in locals_)
    connections = [c for c in owned.of_type("azure-native:network:VirtualNetworkGatewayConnection")
                   if c["inputs"]["connectionType"] == "IPsec"]
    assert len(connections) == 2 and all(c["inputs"]["enableBgp"] and c["inputs"]["sharedKey"] == SECRET
                                         for c in connections)
    chosen = [c["inputs"]["gatewayCustomBgpIpAddresses"][0]["customBgpIpAddress"] for c in connections]
    assert len(set(chosen)) == 2 and set(chosen) <= set(declared["customBgpIpAddresses"])
    # each router peers from the other address of its connection's /30
    peers = sorted(g["inputs"]["bgpSettings"]["bgpPeeringAddress"] for g in locals_)
    assert [ip.rsplit(".", 1)[0] for ip in peers] == [ip.rsplit(".", 1)[0] for ip in sorted(chosen)]


def test_gcp_ha_vpn_peers_with_both_routers(owned):
    peer = owned.of_type("gcp:compute/externalVpnGateway:ExternalVpnGateway")[0]["inputs"]
    assert peer["redundancyType"] == "TWO_IPS_REDUNDANCY"
    assert [i["ipAddress"] for i in peer["interfaces"]] == ROUTERS
    tunnels = owned.of_type("gcp:compute/vPNTunnel:VPNTunnel")
    assert sorted(t["inputs"]["vpnGatewayInterface"] for t in tunnels) == [0, 1]
    assert sorted(t["inputs"]["peerExternalGatewayInterface"] for t in tunnels) == [0, 1]
    peers = owned.of_type("gcp:compute/routerPeer:RouterPeer")
    vpn_peers = [p for p in peers if not p["name"].endswith("--ic-gcp-usc1")]
    assert len(vpn_peers) == 2 and all(p["inputs"]["peerAsn"] == 65010 for p in vpn_peers)


def test_oci_ipsec_tunnels_use_bgp(owned):
    cpes = owned.of_type("oci:Core/cpe:Cpe")
    assert sorted(c["inputs"]["ipAddress"] for c in cpes) == ROUTERS
    tunnels = owned.of_type("oci:Core/ipsecConnectionTunnelManagement:IpsecConnectionTunnelManagement")
    assert len(tunnels) == 4
    assert all(t["inputs"]["routing"] == "BGP" and t["inputs"]["bgpSessionInfo"]["customerBgpAsn"] == "65010"
               and t["inputs"]["sharedSecret"] == SECRET for t in tunnels)


def test_interconnects_to_every_cloud(owned):
    aws = owned.of_type("aws:directconnect/connection:Connection")[0]["inputs"]
    assert aws["bandwidth"] == "10Gbps" and aws["location"] == "EqDC2"
    vif = owned.of_type("aws:directconnect/privateVirtualInterface:PrivateVirtualInterface")[0]["inputs"]
    assert vif["bgpAsn"] == 65010 and vif["bgpAuthKey"] == SECRET
    circuit = owned.of_type("azure-native:network:ExpressRouteCircuit")[0]["inputs"]
    assert circuit["serviceProviderProperties"] == {"bandwidthInMbps": 1000, "peeringLocation": "Washington DC",
                                                    "serviceProviderName": "Equinix"}
    assert owned.of_type("azure-native:network:ExpressRouteCircuitPeering")[0]["inputs"]["peerASN"] == 65010
    gcp = owned.of_type("gcp:compute/interconnect:Interconnect")[0]["inputs"]
    assert gcp["linkType"] == "LINK_TYPE_ETHERNET_10G_LR" and gcp["location"].endswith("/dfw-zone1-4")
    assert owned.of_type("gcp:compute/interconnectAttachment:InterconnectAttachment")[0]["inputs"]["bandwidth"] == "BPS_10G"
    circuit = owned.of_type("oci:Core/virtualCircuit:VirtualCircuit")[0]["inputs"]
    assert circuit["bandwidthShapeName"] == "10 Gbps" and circuit["providerServiceId"].startswith("ocid1.")
    assert circuit["customerAsn"] == "65010"


def test_inside_addresses_never_repeat(owned):
    blocks = []
    for c in owned.of_type("aws:ec2/vpnConnection:VpnConnection"):
        blocks += [c["inputs"]["tunnel1InsideCidr"], c["inputs"]["tunnel2InsideCidr"]]
    blocks += [r["inputs"]["ipRange"] for r in owned.of_type("gcp:compute/routerInterface:RouterInterface")]
    blocks += [t["inputs"]["bgpSessionInfo"]["oracleInterfaceIp"]
               for t in owned.of_type("oci:Core/ipsecConnectionTunnelManagement:IpsecConnectionTunnelManagement")]
    networks = [ipaddress.ip_interface(b).network for b in blocks]
    assert len(set(networks)) == len(networks) == 2 * 2 + 2 + 1 + 4  # AWS, GCP VPN, GCP interconnect, OCI
    azure_apipa = ipaddress.ip_network("169.254.21.0/24"), ipaddress.ip_network("169.254.22.0/24")
    assert all(any(n.subnet_of(block) for block in azure_apipa) for n in networks)


def test_an_owned_to_owned_link_builds_nothing_in_a_cloud(owned):
    named = [r for r in owned.resources if "dallas--austin" in r["name"]]
    assert [r["type"] for r in named] == ["pulumi-python:dynamic/link:PresharedKey"]


def test_cloud_to_cloud_gateways_keep_static_routing():
    from .conftest import EXAMPLE

    example = rendered(EXAMPLE)
    gateway = example.inputs("azure-native:network:VirtualNetworkGateway", "azure-eus2-vpn")
    assert gateway["enableBgp"] is False
