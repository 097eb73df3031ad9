"""OCI FastConnect to an owned site: a private virtual circuit on the site's DRG, on a cross-connect
of our own at the facility or through a partner's service, BGP to the router."""

from __future__ import annotations

import pulumi
import pulumi_oci as oci

from capacity.components.base import Component
from capacity.components.edge import EdgeContext
from capacity.components.naming import fit
from capacity.components.oci.network import DISPLAY_NAME, SiteNetwork


def shape(gbps: float) -> str:
    """FastConnect's bandwidth shape names: '1 Gbps', '10 Gbps'..."""
    return f"{gbps:g} Gbps"


class Interconnect(Component):
    KIND = "Interconnect"

    link_id: pulumi.Output[str]

    def __init__(self, ctx: EdgeContext, network: SiteNetwork, gateway) -> None:
        name = f"{ctx.link.name}-{ctx.link.site.name}"
        super().__init__("oci", name, ctx.link.opts)
        link, edge, block = ctx.plan_link, ctx.edges[0], ctx.blocks[0]
        compartment, shown = ctx.link.site.site.compartment, fit(ctx.link.site.plan, ctx.link.name, limit=DISPLAY_NAME)
        mapping = {"customer_bgp_peering_ip": f"{block[2]}/30", "oracle_bgp_peering_ip": f"{block[1]}/30"}
        carrier = {}
        if link.provider_partner:
            services = oci.core.get_fast_connect_provider_services_output(
                compartment_id=compartment, filters=[{"name": "provider_name", "values": [link.provider_partner]}],
                opts=pulumi.InvokeOutputOptions(parent=self))
            carrier["provider_service_id"] = services.fast_connect_provider_services.apply(lambda found: found[0].id)
        else:
            port = oci.core.CrossConnect(name, compartment_id=compartment, location_name=link.location,
                                         port_speed_shape_name=shape(link.bandwidth_gbps), display_name=shown,
                                         freeform_tags=ctx.link.tags, opts=self.child())
            mapping.update(cross_connect_or_cross_connect_group_id=port.id, vlan=ctx.vlan)
        key = ctx.key(0)
        mapping["bgp_md5auth_key"] = key
        circuit = oci.core.VirtualCircuit(
            name, compartment_id=compartment, type="PRIVATE", bandwidth_shape_name=shape(link.bandwidth_gbps),
            gateway_id=gateway().drg_id, customer_asn=str(edge.asn), cross_connect_mappings=[mapping],
            display_name=shown, freeform_tags=ctx.link.tags, opts=self.child(), **carrier)
        self.sessions, self.keys = [ctx.session(0, edge, None)], [key]
        self.link_id = circuit.id
        self.register_outputs({"link_id": circuit.id})
