"""A tiny dynamic resource that proves the engine works end to end.

`capacity engine setup --check` (and the engine tests) run `up` and `destroy` of one `Probe`
through the real CLI: the inline program, the engine, the `pulumi-resource-pulumi-python` host
and the unpickling of a provider class from this installed module all have to work.
Imported only when a probe runs (it imports pulumi).
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider, UpdateResult


class ProbeProvider(ResourceProvider):
    """Stores its inputs; the id is a hash of them. No side effects."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        if props.get("delay"):
            time.sleep(float(props["delay"]))  # lets tests interrupt a run mid-operation
        digest = hashlib.sha256(repr(sorted(props.items())).encode()).hexdigest()[:16]
        return CreateResult(id_=f"probe-{digest}", outs=dict(props))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [k for k in set(olds) | set(news)
                   if not k.startswith("__") and k != "delay" and olds.get(k) != news.get(k)]
        return DiffResult(changes=bool(changed), replaces=[k for k in changed if k == "replace_key"])

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=dict(news))

    def read(self, id_: str, props: dict[str, Any]) -> ReadResult:
        return ReadResult(id_=id_, outs=dict(props))

    def delete(self, _id: str, _props: dict[str, Any]) -> None:
        return None


class Probe(Resource):
    value: pulumi.Output[str]

    def __init__(self, name: str, value: str, replace_key: str = "", delay: float = 0,
                 opts: pulumi.ResourceOptions | None = None):
        props = {"value": value, "replace_key": replace_key, "delay": delay}
        super().__init__(ProbeProvider(), name, props, opts)


def program(count: int = 1, value: str = "ok", delay: float = 0):
    """An inline program registering `count` probes; exports the first one's value.
    `delay`: seconds each create takes."""

    def run() -> None:
        probes = [Probe(f"probe-{i}", value, delay=delay) for i in range(count)]
        pulumi.export("value", probes[0].value if probes else value)

    return run


def run_probe(cli=None, echo=None, count: int = 1) -> float:
    """Up and destroy `count` probes in a scratch stack (temporary state and passphrase).
    Returns the seconds it took; raises EngineError if the engine does not work."""
    import os
    import shutil
    import tempfile
    import time
    from pathlib import Path

    from capacity.engine.stack import PlanStack

    scratch = Path(tempfile.mkdtemp(prefix="capacity-probe-"))
    saved = {k: os.environ.get(k) for k in ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")}
    os.environ["PULUMI_CONFIG_PASSPHRASE"] = "capacity-probe"
    os.environ.pop("PULUMI_CONFIG_PASSPHRASE_FILE", None)
    started = time.monotonic()
    try:
        stack = PlanStack.open("probe", program(count), backend=(scratch / "pulumi").as_uri(), state_dir=scratch,
                               echo=echo or (lambda _m: None))
        result = stack.up()
        if result.outputs.get("value") is None or result.outputs["value"].value != "ok":
            from capacity.errors import EngineError

            raise EngineError(f"the probe went up but its output is wrong: {result.outputs!r}")
        stack.destroy()
        return time.monotonic() - started
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        shutil.rmtree(scratch, ignore_errors=True)
