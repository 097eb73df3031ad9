"""Node pools: the cluster's shared pool and one per dedicated lease, described once for every
provider, and the LeasePool component that holds a lease's capacity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import pulumi

from capacity.components.base import ClusterContext, Component, LeaseContext

GPU_TAINT = ("nvidia.com/gpu", "present")
LABEL = "capacity.dev"
SHARED_POOL = "gpu-shared"


@dataclass(frozen=True)
class PoolSpec:
    name: str
    """The pool's name within its cluster: `gpu-shared` or `lease-<lease>`, never `system` (each
    provider fits it to its own limit)."""
    nodes: int
    """Nodes wanted now."""
    max_nodes: int
    """Nodes it may hold (the lease's, or the shared pool's); at least 1."""
    labels: dict[str, str]
    """Kubernetes node labels."""
    taints: tuple[tuple[str, str], ...]
    """Kubernetes taints (key, value), all NoSchedule."""
    tags: dict[str, str]
    """Cloud tags of the pool's resources."""


class PooledCluster(Protocol):
    """What a provider's GpuCluster offers the lease pools."""

    shared_pool_id: pulumi.Output[str]

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> Any:
        """Create a GPU pool as a child of `parent`; returns the pool's resource (with `.id`)."""


def shared_pool(ctx: ClusterContext) -> PoolSpec:
    """The nodes no dedicated lease holds; shared-quota leases are labels on it (gpus per lease)."""
    labels = {"nvidia.com/gpu.present": "true", f"{LABEL}/pool": "shared", f"{LABEL}/cluster": ctx.name}
    labels.update({f"quota.{LABEL}/{name}": str(lease.gpus_at(ctx.day)) for name, lease in sorted(ctx.quotas.items())})
    return PoolSpec(SHARED_POOL, ctx.shared_nodes, max(ctx.shared_nodes, 1), labels, (GPU_TAINT,), ctx.tags)


def lease_pool(ctx: LeaseContext) -> PoolSpec:
    """A dedicated lease's own nodes, labelled and tainted for its tenant only."""
    tenant = ctx.lease.tenant
    labels = {"nvidia.com/gpu.present": "true", f"{LABEL}/pool": "lease", f"{LABEL}/cluster": ctx.cluster.name,
              f"{LABEL}/lease": ctx.name, f"{LABEL}/tenant": tenant}
    return PoolSpec(f"lease-{ctx.name}", ctx.nodes, ctx.lease_nodes, labels, (GPU_TAINT, (f"{LABEL}/tenant", tenant)),
                    ctx.tags)


class InstanceCluster(Component):
    """`orchestrator: none`: the cluster is its shared pool of GPU instances, and dedicated leases get
    pools of their own. A provider's subclass names its PROVIDER and builds one pool in `pool`."""

    KIND = "GpuCluster"
    PROVIDER = ""

    cluster_id: pulumi.Output[str]
    shared_pool_id: pulumi.Output[str]

    def __init__(self, ctx: ClusterContext, network: Component, reservation: Component | None) -> None:
        super().__init__(self.PROVIDER, ctx.name, ctx.opts)
        self.ctx, self.network, self.reservation = ctx, network, reservation
        shared = self.pool(shared_pool(ctx), parent=self)
        self.cluster_id = shared.id
        self.shared_pool_id = shared.id
        self.register_outputs({"cluster_id": shared.id, "shared_pool_id": shared.id,
                               "shared_nodes": ctx.shared_nodes})

    def pool(self, spec: PoolSpec, parent: pulumi.Resource) -> Any:
        raise NotImplementedError


class LeasePool(Component):
    """A lease's capacity: its own pool (dedicated-nodes) or its quota on the shared pool (shared-quota)."""

    KIND = "LeasePool"

    pool_id: pulumi.Output[str]
    nodes: int
    gpus: int

    def __init__(self, provider: str, ctx: LeaseContext, cluster: PooledCluster) -> None:
        super().__init__(provider, ctx.name, ctx.opts)
        self.tenant = ctx.lease.tenant
        self.gpus = ctx.lease.gpus_at(ctx.cluster.day)
        self.nodes = ctx.nodes
        if ctx.lease.isolation == "dedicated-nodes":
            self.pool_id = cluster.pool(lease_pool(ctx), parent=self).id
        else:
            self.pool_id = cluster.shared_pool_id
        self.register_outputs({"pool_id": self.pool_id, "tenant": self.tenant, "gpus": self.gpus,
                               "nodes": self.nodes, "isolation": ctx.lease.isolation, "tags": ctx.tags})
