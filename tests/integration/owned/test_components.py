"""The owned components as the program declares them, rendered under Pulumi's mocks: no engine,
and no side effects (rendering never creates or imports an inventory)."""

from __future__ import annotations

import datetime as dt

from capacity.inventory import shown_location
from capacity.plan.loading import load_plan
from capacity.components.render import render

from .conftest import ROOT


def by_name(plan: str, on: dt.date) -> dict[str, dict]:
    return {r["name"]: r for r in render(load_plan(ROOT / "stacks" / plan), on=on).resources}


def test_quickstart_components(state_dir):
    found = by_name("quickstart.yaml", dt.date(2026, 12, 15))
    assert {name: r["type"] for name, r in found.items()} == {
        "lab-1": "capacity:owned:SiteNetwork",
        "train": "capacity:owned:GpuCluster",
        "train-nodes": "pulumi-python:dynamic/owned:NodeAllocation",
        "acme-pilot": "capacity:owned:LeasePool",
        "acme-pilot-pool": "pulumi-python:dynamic/owned:LeasePool",
        "globex-shared": "capacity:owned:LeasePool",
        "globex-shared-pool": "pulumi-python:dynamic/owned:LeasePool",
    }
    nodes = found["train-nodes"]
    assert nodes["parent"] == "capacity:owned:GpuCluster::train"
    assert nodes["inputs"] == {"db": shown_location("lab-1"), "site": "lab-1",
                               "allocation": "quickstart/train", "stack": "quickstart", "cluster": "train",
                               "model": "hgx-h100", "count": 8, "budget_kw": 1500}
    acme = found["acme-pilot-pool"]["inputs"]
    assert (acme["isolation"], acme["count"], acme["gpus_leased"], acme["allocation"], acme["tenant"]) == \
        ("dedicated-nodes", 2, 16, "quickstart/train", "acme-corp")
    globex = found["globex-shared-pool"]["inputs"]
    assert (globex["isolation"], globex["count"], globex["gpus_leased"]) == ("shared-quota", 0, 12)
    assert not state_dir.exists()  # nothing imported, nothing created


def test_leases_not_in_force_hold_no_nodes():
    found = by_name("quickstart.yaml", dt.date(2026, 10, 1))
    assert found["acme-pilot-pool"]["inputs"]["count"] == 0


def test_large_owned_plan_components(state_dir):
    found = by_name("owned-large.yaml", dt.date(2026, 12, 15))
    allocations = {r["inputs"]["cluster"]: r["inputs"] for r in found.values()
                   if r["type"].endswith(":NodeAllocation")}
    assert {c: (i["site"], i["model"], i["count"]) for c, i in allocations.items()} == {
        "east-train": ("dc-east", "hgx-h100", 288), "east-infer": ("dc-east", "hgx-h200", 56),
        "west-train": ("dc-west", "dgx-b200", 160), "west-dev": ("dc-west", "dgx-b200", 16)}
    assert allocations["east-train"]["budget_kw"] == 6000
    pools = [r for r in found.values() if r["type"].endswith("dynamic/owned:LeasePool")]
    assert len(pools) == 12
    assert not state_dir.exists()
