"""Owned data centers: clusters allocated from the site's hardware inventory (capacity.inventory),
lease pools carved out of them. No cloud SDK and no plugin download: only dynamic resources."""

from __future__ import annotations

from capacity.components.owned.components import GpuCluster, LeasePool, SiteNetwork


class Owned:
    def options(self, ctx):
        return None

    def network(self, ctx):
        return SiteNetwork(ctx)

    def reservation(self, ctx, network):
        return None  # the site holds its own hardware; validation rejects reservations here

    def cluster(self, ctx, network, reservation):
        return GpuCluster(ctx, network)

    def lease_pool(self, ctx, cluster):
        return LeasePool(ctx, cluster)

    def vpn_gateway(self, ctx, network):
        return None  # the site's routers are the company's: links to them are built from the cloud side

    def link_end(self, ctx, network, gateway, peer_address, peer_cidr, psk):
        # Links with an owned end go through components/edge.py (program._edge_link), never here.
        raise NotImplementedError("links ending at owned sites are built by components/edge.py")


PROVIDER = Owned()
