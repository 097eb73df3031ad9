"""A larger owned plan (100 nodes in racks of 10, 10 leases) through `capacity` and the real engine,
and the `capacity engine` commands."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from capacity.inventory import open_site

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_engine", ROOT / "benchmarks" / "bench_engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_larger_owned_plan_up_status_preview_destroy(capacity, tmp_path):
    """stacks/owned-large.yaml: two sites, four clusters, twelve leases."""
    import shutil

    from capacity.plan import load_plan

    folder = tmp_path / "plans"
    folder.mkdir()
    for name in ("owned-large.yaml", "owned-large-east.csv", "owned-large-west.yaml"):
        shutil.copy(ROOT / "stacks" / name, folder / name)
    plan = folder / "owned-large.yaml"
    loaded = load_plan(plan)
    capacity("up", plan, "--yes")
    status = json.loads(capacity("status", plan, "--format", "json").stdout)
    assert status["gpus"] == loaded.total_gpus
    assert set(status["by_site"]) == {"dc-east", "dc-west"}
    assert {lease["name"] for lease in status["leases"]} == set(loaded.active_leases())
    held = [n for lease in status["leases"] for n in lease.get("node_names", [])]
    assert len(held) == len(set(held))  # no node handed out twice
    capacity("preview", plan, "--detailed-exitcode")
    capacity("destroy", plan, "--yes")
    for site in ("dc-east", "dc-west"):
        with open_site(site) as inv:
            assert [n.serial for n in inv.nodes() if n.allocation or n.pool] == []


def test_generated_owned_plan_of_the_benchmark(capacity, tmp_path):
    plan = _bench().make_owned_plan(tmp_path / "plans", nodes=100, leases=10)
    capacity("up", plan, "--yes")
    status = json.loads(capacity("status", plan, "--format", "json").stdout)
    assert status["gpus"] == 800 and len(status["leases"]) == 10
    capacity("preview", plan, "--detailed-exitcode")


def test_engine_setup_and_info(capacity):
    result = capacity("engine", "setup")
    assert "Engine check passed" in result.output
    info = json.loads(capacity("engine", "info", "--format", "json").stdout)
    assert info["cli"]["version"] == info["sdk_version"]
