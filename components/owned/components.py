"""The components of an owned data center: its network, its clusters (node allocations from the
site's inventory) and the lease pools carved out of them.

The file backend rewrites the whole state after every step of an `up`, so what the components
register is kept small and registered early:
- identifiers and sizes only: the node lists (`serials`, `racks`, GPUs, kW) are in the state once,
  on the dynamic resources that hold the nodes, where `capacity status` reads them;
- values known when the component is declared (the inventory keys of its allocation or pool, which
  are also the ids of those resources): registered at once, while the state is small, rather than
  once the nodes are held, when each registration rewrites a large state (a fifth of the time of
  a 1,000-node `up`). The Python attributes (`cluster_id`, `pool_id`...) stay the resources'
  outputs, so whatever uses them waits for the nodes."""

from __future__ import annotations

import pulumi

from capacity.inventory import shown_location
from capacity.components.base import ClusterContext, Component, LeaseContext, SiteContext
from capacity.components.owned.providers import LeasePool as PoolResource
from capacity.components.owned.providers import LeasePoolArgs, NodeAllocation, NodeAllocationArgs


class SiteNetwork(Component):
    """The site's private network, run by the site itself: nothing to create, its address space recorded."""

    KIND = "SiteNetwork"

    network_id: pulumi.Output[str]
    inventory: pulumi.Output[str]

    def __init__(self, ctx: SiteContext) -> None:
        super().__init__("owned", ctx.name, ctx.opts)
        self.site = ctx.name
        self.db = shown_location(ctx.name)
        self.budget_kw = ctx.site.power_mw * 1000
        self.network_id = pulumi.Output.from_input(f"{ctx.name}/{ctx.site.network.cidr}")
        self.inventory = pulumi.Output.from_input(self.db)
        self.register_outputs({"network_id": self.network_id, "cidr": str(ctx.site.network.cidr),
                               "inventory": self.inventory, "power_kw": self.budget_kw})


class GpuCluster(Component):
    """The cluster's nodes, allocated from the site's free nodes (filling racks, within power)."""

    KIND = "GpuCluster"

    cluster_id: pulumi.Output[str]
    shared_pool_id: pulumi.Output[str]
    serials: pulumi.Output[list]
    racks: pulumi.Output[list]
    gpus: pulumi.Output[int]
    kw: pulumi.Output[float]

    def __init__(self, ctx: ClusterContext, network: SiteNetwork) -> None:
        super().__init__("owned", ctx.name, ctx.opts)
        self.network = network
        self.stack = pulumi.get_stack()
        key = f"{self.stack}/{ctx.name}"
        self.nodes = NodeAllocation(f"{ctx.name}-nodes", NodeAllocationArgs(
            db=network.db, site=network.site, allocation=key, stack=self.stack,
            cluster=ctx.name, model=ctx.instance_type.instance_type, count=ctx.cluster.nodes,
            budget_kw=network.budget_kw,
        ), self.child())
        self.cluster_id = self.nodes.allocation
        self.shared_pool_id = self.nodes.allocation.apply(lambda allocation: f"{allocation}/shared")
        self.serials, self.racks, self.gpus, self.kw = (self.nodes.serials, self.nodes.racks, self.nodes.gpus,
                                                        self.nodes.kw)
        self.register_outputs({"cluster_id": key, "shared_pool_id": f"{key}/shared", "shared_nodes": ctx.shared_nodes})


class LeasePool(Component):
    """A lease's capacity: whole nodes carved out of the cluster (dedicated-nodes, while in force),
    or a GPU quota recorded on its shared nodes (shared-quota)."""

    KIND = "LeasePool"

    pool_id: pulumi.Output[str]
    serials: pulumi.Output[list]
    racks: pulumi.Output[list]
    gpus: pulumi.Output[int]
    kw: pulumi.Output[float]

    def __init__(self, ctx: LeaseContext, cluster: GpuCluster) -> None:
        super().__init__("owned", ctx.name, ctx.opts)
        network = cluster.network
        self.tenant = ctx.lease.tenant
        self.nodes = ctx.nodes
        key = f"{cluster.stack}/{ctx.name}"
        self.pool = PoolResource(f"{ctx.name}-pool", LeasePoolArgs(
            db=network.db, site=network.site, pool=key, allocation=cluster.cluster_id,
            lease=ctx.name, tenant=ctx.lease.tenant, isolation=ctx.lease.isolation, gpus_leased=ctx.lease.gpus_at(ctx.cluster.day),
            count=ctx.nodes,
        ), self.child())
        self.pool_id = self.pool.pool
        self.serials, self.racks, self.gpus, self.kw = self.pool.serials, self.pool.racks, self.pool.gpus, self.pool.kw
        self.register_outputs({"pool_id": key, "tenant": self.tenant, "isolation": ctx.lease.isolation,
                               "nodes": self.nodes})
