"""The committed JSON Schema as editors and schema tools use it: it compiles under ajv strict, every
property is described, and check-jsonschema agrees with `capacity validate` on the bad-input
corpus wherever the schema can express the mistake."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from capacity.engine.pulumi_cli import cache_root
from capacity.errors import PlanError
from capacity.plan.loading import load_text
from capacity.plan.reader import parse_text

from .test_bad_input import CASES, VALID

ROOT = Path(__file__).resolve().parents[3]
SCHEMA = ROOT / "schema" / "capacity-plan.schema.json"
CHECK_JSONSCHEMA = Path(sys.executable).with_name("check-jsonschema")
AJV = ("ajv@8.20.0", "ajv-formats@3.0.1")

# The corpus cases a JSON Schema cannot express, and why: the schema accepts them, validate does not.
CATALOG = "the catalog decides, and a plan may bring its own catalog"
REFERENCE = "a reference to another entry of the plan"
BEYOND_THE_SCHEMA = {
    "nan-price": "JSON has no NaN: YAML's .nan has no JSON value for a bound to refuse",
    "lease-end-before-start": "compares two values (JSON Schema compares a value with constants only)",
    "reservation-end-before-start": "compares two values (JSON Schema compares a value with constants only)",
    "unknown-region": CATALOG,
    "unknown-instance-type": CATALOG,
    "unknown-accelerator": CATALOG,
    "type-not-in-region": CATALOG,
    "missing-site": REFERENCE,
    "missing-cluster": REFERENCE,
    "link-to-missing-site": REFERENCE,
    "overlapping-cidr": "compares the networks of two sites",
    "invalid-cidr": "host bits set: address arithmetic (the pattern checks the form only)",
    "over-power": "sums the clusters of a site with the catalog's power per node",
    "oversubscribed": "sums leases over time",
    "outside-reservation": "compares a lease's dates with its cluster's reservation",
    "dedicated-not-whole-nodes": "needs the catalog's GPUs per node",
    "gpus-over-cluster": "needs the catalog's GPUs per node",
    "capacity-block-on-azure": "depends on the provider of the cluster's site, another entry",
    "capacity-block-too-long": "date arithmetic",
}
VALID_CASES = {"yaml-1.1-no-as-name"}  # valid for both: `no` is a name, not false (YAML 1.2)

# Mistakes the schema expresses, in every kind of entry and under a bad name.
MANY_MISTAKES = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: x, owner: ""}
sites:
  Dc_1: {provider: owned, location: here, power_mw: 1, cost_per_gpu_hour: 1, network: {cidr: 10.0.0.0/33}, bogus: 2}
  aws-1: {provider: aws, region: us-east-1, network: {cidr: 10.1.0.0/16}, power_mw: 3}
  gcp-1: {provider: gcpp, region: us-central1, network: {cidr: 10.2.0.0/16}}
  az-1: {provider: azure, region: eastus2, network: {cidr: 10.3.0.0/16}}
links:
  - {between: [aws-1, aws-1]}
clusters:
  Train_A: {nodes: many, bogus: 1, site: dc, instance_type: x, orchestrator: nomad}
leases:
  L1: {tenant: t, cluster: c, gpus: 1, start: 2027-01-01, end: "2027-02-30", price_per_gpu_hour: -1}
"""


def schema_errors(paths: list[Path]) -> dict[str, list[str]]:
    """check-jsonschema on the files (one run): file name -> the JSON paths of its errors, or
    ["(parse)"] for a file it could not read."""
    done = subprocess.run([str(CHECK_JSONSCHEMA), "-o", "json", "--schemafile", str(SCHEMA), *map(str, paths)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    report = json.loads(done.stdout)
    found: dict[str, list[str]] = {Path(p).name: [] for p in paths}
    for error in report.get("errors", []):
        found[Path(error["filename"]).name].append(plan_path(error["path"]))
    for error in report.get("parse_errors", []):
        found[Path(error["filename"]).name].append("(parse)")
    return found


def validate_paths(text: str) -> list[str]:
    """The plan paths of `capacity validate`'s problems (none for a valid plan)."""
    try:
        load_text(text, "plan.yaml")
    except PlanError as exc:
        return [p.path for p in exc.problems]
    return []


def plan_path(json_path: str) -> str:
    """check-jsonschema's "$.clusters['train-a'].nodes" -> validate's "clusters.train-a.nodes"."""
    return re.sub(r"\['([^']*)'\]", r".\1", json_path).removeprefix("$").removeprefix(".")


def reported(schema_paths: list[str], path: str) -> bool:
    """A schema error at `path`, at the mapping holding it (JSON Schema reports unknown keys and
    bad names on their parent) or inside it, or the file refused as YAML."""
    parent = re.sub(r"(\.[^.\[]*|\[\d+\])$", "", path)
    return "(parse)" in schema_paths or any(
        found in (path, parent) or found.startswith(path + ".") for found in schema_paths)


@pytest.fixture(scope="module")
def corpus_errors(tmp_path_factory) -> dict[str, list[str]]:
    folder = tmp_path_factory.mktemp("corpus")
    paths = []
    for name, text, *_ in CASES:
        paths.append(folder / f"{name}.yaml")
        paths[-1].write_text(text)
    return schema_errors(paths)


def test_every_valid_plan_of_the_repository_passes_the_schema():
    found = [ROOT / "tests/unit/plan/valid.yaml", *sorted(ROOT.glob("stacks/*.yaml")), *sorted(ROOT.glob("tests/**/plans/*.yaml"))]
    plans = {p.name: p for p in found if "kind: CapacityPlan" in p.read_text() and not validate_paths(p.read_text())}
    assert len(plans) >= 10
    assert schema_errors(list(plans.values())) == {name: [] for name in plans}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_schema_agrees_with_validate(case, corpus_errors):
    name, text, path, *_ = case
    found = corpus_errors[f"{name}.yaml"]
    if name in VALID_CASES:
        assert found == [] and validate_paths(text) == []
        return
    assert path in validate_paths(text)
    if name in BEYOND_THE_SCHEMA:
        assert found == [], f"the schema now catches {name}: move it out of BEYOND_THE_SCHEMA"
    else:
        assert reported(found, path), f"{name}: validate reports {path}, the schema {found or 'nothing'}"


def test_the_list_of_what_the_schema_cannot_express_names_corpus_cases():
    assert set(BEYOND_THE_SCHEMA) | VALID_CASES <= {c[0] for c in CASES}


def test_every_mistake_the_schema_expresses_is_reported_by_both(tmp_path):
    """Bad names do not hide their entries: both report the name and what is inside."""
    plan = tmp_path / "many.yaml"
    plan.write_text(MANY_MISTAKES)
    found = schema_errors([plan])["many.yaml"]
    mine = [p for p in validate_paths(MANY_MISTAKES)
            if p not in ("clusters.Train_A.site", "leases.L1.cluster")]  # references: beyond the schema
    assert len(mine) == 14
    for path in mine:
        assert reported(found, path), f"validate reports {path}, the schema only {found}"
    assert len(found) == len(mine), (found, mine)


def test_every_property_is_described():
    """Editors show a property's description on hover and in completion."""
    missing = []

    def walk(node, where: str) -> None:
        if isinstance(node, dict):
            for name, prop in (node.get("properties") or {}).items():
                if isinstance(prop, dict) and not prop.get("description") and not where.endswith("/if"):
                    missing.append(f"{where}.{name}")
            for key, value in node.items():
                walk(value, f"{where}/{key}")
        elif isinstance(node, list):
            for item in node:
                walk(item, where)

    walk(json.loads(SCHEMA.read_text()), "#")
    assert not missing, f"give these fields Field(description=...) in the model: {missing}"


def test_names_are_anchored_and_dates_say_to_quote_them():
    text = SCHEMA.read_text()
    schema = json.loads(text)
    patterns = [v for v in _values(schema, "pattern")]
    assert patterns and all(p.startswith("^") and p.endswith("$") for p in patterns), patterns
    assert "patternProperties" not in text and "discriminator" not in text and "ipv4network" not in text
    dates = [n for n in _nodes(schema) if n.get("format") == "date"]
    assert dates and all("Quote it" in n["description"] for n in dates)


def _nodes(node):
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for item in node:
            yield from _nodes(item)


def _values(node, key):
    return [n[key] for n in _nodes(node) if isinstance(n.get(key), str)]


# --- ajv, strict -------------------------------------------------------------------------------


def _unavailable(why: str):
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true: {why}")
    pytest.skip(why)


def ajv_modules() -> Path:
    """node_modules holding ajv and ajv-formats, from the npm registry into the per-user cache
    the first time. Without node and npm, or the registry, the test skips; under CI=true it fails."""
    target = cache_root() / "ajv" / "+".join(AJV)
    if (target / "node_modules" / "ajv-formats").is_dir():
        return target / "node_modules"
    npm = shutil.which("npm")
    if npm is None or shutil.which("node") is None:
        _unavailable("no node and npm to run ajv")
    target.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=target.parent))  # then renamed: never a half-installed cache
    try:
        done = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--no-save", "--prefix", str(work), *AJV],
                              capture_output=True, text=True, timeout=600)
        if done.returncode != 0:
            _unavailable(f"npm install {' '.join(AJV)} failed:\n{done.stderr[-2000:]}")
        try:
            os.replace(work, target)
        except OSError:  # another run installed it meanwhile
            pass
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return target / "node_modules"


def run_ajv(data: dict[str, str], tmp_path: Path) -> dict[str, dict]:
    """ajv (strict) on the committed schema and on each plan text of `data`, given as JSON."""
    files = []
    for name, text in data.items():
        files.append(tmp_path / f"{name}.json")
        files[-1].write_text(json.dumps(parse_text(text, name).data))
    done = subprocess.run(["node", str(Path(__file__).with_name("ajv_strict.js")), str(SCHEMA), *map(str, files)],
                          env={**os.environ, "NODE_PATH": str(ajv_modules())}, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, f"ajv strict refuses the schema: {done.stderr}"
    return {Path(r["file"]).stem: r for r in map(json.loads, done.stdout.splitlines())}


def test_ajv_strict_compiles_the_schema_and_catches_the_mistakes(tmp_path):
    results = run_ajv({"valid": VALID, "many": MANY_MISTAKES}, tmp_path)
    assert results["valid"]["valid"] and results["valid"]["errors"] == []
    many = results["many"]
    assert not many["valid"]
    paths = {(e["path"], e["keyword"]) for e in many["errors"]}
    assert {("/sites", "propertyNames"), ("/sites/Dc_1", "additionalProperties"),
            ("/clusters", "propertyNames"), ("/clusters/Train_A", "additionalProperties"),
            ("/clusters/Train_A/nodes", "type"), ("/leases/L1/end", "format"),
            ("/sites/gcp-1/provider", "enum"), ("/links/0/between", "uniqueItems")} <= paths, paths


def test_the_generator_treats_a_new_field_like_the_others():
    """A mapping of named entries, a tagged union, a date and a network added to the model later
    come out of the generator in the same plain, strict form."""
    from typing import Literal, Union

    from pydantic import Discriminator

    from capacity.fields import Annotated, Cidr, Field, Name, PlanDate, StrictModel
    from capacity.plan.schema import _rewrite

    class Cat(StrictModel):
        kind: Annotated[Literal["cat"], Field(description="A cat.")]

    class Dog(StrictModel):
        kind: Annotated[Literal["dog"], Field(description="A dog.")]

    class Tenant(StrictModel):
        since: Annotated[PlanDate, Field(description="First day.")]
        network: Annotated[Cidr, Field(description="Its range.")]
        pet: Annotated[Union[Cat, Dog], Discriminator("kind"), Field(description="Its pet.")]

    class Extended(StrictModel):
        tenants: Annotated[dict[Name, Tenant], Field(description="Tenants, by name.")]

    raw = Extended.model_json_schema()
    schema = _rewrite(raw, raw["$defs"])
    tenants = schema["properties"]["tenants"]
    assert tenants["propertyNames"]["pattern"].startswith("^") and tenants["additionalProperties"] == {
        "$ref": "#/$defs/Tenant"}
    tenant = schema["$defs"]["Tenant"]["properties"]
    assert tenant["since"]["format"] == "date" and "Quote it" in tenant["since"]["description"]
    assert "format" not in tenant["network"] and tenant["network"]["pattern"].startswith("^(")
    assert tenant["pet"]["properties"]["kind"]["enum"] == ["cat", "dog"] and "discriminator" not in json.dumps(schema)
