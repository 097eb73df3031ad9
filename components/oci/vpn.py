"""OCI ends of site-to-site VPN links: per link a CPE (the peer's address), an IPSec connection on
the site's DRG with a static route to the peer, its two tunnels keyed with the link's pre-shared
key, and the peer's range let into the GPU nodes' security group.

Oracle assigns the tunnels' addresses when the connection is created, and the connection needs
the CPE: so this end is built first (ProviderSpec.link_address_from_connection), towards the
peer's gateway address, and the peer points at tunnel 1."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci

from capacity.components.base import Component, LinkContext
from capacity.components.edge import EdgeContext
from capacity.components.naming import fit
from capacity.components.oci.network import ALL, DISPLAY_NAME, SiteNetwork, VpnGateway, nsg_rule


class LinkEnd(Component):
    KIND = "LinkEnd"

    outside_address: pulumi.Output[str]

    def __init__(self, ctx: LinkContext, network: SiteNetwork, gateway: VpnGateway,
                 peer_address: pulumi.Input[str], peer_cidr: str, psk: pulumi.Output[str]) -> None:
        name = f"{ctx.name}-{ctx.site.name}"
        super().__init__("oci", name, ctx.opts)
        compartment = ctx.site.site.compartment
        shown = fit(ctx.site.plan, ctx.name, limit=DISPLAY_NAME)
        peer = oci.core.Cpe(name, compartment_id=compartment, ip_address=peer_address, display_name=shown,
                            freeform_tags=ctx.tags, opts=self.child())
        connection = oci.core.Ipsec(name, compartment_id=compartment, drg_id=gateway.drg_id, cpe_id=peer.id,
                                    static_routes=[peer_cidr], display_name=shown, freeform_tags=ctx.tags,
                                    opts=self.child())
        found = oci.core.get_ipsec_connection_tunnels_output(ipsec_id=connection.id,
                                                             opts=pulumi.InvokeOutputOptions(parent=self))
        # By id, so that the same tunnel is "1" on every run.
        tunnel_ids = found.ip_sec_connection_tunnels.apply(lambda tunnels: sorted(t.id for t in tunnels))
        tunnels = []
        for index, initiates in ((0, "INITIATOR_OR_RESPONDER"), (1, "RESPONDER_ONLY")):
            # The peer connects to tunnel 1 only; tunnel 2 waits, so that it does not knock on the peer.
            tunnels.append(oci.core.IpsecConnectionTunnelManagement(
                f"{name}-tunnel{index + 1}", ipsec_id=connection.id, tunnel_id=tunnel_ids[index],
                display_name=fit(ctx.site.plan, ctx.name, str(index + 1), limit=DISPLAY_NAME),
                routing="STATIC", ike_version="V2", shared_secret=psk, oracle_can_initiate=initiates,
                opts=self.child()))
        nsg_rule(f"{name}-in", network.node_nsg_id, "INGRESS", ALL, peer_cidr, f"traffic from {ctx.peer.name}",
                 None, self.child())
        self.outside_address = tunnels[0].vpn_ip
        self.register_outputs({"outside_address": tunnels[0].vpn_ip, "connection_id": connection.id})


class OwnedVpn(Component):
    """Towards an owned site: per router a CPE (its address) and an IPSec connection on the site's
    DRG, both tunnels with BGP on fixed inside addresses and keys of their own."""

    KIND = "OwnedVpn"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("oci", name, ctx.link.opts)
        compartment, plan, drg = ctx.link.site.site.compartment, ctx.link.site.plan, gateway()
        self.sessions, self.keys, ids = [], [], []
        for index, edge in enumerate(ctx.edges):
            shown = fit(plan, ctx.link.name, str(index + 1), limit=DISPLAY_NAME)
            cpe = oci.core.Cpe(f"{name}-{index + 1}", compartment_id=compartment, ip_address=edge.public_ip,
                               display_name=shown, freeform_tags=ctx.link.tags, opts=self.child())
            # BGP carries the routes; OCI still asks for a static route, which BGP's routes supersede.
            connection = oci.core.Ipsec(f"{name}-{index + 1}", compartment_id=compartment, drg_id=drg.drg_id,
                                        cpe_id=cpe.id, static_routes=[ctx.owned_cidr], display_name=shown,
                                        cpe_local_identifier=edge.public_ip, cpe_local_identifier_type="IP_ADDRESS",
                                        freeform_tags=ctx.link.tags, opts=self.child())
            found = oci.core.get_ipsec_connection_tunnels_output(ipsec_id=connection.id,
                                                                 opts=pulumi.InvokeOutputOptions(parent=self))
            tunnel_ids = found.ip_sec_connection_tunnels.apply(lambda tunnels: sorted(t.id for t in tunnels))
            for tunnel in (0, 1):
                number = 2 * index + tunnel
                key = ctx.key(number)
                block = ctx.blocks[number]
                managed = oci.core.IpsecConnectionTunnelManagement(
                    f"{name}-{index + 1}-tunnel{tunnel + 1}", ipsec_id=connection.id, tunnel_id=tunnel_ids[tunnel],
                    display_name=fit(plan, ctx.link.name, str(number + 1), limit=DISPLAY_NAME), routing="BGP",
                    ike_version="V2", shared_secret=key,
                    bgp_session_info={"customer_bgp_asn": str(edge.asn), "customer_interface_ip": f"{block[2]}/30",
                                      "oracle_interface_ip": f"{block[1]}/30"}, opts=self.child())
                self.sessions.append(ctx.session(number, edge, managed.vpn_ip))
                self.keys.append(key)
            ids.append(connection.id)
        nsg_rule(f"{name}-in", network.node_nsg_id, "INGRESS", ALL, ctx.owned_cidr,
                 f"traffic from {ctx.link.peer.name}", None, self.child())
        self.link_id = ids[0]
        self.register_outputs({"link_id": ids[0]})
