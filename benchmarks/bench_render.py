"""Time rendering a large plan under Pulumi's mocks against a bare program that registers the same
resources (same types, names, parents and inputs) under the same mocks, in one run.

    python benchmarks/bench_render.py [--sites 100 --clusters 1000 --leases 1000]

The bare program is the floor: what registering those resources costs with no plan, no components'
logic and no outputs flowing between resources. Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import importlib
import inspect
import json
import os
import platform
import sys
import time
import types
from pathlib import Path

import pulumi
import pulumi.dynamic

sys.path.insert(0, str(Path(__file__).parent))
from genplan import generate  # noqa: E402

from capacity.plan.loading import load_text  # noqa: E402
from capacity.components.linkkey import PresharedKeyProvider  # noqa: E402 (importable, so dill pickles it by reference)
from capacity.components.program import package, without_type_aliases  # noqa: E402
from capacity.components.render import mock_answers, render, render_program  # noqa: E402

DAY = dt.date(2027, 6, 1)


SDKS = {"aws": "pulumi_aws", "azure-native": "pulumi_azure_native", "gcp": "pulumi_gcp", "kubernetes": "pulumi_kubernetes"}


@functools.cache
def dynamic_class(token: str) -> type:
    """A dynamic resource class registering under `token` (pulumi-python:dynamic/<module>:<name>)."""
    _, module, name = token.split(":")
    module = module.partition("/")[2]
    return types.new_class(name, (pulumi.dynamic.Resource,), {"module": module, "name": name})


def sdk_class(token: str):
    """The SDK class of a type token: aws:ec2/vpc:Vpc -> pulumi_aws.ec2.Vpc; pulumi:providers:aws -> pulumi_aws.Provider."""
    package, module, kind = token.split(":")
    if package == "pulumi" and module == "providers":
        return importlib.import_module(SDKS[kind]).Provider
    if package == "kubernetes":
        return _kubernetes_class(module, kind)
    return getattr(importlib.import_module(f"{SDKS[package]}.{module.split('/')[0]}"), kind)


def _kubernetes_class(api: str, kind: str):
    """kubernetes:core/v1:Namespace -> pulumi_kubernetes.core.v1.Namespace; networking.k8s.io/v1 ->
    pulumi_kubernetes.networking.v1; a kind the SDK does not have (Kueue's) -> its CustomResource."""
    group, _, version = api.rpartition("/")
    try:
        return getattr(importlib.import_module(f"pulumi_kubernetes.{group.split('.')[0]}.{version}"), kind)
    except (ImportError, AttributeError):
        return importlib.import_module("pulumi_kubernetes").apiextensions.CustomResource


def _kwargs(cls, inputs: dict) -> dict:
    """Wire inputs as constructor arguments: top-level keys matched to the SDK's parameter names
    (nested values stay camelCase, which the SDKs pass through as they are). Providers receive
    their settings JSON-encoded: decode them."""
    if not hasattr(cls, "_internal_init"):  # a CustomResource: apiVersion, kind, metadata, then its fields as they are
        return {("api_version" if key == "apiVersion" else key): value for key, value in inputs.items()}
    params = _parameters(cls)
    kwargs = {params[key.lower()]: value for key, value in inputs.items()}
    if issubclass(cls, pulumi.ProviderResource):
        kwargs = {key: _json_or_text(value) for key, value in kwargs.items()}
    return kwargs


@functools.cache
def _parameters(cls) -> dict[str, str]:
    return {p.replace("_", ""): p for p in inspect.signature(cls._internal_init).parameters}


def _json_or_text(value):
    try:
        return json.loads(value)
    except (TypeError, ValueError):
        return value


def bare_program(resources: list[dict], sdk: bool):
    """A program registering `resources` as they were recorded, parents first: with `sdk`, through
    the same SDK classes (and the same alias pruning) as the components; without, as plain
    custom resources of the same type and inputs. Components stay components; dynamic resources
    get the smallest provider we have (never called under mocks)."""

    def program() -> None:
        if sdk:
            pulumi.runtime.register_stack_transformation(without_type_aliases)
        made: dict[str, pulumi.Resource] = {}
        for resource in resources:
            token, name, inputs = resource["type"], resource["name"], dict(resource["inputs"])
            opts = pulumi.ResourceOptions(parent=made.get(resource["parent"]))
            if token.startswith("capacity:"):
                made_one = pulumi.ComponentResource(token, name, None, opts)
            elif token.startswith("pulumi-python:dynamic"):
                made_one = dynamic_class(token)(PresharedKeyProvider(), name, inputs, opts) if sdk else pulumi.CustomResource(token, name, inputs, opts)
            elif sdk:
                cls = sdk_class(token)
                made_one = cls(name, opts=opts, **_kwargs(cls, inputs))
            else:
                made_one = pulumi.CustomResource(token, name, inputs, opts)
            made[f"{token}::{name}"] = made_one
    return program


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=100)
    parser.add_argument("--clusters", type=int, default=1000)
    parser.add_argument("--leases", type=int, default=1000)
    args = parser.parse_args()

    loaded, load_s = timed(lambda: load_text(generate(args.sites, args.clusters, args.leases), "bench.yaml"))
    # Warm up: import the cloud SDKs (and compile them on a first run) outside the timings.
    render(load_text(generate(4, 4, 0, name="warmup"), "warmup.yaml"), DAY)

    rendering, render_s = timed(lambda: render(loaded, DAY))
    count = len(rendering.resources)
    answers = [mock_answers(package(name)) for name in sorted(loaded.providers())]
    sdk, sdk_s = timed(lambda: render_program(bare_program(rendering.resources, sdk=True), "bare", answers=answers))
    flat, flat_s = timed(lambda: render_program(bare_program(rendering.resources, sdk=False), "flat", answers=answers))
    assert len(sdk.resources) == len(flat.resources) == count, (len(sdk.resources), len(flat.resources), count)
    for mine, theirs in zip(rendering.resources, sdk.resources):
        assert mine == theirs, (mine, theirs)

    print(f"Render under mocks: {args.sites} sites, {args.clusters} clusters, {args.leases} leases "
          f"({count:,} resources); {os.cpu_count()} CPUs ({cpu_model()}), Python {platform.python_version()}, "
          f"{dt.date.today()}.\n")
    print("| program | seconds | resources/s |")
    print("|---|---:|---:|")
    print(f"| bare: the same resources through the same SDK classes | {sdk_s:.2f} | {count / sdk_s:,.0f} |")
    print(f"| `components.program.build` (render) | {render_s:.2f} | {count / render_s:,.0f} |")
    print(f"| flat: the same types and inputs as plain custom resources, no SDK | {flat_s:.2f} | {count / flat_s:,.0f} |")
    print(f"\nRender / bare: {render_s / sdk_s:.2f}x (target at most 1.5x); render / flat: {render_s / flat_s:.2f}x. "
          f"Loading and checking the plan first: {load_s:.2f} s.")


if __name__ == "__main__":
    main()
