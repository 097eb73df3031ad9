"""Every benchmark runs as committed: each benchmarks/bench_*.py at its smallest size, so that none
breaks unseen. The figures are not checked (they mean nothing at these sizes); that the script
runs to its end and prints its table is. Each test asks for the fixtures of what its script needs,
which mark it (tests/conftest.py) and skip it where that is missing (fail, in CI)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
BENCHMARKS = ROOT / "benchmarks"
TINY_PLAN = ["--sites", "4", "--clusters", "4", "--leases", "8"]
TINY_OWNED = ["--sizes", "10:2"]

# The smallest run of each script, by what it needs besides Python.
NOTHING = {
    "bench_validate.py": [*TINY_PLAN, "--repeat", "1"],
    "bench_diff.py": [*TINY_PLAN, "--repeat", "1"],
    "bench_fit.py": [*TINY_PLAN, "--repeat", "1"],
    "bench_render.py": TINY_PLAN,
    "bench_startup.py": ["--base", "HEAD", "--repeat", "1"],
    "bench_install.py": ["--smoke"],  # pip, from its cache or the package index
    "bench_inventory_list.py": ["1000"],
}
ENGINE = {
    "bench_engine.py": TINY_OWNED,
    "bench_guard.py": [*TINY_OWNED, "--repeat", "1"],
}
POSTGRES = {  # and the engine
    "bench_ledger.py engine": ["engine", *TINY_OWNED, "--engines", "postgresql"],
    "bench_ledger.py alloc": ["alloc", "--clients", "2", "--seconds", "1", "--nodes", "10"],
}
APISERVER = {  # and the engine; it starts its own API server
    "bench_tenancy.py": ["--leases", "2"],
}
SLURM = {  # and the engine; it starts its own Slurm
    "bench_slurm.py": ["--leases", "2", "--tenants", "1"],
}
HELPERS = {"genplan.py", "timing.py"}  # imported by the benchmarks, no figures of their own


def run(name: str, args: list[str]) -> str:
    script = BENCHMARKS / name.split()[0]
    done = subprocess.run([sys.executable, str(script), *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=1200)
    assert done.returncode == 0, f"{name} {' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    assert "\n| " in done.stdout, done.stdout  # the table for docs/benchmarks.md
    return done.stdout


def test_every_benchmark_has_a_smoke_run():
    scripts = {p.name for p in BENCHMARKS.glob("*.py")} - HELPERS
    covered = {name.split()[0] for table in (NOTHING, ENGINE, POSTGRES, APISERVER, SLURM) for name in table}
    assert scripts == covered


@pytest.mark.parametrize("name", NOTHING)
def test_benchmark(name):
    run(name, NOTHING[name])


@pytest.mark.parametrize("name", ENGINE)
def test_engine_benchmark(name, pulumi_cli):
    run(name, ENGINE[name])


@pytest.mark.parametrize("name", POSTGRES)
def test_inventory_benchmark(name, pulumi_cli, postgres_server):
    run(name, POSTGRES[name])


@pytest.mark.parametrize("name", APISERVER)
def test_tenancy_benchmark(name, pulumi_cli, kubernetes_bins, kubectl):  # it starts its own API server
    run(name, APISERVER[name])


@pytest.mark.parametrize("name", SLURM)
def test_slurm_benchmark(name, pulumi_cli, slurm_installed):
    run(name, SLURM[name])


def test_genplan_writes_a_valid_plan(tmp_path):
    plan = tmp_path / "plan.yaml"
    plan.write_text(subprocess.run([sys.executable, str(BENCHMARKS / "genplan.py"), *TINY_PLAN], cwd=ROOT,
                                   capture_output=True, text=True, check=True).stdout)
    from capacity.plan.loading import load_plan

    assert len(load_plan(plan).plan.leases) == 8
