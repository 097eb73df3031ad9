"""Leases inside the clusters, under Pulumi's mocks: the Kubernetes objects each lease gets, their
inputs, the provider each cluster kind hands them, and how the lease's dates move them."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from capacity.plan.loading import load_text
from capacity.components.kubernetes.access import exec_kubeconfig
from capacity.components.render import render, render_program

# One cluster per kind of Kubernetes the clouds run, each with a dedicated and a shared lease.
PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: tenancy}
sites:
  east: {provider: aws, region: us-east-1, zones: [us-east-1a, us-east-1b], network: {cidr: 10.10.0.0/16}}
  west: {provider: azure, region: eastus2, network: {cidr: 10.20.0.0/16}}
  central: {provider: gcp, region: us-central1, project: tenancy-prod, network: {cidr: 10.30.0.0/16}}
  ash:
    provider: oci
    region: us-ashburn-1
    compartment: ocid1.compartment.oc1..aaaaaaaaexamplecompartmenttenancy0000000000000
    availability_domains: ["Uocm:US-ASHBURN-AD-1"]
    network: {cidr: 10.50.0.0/16}
clusters:
  eks: {site: east, instance_type: p5.48xlarge, nodes: 8}
  aks: {site: west, accelerator: H100, nodes: 8}
  gke: {site: central, instance_type: a3-highgpu-8g, nodes: 8}
  oke: {site: ash, instance_type: BM.GPU.H100.8, nodes: 8}
tenants:
  acme: {groups: ["oidc:acme-ml", "oidc:acme-ops"], contact: ops@acme.example}
  globex: {groups: ["oidc:globex"]}
leases:
%s
"""
LEASES = """  {c}-acme: {{tenant: acme, cluster: {c}, gpus: 16, start: 2027-01-01, end: 2027-04-01, price_per_gpu_hour: 2.5}}
  {c}-globex: {{tenant: globex, cluster: {c}, gpus: 24, start: 2027-01-01, end: 2027-04-01, price_per_gpu_hour: 3.0, isolation: shared-quota}}"""
CLUSTERS = ("eks", "aks", "gke", "oke")
BEFORE, DURING, AFTER = dt.date(2026, 12, 15), dt.date(2027, 2, 1), dt.date(2027, 4, 1)


def rendered(on: dt.date, clusters=CLUSTERS, plan: str = PLAN) -> list[dict]:
    leases = "\n".join(LEASES.format(c=c) for c in clusters)
    return render(load_text(plan % leases, "plan.yaml"), on).resources


def one(resources: list[dict], token: str, name: str) -> dict:
    found = [r for r in resources if r["type"] == token and r["name"] == name]
    assert len(found) == 1, f"{token} {name}: {len(found)} found"
    return found[0]


@pytest.fixture(scope="module")
def during() -> list[dict]:
    return rendered(DURING)


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_each_cluster_kind_hands_its_kubeconfig_to_one_provider(during, cluster):
    provider = one(during, "pulumi:providers:kubernetes", f"{cluster}-k8s")
    assert provider["inputs"]["kubeconfig"] == "[secret]"  # credentials never in plain text
    assert provider["parent"] == f"capacity:kubernetes:ClusterTenancy::{cluster}"
    tenancy = one(during, "capacity:kubernetes:ClusterTenancy", cluster)
    assert tenancy["parent"].endswith(f":GpuCluster::{cluster}")


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_a_dedicated_lease_gets_namespace_access_quota_policy_and_queues(during, cluster):
    lease = f"{cluster}-acme"
    namespace = one(during, "kubernetes:core/v1:Namespace", f"{lease}-namespace")["inputs"]["metadata"]
    assert namespace["name"] == f"lease-{lease}"
    assert namespace["labels"] == {"capacity.dev/plan": "tenancy", "capacity.dev/cluster": cluster,
                                   "capacity.dev/lease": lease, "capacity.dev/tenant": "acme"}
    binding = one(during, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding", f"{lease}-admins")["inputs"]
    assert binding["metadata"]["namespace"] == f"lease-{lease}"
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"}
    assert [s["name"] for s in binding["subjects"]] == ["oidc:acme-ml", "oidc:acme-ops"]
    assert {s["kind"] for s in binding["subjects"]} == {"Group"}
    quota = one(during, "kubernetes:core/v1:ResourceQuota", f"{lease}-gpus")["inputs"]
    assert quota["spec"]["hard"] == {"requests.nvidia.com/gpu": "16", "limits.nvidia.com/gpu": "16"}
    policy = one(during, "kubernetes:networking.k8s.io/v1:NetworkPolicy", f"{lease}-isolation")["inputs"]["spec"]
    assert policy["podSelector"] == {} and policy["policyTypes"] == ["Ingress"]
    assert policy["ingress"][0]["from"] == [
        {"namespaceSelector": {"matchLabels": {"capacity.dev/tenant": "acme"}}},
        {"namespaceSelector": {"matchExpressions": [{"key": "capacity.dev/tenant", "operator": "DoesNotExist"}]}}]
    flavor = one(during, "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor", f"{lease}-flavor")["inputs"]
    assert flavor["spec"]["nodeLabels"] == {"capacity.dev/lease": lease}
    assert {(t["key"], t["value"]) for t in flavor["spec"]["tolerations"]} == {
        ("nvidia.com/gpu", "present"), ("capacity.dev/tenant", "acme")}
    queue = one(during, "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue", f"{lease}-clusterqueue")["inputs"]
    assert "cohortName" not in queue["spec"]
    assert queue["spec"]["namespaceSelector"] == {"matchLabels": {"kubernetes.io/metadata.name": f"lease-{lease}"}}
    assert queue["spec"]["resourceGroups"] == [{"coveredResources": ["nvidia.com/gpu"], "flavors": [
        {"name": f"lease-{lease}", "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 16}]}]}]
    local = one(during, "kubernetes:kueue.x-k8s.io/v1beta2:LocalQueue", f"{lease}-localqueue")["inputs"]
    assert local["metadata"]["namespace"] == f"lease-{lease}" and local["spec"] == {"clusterQueue": f"lease-{lease}"}


@pytest.mark.parametrize("cluster", CLUSTERS)
def test_shared_quota_leases_share_a_cohort_and_never_borrow(during, cluster):
    lease = f"{cluster}-globex"
    queue = one(during, "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue", f"{lease}-clusterqueue")["inputs"]
    assert queue["spec"]["cohortName"] == f"{cluster}-shared"
    assert queue["spec"]["resourceGroups"][0]["flavors"] == [{"name": f"{cluster}-shared", "resources": [
        {"name": "nvidia.com/gpu", "nominalQuota": 24, "borrowingLimit": 0}]}]
    shared = one(during, "kubernetes:kueue.x-k8s.io/v1beta2:ResourceFlavor", f"{cluster}-shared")["inputs"]
    assert shared["spec"]["nodeLabels"] == {"capacity.dev/pool": "shared", "capacity.dev/cluster": cluster}
    assert [t["key"] for t in shared["spec"]["tolerations"]] == ["nvidia.com/gpu"]  # not another tenant's taint
    assert not [r for r in during if r["name"] == f"{lease}-flavor"]  # no flavor of its own
    quota = one(during, "kubernetes:core/v1:ResourceQuota", f"{lease}-gpus")["inputs"]
    assert quota["spec"]["hard"]["requests.nvidia.com/gpu"] == "24"


def test_nothing_is_granted_cluster_wide(during):
    kinds = {r["type"] for r in during if r["type"].startswith("kubernetes:")}
    assert not [k for k in kinds if k.endswith(("ClusterRoleBinding", ":ClusterRole"))]


def test_the_dates_move_quota_and_queues():
    before = rendered(BEFORE, ("eks",))
    for lease in ("eks-acme", "eks-globex"):
        quota = one(before, "kubernetes:core/v1:ResourceQuota", f"{lease}-gpus")["inputs"]["spec"]["hard"]
        assert quota == {"requests.nvidia.com/gpu": "0", "limits.nvidia.com/gpu": "0"}
        queue = one(before, "kubernetes:kueue.x-k8s.io/v1beta2:ClusterQueue", f"{lease}-clusterqueue")["inputs"]
        assert queue["spec"]["resourceGroups"][0]["flavors"][0]["resources"][0]["nominalQuota"] == 0
    after = rendered(AFTER, ("eks",))
    assert not [r for r in after if r["type"].startswith("kubernetes:")]
    assert not [r for r in after if r["type"] == "pulumi:providers:kubernetes"]


def test_kueue_objects_can_be_turned_off():
    plan = PLAN.replace("eks: {site: east, instance_type: p5.48xlarge, nodes: 8}",
                        "eks: {site: east, instance_type: p5.48xlarge, nodes: 8, kueue: false}")
    resources = rendered(DURING, ("eks",), plan)
    assert not [r for r in resources if "kueue" in r["type"]]
    assert one(resources, "kubernetes:core/v1:ResourceQuota", "eks-acme-gpus")


def test_a_tenant_without_groups_in_the_plan_gets_no_binding():
    plan = PLAN.replace("tenants:\n  acme: {groups: [\"oidc:acme-ml\", \"oidc:acme-ops\"], contact: ops@acme.example}\n"
                        "  globex: {groups: [\"oidc:globex\"]}\n", "")
    resources = rendered(DURING, ("eks",), plan)
    assert not [r for r in resources if r["type"].endswith(":RoleBinding")]
    assert one(resources, "kubernetes:core/v1:Namespace", "eks-acme-namespace")


def test_clusters_without_kubernetes_get_no_objects():
    plan = PLAN.replace("eks: {site: east, instance_type: p5.48xlarge, nodes: 8}",
                        "eks: {site: east, instance_type: p5.48xlarge, nodes: 8, orchestrator: none}")
    resources = rendered(DURING, ("eks",), plan)
    assert not [r for r in resources if r["type"].startswith(("kubernetes:", "pulumi:providers:kubernetes"))]


OWNED = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: owned-tenancy}
sites:
  lab: {provider: owned, location: Austin, power_mw: 2, cost_per_gpu_hour: 1.0, network: {cidr: 10.60.0.0/16}}
clusters:
  train: {site: lab, instance_type: hgx-h100, nodes: 4}
leases:
  one: {tenant: acme, cluster: train, gpus: 8, start: 2027-01-01, end: 2027-04-01, price_per_gpu_hour: 2.5}
"""


def test_an_owned_cluster_uses_the_kubeconfig_named_by_its_variable(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\n")
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("CAPACITY_KUBECONFIG_TRAIN", str(kubeconfig))
    rendering = render(load_text(OWNED, "plan.yaml"), DURING)
    provider = one(rendering.resources, "pulumi:providers:kubernetes", "train-k8s")
    assert provider["inputs"]["kubeconfig"] == "[secret]"
    assert one(rendering.resources, "kubernetes:core/v1:ResourceQuota", "one-gpus")


def test_an_owned_cluster_without_a_kubeconfig_is_said_not_enforced(tmp_path, monkeypatch):
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.delenv("CAPACITY_KUBECONFIG_TRAIN", raising=False)
    rendering = render(load_text(OWNED, "plan.yaml"), DURING)
    assert not [r for r in rendering.resources if r["type"].startswith("kubernetes:")]
    assert any("CAPACITY_KUBECONFIG_TRAIN" in w and "not enforced" in w for w in rendering.warnings)


def test_exec_kubeconfig_names_the_endpoint_the_authority_and_the_token_command():
    import pulumi

    seen = {}

    def program():
        exec_kubeconfig("c", "https://example.test", "Q0E=", "aws", ["eks", "get-token", "--cluster-name", "c"]) \
            .apply(lambda text: seen.update(json.loads(text)))
        pulumi.export("ok", True)

    render_program(program)
    assert seen["clusters"][0]["cluster"] == {"server": "https://example.test", "certificate-authority-data": "Q0E="}
    assert seen["users"][0]["user"]["exec"]["command"] == "aws"
    assert seen["users"][0]["user"]["exec"]["args"] == ["eks", "get-token", "--cluster-name", "c"]
