"""GCP ends of site-to-site VPN links: a Classic VPN gateway with a static IP (route-based, static
routing, which the AWS and Azure ends use too), and per link a tunnel, a route and a firewall rule."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from capacity.components.base import Component, LinkContext, SiteContext
from capacity.components.edge import EdgeContext
from capacity.components.gcp.network import NAME, SiteNetwork
from capacity.components.naming import fit

# IPsec needs ESP and IKE (UDP 500, and 4500 for NAT traversal) forwarded to the gateway.
FORWARDED = (("esp", "ESP", None), ("udp500", "UDP", "500"), ("udp4500", "UDP", "4500"))


class VpnGateway(Component):
    KIND = "VpnGateway"

    gateway_id: pulumi.Output[str]
    public_ip: pulumi.Output[str]

    def __init__(self, ctx: SiteContext, network: SiteNetwork) -> None:
        super().__init__("gcp", ctx.name, ctx.opts)
        address = gcp.compute.Address(f"{ctx.name}-vpn", name=fit(ctx.plan, ctx.name, "vpn", limit=NAME),
                                      region=network.region, labels=ctx.tags, opts=self.child())
        gateway = gcp.compute.VPNGateway(f"{ctx.name}-vpn", name=fit(ctx.plan, ctx.name, "vpn", limit=NAME),
                                         network=network.network_id, region=network.region, opts=self.child())
        self.rules = [
            gcp.compute.ForwardingRule(
                f"{ctx.name}-vpn-{suffix}", name=fit(ctx.plan, ctx.name, "vpn", suffix, limit=NAME),
                region=network.region, ip_protocol=protocol, port_range=port, ip_address=address.address,
                target=gateway.self_link, labels=ctx.tags, opts=self.child())
            for suffix, protocol, port in FORWARDED
        ]
        self.gateway_id = gateway.self_link
        self.public_ip = address.address
        self.register_outputs({"gateway_id": gateway.self_link, "public_ip": address.address})


class LinkEnd(Component):
    KIND = "LinkEnd"

    outside_address: pulumi.Output[str]

    def __init__(self, ctx: LinkContext, network: SiteNetwork, gateway: VpnGateway,
                 peer_address: pulumi.Input[str], peer_cidr: str, psk: pulumi.Output[str]) -> None:
        name = f"{ctx.name}-{ctx.site.name}"
        super().__init__("gcp", name, ctx.opts)
        plan = ctx.site.plan
        tunnel = gcp.compute.VPNTunnel(
            name, name=fit(plan, name, limit=NAME), region=network.region, target_vpn_gateway=gateway.gateway_id,
            peer_ip=peer_address, shared_secret=psk, ike_version=2,
            local_traffic_selectors=["0.0.0.0/0"], remote_traffic_selectors=["0.0.0.0/0"], labels=ctx.tags,
            opts=self.child(depends_on=gateway.rules))
        gcp.compute.Route(
            name, name=fit(plan, name, limit=NAME), network=network.network_id, dest_range=peer_cidr,
            next_hop_vpn_tunnel=tunnel.id, priority=1000, opts=self.child())
        gcp.compute.Firewall(
            name, name=fit(plan, name, "from-peer", limit=NAME), network=network.network_id,
            direction="INGRESS", source_ranges=[peer_cidr], allows=[{"protocol": "all"}],
            description=f"traffic from {ctx.peer.name}", opts=self.child())
        self.outside_address = gateway.public_ip
        self.register_outputs({"outside_address": gateway.public_ip, "tunnel_id": tunnel.id})


class OwnedVpn(Component):
    """Towards an owned site: an HA VPN gateway, the routers as an external VPN gateway (one or two
    interfaces), a Cloud Router, and two tunnels each with its BGP interface and peer."""

    KIND = "OwnedVpn"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("gcp", name, ctx.link.opts)
        plan, region = ctx.link.site.plan, network.region
        ha = gcp.compute.HaVpnGateway(name, name=fit(plan, name, limit=NAME), region=region,
                                      network=network.network_id, opts=self.child())
        redundancy = "TWO_IPS_REDUNDANCY" if len(ctx.edges) == 2 else "SINGLE_IP_INTERNALLY_REDUNDANT"
        peer = gcp.compute.ExternalVpnGateway(
            name, name=fit(plan, name, "peer", limit=NAME), redundancy_type=redundancy,
            interfaces=[{"id": i, "ip_address": edge.public_ip} for i, edge in enumerate(ctx.edges)],
            labels=ctx.link.tags, opts=self.child())
        router = gcp.compute.Router(name, name=fit(plan, name, limit=NAME), region=region, network=network.network_id,
                                    bgp={"asn": ctx.cloud_asn}, opts=self.child())
        self.sessions, self.keys = [], []
        for index in (0, 1):
            edge_index = index if len(ctx.edges) == 2 else 0
            key = ctx.key(index)
            tunnel = gcp.compute.VPNTunnel(
                f"{name}-{index}", name=fit(plan, name, str(index), limit=NAME), region=region,
                vpn_gateway=ha.id, vpn_gateway_interface=index, peer_external_gateway=peer.id,
                peer_external_gateway_interface=edge_index, shared_secret=key, router=router.name, ike_version=2,
                labels=ctx.link.tags, opts=self.child())
            session = ctx.session(index, ctx.edges[edge_index], ha.vpn_interfaces[index].ip_address)
            interface = gcp.compute.RouterInterface(
                f"{name}-{index}", name=fit(plan, name, str(index), limit=NAME), router=router.name, region=region,
                ip_range=f"{session['cloud_inside']}/30", vpn_tunnel=tunnel.name, opts=self.child())
            gcp.compute.RouterPeer(
                f"{name}-{index}", name=fit(plan, name, str(index), limit=NAME), router=router.name, region=region,
                interface=interface.name, peer_ip_address=session["owned_inside"].split("/")[0],
                peer_asn=ctx.edges[edge_index].asn, opts=self.child())
            self.sessions.append(session)
            self.keys.append(key)
        gcp.compute.Firewall(
            name, name=fit(plan, name, "from-peer", limit=NAME), network=network.network_id,
            direction="INGRESS", source_ranges=[ctx.owned_cidr], allows=[{"protocol": "all"}],
            description=f"traffic from {ctx.link.peer.name}", opts=self.child())
        self.link_id = ha.id
        self.register_outputs({"link_id": ha.id})
