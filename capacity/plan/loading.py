"""Loading a plan: YAML -> model -> checks, with every problem reported at its line."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any
from pathlib import Path

from pydantic import ValidationError
from pydantic_core import ErrorDetails

from capacity.plan import messages
from capacity.plan.catalog import Catalog, InstanceType, load_catalog
from capacity.plan.checks import check
from capacity.errors import PlanError, Problem
from capacity.plan.model import Lease, Plan
from capacity.plan.files import OnDisk, PlanFiles, with_own_catalog
from capacity.plan.reader import Document, parse_text, read_file

SECTIONS = ("sites", "clusters", "tenants", "leases")


@dataclass(frozen=True)
class LoadedPlan:
    """A valid plan with the catalog entry each cluster resolved to."""

    plan: Plan
    doc: Document
    catalog: Catalog
    types: dict[str, InstanceType]

    @property
    def name(self) -> str:
        return self.plan.metadata.name

    def gpus(self, cluster: str) -> int:
        return self.plan.clusters[cluster].nodes * self.types[cluster].gpus

    @property
    def total_gpus(self) -> int:
        return sum(self.gpus(name) for name in self.plan.clusters)

    def providers(self) -> set[str]:
        return {site.provider for site in self.plan.sites.values()}

    def leases_on(self, cluster: str) -> dict[str, Lease]:
        return {name: lease for name, lease in self.plan.leases.items() if lease.cluster == cluster}

    def active_leases(self, on: dt.date | None = None) -> dict[str, Lease]:
        """Leases running on a day (today by default) or starting later: those a change can break."""
        day = on or dt.date.today()
        return {name: lease for name, lease in self.plan.leases.items() if lease.end > day}

    def summary(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "sites": len(self.plan.sites),
            "clusters": len(self.plan.clusters),
            "leases": len(self.plan.leases),
            "links": len(self.plan.links),
            "gpus": self.total_gpus,
            "providers": sorted(self.providers()),
        }


def load_plan(path: str | Path, catalog: str | Path | None = None, shown_as: str | None = None) -> LoadedPlan:
    """Read, model and check a plan file. Raises PlanError with every problem found."""
    return build(read_file(path, shown_as), catalog, OnDisk(path, shown_as or str(path)))


def load_text(text: str, file: str, catalog: str | Path | None = None) -> LoadedPlan:
    """A plan given as text: a catalog it names is relative to the current directory."""
    return build(parse_text(text, file), catalog, OnDisk(None))


def build(doc: Document, catalog: str | Path | Catalog | None = None, files: PlanFiles | None = None) -> LoadedPlan:
    """`catalog` (--catalog) goes over the plan's own `metadata.catalog`, read through `files`."""
    cat = catalog if isinstance(catalog, Catalog) else load_catalog(catalog)
    plan, problems, broken = _model(doc)
    if plan is not None and plan.metadata.catalog:
        try:
            cat = with_own_catalog(doc, plan.metadata.catalog, cat, files or OnDisk(None))
        except PlanError as exc:
            raise PlanError(problems + exc.problems) from None
    if plan is not None:
        checker = check(plan, doc, cat, broken)
        problems += checker.problems
        if not problems:
            return LoadedPlan(plan, doc, cat, checker.types)
    raise PlanError(problems)


def _model(doc: Document) -> tuple[Plan | None, list[Problem], set[tuple[str, str]]]:
    """The model of the plan; when parts are invalid, the model of the valid rest, so the checks
    still see it and every problem is reported in one run."""
    try:
        return Plan.model_validate(doc.data), [], set()
    except ValidationError as exc:
        errors = exc.errors()
    problems = [messages.problem(doc, err) for err in errors]
    data, broken = _valid_rest(doc.data, errors)
    try:
        return Plan.model_validate(data), problems, broken
    except ValidationError:
        return None, problems, broken


# Stand-ins for broken top-level parts, so the checks can still run on the rest.
_STAND_INS = {"apiVersion": "capacity/v1", "kind": "CapacityPlan", "metadata": {"name": "plan"}}


def _valid_rest(raw: dict[str, Any], errors: list[ErrorDetails]) -> tuple[dict[str, Any], set[tuple[str, str]]]:
    """The plan without the items that failed the model (and stand-ins for broken headers)."""
    data = dict(raw)
    broken: set[tuple[str, str]] = set()
    bad_links: set[int] = set()
    for err in errors:
        loc = err["loc"]
        top = loc[0] if loc else None
        if len(loc) >= 2 and top in SECTIONS and isinstance(data.get(top), dict):
            broken.add((top, str(loc[1])))
        elif len(loc) >= 2 and top == "links" and isinstance(loc[1], int):
            bad_links.add(loc[1])
        elif top in _STAND_INS:
            data[str(top)] = _STAND_INS[str(top)]
        elif top is not None:
            data.pop(str(top), None)
    for section, name in broken:
        data[section] = {k: v for k, v in data[section].items() if k != name}
    if bad_links and isinstance(data.get("links"), list):
        data["links"] = [link for i, link in enumerate(data["links"]) if i not in bad_links]
    return data, broken
