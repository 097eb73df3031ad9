"""stacks/example.yaml rendered under Pulumi's mocks: what each cloud gets, with the inputs that matter."""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import re

from .conftest import EXAMPLE, Rendered, rendered

CLOUDS = ("aws", "azure", "gcp")


def test_every_resource_sits_in_a_capacity_component(example: Rendered):
    for resource in example.resources:
        if resource["type"].startswith("capacity:"):
            provider = resource["type"].split(":")[1]
            assert provider in (*CLOUDS, "oci", "owned", "kubernetes")
            # top level, or inside a component of its own provider (OCI's gateway is in its network);
            # a cluster's Kubernetes objects inside its cluster and lease components
            inside = ("capacity:",) if provider == "kubernetes" else (f"capacity:{provider}:",)
            assert resource["parent"] is None or resource["parent"].startswith(inside), resource
        elif resource["type"] == "pulumi:providers:kubernetes":
            assert resource["parent"].startswith("capacity:kubernetes:ClusterTenancy::")  # one per cluster
        elif resource["type"].startswith(("pulumi:providers:", "pulumi-python:dynamic/link:")):
            assert resource["parent"] is None  # one provider per site; one key per link
        else:
            assert resource["parent"] and resource["parent"].startswith("capacity:"), resource


def test_components_per_provider(example: Rendered):
    def kinds(provider):
        return {k.split(":")[2]: n for k, n in example.types(f"capacity:{provider}:").items()}

    # burst-a's capacity block ended as planned on 2027-01-18: on DAY it is no longer declared.
    assert kinds("aws") == {"SiteNetwork": 1, "Reservation": 1, "GpuCluster": 2, "LeasePool": 4,
                            "VpnGateway": 1, "LinkEnd": 2}
    assert kinds("azure") == {"SiteNetwork": 1, "Reservation": 1, "GpuCluster": 1, "LeasePool": 2,
                              "VpnGateway": 1, "LinkEnd": 3}
    assert kinds("gcp") == {"SiteNetwork": 1, "Reservation": 1, "GpuCluster": 2, "LeasePool": 3,
                            "VpnGateway": 1, "LinkEnd": 2}
    assert kinds("oci") == {"SiteNetwork": 1, "Reservation": 1, "GpuCluster": 1, "LeasePool": 2,
                            "VpnGateway": 1, "LinkEnd": 1}


def test_aws_network_from_the_plan(example: Rendered):
    assert example.inputs("aws:ec2/vpc:Vpc", "aws-use1-vpc")["cidrBlock"] == "10.10.0.0/16"
    subnets = {r["inputs"]["availabilityZone"] + ("/public" if r["inputs"].get("mapPublicIpOnLaunch") else ""):
               r["inputs"]["cidrBlock"] for r in example.of_type("aws:ec2/subnet:Subnet")}
    assert subnets == {"us-east-1a/public": "10.10.0.0/18", "us-east-1a": "10.10.64.0/18", "us-east-1b": "10.10.128.0/18"}
    assert example.inputs("aws:ec2/placementGroup:PlacementGroup", "aws-use1-gpu")["strategy"] == "cluster"
    fabric = [r["inputs"] for r in example.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
              if r["inputs"].get("referencedSecurityGroupId")]
    assert fabric == [{**fabric[0], "ipProtocol": "-1", "referencedSecurityGroupId": "aws-use1-gpu-fabric-id",
                       "securityGroupId": "aws-use1-gpu-fabric-id"}]  # EFA: all traffic within the group
    egress = {r["name"]: r["inputs"] for r in example.of_type("aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")}
    assert egress["aws-use1-fabric-out"]["referencedSecurityGroupId"] == "aws-use1-gpu-fabric-id"


def test_aws_capacity_reservation_and_block(example: Rendered):
    during = rendered(EXAMPLE, dt.date(2027, 1, 10))
    odcr = example.inputs("aws:ec2/capacityReservation:CapacityReservation", "train-a-odcr")
    assert odcr["instanceType"] == "p5.48xlarge" and odcr["instanceCount"] == 64
    assert odcr["availabilityZone"] == "us-east-1a" and odcr["instancePlatform"] == "Linux/UNIX"
    assert (odcr["endDateType"], odcr["endDate"]) == ("limited", "2027-12-01T00:00:00Z")
    assert odcr["instanceMatchCriteria"] == "targeted"
    block = during.inputs("aws:ec2/capacityBlockReservation:CapacityBlockReservation", "burst-a-block")
    assert block["capacityBlockOfferingId"].startswith("cb-")
    assert any("burst-a" in w and "cannot be cancelled" in w for w in during.warnings)
    assert example.of_type("aws:ec2/capacityBlockReservation:CapacityBlockReservation") == []  # ended


def test_aws_eks_node_groups_consume_the_reservation(example: Rendered):
    groups = {r["name"]: r["inputs"] for r in example.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert set(groups) == {"train-a-system", "train-a-gpu-shared", "train-a-lease-acme-q1", "train-a-lease-acme-q2"}
    sizes = {name: (g["scalingConfig"]["desiredSize"], g["scalingConfig"]["maxSize"]) for name, g in groups.items()}
    # 64 nodes: acme-q1 (256 GPUs = 32 nodes) in force, acme-q2 (32 nodes) from April, the rest shared.
    assert sizes == {"train-a-system": (2, 3), "train-a-gpu-shared": (32, 32),
                     "train-a-lease-acme-q1": (32, 32), "train-a-lease-acme-q2": (0, 32)}
    gpu = groups["train-a-lease-acme-q1"]
    assert gpu["instanceTypes"] == ["p5.48xlarge"] and gpu["amiType"] == "AL2023_x86_64_NVIDIA"
    assert gpu["subnetIds"] == ["aws-use1-us-east-1a-id"]  # the reservation's zone
    assert {"key": "nvidia.com/gpu", "value": "present", "effect": "NO_SCHEDULE"} in gpu["taints"]
    assert {"key": "capacity.dev/tenant", "value": "acme-corp", "effect": "NO_SCHEDULE"} in gpu["taints"]
    assert gpu["labels"]["capacity.dev/tenant"] == "acme-corp" and gpu["labels"]["nvidia.com/gpu.present"] == "true"
    template = example.inputs("aws:ec2/launchTemplate:LaunchTemplate", "train-a-lease-acme-q1")
    assert template["capacityReservationSpecification"] == {
        "capacityReservationTarget": {"capacityReservationId": "train-a-odcr-id"}}
    assert template["placement"] == {"groupName": "aws-use1-gpu"}
    assert template["networkInterfaces"][0]["interfaceType"] == "efa"
    assert template["tagSpecifications"][0]["tags"]["capacity-tenant"] == "acme-corp"
    eks = example.inputs("aws:eks/cluster:Cluster", "train-a-eks")
    assert eks["name"] == "frontier-2027-train-a" and eks["vpcConfig"]["securityGroupIds"] == ["aws-use1-gpu-fabric-id"]


def test_aws_instances_without_orchestrator_use_the_capacity_block(example: Rendered):
    group = example.inputs("aws:autoscaling/group:Group", "burst-a-gpu-shared")
    assert (group["minSize"], group["desiredCapacity"]) == (0, 0)  # the block ended 2027-01-18
    assert "capacityReservationSpecification" not in example.inputs("aws:ec2/launchTemplate:LaunchTemplate",
                                                                    "burst-a-gpu-shared")  # the block ended
    during = rendered(EXAMPLE, dt.date(2027, 1, 10))
    template = during.inputs("aws:ec2/launchTemplate:LaunchTemplate", "burst-a-gpu-shared")
    assert template["instanceMarketOptions"] == {"marketType": "capacity-block"}
    assert template["capacityReservationSpecification"]["capacityReservationTarget"]["capacityReservationId"] == "burst-a-block-id"
    assert template["instanceType"] == "p5.48xlarge" and template["imageId"].startswith("resolve:ssm:")
    assert during.inputs("aws:autoscaling/group:Group", "burst-a-gpu-shared")["desiredCapacity"] == 16


def test_azure_aks_on_a_capacity_reservation_group(example: Rendered):
    vnet = example.inputs("azure-native:network:VirtualNetwork", "azure-eus2-vnet")
    assert vnet["addressSpace"] == {"addressPrefixes": ["10.20.0.0/16"]}
    subnets = {r["inputs"]["subnetName"]: r["inputs"]["addressPrefix"] for r in example.of_type("azure-native:network:Subnet")}
    assert subnets == {"nodes": "10.20.0.0/17", "GatewaySubnet": "10.20.128.0/27"}
    reservation = example.inputs("azure-native:compute:CapacityReservation", "train-z-cr")
    assert reservation["sku"] == {"name": "Standard_ND96isr_H100_v5", "capacity": 32}  # H100 from the catalog
    pools = {r["inputs"]["agentPoolName"]: r["inputs"] for r in example.of_type("azure-native:containerservice:AgentPool")}
    assert set(pools) == {"gpushared"}  # globex-eval is shared-quota: a label, not a pool
    shared = pools["gpushared"]
    assert shared["vmSize"] == "Standard_ND96isr_H100_v5" and shared["count"] == 32
    assert shared["capacityReservationGroupID"] == "train-z-crg-id"
    assert shared["nodeTaints"] == ["nvidia.com/gpu=present:NoSchedule"]
    assert shared["nodeLabels"]["quota.capacity.dev/globex-eval"] == "64"
    access = example.inputs("azure-native:authorization:RoleAssignment", "train-z-crg-access")
    assert access["scope"] == "train-z-crg-id" and access["principalId"] == "frontier-2027-train-z-principal"
    assert [r["type"] for r in example.children("capacity:azure:LeasePool::globex-eval")] == [
        "capacity:kubernetes:LeaseTenancy"]  # no pool: only its objects inside the cluster


def test_gcp_gke_and_instance_groups(example: Rendered):
    subnet = example.inputs("gcp:compute/subnetwork:Subnetwork", "gcp-usc1-nodes")
    assert subnet["ipCidrRange"] == "10.30.0.0/18"
    assert {r["rangeName"]: r["ipCidrRange"] for r in subnet["secondaryIpRanges"]} == {
        "pods": "10.30.128.0/17", "services": "10.30.64.0/18"}
    policy = example.inputs("gcp:compute/resourcePolicy:ResourcePolicy", "gcp-usc1-compact")
    assert policy["groupPlacementPolicy"] == {"collocation": "COLLOCATED"}
    reservation = example.inputs("gcp:compute/reservation:Reservation", "serve-g-reservation")
    assert reservation["specificReservation"] == {"count": 8, "instanceProperties": {"machineType": "a3-highgpu-8g"}}
    assert reservation["specificReservationRequired"] is True and reservation["zone"] == "us-central1-a"
    pools = {r["inputs"]["name"]: r["inputs"] for r in example.of_type("gcp:container/nodePool:NodePool")}
    assert {n: p["nodeCount"] for n, p in pools.items()} == {"system": 2, "gpu-shared": 4, "lease-initech-serve": 4}
    lease = pools["lease-initech-serve"]["nodeConfig"]
    assert lease["machineType"] == "a3-highgpu-8g"
    assert lease["guestAccelerators"][0]["type"] == "nvidia-h100-80gb" and lease["guestAccelerators"][0]["count"] == 8
    assert lease["reservationAffinity"] == {"consumeReservationType": "SPECIFIC_RESERVATION",
                                            "key": "compute.googleapis.com/reservation-name",
                                            "values": ["frontier-2027-serve-g"]}
    assert {"key": "capacity.dev/tenant", "value": "initech", "effect": "NO_SCHEDULE"} in lease["taints"]
    assert lease["resourceLabels"]["capacity-tenant"] == "initech"
    template = example.inputs("gcp:compute/instanceTemplate:InstanceTemplate", "batch-g-gpu-shared")
    assert template["machineType"] == "a2-highgpu-8g"  # A100 in us-central1 from the catalog
    assert template["reservationAffinity"] == {"type": "ANY_RESERVATION"}
    assert template["resourcePolicies"].endswith("frontier-2027-gcp-usc1-compact")
    group = example.inputs("gcp:compute/instanceGroupManager:InstanceGroupManager", "batch-g-gpu-shared")
    assert group["targetSize"] == 4 and group["versions"][0]["instanceTemplate"].startswith("mock/")


def _tag_input(token: str) -> str | None:
    """The input of a resource type that takes tags or labels, if its SDK class has one."""
    package, module, kind = re.match(r"([^:]+):([^:/]+)(?:/[^:]+)?:(\w+)$", token).groups()
    sdk = importlib.import_module({"aws": "pulumi_aws", "azure-native": "pulumi_azure_native", "gcp": "pulumi_gcp"}[package])
    params = inspect.signature(getattr(getattr(sdk, module), kind)._internal_init).parameters
    for name in ("labels", "resource_labels") if package == "gcp" else ("tags",):  # GCP `tags` are network tags
        if name in params:
            return re.sub(r"_(\w)", lambda m: m.group(1).upper(), name)
    return None


def test_every_cloud_resource_that_takes_tags_carries_them(example: Rendered):
    clouds = [r for r in example.resources if r["type"].split(":")[0] in ("aws", "azure-native", "gcp")]
    checked = 0
    for resource in clouds:
        key = _tag_input(resource["type"])
        inputs = resource["inputs"]
        tags = inputs["nodeConfig"]["resourceLabels"] if "nodeConfig" in inputs else inputs.get(key) if key else None
        if key is None and "nodeConfig" not in inputs:
            continue
        if resource["type"] == "aws:autoscaling/group:Group":
            tags = {t["key"]: t["value"] for t in inputs["tags"]}
        assert isinstance(tags, dict), f"{resource['type']} {resource['name']} has no {key}"
        checked += 1
        assert tags["capacity-plan"] == "frontier-2027" and tags["cost-center"] == "research", resource["name"]
        assert tags["capacity-site"] in ("aws-use1", "azure-eus2", "gcp-usc1")
        owner_kind, _, owner = (resource["parent"] or "").partition("::")
        if owner_kind.endswith((":GpuCluster", ":Reservation")):
            assert tags["capacity-cluster"] == owner
        if owner_kind.endswith(":LeasePool"):
            assert tags["capacity-lease"] == owner and tags["capacity-tenant"], resource["name"]
        if owner_kind.endswith(":LinkEnd"):
            assert owner.startswith(tags["capacity-link"])
    assert checked > len(clouds) / 2


def test_vpn_pieces_per_link(example: Rendered):
    ends = {r["name"] for r in example.resources if r["type"].endswith(":LinkEnd")}
    assert ends == {"aws-use1--azure-eus2-aws-use1", "aws-use1--azure-eus2-azure-eus2",
                    "aws-use1--gcp-usc1-aws-use1", "aws-use1--gcp-usc1-gcp-usc1",
                    "azure-eus2--gcp-usc1-azure-eus2", "azure-eus2--gcp-usc1-gcp-usc1",
                    "azure-eus2--oci-iad-azure-eus2", "azure-eus2--oci-iad-oci-iad"}
    assert len(example.of_type("pulumi-python:dynamic/link:PresharedKey")) == 4
    # AWS -> Azure: AWS connects to Azure's gateway IP; Azure's peer is AWS's tunnel address.
    azure_ip = "198.51.100."
    customer = example.inputs("aws:ec2/customerGateway:CustomerGateway", "aws-use1--azure-eus2-aws-use1")
    assert customer["ipAddress"].startswith(azure_ip)
    connection = example.inputs("aws:ec2/vpnConnection:VpnConnection", "aws-use1--azure-eus2-aws-use1")
    assert connection["staticRoutesOnly"] is True and connection["tunnel1PresharedKey"] == "[secret]"
    assert example.inputs("aws:ec2/vpnConnectionRoute:VpnConnectionRoute",
                          "aws-use1--azure-eus2-aws-use1")["destinationCidrBlock"] == "10.20.0.0/16"
    local = example.inputs("azure-native:network:LocalNetworkGateway", "aws-use1--azure-eus2-azure-eus2")
    assert local["gatewayIpAddress"].startswith("203.0.113.")
    assert local["localNetworkAddressSpace"] == {"addressPrefixes": ["10.10.0.0/16"]}
    azure_connection = example.inputs("azure-native:network:VirtualNetworkGatewayConnection",
                                      "aws-use1--azure-eus2-azure-eus2")
    assert azure_connection["sharedKey"] == "[secret]" and azure_connection["connectionType"] == "IPsec"
    # Azure <-> GCP: each points at the other's gateway address.
    tunnel = example.inputs("gcp:compute/vPNTunnel:VPNTunnel", "azure-eus2--gcp-usc1-gcp-usc1")
    assert tunnel["peerIp"].startswith(azure_ip) and tunnel["sharedSecret"] == "[secret]"
    assert example.inputs("azure-native:network:LocalNetworkGateway",
                          "azure-eus2--gcp-usc1-azure-eus2")["gatewayIpAddress"].startswith("192.0.2.")
    route = example.inputs("gcp:compute/route:Route", "aws-use1--gcp-usc1-gcp-usc1")
    assert route["destRange"] == "10.10.0.0/16"
    assert len(example.of_type("gcp:compute/forwardingRule:ForwardingRule")) == 3  # ESP, UDP 500, UDP 4500
    assert len(example.of_type("azure-native:network:VirtualNetworkGateway")) == 1  # shared by both links


def test_leases_over_time():
    before = rendered(EXAMPLE, dt.date(2026, 12, 15))  # only initech-serve in force
    groups = {r["name"]: r["inputs"]["scalingConfig"]["desiredSize"] for r in before.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert groups == {"train-a-system": 2, "train-a-gpu-shared": 64, "train-a-lease-acme-q1": 0, "train-a-lease-acme-q2": 0}
    later = rendered(EXAMPLE, dt.date(2027, 5, 1))  # acme-q1 ended: its pool is gone
    groups = {r["name"]: r["inputs"]["scalingConfig"]["desiredSize"] for r in later.of_type("aws:eks/nodeGroup:NodeGroup")}
    assert groups == {"train-a-system": 2, "train-a-gpu-shared": 32, "train-a-lease-acme-q2": 32}


def test_rendering_is_repeatable(example: Rendered):
    assert rendered(EXAMPLE).resources == example.resources
