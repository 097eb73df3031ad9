"""The components of an owned data center: its network, its clusters (node allocations from the
site's inventory) and the lease pools carved out of them."""

from __future__ import annotations

import pulumi

from capacity.inventory import db_path
from components.base import ClusterContext, Component, LeaseContext, SiteContext
from components.owned.providers import LeasePool as PoolResource
from components.owned.providers import LeasePoolArgs, NodeAllocation, NodeAllocationArgs


class SiteNetwork(Component):
    """The site's private network, run by the site itself: nothing to create, its address space recorded."""

    KIND = "SiteNetwork"

    network_id: pulumi.Output[str]
    inventory: pulumi.Output[str]

    def __init__(self, ctx: SiteContext) -> None:
        super().__init__("owned", ctx.name, ctx.opts)
        self.site = ctx.name
        self.db = str(db_path(ctx.name))
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
        self.nodes = NodeAllocation(f"{ctx.name}-nodes", NodeAllocationArgs(
            db=network.db, site=network.site, allocation=f"{self.stack}/{ctx.name}", stack=self.stack,
            cluster=ctx.name, model=ctx.instance_type.instance_type, count=ctx.cluster.nodes,
            budget_kw=network.budget_kw,
        ), self.child())
        self.cluster_id = self.nodes.allocation
        self.shared_pool_id = self.nodes.allocation.apply(lambda key: f"{key}/shared")
        self.serials, self.racks, self.gpus, self.kw = (self.nodes.serials, self.nodes.racks, self.nodes.gpus,
                                                        self.nodes.kw)
        self.register_outputs({"cluster_id": self.cluster_id, "shared_pool_id": self.shared_pool_id,
                               "shared_nodes": ctx.shared_nodes, "serials": self.serials, "racks": self.racks,
                               "gpus": self.gpus, "kw": self.kw})


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
        self.pool = PoolResource(f"{ctx.name}-pool", LeasePoolArgs(
            db=network.db, site=network.site, pool=f"{cluster.stack}/{ctx.name}", allocation=cluster.cluster_id,
            lease=ctx.name, tenant=ctx.lease.tenant, isolation=ctx.lease.isolation, gpus_leased=ctx.lease.gpus,
            count=ctx.nodes,
        ), self.child())
        self.pool_id = self.pool.pool
        self.serials, self.racks, self.gpus, self.kw = self.pool.serials, self.pool.racks, self.pool.gpus, self.pool.kw
        self.register_outputs({"pool_id": self.pool_id, "tenant": self.tenant, "isolation": ctx.lease.isolation,
                               "nodes": self.nodes, "serials": self.serials, "racks": self.racks,
                               "gpus": self.gpus, "kw": self.kw, "tags": ctx.tags})
