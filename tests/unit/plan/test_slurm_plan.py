"""`orchestrator: slurm` in the plan: the `slurm` block, the tenants' Slurm users, and the names
Slurm must be able to hold apart, every mistake at its line with a fix."""

from __future__ import annotations

import pytest

from capacity.errors import PlanError
from capacity.plan.loading import load_text

PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: slurm-plan}
sites:
  lab: {provider: owned, location: Austin, power_mw: 2, cost_per_gpu_hour: 1.0, network: {cidr: 10.60.0.0/16}}
clusters:
  train:
    {site: lab, instance_type: hgx-h100, nodes: 4, orchestrator: slurm, slurm: {cluster: lab, partition: gpu}}
tenants:
  acme: {users: [alice, bob]}
  globex: {users: [carol], groups: ["oidc:globex"]}
leases:
  one: {tenant: acme, cluster: train, gpus: 16, start: 2027-01-01, end: 2027-04-01, price_per_gpu_hour: 2.5}
  two: {tenant: globex, cluster: train, gpus: 8, start: 2027-01-01, end: 2027-04-01, price_per_gpu_hour: 2.5,
        isolation: shared-quota}
"""


def problems(text: str) -> list:
    with pytest.raises(PlanError) as raised:
        load_text(text, "plan.yaml")
    return raised.value.problems


def test_a_slurm_cluster_is_read():
    plan = load_text(PLAN, "plan.yaml").plan
    slurm = plan.clusters["train"].slurm
    assert (slurm.cluster, slurm.partition, slurm.account) == ("lab", "gpu", None)
    assert plan.tenants["acme"].users == ["alice", "bob"] and plan.tenants["acme"].groups == []


@pytest.mark.parametrize("before, after, path, words", [
    (", orchestrator: slurm, slurm: {cluster: lab, partition: gpu}", ", orchestrator: slurm",
     "clusters.train", ["needs a `slurm` block"]),
    ("orchestrator: slurm, ", "", "clusters.train", ["only such a cluster has one"]),
    ("partition: gpu}", "partition: DEFAULT}", "clusters.train.slurm.partition", ["keyword of slurm.conf"]),
    ("partition: gpu}", "partition: gpu, account: root}", "clusters.train.slurm.account", ["Slurm's own top account"]),
    ("partition: gpu}", "partition: gpu, account: acme}", "clusters.train.slurm.account", ["like the parent account"]),
    ("users: [carol]", "users: [alice]", "tenants.globex.users[0]", ["also a user of tenant 'acme'"]),
    ("cluster: lab,", "cluster: Lab,", "clusters.train.slurm.cluster", ["pattern"]),
    ("users: [carol]", "users: [Carol]", "tenants.globex.users[0]", ["pattern"]),
])
def test_slurm_mistakes_are_reported_at_their_place(before, after, path, words):
    found = problems(PLAN.replace(before, after, 1))
    assert [p.path for p in found] == [path], found
    assert all(word in found[0].message for word in words), found[0].message


def test_one_plan_cluster_per_slurm_cluster():
    text = PLAN.replace("tenants:", "  more:\n    {site: lab, instance_type: hgx-h100, nodes: 1, orchestrator: slurm,"
                                    " slurm: {cluster: lab, partition: big}}\ntenants:")
    [problem] = problems(text)
    assert problem.path == "clusters.more.slurm.cluster" and "also cluster 'train'" in problem.message


def test_slurm_is_for_owned_sites():
    text = PLAN.replace("sites:\n", "sites:\n  cloud: {provider: aws, region: us-east-1, network: {cidr: 10.61.0.0/16}}\n") \
        .replace("{site: lab, instance_type: hgx-h100", "{site: cloud, instance_type: p5.48xlarge")
    found = problems(text)
    assert any(p.path == "clusters.train.orchestrator" and "owned sites" in p.message for p in found), found
