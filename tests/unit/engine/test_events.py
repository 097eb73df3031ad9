"""capacity/engine/events.py: engine events recorded as steps; a display only overrides the hooks."""

from __future__ import annotations

from types import SimpleNamespace as NS

from capacity.engine.events import Recorder

URN = "urn:pulumi:s::capacity::capacity:owned:Cluster$pulumi-python:dynamic/owned:NodeAllocation::train"


def _event(**kind):
    fields = ("resource_pre_event", "res_outputs_event", "res_op_failed_event", "diagnostic_event", "summary_event")
    return NS(**{name: kind.get(name) for name in fields})


def _meta(op: str, **extra):
    return NS(metadata=NS(op=op, urn=URN, type="pulumi-python:dynamic/owned:NodeAllocation", diffs=[], keys=[],
                          old=extra.get("old"), new=extra.get("new")))


class Seen(Recorder):
    def __init__(self, verb: str = "up"):
        super().__init__(verb=verb)
        self.told: list[tuple] = []

    def on_step(self, step, phase, seconds=None):
        self.told.append(("step", step.op, phase))

    def on_diagnostic(self, severity, where, message):
        self.told.append(("diagnostic", severity, where, message))

    def on_summary(self):
        self.told.append(("summary", self.summary))


def test_steps_diagnostics_and_summary_are_recorded_and_told():
    seen = Seen()
    seen(_event(resource_pre_event=_meta("create")))
    assert URN in seen.in_flight
    seen(_event(res_outputs_event=_meta("create")))
    seen(_event(diagnostic_event=NS(severity="error", ephemeral=False, urn=URN, message="no free nodes")))
    seen(_event(diagnostic_event=NS(severity="error", ephemeral=False, urn=URN, message="no free nodes")))  # again
    seen(_event(diagnostic_event=NS(severity="debug", ephemeral=False, urn=URN, message="noise")))
    seen(_event(summary_event=NS(resource_changes={"create": 1}, duration_seconds=2)))
    assert seen.told == [("step", "create", "pre"), ("step", "create", "done"),
                         ("diagnostic", "error", "train", "no free nodes"), ("summary", {"create": 1})]
    assert seen.errors == ["no free nodes"] and seen.duration == 2.0 and not seen.in_flight
    assert [s.name for s in seen.changes()] == ["train"]


def test_unchanged_resources_are_counted_not_told_and_muted_diagnostics_are_kept_quietly():
    seen = Seen()
    seen.muted = ("capacity in the plan",)
    seen(_event(resource_pre_event=_meta("same")))
    seen(_event(diagnostic_event=NS(severity="error", ephemeral=False, urn="", message="keep capacity in the plan")))
    assert seen.unchanged == 1 and seen.told == [] and seen.errors == ["keep capacity in the plan"]


def test_refresh_records_drift():
    seen = Seen("refresh")
    old, new = NS(outputs={"unhealthy": {}}), NS(outputs={"unhealthy": {"N1": "failed"}})
    seen(_event(resource_pre_event=_meta("refresh")))
    seen(_event(res_outputs_event=_meta("refresh", old=old, new=new)))
    assert [s.drift for s in seen.drifted()] == [["unhealthy"]]
    assert seen.drifted()[0].drift_detail == 'unhealthy: {"N1": "failed"}'


def test_a_hook_that_fails_never_breaks_the_run():
    class Broken(Recorder):
        def on_step(self, step, phase, seconds=None):
            raise RuntimeError("display broke")

        def on_error(self, exc):
            self.failed = str(exc)

    broken = Broken()
    broken(_event(resource_pre_event=_meta("create")))
    assert broken.failed == "display broke" and len(broken.steps) == 1
