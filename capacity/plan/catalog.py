"""The GPU catalog: instance types, their GPUs, regions, prices and power, from catalog.yaml.

Users extend or override it with files of the same shape, in layers: the shipped catalog, then
the plan's own (`metadata.catalog`, see `own_catalog`), then `--catalog FILE`. An entry with the
same provider and instance type as one below replaces it, and its regions join the provider's.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import Any, Literal, Optional

from pydantic import ValidationError

from capacity.errors import PlanError, Problem, did_you_mean
from capacity.fields import Annotated, Field, StrictModel, Text
from capacity.plan.reader import Document, Kind, read_file

SHIPPED = Path(__file__).with_name("catalog.yaml")
CATALOG = Kind("catalog", "as_of, sources, regions, instance_types",
               "list instance types under `instance_types:` (docs/file-formats.md)")

class InstanceTypeEntry(StrictModel):
    provider: Text
    instance_type: Text
    accelerator: Text
    gpus: Annotated[int, Field(strict=True, gt=0, le=1024)]
    gpu_memory_gb: Annotated[int, Field(strict=True, gt=0)]
    price_per_hour: Annotated[Optional[float], Field(strict=True, ge=0, allow_inf_nan=False)] = None
    regions: list[Text] = []
    kw_per_node: Annotated[Optional[float], Field(strict=True, gt=0, allow_inf_nan=False)] = None
    interconnect: Optional[Text] = None


class LinkPrice(StrictModel):
    """A VPN connection's or an interconnect port's (circuit's) list price, per hour."""

    provider: Text
    kind: Literal["vpn", "interconnect"]
    bandwidth_gbps: Annotated[Optional[float], Field(strict=True, gt=0, allow_inf_nan=False)] = None
    partner: Annotated[bool, Field(strict=True)] = False
    price_per_hour: Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False)]
    product: Optional[Text] = None

    @property
    def key(self) -> tuple[str, str, float | None, bool]:
        return (self.provider, self.kind, self.bandwidth_gbps, self.partner)


class CatalogFile(StrictModel):
    as_of: Optional[Text] = None
    sources: list[Text] = []
    regions: dict[Text, list[Text]] = {}
    instance_types: list[InstanceTypeEntry] = []
    links: list[LinkPrice] = []


@dataclass(frozen=True)
class InstanceType:
    provider: str
    instance_type: str
    accelerator: str
    gpus: int
    gpu_memory_gb: int
    price_per_hour: float | None
    regions: frozenset[str]
    kw_per_node: float | None
    interconnect: str | None

    @property
    def price_per_gpu_hour(self) -> float | None:
        return None if self.price_per_hour is None else self.price_per_hour / self.gpus

    def offered_in(self, region: str | None) -> bool:
        return region is None or not self.regions or region in self.regions

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "instance_type": self.instance_type,
            "accelerator": self.accelerator,
            "gpus": self.gpus,
            "gpu_memory_gb": self.gpu_memory_gb,
            "regions": sorted(self.regions),
            "price_per_hour": self.price_per_hour,
            "kw_per_node": self.kw_per_node,
            "interconnect": self.interconnect,
        }


@dataclass(frozen=True)
class Layer:
    """A catalog file laid over the shipped catalog."""

    data: CatalogFile
    file: str


@dataclass(frozen=True)
class Catalog:
    as_of: str
    types: dict[tuple[str, str], InstanceType]
    regions: dict[str, frozenset[str]]
    layers: tuple[Layer, ...] = ()  # the files over the shipped catalog, lowest first
    links: dict[tuple[str, str, float | None, bool], LinkPrice] = field(default_factory=dict)
    """Link prices by (provider, kind, bandwidth_gbps, partner)."""

    def link_price(self, provider: str, kind: str, bandwidth: float | None = None, partner: bool = False) -> LinkPrice | None:
        return self.links.get((provider, kind, bandwidth, partner))

    def bandwidths(self, provider: str, partner: bool) -> list[float]:
        """The interconnect speeds the provider offers, in Gbps, as dedicated ports or through a partner."""
        return sorted(p.bandwidth_gbps for (name, kind, _, by_partner), p in self.links.items()
                      if name == provider and kind == "interconnect" and by_partner == partner
                      and p.bandwidth_gbps is not None)

    def lookup(self, provider: str, instance_type: str) -> InstanceType | None:
        return self.types.get((provider, instance_type))

    def of(self, provider: str | None = None) -> list[InstanceType]:
        return [t for (p, _), t in self.types.items() if provider is None or p == provider]

    def pick(self, provider: str, accelerator: str, region: str | None) -> InstanceType | None:
        """The first listed type of this accelerator that the region offers."""
        for entry in self.of(provider):
            if entry.accelerator == accelerator and entry.offered_in(region):
                return entry
        return None

    def accelerators(self, provider: str) -> list[str]:
        return sorted({t.accelerator for t in self.of(provider)})


def _entries(doc: Document) -> CatalogFile:
    try:
        return CatalogFile.model_validate(doc.data)
    except ValidationError as exc:
        from capacity.plan import messages

        raise PlanError(messages.problem(doc, err, CatalogFile) for err in exc.errors()) from None


def _merge(base: Catalog | None, data: CatalogFile) -> Catalog:
    types = dict(base.types) if base else {}
    regions = {p: set(r) for p, r in (base.regions.items() if base else [])}
    for provider, names in data.regions.items():
        regions.setdefault(provider, set()).update(names)
    for entry in data.instance_types:
        fields = entry.model_dump()
        fields["regions"] = frozenset(entry.regions)
        types[(entry.provider, entry.instance_type)] = InstanceType(**fields)
        regions.setdefault(entry.provider, set()).update(entry.regions)
    as_of = data.as_of or (base.as_of if base else "")
    links = {**(base.links if base else {}), **{price.key: price for price in data.links}}
    return Catalog(as_of, types, {p: frozenset(r) for p, r in regions.items()}, links=links)


@cache
def shipped() -> Catalog:
    return _merge(None, _entries(read_file(SHIPPED, kind=CATALOG)))


def load_catalog(extra: str | Path | None = None) -> Catalog:
    """The shipped catalog, extended or overridden by `extra` if given."""
    if extra is None:
        return shipped()
    return _layered([_layer(read_file(extra, kind=CATALOG))])


def own_catalog(doc: Document, below: Catalog) -> Catalog:
    """`below` (the shipped catalog and any --catalog files) with a plan's own catalog file slipped
    in under the --catalog files: they still override the plan's entries."""
    return _layered([_layer(doc), *below.layers])


def _layer(doc: Document) -> Layer:
    data = _entries(doc)
    problems = _file_problems(doc, data)
    if problems:
        raise PlanError(problems)
    return Layer(data, doc.file)


def _layered(layers: list[Layer]) -> Catalog:
    catalog = shipped()
    for layer in layers:
        catalog = _merge(catalog, layer.data)
    return replace(catalog, layers=tuple(layers))


def _file_problems(doc: Document, data: CatalogFile) -> list[Problem]:
    """What the model cannot see in a user's catalog: unknown providers, owned types without power."""
    from capacity.providers import specs

    known = sorted(specs())

    def unknown(name: str) -> str:
        return f"unknown provider '{name}'.{did_you_mean(name, known)} Providers: {', '.join(known)}."

    problems = [doc.problem(("regions", name), unknown(name), key=True) for name in data.regions if name not in known]
    for index, entry in enumerate(data.instance_types):
        if entry.provider not in known:
            problems.append(doc.problem(("instance_types", index, "provider"), unknown(entry.provider)))
        elif entry.provider == "owned" and entry.kw_per_node is None:
            problems.append(doc.problem(("instance_types", index), f"owned hardware needs kw_per_node: "
                                        f"{entry.instance_type} has none. To fix: add the system's power draw per "
                                        "node in kW."))
    return problems
