"""The dynamic providers called directly, as the Pulumi engine calls them: create, diff, update,
read, delete."""

from __future__ import annotations

import base64

import dill
import pytest
from pulumi.dynamic.dynamic import serialize_provider

from capacity.inventory import InventoryError, open_site, shown_location
from capacity.components.owned.providers import LeasePoolProvider, NodeAllocationProvider


@pytest.fixture
def lab(site):
    site({"r1": 4, "r2": 4, "r3": 4})
    return shown_location("lab-1")


def alloc_props(db: str, count: int = 8, model: str = "hgx-h100") -> dict:
    return {"db": db, "site": "lab-1", "allocation": "qs/train", "stack": "qs", "cluster": "train",
            "model": model, "count": count, "budget_kw": 1500.0, "__provider": "opaque"}


def pool_props(db: str, count: int = 2, isolation: str = "dedicated-nodes", gpus: int = 16) -> dict:
    return {"db": db, "site": "lab-1", "pool": "qs/acme", "allocation": "qs/train", "lease": "acme",
            "tenant": "acme-corp", "isolation": isolation, "gpus_leased": gpus, "count": count, "__provider": "x"}


def states() -> dict[str, tuple]:
    with open_site("lab-1") as inv:
        return {n.serial: (n.state, n.allocation, n.pool) for n in inv.nodes()}


def test_allocation_lifecycle(lab):
    provider = NodeAllocationProvider()
    created = provider.create(alloc_props(lab))
    outs = created.outs
    assert created.id == "qs/train"
    assert len(outs["serials"]) == 8 and outs["gpus"] == 64 and outs["kw"] == pytest.approx(81.6)
    assert outs["racks"] == ["r1", "r2"] and outs["unhealthy"] == {} and outs["count"] == 8
    assert "__provider" not in outs  # the engine adds it back itself

    same = provider.diff("qs/train", {**outs, "__provider": "x"}, alloc_props(lab))
    assert same.changes is False

    grow = provider.diff("qs/train", outs, alloc_props(lab, count=10))
    assert grow.changes is True and grow.replaces == []
    grown = provider.update("qs/train", outs, alloc_props(lab, count=10)).outs
    assert set(outs["serials"]) < set(grown["serials"]) and len(grown["serials"]) == 10

    replace = provider.diff("qs/train", grown, alloc_props(lab, count=10, model="dgx-h100"))
    assert replace.changes is True and replace.replaces == ["model"] and replace.delete_before_replace is True

    provider.delete("qs/train", grown)
    assert {s[0] for s in states().values()} == {"free"}


def test_budget_change_alone_is_no_change(lab):
    provider = NodeAllocationProvider()
    outs = provider.create(alloc_props(lab)).outs
    assert provider.diff("qs/train", outs, {**alloc_props(lab), "budget_kw": 3000.0}).changes is False


def test_read_reports_drift_and_update_repairs_it(lab):
    provider = NodeAllocationProvider()
    outs = provider.create(alloc_props(lab)).outs
    victim = outs["serials"][3]
    with open_site("lab-1") as inv:
        inv.mark(victim, "failed")

    read = provider.read("qs/train", {**outs, "__provider": "x"})
    assert read.id == "qs/train"
    assert victim not in read.outs["serials"] and read.outs["unhealthy"] == {victim: "failed"}
    assert read.outs["gpus"] == 56

    drift = provider.diff("qs/train", read.outs, alloc_props(lab))
    assert drift.changes is True and drift.replaces == []
    fixed = provider.update("qs/train", read.outs, alloc_props(lab)).outs
    assert len(fixed["serials"]) == 8 and victim not in fixed["serials"] and fixed["unhealthy"] == {}
    assert states()[victim] == ("failed", None, None)
    assert provider.diff("qs/train", provider.read("qs/train", fixed).outs, alloc_props(lab)).changes is False


def test_a_node_freed_out_of_band_is_drift_too(lab):
    provider = NodeAllocationProvider()
    outs = provider.create(alloc_props(lab)).outs
    with open_site("lab-1") as inv:
        inv.mark(outs["serials"][0], "maintenance")
        inv.mark(outs["serials"][0], "free")
    read = provider.read("qs/train", outs).outs
    assert len(read["serials"]) == 7 and read["unhealthy"] == {}
    assert provider.diff("qs/train", read, alloc_props(lab)).changes is True


def test_create_failure_is_a_clear_error_and_takes_nothing(lab):
    with pytest.raises(InventoryError, match="has 12 free hgx-h100 nodes; qs/train needs 13 more"):
        NodeAllocationProvider().create(alloc_props(lab, count=13))
    assert {s[0] for s in states().values()} == {"free"}


def test_missing_inventory(tmp_path):
    props = alloc_props(str(tmp_path / "gone.db"))
    with pytest.raises(InventoryError, match="site lab-1 has no inventory"):
        NodeAllocationProvider().create(props)
    read = NodeAllocationProvider().read("qs/train", {**props, "serials": ["A"], "unhealthy": {}})
    assert read.outs["serials"] == []  # gone: the next up's diff sees it and says why it cannot fix it
    NodeAllocationProvider().delete("qs/train", props)  # nothing to give back: destroy goes on
    assert not (tmp_path / "gone.db").exists()


def test_dedicated_pool_lifecycle(lab, monkeypatch):
    alloc = NodeAllocationProvider().create(alloc_props(lab)).outs
    provider = LeasePoolProvider()
    created = provider.create(pool_props(lab))
    outs = created.outs
    assert created.id == "qs/acme"
    assert len(outs["serials"]) == 2 and set(outs["serials"]) <= set(alloc["serials"])
    assert outs["gpus"] == 16 and outs["shared_serials"] == [] and len(outs["racks"]) == 1
    assert provider.diff("qs/acme", outs, pool_props(lab)).changes is False

    bigger = provider.diff("qs/acme", outs, pool_props(lab, count=3, gpus=24))
    assert bigger.changes is True and bigger.replaces == []
    outs = provider.update("qs/acme", outs, pool_props(lab, count=3, gpus=24)).outs
    assert len(outs["serials"]) == 3

    moved = provider.diff("qs/acme", outs, {**pool_props(lab, count=3, gpus=24), "allocation": "qs/other"})
    assert moved.replaces == ["allocation"]

    victim = outs["serials"][0]
    with open_site("lab-1") as inv:
        inv.mark(victim, "maintenance")
    read = provider.read("qs/acme", outs).outs
    assert read["unhealthy"] == {victim: "maintenance"} and len(read["serials"]) == 2
    assert provider.diff("qs/acme", read, pool_props(lab, count=3, gpus=24)).changes is True

    monkeypatch.delenv("CAPACITY_LEASE_GUARD", raising=False)
    monkeypatch.delenv("CAPACITY_ALLOW_DESTROY", raising=False)
    with pytest.raises(InventoryError, match="refusing to release the capacity of lease 'acme'"):
        provider.delete("qs/acme", outs)  # no dates recorded: in force; no guard judged this run
    ended = {**outs, "start": "2020-01-01", "end": "2020-02-01"}
    assert any(pool for _, _, pool in states().values())
    monkeypatch.setenv("CAPACITY_LEASE_GUARD", "checked")  # as `capacity up` and `destroy` run it
    provider.delete("qs/acme", outs)
    assert not any(pool for _, _, pool in states().values())
    monkeypatch.delenv("CAPACITY_LEASE_GUARD")
    provider.delete("qs/acme", ended)  # an ended lease goes whoever deletes it


def test_shared_quota_pool(lab):
    NodeAllocationProvider().create(alloc_props(lab))
    outs = LeasePoolProvider().create(pool_props(lab, count=0, isolation="shared-quota", gpus=12)).outs
    assert outs["serials"] == [] and len(outs["shared_serials"]) == 8 and outs["gpus"] == 12
    assert not any(pool for _, _, pool in states().values())


def test_providers_pickle_small_and_without_paths_or_state(lab):
    """What Pulumi stores in the state for every resource: the provider class by reference."""
    for provider in (NodeAllocationProvider(), LeasePoolProvider()):
        blob = serialize_provider(provider)
        raw = base64.b64decode(blob)
        assert len(raw) < 1000
        assert lab.encode() not in raw and b"lab-1" not in raw
        assert type(dill.loads(raw)) is type(provider)
