"""The capacity plan model (apiVersion capacity/v1). See docs/plan-format.md."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Literal, Optional, Union

from pydantic import Discriminator, Field, StrictInt, model_validator

from capacity.fields import Annotated, Count, Money, Name, Network, PlanDate, RelativePath, StrictModel, Text
from capacity.providers import specs

API_VERSION = "capacity/v1"
KIND = "CapacityPlan"

ReservationKind = Literal["capacity-reservation", "capacity-block", "none"]
Isolation = Literal["dedicated-nodes", "shared-quota"]
Orchestrator = Literal["kubernetes", "slurm", "none"]
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


Bandwidth = Annotated[float, Field(strict=True, gt=0, le=400, allow_inf_nan=False)]


class Link(StrictModel):
    between: Annotated[tuple[Name, Name], Field(description="The two sites this link joins, two different names.",
                                                json_schema_extra={"uniqueItems": True})]
    kind: Annotated[Literal["vpn", "interconnect"], Field(
        description="vpn: a site-to-site IPsec VPN with BGP; interconnect: a dedicated circuit between an owned "
                    "site and a cloud (Direct Connect, ExpressRoute, Cloud Interconnect, FastConnect).")] = "vpn"
    bandwidth_gbps: Annotated[Optional[Bandwidth], Field(
        description="interconnect: the port or circuit speed in Gbps, one the cloud offers (`capacity catalog --links`).")] = None
    location: Annotated[Optional[Text], Field(
        description="interconnect: the colocation facility or peering location, e.g. 'EqDC2' or 'Washington DC'.")] = None
    provider_partner: Annotated[Optional[Text], Field(
        description="interconnect: the partner carrying the circuit (hosted/partner connection); "
                    "without it, a dedicated port.")] = None

    @model_validator(mode="after")
    def _fields_of_its_kind(self) -> "Link":
        if self.kind == "interconnect" and (self.bandwidth_gbps is None or self.location is None):
            raise ValueError("an interconnect needs `bandwidth_gbps` and `location`. To fix: add both")
        if self.kind == "vpn" and (self.bandwidth_gbps or self.location or self.provider_partner):
            raise ValueError("`bandwidth_gbps`, `location` and `provider_partner` are for `kind: interconnect`. "
                             "To fix: remove them, or write `kind: interconnect`")
        return self

    @property
    def name(self) -> str:
        """`<a>--<b>` for a VPN, `<a>--<b>--ic` for an interconnect (the two may join the same sites)."""
        return f"{self.between[0]}--{self.between[1]}" + ("--ic" if self.kind == "interconnect" else "")


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
                                                            "GKE, OKE); slurm: an owned site's Slurm cluster (give "
                                                            "`slurm`); none: the instances themselves.")] = "kubernetes"
    kueue: Annotated[bool, Field(strict=True, description=(
        "With `orchestrator: kubernetes`: declare each lease's Kueue queues (the cluster runs Kueue "
        "v0.17 or newer). `false` where the cluster has no Kueue: namespaces, quotas, access and "
        "network policies only."))] = True
    reservation: Annotated[Optional[Reservation], Field(description="Capacity held from the cloud for these nodes.")] = None
    slurm: Annotated[Optional["SlurmCluster"], Field(description=(
        "With `orchestrator: slurm`: the Slurm cluster whose accounts, QOS and reservations enforce "
        "the leases (docs/tenancy.md)."))] = None

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


# -- Slurm (orchestrator: slurm): names as Slurm's accounting accepts them (it lowercases names).
SlurmName = Annotated[str, Field(strict=True, pattern=r"^[a-z][a-z0-9_-]{0,39}$", description=(
    "A Slurm cluster or account name: a lowercase letter, then up to 39 of a-z, 0-9, '_' or '-'."))]
SlurmPartition = Annotated[str, Field(strict=True, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", description=(
    "A Slurm partition name (letters, digits, '_', '.', '-'; not DEFAULT)."))]
SlurmUser = Annotated[str, Field(strict=True, pattern=r"^[a-z_][a-z0-9_.-]{0,31}$", description=(
    "A login name as Slurm knows it (lowercase, up to 32 characters)."))]


class SlurmCluster(StrictModel):
    """Where a cluster's leases are enforced in Slurm; how to run Slurm's commands is given outside
    the plan (CAPACITY_SLURM_<CLUSTER> or the secret stack config capacity:slurm-<cluster>)."""

    cluster: Annotated[SlurmName, Field(description="ClusterName of slurm.conf, as registered in slurmdbd.")]
    partition: Annotated[SlurmPartition, Field(description="The partition of the GPU nodes; reservations are made in it.")]
    account: Annotated[Optional[SlurmName], Field(description=(
        "The parent account of the tenants' accounts (default: the plan's name)."))] = None


Cluster.model_rebuild()


class Tenant(StrictModel):
    """A company leasing capacity: its people's Kubernetes groups reach its leases' namespaces; its
    Slurm users submit under its account."""

    groups: Annotated[list[Group], Field(min_length=1, max_length=32, description=(
        "Kubernetes RBAC groups of the tenant's people; each gets the `admin` role in the namespaces "
        "of the tenant's leases, and nothing cluster-wide."))] = []
    users: Annotated[list[SlurmUser], Field(max_length=256, description=(
        "Slurm users of the tenant's people: each is associated with the tenant's account on the "
        "Slurm clusters of its leases."))] = []
    contact: Annotated[Optional[Text], Field(description="Who to call about this tenant, e.g. an e-mail.")] = None


# ------------------------------------------------------------------ lease amendments (issue 19)


class Amendment(StrictModel):
    """New terms of a lease from a day on: its GPUs, its price, or both."""

    from_: Annotated[PlanDate, Field(alias="from", description="The day the new terms begin (inside the lease).")]
    gpus: Annotated[Optional[Count], Field(description="GPUs leased from that day (default: unchanged).")] = None
    price_per_gpu_hour: Annotated[Optional[Money], Field(
        description="Price per GPU-hour from that day, USD (default: unchanged).")] = None

    @model_validator(mode="after")
    def _changes_something(self) -> "Amendment":
        if self.gpus is None and self.price_per_gpu_hour is None:
            raise ValueError("an amendment changes `gpus`, `price_per_gpu_hour` or both. To fix: give one")
        return self


@dataclass(frozen=True)
class Term:
    """A stretch [start, end) of a lease with the same GPUs and price."""

    start: dt.date
    end: dt.date
    gpus: int
    price: float

    @property
    def hours(self) -> int:
        return (self.end - self.start).days * 24


def _amendments_in_order(lease: "Lease") -> None:
    days = [a.from_ for a in lease.amendments]
    if days != sorted(set(days)):
        raise ValueError("amendments come in date order, one per day. To fix: sort them by `from`")
    for a in lease.amendments:
        if not lease.start < a.from_ < lease.end:
            raise ValueError(f"the amendment from {a.from_} is not inside the lease ({lease.start} to {lease.end}). "
                             "To fix: date it after the start and before the end")
        if lease.internal and a.price_per_gpu_hour is not None:
            raise ValueError("an internal lease has no price, amended or not. To fix: remove the amendment's "
                             "`price_per_gpu_hour`")


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
    amendments: Annotated[list[Amendment], Field(max_length=120, description=(
        "Changes to the lease from a day on (`from`), in date order: its GPUs, its price or both. "
        "Before the first, the lease has `gpus` at `price_per_gpu_hour`."))] = []

    @model_validator(mode="after")
    def _priced_unless_internal(self) -> "Lease":
        if self.internal and self.price_per_gpu_hour is not None:
            raise ValueError("an internal lease has no price. To fix: remove `price_per_gpu_hour`, or drop `internal: true`")
        if not self.internal and self.price_per_gpu_hour is None:
            raise ValueError("a lease needs `price_per_gpu_hour`. To fix: add it, or write `internal: true` for the company's own use")
        _amendments_in_order(self)
        return self

    @cached_property
    def terms(self) -> tuple[Term, ...]:
        """The lease cut at each amendment: GPUs and price per stretch, start to end (computed once)."""
        if not self.amendments:
            return (Term(self.start, self.end, self.gpus, self.price),) if self.start < self.end else ()
        out, gpus, price = [], self.gpus, self.price
        days = [self.start] + [a.from_ for a in self.amendments] + [self.end]
        for index, (start, end) in enumerate(zip(days, days[1:])):
            if index:
                amendment = self.amendments[index - 1]
                gpus = amendment.gpus or gpus
                price = price if amendment.price_per_gpu_hour is None else amendment.price_per_gpu_hour
            if start < end:
                out.append(Term(start, end, gpus, price))
        return tuple(out)

    def gpus_on(self, day: dt.date) -> int:
        """GPUs held on `day` (0 outside the lease)."""
        return next((t.gpus for t in self.terms if t.start <= day < t.end), 0)

    def gpus_at(self, day: dt.date) -> int:
        """GPUs the lease holds on `day`; before it starts its first term's, after it ends its last one's."""
        terms = self.terms
        return next((t.gpus for t in terms if day < t.end), terms[-1].gpus if terms else self.gpus)

    def price_on(self, day: dt.date) -> float:
        """Price per GPU-hour on `day`: the first term's before the lease, the last one's after it."""
        terms = self.terms
        return next((t.price for t in terms if day < t.end), terms[-1].price if terms else self.price)

    @property
    def peak_gpus(self) -> int:
        return max((t.gpus for t in self.terms), default=self.gpus)

    @property
    def price(self) -> float:
        """The price per GPU-hour the tenant pays (0 for internal use)."""
        return self.price_per_gpu_hour or 0.0

    def whole_nodes(self, gpus_per_node: int, day: dt.date) -> int:
        """Nodes of `gpus_per_node` GPUs the lease covers on `day`, rounded up (a dedicated-nodes lease
        is whole nodes by validation)."""
        return -(-self.gpus_at(day) // gpus_per_node)


class Plan(StrictModel):
    api_version: Annotated[Literal["capacity/v1"], Field(alias="apiVersion", description="Format version: capacity/v1.")]
    kind: Annotated[Literal["CapacityPlan"], Field(description="Always CapacityPlan.")]
    metadata: Annotated[Metadata, Field(description="The plan's name, owner and labels.")]
    sites: Annotated[dict[Name, Site], Field(min_length=1, description="Cloud regions and owned data centers, by name.")]
    links: Annotated[list[Link], Field(description="VPNs and interconnects between sites, owned ones included.")] = []
    clusters: Annotated[dict[Name, Cluster], Field(description="GPU nodes at a site, by name.")] = {}
    tenants: Annotated[Optional[dict[Name, Tenant]], Field(description=(
        "The tenants leases name, with their Kubernetes groups. Optional; when given, every "
        "lease's `tenant` must be one of them."))] = None
    leases: Annotated[dict[Name, Lease], Field(description="GPUs leased to other businesses, by name.")] = {}


__all__ = ["Plan", "Amendment", "Term", "Tenant", "SlurmCluster", "Metadata", "Site", "Link", "Reservation", "Cluster",
           "Lease", "Network", "API_VERSION", "KIND"]
