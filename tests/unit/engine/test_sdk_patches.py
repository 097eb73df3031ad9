"""capacity/engine/sdk_patches.py: each patch, against the SDK installed. A test here fails when the
SDK changes what a patch relies on: check the patch, then move WRITTEN_FOR (docs/development.md)."""

from __future__ import annotations

import inspect
import json
import os
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest

from capacity.engine import sdk_patches
from capacity.engine.pulumi_cli import PulumiCli

ROOT = Path(__file__).resolve().parents[3]


def test_the_installed_sdk_is_one_the_patches_were_written_for():
    assert sdk_patches.in_range(), (f"Pulumi SDK {metadata.version('pulumi')} is outside {sdk_patches.WRITTEN_FOR}: "
                                    "check each patch (this file) and move WRITTEN_FOR")


def test_outside_the_range_the_patches_are_off_with_a_warning():
    said: list[str] = []
    sdk_patches._warned.clear()
    assert sdk_patches.apply(said.append, version="3.400.0") == []
    assert sdk_patches.apply(said.append, version="3.100.0") == []
    assert len(said) == 1 and "outside the versions" in said[0] and "To fix" in said[0]  # said once
    assert not sdk_patches.in_range("3.277.0") and sdk_patches.in_range(sdk_patches.WRITTEN_FOR[0])


# --- trim_stack_traces --------------------------------------------------------------------------

TRIMMED = textwrap.dedent("""
    import json
    from capacity.engine import sdk_patches
    from pulumi.runtime import resource as sdk

    applied = sdk_patches.apply()

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

    found = Cluster()  # DECLARED
    print(json.dumps({"applied": applied, "frames": found.frames, "uri": found.position.uri,
                      "line": found.position.line}))
""")


def _run(script: str, tmp_path: Path, **env: str) -> dict:
    path = tmp_path / "program.py"
    path.write_text(script)
    clean = {k: v for k, v in os.environ.items() if k not in ("CAPACITY_DEBUG", "CAPACITY_FULL_STACK_TRACES")}
    proc = subprocess.run([sys.executable, str(path)], capture_output=True, text=True, env={**clean, **env},
                          cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_trim_stack_traces_relies_on_sdk_functions_of_these_shapes():
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime.proto import source_pb2

    assert list(inspect.signature(sdk_resource._get_stack_trace).parameters) == []
    assert list(inspect.signature(sdk_resource._get_source_position).parameters) == ["stack"]
    assert list(inspect.signature(sdk_resource._get_source_position_for_frame).parameters) == ["frame"]
    assert len(source_pb2.StackTrace().frames) == 0
    # the SDK calls them by module global, so replacing the module's names reaches every registration
    source = inspect.getsource(sdk_resource)
    assert "stack_trace = _get_stack_trace()" in source and "_get_source_position(stack_trace)" in source


def test_trim_stack_traces_sends_the_declaring_line_and_no_frames(tmp_path):
    line = next(i for i, text in enumerate(TRIMMED.splitlines(), 1) if "# DECLARED" in text)
    found = _run(TRIMMED, tmp_path)
    assert "trim_stack_traces" in found["applied"]
    assert found["frames"] == 0 and (found["uri"], found["line"]) == ((tmp_path / "program.py").as_uri(), line)
    kept = _run(TRIMMED, tmp_path, CAPACITY_FULL_STACK_TRACES="1")
    assert "trim_stack_traces" not in kept["applied"] and kept["frames"] >= 1 and kept["line"] == line


# --- mute_debug_messages ------------------------------------------------------------------------

MUTED = textwrap.dedent("""
    import json
    from pulumi import log
    from capacity.engine import sdk_patches

    applied = sdk_patches.apply()
    print(json.dumps({"applied": applied, "muted": getattr(log.debug, "_capacity_muted", False),
                      "returns": log.debug("x", None, None, None)}))
""")


def test_mute_debug_messages_relies_on_log_debug_of_this_shape():
    from pulumi import log

    assert list(inspect.signature(log.debug).parameters)[:1] == ["msg"]
    assert "debug(" in inspect.getsource(sys.modules["pulumi.runtime.resource"])  # the SDK logs through it


def test_mute_debug_messages_unless_capacity_debug(tmp_path):
    found = _run(MUTED, tmp_path)
    assert found["muted"] and "mute_debug_messages" in found["applied"] and found["returns"] is None
    assert not _run(MUTED, tmp_path, CAPACITY_DEBUG="1")["muted"]


# --- command ------------------------------------------------------------------------------------


def test_command_overrides_pulumi_command_run_of_this_shape():
    from pulumi.automation import CommandResult, PulumiCommand
    from pulumi.automation.errors import CommandError, create_command_error

    assert list(inspect.signature(PulumiCommand.run).parameters) == [
        "self", "args", "cwd", "additional_env", "on_output", "on_error"]
    assert {"root", "version", "skip_version_check"} <= set(inspect.signature(PulumiCommand.__init__).parameters)
    result = CommandResult(stdout="out", stderr="err", code=3)
    assert (result.stdout, result.stderr, result.code) == ("out", "err", 3)
    assert isinstance(create_command_error(result), CommandError)


def _fake_cli(tmp_path: Path, script: str) -> PulumiCli:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    pulumi = bin_dir / "pulumi"
    pulumi.write_text(f"#!{sys.executable}\n{script}")
    pulumi.chmod(0o755)
    return PulumiCli(bin_dir=bin_dir, pulumi=pulumi, version="3.276.0")


def test_command_runs_the_cli_non_interactive_with_its_plugins_first(tmp_path):
    cli = _fake_cli(tmp_path, "import json, os, sys\nprint(json.dumps({'args': sys.argv[1:], "
                              "'path': os.environ['PATH'].split(os.pathsep)[0], "
                              "'api': os.environ.get('PULUMI_AUTOMATION_API'), 'sid': os.getsid(0) == os.getpid()}))\n")
    command = sdk_patches.command(cli, echo=lambda _m: None)
    assert str(command.version) == "3.276.0"
    lines: list[str] = []
    result = command.run(["stack", "ls", "--", "--x"], str(tmp_path), {"EXTRA": "1"}, on_output=lines.append)
    seen = json.loads(result.stdout)
    assert seen == {"args": ["--non-interactive", "stack", "ls", "--", "--x"], "path": str(cli.bin_dir),
                    "api": "true", "sid": True}
    assert lines == [result.stdout]


def test_command_raises_the_sdk_error_on_failure(tmp_path):
    from pulumi.automation.errors import CommandError

    cli = _fake_cli(tmp_path, "import sys\nsys.stderr.write('error: boom\\n')\nsys.exit(4)\n")
    with pytest.raises(CommandError, match="boom"):
        sdk_patches.command(cli, echo=lambda _m: None).run(["up"], str(tmp_path), {})
