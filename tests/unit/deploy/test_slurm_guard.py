"""The lease guard's look at Slurm's queue: a lease whose objects a run removes (dropped, or past
its end) is refused while its account has jobs under its QOS, or when the queue cannot be read."""

from __future__ import annotations

import datetime as dt

from capacity.deploy.guard import FACTS, SLURM_QOS, busy_slurm_leases

DAY = dt.date(2027, 3, 15)


def state(*leases: tuple[str, str, str]) -> dict:
    """A state with a lease pool (its facts) and a Slurm QOS for each (lease, start, end)."""
    resources = []
    for lease, start, end in leases:
        facts = {"cluster": "train", "gpus": 16, "start": start, "end": end}
        resources.append({"urn": f"urn:pulumi:s::capacity::capacity:owned:LeasePool::{lease}",
                          "type": "capacity:owned:LeasePool", "inputs": {FACTS: facts}})
        resources.append({"urn": f"urn:pulumi:s::capacity::{SLURM_QOS}::{lease}-qos", "type": SLURM_QOS,
                          "outputs": {"name": f"lease-{lease}", "account": "acme", "lease": lease, "gpus": 16}})
    return {"resources": resources}


def planned(lease: str, end: str) -> dict:
    return {lease: {"cluster": "train", "gpus": 16, "start": "2027-01-01", "end": end}}


def test_an_ended_lease_with_jobs_is_refused_and_an_idle_one_goes():
    deployment = state(("old", "2027-01-01", "2027-03-01"))
    asked = []

    def queued(cluster, account, qos):
        asked.append((cluster, account, qos))
        return 2

    [line] = busy_slurm_leases(deployment, planned("old", "2027-03-01"), DAY, queued)
    assert "end lease 'old' whose Slurm account 'acme' still has 2 running or pending jobs under QOS lease-old" in line
    assert asked == [("train", "acme", "lease-old")]
    assert busy_slurm_leases(deployment, {}, DAY, lambda *_: 0) == []


def test_a_kept_lease_is_not_asked_about_and_an_unreadable_queue_refuses():
    deployment = state(("now", "2027-01-01", "2027-06-01"), ("old", "2027-01-01", "2027-03-01"))

    def unreachable(*_):
        raise RuntimeError("slurmctld is down")

    kept = {**planned("now", "2027-06-01"), **planned("old", "2027-06-01")}
    assert busy_slurm_leases(deployment, kept, DAY, unreachable) == []
    # dropping the in-force lease is `takings`' refusal; the ended one cannot be checked
    [line] = busy_slurm_leases(deployment, {}, DAY, unreachable)
    assert "end lease 'old' without knowing" in line and "slurmctld is down" in line
