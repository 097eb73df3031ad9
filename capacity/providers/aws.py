"""Amazon Web Services."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Literal, Optional

from capacity.fields import Annotated, Field, SiteBase, Text
from capacity.providers import ProviderSpec
from capacity.providers._tags import limited


class AwsSite(SiteBase):
    provider: Annotated[Literal["aws"], Field(description="aws: Amazon Web Services.")]
    region: Annotated[str, Field(strict=True, description="AWS region, e.g. us-east-1.")]
    zones: Annotated[Optional[list[Text]], Field(description="Availability zones for subnets (default: a and b).")] = None


def missing_credentials() -> list[str]:
    env = os.environ
    if env.get("AWS_ACCESS_KEY_ID") and env.get("AWS_SECRET_ACCESS_KEY"):
        return []
    if env.get("AWS_PROFILE") or env.get("AWS_WEB_IDENTITY_TOKEN_FILE") or env.get("AWS_CONTAINER_CREDENTIALS_FULL_URI"):
        return []
    home = Path.home() / ".aws"
    if (home / "credentials").is_file() or (home / "config").is_file():
        return []
    return ["aws: no credentials. Set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, "
            "or run `aws configure` (writes ~/.aws/credentials)."]


def longest_prefix(site: AwsSite) -> int:
    """A public subnet and one per zone (two by default), each at least a /28."""
    subnets = len(site.zones or ("a", "b")) + 1
    return 28 - math.ceil(math.log2(subnets))


SPEC = ProviderSpec(
    bgp_asn=64512,
    sdk="pulumi_aws",
    name="aws",
    title="Amazon Web Services",
    site_model=AwsSite,
    reservation_kinds=frozenset({"capacity-reservation", "capacity-block"}),
    # EC2 Capacity Blocks for ML: 1-14 days in 1-day steps, then up to 182 days in 7-day steps.
    capacity_block_days=(1, 182),
    # ... of 1 to 64 instances, bought at most 8 weeks before they start.
    capacity_block_nodes=(1, 64),
    capacity_block_ahead_days=56,
    link_address_from_connection=True,
    longest_prefix=longest_prefix,
    tags=lambda tags: limited(tags, key_max=128, value_max=256, count_max=50),
    missing_credentials=missing_credentials,
)
