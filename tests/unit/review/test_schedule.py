"""Reservations bought on their date: left out of the program before their buy day (`lead_days`
before the start), declared from it, and left out again once run out: "ended as planned"."""

from __future__ import annotations

import json

import typer
from typer.testing import CliRunner

from capacity.cli.status_text import render_text
from capacity.cli.resources import resources

PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: dated}
sites:
  east: {provider: aws, region: us-east-1, network: {cidr: 10.0.0.0/16}}
clusters:
  train:
    site: east
    instance_type: p5.48xlarge
    nodes: 2
    reservation: {kind: capacity-reservation, start: 2027-03-01, end: 2027-09-01, lead_days: 10}
  burst:
    site: east
    instance_type: p5.48xlarge
    nodes: 2
    orchestrator: none
    reservation: {kind: capacity-block, start: 2027-01-04, end: 2027-01-18}
"""
ODCR = "aws:ec2/capacityReservation:CapacityReservation"
BLOCK = "aws:ec2/capacityBlockReservation:CapacityBlockReservation"


def render(tmp_path, day: str, fmt: str = "json"):
    app = typer.Typer()
    app.callback()(lambda: None)
    app.command()(resources)
    plan = tmp_path / "dated.yaml"
    plan.write_text(PLAN)
    result = CliRunner().invoke(app, ["resources", str(plan), "--on", day, "--format", fmt])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if fmt == "json" else result.stdout


def states(out: dict) -> dict[str, tuple[str, str | None]]:
    return {r["cluster"]: (r["state"], r["buy_day"]) for r in out["reservations"]}


def types(out: dict) -> set[str]:
    return {r["type"] for r in out["resources"]}


def test_before_and_after_the_lead_day(tmp_path):
    before = render(tmp_path, "2027-02-18")
    assert ODCR not in types(before)
    assert states(before)["train"] == ("scheduled", "2027-02-19")
    nodes = {r["name"]: r["inputs"] for r in before["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    assert nodes["train-gpu-shared"]["scalingConfig"]["desiredSize"] == 0  # nothing runs before it is paid for
    on = render(tmp_path, "2027-02-19")
    (odcr,) = [r for r in on["resources"] if r["type"] == ODCR]
    assert odcr["inputs"]["instanceCount"] == 2 and states(on)["train"] == ("held", "2027-02-19")
    started = render(tmp_path, "2027-03-01")
    nodes = {r["name"]: r["inputs"] for r in started["resources"] if r["type"] == "aws:eks/nodeGroup:NodeGroup"}
    assert nodes["train-gpu-shared"]["scalingConfig"]["desiredSize"] == 2
    text = render(tmp_path, "2027-02-18", "text")
    assert "reservation: capacity-reservation of cluster train: scheduled, bought on 2027-02-19 for 2027-03-01" in text


def test_capacity_block_bought_a_week_ahead_then_ended_as_planned(tmp_path):
    assert BLOCK not in types(render(tmp_path, "2026-12-27"))  # default lead: 7 days
    assert BLOCK in types(render(tmp_path, "2026-12-28"))
    after = render(tmp_path, "2027-02-01")
    assert BLOCK not in types(after) and states(after)["burst"] == ("ended", "2026-12-28")
    assert "capacity-block of cluster burst: ended as planned on 2027-01-18" in render(tmp_path, "2027-02-01", "text")


def test_status_shows_scheduled_and_ended_reservations():
    data = {"stack": "dated", "backend": "file://x", "deployed": True, "gpus": 16, "clusters": [], "leases": [],
            "resources": 3, "reservations": [
                {"cluster": "train", "kind": "capacity-reservation", "buy_day": "2027-02-19", "start": "2027-03-01",
                 "end": "2027-09-01", "state": "scheduled"},
                {"cluster": "burst", "kind": "capacity-block", "buy_day": "2026-12-28", "start": "2027-01-04",
                 "end": "2027-01-18", "state": "ended"}]}
    text = render_text(data)
    assert "reservation of train (capacity-reservation): scheduled, bought on 2027-02-19 for 2027-03-01" in text
    assert "reservation of burst (capacity-block): ended as planned on 2027-01-18" in text
    assert "drift" not in text


def test_ended_lease_and_block_are_named_as_planned_not_drift():
    import datetime as dt

    from capacity.deploy.status import dated_reservations, ended_as_planned
    from capacity.plan.loading import load_text

    text = PLAN + """leases:
  old:
    tenant: acme
    cluster: burst
    gpus: 16
    start: 2027-01-04
    end: 2027-01-18
    price_per_gpu_hour: 4.0
  later:
    tenant: acme
    cluster: train
    gpus: 8
    start: 2027-03-01
    end: 2027-06-01
    price_per_gpu_hour: 4.0
"""
    loaded = load_text(text, "dated.yaml")
    deployed = {"leases": {"old": {}, "later": {}}, "clusters": {"burst": {"reservation_id": "cr-1"}, "train": {}}}
    lines = ended_as_planned(loaded, deployed, dt.date(2027, 2, 1))
    assert lines == ["lease old: ended as planned on 2027-01-18; its pool is removed",
                     "reservation of cluster burst (capacity-block): ended as planned on 2027-01-18; it is removed"]
    assert ended_as_planned(loaded, deployed, dt.date(2027, 1, 10)) == []
    dated = dated_reservations(loaded, deployed, dt.date(2027, 2, 1))
    assert dated["lines"] == ["reservation: capacity-reservation of cluster train: scheduled, bought on 2027-02-19 "
                              "for 2027-03-01", *lines]
    assert [r["state"] for r in dated["reservations"]] == ["ended", "scheduled"]


def test_status_text_shows_hostile_state_text_escaped():
    data = {"stack": "s", "backend": "file://x", "deployed": True, "gpus": 8, "resources": 1, "leases": [],
            "clusters": [{"name": "train", "nodes": 1, "instance_type": "p5\x1b[2J\u202e", "gpus": 8, "site": "east",
                          "provider": "aws"}]}
    text = render_text(data)
    assert "p5\\x1b[2J\\u202e" in text and not {"\x1b", "\u202e"} & set(text)
