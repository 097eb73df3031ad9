"""OCI components under Pulumi's mocks: network, reservation, GPU pools, lease pools and IPSec links
of tests/unit/plans/oci.yaml, as `capacity resources` renders them."""

from __future__ import annotations

import base64
import datetime as dt
import importlib
import ipaddress
import subprocess
import sys
from pathlib import Path

import pytest

from capacity.plan.loading import load_plan, load_text
from capacity.components import render as rendering
from capacity.components.oci import mocks

ROOT = Path(__file__).resolve().parents[3]
PLAN = Path(__file__).parents[1] / "plans" / "oci.yaml"
DAY = dt.date(2027, 2, 1)  # hooli-h1 (36 nodes) and hooli-eval are in force
BEFORE = dt.date(2026, 12, 15)  # hooli-eval only: hooli-h1 starts 2027-01-01
OCI = "oci:Core/"
OKE = "oci:ContainerEngine/"
NODE_POOL = OKE + "nodePool:NodePool"
TUNNEL = OCI + "ipsecConnectionTunnelManagement:IpsecConnectionTunnelManagement"
NSG_RULE = OCI + "networkSecurityGroupSecurityRule:NetworkSecurityGroupSecurityRule"


class Rendered:
    def __init__(self, result: rendering.Rendering) -> None:
        self.resources, self.warnings = result.resources, result.warnings

    def of_type(self, token: str) -> list[dict]:
        return [r for r in self.resources if r["type"] == token]

    def inputs(self, token: str, name: str) -> dict:
        found = [r for r in self.of_type(token) if r["name"] == name]
        assert len(found) == 1, f"{token} {name}: {len(found)} found"
        return found[0]["inputs"]

    def under(self, parent: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for r in self.resources:
            if r["parent"] == parent:
                counts[r["type"]] = counts.get(r["type"], 0) + 1
        return counts


def render(loaded, on: dt.date) -> Rendered:
    return Rendered(rendering.render(loaded, on))


@pytest.fixture(scope="module")
def plan():
    return render(load_plan(PLAN), DAY)


@pytest.fixture(scope="module")
def before():
    return render(load_plan(PLAN), BEFORE)


def test_each_site_gets_a_vcn_with_gateways_subnets_and_security_groups(plan):
    assert plan.under("capacity:oci:SiteNetwork::oci-iad") == {
        "capacity:oci:VpnGateway": 1, OCI + "vcn:Vcn": 1, OCI + "internetGateway:InternetGateway": 1,
        OCI + "natGateway:NatGateway": 1, OCI + "routeTable:RouteTable": 2, OCI + "subnet:Subnet": 2,
        OCI + "defaultSecurityList:DefaultSecurityList": 1, OCI + "networkSecurityGroup:NetworkSecurityGroup": 2,
        NSG_RULE: 7,
    }
    assert plan.under("capacity:oci:VpnGateway::oci-iad") == {
        OCI + "drg:Drg": 1, OCI + "drgAttachment:DrgAttachment": 1}
    vcn = plan.inputs(OCI + "vcn:Vcn", "oci-iad-vcn")
    assert vcn["cidrBlocks"] == ["10.50.0.0/16"]
    assert vcn["compartmentId"].startswith("ocid1.compartment.oc1..")
    nodes = plan.inputs(OCI + "subnet:Subnet", "oci-iad-nodes")
    public = plan.inputs(OCI + "subnet:Subnet", "oci-iad-public")
    assert (nodes["cidrBlock"], nodes["prohibitPublicIpOnVnic"]) == ("10.50.0.0/17", True)
    assert (public["cidrBlock"], public["prohibitPublicIpOnVnic"]) == ("10.50.128.0/17", False)
    assert nodes["routeTableId"] == "oci-iad-private-id"
    default = plan.inputs(OCI + "defaultSecurityList:DefaultSecurityList", "oci-iad-default")
    assert [r["protocol"] for r in default["ingressSecurityRules"]] == ["1"]  # no SSH from the internet


def test_private_routes_send_linked_ranges_to_the_drg_and_the_rest_to_nat(plan):
    rules = plan.inputs(OCI + "routeTable:RouteTable", "oci-iad-private")["routeRules"]
    assert rules[0] == {"description": "outbound through NAT", "destination": "0.0.0.0/0",
                        "destinationType": "CIDR_BLOCK", "networkEntityId": "oci-iad-nat-id"}
    to_drg = [ipaddress.ip_network(r["destination"]) for r in rules if r["networkEntityId"] == "oci-iad-drg-id"]
    own = ipaddress.ip_network("10.50.0.0/16")
    assert not any(block.overlaps(own) for block in to_drg)
    for peer in ("10.20.0.0/16", "10.30.0.0/16", "172.16.0.0/12", "192.168.0.0/16"):
        assert any(ipaddress.ip_network(peer).subnet_of(block) for block in to_drg), peer


def test_gpu_nodes_security_group_opens_the_fabric_and_the_vcn(plan):
    rules = {r["name"]: r["inputs"] for r in plan.of_type(NSG_RULE) if r["name"].startswith("oci-iad-")}
    assert rules["oci-iad-nodes-in-self"]["sourceType"] == "NETWORK_SECURITY_GROUP"
    assert rules["oci-iad-nodes-in-self"]["source"] == "oci-iad-gpu-nodes-id"
    assert rules["oci-iad-nodes-in-vcn"]["source"] == "10.50.0.0/16"
    api = rules["oci-iad-endpoint-in-api"]
    assert (api["protocol"], api["tcpOptions"]["destinationPortRange"]) == ("6", {"min": 6443, "max": 6443})  # TCP


def test_reservation_holds_the_cluster_shape_in_the_first_availability_domain(plan):
    held = plan.inputs(OCI + "computeCapacityReservation:ComputeCapacityReservation", "train-o-reservation")
    assert held["availabilityDomain"] == "Uocm:US-ASHBURN-AD-2"
    assert held["instanceReservationConfigs"] == [{"instanceShape": "BM.GPU.H100.8", "reservedCount": "72"}]
    assert held["isDefaultReservation"] is False
    assert held["freeformTags"]["capacity-cluster"] == "train-o"
    # A site without availability domains takes the region's first, looked up in the compartment.
    other = plan.inputs(OCI + "computeCapacityReservation:ComputeCapacityReservation", "batch-o-reservation")
    assert other["availabilityDomain"] == "Mock:AD-1"
    assert other["instanceReservationConfigs"] == [{"instanceShape": "BM.GPU.B200.8", "reservedCount": "4"}]
    assert any("OCI capacity reservation has no dates" in w and "train-o" in w for w in plan.warnings)


def test_kubernetes_cluster_is_oke_with_a_system_pool_and_gpu_pools_on_the_reservation(plan):
    assert plan.under("capacity:oci:GpuCluster::train-o") == {
        OKE + "cluster:Cluster": 1, NODE_POOL: 2, OCI + "computeCluster:ComputeCluster": 1,
        "capacity:kubernetes:ClusterTenancy": 1}  # the leases inside the cluster (tests/integration/tenancy)
    oke = plan.inputs(OKE + "cluster:Cluster", "train-o-oke")
    assert (oke["kubernetesVersion"], oke["type"], oke["vcnId"]) == ("v1.33.1", "ENHANCED_CLUSTER", "oci-iad-vcn-id")
    assert oke["endpointConfig"]["subnetId"] == "oci-iad-public-id"
    system = plan.inputs(NODE_POOL, "train-o-system")
    assert (system["nodeShape"], system["nodeConfigDetails"]["size"]) == ("VM.Standard.E5.Flex", 2)
    assert "GPU" not in _image_name(system["nodeSourceDetails"]["imageId"])
    shared = plan.inputs(NODE_POOL, "train-o-gpu-shared")
    assert shared["nodeShape"] == "BM.GPU.H100.8"
    assert shared["nodeConfigDetails"]["size"] == 72 - 36
    assert shared["nodeConfigDetails"]["placementConfigs"] == [{
        "availabilityDomain": "Uocm:US-ASHBURN-AD-2", "capacityReservationId": "train-o-reservation-id",
        "subnetId": "oci-iad-nodes-id"}]
    assert shared["nodeConfigDetails"]["computeClusterId"] == "train-o-rdma-id"
    assert _image_name(shared["nodeSourceDetails"]["imageId"]).startswith("Oracle-Linux-8.10-Gen2-GPU-")
    labels = {label["key"]: label["value"] for label in shared["initialNodeLabels"]}
    assert labels["nvidia.com/gpu.present"] == "true"
    assert labels["quota.capacity.dev/hooli-eval"] == "20"  # the shared-quota lease, on the shared pool
    assert "--register-with-taints=nvidia.com/gpu=present:NoSchedule\"" in _user_data(shared)


def test_each_dedicated_lease_gets_its_own_tainted_node_pool(plan, before):
    tenancy = {"capacity:kubernetes:LeaseTenancy": 1}  # its namespace, quota, queues (tests/integration/tenancy)
    assert plan.under("capacity:oci:LeasePool::hooli-h1") == {NODE_POOL: 1, **tenancy}
    assert plan.under("capacity:oci:LeasePool::hooli-eval") == tenancy  # shared-quota: no pool of its own
    pool = plan.inputs(NODE_POOL, "train-o-lease-hooli-h1")
    assert pool["nodeConfigDetails"]["size"] == 36
    assert pool["nodeConfigDetails"]["placementConfigs"][0]["capacityReservationId"] == "train-o-reservation-id"
    labels = {label["key"]: label["value"] for label in pool["initialNodeLabels"]}
    assert (labels["capacity.dev/tenant"], labels["capacity.dev/lease"]) == ("hooli", "hooli-h1")
    assert "nvidia.com/gpu=present:NoSchedule,capacity.dev/tenant=hooli:NoSchedule" in _user_data(pool)
    assert pool["freeformTags"]["capacity-tenant"] == "hooli"
    assert pool["nodeConfigDetails"]["freeformTags"]["capacity-lease"] == "hooli-h1"
    # Before the lease starts its pool holds no nodes and the shared pool has them all.
    assert before.inputs(NODE_POOL, "train-o-lease-hooli-h1")["nodeConfigDetails"]["size"] == 0
    assert before.inputs(NODE_POOL, "train-o-gpu-shared")["nodeConfigDetails"]["size"] == 72


def test_cluster_without_orchestrator_is_an_instance_pool_in_an_rdma_compute_cluster(plan):
    assert plan.under("capacity:oci:GpuCluster::batch-o") == {
        OCI + "computeCluster:ComputeCluster": 1, OCI + "instanceConfiguration:InstanceConfiguration": 1,
        OCI + "instancePool:InstancePool": 1}
    pool = plan.inputs(OCI + "instancePool:InstancePool", "batch-o-gpu-shared")
    assert pool["size"] == 4
    assert pool["instanceConfigurationId"] == "batch-o-gpu-shared-id"
    assert pool["placementConfigurations"] == [{
        "availabilityDomain": "Mock:AD-1", "computeClusterId": "batch-o-rdma-id",
        "primaryVnicSubnets": {"subnetId": "oci-ord-nodes-id"}}]
    launch = plan.inputs(OCI + "instanceConfiguration:InstanceConfiguration", "batch-o-gpu-shared")[
        "instanceDetails"]["launchDetails"]
    assert (launch["shape"], launch["capacityReservationId"]) == ("BM.GPU.B200.8", "batch-o-reservation-id")
    assert launch["createVnicDetails"] == {"assignPublicIp": False, "nsgIds": ["oci-ord-gpu-nodes-id"],
                                           "subnetId": "oci-ord-nodes-id"}
    assert "GPU" in _image_name(launch["sourceDetails"]["imageId"])
    assert launch["freeformTags"]["capacity-pool"] == "gpu-shared"


def test_an_oci_link_is_a_cpe_an_ipsec_connection_and_two_keyed_tunnels(plan):
    for link, peer_cidr in (("azure-eus2--oci-iad", "10.20.0.0/16"), ("oci-iad--gcp-usc1", "10.30.0.0/16")):
        end = f"{link}-oci-iad"
        assert plan.under(f"capacity:oci:LinkEnd::{end}") == {
            OCI + "cpe:Cpe": 1, OCI + "ipsec:Ipsec": 1, TUNNEL: 2, NSG_RULE: 1}
        ipsec = plan.inputs(OCI + "ipsec:Ipsec", end)
        assert (ipsec["drgId"], ipsec["cpeId"], ipsec["staticRoutes"]) == ("oci-iad-drg-id", f"{end}-id", [peer_cidr])
        tunnels = [plan.inputs(TUNNEL, f"{end}-tunnel{n}") for n in (1, 2)]
        assert {t["tunnelId"] for t in tunnels} == {mocks._ocid("ipsectunnel", f"{end}-id/{n}") for n in (1, 2)}
        for tunnel in tunnels:
            assert (tunnel["routing"], tunnel["ikeVersion"], tunnel["sharedSecret"]) == ("STATIC", "V2", "[secret]")
        assert plan.inputs(NSG_RULE, f"{end}-in")["source"] == peer_cidr
    # OCI goes first: its CPE is the peer's gateway address, and the peer dials OCI's tunnel 1.
    for link, token in (("azure-eus2--oci-iad", "azure-native:network:PublicIPAddress"),
                        ("oci-iad--gcp-usc1", "gcp:compute/address:Address")):
        [address] = plan.of_type(token)  # the peer gateway's public address
        peer_mocks = importlib.import_module(f"capacity.components.{token.split(':')[0].split('-')[0]}.mocks").MOCKS
        physical = rendering._physical_name(token, address["name"], address["inputs"])
        expected = next(iter(peer_mocks.outputs[token](physical, address["inputs"]).values()))
        assert plan.inputs(OCI + "cpe:Cpe", f"{link}-oci-iad")["ipAddress"] == expected
    local = plan.inputs("azure-native:network:LocalNetworkGateway", "azure-eus2--oci-iad-azure-eus2")
    assert local["gatewayIpAddress"] == mocks.MOCKS.outputs[TUNNEL]("azure-eus2--oci-iad-oci-iad-tunnel1", {})["vpnIp"]
    assert local["localNetworkAddressSpace"]["addressPrefixes"] == ["10.50.0.0/16"]
    gcp = plan.inputs("gcp:compute/vPNTunnel:VPNTunnel", "oci-iad--gcp-usc1-gcp-usc1")
    assert gcp["peerIp"] == mocks.MOCKS.outputs[TUNNEL]("oci-iad--gcp-usc1-oci-iad-tunnel1", {})["vpnIp"]


def test_every_oci_resource_is_tagged_for_plan_site_and_its_part(plan):
    tagged = [r for r in plan.resources if r["type"].startswith("oci:") and "freeformTags" in r["inputs"]]
    for resource in tagged:
        tags = resource["inputs"]["freeformTags"]
        assert tags["capacity-plan"] == "oci-plan" and tags["cost-center"] == "research", resource["name"]
        assert tags["capacity-site"] in ("oci-iad", "oci-ord"), resource["name"]
        assert all("." not in key and " " not in key and len(key) <= 100 for key in tags)
    untagged = {r["type"] for r in plan.resources if r["type"].startswith("oci:") and "freeformTags" not in r["inputs"]}
    assert untagged == {NSG_RULE, TUNNEL}  # OCI has no tags on these
    lease = [r for r in tagged if r["parent"] == "capacity:oci:LeasePool::hooli-h1"]
    assert lease and all(r["inputs"]["freeformTags"]["capacity-tenant"] == "hooli" for r in lease)


LONG = "x" * 50 + "-" + "y" * 12  # 63 characters, the longest name the plan format allows


def test_names_fit_oci_limits_for_the_longest_plan_names():
    text = (PLAN.read_text().replace("oci-plan", LONG).replace("oci-iad", "a" + LONG[1:])
            .replace("train-o", "t" + LONG[1:]).replace("hooli-h1", "h" + LONG[1:]))
    long = render(load_text(text, "long.yaml"), DAY)
    for resource in long.resources:
        inputs = resource["inputs"]
        if resource["type"].startswith("oci:"):
            assert len(inputs.get("displayName", "")) <= 255, resource["name"]
            for key, value in inputs.get("freeformTags", {}).items():
                assert len(key) <= 100 and len(value) <= 256
        if resource["type"] == NODE_POOL:
            assert len(inputs["name"]) <= 63
        if "dnsLabel" in inputs:
            assert len(inputs["dnsLabel"]) <= 15 and inputs["dnsLabel"].isalnum() and inputs["dnsLabel"][0].isalpha()


def test_a_plan_without_oci_sites_never_imports_pulumi_oci():
    code = (
        "import sys, datetime\n"
        "from capacity.plan.loading import load_text\n"
        "from capacity.components.render import render\n"
        "text = open('stacks/example.yaml').read().split('  oci-iad:')[0] + 'links: []\\nclusters: {}\\n'\n"
        "render(load_text(text, 'no-oci.yaml'), datetime.date(2027, 2, 1))\n"
        "assert 'pulumi_aws' in sys.modules\n"
        "print('pulumi_oci' in sys.modules, 'capacity.components.oci' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["False", "False"]


def _image_name(image_id: str) -> str:
    """The mock image's name, from its id (mocks derive ids from names)."""
    answers = mocks._node_pool_option({"nodePoolK8sVersion": "v1.33.1"})["sources"]
    names = {s["imageId"]: s["sourceName"] for s in answers}
    names.update({i["id"]: i["displayName"] for i in mocks._images({})["images"]})
    return names[image_id]


def _user_data(pool: dict) -> str:
    return base64.b64decode(pool["nodeMetadata"]["user_data"]).decode()
