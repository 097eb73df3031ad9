"""The display of engine events: a rich live view on a terminal, plain lines otherwise, or JSON lines.

`Progress(mode)` is a `Recorder` (capacity/engine/events.py) that shows what it records:
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
import time
from typing import Any, TextIO

from capacity.engine.deployment import is_plumbing, urn_name, urn_type
from capacity.engine.events import QUIET_OPS, VERBS, Recorder, Step, short_type


class Progress(Recorder):
    """Records the events of one operation and shows them as they come."""

    def __init__(self, mode: str = "plain", verb: str = "up", stream: TextIO | None = None,
                 json_stream: TextIO | None = None, show_diff: bool = False, show_steps: bool = True):
        super().__init__(verb=verb, show_diff=show_diff)
        self.mode = mode
        self.show_steps = show_steps
        self.stream = stream or sys.stderr
        self.json_stream = json_stream or sys.stdout
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
        in_flight = list(self.in_flight.items())
        for urn, started in in_flight[:15]:
            step = self.last_step(urn)
            label = VERBS.get(step.op, ("", step.op, step.op))[1] if step else "working on"
            table.add_row(Spinner("dots"), Text(f"{label} {urn_name(urn)}"),
                          Text(short_type(urn_type(urn)), style="dim"), Text(f"{now - started:.0f}s", style="dim"))
        if len(in_flight) > 15:
            table.add_row("", Text(f"... and {len(in_flight) - 15} more"), "", "")
        done = sum(1 for s in self.steps if s.urn not in self.in_flight and s.op not in QUIET_OPS)
        table.add_row("", Text(f"{self.verb}: {done} done, {len(in_flight)} in flight, {self.unchanged} unchanged, "
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

    # -- the recorder's hooks

    def on_error(self, exc: Exception) -> None:
        self.stream.write(f"(progress display error: {exc})\n")

    def on_diagnostic(self, severity: str, where: str, message: str) -> None:
        if self.mode == "json":
            self._json({"event": "diagnostic", "severity": severity, "resource": where, "message": message})
            return
        prefix = f"{severity}: " + (f"{where}: " if where else "")
        style = {"error": "red", "warning": "yellow"}.get(severity)
        for i, line in enumerate(message.splitlines()):
            self._line((prefix if i == 0 else " " * len(prefix)) + line, style)

    def on_summary(self) -> None:
        if self.mode == "json":
            self._json({"event": "summary", "changes": self.summary, "duration_seconds": self.duration})

    def on_step(self, step: Step, phase: str, seconds: float | None = None) -> None:
        if not self.show_steps:
            return
        if self.mode == "json":
            data = {"event": f"resource-{phase}", **step.as_json()}
            if seconds is not None:
                data["seconds"] = round(seconds, 3)
            self._json(data)
            return
        if is_plumbing(step.type) and phase != "failed":  # plumbing, not capacity: not listed
            return
        if phase == "pre":
            self._pre_line(step)
        elif phase == "done":
            self._done_line(step, seconds)
        else:
            self._line(f"! failed to {step.op} {step.name} [{short_type(step.type)}]", "red")

    def _pre_line(self, step: Step) -> None:
        symbol, doing, _done = VERBS.get(step.op, ("*", step.op, step.op))
        kind = short_type(step.type)
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

    def _done_line(self, step: Step, seconds: float | None) -> None:
        symbol, _doing, done = VERBS.get(step.op, ("*", step.op, step.op))
        kind = short_type(step.type)
        if self.verb == "preview":
            return
        if step.op == "refresh":
            if step.drift:
                self._line(f"~ drift in {step.name} [{kind}]: {step.drift_detail}", "yellow")
            return
        took = f" in {seconds:.1f}s" if seconds is not None else ""
        self._line(f"{symbol} {done} {step.name} [{kind}]{took}", "green" if self.mode == "tty" else None)

    def close(self) -> None:
        with self.lock:
            if self._live is not None:
                self._live.stop()
                self._live = None


def choose_mode(fmt: str, stream: TextIO | None = None) -> str:
    """json for --format json, tty for a terminal, plain otherwise (CI, pipes, and NO_COLOR: the live
    view is drawn with escape codes)."""
    if fmt == "json":
        return "json"
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    return "tty" if tty and not os.environ.get("NO_COLOR") else "plain"


def summary_line(changes: dict[str, int], seconds: float | None = None, preview: bool = False) -> str:
    words = {"create": "to create" if preview else "created", "update": "to update" if preview else "updated",
             "delete": "to delete" if preview else "deleted", "replace": "to replace" if preview else "replaced",
             "same": "unchanged"}
    parts = [f"{n} {words.get(op, op)}" for op, n in sorted(changes.items(), key=lambda kv: list(words).index(kv[0])
                                                                if kv[0] in words else 99) if n]
    text = ", ".join(parts) or "nothing"
    return text + (f" ({seconds:.0f}s)" if seconds is not None else "")
