"""A lease amendment on a real Kubernetes API server, through `capacity up --on` and the real Pulumi
engine (issue 19): the tenant's quota changes on the amendment's day, not a day before; an
amendment that shrinks a lease in force is refused without --allow-destroy, like any shrink."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.cli.main import app

PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: amendments-engine}
sites:
  lab:
    provider: owned
    location: Austin, TX
    power_mw: 1
    cost_per_gpu_hour: 1.0
    network: {cidr: 10.71.0.0/16}
    inventory: inventory.csv
clusters:
  train: {site: lab, instance_type: hgx-h100, nodes: 4, orchestrator: kubernetes, kueue: false}
leases:
  acme:
    tenant: acme
    cluster: train
    gpus: 8
    start: START
    end: 2027-06-01
    price_per_gpu_hour: 2.5
    isolation: shared-quota
    amendments: AMENDMENTS
"""
runner = CliRunner()
TODAY = dt.date.today()
START = TODAY - dt.timedelta(days=7)  # in force today: the guard judges "in force" on the real date


@pytest.fixture
def plan(tmp_path, monkeypatch, kube_api, pulumi_cli):
    monkeypatch.setenv("CAPACITY_STATE_DIR", str(tmp_path / "state"))
    monkeypatch.setenv("PULUMI_CONFIG_PASSPHRASE", "amendment-tests")
    monkeypatch.setenv("CAPACITY_KUBECONFIG_TRAIN", str(kube_api.kubeconfig))
    (tmp_path / "inventory.csv").write_text("serial,rack,model\n" + "".join(
        f"N-{n:02d},r1,hgx-h100\n" for n in range(1, 5)))
    return tmp_path


def write(folder: Path, amendments: str) -> str:
    path = folder / "plan.yaml"
    path.write_text(PLAN.replace("AMENDMENTS", amendments).replace("START", START.isoformat()))
    return str(path)


def up(plan: str, day: str, *extra: str):
    return runner.invoke(app, ["up", plan, "--yes", "--on", day, *extra])


def quota(kube_api) -> str:
    return kube_api.get("resourcequota", "gpus", "-n", "lease-acme")["spec"]["hard"]["requests.nvidia.com/gpu"]


def test_the_quota_changes_on_the_amendment_day(plan, kube_api):
    grown = write(plan, "[{from: 2027-03-01, gpus: 24}]")
    try:
        for day, gpus in (("2027-02-28", "8"), ("2027-03-01", "24"), ("2027-03-02", "24")):  # before, on, after
            done = up(grown, day)
            assert done.exit_code == 0, done.output
            assert quota(kube_api) == gpus, day

        # An amendment that takes GPUs back from a lease in force today is a shrink: refused, then allowed.
        yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
        shrunk = write(plan, f"[{{from: {yesterday}, gpus: 4}}, {{from: 2027-03-01, gpus: 24}}]")
        refused = up(shrunk, TODAY.isoformat())
        assert refused.exit_code == 1 and "shrink in-force lease 'acme' from 24 to 4 GPUs" in refused.output
        assert quota(kube_api) == "24"
        done = up(shrunk, TODAY.isoformat(), "--allow-destroy")
        assert done.exit_code == 0, done.output
        assert quota(kube_api) == "4"
    finally:  # the API server is shared by the session's tests: leave nothing behind
        done = runner.invoke(app, ["destroy", write(plan, "[{from: 2027-03-01, gpus: 24}]"), "--yes",
                                   "--allow-destroy"])
    assert done.exit_code == 0, done.output
    assert kube_api.get("namespace", "lease-acme") is None
