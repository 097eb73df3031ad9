"""The capacity plan model (apiVersion capacity/v1). See docs/plan-format.md."""

from __future__ import annotations

from typing import Literal, Optional, Union

from pydantic import Discriminator, Field, model_validator

from capacity.fields import Annotated, Count, Money, Name, Network, PlanDate, StrictModel, Text
from capacity.providers import specs

API_VERSION = "capacity/v1"
KIND = "CapacityPlan"

ReservationKind = Literal["capacity-reservation", "capacity-block", "none"]
Isolation = Literal["dedicated-nodes", "shared-quota"]
Orchestrator = Literal["kubernetes", "none"]


class Metadata(StrictModel):
    name: Annotated[Name, Field(description="Plan name; also the default Pulumi stack name.")]
    owner: Optional[Text] = None
    labels: Annotated[dict[Name, Text], Field(max_length=32)] = {}


Site = Annotated[Union[tuple(s.site_model for s in specs().values())], Discriminator("provider")]


class Link(StrictModel):
    between: Annotated[tuple[Name, Name], Field(description="The two sites this link joins.")]
    kind: Literal["vpn"] = "vpn"

    @property
    def name(self) -> str:
        return f"{self.between[0]}--{self.between[1]}"


class Reservation(StrictModel):
    kind: Annotated[ReservationKind, Field(description="capacity-reservation | capacity-block | none")]
    start: Optional[PlanDate] = None
    end: Optional[PlanDate] = None
    price_per_gpu_hour: Annotated[Optional[Money], Field(description="Committed price, if the deal sets one.")] = None


class Cluster(StrictModel):
    site: Name
    instance_type: Annotated[Optional[Text], Field(description="Exact instance type; or give `accelerator`.")] = None
    accelerator: Annotated[Optional[Text], Field(description="GPU model (H100...); the catalog picks the type.")] = None
    nodes: Annotated[Count, Field(description="Number of GPU nodes (machines or racks).")]
    orchestrator: Orchestrator = "kubernetes"
    kueue: Annotated[bool, Field(strict=True, description=(
        "With `orchestrator: kubernetes`: declare each lease's Kueue queues (the cluster runs Kueue "
        "v0.17 or newer). `false` where the cluster has no Kueue: namespaces, quotas, access and "
        "network policies only."))] = True
    reservation: Optional[Reservation] = None

    @model_validator(mode="after")
    def _one_of_type_or_accelerator(self) -> "Cluster":
        if (self.instance_type is None) == (self.accelerator is None):
            raise ValueError("give exactly one of `instance_type` or `accelerator`")
        return self

    @property
    def reserved(self) -> bool:
        return self.reservation is not None and self.reservation.kind != "none"


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
    tenant: Annotated[Name, Field(description="The tenant; when `tenants:` is given, one of its names.")]
    cluster: Name
    gpus: Count
    start: PlanDate
    end: PlanDate
    price_per_gpu_hour: Money
    isolation: Isolation = "dedicated-nodes"


class Plan(StrictModel):
    api_version: Annotated[Literal["capacity/v1"], Field(alias="apiVersion")]
    kind: Literal["CapacityPlan"]
    metadata: Metadata
    sites: Annotated[dict[Name, Site], Field(min_length=1)]
    links: list[Link] = []
    clusters: dict[Name, Cluster] = {}
    tenants: Annotated[Optional[dict[Name, Tenant]], Field(description=(
        "The tenants leases name, with their Kubernetes groups. Optional; when given, every "
        "lease's `tenant` must be one of them."))] = None
    leases: dict[Name, Lease] = {}


__all__ = ["Plan", "Tenant", "Metadata", "Site", "Link", "Reservation", "Cluster", "Lease", "Network", "API_VERSION", "KIND"]
