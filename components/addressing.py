"""Address plans carved from a site's network (the CIDR in the plan)."""

from __future__ import annotations

import ipaddress
import math


class AddressSpaceTooSmall(ValueError):
    pass


def carve(network: ipaddress.IPv4Network, count: int, longest_prefix: int, what: str) -> list[ipaddress.IPv4Network]:
    """`network` split into the next power of two at or above `count` equal blocks; the first
    `count` are returned. Each must be no longer than /`longest_prefix` (the provider's smallest)."""
    prefix = network.prefixlen + math.ceil(math.log2(max(count, 1)))
    if prefix > longest_prefix:
        shortest = longest_prefix - math.ceil(math.log2(max(count, 1)))
        raise AddressSpaceTooSmall(f"{network} is too small for {what} ({count} blocks of at most /{longest_prefix}); "
                                   f"give the site a /{shortest} or larger")
    return list(network.subnets(new_prefix=prefix))[:count]
