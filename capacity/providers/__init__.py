"""Plan-side facts of each provider, one module each, found by name.

A provider module defines `SPEC = ProviderSpec(...)`: its site model, what it can do (so the
checks reject what it cannot, with the reason), its tag rules and its credential check. Nothing
here imports a cloud SDK; the Pulumi side lives in `components/<name>/`.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Callable, Iterable


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    title: str
    site_model: type[Any]
    reservation_kinds: frozenset[str] = frozenset()
    """Reservation kinds it supports besides `none`; the reason for the rest is `reservation_note`."""
    reservation_note: str = ""
    capacity_block_days: tuple[int, int] | None = None
    """Shortest and longest capacity block, in days."""
    capacity_block_nodes: tuple[int, int] | None = None
    """Fewest and most instances in one capacity block."""
    capacity_block_ahead_days: int | None = None
    """How far ahead of its start a capacity block can be bought, at most, in days."""
    link_note: str = ""
    link_address_from_connection: bool = False
    """Its VPN address exists only once a connection to the peer is made (AWS): it goes first."""
    has_regions: bool = True
    owned: bool = False
    """An owned data center: its links end on its own edge routers, configured from our output."""
    bgp_asn: int | None = None
    """The ASN of the cloud's side of a VPN or interconnect (an owned gateway may not use it)."""
    reserved_asns: frozenset[int] = frozenset()
    """Other ASNs the cloud keeps for itself."""
    longest_prefix: Callable[[Any], int] = field(default=lambda site: 28)
    """The smallest site network its components can lay out, as a prefix length (/N or larger)."""
    tags: Callable[[dict[str, str]], dict[str, str]] = field(default=lambda tags: dict(tags))
    missing_credentials: Callable[[], list[str]] = field(default=lambda: [])
    sdk: str = ""
    """The Python package of its Pulumi provider (e.g. pulumi_aws), installed by the extra of the
    provider's name; empty when the core has all it needs."""

    def missing_sdk(self) -> str | None:
        """Why this provider cannot deploy or render here, with the pip command; None if it can."""
        if not self.sdk or importlib.util.find_spec(self.sdk) is not None:
            return None
        return (f"the plan has {self.title} sites, and its Pulumi SDK ({self.sdk.replace('_', '-')}) is not "
                f"installed. To fix: pip install 'capacity[{self.name}]' (or 'capacity[all]').")


@cache
def specs() -> dict[str, ProviderSpec]:
    """Every provider module in this package, by name."""
    found = {}
    for module in pkgutil.iter_modules(__path__):
        spec = getattr(importlib.import_module(f"{__name__}.{module.name}"), "SPEC", None)
        if isinstance(spec, ProviderSpec):
            found[spec.name] = spec
    return dict(sorted(found.items()))


def spec(name: str) -> ProviderSpec:
    return specs()[name]


def missing_sdks(names: Iterable[str]) -> list[str]:
    """One sentence per provider in `names` whose SDK extra is not installed."""
    return [message for name in sorted(names) if (message := spec(name).missing_sdk())]
