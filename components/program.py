"""The Pulumi program: a validated plan in, its components out.

Used as the root Pulumi.yaml program (capacity/deploy/program.py), as the CLI's inline Automation API
program and, under mocks, by `capacity resources`. Each provider's package (and so its cloud SDK)
is imported only when the plan has a site of that provider.
"""

from __future__ import annotations

import datetime as dt
import importlib
from dataclasses import dataclass, replace
from types import ModuleType

import pulumi

from capacity.plan import schedule
from capacity.plan.loading import LoadedPlan
from capacity.providers import spec
from capacity.components import edge, naming
from capacity.components.addressing import inside_blocks
from capacity.components.base import ClusterContext, Component, LeaseContext, LinkContext, Provider, SiteContext
from capacity.components.linkkey import PresharedKey


class MissingProvider(Exception):
    """A plan names a provider that has no components package."""


def package(name: str) -> ModuleType:
    """The package `components/<name>/`, imported on first use."""
    try:
        return importlib.import_module(f"{__package__}.{name}")
    except ModuleNotFoundError as exc:
        if exc.name != f"{__package__}.{name}":
            raise
        raise MissingProvider(f"no Pulumi components for provider '{name}' (components/{name}/ is missing)") from None


def provider(name: str) -> Provider:
    """The `PROVIDER` of `components/<name>/`."""
    found = getattr(package(name), "PROVIDER", None)
    if found is None:
        raise MissingProvider(f"components/{name}/ defines no PROVIDER")
    return found


@dataclass
class _Site:
    ctx: SiteContext
    provider: Provider
    network: Component
    gateway: Component | None = None


def build(loaded: LoadedPlan, on: dt.date | None = None) -> None:
    """Declare every component of the plan. `on` is the day of the deployment (today by default):
    it decides which leases are in force and so hold their nodes."""
    day = on or dt.date.today()
    pulumi.runtime.register_stack_transformation(without_type_aliases)
    providers = {name: provider(name) for name in sorted(loaded.providers())}
    edge_links = [link for link in loaded.plan.links if _with_owned_end(loaded, link)]
    blocks = inside_blocks([link.name for link in edge_links])
    sites = {name: _site(loaded, name, providers[site.provider], blocks) for name, site in loaded.plan.sites.items()}
    clusters, leases = {}, {}
    for name in loaded.plan.clusters:
        clusters[name], leases_here = _cluster(loaded, name, sites[loaded.plan.clusters[name].site], day)
        leases.update(leases_here)
    exports, keys = {}, {}
    for link in loaded.plan.links:
        if link in edge_links:
            exports[link.name], keys[link.name] = _edge_link(loaded, link, sites, blocks[link.name])
        else:
            _link(loaded, link.between, link.name, sites)
    if exports:
        pulumi.export("links", exports)
        pulumi.export("link_keys", pulumi.Output.secret(keys))
    pulumi.export("plan", loaded.name)
    pulumi.export("clusters", clusters)
    pulumi.export("leases", leases)


def without_type_aliases(args: pulumi.ResourceTransformationArgs) -> pulumi.ResourceTransformationResult | None:
    """Drop the aliases cloud SDKs add for their resources' former type tokens (azure-native adds up
    to a hundred per resource, one per old API version). They only matter to stacks created with
    those old types, which ours never were, and resolving each costs several Outputs."""
    aliases = args.opts.aliases
    if not aliases:
        return None
    kept = [a for a in aliases if not (isinstance(a, pulumi.Alias) and a.type_ is not ...
                                       and a.name is ... and a.parent is ... and a.stack is ... and a.project is ...)]
    if len(kept) == len(aliases):
        return None
    args.opts.aliases = kept or None
    return pulumi.ResourceTransformationResult(args.props, args.opts)


def _site(loaded: LoadedPlan, name: str, provider: Provider, blocks: dict) -> _Site:
    site = loaded.plan.sites[name]
    owned_vpns = [link for link in loaded.plan.links if link.kind == "vpn" and name in link.between
                  and any(spec(loaded.plan.sites[s].provider).owned for s in link.between)]
    # The cloud's end of each owned VPN's sessions: the first address of each /30.
    addresses = tuple(str(block[1]) for link in owned_vpns for block in blocks[link.name])
    ctx = SiteContext(plan=loaded.name, name=name, site=site, bgp=bool(owned_vpns), bgp_addresses=addresses,
                      tags=naming.tags(site.provider, loaded.plan.metadata.labels, plan=loaded.name, site=name))
    ctx = replace(ctx, opts=provider.options(ctx))
    return _Site(ctx, provider, provider.network(ctx))


def _cluster(loaded: LoadedPlan, name: str, site: _Site, day: dt.date) -> tuple[dict, dict]:
    """The cluster, its reservation and its lease pools; their outputs for the stack's exports."""
    cluster = loaded.plan.clusters[name]
    entry = loaded.types[name]
    current = {n: lease for n, lease in loaded.leases_on(name).items() if lease.end > day}
    in_force = {n for n, lease in current.items() if lease.start <= day}
    ctx = ClusterContext(
        site=site.ctx, name=name, cluster=cluster, instance_type=entry,
        tags=_tags(loaded, site.ctx, cluster=name),
        leased_nodes=sum(current[n].whole_nodes(entry.gpus, day) for n in in_force
                         if current[n].isolation == "dedicated-nodes"),
        quotas={n: lease for n, lease in current.items() if lease.isolation == "shared-quota"},
        day=day,
    )
    # A reservation is declared only while held: not before its buy day, not after its end.
    held = schedule.state(loaded, name, day) == schedule.HELD
    reservation = site.provider.reservation(ctx, site.network) if held else None
    component = site.provider.cluster(ctx, site.network, reservation)
    exported, pools = {}, []
    for lease_name, lease in current.items():
        lease_ctx = LeaseContext(cluster=ctx, name=lease_name, lease=lease, in_force=lease_name in in_force,
                                 tags=_tags(loaded, site.ctx, cluster=name, lease=lease_name, tenant=lease.tenant))
        pool = site.provider.lease_pool(lease_ctx, component)
        pools.append((lease_ctx, pool))
        exported[lease_name] = {"tenant": lease.tenant, "cluster": name, "isolation": lease.isolation,
                                "in_force": lease_ctx.in_force, "nodes": lease_ctx.nodes, "pool_id": pool.pool_id}
    if cluster.orchestrator == "kubernetes" and pools:
        from capacity.components.kubernetes.tenancy import enforce

        for lease_name, tenancy in enforce(ctx, component, pools, loaded.plan.tenants or {}).items():
            exported[lease_name].update(namespace=tenancy.namespace, gpu_quota=tenancy.gpu_quota)
    if cluster.orchestrator == "slurm" and pools:
        from capacity.components.slurm.tenancy import enforce as enforce_slurm

        for lease_name, limits in enforce_slurm(ctx, component, pools, loaded.plan.tenants or {}).items():
            exported[lease_name].update(slurm_account=limits.account, qos=limits.qos, gpu_limit=limits.gpu_limit,
                                        slurm_reservation=limits.reservation)
    summary = {"site": site.ctx.name, "provider": site.ctx.provider, "instance_type": entry.instance_type,
               "nodes": cluster.nodes, "shared_nodes": ctx.shared_nodes, "cluster_id": component.cluster_id,
               "reservation_id": reservation.reservation_id if reservation else None}
    return summary, exported


def _link(loaded: LoadedPlan, between: tuple[str, str], name: str, sites: dict[str, _Site]) -> None:
    """A VPN between two sites. An end whose address exists only once its connection does (AWS)
    is built first, towards the peer's gateway; the peer then points at that end's address."""
    first, second = (sites[s] for s in between)
    if spec(second.ctx.provider).link_address_from_connection:
        first, second = second, first
    for site in (first, second):
        if site.gateway is None:
            site.gateway = site.provider.vpn_gateway(site.ctx, site.network)
    psk = PresharedKey(f"{name}-psk").secret_key
    address = second.gateway.public_ip
    for here, peer in ((first, second), (second, first)):
        ctx = LinkContext(site=here.ctx, peer=peer.ctx, name=name, tags=_tags(loaded, here.ctx, link=name))
        end = here.provider.link_end(ctx, here.network, here.gateway, address, str(peer.ctx.site.network.cidr), psk)
        address = end.outside_address


def _with_owned_end(loaded: LoadedPlan, link) -> bool:
    return link.kind == "interconnect" or any(spec(loaded.plan.sites[s].provider).owned for s in link.between)


def _edge_link(loaded: LoadedPlan, link, sites: dict[str, _Site], blocks: list) -> tuple[dict, list]:
    """A link with an owned end: the cloud side built towards the owned routers (components/edge.py);
    between two owned sites, nothing is built. Returns the link's export and its keys."""
    owned, cloud = sorted((sites[s] for s in link.between), key=lambda s: not spec(s.ctx.provider).owned)
    ctx = LinkContext(site=cloud.ctx, peer=owned.ctx, name=link.name, tags=_tags(loaded, cloud.ctx, link=link.name))
    if spec(cloud.ctx.provider).owned:
        return edge.wan(replace(ctx, site=owned.ctx, peer=cloud.ctx), link, blocks)

    def gateway() -> Component:
        if cloud.gateway is None:
            cloud.gateway = cloud.provider.vpn_gateway(cloud.ctx, cloud.network)
        return cloud.gateway

    edge_ctx = edge.EdgeContext(link=ctx, plan_link=link, edges=owned.ctx.site.network.edges, blocks=blocks,
                                cloud_asn=spec(cloud.ctx.provider).bgp_asn)
    kind = cloud.provider.owned_vpn if link.kind == "vpn" else cloud.provider.interconnect
    built = kind(edge_ctx, cloud.network, gateway)
    return edge.exported(edge_ctx, built.sessions, built.link_id), built.keys


def _tags(loaded: LoadedPlan, site: SiteContext, **parts: str) -> dict[str, str]:
    return naming.tags(site.provider, loaded.plan.metadata.labels, plan=loaded.name, site=site.name, **parts)
