"""capacity/deploy/status.py: `status` returns a StackStatus; its JSON and text come from the same data."""

from __future__ import annotations

from dataclasses import dataclass

from capacity.cli.status_text import render_text
from capacity.deploy.status import StackStatus, stack_status

STACK = "urn:pulumi:s::capacity::pulumi:pulumi:Stack::capacity-s"
POOL = "urn:pulumi:s::capacity::capacity:owned:Cluster$capacity:owned:LeasePool::acme"


@dataclass
class FakeStack:
    deployment_: dict | None
    name: str = "s"

    @property
    def backend(self):
        return type("B", (), {"shown": "file:///state"})()

    def exists(self) -> bool:
        return self.deployment_ is not None

    def deployment(self):
        return self.deployment_


DEPLOYED = {"manifest": {"time": "t"}, "resources": [
    {"urn": STACK, "type": "pulumi:pulumi:Stack", "outputs": {
        "clusters": {"train": {"site": "lab", "provider": "owned", "instance_type": "x", "nodes": 2}},
        "leases": {"acme": {"tenant": "acme", "cluster": "train", "isolation": "dedicated-nodes", "in_force": True,
                            "nodes": 2, "pool_id": "p"}}}},
    {"urn": POOL, "type": "capacity:owned:LeasePool", "parent": STACK},
    {"urn": POOL + "-alloc", "type": "pulumi-python:dynamic/owned:NodeAllocation", "parent": POOL,
     "outputs": {"serials": ["N1", "N2"]}},
]}


def test_an_undeployed_stack_has_no_details():
    status = stack_status(FakeStack(None))
    assert isinstance(status, StackStatus)
    assert status.as_json() == {"stack": "s", "backend": "file:///state", "deployed": False}
    assert "not deployed" in render_text(status.as_json())


def test_a_deployed_stack_lists_clusters_and_leases_with_their_nodes():
    data = stack_status(FakeStack(DEPLOYED)).as_json()
    assert data["deployed"] and data["resources"] == 2 and data["last_update"] == "t"
    assert data["clusters"][0]["name"] == "train" and data["clusters"][0]["nodes"] == 2
    assert data["leases"][0]["node_names"] == ["N1", "N2"]
    assert list(data)[:3] == ["stack", "backend", "deployed"]
    assert "acme: acme on train" in render_text(data) and "[N1, N2]" in render_text(data)
