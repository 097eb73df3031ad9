"""Engine events made into steps: what an operation planned or did, its diagnostics, its summary.

`Recorder` is the `on_event` callback of every Automation API call: it records the steps
(`recorder.steps`, for `preview --format json`), the errors and warnings, and the summary, and
calls a hook for each (`on_step`, `on_diagnostic`, `on_summary`) that a display overrides. The
display itself (a rich live view, plain lines, JSON lines) is the CLI's: capacity/cli/progress.py.
"""

from __future__ import annotations

import json
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from capacity.engine.deployment import urn_name

QUIET_OPS = {"same", "read", "discard", "discard-replaced", "remove-pending-replace"}
VERBS = {
    "create": ("+", "creating", "created"),
    "update": ("~", "updating", "updated"),
    "delete": ("-", "deleting", "deleted"),
    "replace": ("+-", "replacing", "replaced"),
    "create-replacement": ("++", "creating replacement", "created replacement"),
    "delete-replaced": ("--", "deleting replaced", "deleted replaced"),
    "refresh": ("~", "refreshing", "refreshed"),
    "import": ("=", "importing", "imported"),
    "import-replacement": ("=>", "importing replacement", "imported replacement"),
    "read-replacement": (">>", "reading replacement", "read replacement"),
}
# Keys the engine adds to a dynamic resource's state: not the user's data.
_INTERNAL_KEYS = {"__provider"}


_UNHANDLED = "an unhandled error occurred: "
_INLINE = "python inline source runtime error: "


def clean_message(message: str) -> str:
    """A diagnostic without Python tracebacks (CAPACITY_DEBUG=1 keeps them) or the engine's wrappers."""
    text = message.strip()
    if os.environ.get("CAPACITY_DEBUG"):
        return text
    kept: list[str] = []
    in_traceback = False
    for line in text.splitlines():
        if line.strip().startswith("Traceback (most recent call last):"):
            in_traceback = True
            continue
        if in_traceback:
            if line.startswith((" ", "\t")) or not line.strip():
                continue
            in_traceback = False
            if any(line.strip() in k or line.split(": ", 1)[-1].strip() in k for k in kept):
                continue  # the exception's own line repeats what was said
        kept.append(line)
    text = "\n".join(kept).strip()
    for prefix in (_UNHANDLED, _INLINE):
        if text.startswith(prefix):
            text = text[len(prefix):]
    return text


def short_type(token: str) -> str:
    """'pulumi-python:dynamic/owned:NodeAllocation' -> 'owned:NodeAllocation'; 'capacity:owned:Cluster' kept."""
    package, _, rest = token.partition(":")
    if package == "pulumi-python":
        module, _, name = rest.partition(":")
        module = module.split("/", 1)[1] if "/" in module else module
        return f"{module}:{name}"
    return token


@dataclass
class Step:
    """One resource operation the engine planned or performed."""

    op: str
    urn: str
    type: str
    diffs: list[str] = field(default_factory=list)
    keys: list[str] = field(default_factory=list)
    old_parent: str = ""
    new_parent: str = ""
    drift: list[str] = field(default_factory=list)
    drift_detail: str = ""
    diff_detail: list[str] = field(default_factory=list)
    failed: bool = False

    @property
    def name(self) -> str:
        return urn_name(self.urn)

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"op": self.op, "name": self.name, "type": self.type, "urn": self.urn}
        if self.diffs:
            data["diffs"] = self.diffs
        if self.keys:
            data["replace_keys"] = self.keys
        if self.drift:
            data["drift"] = self.drift
            data["drift_detail"] = self.drift_detail
        return data


def _changed_inputs(old: Any, new: Any) -> list[str]:
    if old is None or new is None:
        return []
    olds, news = dict(getattr(old, "inputs", None) or {}), dict(getattr(new, "inputs", None) or {})
    return sorted(k for k in set(olds) | set(news) if k not in _INTERNAL_KEYS and olds.get(k) != news.get(k))


def _short(value: Any, limit: int = 60) -> str:
    text = json.dumps(value, default=str, sort_keys=True)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _input_detail(old: Any, new: Any, keys: list[str]) -> list[str]:
    """'count: 8 => 9' for each changed input (secrets arrive masked by the engine)."""
    olds, news = dict(getattr(old, "inputs", None) or {}), dict(getattr(new, "inputs", None) or {})
    return [f"{key}: {_short(olds.get(key))} => {_short(news.get(key))}" for key in keys if key in olds or key in news]


def _drift_detail(old: Any, new: Any, keys: list[str]) -> str:
    """'unhealthy: {"LAB1-R01-N02": "maintenance"}; ...': the new values, short (secrets arrive masked)."""
    news = dict(getattr(new, "outputs", None) or {}) if new is not None else {}
    parts = []
    for key in keys[:4]:
        text = json.dumps(news.get(key), default=str, sort_keys=True)
        parts.append(f"{key}: {text if len(text) <= 80 else text[:77] + '...'}")
    return "; ".join(parts)


def _changed_keys(old: Any, new: Any) -> list[str]:
    olds = dict(getattr(old, "outputs", None) or {}) if old is not None else {}
    news = dict(getattr(new, "outputs", None) or {}) if new is not None else {}
    return sorted(k for k in set(olds) | set(news) if k not in _INTERNAL_KEYS and olds.get(k) != news.get(k))


class Recorder:
    """The on_event callback: records steps, diagnostics and the summary, and calls the hooks.
    Thread-safe (events arrive on gRPC threads)."""

    def __init__(self, verb: str = "up", show_diff: bool = False):
        self.verb = verb
        self.show_diff = show_diff
        self.steps: list[Step] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.muted: tuple[str, ...] = ()
        """Diagnostics containing any of these are recorded but not shown (the caller says them)."""
        self.summary: dict[str, int] = {}
        self.duration: float | None = None
        self.in_flight: dict[str, float] = {}
        """urn -> when its operation started (monotonic), for operations not finished yet."""
        self.unchanged = 0
        self.lock = threading.Lock()

    # -- hooks a display overrides

    def on_step(self, step: "Step", phase: str, seconds: float | None = None) -> None:
        """A step began (`pre`), finished (`done`) or failed (`failed`); quiet ones are not told."""

    def on_diagnostic(self, severity: str, where: str, message: str) -> None:
        """A diagnostic not seen before, not debug and not muted."""

    def on_summary(self) -> None:
        """The operation's summary arrived (`summary`, `duration`)."""

    def on_error(self, exc: Exception) -> None:
        """Handling an event failed: a display must never break a deployment."""

    # -- events

    def __call__(self, event: Any) -> None:
        with self.lock:
            try:
                self._handle(event)
            except Exception as exc:  # noqa: BLE001 - recording must never break a deployment
                self.on_error(exc)

    def _handle(self, event: Any) -> None:
        if event.resource_pre_event is not None:
            self._pre(event.resource_pre_event.metadata)
        elif event.res_outputs_event is not None:
            self._outputs(event.res_outputs_event.metadata)
        elif event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            self.in_flight.pop(meta.urn, None)
            step = self.last_step(meta.urn)
            if step is not None:
                step.failed = True
                self.on_step(step, "failed")
        elif event.diagnostic_event is not None:
            self._diagnostic(event.diagnostic_event)
        elif event.summary_event is not None:
            summary = event.summary_event
            self.summary = {str(getattr(k, "value", k)): int(v) for k, v in (summary.resource_changes or {}).items()}
            self.duration = float(summary.duration_seconds or 0)
            self.on_summary()

    def _pre(self, meta: Any) -> None:
        op = str(getattr(meta.op, "value", meta.op))
        diffs = list(meta.diffs or []) or _changed_inputs(meta.old, meta.new)
        step = Step(op=op, urn=meta.urn, type=meta.type, diffs=diffs, keys=list(meta.keys or []),
                    old_parent=getattr(meta.old, "parent", "") or "", new_parent=getattr(meta.new, "parent", "") or "")
        if self.show_diff and op in ("update", "replace") and meta.old is not None and meta.new is not None:
            step.diff_detail = _input_detail(meta.old, meta.new, diffs)
        self.steps.append(step)
        if op in QUIET_OPS:
            if op == "same":
                self.unchanged += 1
            return
        if self.verb != "preview":  # a preview's steps are plans: nothing is in flight
            self.in_flight[meta.urn] = time.monotonic()
        self.on_step(step, "pre")

    def _outputs(self, meta: Any) -> None:
        op = str(getattr(meta.op, "value", meta.op))
        started = self.in_flight.pop(meta.urn, None)
        step = self.last_step(meta.urn)
        if step is not None and step.op == "refresh":
            step.drift = _changed_keys(meta.old, meta.new)
            step.drift_detail = _drift_detail(meta.old, meta.new, step.drift)
        if step is None or step.op in QUIET_OPS or (op in QUIET_OPS and step.op != "refresh"):
            return
        self.on_step(step, "done", None if started is None else time.monotonic() - started)

    def _diagnostic(self, diag: Any) -> None:
        severity = diag.severity or "info"
        if severity in ("debug",) or diag.ephemeral:
            return
        message = clean_message(diag.message or "")
        if not message or message in self.errors or message in self.warnings:
            return
        (self.errors if severity == "error" else self.warnings if severity == "warning" else []).append(message)
        if any(mark in message for mark in self.muted):
            return
        self.on_diagnostic(severity, urn_name(diag.urn or ""), message)

    # -- the end

    def last_step(self, urn: str) -> "Step | None":
        return next((s for s in reversed(self.steps) if s.urn == urn), None)

    def close(self) -> None:
        """The operation is over (a display stops drawing)."""

    def __enter__(self) -> "Recorder":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def changes(self) -> list[Step]:
        """The planned or performed steps that change something (not 'same', not reads)."""
        return [s for s in self.steps if s.op not in QUIET_OPS]

    def drifted(self) -> list[Step]:
        return [s for s in self.steps if s.op == "refresh" and s.drift]
