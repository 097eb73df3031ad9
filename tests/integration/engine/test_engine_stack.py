"""The stack layer through the real engine, on probe resources (no plan, no components needed):
up, no-change preview, replace, a live lock, Ctrl-C, SIGKILL and recovery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time

import pytest

from capacity.errors import EngineError
from capacity.cli.progress import Progress
from capacity.engine.stack import PlanStack


def _open(name="probe", **kw):
    from capacity.engine.probe import program

    return PlanStack.open(name, program(**kw), echo=lambda _m: None)


RUNNER = textwrap.dedent("""
    import sys
    from capacity.engine.probe import program
    from capacity.engine.stack import PlanStack
    count, delay = int(sys.argv[1]), float(sys.argv[2])
    stack = PlanStack.open("probe", program(count, delay=delay), echo=lambda m: print(m, flush=True))
    stack.prepare()
    try:
        stack.up()
    except KeyboardInterrupt:
        print("CANCELLED", flush=True)
        sys.exit(130)
    print("DONE", flush=True)
""")


def _start(state, count=2, delay=4.0):
    return subprocess.Popen([sys.executable, "-c", RUNNER, str(count), str(delay)], cwd=state.parent,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=os.environ.copy())


def _checkpoint(state):
    path = state / "pulumi" / ".pulumi" / "stacks" / "capacity" / "probe.json"
    if not path.exists():
        return {}
    try:
        return json.loads(path.read_text())["checkpoint"].get("latest") or {}
    except (ValueError, KeyError):
        return {}


def _probes(state):
    return sorted(r["urn"].rsplit("::", 1)[-1] for r in _checkpoint(state).get("resources", [])
                  if "Probe" in r["type"] or "dynamic" in r["type"])


def test_up_then_preview_has_no_changes_then_replace(state):
    stack = _open(count=2)
    stack.prepare()
    with Progress(mode="plain", verb="up") as progress:
        result = stack.up(on_event=progress)
    assert result.summary.resource_changes == {"create": 3}
    assert result.outputs["value"].value == "ok"
    assert {s.op for s in progress.changes()} == {"create"}
    assert stack.locks() == [] and stack.pending_operations() == []

    again = _open(count=2)
    with Progress(mode="plain", verb="preview") as progress:
        preview = again.preview(on_event=progress)
    assert {str(k.value if hasattr(k, "value") else k): v for k, v in preview.change_summary.items()} == {"same": 3}
    assert progress.changes() == []

    from capacity.engine.probe import Probe

    def changed():
        Probe("probe-0", "ok", replace_key="new")
        Probe("probe-1", "ok")

    third = PlanStack.open("probe", changed, echo=lambda _m: None)
    with Progress(mode="plain", verb="preview") as progress:
        third.preview(on_event=progress)
    ops = {(s.op, s.name) for s in progress.changes()}
    assert ("replace", "probe-0") in ops


def test_second_concurrent_up_fails_at_once_naming_the_holder(state, wait_for, kill_tree):
    first = _start(state, count=1, delay=120)  # holds the lock for as long as the test needs
    try:
        wait_for(lambda: bool(_checkpoint(state).get("pending_operations")), 90, "the first run to be creating")
        started = time.monotonic()
        with pytest.raises(EngineError) as err:
            _open().prepare()
        assert time.monotonic() - started < 5
        message = str(err.value)
        assert "in use by another run" in message and "pid" in message and "@" in message
        # Pulumi's own lock check says the same, if our pre-check is raced past.
        with pytest.raises(EngineError) as err:
            _open().up()
        assert "in use by another run" in str(err.value)
    finally:
        kill_tree(first.pid)
        first.wait(timeout=30)


def test_ctrl_c_cancels_cleanly_and_the_next_up_finishes(state, wait_for):
    run = _start(state, count=3, delay=5)
    wait_for(lambda: bool(_checkpoint(state).get("pending_operations")), 90, "a create in flight")
    run.send_signal(signal.SIGINT)  # what a terminal's Ctrl-C delivers to our process
    out, _ = run.communicate(timeout=120)
    assert run.returncode == 130, out
    assert "Cancelling" in out and "CANCELLED" in out
    stack = _open(count=3)
    assert stack.locks() == []
    assert stack.pending_operations() == []  # operations in flight finished and were saved
    stack.prepare()
    result = stack.up()
    assert _probes(state) == ["probe-0", "probe-1", "probe-2"]
    assert result.summary.result == "succeeded"


def test_sigkill_mid_up_then_up_recovers(state, wait_for, kill_tree):
    run = _start(state, count=2, delay=30)
    wait_for(lambda: bool(_checkpoint(state).get("pending_operations")), 90, "a create in flight")
    kill_tree(run.pid)
    run.wait(timeout=30)
    assert _checkpoint(state)["pending_operations"], "the killed run should leave pending operations"
    messages = []
    from capacity.engine.probe import program

    stack = PlanStack.open("probe", program(2), echo=messages.append)
    assert stack.locks(), "the killed run should leave its lock"
    stack.prepare()
    text = "\n".join(messages)
    assert "killed" in text and "interrupted" in text and "Recovered" in text
    assert stack.locks() == [] and stack.pending_operations() == []
    stack.up()
    assert _probes(state) == ["probe-0", "probe-1"]
    assert _checkpoint(state).get("pending_operations") in (None, [])


def test_a_new_stack_is_created_at_once_or_selected_if_another_run_just_made_it(state):
    first = _open()
    assert not first.exists()
    assert first.stack().name == "probe" and first.exists()
    second = _open()
    second.exists = lambda: False  # it looked just before the first run created the stack
    assert second.stack().name == "probe"


def test_no_engine_process_outlives_a_sigkill_of_capacity(state, wait_for):
    from tests.integration.engine.conftest import _alive, descendants

    run = _start(state, count=2, delay=60)
    try:
        wait_for(lambda: bool(_checkpoint(state).get("pending_operations")), 90, "a create in flight")
        engine = descendants(run.pid)
        assert engine, "the run should have started the engine"
        os.kill(run.pid, signal.SIGKILL)  # capacity alone, as the OOM killer would
        run.wait(timeout=30)
        time.sleep(5)
        alive = [pid for pid in engine if _alive(pid)]
        assert alive == [], f"still running 5 s after capacity died: {[_command(p) for p in alive]}"
    finally:
        for pid in descendants(run.pid):
            os.kill(pid, signal.SIGKILL)


def _command(pid: int) -> str:
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()[:120]
    except OSError:
        return str(pid)
