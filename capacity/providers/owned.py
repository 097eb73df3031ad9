"""Owned data centers: hardware the organisation bought, tracked in an inventory, and the edge
routers (gateways) that VPNs and interconnects to the clouds end on."""

from __future__ import annotations

import ipaddress
from typing import Literal, Optional

from pydantic import AfterValidator, StrictInt, model_validator

from capacity.fields import Annotated, Field, Money, Network, SiteBase, StrictModel, Text
from capacity.providers import ProviderSpec

PowerMw = Annotated[float, Field(strict=True, gt=0, le=10_000, allow_inf_nan=False)]
# ASNs no BGP session may use: 0, AS_TRANS (RFC 6793), the 2- and 4-byte documentation ranges
# (RFC 5398), 65535 and the last 4-byte value (RFC 7300).
RESERVED_ASNS = ((0, 0), (23456, 23456), (64496, 64511), (65535, 65551), (4294967295, 4294967295))
PRIVATE_ASNS = ((64512, 65534), (4200000000, 4294967294))


def check_public_ip(value: str) -> str:
    try:
        address = ipaddress.IPv4Address(value)
    except ValueError:
        raise ValueError(f"'{value}' is not an IPv4 address. To fix: give the router's public IPv4 address, four numbers such as 203.0.114.10") from None
    if not address.is_global or address.is_multicast:
        kind = ("a private (RFC 1918) address" if address in ipaddress.ip_network("10.0.0.0/8") or
                address in ipaddress.ip_network("172.16.0.0/12") or address in ipaddress.ip_network("192.168.0.0/16")
                else "a reserved or non-routable address")
        raise ValueError(f"{value} is {kind}: the clouds cannot reach a gateway there. "
                         "To fix: give the public, routable IPv4 address of the site's edge router")
    return str(address)


def check_asn(value: int) -> int:
    for low, high in RESERVED_ASNS:
        if low <= value <= high:
            raise ValueError(f"ASN {value} is reserved (0, 23456 AS_TRANS, documentation and last ASNs) and "
                             "cannot be used in BGP. To fix: use a private ASN, 64512-65534 or 4200000000-4294967294")
    return value


def is_private_asn(asn: int) -> bool:
    return any(low <= asn <= high for low, high in PRIVATE_ASNS)


class Gateway(StrictModel):
    public_ip: Annotated[str, Field(
        strict=True, description="The edge router's public, routable IPv4 address (VPN tunnels end here)."),
        AfterValidator(check_public_ip)]
    asn: Annotated[StrictInt, Field(
        ge=0, le=4294967295, description="The router's BGP ASN: private (64512-65534 or 4200000000-4294967294) "
                                          "unless `public_asn: true`."), AfterValidator(check_asn)]
    public_asn: Annotated[bool, Field(strict=True, description="`asn` is the company's own registered public ASN.")] = False

    @model_validator(mode="after")
    def _private_unless_told(self) -> "Gateway":
        if not self.public_asn and not is_private_asn(self.asn):
            raise ValueError(f"ASN {self.asn} is a public ASN. To fix: use a private ASN (64512-65534 or "
                             "4200000000-4294967294), or write `public_asn: true` if the company holds it")
        return self


class OwnedNetwork(Network):
    gateway: Annotated[Optional[Gateway], Field(description="The site's edge router that links end on.")] = None
    gateways: Annotated[Optional[list[Gateway]], Field(
        min_length=1, max_length=2, description="One or two edge routers (for redundancy); instead of `gateway`.")] = None

    @model_validator(mode="after")
    def _one_way(self) -> "OwnedNetwork":
        if self.gateway is not None and self.gateways is not None:
            raise ValueError("give `gateway` or `gateways`, not both")
        return self

    @property
    def edges(self) -> list[Gateway]:
        return [self.gateway] if self.gateway else list(self.gateways or [])


class OwnedSite(SiteBase):
    provider: Annotated[Literal["owned"], Field(description="owned: an owned data center.")]
    location: Annotated[Text, Field(description="Where it is, e.g. 'Abilene, TX'.")]
    power_mw: Annotated[PowerMw, Field(description="Power budget in MW that the clusters here must fit in.")]
    cost_per_gpu_hour: Annotated[Money, Field(description="Amortised capex and power per GPU-hour, USD.")]
    network: Annotated[OwnedNetwork, Field(description="The site's private network and its edge routers.")]
    inventory: Annotated[Optional[Text], Field(description="Inventory file (CSV or YAML) imported on first use, "
                                                           "relative to the plan.")] = None


SPEC = ProviderSpec(
    name="owned",
    title="Owned data center",
    site_model=OwnedSite,
    reservation_note="an owned data center holds its own hardware; there is nothing to reserve from a cloud",
    link_note="an owned site's links end on its edge router. To fix: give the site `network.gateway: "
              "{public_ip, asn}`",
    has_regions=False,
    owned=True,
)
