"""The capacity plan model (apiVersion capacity/v1). See docs/plan-format.md."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Literal, Optional, Union

from pydantic import Discriminator, Field, StrictInt, model_validator

from capacity.fields import Annotated, Count, Money, Name, Network, PlanDate, RelativePath, StrictModel, Text
from capacity.providers import specs

API_VERSION = "capacity/v1"
KIND = "CapacityPlan"

ReservationKind = Literal["capacity-reservation", "capacity-block", "none"]
Isolation = Literal["dedicated-nodes", "shared-quota"]
Orchestrator = Literal["kubernetes", "none"]
DEFAULT_LEAD_DAYS = 7
LeadDays = Annotated[StrictInt, Field(ge=0, le=365)]


class Metadata(StrictModel):
    name: Annotated[Name, Field(description="Plan name; also the default Pulumi stack name.")]
    owner: Annotated[Optional[Text], Field(description="Who answers for the plan, e.g. a team's email.")] = None
    labels: Annotated[dict[Name, Text], Field(max_length=32, description="Up to 32 labels, tagged onto every resource.")] = {}
    catalog: Annotated[Optional[RelativePath], Field(
        description="This plan's catalog file, relative to the plan: it extends or overrides the shipped "
                    "catalog, and `--catalog` goes over both.")] = None


if TYPE_CHECKING:  # the union below, as the type checker sees it (it cannot run `specs()`)
    from capacity.providers.aws import AwsSite
    from capacity.providers.azure import AzureSite
    from capacity.providers.gcp import GcpSite
    from capacity.providers.oci import OciSite
    from capacity.providers.owned import OwnedSite

    Site = Union[AwsSite, AzureSite, GcpSite, OciSite, OwnedSite]
else:  # one site model per provider module, told apart by `provider`
    Site = Annotated[Union[tuple(s.site_model for s in specs().values())], Discriminator("provider")]


class Link(StrictModel):
    between: Annotated[tuple[Name, Name], Field(description="The two sites this link joins, two different names.",
                                                json_schema_extra={"uniqueItems": True})]
    kind: Annotated[Literal["vpn"], Field(description="A site-to-site IPsec VPN (the only kind).")] = "vpn"

    @property
    def name(self) -> str:
        return f"{self.between[0]}--{self.between[1]}"


class Reservation(StrictModel):
    kind: Annotated[ReservationKind, Field(description="capacity-reservation | capacity-block | none")]
    start: Annotated[Optional[PlanDate], Field(description="First day of the reservation (default: now).")] = None
    end: Annotated[Optional[PlanDate], Field(description="Day the reservation ends (default: open-ended).")] = None
    price_per_gpu_hour: Annotated[Optional[Money], Field(description="Committed price, if the deal sets one.")] = None
    lead_days: Annotated[Optional[LeadDays], Field(
        description=f"Days before `start` the reservation is bought (default {DEFAULT_LEAD_DAYS}); "
                    "until then the deploy leaves it out.")] = None

    @property
    def lead(self) -> int:
        return DEFAULT_LEAD_DAYS if self.lead_days is None else self.lead_days

    @property
    def buy_day(self) -> dt.date | None:
        """The day the reservation is bought: `lead` days before its start (None: as soon as deployed)."""
        return self.start - dt.timedelta(days=self.lead) if self.start else None

    def scheduled(self, day: dt.date) -> bool:
        """Not bought yet on `day`: its buy day is still to come."""
        return self.buy_day is not None and day < self.buy_day

    def ended(self, day: dt.date) -> bool:
        """Run out on `day`, as planned."""
        return self.end is not None and self.end <= day


class Cluster(StrictModel):
    site: Annotated[Name, Field(description="The site (a name in `sites`) the nodes are at.")]
    instance_type: Annotated[Optional[Text], Field(description="Exact instance type; or give `accelerator`.")] = None
    accelerator: Annotated[Optional[Text], Field(description="GPU model (H100...); the catalog picks the type.")] = None
    nodes: Annotated[Count, Field(description="Number of GPU nodes (machines or racks).")]
    orchestrator: Annotated[Orchestrator, Field(description="kubernetes: a managed Kubernetes node pool (EKS, AKS, "
                                                            "GKE, OKE); none: the instances themselves.")] = "kubernetes"
    kueue: Annotated[bool, Field(strict=True, description=(
        "With `orchestrator: kubernetes`: declare each lease's Kueue queues (the cluster runs Kueue "
        "v0.17 or newer). `false` where the cluster has no Kueue: namespaces, quotas, access and "
        "network policies only."))] = True
    reservation: Annotated[Optional[Reservation], Field(description="Capacity held from the cloud for these nodes.")] = None

    @model_validator(mode="after")
    def _one_of_type_or_accelerator(self) -> "Cluster":
        if (self.instance_type is None) == (self.accelerator is None):
            raise ValueError("give exactly one of `instance_type` or `accelerator`")
        return self

    @property
    def reserved(self) -> bool:
        return self.real_reservation is not None

    @property
    def real_reservation(self) -> Reservation | None:
        """The reservation, unless there is none or it is of kind `none`."""
        return self.reservation if self.reservation is not None and self.reservation.kind != "none" else None


# A Kubernetes RBAC group as the cluster's authenticator names it (OIDC, IAM...): printable, no spaces.
Group = Annotated[str, Field(strict=True, min_length=1, max_length=256, pattern=r"^[!-~]+$",
                             description="A Kubernetes RBAC group (printable ASCII, no spaces).")]


class Tenant(StrictModel):
    """A company leasing capacity: its people's Kubernetes groups reach its leases' namespaces."""

    groups: Annotated[list[Group], Field(min_length=1, max_length=32, description=(
        "Kubernetes RBAC groups of the tenant's people; each gets the `admin` role in the namespaces "
        "of the tenant's leases, and nothing cluster-wide."))]
    contact: Annotated[Optional[Text], Field(description="Who to call about this tenant, e.g. an e-mail.")] = None


class Lease(StrictModel):
    tenant: Annotated[Name, Field(description="The business the GPUs are leased to (or the company's own team); "
                                              "when `tenants:` is given, one of its names.")]
    cluster: Annotated[Name, Field(description="The cluster (a name in `clusters`) the GPUs come from.")]
    gpus: Annotated[Count, Field(description="GPUs leased; whole nodes for dedicated-nodes.")]
    start: Annotated[PlanDate, Field(description="First day of the lease.")]
    end: Annotated[PlanDate, Field(description="Day the lease ends (the tenant holds the GPUs until then).")]
    price_per_gpu_hour: Annotated[Optional[Money], Field(
        description="Price the tenant pays per GPU-hour, USD; required unless `internal`.")] = None
    isolation: Annotated[Isolation, Field(description="dedicated-nodes: whole nodes in a pool of their own; "
                                                      "shared-quota: a quota on the shared pool.")] = "dedicated-nodes"
    internal: Annotated[bool, Field(strict=True, description=(
        "The company's own use (training, inference): takes capacity like any lease, has no price, "
        "counts as use, not revenue."))] = False

    @model_validator(mode="after")
    def _priced_unless_internal(self) -> "Lease":
        if self.internal and self.price_per_gpu_hour is not None:
            raise ValueError("an internal lease has no price. To fix: remove `price_per_gpu_hour`, or drop `internal: true`")
        if not self.internal and self.price_per_gpu_hour is None:
            raise ValueError("a lease needs `price_per_gpu_hour`. To fix: add it, or write `internal: true` for the company's own use")
        return self

    @property
    def price(self) -> float:
        """The price per GPU-hour the tenant pays (0 for internal use)."""
        return self.price_per_gpu_hour or 0.0

    def whole_nodes(self, gpus_per_node: int) -> int:
        """Nodes of `gpus_per_node` GPUs the lease covers, rounded up (a dedicated-nodes lease is whole
        nodes by validation)."""
        return -(-self.gpus // gpus_per_node)


class Plan(StrictModel):
    api_version: Annotated[Literal["capacity/v1"], Field(alias="apiVersion", description="Format version: capacity/v1.")]
    kind: Annotated[Literal["CapacityPlan"], Field(description="Always CapacityPlan.")]
    metadata: Annotated[Metadata, Field(description="The plan's name, owner and labels.")]
    sites: Annotated[dict[Name, Site], Field(min_length=1, description="Cloud regions and owned data centers, by name.")]
    links: Annotated[list[Link], Field(description="Site-to-site VPNs between cloud sites.")] = []
    clusters: Annotated[dict[Name, Cluster], Field(description="GPU nodes at a site, by name.")] = {}
    tenants: Annotated[Optional[dict[Name, Tenant]], Field(description=(
        "The tenants leases name, with their Kubernetes groups. Optional; when given, every "
        "lease's `tenant` must be one of them."))] = None
    leases: Annotated[dict[Name, Lease], Field(description="GPUs leased to other businesses, by name.")] = {}


__all__ = ["Plan", "Tenant", "Metadata", "Site", "Link", "Reservation", "Cluster", "Lease", "Network", "API_VERSION", "KIND"]
