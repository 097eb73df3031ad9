"""`capacity status` in text: each lease's namespace, quota and the GPUs its cluster reports in use."""

from __future__ import annotations

from capacity.cli.status_text import render_text


def status(**lease) -> dict:
    base = {"name": "acme-q1", "tenant": "acme", "cluster": "train", "isolation": "shared-quota", "in_force": True,
            "nodes": 0, "pool_id": "p"}
    return {"stack": "s", "backend": "file://x", "deployed": True, "gpus": 32, "resources": 9,
            "clusters": [], "leases": [{**base, **lease}]}


def test_a_lease_in_a_cluster_shows_its_namespace_quota_and_use():
    text = render_text(status(namespace="lease-acme-q1", gpu_quota=24, gpus_in_use="8"))
    assert "namespace lease-acme-q1, quota 24 GPUs, 8 in use" in text


def test_use_is_left_out_until_the_cluster_reports_it_and_nothing_without_a_namespace():
    assert "namespace lease-acme-q1, quota 0 GPUs\n" in render_text(status(namespace="lease-acme-q1", gpu_quota=0,
                                                                              gpus_in_use=None))
    assert "namespace" not in render_text(status())


def test_a_slurm_lease_shows_its_account_qos_limit_reservation_and_use():
    text = render_text(status(slurm_account="acme", qos="lease-acme-q1", gpu_limit=16,
                              slurm_reservation="lease-acme-q1", slurm_nodes="lab-n[1-2]", gpus_in_use=8))
    assert "Slurm account acme, QOS lease-acme-q1 limit 16 GPUs, reservation lease-acme-q1 (lab-n[1-2]), 8 in use" \
        in text
    shared = render_text(status(slurm_account="acme", qos="lease-acme-q1", gpu_limit=0, gpus_in_use=None))
    assert "QOS lease-acme-q1 limit 0 GPUs\n" in shared and "reservation" not in shared
