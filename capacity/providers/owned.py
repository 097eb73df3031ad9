"""Owned data centers: hardware the organisation bought, tracked in an inventory."""

from __future__ import annotations

from typing import Literal, Optional

from capacity.fields import Annotated, Field, Money, SiteBase, Text
from capacity.providers import ProviderSpec

PowerMw = Annotated[float, Field(strict=True, gt=0, le=10_000, allow_inf_nan=False)]


class OwnedSite(SiteBase):
    provider: Annotated[Literal["owned"], Field(description="owned: an owned data center.")]
    location: Annotated[Text, Field(description="Where it is, e.g. 'Abilene, TX'.")]
    power_mw: Annotated[PowerMw, Field(description="Power budget in MW that the clusters here must fit in.")]
    cost_per_gpu_hour: Annotated[Money, Field(description="Amortised capex and power per GPU-hour, USD.")]
    inventory: Annotated[Optional[Text], Field(description="Inventory file (CSV or YAML) imported on first use, "
                                                           "relative to the plan.")] = None


SPEC = ProviderSpec(
    name="owned",
    title="Owned data center",
    site_model=OwnedSite,
    reservation_note="an owned data center holds its own hardware; there is nothing to reserve from a cloud",
    supports_links=False,
    link_note="VPN links ending in owned data centers are not modelled yet; link the clouds among themselves",
    has_regions=False,
)
