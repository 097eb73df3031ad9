"""Benchmark: `capacity up` and a no-change `capacity preview` against a bare Pulumi program.

For owned plans of 100 and 1,000 nodes with 10 and 100 leases, in one run:
- capacity: the CLI as a user runs it (a new process: start-up, plan load, checks, inventory
  import, engine, lease guard and progress included);
- bare: a new process running a minimal Automation API program that registers the same dynamic
  resources (the owned NodeAllocation and LeasePool, same inputs), with the same Pulumi CLI, the
  same kind of file backend and its own fresh inventory. No components, checks or progress;
- components, no CLI: capacity's own program (components + dynamic resources, wrapped as the CLI
  runs it: `capacity.engine.stack.lean`) run by the same bare script, which separates the cost of
  the components from that of the CLI (start-up, checks, stack handling, progress).

The ratio capacity/bare is our overhead; the target is at most 1.2. Usage:

    python benchmarks/bench_engine.py                 # both sizes, a markdown table on stdout
    python benchmarks/bench_engine.py --sizes 100:10  # one size
    python benchmarks/bench_engine.py --repeat 3      # best of 3 for each figure

Needs the Pulumi CLI (`capacity engine setup`); no cloud account and no network.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GPUS_PER_NODE, KW_PER_NODE, MODEL = 8, 10.2, "hgx-h100"
NODES_PER_CLUSTER = 100
NODES_PER_RACK = 10


def make_owned_plan(folder: Path, nodes: int, leases: int, name: str = "bench") -> Path:
    """An owned plan of `nodes` nodes (clusters of 100) with `leases` dedicated-nodes leases in force,
    and its inventory (racks of 10). Returns the plan's path."""
    folder.mkdir(parents=True, exist_ok=True)
    clusters = max(1, nodes // NODES_PER_CLUSTER)
    per_cluster = nodes // clusters
    per_lease = max(1, (per_cluster // 2) // max(1, leases // clusters))
    rows = ["serial,rack,model,gpus,kw"]
    for i in range(nodes):
        rows.append(f"N{i:05d},r{i // NODES_PER_RACK:03d},{MODEL},{GPUS_PER_NODE},{KW_PER_NODE}")
    (folder / f"{name}-inventory.csv").write_text("\n".join(rows) + "\n")
    today = dt.date.today()
    lines = [
        "apiVersion: capacity/v1", "kind: CapacityPlan", "metadata:", f"  name: {name}", "  owner: bench@example.com",
        "sites:", "  dc-1:", "    provider: owned", "    location: Benchmark, TX",
        f"    power_mw: {max(1, round(nodes * KW_PER_NODE / 1000 * 1.25 + 0.5))}", "    cost_per_gpu_hour: 1.0",
        "    network: {cidr: 10.60.0.0/16}", f"    inventory: {name}-inventory.csv", "clusters:",
    ]
    for c in range(clusters):
        lines += [f"  c{c:02d}:", "    site: dc-1", f"    instance_type: {MODEL}", f"    nodes: {per_cluster}",
                  "    orchestrator: none"]
    lines.append("leases:" if leases else "leases: {}")
    for lease in range(leases):
        lines += [f"  l{lease:03d}:", f"    tenant: tenant-{lease:03d}", f"    cluster: c{lease % clusters:02d}",
                  f"    gpus: {per_lease * GPUS_PER_NODE}", f"    start: {today - dt.timedelta(days=10)}",
                  f"    end: {today + dt.timedelta(days=365)}", "    price_per_gpu_hour: 2.0",
                  "    isolation: dedicated-nodes"]
    path = folder / f"{name}.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


# The bare program: the same dynamic resources, registered directly, driven by the Automation API.
BARE = textwrap.dedent('''
    import sys, time
    from pathlib import Path
    import pulumi
    from pulumi import automation as auto
    from capacity.inventory import import_file, shown_location, site_nodes
    from capacity.plan.loading import load_plan
    from capacity.components.owned.providers import LeasePool, LeasePoolArgs, NodeAllocation, NodeAllocationArgs

    plan_path, verb, root, shape = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
    loaded = load_plan(plan_path)
    site_name, site = next(iter(loaded.plan.sites.items()))
    if not site_nodes(site_name):
        import_file(Path(plan_path).parent / site.inventory, site_name, loaded.catalog)

    def dynamic_resources():
        stack = pulumi.get_stack()
        allocations = {}
        for name, cluster in loaded.plan.clusters.items():
            allocations[name] = NodeAllocation(f"{name}-nodes", NodeAllocationArgs(
                db=shown_location(site_name), site=site_name, allocation=f"{stack}/{name}", stack=stack, cluster=name,
                model=loaded.types[name].instance_type, count=cluster.nodes, budget_kw=site.power_mw * 1000))
        for name, lease in loaded.plan.leases.items():
            LeasePool(f"{name}-pool", LeasePoolArgs(
                db=shown_location(site_name), site=site_name, pool=f"{stack}/{name}",
                allocation=allocations[lease.cluster].allocation, lease=name, tenant=lease.tenant,
                isolation=lease.isolation, gpus_leased=lease.gpus, count=-(-lease.gpus // 8)))

    program = dynamic_resources
    if shape == "components":  # capacity's program as its CLI runs it, without the CLI and its engine layer
        from capacity.engine.stack import lean
        from capacity.components.program import build
        program = lean(lambda: build(loaded))

    cmd = auto.PulumiCommand(root=root)
    work = Path(".bare-ws"); work.mkdir(exist_ok=True); Path(".bare-state").mkdir(exist_ok=True)
    stack = auto.create_or_select_stack("bench", project_name="bare", program=program, opts=auto.LocalWorkspaceOptions(
        work_dir=str(work), pulumi_command=cmd,
        project_settings=auto.ProjectSettings(name="bare", runtime="python",
                                              backend=auto.ProjectBackend(url=Path(".bare-state").absolute().as_uri()))))
    if verb == "up":
        stack.up()
    else:
        stack.preview()
''')


def _run(args: list[str], cwd: Path, env: dict[str, str]) -> float:
    started = time.perf_counter()
    proc = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return seconds


def _capacity_cmd() -> list[str]:
    """`capacity` as installed, else the entry point run by this Python."""
    runner = textwrap.dedent("""
        import sys
        from capacity.cli.main import app
        names = {c.name or c.callback.__name__ for c in app.registered_commands}
        if "up" not in names:  # until the engine commands are wired into cli/main.py
            import typer
            from capacity.cli import deploy, engine
            app = typer.Typer(); app.add_typer(engine.app)
            for fn in deploy.COMMANDS:
                app.command()(fn)
        app()
    """)
    return [sys.executable, "-c", runner]


def bench(nodes: int, leases: int, repeat: int, cli_root: str, inventory=lambda: {}) -> dict:
    """`inventory()`: environment for a new, empty inventory (each of the three programs gets its own)."""
    figures: dict[str, list[float]] = {k: [] for k in ("capacity_up", "capacity_preview", "bare_up", "bare_preview",
                                                       "components_up", "components_preview")}
    for _ in range(repeat):
        with tempfile.TemporaryDirectory(prefix="capacity-bench-") as tmp:
            tmp_path = Path(tmp)
            plan = make_owned_plan(tmp_path / "plans", nodes, leases)
            env = dict(os.environ, PULUMI_CONFIG_PASSPHRASE="bench", PULUMI_SKIP_UPDATE_CHECK="true")
            env.pop("PULUMI_BACKEND_URL", None)
            env.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
            ours = tmp_path / "ours"
            ours.mkdir()
            env_ours = dict(env, CAPACITY_STATE_DIR=str(ours / ".capacity"), **inventory())
            figures["capacity_up"].append(_run([*_capacity_cmd(), "up", str(plan), "--yes"], ours, env_ours))
            figures["capacity_preview"].append(_run([*_capacity_cmd(), "preview", str(plan)], ours, env_ours))
            bare = tmp_path / "bare"
            bare.mkdir()
            from capacity.engine.pulumi_cli import engine_env, ensure_pulumi

            env_bare = dict(env, **engine_env(ensure_pulumi()), CAPACITY_STATE_DIR=str(bare / ".capacity"))
            for shape, key in (("dynamic", "bare"), ("components", "components")):
                where = bare / shape
                where.mkdir()
                env_shape = dict(env_bare, CAPACITY_STATE_DIR=str(where / ".capacity"), **inventory())
                figures[f"{key}_up"].append(_run([sys.executable, "-c", BARE, str(plan), "up", cli_root, shape], where,
                                                 env_shape))
                figures[f"{key}_preview"].append(_run([sys.executable, "-c", BARE, str(plan), "preview", cli_root,
                                                       shape], where, env_shape))
    best = {k: min(v) for k, v in figures.items()}
    best["up_ratio"] = best["capacity_up"] / best["bare_up"]
    best["preview_ratio"] = best["capacity_preview"] / best["bare_preview"]
    return {"nodes": nodes, "leases": leases, **best}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100:10,1000:100", help="NODES:LEASES, comma-separated")
    parser.add_argument("--repeat", type=int, default=1, help="runs per figure; the best is kept")
    parser.add_argument("--json", action="store_true", help="JSON instead of a markdown table")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from capacity.engine.pulumi_cli import ensure_pulumi

    cli = ensure_pulumi()
    rows = []
    for size in args.sizes.split(","):
        nodes, leases = (int(x) for x in size.split(":"))
        rows.append(bench(nodes, leases, args.repeat, str(cli.root)))
        print(f"done {nodes} nodes / {leases} leases", file=sys.stderr)
    if args.json:
        print(json.dumps(rows, indent=2))
        return
    print(f"Pulumi CLI v{cli.version}, Python {platform.python_version()}, {os.cpu_count()} CPUs, "
          f"{platform.system()} {platform.machine()}; best of {args.repeat}; seconds per command, new process each.\n")
    print("| nodes | leases | command | capacity | bare | ratio | components, no CLI | ratio to it |")
    print("|------:|-------:|:--------|---------:|-----:|------:|------------------:|------------:|")
    for r in rows:
        for verb in ("up", "preview"):
            ours, bare, comp = r[f"capacity_{verb}"], r[f"bare_{verb}"], r[f"components_{verb}"]
            print(f"| {r['nodes']} | {r['leases']} | {verb} | {ours:.2f} | {bare:.2f} | {ours / bare:.2f} | "
                  f"{comp:.2f} | {ours / comp:.2f} |")
    print("\nbare: the same dynamic resources registered directly with the Automation API. components, no "
          "CLI: capacity's own Pulumi program (components.program.build, as the CLI runs it) run by a bare "
          "Automation API script.")


if __name__ == "__main__":
    main()
