"""Cloud names and tags stay within each provider's limits for the longest names a plan allows
(63-character plan, site, cluster, lease and tenant names)."""

from __future__ import annotations

import re

import pytest

from capacity.fields import NAME_MAX

from .conftest import Rendered, rendered


def longest(prefix: str) -> str:
    return (prefix + "-" + "n" * NAME_MAX)[:NAME_MAX]


PLAN, AWS, AZURE, GCP = longest("plan"), longest("aws"), longest("azure"), longest("gcp")


def _plan() -> str:
    sites = f"""
  {AWS}: {{provider: aws, region: us-east-1, network: {{cidr: 10.10.0.0/16}}}}
  {AZURE}: {{provider: azure, region: eastus2, network: {{cidr: 10.20.0.0/16}}}}
  {GCP}: {{provider: gcp, region: us-central1, project: frontier-prod, network: {{cidr: 10.30.0.0/16}}}}"""
    clusters, leases = [], []
    kinds = {AWS: "p5.48xlarge", AZURE: "Standard_ND96isr_H100_v5", GCP: "a3-highgpu-8g"}
    for site, instance_type in kinds.items():
        for orchestrator in ("kubernetes", "none"):
            name = longest(f"{site[:3]}-{orchestrator[:4]}-cluster")
            clusters.append(f"""
  {name}:
    site: {site}
    instance_type: {instance_type}
    nodes: 4
    orchestrator: {orchestrator}
    reservation: {{kind: capacity-reservation, start: 2027-01-01, end: 2027-12-01}}""")
            for isolation in ("dedicated-nodes", "shared-quota"):
                lease = longest(f"{name[:8]}-{isolation[:5]}-lease")
                leases.append(f"""
  {lease}:
    tenant: {longest(f"{isolation[:5]}-tenant")}
    cluster: {name}
    gpus: 8
    start: 2027-02-01
    end: 2027-03-01
    price_per_gpu_hour: 2.0
    isolation: {isolation}""")
    block = longest("aws-block-cluster")
    clusters.append(f"""
  {block}:
    site: {AWS}
    instance_type: p5.48xlarge
    nodes: 2
    reservation: {{kind: capacity-block, start: 2027-02-01, end: 2027-02-08}}""")
    return f"""apiVersion: capacity/v1
kind: CapacityPlan
metadata: {{name: {PLAN}, labels: {{{longest("label")}: "{"v" * 256}"}}}}
sites:{sites}
links:
  - between: [{AWS}, {AZURE}]
  - between: [{AWS}, {GCP}]
  - between: [{AZURE}, {GCP}]
clusters:{"".join(clusters)}
leases:{"".join(leases)}
"""


@pytest.fixture(scope="module")
def longest_names() -> Rendered:
    import datetime as dt

    return rendered(_plan(), dt.date(2027, 2, 15))


GCP_NAME = re.compile(r"[a-z]([-a-z0-9]*[a-z0-9])?\Z")
# (type token, input) -> the provider's limit on it; a regex too where the characters are limited.
LIMITS = {
    ("aws:eks/cluster:Cluster", "name"): (100, re.compile(r"[0-9A-Za-z][A-Za-z0-9_-]*\Z")),
    ("aws:eks/nodeGroup:NodeGroup", "nodeGroupName"): (63, None),
    ("aws:iam/role:Role", "name"): (64, re.compile(r"[\w+=,.@-]+\Z")),
    ("aws:ec2/launchTemplate:LaunchTemplate", "name"): (128, re.compile(r"[a-zA-Z0-9().\-/_]+\Z")),
    ("azure-native:resources:ResourceGroup", "resourceGroupName"): (90, None),
    ("azure-native:network:VirtualNetwork", "virtualNetworkName"): (64, None),
    ("azure-native:network:NetworkSecurityGroup", "networkSecurityGroupName"): (80, None),
    ("azure-native:network:Subnet", "subnetName"): (80, None),
    ("azure-native:network:PublicIPAddress", "publicIpAddressName"): (80, None),
    ("azure-native:network:VirtualNetworkGateway", "virtualNetworkGatewayName"): (80, None),
    ("azure-native:network:LocalNetworkGateway", "localNetworkGatewayName"): (80, None),
    ("azure-native:network:VirtualNetworkGatewayConnection", "virtualNetworkGatewayConnectionName"): (80, None),
    ("azure-native:containerservice:ManagedCluster", "resourceName"): (63, None),
    ("azure-native:containerservice:ManagedCluster", "dnsPrefix"): (54, re.compile(r"[a-zA-Z0-9][a-zA-Z0-9-]*\Z")),
    ("azure-native:containerservice:AgentPool", "agentPoolName"): (12, re.compile(r"[a-z][a-z0-9]*\Z")),
    ("azure-native:compute:CapacityReservationGroup", "capacityReservationGroupName"): (80, None),
    ("azure-native:compute:CapacityReservation", "capacityReservationName"): (80, None),
    ("azure-native:compute:VirtualMachineScaleSet", "vmScaleSetName"): (64, None),
    ("gcp:container/cluster:Cluster", "name"): (40, GCP_NAME),
    ("gcp:container/nodePool:NodePool", "name"): (40, GCP_NAME),
    ("gcp:compute/instanceTemplate:InstanceTemplate", "namePrefix"): (37, None),
    ("gcp:compute/instanceGroupManager:InstanceGroupManager", "baseInstanceName"): (58, None),
}
AUTONAMED = {  # Pulumi names these: the logical name plus '-' and 7 characters
    "aws:ec2/securityGroup:SecurityGroup": 255, "aws:ec2/placementGroup:PlacementGroup": 255,
    "aws:autoscaling/group:Group": 255,
}


def test_names_within_limits(longest_names: Rendered):
    seen = set()
    for resource in longest_names.resources:
        token, inputs = resource["type"], resource["inputs"]
        for (limited, key), (limit, pattern) in LIMITS.items():
            if token == limited:
                value = inputs[key]
                assert len(value) <= limit, f"{token} {key} {value!r}: {len(value)} > {limit}"
                assert pattern is None or pattern.match(value), f"{token} {key} {value!r}"
                seen.add(limited)
        if token.startswith("gcp:compute/") and "name" in inputs:
            assert len(inputs["name"]) <= 63 and GCP_NAME.match(inputs["name"]), inputs["name"]
            seen.add(token)
        if token in AUTONAMED:
            assert len(resource["name"]) + 8 <= AUTONAMED[token], resource["name"]
            seen.add(token)
    assert {token for token, _ in LIMITS} | set(AUTONAMED) <= seen  # the plan exercised every limit


def test_names_stay_distinct_when_cut(longest_names: Rendered):
    # (type, name input, the input naming the scope the name must be unique in)
    scopes = [("aws:eks/nodeGroup:NodeGroup", "nodeGroupName", "clusterName"),
              ("aws:iam/role:Role", "name", None),
              ("azure-native:containerservice:AgentPool", "agentPoolName", "resourceName"),
              ("gcp:container/nodePool:NodePool", "name", "cluster"),
              ("gcp:compute/instanceGroupManager:InstanceGroupManager", "name", None)]
    for token, key, scope in scopes:
        found = [(r["inputs"].get(scope), r["inputs"][key]) for r in longest_names.of_type(token)]
        assert len(found) > 1 and len(set(found)) == len(found), (token, found)


def test_tags_and_labels_within_limits(longest_names: Rendered):
    gcp_label = re.compile(r"[a-z][a-z0-9_-]{0,62}\Z")
    for resource in longest_names.resources:
        package, inputs = resource["type"].split(":")[0], resource["inputs"]
        if package == "aws" and isinstance(inputs.get("tags"), dict):
            assert all(len(k) <= 128 and len(v) <= 256 for k, v in inputs["tags"].items())
        if package == "azure-native" and isinstance(inputs.get("tags"), dict):
            assert all(len(k) <= 512 and len(v) <= 256 and not set(k) & set("<>%&\\?/")
                       for k, v in inputs["tags"].items())
        if package == "gcp":
            for labels in (inputs.get("labels"), inputs.get("resourceLabels"),
                           inputs.get("nodeConfig", {}).get("resourceLabels")):
                for key, value in (labels or {}).items():
                    assert gcp_label.match(key) and len(value) <= 63 and re.fullmatch(r"[a-z0-9_-]*", value), (key, value)
        node_labels = inputs.get("labels") if resource["type"] == "aws:eks/nodeGroup:NodeGroup" else \
            inputs.get("nodeLabels") or inputs.get("nodeConfig", {}).get("labels")
        for key, value in (node_labels or {}).items():  # Kubernetes: name part and value at most 63
            assert len(key.rsplit("/", 1)[-1]) <= 63 and len(value) <= 63, (key, value)


@pytest.mark.parametrize("provider", ["aws", "azure", "gcp", "oci"])
def test_the_smallest_network_validation_accepts_is_one_the_components_can_lay_out(provider):
    """capacity/providers/<p>.py states the smallest site network; components/<p>/ must fit in it,
    and one size smaller must be refused by validation, not at deploy time."""
    from capacity.errors import PlanError
    from capacity.plan.loading import load_text
    from capacity.providers import spec
    from capacity.components.render import render

    site = {"aws": "provider: aws\n    region: us-east-1",
            "azure": "provider: azure\n    region: eastus2",
            "gcp": "provider: gcp\n    region: us-central1\n    project: tiny-project",
            "oci": "provider: oci\n    region: us-ashburn-1\n"
                   "    compartment: ocid1.compartment.oc1..aaaaaaaaexamplecompartmenttiny0000000000"}[provider]
    plan = ("apiVersion: capacity/v1\nkind: CapacityPlan\nmetadata: {name: tiny}\nsites:\n"
            f"  tiny:\n    {site}\n    network: {{cidr: 10.0.0.0/PREFIX}}\n")
    longest = spec(provider).longest_prefix(load_text(plan.replace("PREFIX", "16"), "t.yaml").plan.sites["tiny"])
    rendered = render(load_text(plan.replace("PREFIX", str(longest)), "t.yaml"))
    assert any(r["type"] == f"capacity:{provider}:SiteNetwork" for r in rendered.resources)
    with pytest.raises(PlanError, match=f"too small.*/{longest} or larger"):
        load_text(plan.replace("PREFIX", str(longest + 1)), "t.yaml")
