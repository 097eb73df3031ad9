"""Generate large, valid capacity plans for benchmarks.

    python benchmarks/genplan.py --sites 100 --clusters 1000 --leases 10000 > big.yaml
"""

from __future__ import annotations

import argparse
import datetime as dt
import random

# (provider, region, instance type, GPUs per node); owned sites use hgx-h100.
CLOUD_TYPES = [
    ("aws", "us-east-1", "p5.48xlarge", 8),
    ("azure", "eastus2", "Standard_ND96isr_H100_v5", 8),
    ("gcp", "us-central1", "a3-highgpu-8g", 8),
]
START = dt.date(2027, 1, 1)


def _site(index: int) -> tuple[str, list[str], tuple]:
    """A site's name, YAML lines and (provider, instance type, GPUs per node)."""
    if index % 4 == 3:
        name = f"owned-{index}"
        lines = [f"  {name}:", "    provider: owned", f"    location: Site {index}", "    power_mw: 500",
                 "    cost_per_gpu_hour: 1.10"]
        kind = ("owned", "hgx-h100", 8)
    else:
        provider, region, instance_type, gpus = CLOUD_TYPES[index % 4]
        name = f"{provider}-{index}"
        lines = [f"  {name}:", f"    provider: {provider}", f"    region: {region}"]
        if provider == "gcp":
            lines.append(f"    project: bench-project-{index}")
        kind = (provider, instance_type, gpus)
    lines.append(f"    network: {{cidr: 10.{index // 256}.{index % 256}.0/24}}" if index < 256 * 100 else "")
    return name, lines, kind


def generate(sites: int, clusters: int, leases: int, seed: int = 1, name: str = "bench") -> str:
    """A valid plan: clusters spread over sites, leases spread over clusters without oversubscription."""
    rng = random.Random(seed)
    out = ["apiVersion: capacity/v1", "kind: CapacityPlan", "metadata:", f"  name: {name}", "sites:"]
    site_kinds = []
    for index in range(sites):
        site_name, lines, kind = _site(index)
        out += lines
        site_kinds.append((site_name, kind))
    out.append("clusters:")
    cluster_gpus = []
    for index in range(clusters):
        site_name, (_, instance_type, gpus) = site_kinds[index % sites]
        nodes = rng.randint(10, 64)  # at least one node per lease
        out += [f"  cluster-{index}:", f"    site: {site_name}", f"    instance_type: {instance_type}",
                f"    nodes: {nodes}"]
        cluster_gpus.append((nodes * gpus, gpus))
    out.append("leases:" if leases else "leases: {}")
    per_cluster = -(-leases // max(clusters, 1))
    for index in range(leases):
        cluster = index % clusters
        total, gpus_per_node = cluster_gpus[cluster]
        share = max(gpus_per_node, (total // per_cluster) // gpus_per_node * gpus_per_node)
        start = START + dt.timedelta(days=rng.randint(0, 300))
        out += [f"  lease-{index}:", f"    tenant: tenant-{index % 97}", f"    cluster: cluster-{cluster}",
                f"    gpus: {min(share, total)}", f"    start: {start}",
                f"    end: {start + dt.timedelta(days=rng.randint(30, 365))}",
                f"    price_per_gpu_hour: {rng.uniform(1.5, 4.0):.2f}", "    isolation: dedicated-nodes"]
    return "\n".join(line for line in out if line) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--leases", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    print(generate(args.sites, args.clusters, args.leases, args.seed), end="")


if __name__ == "__main__":
    main()
