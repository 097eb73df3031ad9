"""A larger owned plan (100 nodes in racks of 10, 10 leases) through `capacity` and the real engine,
and the `capacity engine` commands."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

from capacity.inventory import open_site

ROOT = Path(__file__).resolve().parents[3]


def _bench():
    spec = importlib.util.spec_from_file_location("bench_engine", ROOT / "benchmarks" / "bench_engine.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_larger_owned_plan_up_status_preview_destroy(capacity, tmp_path):
    """stacks/owned-large.yaml: two sites, four clusters, twelve leases."""
    import shutil

    from capacity.plan.loading import load_plan

    folder = tmp_path / "plans"
    (folder / "inventory").mkdir(parents=True)
    for name in ("owned-large.yaml", "inventory/owned-large-east.csv", "inventory/owned-large-west.yaml"):
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
    capacity("destroy", plan, "--yes", "--allow-destroy")  # its leases are in force
    for site in ("dc-east", "dc-west"):
        with open_site(site) as inv:
            assert [n.serial for n in inv.nodes() if n.allocation or n.pool] == []


def test_generated_owned_plan_of_the_benchmark(capacity, state, tmp_path):
    plan = _bench().make_owned_plan(tmp_path / "plans", nodes=100, leases=10)
    capacity("up", plan, "--yes")
    status = json.loads(capacity("status", plan, "--format", "json").stdout)
    assert status["gpus"] == 800 and len(status["leases"]) == 10
    assert sum(len(lease["node_names"]) for lease in status["leases"]) == 50
    capacity("preview", plan, "--detailed-exitcode")

    # What the state holds, kept small because the file backend rewrites it after every step.
    checkpoint = json.loads((state / "pulumi" / ".pulumi" / "stacks" / "capacity" / "bench.json").read_text())
    resources = checkpoint["checkpoint"]["latest"]["resources"]
    assert not [r["urn"] for r in resources if r.get("stackTrace")]
    owned = [r for r in resources if "owned" in r["type"]]
    assert len(owned) == 1 + 2 * 1 + 2 * 10  # the site, a cluster and its nodes, ten leases and their pools
    assert all(r["sourcePosition"].split("#")[0].endswith(("owned/components.py", "owned/providers.py"))
               for r in owned)
    components = [r for r in owned if not r["custom"]]
    assert not [r["urn"] for r in components if {"serials", "racks"} & set(r["outputs"])]  # once, on the nodes
    holder = {r["parent"]: r for r in owned if r["custom"]}
    for r in components:  # registered at once, yet the ids of the resources under them
        if r["type"].endswith(("GpuCluster", "LeasePool")):
            assert r["outputs"].get("pool_id", r["outputs"].get("cluster_id")) == holder[r["urn"]]["id"]


def test_engine_setup_and_info(capacity):
    result = capacity("engine", "setup")
    assert "Engine check passed" in result.output
    info = json.loads(capacity("engine", "info", "--format", "json").stdout)
    from capacity.engine.pulumi_cli import PULUMI_CLI_VERSION, _as_tuple

    assert info["cli"]["version"] == PULUMI_CLI_VERSION
    assert _as_tuple(info["cli"]["version"]) >= _as_tuple(info["sdk_version"])  # a CLI never older
