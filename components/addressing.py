"""Address plans carved from a site's network (the CIDR in the plan)."""

from __future__ import annotations

import hashlib
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


# Inside (BGP) addresses of links to owned routers: /30s of 169.254.21.0/24 and 169.254.22.0/24,
# Azure's range for custom (APIPA) BGP addresses; AWS, Google and Oracle take any 169.254/16 /30
# outside their reserved few.
INSIDE = (ipaddress.IPv4Network("169.254.21.0/24"), ipaddress.IPv4Network("169.254.22.0/24"))
TUNNELS_PER_LINK = 4  # two routers times two tunnels, at most


def inside_blocks(link_names: list[str]) -> dict[str, list[ipaddress.IPv4Network]]:
    """Four /30s for each link, at a place drawn from its name (so adding a link moves no other),
    the next free one on a clash."""
    slots = [slot for block in INSIDE for slot in block.subnets(new_prefix=32 - 2 - 2)]  # /28s: four /30s each
    if len(link_names) > len(slots):
        raise AddressSpaceTooSmall(f"{len(link_names)} links to owned sites; the inside ranges hold {len(slots)}")
    taken: dict[str, list[ipaddress.IPv4Network]] = {}
    used: set[int] = set()
    for name in link_names:
        slot = int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) % len(slots)
        while slot in used:
            slot = (slot + 1) % len(slots)
        used.add(slot)
        taken[name] = list(slots[slot].subnets(new_prefix=30))
    return taken
