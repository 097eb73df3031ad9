"""Time `capacity available` and `capacity fit` against `capacity validate` on the same plan, in one run.

    python benchmarks/bench_fit.py [--sites 100 --clusters 1000 --leases 10000 --repeat 5]

Prints a markdown table for docs/benchmarks.md. Each figure is the best of --repeat rounds, each
round running every case once in turn (so a burst of load on a shared machine slows them all).
Target (issue 18): both within 1.5x validate.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from genplan import generate  # noqa: E402
from timing import best_of_rounds, children_cpu  # noqa: E402

FIT = ["--gpus", "256", "--accelerator", "H100", "--start", "2027-03-01", "--end", "2027-06-01", "--price", "3.10",
       "--as-of", "2027-01-01"]


def run_cli(*args: str) -> None:
    done = subprocess.run([sys.executable, "-m", "capacity.cli.main", *args], check=False, capture_output=True)
    if done.returncode:
        raise SystemExit(f"{args[0]} failed: {done.stderr.decode()[-500:]}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--leases", type=int, default=10000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    from capacity.plan.loading import load_plan
    from capacity.review.available import available
    from capacity.review.fit import Demand, fit

    demand = Demand(256, dt.date(2027, 3, 1), dt.date(2027, 6, 1), accelerator="H100", price=3.10,
                    as_of=dt.date(2027, 1, 1))
    window = (dt.date(2027, 1, 1), dt.date(2028, 12, 31))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.yaml"
        path.write_text(generate(args.sites, args.clusters, args.leases))
        loaded = load_plan(path)
        rows = list(best_of_rounds({
            "`load_plan` in process (what validate does)": lambda: load_plan(path),
            "`available` in process (load, sweep)": lambda: available(load_plan(path), *window),
            "`fit` in process (load, sweep, rank)": lambda: fit(load_plan(path), demand),
            "sweep alone: `available` on a loaded plan": lambda: available(loaded, *window),
            "sweep alone: `fit` on a loaded plan": lambda: fit(loaded, demand),
        }, args.repeat, time.process_time).items())
        cli = list(best_of_rounds({
            "`capacity validate` whole command": lambda: run_cli("validate", str(path)),
            "`capacity available --format json`": lambda: run_cli("available", str(path), "--from", "2027-01-01",
                                                                  "-f", "json"),
            "`capacity fit --format markdown`": lambda: run_cli("fit", str(path), *FIT, "-f", "markdown"),
        }, args.repeat, children_cpu).items())
        size = path.stat().st_size

    print(f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}; {time.strftime('%Y-%m-%d')}, load average "
          f"{os.getloadavg()[0]:.1f}")
    print(f"Plan: {args.sites} sites, {args.clusters} clusters, {args.leases} leases ({size / 1e6:.1f} MB); "
          f"best of {args.repeat}\n")
    print("CPU seconds (user + system): the machine is shared, and wall time follows others' load.\n")
    print("| what | CPU seconds | vs validate |")
    print("| --- | ---: | ---: |")
    for label, seconds in rows:
        print(f"| {label} | {seconds:.3f} | {seconds / rows[0][1]:.2f}x |")
    for label, seconds in cli:
        print(f"| {label} | {seconds:.3f} | {seconds / cli[0][1]:.2f}x |")


if __name__ == "__main__":
    main()
