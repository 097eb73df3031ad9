"""Parts of the engine layer that need no engine: the CLI finder's rules and its failure message,
the wrapper go.mod, the lease guard's rules, progress rendering, and that help never loads pulumi."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import textwrap
from io import StringIO
from pathlib import Path

import pytest

from capacity.engine import pulumi_cli
from capacity.engine.gobuild import BuildFailed
from capacity.errors import EngineError
from capacity.deploy.guard import LeaseGuard, LeaseGuardRefusal, cluster_sites, held, refusal, takings

PKG_GO_MOD = textwrap.dedent("""\
    module github.com/pulumi/pulumi/pkg/v3

    go 1.25.11

    replace github.com/pulumi/pulumi/sdk/v3 => ../sdk

    replace github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e // fork

    replace (
    \tgithub.com/sergi/go-diff v1.2.0 => github.com/sergi/go-diff v1.1.0
    \tgithub.com/example/local => ./local
    )

    require github.com/pulumi/pulumi/sdk/v3 v3.100.0
    """)


def test_go_mod_replaces_are_repeated_except_local_ones():
    go, replaces = pulumi_cli.parse_go_mod(PKG_GO_MOD)
    assert go == "1.25.11"
    assert replaces == [
        "github.com/atotto/clipboard => github.com/tgummerer/clipboard v0.0.0-20241001131231-d02d263e614e",
        "github.com/sergi/go-diff v1.2.0 => github.com/sergi/go-diff v1.1.0",
    ]
    wrapper = pulumi_cli.wrapper_go_mod("3.259.0", go, replaces)
    assert "\tgithub.com/pulumi/pulumi/pkg/v3 v3.259.0\n" in wrapper
    assert "\tgithub.com/pulumi/pulumi/sdk/v3 v3.259.0\n" in wrapper  # or MVS picks pkg's older sdk
    assert "../sdk" not in wrapper and "./local" not in wrapper


def test_cache_dir_follows_capacity_cache_then_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("CAPACITY_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert pulumi_cli.cache_root() == tmp_path / "xdg" / "capacity"
    monkeypatch.setenv("CAPACITY_CACHE", str(tmp_path / "mine"))
    assert pulumi_cli.version_dir("3.1.0") == tmp_path / "mine" / "pulumi" / "v3.1.0"


def _nothing_available(monkeypatch, tmp_path):
    monkeypatch.setenv("CAPACITY_CACHE", str(tmp_path / "cache"))
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


def test_without_install_it_says_how_to_set_up(monkeypatch, tmp_path):
    _nothing_available(monkeypatch, tmp_path)
    with pytest.raises(EngineError) as err:
        pulumi_cli.ensure_pulumi(install=False, echo=lambda _m: None)
    assert "capacity engine setup" in str(err.value)


def test_when_every_way_fails_the_error_names_each(monkeypatch, tmp_path):
    _nothing_available(monkeypatch, tmp_path)

    def fails(reason):
        def way(*_args):
            raise BuildFailed(reason)
        return way

    monkeypatch.setattr(pulumi_cli, "_via_installer", fails("cannot reach https://get.pulumi.com/install.sh"))
    monkeypatch.setattr(pulumi_cli, "_via_go_build", fails("no `go` on PATH"))
    said = []
    with pytest.raises(EngineError) as err:
        pulumi_cli.ensure_pulumi(install=True, echo=said.append)
    message = str(err.value)
    for part in ("PATH", "cache", "Pulumi's installer: cannot reach", "Go build: no `go` on PATH", "To fix"):
        assert part in message
    assert any("cannot reach" in line for line in said)


def test_a_cli_of_another_version_is_not_used(monkeypatch, tmp_path):
    _nothing_available(monkeypatch, tmp_path)
    fake = tmp_path / "empty-bin" / "pulumi"
    fake.write_text("#!/bin/sh\necho v3.1.0\n")
    fake.chmod(0o755)
    said = []
    assert pulumi_cli.find_pulumi(echo=said.append) is None
    assert "v3.1.0" in said[0]


def test_an_sdk_newer_than_the_cli_is_refused_plainly(monkeypatch):
    monkeypatch.setattr(pulumi_cli, "sdk_version", lambda: "3.300.0")
    with pytest.raises(EngineError) as err:
        pulumi_cli.check_sdk_not_newer("3.276.0")
    assert "v3.300.0 is newer than the Pulumi CLI v3.276.0" in str(err.value)
    assert "constraints.txt" in str(err.value)
    monkeypatch.setattr(pulumi_cli, "sdk_version", lambda: "3.272.0")
    pulumi_cli.check_sdk_not_newer("3.276.0")  # older SDK, newer CLI: fine


def test_engine_env_points_at_our_cli_and_python(tmp_path):
    cli = pulumi_cli.PulumiCli(bin_dir=tmp_path / "bin", pulumi=tmp_path / "bin" / "pulumi", version="3.259.0")
    env = pulumi_cli.engine_env(cli)
    assert env["PATH"].split(":")[0] == str(tmp_path / "bin")
    assert env["PULUMI_PYTHON_CMD"] == sys.executable and env["PULUMI_SKIP_UPDATE_CHECK"] == "true"


# --- the lease guard ------------------------------------------------------------------------------

STACK = "urn:pulumi:s::capacity::"
NODES = STACK + "capacity:owned:GpuCluster$pulumi-python:dynamic/owned:NodeAllocation::train-nodes"
POOL = STACK + "capacity:owned:LeasePool$pulumi-python:dynamic/owned:LeasePool::acme-pool"
DAY = dt.date(2027, 1, 1)
ACME = {"cluster": "train", "site": "lab", "instance_type": "hgx", "isolation": "dedicated-nodes", "gpus": 16,
        "start": "2026-12-01", "end": "2027-06-01"}


def _state(**pools):
    resources = [{"urn": STACK + f"capacity:owned:LeasePool::{name}", "type": "capacity:owned:LeasePool",
                  "inputs": {"capacityLease": facts} if facts is not None else {}} for name, facts in pools.items()]
    resources.append({"urn": POOL, "type": "pulumi-python:dynamic/owned:LeasePool", "inputs": {"count": 2}})
    return {"resources": resources}


def test_deployed_leases_come_from_the_lease_pool_components_of_the_state():
    assert held(_state(acme=ACME, old=None)) == {"acme": {**ACME, "in_use": 0}, "old": {"in_use": 0}}  # not `acme-pool`
    assert held(None) == {} and held({"resources": []}) == {}


def test_deleting_moving_or_shrinking_an_in_force_lease_is_taking():
    deployed = held(_state(acme=ACME))
    assert takings(deployed, {"acme": dict(ACME)}, DAY) == []
    assert takings(deployed, {"acme": {**ACME, "gpus": 24}}, DAY) == []  # growing takes nothing
    assert takings(deployed, {}, DAY) == ["delete in-force lease 'acme' (16 GPUs on cluster 'train' until 2027-06-01)"]
    assert takings(deployed, {"acme": {**ACME, "gpus": 8}}, DAY) == ["shrink in-force lease 'acme' from 16 to 8 GPUs"]
    postponed = takings(deployed, {"acme": {**ACME, "start": "2027-02-01"}}, DAY)
    assert postponed == ["postpone in-force lease 'acme' to 2027-02-01: its capacity is released until then"]
    assert takings(deployed, {"acme": {**ACME, "end": "2027-01-01"}}, DAY) == []  # ended: how a lease goes
    moved = takings(deployed, {"acme": {**ACME, "cluster": "train-b"}}, DAY)
    assert moved == ["move in-force lease 'acme' (cluster train -> train-b): its capacity is deleted and made anew"]


def test_leases_not_in_force_may_go_and_pools_without_facts_may_not():
    deployed = held(_state(acme=ACME, legacy=None))
    assert takings(deployed, {}, dt.date(2026, 11, 1)) == ["delete in-force lease 'legacy'"]  # acme not started
    assert takings(deployed, {}, dt.date(2027, 6, 1)) == ["delete in-force lease 'legacy'"]  # acme ended
    text = refusal("destroy", takings(deployed, {}, DAY))
    assert text.startswith("This destroy would take capacity away from active leases:")
    assert "'acme'" in text and "'legacy'" in text and "--allow-destroy" in text and "Nothing was changed" in text


def _with_quota(state: dict, lease: str, used: str) -> dict:
    """The state with a Kubernetes namespace's ResourceQuota under the lease's pool, `used` GPUs in use."""
    pool = STACK + f"capacity:owned:LeasePool::{lease}"
    tenancy = STACK + f"capacity:owned:LeasePool$capacity:kubernetes:LeaseTenancy::{lease}-tenancy"
    quota = {"urn": tenancy + "-gpus", "type": "kubernetes:core/v1:ResourceQuota", "parent": tenancy,
             "outputs": {"status": {"used": {"requests.nvidia.com/gpu": used}}}}
    return {"resources": [*state["resources"], {"urn": tenancy, "type": "capacity:kubernetes:LeaseTenancy",
                                                "parent": pool}, quota]}


def test_an_ended_lease_whose_namespace_still_runs_workloads_is_taking():
    ended = dt.date(2027, 6, 1)
    busy = held(_with_quota(_state(acme=ACME), "acme", "8"))
    assert busy["acme"]["in_use"] == 8
    (line,) = takings(busy, {}, ended)
    assert line.startswith("remove ended lease 'acme' whose namespace still runs workloads (8 GPUs in use")
    assert takings(busy, {"acme": dict(ACME)}, ended) == [line]  # kept in the plan, its objects still go
    assert takings(held(_with_quota(_state(acme=ACME), "acme", "0")), {}, ended) == []  # idle: it just ends
    assert takings(busy, {"acme": dict(ACME)}, dt.date(2026, 11, 1)) == []  # not started and kept: nothing goes
    (dropped,) = takings(busy, {}, dt.date(2026, 11, 1))  # not started, but its namespace runs (deployed --on)
    assert dropped.startswith("remove lease 'acme' whose namespace still runs workloads (8 GPUs in use")
    (by_day,) = takings(busy, {}, dt.date(2026, 11, 1), deploy_day=ended)  # ended as on the --on day
    assert by_day.startswith("remove ended lease 'acme' whose namespace")


def test_the_guard_refuses_a_real_run_and_records_a_dry_run():
    guard = LeaseGuard(read_state=lambda: _state(acme=ACME), verb="up")
    guard.check(None, dry_run=True, day=DAY)
    assert guard.found == ["delete in-force lease 'acme' (16 GPUs on cluster 'train' until 2027-06-01)"]
    with pytest.raises(LeaseGuardRefusal, match="acme"):
        guard.check(None, dry_run=False, day=DAY)
    LeaseGuard(read_state=lambda: _state(acme=ACME), allow=True).check(None, dry_run=False, day=DAY)


def test_names_read_from_a_state_cannot_drive_the_terminal():
    hostile = {"x\x1b[2J": {**ACME, "cluster": "train\r\u202eevil"}}
    (line,) = takings(hostile, {}, DAY)
    assert "\x1b" not in line and "\r" not in line and "\u202e" not in line
    assert "x\\x1b[2J" in line and "train\\x0d\\u202eevil" in line


def test_clusters_held_by_a_stack_with_their_sites():
    state = {"resources": [
        {"urn": STACK + "capacity:owned:GpuCluster::train", "type": "capacity:owned:GpuCluster",
         "inputs": {"capacityCluster": {"site": "lab"}}},
        {"urn": STACK + "capacity:aws:GpuCluster::old", "type": "capacity:aws:GpuCluster", "inputs": {}},
        {"urn": NODES, "type": "pulumi-python:dynamic/owned:NodeAllocation", "inputs": {}}]}
    assert cluster_sites(state) == {("lab", "train"), ("", "old")}


# --- progress ---------------------------------------------------------------------------------


def _event(kind, **data):
    from pulumi.automation.events import EngineEvent

    return EngineEvent.from_json({"sequence": 1, "timestamp": 0, kind: data})


def _meta(op, urn, **extra):
    return {"metadata": {"op": op, "urn": urn, "type": urn.split("::")[-2].split("$")[-1], "provider": "", **extra}}


def test_progress_plain_lines_and_json_events():
    plain = StringIO()
    from capacity.cli.progress import Progress

    progress = Progress(mode="plain", verb="up", stream=plain)
    progress(_event("resourcePreEvent", **_meta("create", NODES)))
    progress(_event("resOutputsEvent", **_meta("create", NODES)))
    progress(_event("resourcePreEvent", **_meta("same", POOL)))
    progress(_event("diagnosticEvent", message="disk is slow\n", color="never", severity="warning"))
    progress(_event("summaryEvent", maybeCorrupt=False, durationSeconds=3, resourceChanges={"create": 1, "same": 1},
                    PolicyPacks={}))
    lines = plain.getvalue().splitlines()
    assert lines[0].startswith("+ creating train-nodes [owned:NodeAllocation]")
    assert lines[1].startswith("+ created train-nodes")
    assert lines[2] == "warning: disk is slow"
    assert progress.summary == {"create": 1, "same": 1}

    out = StringIO()
    progress = Progress(mode="json", verb="up", json_stream=out)
    progress(_event("resourcePreEvent", **_meta("delete", POOL)))
    progress(_event("summaryEvent", maybeCorrupt=False, durationSeconds=3, resourceChanges={"delete": 1},
                    PolicyPacks={}))
    events = [json.loads(line) for line in out.getvalue().splitlines()]
    assert events[0] == {"event": "resource-pre", "op": "delete", "name": "acme-pool",
                         "type": "pulumi-python:dynamic/owned:LeasePool", "urn": POOL}
    assert events[1]["event"] == "summary" and events[1]["changes"] == {"delete": 1}


# --- the inline program -------------------------------------------------------------------------

LEAN = textwrap.dedent("""
    import asyncio, json
    from pulumi import log
    from pulumi.runtime import resource as sdk
    from capacity.engine.stack import lean

    ran = []
    program = lean(lambda: ran.append(1))

    class Resource:  # the SDK finds the declaring line above the third __init__, as for a real resource
        def __init__(self):
            self.position = sdk._get_source_position(sdk._get_stack_trace())
            self.frames = len(sdk._get_stack_trace().frames)

    class Component(Resource):
        def __init__(self):
            super().__init__()

    class Cluster(Component):
        def __init__(self):
            super().__init__()

    def declare():
        return Cluster()  # DECLARED

    asyncio.run(program())
    found = declare()
    print(json.dumps({"ran": ran, "frames": found.frames, "uri": found.position.uri, "line": found.position.line,
                      "muted": getattr(log.debug, "_capacity_muted", False)}))
""")


def _lean(script: Path, env: dict[str, str]) -> dict:
    import os

    environ = {k: v for k, v in os.environ.items() if k not in ("CAPACITY_DEBUG", "CAPACITY_FULL_STACK_TRACES")}
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, env={**environ, **env})
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_the_inline_program_sends_positions_not_stacks_and_no_debug_messages(tmp_path):
    script = tmp_path / "program.py"
    script.write_text(LEAN)
    line = next(i for i, text in enumerate(LEAN.splitlines(), 1) if "# DECLARED" in text)
    found = _lean(script, {})
    assert found["ran"] == [1]  # an async program that runs the plan's program once
    assert found["frames"] == 0 and found["muted"]
    assert (found["uri"], found["line"]) == (script.as_uri(), line)  # the line that declared it

    kept = _lean(script, {"CAPACITY_DEBUG": "1", "CAPACITY_FULL_STACK_TRACES": "1"})
    assert kept["frames"] > 1 and not kept["muted"] and (kept["uri"], kept["line"]) == (script.as_uri(), line)


# --- commands that must stay light --------------------------------------------------------------


def test_help_never_imports_pulumi():
    code = textwrap.dedent("""
        import sys
        from typer.testing import CliRunner
        import typer
        from capacity.cli import deploy, engine
        app = typer.Typer(); app.add_typer(engine.app); app.add_typer(deploy.stacks_app)
        for fn in deploy.COMMANDS:
            app.command()(fn)
        runner = CliRunner()
        for args in (["--help"], ["up", "--help"], ["preview", "--help"], ["engine", "--help"],
                     ["engine", "setup", "--help"], ["status", "--help"], ["stacks", "--help"]):
            result = runner.invoke(app, args)
            assert result.exit_code == 0, (args, result.output)
        try:
            from capacity.cli.main import app as main_app
            assert runner.invoke(main_app, ["--help"]).exit_code == 0
        except ImportError:
            pass
        heavy = sorted(m for m in sys.modules if m == "pulumi" or m.startswith(("pulumi.", "pulumi_", "grpc")))
        assert not heavy, heavy
    """)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          cwd=Path(__file__).resolve().parents[3])
    assert proc.returncode == 0, proc.stderr


def test_preflight_names_missing_cloud_credentials_before_any_engine(monkeypatch, tmp_path):
    from typer.testing import CliRunner

    from capacity.cli import deploy
    import typer

    root = Path(__file__).resolve().parents[3]
    monkeypatch.setenv("HOME", str(tmp_path))
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_PROFILE", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET",
                "AZURE_TENANT_ID", "GOOGLE_APPLICATION_CREDENTIALS", "GOOGLE_CREDENTIALS", "CLOUDSDK_CONFIG",
                "AWS_WEB_IDENTITY_TOKEN_FILE", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "ARM_CLIENT_ID", "OCI_CONFIG_FILE"):
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("CAPACITY_CACHE", str(tmp_path / "no-cache"))  # no CLI here: must not be needed
    monkeypatch.setenv("PATH", "/usr/bin:/bin")
    from capacity.cli.output import Handled

    app = typer.Typer(cls=Handled)  # the CLI's one handler says errors for the user
    for fn in deploy.COMMANDS:
        app.command()(fn)
    result = CliRunner().invoke(app, ["preview", str(root / "stacks" / "example.yaml")])
    assert result.exit_code == 1, result.output
    assert "Missing cloud credentials" in result.output and "aws:" in result.output
    assert "Traceback" not in result.output
