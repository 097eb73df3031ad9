"""Google Cloud Interconnect to an owned site: a Cloud Router and a VLAN attachment, on a
Dedicated Interconnect of our own at the facility or through a partner (whose router then sets up
BGP: Partner Interconnect's Cloud Router has ASN 16550)."""

from __future__ import annotations

import pulumi
import pulumi_gcp as gcp

from capacity.components.base import Component
from capacity.components.edge import EdgeContext
from capacity.components.gcp.network import NAME, SiteNetwork
from capacity.components.naming import fit

PARTNER_ASN = 16550
LINK_TYPES = {10: "LINK_TYPE_ETHERNET_10G_LR", 100: "LINK_TYPE_ETHERNET_100G_LR"}


def attachment_speed(gbps: float) -> str:
    """BPS_50M ... BPS_50G, the attachment capacities."""
    return f"BPS_{gbps:g}G" if gbps >= 1 else f"BPS_{round(gbps * 1000)}M"


class Interconnect(Component):
    KIND = "Interconnect"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("gcp", name, ctx.link.opts)
        link, edge, plan, region = ctx.plan_link, ctx.edges[0], ctx.link.site.plan, network.region
        partner = link.provider_partner is not None
        router = gcp.compute.Router(name, name=fit(plan, name, limit=NAME), region=region, network=network.network_id,
                                    bgp={"asn": PARTNER_ASN if partner else ctx.cloud_asn}, opts=self.child())
        if partner:
            attachment = gcp.compute.InterconnectAttachment(
                name, name=fit(plan, name, limit=NAME), region=region, router=router.id, type="PARTNER",
                edge_availability_domain="AVAILABILITY_DOMAIN_1", admin_enabled=True, opts=self.child())
            self.sessions = [ctx.session(0, edge, None, cloud_inside=attachment.cloud_router_ip_address)]
            self.keys = []
            self.link_id = attachment.id
            self.register_outputs({"link_id": attachment.id, "pairing_key": attachment.pairing_key})
            return
        project = ctx.link.site.site.project
        port = gcp.compute.Interconnect(
            name, name=fit(plan, name, limit=NAME), customer_name=plan, interconnect_type="DEDICATED",
            link_type=LINK_TYPES[int(link.bandwidth_gbps)], requested_link_count=1,
            location=f"https://www.googleapis.com/compute/v1/projects/{project}/global/interconnectLocations/{link.location}",
            labels=ctx.link.tags, opts=self.child())
        session = ctx.session(0, edge, None)
        attachment = gcp.compute.InterconnectAttachment(
            name, name=fit(plan, name, limit=NAME), region=region, router=router.id, type="DEDICATED",
            interconnect=port.id, bandwidth=attachment_speed(link.bandwidth_gbps), vlan_tag8021q=ctx.vlan,
            candidate_subnets=[str(ctx.blocks[0])], admin_enabled=True, opts=self.child())
        interface = gcp.compute.RouterInterface(
            name, name=fit(plan, name, limit=NAME), router=router.name, region=region,
            ip_range=f"{session['cloud_inside']}/30", interconnect_attachment=attachment.self_link, opts=self.child())
        key = ctx.key(0)
        gcp.compute.RouterPeer(
            name, name=fit(plan, name, limit=NAME), router=router.name, region=region, interface=interface.name,
            peer_ip_address=session["owned_inside"].split("/")[0], peer_asn=edge.asn,
            md5_authentication_key={"name": "owned", "key": key}, opts=self.child())
        self.sessions, self.keys = [session], [key]
        self.link_id = port.id
        self.register_outputs({"link_id": port.id})
