"""The shared interface between the program and the provider packages.

A provider is one package `components/<name>/` exposing `PROVIDER`, an object with the methods of
`Provider` below. The program (components/program.py) calls them in a fixed order for each site,
cluster, lease and link of the plan, and passes the components they return on to the next step.
Nothing else names a provider: adding one means adding its package (plus its
capacity/providers/<name>.py and catalog rows).

A cloud builds its PROVIDER with `components.cloud.CloudProvider` from its component classes, and
leaves lease pools to `components.pools.LeasePool` (its GpuCluster offers `pool()`).

A package may also have a module `mocks` defining `MOCKS`, a `MockAnswers`: what `capacity
resources` needs to render its components offline under Pulumi's mocks.

Components subclass `Component`: their type token is `capacity:<provider>:<Kind>`, every child is
created with `self.child()` (parented to the component), outputs are declared on the class and
registered with real values.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Optional, Protocol

import pulumi

if TYPE_CHECKING:
    from capacity.plan.catalog import InstanceType
    from capacity.plan.model import Cluster, Lease


class Component(pulumi.ComponentResource):
    """A capacity component of one provider; `KIND` names it (SiteNetwork, GpuCluster...)."""

    KIND: str = ""

    def __init__(self, provider: str, name: str, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        super().__init__(f"capacity:{provider}:{self.KIND}", name, None, opts)

    def child(self, **options: Any) -> pulumi.ResourceOptions:
        """Options for a child resource: parented to this component (plus any `options`)."""
        return pulumi.ResourceOptions(parent=self, **options)


@dataclass(frozen=True)
class SiteContext:
    plan: str
    """The plan's name (metadata.name)."""
    name: str
    """The site's name in the plan."""
    site: Any
    """The site's model (AwsSite, AzureSite, GcpSite, OwnedSite...)."""
    tags: dict[str, str]
    """Tags for plan and site, normalised to the provider's rules."""
    opts: Optional[pulumi.ResourceOptions] = None
    """Options for every top-level component of the site (e.g. an explicit cloud provider)."""
    bgp: bool = False
    """The site has VPNs to owned routers: its VPN gateway speaks BGP (Azure's must be told)."""
    bgp_addresses: tuple[str, ...] = ()
    """The cloud's inside (BGP) addresses of those VPNs' sessions (Azure declares them on its gateway)."""

    @property
    def provider(self) -> str:
        return self.site.provider


@dataclass(frozen=True)
class ClusterContext:
    site: SiteContext
    name: str
    cluster: "Cluster"
    instance_type: "InstanceType"
    tags: dict[str, str]
    """Tags for plan, site and cluster."""
    leased_nodes: int
    """Nodes held now by dedicated-nodes leases in force: they are in lease pools, not the shared pool."""
    quotas: dict[str, "Lease"]
    """The shared-quota leases on this cluster not yet ended, by lease name."""
    day: dt.date
    """The day of the deployment: what is in force is decided against it."""

    @property
    def opts(self) -> Optional[pulumi.ResourceOptions]:
        return self.site.opts

    @property
    def gpus_per_node(self) -> int:
        return self.instance_type.gpus

    @property
    def in_window(self) -> bool:
        """Its capacity exists on `day`: from a reservation's start (none is run before it is paid
        for), until a capacity block's end; always for a cluster that reserves nothing."""
        reservation = self.cluster.reservation
        if not self.cluster.reserved or reservation.start is None:
            return True
        if reservation.kind == "capacity-block":
            return reservation.start <= self.day < reservation.end
        return reservation.start <= self.day

    @property
    def shared_nodes(self) -> int:
        """Nodes of the cluster's shared pool now: those no dedicated lease holds (none outside a
        capacity block's dates)."""
        return self.cluster.nodes - self.leased_nodes if self.in_window else 0


@dataclass(frozen=True)
class LeaseContext:
    cluster: ClusterContext
    name: str
    lease: "Lease"
    tags: dict[str, str]
    """Tags for plan, site, cluster, lease and tenant."""
    in_force: bool
    """The lease runs on the day of the deployment. Pools of leases yet to start hold no nodes."""

    @property
    def opts(self) -> Optional[pulumi.ResourceOptions]:
        return self.cluster.opts

    @property
    def lease_nodes(self) -> int:
        """Whole nodes the lease covers (dedicated-nodes leases are whole nodes by validation)."""
        return self.lease.whole_nodes(self.cluster.gpus_per_node, self.cluster.day)

    @property
    def nodes(self) -> int:
        """Nodes its pool holds now: the lease's nodes while it is in force, else none."""
        dedicated = self.lease.isolation == "dedicated-nodes"
        return self.lease_nodes if dedicated and self.in_force else 0


@dataclass(frozen=True)
class LinkContext:
    site: SiteContext
    """The end this context builds."""
    peer: SiteContext
    name: str
    """The link's name: `<site a>--<site b>` as in the plan."""
    tags: dict[str, str]
    """Tags for plan, site and link."""

    @property
    def opts(self) -> Optional[pulumi.ResourceOptions]:
        return self.site.opts


class Provider(Protocol):
    """What a provider package's `PROVIDER` does. Each method returns a `Component` whose declared
    outputs are listed here; the program reads only those."""

    def options(self, ctx: SiteContext) -> Optional[pulumi.ResourceOptions]:
        """Options for every component of the site, e.g. an explicit provider for its region."""

    def network(self, ctx: SiteContext) -> Component:
        """The site's network (KIND SiteNetwork). Outputs: `network_id`."""

    def reservation(self, ctx: ClusterContext, network: Component) -> Optional[Component]:
        """Capacity held from the cloud for the cluster (KIND Reservation), or None when the
        cluster reserves nothing. Outputs: `reservation_id`."""

    def cluster(self, ctx: ClusterContext, network: Component, reservation: Optional[Component]) -> Component:
        """The GPU nodes (KIND GpuCluster), their shared pool consuming `reservation`.
        Outputs: `cluster_id`, `shared_pool_id`."""

    def lease_pool(self, ctx: LeaseContext, cluster: Component) -> Component:
        """A lease's capacity (KIND LeasePool): its own pool for dedicated-nodes, a recorded quota on
        the shared pool for shared-quota. Outputs: `pool_id`."""

    def vpn_gateway(self, ctx: SiteContext, network: Component) -> Optional[Component]:
        """The site's VPN gateway (KIND VpnGateway), shared by its links; None if links cannot end
        here. Outputs: `public_ip` (None for a provider whose address comes per connection)."""

    def link_end(self, ctx: LinkContext, network: Component, gateway: Component,
                 peer_address: pulumi.Input[str], peer_cidr: str, psk: pulumi.Output[str]) -> Component:
        """One end of a VPN link (KIND LinkEnd): tunnel to `peer_address`, routes to `peer_cidr`,
        keyed with `psk`. Outputs: `outside_address` (this end's tunnel address, for the peer)."""


@dataclass(frozen=True)
class MockAnswers:
    """Answers a provider gives under Pulumi's mocks (components/render.py)."""

    invokes: dict[str, Callable[[dict], dict]] = field(default_factory=dict)
    """Invoke token -> its result for the given arguments (camelCase keys, as on the wire)."""
    outputs: dict[str, Callable[[str, dict], dict]] = field(default_factory=dict)
    """Resource type token (or package name, for all its types) -> outputs the cloud computes,
    given the resource's physical name and its inputs."""


def documentation_ip(seed: str, block: str = "203.0.113") -> str:
    """A documentation-range address (RFC 5737), the same for the same seed: mock public IPs."""
    return f"{block}.{int(hashlib.sha256(seed.encode()).hexdigest()[:4], 16) % 254 + 1}"
