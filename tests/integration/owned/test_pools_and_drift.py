"""Lease pools carved out of allocations; nodes failing out of band and being replaced."""

from __future__ import annotations

import pytest

from capacity.inventory import InventoryError

BIG = 1e9


@pytest.fixture
def cluster(site):
    """lab-1: racks r1 (4) and r2 (4) and r3 (4); cluster s/train holds 8 nodes."""
    inv = site({"r1": 4, "r2": 4, "r3": 4})
    inv.allocate("s/train", "s", "train", "hgx-h100", 8, BIG)
    return inv


def pool_nodes(inv, key):
    return sorted(n.serial for n in inv.nodes() if n.pool == key)


def test_dedicated_pools_take_whole_nodes_of_the_cluster_and_never_share(cluster):
    a = cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 24, 3)
    b = cluster.carve("s/globex", "s/train", "globex", "globex", "dedicated-nodes", 16, 2)
    train = set(cluster.allocation("s/train").serials)
    assert len(a.serials) == 3 and len(b.serials) == 2
    assert set(a.serials) <= train and set(b.serials) <= train and not set(a.serials) & set(b.serials)
    assert len(a.racks) == 1  # three nodes fit one rack
    assert {n.tenant for n in cluster.nodes() if n.pool == "s/acme"} == {"acme-corp"}


def test_a_pool_cannot_take_more_than_the_cluster_has_outside_other_pools(cluster):
    cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 48, 6)
    with pytest.raises(InventoryError, match="lease globex needs 3 whole nodes of s/train, which has 2"):
        cluster.carve("s/globex", "s/train", "globex", "globex", "dedicated-nodes", 24, 3)
    assert pool_nodes(cluster, "s/globex") == []


def test_shared_quota_is_recorded_on_the_shared_nodes(cluster):
    cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 16, 2)
    quota = cluster.carve("s/umbrella", "s/train", "umbrella", "umbrella", "shared-quota", 20, 0)
    shared = [n.serial for n in cluster.nodes() if n.allocation == "s/train" and n.pool is None]
    assert quota.gpus == 20 and sorted(quota.serials) == sorted(shared) and len(shared) == 6
    assert quota.kw == pytest.approx(20 * 10.2 / 8)
    with pytest.raises(InventoryError, match="quota of 49 GPUs on the shared nodes of s/train, which have 48"):
        cluster.carve("s/big", "s/train", "big", "big", "shared-quota", 49, 0)


def test_a_pool_without_its_allocation_is_refused(cluster):
    with pytest.raises(InventoryError, match="no allocation s/nope"):
        cluster.carve("s/x", "s/nope", "x", "t", "dedicated-nodes", 8, 1)


def test_pool_grows_and_shrinks_keeping_its_nodes(cluster):
    first = cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 16, 2)
    grown = cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 32, 4)
    assert set(first.serials) < set(grown.serials)
    shrunk = cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 8, 1)
    assert set(shrunk.serials) < set(grown.serials)
    assert len(cluster.allocation("s/train").serials) == 8  # nodes left the pool, not the cluster


def test_dropping_a_pool_returns_its_nodes_to_the_cluster(cluster):
    cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 16, 2)
    cluster.drop_pool("s/acme")
    assert pool_nodes(cluster, "s/acme") == []
    assert len(cluster.allocation("s/train").serials) == 8


def test_cluster_shrinking_while_a_lease_goes_away_frees_the_leases_nodes(cluster):
    """The engine updates the cluster before it deletes a removed lease: the cluster keeps the
    leased nodes it cannot free yet, and the lease's removal frees them."""
    cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 32, 4)
    cluster.carve("s/globex", "s/train", "globex", "globex", "dedicated-nodes", 32, 4)
    kept = set(pool_nodes(cluster, "s/globex"))
    held = cluster.allocate("s/train", "s", "train", "hgx-h100", 4, BIG)  # only leased nodes left
    assert len(held.serials) == 8
    cluster.drop_pool("s/acme")
    assert set(cluster.allocation("s/train").serials) == kept
    assert sum(n.state == "free" for n in cluster.nodes()) == 8


def test_failed_node_is_reported_then_replaced(cluster):
    pool = cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 16, 2)
    victim = pool.serials[0]
    before, after = cluster.mark(victim, "failed")
    assert (before.state, after.state, after.allocation) == ("allocated", "failed", "s/train")
    seen = cluster.allocation("s/train")
    assert victim not in seen.serials and seen.unhealthy == {victim: "failed"} and len(seen.serials) == 7
    assert cluster.pool("s/acme").unhealthy == {victim: "failed"}

    replaced = cluster.allocate("s/train", "s", "train", "hgx-h100", 8, BIG)
    assert len(replaced.serials) == 8 and victim not in replaced.serials and replaced.unhealthy == {}
    pool = cluster.carve("s/acme", "s/train", "acme", "acme-corp", "dedicated-nodes", 16, 2)
    assert len(pool.serials) == 2 and victim not in pool.serials
    node = next(n for n in cluster.nodes() if n.serial == victim)
    assert (node.state, node.allocation, node.pool) == ("failed", None, None)


def test_maintenance_then_repair(cluster):
    victim = cluster.allocation("s/train").serials[0]
    cluster.mark(victim, "maintenance")
    assert cluster.allocation("s/train").unhealthy == {victim: "maintenance"}
    cluster.mark(victim, "free")  # repaired: back to the pool, away from its old holder
    seen = cluster.allocation("s/train")
    assert seen.unhealthy == {} and len(seen.serials) == 7  # the next up tops the cluster up again
    assert len(cluster.allocate("s/train", "s", "train", "hgx-h100", 8, BIG).serials) == 8


def test_marking_a_healthy_allocated_node_free_is_refused(cluster):
    serial = cluster.allocation("s/train").serials[0]
    with pytest.raises(InventoryError, match="allocated to s/train"):
        cluster.mark(serial, "free")


def test_release_keeps_failed_nodes_failed(cluster):
    victim = cluster.allocation("s/train").serials[0]
    cluster.mark(victim, "failed")
    cluster.release("s/train")
    states = {n.serial: (n.state, n.allocation) for n in cluster.nodes()}
    assert states.pop(victim) == ("failed", None)
    assert set(states.values()) == {("free", None)}
