"""Render a plan offline: run the program under Pulumi's mock monitor and record what it registers.

No engine, no credentials, no network. Every resource comes out as the engine would receive it:
type, name, parent and inputs with camelCase keys; secret values are shown as "[secret]".
Each render runs in a fresh `contextvars.Context`, so Pulumi's global runtime state (settings,
root stack) starts clean and is left untouched: render can run any number of times in a process.
"""

from __future__ import annotations

import asyncio
import contextvars
import datetime as dt
import importlib
import logging
from dataclasses import dataclass
from types import ModuleType
from typing import Any, Callable, Iterable

import pulumi
from pulumi.output import Unknown
from pulumi.runtime import mocks, rpc
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import run_pulumi_func

from capacity.errors import CapacityError
from capacity.plan.loading import LoadedPlan
from capacity.components.base import MockAnswers

SECRET = "[secret]"
UNKNOWN = "[unknown]"
PROJECT = "capacity"
# Stack config a deployment supplies; rendered as placeholders.
CONFIG = {"capacity:sshPublicKey": "ssh-ed25519 <the key set with: pulumi config set capacity:sshPublicKey>"}


class RenderError(CapacityError):
    """The plan cannot be rendered (a provider's limit or setting the plan does not meet)."""


@dataclass(frozen=True)
class Rendering:
    resources: list[dict]
    """Every registered resource, parents before children, siblings by type and name."""
    warnings: list[str]
    """Warnings the program logged (pulumi.log.warn)."""


def render(loaded: LoadedPlan, on: dt.date | None = None, preview: bool = False) -> Rendering:
    """The resources `components.program.build(loaded, on)` registers. Raises RenderError for a
    plan the components cannot build (the message says why and what to change).

    With `preview`, an output the mocks do not answer stays unknown, as in a preview, and the
    inputs made from it show as UNKNOWN; otherwise it is None and they are left out."""
    from capacity.components.addressing import AddressSpaceTooSmall
    from capacity.providers import missing_sdks
    from capacity.components.program import MissingProvider, build, package

    missing = missing_sdks(loaded.providers())
    if missing:
        raise RenderError("\n".join(missing))
    try:
        answers = [mock_answers(package(name)) for name in sorted(loaded.providers())]
        if any(cluster.orchestrator == "kubernetes" for cluster in loaded.plan.clusters.values()):
            answers.append(mock_answers(package("kubernetes")))  # the clusters' credentials
        return render_program(lambda: build(loaded, on), stack=loaded.name, answers=answers, preview=preview)
    except (AddressSpaceTooSmall, MissingProvider, MissingAnswer, pulumi.RunError) as exc:
        raise RenderError(str(exc)) from None


def mock_answers(package: ModuleType) -> MockAnswers:
    """MOCKS of the provider's `mocks` module (components/<name>/mocks.py), if it has one."""
    try:
        module = importlib.import_module(f"{package.__name__}.mocks")
    except ModuleNotFoundError as exc:
        if exc.name != f"{package.__name__}.mocks":
            raise
        return MockAnswers()
    return module.MOCKS


def render_program(program: Callable[[], None], stack: str = "render", config: dict[str, str] | None = None,
                   answers: Iterable[MockAnswers] = (), preview: bool = False) -> Rendering:
    """Run any program function under the recording mocks, with the providers' mock `answers`
    and stack `config` added to CONFIG (the benchmark and the root program's test use it too)."""
    return contextvars.Context().run(_run, program, stack, {**CONFIG, **(config or {})}, _Mocks(answers), preview)


def _run(program: Callable[[], None], stack: str, config: dict[str, str], answers: "_Mocks",
         preview: bool) -> Rendering:
    log = _WarningLog()
    monitor = _Monitor(answers)
    set_all_config(config)
    mocks.set_mocks(answers, project=PROJECT, stack=stack, preview=preview, logger=log, monitor=monitor)
    _run_to_end(run_pulumi_func(program))
    return Rendering(monitor.ordered(), sorted(log.warnings))  # warnings arrive in task order


def _run_to_end(awaitable) -> None:
    """Run the program on this thread's event loop, the one the mocks' own waits pump (public
    asyncio only: no private SDK helper)."""
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = asyncio.new_event_loop()
        asyncio.set_event_loop(loop)
    loop.run_until_complete(asyncio.ensure_future(awaitable, loop=loop))


def _plain(value: Any) -> Any:
    """A deserialized input with secrets masked and internal keys (`__provider`...) dropped."""
    if rpc.is_rpc_secret(value):
        return SECRET
    if isinstance(value, Unknown):
        return UNKNOWN
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items()) if not k.startswith("__")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # the wire carries every number as a double
    return value


def _physical_name(typ: str, name: str, inputs: dict) -> str:
    """The name the cloud would give: the `name` input, or azure-native's `<type>Name` /
    `resourceName`, else the logical name."""
    kind = typ.rsplit(":", 1)[-1]
    for key in ("name", kind[:1].lower() + kind[1:] + "Name", "resourceName"):
        if isinstance(inputs.get(key), str):
            return inputs[key]
    return name


class MissingAnswer(Exception):
    """A component called an invoke no provider's MOCKS answers."""


class _Mocks(mocks.Mocks):
    """Resources answer with their inputs, an id, a physical name and what their provider's
    MOCKS compute; invokes with what the provider's MOCKS answer."""

    def __init__(self, answers: Iterable[MockAnswers]) -> None:
        self.invokes: dict[str, Callable[[dict], dict]] = {}
        self.outputs: dict[str, Callable[[str, dict], dict]] = {}
        for answer in answers:
            self.invokes.update(answer.invokes)
            self.outputs.update(answer.outputs)

    def new_resource(self, args) -> tuple[str, dict]:
        state = dict(args.inputs)
        state.pop("__provider", None)
        for key, value in list(state.items()):
            if value is None:  # declared outputs of dynamic resources: computed at deploy time
                state[key] = f"{args.name}-{key}"
        state["name"] = _physical_name(args.typ, args.name, args.inputs)
        for key in (args.typ.split(":")[0], args.typ):  # the package's defaults, then the type's
            if key in self.outputs:
                state.update(self.outputs[key](state["name"], args.inputs))
        return f"{args.name}-id", state

    def call(self, args) -> tuple[dict, list]:
        answer = self.invokes.get(args.token)
        if answer is None:
            package = args.token.split(":")[0]
            raise MissingAnswer(f"the components call {args.token}, which has no mock answer; "
                                f"add one to MOCKS in the package of provider '{package}'")
        return answer(args.args), []


class _WarningLog(logging.Logger):
    def __init__(self) -> None:
        super().__init__("capacity.render", logging.WARNING)
        self.warnings: list[str] = []

    def handle(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            self.warnings.append(record.getMessage())


class _Monitor(mocks.MockMonitor):
    """The mock monitor, also keeping each registration's type, name, parent and inputs."""

    def __init__(self, answers: mocks.Mocks) -> None:
        super().__init__(answers)
        self.registered: dict[str, dict] = {}

    def RegisterResource(self, request):
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self.registered[response.urn] = {
                "type": request.type,
                "name": request.name,
                "parent": request.parent,
                "inputs": _plain(rpc.deserialize_properties(request.object)),
            }
        return response

    def ordered(self) -> list[dict]:
        """Parents first, each followed by its children; siblings by type and name. Parents are
        shown as `type::name`; top-level resources (the stack's children) have none."""
        children: dict[str, list[str]] = {}
        for urn, entry in self.registered.items():
            parent = entry["parent"] if entry["parent"] in self.registered else ""
            children.setdefault(parent, []).append(urn)
        out: list[dict] = []
        pending = sorted(children.get("", []), key=self._sort_key, reverse=True)
        while pending:
            urn = pending.pop()
            entry = self.registered[urn]
            up = self.registered.get(entry["parent"])
            out.append({"type": entry["type"], "name": entry["name"],
                        "parent": f"{up['type']}::{up['name']}" if up else None, "inputs": entry["inputs"]})
            pending.extend(sorted(children.get(urn, []), key=self._sort_key, reverse=True))
        return out

    def _sort_key(self, urn: str) -> tuple[str, str]:
        return self.registered[urn]["type"], self.registered[urn]["name"]
