"""Microsoft Azure."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal, Optional

from capacity.fields import Annotated, Field, Name, SiteBase
from capacity.providers import ProviderSpec
from capacity.providers._tags import limited


class AzureSite(SiteBase):
    provider: Annotated[Literal["azure"], Field(description="azure: Microsoft Azure.")]
    region: Annotated[str, Field(strict=True, description="Azure region, e.g. eastus2.")]
    resource_group: Annotated[Optional[Name], Field(description="Resource group (default: the plan and site name).")] = None


def missing_credentials() -> list[str]:
    env = os.environ
    for prefix in ("ARM", "AZURE"):
        if env.get(f"{prefix}_CLIENT_ID") and env.get(f"{prefix}_TENANT_ID") and (
            env.get(f"{prefix}_CLIENT_SECRET") or env.get(f"{prefix}_CLIENT_CERTIFICATE_PATH")
            or env.get(f"{prefix}_USE_OIDC") or env.get(f"{prefix}_USE_MSI")
        ):
            return []
    if (Path.home() / ".azure" / "azureProfile.json").is_file():
        return []
    return ["azure: no credentials. Run `az login`, or set ARM_CLIENT_ID, ARM_CLIENT_SECRET, ARM_TENANT_ID "
            "and ARM_SUBSCRIPTION_ID for a service principal."]


SPEC = ProviderSpec(
    bgp_asn=65515,
    reserved_asns=frozenset({8074, 8075, 12076, 65517, 65518, 65519, 65520}),
    sdk="pulumi_azure_native",
    name="azure",
    title="Microsoft Azure",
    site_model=AzureSite,
    reservation_kinds=frozenset({"capacity-reservation"}),
    # nodes (a /29 at least) beside a gateway subnet (a /27) and a services block of the same size
    longest_prefix=lambda site: 25,
    reservation_note="Azure has on-demand capacity reservations but no capacity blocks",
    # Azure tag names: 512 characters, no < > % & \ ? /; values 256; 50 tags a resource.
    tags=lambda tags: limited(tags, key_max=512, value_max=256, count_max=50, forbidden="<>%&\\?/"),
    missing_credentials=missing_credentials,
)
