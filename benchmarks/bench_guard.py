"""Benchmark: what the lease guard costs a `capacity up`, in one run.

An owned plan (from bench_engine.make_owned_plan) is deployed once; then `capacity up --yes` is
timed on it again (the engine finds nothing to change: the run every CI push makes) and after
a lease has changed tenant (one update), each a new process, in three ways:
- guard in the update: `capacity up` as it is (the guard reads the state inside the update);
- no guard: the same command with the guard's check made a no-op (the floor);
- preview first: the same command with a preview run before the update, as the guard before this
  one did for every `up --yes` of a stack with leases.

    python benchmarks/bench_guard.py                  # 100:10 and 1000:100, best of 3
    python benchmarks/bench_guard.py --sizes 100:10 --repeat 1
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.bench_engine import make_owned_plan  # noqa: E402

RUNNER = textwrap.dedent("""
    import sys
    from capacity.deploy.guard import LeaseGuard
    from capacity.deploy.workflow import Workflow
    from capacity.cli import deploy
    import typer

    way = sys.argv.pop(1)
    if way == "none":
        LeaseGuard.check = lambda self, loaded, **kw: None
    elif way == "preview":
        original = Workflow.up

        def preview_then_up(self, refresh=False):
            from capacity.cli.progress import Progress
            self.preview(progress=Progress(mode="plain", verb="preview", show_steps=False))
            return original(self, refresh=refresh)

        Workflow.up = preview_then_up
    from capacity.cli.output import Handled

    app = typer.Typer(cls=Handled)
    for fn in deploy.COMMANDS:
        app.command()(fn)
    app()
""")
WAYS = {"in-update": "guard in the update", "none": "no guard", "preview": "preview first (the guard before)"}


def _up(way: str, plan: Path, cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RUNNER, way, "up", str(plan), "--yes"], cwd=cwd, env=env,
                          capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed ({way}): {proc.stderr[-3000:]}")
    return seconds


def _retenant_one_lease(plan: Path, step: int) -> None:
    """A new tenant on the first lease: one update of its pool."""
    plan.write_text(re.sub(r"tenant: \S+", f"tenant: tenant-moved-{step}", plan.read_text(), count=1))


def bench(nodes: int, leases: int, repeat: int) -> dict[str, dict[str, float]]:
    figures: dict[str, dict[str, list[float]]] = {w: {"no change": [], "one update": []} for w in WAYS}
    with tempfile.TemporaryDirectory(prefix="capacity-guard-bench-") as tmp:
        work = Path(tmp)
        plan = make_owned_plan(work / "plans", nodes, leases)
        env = dict(os.environ, PULUMI_CONFIG_PASSPHRASE="bench", PULUMI_SKIP_UPDATE_CHECK="true",
                   CAPACITY_STATE_DIR=str(work / ".capacity"))
        env.pop("PULUMI_BACKEND_URL", None)
        env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
        _up("in-update", plan, work, env)
        check = _check_alone(plan, work / ".capacity")
        step = 0
        for _ in range(repeat):
            for way in WAYS:  # interleaved, so that the machine's noise falls on every way alike
                figures[way]["no change"].append(_up(way, plan, work, env))
                step += 1
                _retenant_one_lease(plan, step)
                figures[way]["one update"].append(_up(way, plan, work, env))
    found = {way: {case: min(times) for case, times in cases.items()} for way, cases in figures.items()}
    return {**found, "check alone": check}


def _check_alone(plan: Path, state_dir: Path) -> float:
    """The guard's own work in process (read the state, compare), best of 20: the part of its cost
    that the noise of whole commands hides."""
    from benchmarks.timing import best
    from capacity.engine.filestate import read_checkpoint
    from capacity.deploy.guard import LeaseGuard
    from capacity.plan.loading import load_plan

    loaded = load_plan(plan)
    checkpoint = state_dir / "pulumi" / ".pulumi" / "stacks" / "capacity" / f"{loaded.name}.json"
    guard = LeaseGuard(read_state=lambda: read_checkpoint(checkpoint, loaded.name))
    seconds = best(lambda: guard.check(loaded, dry_run=True), 20)
    assert guard.found == [], guard.found
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100:10,1000:100", help="NODES:LEASES, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs per figure; the best is kept")
    args = parser.parse_args()
    print(f"Python {platform.python_version()}, {os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
          f"load average {os.getloadavg()[0]:.1f}; best of {args.repeat}; seconds per `capacity up --yes`.\n")
    print("| nodes | leases | case | " + " | ".join(WAYS.values()) + " | guard's cost |")
    print("|---:|---:|:---|" + "---:|" * (len(WAYS) + 1))
    checks = []
    for size in args.sizes.split(","):
        nodes, leases = (int(x) for x in size.split(":"))
        found = bench(nodes, leases, args.repeat)
        for case in ("no change", "one update"):
            cells = " | ".join(f"{found[way][case]:.2f}" for way in WAYS)
            cost = found["in-update"][case] - found["none"][case]
            print(f"| {nodes} | {leases} | {case} | {cells} | {cost:+.2f} s |")
        checks.append(f"{nodes} nodes, {leases} leases: {found['check alone'] * 1000:.1f} ms")
        print(f"done {nodes} nodes / {leases} leases", file=sys.stderr)
    print("\nThe guard's check alone (read the state file, compare with the plan; in process, best of 20): "
          + "; ".join(checks) + ".")


if __name__ == "__main__":
    main()
