"""`capacity resources` shows every input `up` would send: no input is made from an output the
providers' mocks leave out, and every resource carries the inputs its SDK requires (the
required constructor parameters of the SDK's own `*Args` class)."""

from __future__ import annotations

import importlib
import inspect
import json
from functools import cache
from pathlib import Path

import pytest
from pulumi._types import input_type_py_to_pulumi_names
from pulumi.runtime.rpc import get_resource_module

from capacity.plan.loading import load_plan, load_text
from capacity.components.render import UNKNOWN, render

from .conftest import DAY, EXAMPLE, ROOT

OCI_PLAN = ROOT / "tests" / "unit" / "plans" / "oci.yaml"
OWNED_LINKS_PLAN = ROOT / "tests" / "unit" / "plans" / "owned-links.yaml"
# Ours, not a cloud's: components, dynamic resources (owned inventory, link keys), explicit providers.
NOT_CLOUD = ("capacity:", "pulumi-python:dynamic", "pulumi:providers:")
# Importing a whole SDK module to read its Args classes warns about its deprecated types.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def _flipped(path: Path) -> str:
    """The plan with every cluster's orchestrator swapped, so both kinds of cluster are rendered."""
    text = path.read_text()
    return (text.replace("orchestrator: kubernetes", "orchestrator: @").replace("orchestrator: none", "orchestrator: kubernetes")
            .replace("orchestrator: @", "orchestrator: none"))


@cache
def renderings() -> list[dict]:
    """Every resource of the example plan, the OCI plan (each also with orchestrators swapped) and
    the plan of links to owned sites (VPNs and interconnects to every cloud),
    rendered as a preview: an output no mock answers stays unknown (UNKNOWN in the inputs made
    from it), where `capacity resources` would leave those inputs out."""
    loaded = [load_plan(EXAMPLE), load_plan(OCI_PLAN), load_plan(OWNED_LINKS_PLAN),
              load_text(_flipped(EXAMPLE), "example.yaml"), load_text(_flipped(OCI_PLAN), "oci.yaml")]
    return [r for plan in loaded for r in render(plan, DAY, preview=True).resources]


def _unknown_inputs(value, path: str = "") -> list[str]:
    if value == UNKNOWN:
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _unknown_inputs(v, f"{path}.{k}" if path else k)]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _unknown_inputs(v, f"{path}[{i}]")]
    return []


def test_no_input_is_made_from_an_output_the_mocks_leave_out():
    unknown = [f"{r['type']} {r['name']}: {p}" for r in renderings() for p in _unknown_inputs(r["inputs"])]
    assert not unknown, "answer these outputs in components/<provider>/mocks.py:\n" + "\n".join(unknown)


def test_a_missing_answer_shows_as_unknown():
    """The check above can fail: without the VCN's defaults, the OCI default security list has no
    `manageDefaultResourceId`."""
    from capacity.components.oci import mocks

    answers = mocks.MOCKS.outputs
    saved = answers.pop("oci:Core/vcn:Vcn")
    try:
        resources = render(load_plan(OCI_PLAN), DAY, preview=True).resources
    finally:
        answers["oci:Core/vcn:Vcn"] = saved
    security_lists = [r for r in resources if r["type"] == "oci:Core/defaultSecurityList:DefaultSecurityList"]
    assert security_lists and all(r["inputs"]["manageDefaultResourceId"] == UNKNOWN for r in security_lists)


@cache
def required_inputs(token: str) -> tuple[str, ...]:
    """The inputs the SDK's `<Type>Args` requires (constructor parameters without a default),
    by their wire names. The SDK's resource module registry maps the token to its class."""
    package, module, _ = token.split(":")
    registered = get_resource_module(package, module, "")
    if registered is None and package == "kubernetes":
        # an object of a CRD (Kueue's): pulumi_kubernetes' CustomResource requires these two
        args = inspect.signature(importlib.import_module("pulumi_kubernetes.apiextensions").CustomResource.__init__)
        assert {"api_version", "kind"} <= set(args.parameters)
        return ("apiVersion", "kind")
    assert registered is not None, f"no SDK module registers {token}"
    info = registered.mod_info
    args = getattr(importlib.import_module(info["fqn"]), info["classes"][token] + "Args")
    wire = input_type_py_to_pulumi_names(args)
    return tuple(wire[name] for name, parameter in inspect.signature(args.__init__).parameters.items()
                 if parameter.kind is parameter.KEYWORD_ONLY and parameter.default is parameter.empty)


def _cloud_types() -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for resource in renderings():
        if not resource["type"].startswith(NOT_CLOUD):
            found.setdefault(resource["type"], []).append(resource)
    return found


def test_every_resource_type_gets_its_required_inputs():
    types = _cloud_types()
    # every provider's resources are checked, and among them ones with required inputs
    assert {t.split(":")[0] for t in types} == {"aws", "azure-native", "gcp", "oci", "kubernetes"}
    assert sum(1 for t in types if required_inputs(t)) >= 40
    missing = [f"{r['type']} {r['name']}: {key}" for token, resources in sorted(types.items())
               for r in resources for key in required_inputs(token) if r["inputs"].get(key) in (None, "", [], {}, UNKNOWN)]
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("token,key", [("oci:Core/defaultSecurityList:DefaultSecurityList", "manageDefaultResourceId"),
                                       ("aws:ec2/vpc:Vpc", None)])
def test_required_inputs_read_from_the_sdk(token, key):
    """The SDK's Args classes are read as they are: OCI's default security list requires the id
    of the list it manages; an AWS VPC requires nothing."""
    assert required_inputs(token) == ((key,) if key else ())


def test_rendered_oci_default_security_list_manages_the_vcns():
    vcns = {r["name"]: r for r in renderings() if r["type"] == "oci:Core/vcn:Vcn"}
    lists = [r for r in renderings() if r["type"] == "oci:Core/defaultSecurityList:DefaultSecurityList"]
    assert lists
    for security_list in lists:
        site = security_list["name"].removesuffix("-default")
        assert site + "-vcn" in vcns
        assert security_list["inputs"]["manageDefaultResourceId"].startswith("ocid1.securitylist.oc1..mock")
    assert json.dumps(lists)  # plain JSON, as `capacity resources --format json` prints it
