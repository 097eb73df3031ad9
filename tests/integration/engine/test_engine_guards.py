"""The lease guard through `capacity` and the real engine, as a user and an adversary would try it:
a run after a crash, racing runs, destroy, a renamed plan."""

from __future__ import annotations

import datetime as dt
import io
import json
import os
import runpy
import subprocess
import sys
import time
from pathlib import Path

import pytest

from capacity.errors import EngineError
from capacity.cli.progress import Progress
from capacity.deploy.guard import is_component
from capacity.engine.pulumi_cli import engine_env
from capacity.engine.stack import PlanStack
from tests.integration.engine.conftest import edit_plan

TODAY = dt.date.today()


def _checkpoint_path(state: Path, stack: str = "quickstart") -> Path:
    return state / "pulumi" / ".pulumi" / "stacks" / "capacity" / f"{stack}.json"


def _pools(state: Path, stack: str = "quickstart") -> set[str]:
    """The lease pools in the state's resources."""
    data = json.loads(_checkpoint_path(state, stack).read_text())
    resources = (data["checkpoint"].get("latest") or {}).get("resources") or []
    return {r["urn"].rsplit("::", 1)[-1] for r in resources if is_component(r["type"], "LeasePool")}


def _as_after_a_kill_at_the_end_of_up(state: Path) -> None:
    """What a kill after the last create leaves: every resource, no outputs of the stack or of
    the components (they are written last)."""
    path = _checkpoint_path(state)
    data = json.loads(path.read_text())
    for resource in data["checkpoint"]["latest"]["resources"]:
        if not resource.get("custom"):
            resource.pop("outputs", None)
    path.write_text(json.dumps(data))


def _without(name: str):
    def change(data):
        del data["leases"][name]
    return change


def test_removing_a_lease_after_a_kill_at_the_end_of_up_is_refused(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    _as_after_a_kill_at_the_end_of_up(state)
    edit_plan(quickstart, _without("acme-pilot"))
    refused = capacity("up", quickstart, "--yes", expect=1)
    assert "acme-pilot" in refused.output and "--allow-destroy" in refused.output
    assert "acme-pilot" in _pools(state)


def test_removing_a_lease_after_a_real_kill_once_its_pool_exists_is_refused(capacity, quickstart, state, kill_tree):
    run = _run(quickstart, state.parent)
    deadline = time.monotonic() + 120
    while "acme-pilot-pool" not in _resource_names(state) and time.monotonic() < deadline:
        time.sleep(0.005)  # the end of the run is a few milliseconds away: be there first
    kill_tree(run.pid)
    run.wait(timeout=30)
    edit_plan(quickstart, _without("acme-pilot"))
    refused = capacity("up", quickstart, "--yes", expect=1)
    assert "'acme-pilot'" in refused.output and "--allow-destroy" in refused.output
    assert "acme-pilot" in _pools(state)


def _resource_names(state: Path) -> set[str]:
    try:
        data = json.loads(_checkpoint_path(state).read_text())
    except (OSError, ValueError):
        return set()
    return {r["urn"].rsplit("::", 1)[-1] for r in (data["checkpoint"].get("latest") or {}).get("resources") or []
            if r.get("custom")}


def test_shrinking_an_in_force_lease_is_refused(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")

    def shrink(data):
        data["leases"]["acme-pilot"]["gpus"] = 8

    edit_plan(quickstart, shrink)
    refused = capacity("up", quickstart, "--yes", expect=1)
    assert "acme-pilot" in refused.output and "16 to 8 GPUs" in refused.output
    preview = json.loads(capacity("preview", quickstart, "--format", "json").stdout)
    assert any("acme-pilot" in line for line in preview["refused_without_allow_destroy"])


def test_destroy_is_refused_while_a_lease_is_in_force_and_allowed_with_the_flag(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    refused = capacity("destroy", quickstart, "--yes", expect=1)
    assert "acme-pilot" in refused.output and "--allow-destroy" in refused.output
    assert "globex-shared" not in refused.output  # not started: it holds nothing yet
    assert "acme-pilot" in _pools(state)
    up_refusal = _refusal_of_up_without(capacity, quickstart)
    assert _lease_lines(refused.output) == _lease_lines(up_refusal)
    capacity("destroy", quickstart, "--yes", "--allow-destroy")
    assert _pools(state) == set()


def _refusal_of_up_without(capacity, plan) -> str:
    original = plan.read_text()
    edit_plan(plan, lambda data: data.update(clusters={}, leases={}))
    try:
        return capacity("up", plan, "--yes", expect=1).output
    finally:
        plan.write_text(original)


def _lease_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip().startswith("- ")]


def _run(plan: Path, cwd: Path) -> subprocess.Popen:
    capacity = Path(sys.executable).parent / "capacity"
    return subprocess.Popen([str(capacity), "up", str(plan), "--yes"], cwd=cwd, env=os.environ.copy(),
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def test_racing_runs_never_delete_an_in_force_lease(capacity, quickstart, state):
    """Ten pairs: one run adds an in-force lease while a run of the plan without it starts too."""
    edit_plan(quickstart, lambda data: data["clusters"]["train"].update(nodes=12))
    capacity("up", quickstart, "--yes")
    older = quickstart.read_text()
    newer = quickstart.with_name("newer.yaml")
    started = time.monotonic()
    for i in range(10):
        newer.write_text(older)
        edit_plan(newer, lambda data: data["leases"].update({f"race-{i}": {
            "tenant": "racer", "cluster": "train", "gpus": 2, "isolation": "shared-quota",
            "start": TODAY - dt.timedelta(days=1), "end": TODAY + dt.timedelta(days=30),
            "price_per_gpu_hour": 2.0}}))
        adding = _run(newer, state.parent)
        time.sleep(0.25 * i)  # the older run starts at a different moment of the adding run each time
        removing = _run(quickstart, state.parent)
        for run in (adding, removing):
            run.communicate(timeout=240)
        pools = _pools(state)
        assert f"race-{i}" in pools or adding.returncode != 0, f"pair {i}: the adding run succeeded, its lease is gone"
        if f"race-{i}" in pools:
            older = newer.read_text()  # the next pair's older plan is this one: the lease stays
        assert time.monotonic() - started < 900
        quickstart.write_text(older)


def test_a_renamed_plan_is_refused_unless_new_stack(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    edit_plan(quickstart, lambda data: data["metadata"].update(name="quickstart-renamed"))
    refused = capacity("up", quickstart, "--yes", expect=1)
    assert "'quickstart'" in refused.output and "'quickstart-renamed'" in refused.output
    assert "--new-stack" in refused.output
    assert not _checkpoint_path(state, "quickstart-renamed").exists()

    def small(data):  # room for both on the site's 12 nodes: a second stack meant to exist
        data["clusters"]["train"]["nodes"] = 2
        data["leases"] = {}

    edit_plan(quickstart, small)
    capacity("up", quickstart, "--yes", "--new-stack")
    assert _pools(state) == {"acme-pilot", "globex-shared"} and _checkpoint_path(state, "quickstart-renamed").exists()


def test_an_older_plan_is_refused_when_a_run_adds_a_lease_just_before_its_update(capacity, quickstart, state,
                                                                                monkeypatch):
    """The race, made certain: the adding run finishes after the older run's checks, right before
    its update starts."""
    capacity("up", quickstart, "--yes")
    newer = quickstart.with_name("newer.yaml")
    newer.write_text(quickstart.read_text())
    edit_plan(newer, lambda data: data["leases"].update({"late": {
        "tenant": "late", "cluster": "train", "gpus": 8, "isolation": "dedicated-nodes",
        "start": TODAY - dt.timedelta(days=1), "end": TODAY + dt.timedelta(days=30), "price_per_gpu_hour": 2.0}}))
    original_up = PlanStack.up

    def another_run_first(self, *args, **kwargs):
        adding = _run(newer, state.parent)
        out, _ = adding.communicate(timeout=240)
        assert adding.returncode == 0, out
        return original_up(self, *args, **kwargs)

    monkeypatch.setattr(PlanStack, "up", another_run_first)
    refused = capacity("up", quickstart, "--yes", expect=1)
    assert "'late'" in refused.output and "--allow-destroy" in refused.output
    assert "late" in _pools(state)


def test_the_pulumi_yaml_program_runs_the_same_guard(capacity, quickstart, state, monkeypatch):
    """capacity/deploy/program.py, hosted as `pulumi up` would run it (no language host binary here)."""
    from pulumi.automation import ConfigValue

    capacity("up", quickstart, "--yes")
    edit_plan(quickstart, _without("acme-pilot"))
    main = Path(__file__).resolve().parents[3] / "__main__.py"
    pstack = PlanStack.open("quickstart", lambda: runpy.run_path(str(main)), echo=lambda _m: None)
    for key, value in {**engine_env(pstack.cli), "PULUMI_BACKEND_URL": pstack.backend.url}.items():
        monkeypatch.setenv(key, value)  # what `pulumi up` hands its program
    pstack.stack().set_config("capacity:plan", ConfigValue(str(quickstart)))
    shown = Progress(mode="plain", verb="up", stream=io.StringIO())
    with pytest.raises(EngineError, match="would take capacity away from active leases"):
        pstack.up(on_event=shown)
    assert "delete in-force lease 'acme-pilot'" in "\n".join(shown.errors)
    assert "acme-pilot" in _pools(state)
    pstack.stack().set_config("capacity:allowDestroy", ConfigValue("true"))
    pstack.up()
    assert "acme-pilot" not in _pools(state)
