"""capacity/engine/deployment.py: the one reader of a stack's state."""

from __future__ import annotations

from capacity.engine import deployment as state

STACK = "urn:pulumi:s::capacity::pulumi:pulumi:Stack::capacity-s"
POOL = "urn:pulumi:s::capacity::capacity:owned:Cluster$capacity:owned:LeasePool::acme"
QUOTA = "urn:pulumi:s::capacity::capacity:owned:Cluster$capacity:owned:LeasePool$kubernetes:core/v1:ResourceQuota::q"
SECRET = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", "ciphertext": "x"}

DEPLOYMENT = {
    "manifest": {"time": "2026-12-01T10:00:00Z"},
    "resources": [
        {"urn": STACK, "type": "pulumi:pulumi:Stack", "outputs": {"clusters": {"a": 1}, "token": SECRET}},
        {"urn": "urn:pulumi:s::capacity::pulumi:providers:aws::default", "type": "pulumi:providers:aws"},
        {"urn": POOL, "type": "capacity:owned:LeasePool", "parent": STACK},
        {"urn": QUOTA, "type": "kubernetes:core/v1:ResourceQuota", "parent": POOL},
        "not a resource",
    ],
    "pending_operations": [{"type": "creating", "resource": {"urn": POOL}}, 7],
}


def test_managed_resources_leave_out_the_plumbing_and_anything_malformed():
    assert [r["urn"] for r in state.managed_resources(DEPLOYMENT)] == [POOL, QUOTA]
    assert len(state.resources(DEPLOYMENT)) == 4
    assert state.managed_resources(None) == [] and state.resources({}) == []


def test_resources_of_a_type_by_token_or_test():
    assert [r["urn"] for r in state.of_type(DEPLOYMENT, "capacity:owned:LeasePool")] == [POOL]
    assert len(state.of_type(DEPLOYMENT, lambda token: token.startswith("pulumi:"))) == 2
    assert state.types(DEPLOYMENT) == {"pulumi:pulumi:Stack", "pulumi:providers:aws", "capacity:owned:LeasePool",
                                       "kubernetes:core/v1:ResourceQuota"}


def test_stack_outputs_leave_secrets_out():
    assert state.stack_outputs(DEPLOYMENT) == {"clusters": {"a": 1}}
    assert state.stack_outputs({"resources": []}) == {}


def test_pending_operations_and_last_update():
    assert state.pending_operations(DEPLOYMENT) == [{"type": "creating", "resource": {"urn": POOL}}]
    assert state.last_update(DEPLOYMENT) == "2026-12-01T10:00:00Z" and state.last_update(None) is None


def test_urn_parts():
    assert state.urn_name(QUOTA) == "q" and state.urn_name("") == ""
    assert state.urn_type(QUOTA) == "kubernetes:core/v1:ResourceQuota" and state.urn_type("x") == ""
    assert state.type_chain(POOL) == ["capacity:owned:Cluster", "capacity:owned:LeasePool"]


def test_ancestor_walks_up_the_parents_it_knows():
    by_urn = state.by_urn(state.resources(DEPLOYMENT))
    quota = by_urn[QUOTA]
    assert state.ancestor(by_urn, quota, lambda urn: state.urn_type(urn).endswith(":LeasePool")) == POOL
    assert state.ancestor(by_urn, quota, lambda urn: urn == STACK) == STACK
    assert state.ancestor(by_urn, quota, lambda urn: False) is None
    looped = {"a": {"urn": "a", "parent": "b"}, "b": {"urn": "b", "parent": "a"}}
    assert state.ancestor(looped, looped["a"], lambda urn: False) is None  # a damaged state ends
