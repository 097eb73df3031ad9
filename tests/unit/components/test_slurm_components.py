"""Slurm leases rendered offline (`capacity resources`, under Pulumi's mocks), and how capacity
reads Slurm's answers and reaches a cluster (no Slurm here: tests/integration/slurm runs one)."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from capacity.components.render import render
from capacity.components.slurm.commands import Slurm, SlurmError, key_values
from capacity.plan.loading import load_text
from tests.unit.plan.test_slurm_plan import PLAN as SLURM_PLAN

# The plan of the plan tests, with a lease that has ended.
PLAN = SLURM_PLAN + """  old: {tenant: acme, cluster: train, gpus: 8, start: 2026-01-01, end: 2026-06-01, price_per_gpu_hour: 2.5}
"""


def slurm_objects(monkeypatch, day: str) -> dict[str, dict]:
    monkeypatch.delenv("CAPACITY_SLURM_TRAIN", raising=False)
    rendering = render(load_text(PLAN, "plan.yaml"), dt.date.fromisoformat(day))
    return {r["name"]: r for r in rendering.resources if r["type"].startswith("pulumi-python:dynamic/slurm:")}


def test_each_lease_gets_a_qos_a_dedicated_one_a_reservation_and_the_tenant_an_account(monkeypatch):
    found = slurm_objects(monkeypatch, "2027-02-01")
    assert sorted(found) == ["one-qos", "one-reservation", "train-acme-account", "train-globex-account",
                             "train-parent-account", "two-qos"]
    assert found["one-qos"]["inputs"] | {"connection": "-"} == {
        "connection": "-", "name": "lease-one", "gpus": 16, "flags": "DenyOnLimit", "account": "acme", "lease": "one"}
    reservation = found["one-reservation"]["inputs"]
    assert (reservation["nodes"], reservation["start"], reservation["end"], reservation["partition"]) == (
        2, "2027-01-01", "2027-04-01", "gpu")
    assert "two-reservation" not in found  # shared-quota: its QOS only
    account = found["train-acme-account"]["inputs"]
    assert (account["parent"], account["users"], account["qos"], account["default_qos"]) == (
        "slurm-plan", ["alice", "bob"], ["lease-one"], "lease-one")
    assert found["train-parent-account"]["inputs"]["parent"] == "root"
    assert {r["inputs"]["connection"] for r in found.values()} == {"[secret]"}


def test_before_its_start_a_lease_allows_no_gpu_and_after_its_end_nothing_is_declared(monkeypatch):
    early = slurm_objects(monkeypatch, "2026-12-15")
    assert (early["one-qos"]["inputs"]["gpus"], early["two-qos"]["inputs"]["gpus"]) == (0, 0)
    assert "old-qos" not in early
    assert sorted(slurm_objects(monkeypatch, "2027-06-01")) == []


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


def test_sacctmgr_answers_are_told_apart_through_a_command_prefix(tmp_path):
    """A prefix runs the commands (here a stand-in for `ssh head`): what sacctmgr says decides."""
    fake = tmp_path / "fake.py"
    fake.write_text("import sys\nsays, code = {'new': ('Adding QOS(s)', 0), 'there': (' Nothing new added.', 1),\n"
                    " 'refused': (' Error with request: Job(s) active\\n Changes Discarded', 0)}[sys.argv[-1]]\n"
                    "print(says); sys.exit(code)\n")
    slurm = Slurm(f"{sys.executable} {fake}")
    assert slurm.change("add", "qos", "new") is True
    assert slurm.change("add", "qos", "there") is False
    with pytest.raises(SlurmError, match="was refused: Error with request: Job"):
        slurm.change("delete", "account", "refused")
