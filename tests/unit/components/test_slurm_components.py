"""Slurm leases rendered offline (`capacity resources`, under Pulumi's mocks), and how capacity
reads Slurm's answers and reaches a cluster (no Slurm here: tests/integration/slurm runs one)."""

from __future__ import annotations

import datetime as dt

from capacity.components.render import render
from capacity.components.slurm.commands import Slurm, key_values
from capacity.plan.loading import load_text

PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: slurm-render}
sites:
  lab: {provider: owned, location: Austin, power_mw: 2, cost_per_gpu_hour: 1.0, network: {cidr: 10.60.0.0/16}}
clusters:
  train:
    {site: lab, instance_type: hgx-h100, nodes: 4, orchestrator: slurm, slurm: {cluster: lab, partition: gpu}}
tenants:
  acme: {users: [alice]}
leases:
  ded: {tenant: acme, cluster: train, gpus: 16, start: 2027-01-01, end: 2027-04-01, price_per_gpu_hour: 2.5}
  shr: {tenant: acme, cluster: train, gpus: 4, start: 2027-03-01, end: 2027-05-01, price_per_gpu_hour: 2.5,
        isolation: shared-quota}
  old: {tenant: acme, cluster: train, gpus: 8, start: 2026-01-01, end: 2026-06-01, price_per_gpu_hour: 2.5}
"""


def slurm_objects(monkeypatch, day: str) -> dict[str, dict]:
    monkeypatch.delenv("CAPACITY_SLURM_TRAIN", raising=False)
    rendering = render(load_text(PLAN, "plan.yaml"), dt.date.fromisoformat(day))
    return {r["name"]: r for r in rendering.resources if r["type"].startswith("pulumi-python:dynamic/slurm:")}


def test_each_lease_gets_a_qos_a_dedicated_one_a_reservation_and_the_tenant_an_account(monkeypatch):
    found = slurm_objects(monkeypatch, "2027-02-01")
    assert sorted(found) == ["ded-qos", "ded-reservation", "shr-qos", "train-acme-account", "train-parent-account"]
    assert found["ded-qos"]["inputs"] | {"connection": "-"} == {
        "connection": "-", "name": "lease-ded", "gpus": 16, "flags": "DenyOnLimit", "account": "acme", "lease": "ded"}
    assert found["shr-qos"]["inputs"]["gpus"] == 0  # not started on that day
    reservation = found["ded-reservation"]["inputs"]
    assert (reservation["nodes"], reservation["start"], reservation["end"], reservation["partition"]) == (
        2, "2027-01-01", "2027-04-01", "gpu")
    account = found["train-acme-account"]["inputs"]
    assert (account["parent"], account["users"], account["qos"], account["default_qos"]) == (
        "slurm-render", ["alice"], ["lease-ded", "lease-shr"], "lease-ded")
    assert found["train-parent-account"]["inputs"]["parent"] == "root"
    assert {r["inputs"]["connection"] for r in found.values()} == {"[secret]"}


def test_ended_leases_and_tenants_without_leases_are_not_declared(monkeypatch):
    assert sorted(slurm_objects(monkeypatch, "2027-06-01")) == []
    assert "shr-qos" in slurm_objects(monkeypatch, "2027-04-15")


def test_a_connection_is_a_slurm_conf_path_or_a_command_prefix():
    here = Slurm("/etc/slurm/slurm.conf")
    assert here.conf == "/etc/slurm/slurm.conf" and here.argv("squeue", "-h") == ["squeue", "-h"]
    remote = Slurm("kubectl exec -n slurm slurmctld-0 --")
    assert remote.conf is None
    assert remote.argv("sacctmgr", "-i", "add", "qos", "q") == [
        "kubectl", "exec", "-n", "slurm", "slurmctld-0", "--", "sacctmgr", "-i", "add", "qos", "q"]


def test_scontrol_lines_are_read_as_keys_and_values():
    line = "ReservationName=lease-a StartTime=2027-01-01T00:00:00 NodeCnt=2 Nodes=lab-n[1-2] Accounts=acme"
    assert key_values(line) == {"ReservationName": "lease-a", "StartTime": "2027-01-01T00:00:00", "NodeCnt": "2",
                                "Nodes": "lab-n[1-2]", "Accounts": "acme"}


def test_the_gpus_a_qos_holds_are_read_from_slurmctlds_association_manager():
    from capacity.components.slurm.objects import used_gpus

    text = ("QOS Records\nQOS=lease-a(2) UsageRaw=0.0 GrpJobs=N(2) GrpTRES=cpu=N(2),mem=N(0),node=N(2),"
            "billing=N(2),gres/gpu=8(16) GrpTRESMins=cpu=N(0),gres/gpu=N(0) MaxWallPJ=")
    assert used_gpus(text, "lease-a") == 16
    assert used_gpus(text, "lease-b") is None
