"""Allocation rules: fill racks, fewest racks, power budget, grow/shrink keep nodes, bad nodes never used."""

from __future__ import annotations

from collections import Counter

import pytest

from capacity.inventory import InventoryError

BIG = 1e9  # kW: no power limit


def racks_of(inv, key: str) -> Counter:
    return Counter(n.rack for n in inv.nodes() if n.allocation == key and n.state == "allocated")


def test_a_request_that_fits_one_rack_takes_the_smallest_rack_that_holds_it(site):
    inv = site({"r1": 8, "r2": 5, "r3": 3})
    held = inv.allocate("s/a", "s", "a", "hgx-h100", 4, BIG)
    assert held.racks == ["r2"] and len(held.serials) == 4 and held.gpus == 32
    assert held.kw == pytest.approx(4 * 10.2)


def test_a_large_request_spans_the_fewest_racks(site):
    inv = site({"r1": 4, "r2": 8, "r3": 6, "r4": 2})
    held = inv.allocate("s/a", "s", "a", "hgx-h100", 13, BIG)
    # 8 + 6 would do it in two racks; any other choice needs three.
    assert racks_of(inv, "s/a") == {"r2": 8, "r3": 5}
    assert held.racks == ["r2", "r3"]


def test_growing_keeps_the_nodes_and_fills_the_racks_already_used(site):
    inv = site({"r1": 4, "r2": 4, "r3": 8})
    first = inv.allocate("s/a", "s", "a", "hgx-h100", 2, BIG)
    assert first.racks == ["r1"]
    grown = inv.allocate("s/a", "s", "a", "hgx-h100", 5, BIG)
    assert set(first.serials) <= set(grown.serials)
    assert racks_of(inv, "s/a") == {"r1": 4, "r2": 1}  # r1 filled first, then the smallest rack that holds the rest


def test_shrinking_keeps_nodes_and_empties_the_smallest_racks_first(site):
    inv = site({"r1": 8, "r2": 8})
    inv.allocate("s/a", "s", "a", "hgx-h100", 10, BIG)
    assert racks_of(inv, "s/a") == {"r1": 8, "r2": 2}
    before = set(inv.allocation("s/a").serials)
    shrunk = inv.allocate("s/a", "s", "a", "hgx-h100", 7, BIG)
    assert set(shrunk.serials) < before
    assert racks_of(inv, "s/a") == {"r1": 7}
    assert sum(n.state == "free" for n in inv.nodes()) == 9


def test_two_clusters_never_share_a_node_and_models_are_respected(site):
    inv = site({"r1": 4, "r2": 4})
    site({"g1": 4}, model="hgx-h200")
    a = inv.allocate("s/a", "s", "a", "hgx-h100", 5, BIG)
    b = inv.allocate("s/b", "s", "b", "hgx-h100", 3, BIG)
    c = inv.allocate("s/c", "s", "c", "hgx-h200", 2, BIG)
    assert not set(a.serials) & set(b.serials)
    assert len(set(a.serials + b.serials)) == 8
    assert c.racks == ["g1"] and all(s.startswith("H200-g1") for s in c.serials)


def test_not_enough_nodes_is_refused_and_changes_nothing(site):
    inv = site({"r1": 4})
    inv.allocate("s/a", "s", "a", "hgx-h100", 2, BIG)
    with pytest.raises(InventoryError) as caught:
        inv.allocate("s/b", "s", "b", "hgx-h100", 3, BIG)
    message = str(caught.value)
    assert "site lab-1 has 2 free hgx-h100 nodes; s/b needs 3 more" in message and "To fix" in message
    assert racks_of(inv, "s/b") == {}
    assert sum(n.state == "free" for n in inv.nodes()) == 2


def test_failed_and_maintenance_nodes_are_never_allocated(site):
    inv = site({"r1": 4})
    inv.mark("H100-r1-01", "failed")
    inv.mark("H100-r1-02", "maintenance")
    held = inv.allocate("s/a", "s", "a", "hgx-h100", 2, BIG)
    assert held.serials == ["H100-r1-03", "H100-r1-04"]
    with pytest.raises(InventoryError, match="1 failed, 1 maintenance"):
        inv.allocate("s/a", "s", "a", "hgx-h100", 3, BIG)


def test_power_budget_covers_every_allocation_of_the_site(site):
    inv = site({"r1": 8})
    budget = 5 * 10.2  # room for five nodes
    inv.allocate("s/a", "s", "a", "hgx-h100", 3, budget)
    inv.allocate("s/b", "s", "b", "hgx-h100", 2, budget)
    with pytest.raises(InventoryError) as caught:
        inv.allocate("s/c", "s", "c", "hgx-h100", 1, budget)
    assert "over its power budget of 51 kW" in str(caught.value) and "power_mw" in str(caught.value)
    assert racks_of(inv, "s/c") == {}
    inv.allocate("s/a", "s", "a", "hgx-h100", 2, budget)  # shrinking frees power ...
    inv.allocate("s/c", "s", "c", "hgx-h100", 1, budget)  # ... that another cluster can use


def test_release_returns_nodes_to_the_free_pool(site):
    inv = site({"r1": 4, "r2": 4})
    inv.allocate("s/a", "s", "a", "hgx-h100", 6, BIG)
    inv.carve("s/l", "s/a", "l", "acme", "dedicated-nodes", 16, 2)
    inv.release("s/a")
    assert {(n.state, n.allocation, n.pool) for n in inv.nodes()} == {("free", None, None)}
    assert inv.allocation("s/a").serials == []


def test_allocate_again_is_idempotent(site):
    """A create retried after a killed run adopts what the first attempt took."""
    inv = site({"r1": 4, "r2": 4})
    first = inv.allocate("s/a", "s", "a", "hgx-h100", 5, BIG)
    again = inv.allocate("s/a", "s", "a", "hgx-h100", 5, BIG)
    assert first == again


def test_large_plan_allocates_whole_racks(site):
    inv = site({f"r{i:02d}": 8 for i in range(1, 41)})
    held = inv.allocate("s/train", "s", "train", "hgx-h100", 288, BIG)
    assert len(held.racks) == 36  # 288 / 8: whole racks only
    other = inv.allocate("s/dev", "s", "dev", "hgx-h100", 12, BIG)
    assert len(other.racks) == 2 and not set(other.racks) & set(held.racks)
