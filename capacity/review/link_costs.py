"""What links cost each month at list price: a VPN connection or an interconnect port (or partner
circuit), from the catalog's `links:` rows, counted at the link's cloud site (and so its provider
and the plan's total). Data transfer is billed per GB and is not counted; an owned-to-owned link
runs on the company's own WAN and costs nothing here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from capacity.plan.loading import LoadedPlan
from capacity.providers import spec

if TYPE_CHECKING:
    from capacity.review.economics import GroupBook

HOURS_PER_MONTH = 730


@dataclass(frozen=True)
class LinkCost:
    name: str
    kind: str
    site: str
    """The cloud end, where the cost is counted (None for an owned-to-owned link)."""
    provider: str
    monthly: float
    product: str


def link_costs(loaded: LoadedPlan) -> list[LinkCost]:
    """Each link's monthly list price, in plan order. A VPN between two clouds is billed at both ends."""
    out = []
    for link in loaded.plan.links:
        ends = [name for name in link.between if name in loaded.plan.sites
                and not spec(loaded.plan.sites[name].provider).owned]
        for site in ends:
            provider = loaded.plan.sites[site].provider
            partner = link.provider_partner is not None
            price = loaded.catalog.link_price(provider, link.kind, link.bandwidth_gbps, partner)
            if price is not None:
                out.append(LinkCost(link.name, link.kind, site, provider, price.price_per_hour * HOURS_PER_MONTH,
                                    price.product or ""))
    return out


def add_link_costs(loaded: LoadedPlan, sites: dict[str, GroupBook], providers: dict[str, GroupBook],
                   total: GroupBook) -> None:
    """Add each link's monthly cost to its cloud site's, provider's and the total's run-rate
    (groups with `.totals.monthly_cost`, as economics.book makes them)."""
    for cost in link_costs(loaded):
        for group in (sites.get(cost.site), providers.get(cost.provider), total):
            if group is not None:
                group.totals.monthly_cost += cost.monthly


def monthly_total(loaded: LoadedPlan) -> float:
    return sum(cost.monthly for cost in link_costs(loaded))
