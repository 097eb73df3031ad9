"""Two runs never hand out the same node: processes and threads racing on one inventory."""

from __future__ import annotations

import multiprocessing as mp
import threading
from collections import Counter

from capacity.inventory import Inventory, InventoryError, location

BIG = 1e9


def _claim(path: str, key: str, count: int, start, results) -> None:
    """One process: wait for the others, then try to allocate."""
    with Inventory(path, "lab-1") as inv:
        start.wait()
        try:
            held = inv.allocate(key, "s", key, "hgx-h100", count, BIG)
            results.put((key, "ok", held.serials))
        except InventoryError as exc:
            results.put((key, "refused", str(exc)))


def _churn(path: str, key: str, rounds: int, start, results) -> None:
    """One process: allocate two nodes, check nobody else holds them, give them back; many times."""
    clashes = 0
    with Inventory(path, "lab-1") as inv:
        start.wait()
        for _ in range(rounds):
            held = inv.allocate(key, "s", key, "hgx-h100", 2, BIG)
            mine = [n.serial for n in inv.nodes() if n.allocation == key]
            clashes += sorted(mine) != held.serials or len(held.serials) != 2
            inv.release(key)
    results.put((key, clashes))


def _race(target, keys: list[str], arg: int) -> list:
    """One spawned process per key, released at the same moment: target(inventory, key, arg, start,
    results). Returns what they put in results; each must exit cleanly."""
    ctx = mp.get_context("spawn")
    start, results = ctx.Barrier(len(keys)), ctx.Queue()
    procs = [ctx.Process(target=target, args=(str(location("lab-1")), key, arg, start, results)) for key in keys]
    for p in procs:
        p.start()
    got = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    return got


def test_two_processes_racing_for_the_same_nodes(site):
    site({"r1": 6, "r2": 6})
    outcome = {key: (status, detail) for key, status, detail in _race(_claim, ["a", "b"], 8)}
    assert sorted(status for status, _ in outcome.values()) == ["ok", "refused"]
    winner = next(k for k, (s, _) in outcome.items() if s == "ok")
    loser = next(k for k, (s, _) in outcome.items() if s == "refused")
    assert "has 4 free hgx-h100 nodes" in outcome[loser][1]
    with Inventory(location("lab-1"), "lab-1") as inv:
        holders = Counter(n.allocation for n in inv.nodes())
    assert holders == {winner: 8, None: 4}


def test_processes_churning_never_see_a_node_twice(site):
    site({"r1": 4, "r2": 4})
    keys = [f"p{i}" for i in range(4)]
    assert dict(_race(_churn, keys, 50)) == {key: 0 for key in keys}


def test_threads_of_one_provider_host_share_out_distinct_nodes(site):
    site({"r1": 4, "r2": 4})
    got: dict[str, list[str]] = {}
    start = threading.Barrier(8)

    def claim(key: str) -> None:
        with Inventory(location("lab-1"), "lab-1") as inv:  # one connection per thread, as the providers do
            start.wait()
            got[key] = inv.allocate(key, "s", key, "hgx-h100", 1, BIG).serials

    threads = [threading.Thread(target=claim, args=(f"t{i}",)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    serials = [s for held in got.values() for s in held]
    assert len(got) == 8 and len(serials) == 8 and len(set(serials)) == 8


def test_eight_processes_at_once_get_whole_disjoint_allocations(site):
    """8 processes ask for 3 nodes each of a 20-node site at the same moment: 6 get 3 nodes each,
    2 are refused and hold nothing; no node is given twice."""
    site({"r1": 8, "r2": 8, "r3": 4})
    outcome = {key: (status, detail) for key, status, detail in _race(_claim, [f"s{i}/c" for i in range(8)], 3)}
    winners = sorted(k for k, (status, _) in outcome.items() if status == "ok")
    assert len(winners) == 6
    given = [serial for k in winners for serial in outcome[k][1]]
    assert len(given) == 18 and len(set(given)) == 18
    with Inventory(location("lab-1"), "lab-1") as inv:
        holders = Counter(n.allocation for n in inv.nodes())
    assert holders == {**{k: 3 for k in winners}, None: 2}
