"""Benchmark: `capacity up` of 100 leases on one Kubernetes cluster through the real Pulumi
Kubernetes provider, and a no-change `capacity preview`, against a bare program, in one run.

- capacity: the CLI as a user runs it (a new process) on an owned plan whose cluster is a local
  API server (tests/integration/tenancy/apiserver.py on 127.0.0.1): the owned nodes, and per lease a
  namespace, RoleBinding, ResourceQuota, NetworkPolicy and Kueue objects (about 800 resources);
- bare (baseline): a new process running a minimal Automation API program that registers the
  same Kubernetes objects (same kinds and specs, other names) with one provider, on the same
  server, the same Pulumi CLI and plugin. No plan, no checks, no owned nodes, no components.

    python benchmarks/bench_tenancy.py [--leases 100]

Needs the binaries of capacity/engine/kubernetes_bins.py (built once per user) and kubectl.
Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import platform
import sys
import tempfile
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(Path(__file__).parent)]

from capacity.engine.kubernetes_bins import ensure_kubernetes_bins  # noqa: E402
from capacity.engine.pulumi_cli import engine_env, ensure_pulumi  # noqa: E402
from tests.integration.tenancy.apiserver import LocalApiServer  # noqa: E402
from bench_engine import _run as timed  # noqa: E402


def make_plan(folder: Path, leases: int) -> Path:
    """One owned cluster with `leases` leases in force: half dedicated (a node each), half shared (4 GPUs)."""
    nodes = leases  # room for the dedicated nodes and a shared pool
    (folder / "inventory.csv").write_text("serial,rack,model\n" + "".join(
        f"N{i:04d},r{i // 10:03d},hgx-h100\n" for i in range(nodes)))
    today = dt.date.today()
    lines = ["apiVersion: capacity/v1", "kind: CapacityPlan", "metadata: {name: bench-tenancy}", "sites:",
             f"  dc: {{provider: owned, location: Bench, power_mw: {nodes * 11 // 1000 + 1}, cost_per_gpu_hour: 1.0,"
             " network: {cidr: 10.60.0.0/16}, inventory: inventory.csv}",
             "clusters:", f"  train: {{site: dc, instance_type: hgx-h100, nodes: {nodes}}}", "tenants:"]
    lines += [f"  t{n:03d}: {{groups: [\"oidc:t{n:03d}\"]}}" for n in range(leases)]
    lines.append("leases:")
    for n in range(leases):
        kind, gpus = ("dedicated-nodes", 8) if n % 2 == 0 else ("shared-quota", 4)
        lines.append(f"  l{n:03d}: {{tenant: t{n:03d}, cluster: train, gpus: {gpus}, start: {today - dt.timedelta(days=1)},"
                     f" end: {today + dt.timedelta(days=365)}, price_per_gpu_hour: 2.0, isolation: {kind}}}")
    path = folder / "plan.yaml"
    path.write_text("\n".join(lines) + "\n")
    return path


BARE = textwrap.dedent('''
    import sys
    from pathlib import Path
    import pulumi, pulumi_kubernetes as k8s
    from pulumi import automation as auto

    verb, root, kubeconfig, leases = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
    API = "kueue.x-k8s.io/v1beta2"

    def program():
        p = k8s.Provider("k8s", kubeconfig=pulumi.Output.secret(Path(kubeconfig).read_text()))
        o = pulumi.ResourceOptions(provider=p)
        k8s.apiextensions.CustomResource("shared", api_version=API, kind="ResourceFlavor",
            metadata={"name": "bare-shared"}, spec={"nodeLabels": {"pool": "shared"}}, opts=o)
        for n in range(leases):
            name = f"bare-l{n:03d}"
            ns = k8s.core.v1.Namespace(name, metadata={"name": name, "labels": {"bare": "1"}}, opts=o)
            w = pulumi.ResourceOptions(provider=p, depends_on=[ns])
            meta = {"namespace": ns.metadata.name}
            k8s.rbac.v1.RoleBinding(f"{name}-rb", metadata={**meta, "name": "admins"},
                role_ref={"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "admin"},
                subjects=[{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": name}], opts=w)
            k8s.core.v1.ResourceQuota(f"{name}-q", metadata={**meta, "name": "gpus"},
                spec={"hard": {"requests.nvidia.com/gpu": "8", "limits.nvidia.com/gpu": "8"}}, opts=w)
            k8s.networking.v1.NetworkPolicy(f"{name}-np", metadata={**meta, "name": "isolation"},
                spec={"podSelector": {}, "policyTypes": ["Ingress"]}, opts=w)
            flavor = "bare-shared"
            if n % 2 == 0:
                flavor = name
                k8s.apiextensions.CustomResource(f"{name}-rf", api_version=API, kind="ResourceFlavor",
                    metadata={"name": name}, spec={"nodeLabels": {"lease": name}}, opts=o)
            k8s.apiextensions.CustomResource(f"{name}-cq", api_version=API, kind="ClusterQueue",
                metadata={"name": name}, spec={"resourceGroups": [{"coveredResources": ["nvidia.com/gpu"],
                "flavors": [{"name": flavor, "resources": [{"name": "nvidia.com/gpu", "nominalQuota": 8}]}]}]}, opts=o)
            k8s.apiextensions.CustomResource(f"{name}-lq", api_version=API, kind="LocalQueue",
                metadata={**meta, "name": name}, spec={"clusterQueue": name}, opts=w)

    work = Path(".bare-ws"); work.mkdir(exist_ok=True); Path(".bare-state").mkdir(exist_ok=True)
    stack = auto.create_or_select_stack("bench", project_name="bare", program=program, opts=auto.LocalWorkspaceOptions(
        work_dir=str(work), pulumi_command=auto.PulumiCommand(root=root, skip_version_check=True),
        project_settings=auto.ProjectSettings(name="bare", runtime="python",
                                              backend=auto.ProjectBackend(url=Path(".bare-state").absolute().as_uri()))))
    {"up": stack.up, "preview": stack.preview, "destroy": stack.destroy}[verb]()
''')


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--leases", type=int, default=100)
    args = parser.parse_args()
    bins = ensure_kubernetes_bins()
    cli = ensure_pulumi()
    with tempfile.TemporaryDirectory(prefix="bench-tenancy-") as tmp:
        work = Path(tmp)
        server = LocalApiServer(bins, work / "api").start()
        try:
            plan = make_plan(work, args.leases)
            env = {**os.environ, **engine_env(cli), "CAPACITY_STATE_DIR": str(work / "state"),
                   "PULUMI_CONFIG_PASSPHRASE": "bench", "CAPACITY_KUBECONFIG_TRAIN": str(server.kubeconfig)}
            capacity = [sys.executable, "-m", "capacity.cli.main"] if not (Path(sys.executable).parent / "capacity").exists() \
                else [str(Path(sys.executable).parent / "capacity")]
            bare = [sys.executable, "-c", BARE]
            rows = []
            for label, up, preview, destroy in (
                ("bare: the same Kubernetes objects, one provider (baseline)",
                 [*bare, "up", str(cli.root), str(server.kubeconfig), str(args.leases)],
                 [*bare, "preview", str(cli.root), str(server.kubeconfig), str(args.leases)],
                 [*bare, "destroy", str(cli.root), str(server.kubeconfig), str(args.leases)]),
                ("`capacity up` / `capacity preview` (CLI, new process)",
                 [*capacity, "up", str(plan), "--yes"], [*capacity, "preview", str(plan)],
                 [*capacity, "destroy", str(plan), "--yes", "--allow-destroy"]),  # its leases are in force
            ):
                rows.append((label, timed(up, work, env), timed(preview, work, env)))
                timed(destroy, work, env)
        finally:
            server.stop()
    base_up, base_preview = rows[0][1], rows[0][2]
    print(f"{dt.date.today()}, {platform.machine()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; "
          f"{args.leases} leases on one cluster.\n")
    print("| program | up (s) | vs bare | no-change preview (s) | vs bare |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for label, up, preview in rows:
        print(f"| {label} | {up:.1f} | {up / base_up:.2f}x | {preview:.1f} | {preview / base_preview:.2f}x |")


if __name__ == "__main__":
    main()
