"""Leases enforced on a Slurm cluster (`orchestrator: slurm`), through dynamic resources of our own.

For a cluster with leases not yet ended (a SlurmAccounts component under the cluster):
- the plan's parent account (`slurm.account`, default the plan's name) under Slurm's root;
- an account per tenant with leases here, under it, its `users` (from `tenants:`) as associations,
  allowed the QOS of the tenant's leases here (the first, by name, its default QOS).
For each lease (a SlurmLease component under its LeasePool, so the lease guard covers it):
- a QOS `lease-<lease>`: `GrpTRES=gres/gpu=<GPUs>` while the lease runs, 0 before its start,
  `Flags=DenyOnLimit`;
- a dedicated-nodes lease: a reservation `lease-<lease>` of its whole nodes in the partition, for
  the tenant's account, from its start to its end.
After its end a lease is no longer declared, so `capacity up` removes its objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

import pulumi

from capacity.components.base import ClusterContext, Component, LeaseContext
from capacity.components.naming import fit
from capacity.components.slurm.access import env_var, given_connection
from capacity.components.slurm.objects import FLAGS
from capacity.components.slurm.providers import (Account, AccountArgs, Qos, QosArgs, Reservation,
                                                 ReservationArgs)

NAME_LIMIT = 63


def limit_name(lease: str) -> str:
    """`lease-<lease>`: the lease's QOS and reservation."""
    return fit("lease", lease, limit=NAME_LIMIT)


@dataclass(frozen=True)
class SlurmLimits:
    """What one lease gets in Slurm, as the program exports it."""

    account: str
    qos: str
    gpu_limit: int
    reservation: Optional[str]


class SlurmLease(Component):
    """One lease's QOS, then (`complete`) its reservation, which needs its tenant's account."""

    KIND = "SlurmLease"

    def __init__(self, ctx: LeaseContext, connection: pulumi.Input[str], parent: Component) -> None:
        super().__init__("slurm", ctx.name, pulumi.ResourceOptions(parent=parent))
        self.ctx = ctx
        self.connection = connection
        self.name = limit_name(ctx.name)
        self.gpu_limit = ctx.lease.gpus_at(ctx.cluster.day) if ctx.in_force else 0
        self.qos = Qos(f"{ctx.name}-qos", QosArgs(connection=connection, name=self.name, gpus=self.gpu_limit,
                                                  flags=FLAGS, account=ctx.lease.tenant, lease=ctx.name), self.child())
        self.reservation: Optional[str] = None

    def complete(self, account: Account) -> None:
        """Once its tenant's account is declared: the reservation of its whole nodes for the
        account, from start to end (dedicated-nodes leases only); then its outputs."""
        ctx, slurm = self.ctx, self.ctx.cluster.cluster.slurm
        if ctx.lease.isolation == "dedicated-nodes":
            self.reservation = self.name
            Reservation(f"{ctx.name}-reservation", ReservationArgs(
                connection=self.connection, name=self.name, account=account.name, partition=slurm.partition,
                nodes=ctx.lease_nodes, start=ctx.lease.start.isoformat(), end=ctx.lease.end.isoformat(),
            ), self.child(depends_on=[account]))
        self.register_outputs({"qos": self.name, "gpu_limit": self.gpu_limit, "reservation": self.reservation,
                               "account": ctx.lease.tenant})


class SlurmAccounts(Component):
    """The plan's parent account and the tenants' accounts on one Slurm cluster."""

    KIND = "SlurmAccounts"

    def __init__(self, ctx: ClusterContext, connection: pulumi.Input[str], leases: list[SlurmLease],
                 tenants: dict, parent: Component) -> None:
        super().__init__("slurm", ctx.name, pulumi.ResourceOptions(parent=parent))
        slurm = ctx.cluster.slurm
        self.parent_account = slurm.account or ctx.site.plan
        top = Account(f"{ctx.name}-parent-account", AccountArgs(
            connection=connection, cluster=slurm.cluster, name=self.parent_account, parent="root", users=[],
            qos=None, default_qos=None), self.child())
        by_tenant: dict[str, list[SlurmLease]] = {}
        for lease in leases:
            by_tenant.setdefault(lease.ctx.lease.tenant, []).append(lease)
        self.accounts: dict[str, Account] = {}
        for tenant, held in sorted(by_tenant.items()):
            qos = sorted(held, key=lambda lease: lease.name)
            spec = tenants.get(tenant)
            self.accounts[tenant] = Account(f"{ctx.name}-{tenant}-account", AccountArgs(
                connection=connection, cluster=slurm.cluster, name=tenant, parent=self.parent_account,
                users=sorted(spec.users) if spec is not None else [], qos=[lease.qos.name for lease in qos],
                default_qos=qos[0].qos.name), self.child(depends_on=[top]))
        self.register_outputs({"cluster": slurm.cluster, "partition": slurm.partition,
                               "parent_account": self.parent_account, "accounts": sorted(self.accounts)})


def enforce(ctx: ClusterContext, cluster: Component, leases: list[tuple[LeaseContext, Component]],
            tenants: dict) -> dict[str, SlurmLimits]:
    """Declare each lease's Slurm objects; what each got, by lease name. Nothing (with a warning)
    when no connection to the cluster's Slurm was given."""
    connection = given_connection(ctx.name)
    if connection is None:
        pulumi.log.warn(f"cluster '{ctx.name}': no connection to its Slurm cluster given, so its leases are not "
                        f"enforced in Slurm (accounts, QOS, reservations). To fix: set {env_var(ctx.name)} (or the "
                        f"secret stack config capacity:slurm-{ctx.name}) to its slurm.conf path or to a command "
                        "prefix that runs Slurm's commands.", resource=cluster)
        return {}
    made = [SlurmLease(lease_ctx, connection, parent=pool) for lease_ctx, pool in leases]
    accounts = SlurmAccounts(ctx, connection, made, tenants, parent=cluster)
    for lease in made:
        lease.complete(accounts.accounts[lease.ctx.lease.tenant])
    return {lease.ctx.name: SlurmLimits(lease.ctx.lease.tenant, lease.name, lease.gpu_limit, lease.reservation)
            for lease in made}
