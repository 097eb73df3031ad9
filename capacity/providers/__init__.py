"""Plan-side facts of each provider, one module each, found by name.

A provider module defines `SPEC = ProviderSpec(...)`: its site model, what it can do (so the
checks reject what it cannot, with the reason), its tag rules and its credential check. Nothing
here imports a cloud SDK; the Pulumi side lives in `components/<name>/`.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass, field
from functools import cache
from typing import Callable


@dataclass(frozen=True)
class ProviderSpec:
    name: str
    title: str
    site_model: type
    reservation_kinds: frozenset[str] = frozenset()
    """Reservation kinds it supports besides `none`; the reason for the rest is `reservation_note`."""
    reservation_note: str = ""
    capacity_block_days: tuple[int, int] | None = None
    """Shortest and longest capacity block, in days."""
    supports_links: bool = True
    link_note: str = ""
    link_address_from_connection: bool = False
    """Its VPN address exists only once a connection to the peer is made (AWS): it goes first."""
    has_regions: bool = True
    longest_prefix: Callable[[object], int] = field(default=lambda site: 28)
    """The smallest site network its components can lay out, as a prefix length (/N or larger)."""
    tags: Callable[[dict[str, str]], dict[str, str]] = field(default=lambda tags: dict(tags))
    missing_credentials: Callable[[], list[str]] = field(default=lambda: [])


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
