"""`capacity diff`: tenants' GPU quotas in Kubernetes clusters, peak from the diff's day on."""

from __future__ import annotations

import datetime as dt

from capacity.review.diff import diff_plans
from capacity.plan.loading import load_text
from capacity.review.markdown import markdown, text

PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: quotas}
sites:
  lab: {provider: owned, location: Austin, power_mw: 2, cost_per_gpu_hour: 1.0, network: {cidr: 10.60.0.0/16}}
clusters:
  train: {site: lab, instance_type: hgx-h100, nodes: 8}
  bare: {site: lab, instance_type: hgx-h100, nodes: 4, orchestrator: none}
leases:
%s
"""
LEASE = "  {name}: {{tenant: {tenant}, cluster: {cluster}, gpus: {gpus}, start: {start}, end: {end}, price_per_gpu_hour: 2.0}}"
DAY = dt.date(2027, 1, 1)


def plan(*leases: dict):
    return load_text(PLAN % "\n".join(LEASE.format(**lease) for lease in leases), "plan.yaml")


def lease(name, tenant="acme", cluster="train", gpus=16, start="2027-01-01", end="2027-04-01"):
    return {"name": name, "tenant": tenant, "cluster": cluster, "gpus": gpus, "start": start, "end": end}


def test_a_later_lease_counts_and_back_to_back_leases_do_not_add_up():
    base = plan(lease("a"))
    head = plan(lease("a"), lease("b", gpus=8, start="2027-04-01", end="2027-06-01"),
                lease("c", gpus=24, start="2027-05-01", end="2027-06-01"))
    [change] = diff_plans(base, head, DAY).quotas
    assert (change.tenant, change.cluster, change.base, change.head, change.delta) == ("acme", "train", 16, 32, 16)


def test_only_kubernetes_clusters_and_only_changes_are_shown():
    base = plan(lease("a"), lease("g", tenant="globex", gpus=8), lease("x", cluster="bare", gpus=8))
    head = plan(lease("a"), lease("g", tenant="globex", gpus=16), lease("x", cluster="bare", gpus=16))
    changes = diff_plans(base, head, DAY).quotas
    assert [(q.tenant, q.base, q.head) for q in changes] == [("globex", 8, 16)]


def test_ended_leases_hold_no_quota_and_removing_one_shows_zero():
    base = plan(lease("a"), lease("old", tenant="globex", start="2026-01-01", end="2026-06-01"))
    head = plan(lease("old", tenant="globex", start="2026-01-01", end="2026-06-01"))
    diff = diff_plans(base, head, DAY)
    assert [q.as_json() for q in diff.quotas] == [
        {"tenant": "acme", "cluster": "train", "orchestrator": "kubernetes", "base": 16, "head": 0, "delta": -16}]
    assert diff.as_json()["quotas"] == [q.as_json() for q in diff.quotas]
    assert "acme on train: 16 -> 0 GPUs (-16)" in text(diff)
    assert "| `acme` | `train` | 16 \u2192 0 | -16 |" in markdown(diff)


def test_no_quota_change_leaves_the_json_as_it_was():
    same = plan(lease("a"))
    assert "quotas" not in diff_plans(same, same, DAY).as_json()


def test_slurm_limits_per_tenant_are_shown_beside_kubernetes_quotas():
    slurm = PLAN.replace("  bare: {site: lab, instance_type: hgx-h100, nodes: 4, orchestrator: none}",
                         "  hpc: {site: lab, instance_type: hgx-h100, nodes: 4, orchestrator: slurm,"
                         " slurm: {cluster: hpc, partition: gpu}}")

    def slurm_plan(*leases: dict):
        return load_text(slurm % "\n".join(LEASE.format(**lease) for lease in leases), "plan.yaml")

    base = slurm_plan(lease("a", gpus=8), lease("s", cluster="hpc", gpus=16))
    head = slurm_plan(lease("a", gpus=16), lease("s", cluster="hpc", gpus=8))
    diff = diff_plans(base, head, DAY)
    assert [(q.orchestrator, q.cluster, q.base, q.head) for q in diff.quotas] == [
        ("kubernetes", "train", 8, 16), ("slurm", "hpc", 16, 8)]
    assert "acme on hpc (Slurm account limit): 16 -> 8 GPUs (-8)" in text(diff)
    assert "GPU quotas (Kubernetes) and limits (Slurm) per tenant" in markdown(diff)
    assert "| `acme` | `hpc` (Slurm) | 16 \u2192 8 | -8 |" in markdown(diff)
