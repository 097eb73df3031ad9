"""The quickstart plan through `capacity` and the real engine: up, status, no-change preview,
scale and add a lease, a failed node, a lease that would lose its nodes, destroy."""

from __future__ import annotations

import datetime as dt
import json

from capacity.inventory import open_site


def _lines(output: str) -> list[dict]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def _status(capacity, plan) -> dict:
    return json.loads(capacity("status", plan, "--format", "json").stdout)


def test_quickstart_cycle(capacity, quickstart, state):
    up = capacity("up", quickstart, "--yes")
    assert "imported 12 nodes" in up.output and "created" in up.output

    status = _status(capacity, quickstart)
    assert status["deployed"] and status["gpus"] == 64 and status["by_provider"] == {"owned": 64}
    leases = {lease["name"]: lease for lease in status["leases"]}
    assert leases["acme-pilot"]["in_force"] and len(leases["acme-pilot"]["node_names"]) == 2
    assert not leases["globex-shared"]["in_force"]
    assert "64 GPUs" in capacity("status", quickstart).stdout

    capacity("preview", quickstart, "--detailed-exitcode")  # no changes: exit 0

    # Scale the cluster and add a lease: only those change.
    today = dt.date.today()

    def grow(data):
        data["clusters"]["train"]["nodes"] = 9
        data["leases"]["initech-q1"] = {"tenant": "initech", "cluster": "train", "gpus": 8,
                                        "start": today - dt.timedelta(days=1), "end": today + dt.timedelta(days=60),
                                        "price_per_gpu_hour": 2.5, "isolation": "dedicated-nodes"}

    _edit(quickstart, grow)
    preview = capacity("preview", quickstart, "--detailed-exitcode", "--format", "json", expect=2)
    planned = {(s["op"], s["name"]) for s in json.loads(preview.stdout)["steps"]}
    assert ("update", "train-nodes") in planned and ("create", "initech-q1-pool") in planned
    assert not {name for _op, name in planned} - {"train-nodes", "initech-q1", "initech-q1-pool"}, planned
    up = capacity("up", quickstart, "--yes", "--format", "json")
    done = {(e["op"], e["name"]) for e in _lines(up.stdout) if e.get("event") == "resource-done"}
    assert done == planned
    assert _status(capacity, quickstart)["gpus"] == 72

    # A node of a lease fails out of band: refresh reports it, up replaces it.
    victim = _status(capacity, quickstart)["leases"][0]["node_names"][0]
    with open_site("lab-1") as inv:
        inv.mark(victim, "failed")
    refresh = capacity("refresh", quickstart)
    assert "drift" in refresh.output and victim in refresh.output
    capacity("up", quickstart, "--yes")
    acme = next(lease for lease in _status(capacity, quickstart)["leases"] if lease["name"] == "acme-pilot")
    assert victim not in acme["node_names"] and len(acme["node_names"]) == 2
    capacity("preview", quickstart, "--detailed-exitcode")

    # Moving a running lease to another cluster takes its nodes away: refused without --allow-destroy.
    def move(data):
        data["clusters"]["train-b"] = {"site": "lab-1", "instance_type": "hgx-h100", "nodes": 2, "orchestrator": "none"}
        data["leases"]["acme-pilot"]["cluster"] = "train-b"

    _edit(quickstart, move)
    before = _status(capacity, quickstart)
    refused = capacity("up", quickstart, "--yes", expect=1)
    assert "active lease" in refused.output and "acme-pilot" in refused.output and "--allow-destroy" in refused.output
    assert _status(capacity, quickstart)["leases"] == before["leases"]  # nothing changed
    capacity("up", quickstart, "--yes", "--allow-destroy")
    moved = next(lease for lease in _status(capacity, quickstart)["leases"] if lease["name"] == "acme-pilot")
    assert moved["cluster"] == "train-b"

    capacity("destroy", quickstart, "--yes", "--allow-destroy")
    with open_site("lab-1") as inv:
        held = [n.serial for n in inv.nodes() if n.allocation or n.pool]
    assert held == []
    assert not _status(capacity, quickstart)["deployed"]


def _edit(path, change):
    import yaml

    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_up_and_destroy_refuse_without_yes_when_no_one_can_confirm(capacity, quickstart):
    for verb in ("up", "destroy"):
        result = capacity(verb, quickstart, expect=1)
        assert "--yes" in result.output


def test_invalid_plan_is_exit_1_without_engine(capacity, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("apiVersion: capacity/v1\nkind: CapacityPlan\nmetadata: {name: x}\nsitez: {}\n")
    result = capacity("up", bad, "--yes", expect=1)
    assert "sitez" in result.output


def test_stacks_lists_the_deployed_stack(capacity, quickstart):
    assert "No stacks" in capacity("stacks").output
    capacity("up", quickstart, "--yes")
    listed = json.loads(capacity("stacks", "--format", "json").stdout)
    assert [s["name"] for s in listed["stacks"]] == ["quickstart"]
    capacity("destroy", "--stack", "quickstart", "--yes", "--allow-destroy")
