"""Benchmark: `capacity up` of 100 leases on one Slurm cluster, against a bare program running the
same Slurm commands, in one run, on the same local Slurm (tests/integration/slurm/slurmcluster.py:
munged, MariaDB, slurmdbd, slurmctld and 12 slurmd on 127.0.0.1).

- bare (baseline): a new process that makes the same Slurm objects with the same sacctmgr and
  scontrol commands (components/slurm/objects.py), one after the other: the parent account, a QOS
  per lease, an account per tenant allowed its leases' QOS, a reservation per dedicated lease.
  No plan, no engine, no state. Its objects are removed (untimed) before capacity's run.
- capacity: the CLI as a user runs it (a new process), `capacity up` on an owned plan whose cluster
  is that Slurm: the owned nodes and lease pools, and the same Slurm objects as dynamic resources.

    python benchmarks/bench_slurm.py [--leases 100] [--tenants 25]

Needs Debian's slurm-wlm, slurmdbd, mariadb-server and munge, run as root. Prints a markdown table
for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from capacity.engine.pulumi_cli import engine_env, ensure_pulumi  # noqa: E402
from tests.integration.slurm.slurmcluster import LocalSlurm  # noqa: E402

DEDICATED_EVERY = 10  # one lease in ten takes a whole node (a reservation); the rest 1 GPU of the shared nodes


def leases(count: int, tenants: int) -> list[tuple[str, str, bool]]:
    """(lease, tenant, dedicated) for every lease."""
    return [(f"l{n:03d}", f"t{n % tenants:03d}", n % DEDICATED_EVERY == 0) for n in range(count)]


def make_plan(folder: Path, count: int, tenants: int) -> Path:
    held = leases(count, tenants)
    dedicated = sum(1 for _, _, d in held if d)
    nodes = dedicated + -(-(count - dedicated) // 8)
    (folder / "inventory.csv").write_text("serial,rack,model\n" + "".join(
        f"N{i:04d},r{i // 10:03d},hgx-h100\n" for i in range(nodes)))
    today = dt.date.today()
    lines = ["apiVersion: capacity/v1", "kind: CapacityPlan", "metadata: {name: bench-slurm}", "sites:",
             f"  dc: {{provider: owned, location: Bench, power_mw: {nodes * 11 // 1000 + 1}, cost_per_gpu_hour: 1.0,"
             " network: {cidr: 10.60.0.0/16}, inventory: inventory.csv}",
             "clusters:", f"  train: {{site: dc, instance_type: hgx-h100, nodes: {nodes}, orchestrator: slurm,"
             " slurm: {cluster: lab, partition: gpu}}", "leases:"]
    for lease, tenant, ded in held:
        kind, gpus = ("dedicated-nodes", 8) if ded else ("shared-quota", 1)
        lines.append(f"  {lease}: {{tenant: {tenant}, cluster: train, gpus: {gpus}, start: {today - dt.timedelta(days=1)},"
                     f" end: {today + dt.timedelta(days=365)}, price_per_gpu_hour: 2.0, isolation: {kind}}}")
    path = folder / "plan.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


BARE = textwrap.dedent('''
    import datetime as dt, sys
    from capacity.components.slurm.commands import Slurm
    from capacity.components.slurm import objects
    sys.path.insert(0, sys.argv[4])
    from bench_slurm import leases

    verb, slurm, count, tenants = sys.argv[1], Slurm(sys.argv[2]), int(sys.argv[3]), int(sys.argv[5])
    held, today = leases(count, tenants), dt.date.today()
    by_tenant = {}
    for lease, tenant, _ in held:
        by_tenant.setdefault(tenant, []).append(f"lease-{lease}")
    if verb == "up":
        objects.apply_account(slurm, "lab", "bench-slurm", "root", [], None)
        for lease, tenant, ded in held:
            objects.apply_qos(slurm, f"lease-{lease}", 8 if ded else 1)
        for tenant, qos in sorted(by_tenant.items()):
            objects.apply_account(slurm, "lab", tenant, "bench-slurm", [], sorted(qos))
        for lease, tenant, ded in held:
            if ded:
                objects.apply_reservation(slurm, f"lease-{lease}", tenant, "gpu", 1,
                                          (today - dt.timedelta(days=1)).isoformat(),
                                          (today + dt.timedelta(days=365)).isoformat())
    else:
        for lease, _, ded in held:
            if ded:
                objects.delete_reservation(slurm, f"lease-{lease}")
        for tenant in sorted(by_tenant):
            objects.delete_account(slurm, "lab", tenant)
        for lease, _, _ in held:
            objects.delete_qos(slurm, f"lease-{lease}")
        objects.delete_account(slurm, "lab", "bench-slurm")
''')


def timed(argv: list[str], cwd: Path, env: dict) -> float:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=3600)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv[:4])} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leases", type=int, default=100)
    parser.add_argument("--tenants", type=int, default=25)
    args = parser.parse_args()
    cli = ensure_pulumi()
    dedicated = sum(1 for _, _, d in leases(args.leases, args.tenants) if d)
    with tempfile.TemporaryDirectory(prefix="bench-slurm-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)
        slurm = LocalSlurm(work / "slurm", nodes=dedicated + 2).start()
        try:
            plan = make_plan(work, args.leases, args.tenants)
            env = {**os.environ, **engine_env(cli), "CAPACITY_STATE_DIR": str(work / "state"),
                   "PULUMI_CONFIG_PASSPHRASE": "bench", "CAPACITY_SLURM_TRAIN": str(slurm.conf),
                   "SLURM_CONF": str(slurm.conf)}
            capacity = [str(Path(sys.executable).parent / "capacity")]
            bare = [sys.executable, "-c", BARE]
            where = [str(slurm.conf), str(args.leases), str(Path(__file__).parent), str(args.tenants)]
            bare_up = timed([*bare, "up", *where], work, env)
            timed([*bare, "down", *where], work, env)
            capacity_up = timed([*capacity, "up", str(plan), "--yes"], work, env)
            capacity_again = timed([*capacity, "up", str(plan), "--yes"], work, env)
            timed([*capacity, "destroy", str(plan), "--yes", "--allow-destroy"], work, env)
        finally:
            slurm.stop()
    objects = 1 + args.tenants + args.leases + dedicated
    print(f"{dt.date.today()}, {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{args.leases} leases of {args.tenants} tenants on one Slurm cluster ({dedicated} dedicated): "
          f"{objects} Slurm objects.\n")
    print("| program | up (s) | vs bare |")
    print("| --- | ---: | ---: |")
    for label, seconds in (("bare: the same sacctmgr/scontrol commands, one after the other (baseline)", bare_up),
                           ("`capacity up` (CLI, new process)", capacity_up),
                           ("`capacity up` again, nothing to change", capacity_again)):
        print(f"| {label} | {seconds:.1f} | {seconds / bare_up:.2f}x |")


if __name__ == "__main__":
    main()
