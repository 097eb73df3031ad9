"""`capacity inventory list` of a 1,000,000-node SQLite site: time and peak memory of the streamed
listing (to a pipe, and JSON) against the previous way, which read every node into memory first
(`_site_data`, still used for a terminal's table). Each in a process of its own; peak RSS from
`resource.getrusage`. Usage: python benchmarks/bench_inventory_list.py [NODES]"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = """
import io, resource, sys, time
from capacity.cli import inventory as cli
mode = sys.argv[1]
out = open("/dev/null", "w")
start = time.perf_counter()
if mode == "materialized":
    data = cli._site_data("big")
    out.write(str(len(data["racks"])))
else:
    sys.stdout = out
    cli._stream_sites(["big"], cli.Format.json if mode == "json" else cli.Format.text)
    sys.stdout = sys.__stdout__
print(f"{time.perf_counter() - start:.2f} {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f}")
"""


def make_site(state: Path, nodes: int) -> None:
    from capacity.inventory import Inventory

    (state / "inventory").mkdir(parents=True)
    path = state / "inventory" / "big.db"
    Inventory(path, "big", create=True).close()
    db = sqlite3.connect(path)
    rows = ((f"N{i:07d}", f"r{i // 40:05d}", "hgx-h100", 8, 10.2, "free", "2026-01-01") for i in range(nodes))
    db.executemany("INSERT INTO nodes (serial, rack, model, gpus, kw, state, changed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                   rows)
    db.commit()
    db.close()


def main() -> None:
    nodes = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as tmp:
        state = Path(tmp) / "state"
        make_site(state, nodes)
        env = {**os.environ, "CAPACITY_STATE_DIR": str(state)}
        env.pop("CAPACITY_INVENTORY_URL", None)
        print(f"{nodes:,} nodes; load average {os.getloadavg()[0]:.1f}; {time.strftime('%Y-%m-%d')}")
        for mode in ("materialized", "text", "json"):
            done = subprocess.run([sys.executable, "-c", CHILD, mode], env=env, capture_output=True, text=True,
                                  check=True)
            seconds, rss = done.stdout.split()
            print(f"| {mode} | {seconds} | {rss} |")


if __name__ == "__main__":
    main()
