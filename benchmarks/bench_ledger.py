"""Benchmark: the owned-site inventory on SQLite and on PostgreSQL.

    python benchmarks/bench_ledger.py engine [--sizes 5000:500] [--engines sqlite,postgresql]
        `capacity up` from nothing and a no-change `capacity preview` of an owned plan, against the
        bare program of benchmarks/bench_engine.py (the same dynamic resources registered directly),
        on each inventory engine. Each program gets a new, empty inventory.
    python benchmarks/bench_ledger.py alloc [--clients 8] [--seconds 10]
        Allocations per second with N processes at once on one site: each allocates 2 nodes and
        releases them, over and over (two write transactions per round).

PostgreSQL is a throwaway server started for the run (tests/pgserver.py: Debian's `postgresql`,
127.0.0.1 only, `fsync=off` like the tests; say so next to the figures) and stopped at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import multiprocessing as mp
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


@contextlib.contextmanager
def postgres():
    """A throwaway server; yields new_database() -> a URL of a new empty database."""
    from tests.pgserver import PgServer, find_bin

    bindir = find_bin()
    if bindir is None:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    root = Path(tempfile.mkdtemp(prefix="capacity-bench-pg-"))
    server = PgServer(bindir, root)
    server.start()
    try:
        yield lambda: server.create_database("bench")
    finally:
        server.stop()
        import shutil

        shutil.rmtree(root, ignore_errors=True)


def engine_bench(args) -> None:
    from bench_engine import bench

    from capacity.engine.pulumi_cli import ensure_pulumi

    cli = ensure_pulumi()
    rows = []
    with postgres() as new_database:
        fresh = {"sqlite": lambda: {"CAPACITY_INVENTORY_URL": ""},
                 "postgresql": lambda: {"CAPACITY_INVENTORY_URL": new_database()}}
        for engine in args.engines.split(","):
            for size in args.sizes.split(","):
                nodes, leases = (int(x) for x in size.split(":"))
                rows.append({"engine": engine, **bench(nodes, leases, args.repeat, str(cli.root), fresh[engine])})
                print(f"done {engine} {nodes}/{leases}: {rows[-1]}", file=sys.stderr, flush=True)
    print(f"{time.strftime('%Y-%m-%d')}, Pulumi CLI v{cli.version}, Python {platform.python_version()}, "
          f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}; best of {args.repeat}; seconds.\n")
    print("| engine | nodes | leases | command | capacity | bare | ratio | components, no CLI |")
    print("|:-------|------:|-------:|:--------|---------:|-----:|------:|------------------:|")
    for r in rows:
        for verb in ("up", "preview"):
            ours, bare = r[f"capacity_{verb}"], r[f"bare_{verb}"]
            print(f"| {r['engine']} | {r['nodes']} | {r['leases']} | {verb} | {ours:.1f} | {bare:.1f} | "
                  f"{ours / bare:.2f} | {r[f'components_{verb}']:.1f} |")


def _churn(location: str, key: str, start, stop_at: float, results) -> None:
    from capacity.inventory import Inventory

    rounds = 0
    with Inventory(location, "bench") as inv:
        start.wait()
        while time.monotonic() < stop_at:
            inv.allocate(key, "bench", key, "hgx-h100", 2, 1e9)
            inv.release(key)
            rounds += 1
    results.put(rounds)


def alloc_bench(args) -> None:
    from capacity.inventory import Inventory
    from capacity.plan.inventory_file import NodeRow

    rows = [NodeRow(f"N{i:05d}", f"r{i // 10:03d}", "hgx-h100", 8, 10.2, "free", i + 2) for i in range(args.nodes)]
    print(f"{time.strftime('%Y-%m-%d')}, Python {platform.python_version()}, {os.cpu_count()} CPUs; "
          f"{args.clients} processes, {args.seconds}s, a site of {args.nodes} nodes; each round allocates 2 nodes "
          "and releases them (2 write transactions).\n")
    print("| engine | clients | rounds | allocations/s (allocate + release) |")
    print("|:-------|--------:|-------:|-----------------------------------:|")
    with postgres() as new_database, tempfile.TemporaryDirectory() as tmp:
        for engine in args.engines.split(","):
            location = new_database() if engine == "postgresql" else str(Path(tmp) / "bench.db")
            with Inventory(location, "bench", create=True) as inv:
                inv.add(rows)
            ctx = mp.get_context("spawn")
            start, results = ctx.Barrier(args.clients + 1), ctx.Queue()
            stop_at = time.monotonic() + 5 + args.seconds  # the processes' start-up is not counted
            procs = [ctx.Process(target=_churn, args=(location, f"c{i}", start, stop_at, results))
                     for i in range(args.clients)]
            for p in procs:
                p.start()
            start.wait()
            began = time.monotonic()
            total = sum(results.get(timeout=args.seconds + 120) for _ in procs)
            elapsed = max(stop_at - began, 1e-9)
            for p in procs:
                p.join()
            print(f"| {engine} | {args.clients} | {total} | {total / elapsed:,.0f} |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="what", required=True)
    eng = sub.add_parser("engine")
    eng.add_argument("--sizes", default="5000:500")
    eng.add_argument("--engines", default="sqlite,postgresql")
    eng.add_argument("--repeat", type=int, default=1)
    alloc = sub.add_parser("alloc")
    alloc.add_argument("--clients", type=int, default=8)
    alloc.add_argument("--seconds", type=float, default=10)
    alloc.add_argument("--nodes", type=int, default=200)
    alloc.add_argument("--engines", default="sqlite,postgresql")
    args = parser.parse_args()
    sys.path.insert(0, str(Path(__file__).parent))
    (engine_bench if args.what == "engine" else alloc_bench)(args)


if __name__ == "__main__":
    main()
