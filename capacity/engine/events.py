"""Progress of engine events: rich live view on a terminal, plain lines otherwise, or JSON lines.

`Progress(mode)` is the `on_event` callback of every Automation API call. It also records the
steps (`progress.steps`) for `preview --format json`.

- tty: a live table of the operations in flight on stderr, each finished one printed above it.
- plain: one line per resource operation (started, done, failed) and per diagnostic, on stderr.
  Unchanged resources are counted, not listed.
- json: one JSON object per line on stdout: resource-pre, resource-done, resource-failed,
  diagnostic, summary. Inputs and outputs are never included (they may hold secrets).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from dataclasses import dataclass, field
from typing import Any, TextIO

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
# Resources that are plumbing, not capacity: not listed in text progress.
_PLUMBING = ("pulumi:providers:", "pulumi:pulumi:Stack")
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


def urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else ""


def urn_type(urn: str) -> str:
    """The resource's own type token (the last of the parent$child chain)."""
    if not urn or "::" not in urn:
        return ""
    parts = urn.split("::")
    return parts[-2].split("$")[-1] if len(parts) >= 2 else ""


def type_chain(urn: str) -> list[str]:
    """The type tokens from the root component down to the resource itself."""
    parts = urn.split("::")
    return parts[-2].split("$") if len(parts) >= 3 else []


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


class Progress:
    """The on_event callback: renders and records. Thread-safe (events arrive on gRPC threads)."""

    def __init__(self, mode: str = "plain", verb: str = "up", stream: TextIO | None = None,
                 json_stream: TextIO | None = None, show_diff: bool = False, show_steps: bool = True):
        self.mode = mode
        self.show_diff = show_diff
        self.show_steps = show_steps
        self.verb = verb
        self.stream = stream or sys.stderr
        self.json_stream = json_stream or sys.stdout
        self.steps: list[Step] = []
        self.errors: list[str] = []
        self.warnings: list[str] = []
        self.muted: tuple[str, ...] = ()
        """Diagnostics containing any of these are recorded but not shown (the caller says them)."""
        self.summary: dict[str, int] = {}
        self.duration: float | None = None
        self._started: dict[str, float] = {}
        self._same = 0
        self._lock = threading.Lock()
        self._live = None
        self._console = None
        self._t0 = time.monotonic()
        if mode == "tty":
            self._start_live()

    # -- the rich live view

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.live import Live

        self._console = Console(file=self.stream, highlight=False)
        self._live = Live(self._render(), console=self._console, refresh_per_second=8, transient=True)
        self._live.start()

    def _render(self):
        from rich.spinner import Spinner
        from rich.table import Table
        from rich.text import Text

        table = Table.grid(padding=(0, 1))
        now = time.monotonic()
        in_flight = list(self._started.items())
        for urn, started in in_flight[:15]:
            step = next((s for s in reversed(self.steps) if s.urn == urn), None)
            label = VERBS.get(step.op, ("", step.op, step.op))[1] if step else "working on"
            table.add_row(Spinner("dots"), Text(f"{label} {urn_name(urn)}"),
                          Text(short_type(urn_type(urn)), style="dim"), Text(f"{now - started:.0f}s", style="dim"))
        if len(in_flight) > 15:
            table.add_row("", Text(f"... and {len(in_flight) - 15} more"), "", "")
        done = sum(1 for s in self.steps if s.urn not in self._started and s.op not in QUIET_OPS)
        table.add_row("", Text(f"{self.verb}: {done} done, {len(in_flight)} in flight, {self._same} unchanged, "
                               f"{now - self._t0:.0f}s", style="dim"), "", "")
        return table

    def _line(self, text: str, style: str | None = None) -> None:
        if self._console is not None:
            self._console.print(text, style=style, markup=False)
            if self._live is not None:
                self._live.update(self._render())
        else:
            self.stream.write(text + "\n")
            self.stream.flush()

    def _json(self, data: dict[str, Any]) -> None:
        self.json_stream.write(json.dumps(data, default=str) + "\n")
        self.json_stream.flush()

    # -- events

    def __call__(self, event: Any) -> None:
        with self._lock:
            try:
                self._handle(event)
            except Exception as exc:  # noqa: BLE001 - rendering must never break a deployment
                self.stream.write(f"(progress display error: {exc})\n")

    def _handle(self, event: Any) -> None:
        if event.resource_pre_event is not None:
            meta = event.resource_pre_event.metadata
            op = str(getattr(meta.op, "value", meta.op))
            diffs = list(meta.diffs or []) or _changed_inputs(meta.old, meta.new)
            step = Step(op=op, urn=meta.urn, type=meta.type, diffs=diffs, keys=list(meta.keys or []),
                        old_parent=getattr(meta.old, "parent", "") or "", new_parent=getattr(meta.new, "parent", "") or "")
            if self.show_diff and op in ("update", "replace") and meta.old is not None and meta.new is not None:
                step.diff_detail = _input_detail(meta.old, meta.new, diffs)
            self.steps.append(step)
            if op in QUIET_OPS:
                if op == "same":
                    self._same += 1
                return
            if self.verb != "preview":  # a preview's steps are plans: nothing is in flight
                self._started[meta.urn] = time.monotonic()
            self._emit_step(step, "pre")
        elif event.res_outputs_event is not None:
            meta = event.res_outputs_event.metadata
            op = str(getattr(meta.op, "value", meta.op))
            started = self._started.pop(meta.urn, None)
            step = next((s for s in reversed(self.steps) if s.urn == meta.urn), None)
            if step is not None and step.op == "refresh":
                step.drift = _changed_keys(meta.old, meta.new)
                step.drift_detail = _drift_detail(meta.old, meta.new, step.drift)
            if step is None or step.op in QUIET_OPS or (op in QUIET_OPS and step.op != "refresh"):
                return
            self._emit_step(step, "done", None if started is None else time.monotonic() - started)
        elif event.res_op_failed_event is not None:
            meta = event.res_op_failed_event.metadata
            self._started.pop(meta.urn, None)
            step = next((s for s in reversed(self.steps) if s.urn == meta.urn), None)
            if step is not None:
                step.failed = True
                self._emit_step(step, "failed")
        elif event.diagnostic_event is not None:
            diag = event.diagnostic_event
            severity = diag.severity or "info"
            if severity in ("debug",) or diag.ephemeral:
                return
            message = clean_message(diag.message or "")
            if not message or message in self.errors or message in self.warnings:
                return
            (self.errors if severity == "error" else self.warnings if severity == "warning" else []).append(message)
            if any(mark in message for mark in self.muted):
                return
            where = urn_name(diag.urn or "")
            if self.mode == "json":
                self._json({"event": "diagnostic", "severity": severity, "resource": where, "message": message})
            else:
                prefix = f"{severity}: " + (f"{where}: " if where else "")
                style = {"error": "red", "warning": "yellow"}.get(severity)
                for i, line in enumerate(message.splitlines()):
                    self._line((prefix if i == 0 else " " * len(prefix)) + line, style)
        elif event.summary_event is not None:
            summary = event.summary_event
            self.summary = {str(getattr(k, "value", k)): int(v) for k, v in (summary.resource_changes or {}).items()}
            self.duration = float(summary.duration_seconds or 0)
            if self.mode == "json":
                self._json({"event": "summary", "changes": self.summary, "duration_seconds": self.duration})

    def _emit_step(self, step: Step, phase: str, seconds: float | None = None) -> None:
        if not self.show_steps:
            return
        symbol, doing, done = VERBS.get(step.op, ("*", step.op, step.op))
        if self.mode == "json":
            data = {"event": f"resource-{phase}", **step.as_json()}
            if seconds is not None:
                data["seconds"] = round(seconds, 3)
            self._json(data)
            return
        kind = short_type(step.type)
        if step.type.startswith(_PLUMBING) and phase != "failed":
            return
        if phase == "pre":
            if self.mode == "tty" and self.verb != "preview":
                if self._live is not None:
                    self._live.update(self._render())
                return
            if step.op == "refresh":
                return
            if self.verb == "preview":
                if step.op in ("create-replacement", "delete-replaced"):
                    return  # the `replace` line says it
                detail = f" ({', '.join(step.diffs)})" if step.diffs and not step.diff_detail else ""
                self._line(f"{symbol} {step.op} {step.name} [{kind}]{detail}")
                for line in step.diff_detail:
                    self._line(f"    {line}")
            else:
                self._line(f"{symbol} {doing} {step.name} [{kind}] ...")
        elif phase == "done":
            if self.verb == "preview":
                return
            if step.op == "refresh":
                if step.drift:
                    self._line(f"~ drift in {step.name} [{kind}]: {step.drift_detail}", "yellow")
                return
            took = f" in {seconds:.1f}s" if seconds is not None else ""
            self._line(f"{symbol} {done} {step.name} [{kind}]{took}", "green" if self.mode == "tty" else None)
        else:
            self._line(f"! failed to {step.op} {step.name} [{kind}]", "red")

    # -- the end

    def close(self) -> None:
        with self._lock:
            if self._live is not None:
                self._live.stop()
                self._live = None

    def __enter__(self) -> "Progress":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def changes(self) -> list[Step]:
        """The planned or performed steps that change something (not 'same', not reads)."""
        return [s for s in self.steps if s.op not in QUIET_OPS]

    def drifted(self) -> list[Step]:
        return [s for s in self.steps if s.op == "refresh" and s.drift]


def summary_line(changes: dict[str, int], seconds: float | None = None, preview: bool = False) -> str:
    words = {"create": "to create" if preview else "created", "update": "to update" if preview else "updated",
             "delete": "to delete" if preview else "deleted", "replace": "to replace" if preview else "replaced",
             "same": "unchanged"}
    parts = [f"{n} {words.get(op, op)}" for op, n in sorted(changes.items(), key=lambda kv: list(words).index(kv[0])
                                                                if kv[0] in words else 99) if n]
    text = ", ".join(parts) or "nothing"
    return text + (f" ({seconds:.0f}s)" if seconds is not None else "")


def choose_mode(fmt: str, stream: TextIO | None = None) -> str:
    """json for --format json, tty for a terminal, plain otherwise (CI, pipes, and NO_COLOR: the live
    view is drawn with escape codes)."""
    if fmt == "json":
        return "json"
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    return "tty" if tty and not os.environ.get("NO_COLOR") else "plain"
