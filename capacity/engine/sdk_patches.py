"""Every place capacity reaches into the Pulumi Python SDK beyond its public API, in one module.

- `trim_stack_traces`: the SDK sends the whole Python stack of every resource registration
  (`pulumi.runtime.resource._get_stack_trace`), and the file backend rewrites the full state after
  every step: on a 1,000-node plan those stacks would be over half of the state. Only the source
  position (the line that declared the resource) is sent. CAPACITY_FULL_STACK_TRACES=1 keeps them.
- `mute_debug_messages`: the SDK logs about five debug messages per resource to the engine
  (`pulumi.log.debug`), which streams each back as an event only to be dropped. CAPACITY_DEBUG=1
  keeps them.
- `command`: the `PulumiCommand` that runs the CLI, its `run` replaced so the CLI leads a session
  of its own (Ctrl-C reaches only us, and we forward it, so Pulumi cancels cleanly), no orphan
  outlives us (capacity/engine/reaper.py), and no extra `pulumi version` runs.

They were written for the SDK versions in `WRITTEN_FOR`. Outside that range `apply()` leaves the
SDK alone and `command()` returns the SDK's own `PulumiCommand`, each with a warning: slower
runs, and no clean Ctrl-C, rather than a silent break. tests/unit/engine/test_sdk_patches.py
fails when the SDK changes what a patch relies on; moving Pulumi forward: docs/development.md.
Nothing here imports pulumi at module import time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import traceback
from importlib import metadata
from typing import Any, Callable

from capacity.engine import reaper

WRITTEN_FOR = ("3.272.0", "3.277.0")
"""[lowest, highest): the Python SDK versions the patches were checked against."""

_warned: set[str] = set()


def _version_tuple(version: str) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", version)[:3])


def in_range(version: str | None = None) -> bool:
    """The SDK (the installed one, or `version`) is one the patches were written for."""
    found = _version_tuple(version or metadata.version("pulumi"))
    return _version_tuple(WRITTEN_FOR[0]) <= found < _version_tuple(WRITTEN_FOR[1])


def _warn_outside(what: str, echo: Callable[[str], None]) -> None:
    if what in _warned:
        return
    _warned.add(what)
    echo(f"warning: the Pulumi SDK v{metadata.version('pulumi')} is outside the versions capacity's SDK patches "
         f"were written for (>={WRITTEN_FOR[0]}, <{WRITTEN_FOR[1]}): {what}.\nTo fix: install the tested versions "
         "(pip install -c constraints.txt ...), or check the patches as docs/development.md describes.")


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def apply(echo: Callable[[str], None] = _stderr, version: str | None = None) -> list[str]:
    """Apply the program's patches (idempotent); returns the names of those in force."""
    if not in_range(version):
        _warn_outside("running without them (larger states, slower runs)", echo)
        return []
    applied = []
    if trim_stack_traces():
        applied.append("trim_stack_traces")
    if mute_debug_messages():
        applied.append("mute_debug_messages")
    return applied


# --- the program's registrations --------------------------------------------------------------


def trim_stack_traces() -> bool:
    """Send each resource's declaring line instead of its whole stack. True if in force."""
    if os.environ.get("CAPACITY_FULL_STACK_TRACES"):
        return False
    from pulumi.runtime import resource as sdk_resource
    from pulumi.runtime.proto import source_pb2

    if getattr(sdk_resource._get_stack_trace, "_capacity_trimmed", False):
        return True
    position = sdk_resource._get_source_position_for_frame

    def no_stack_trace():
        return source_pb2.StackTrace()

    def declaring_position(_trace):
        # As the SDK does: above the third `__init__` (Resource, Custom/ComponentResource, the
        # resource's own class) is the code that declared the resource.
        frame, inits = sys._getframe(1), 0
        while frame is not None and inits < 3:
            inits += frame.f_code.co_name == "__init__"
            frame = frame.f_back
        if frame is None:
            return None
        return position(traceback.FrameSummary(frame.f_code.co_filename, frame.f_lineno, frame.f_code.co_name,
                                               lookup_line=False))

    no_stack_trace._capacity_trimmed = True  # type: ignore[attr-defined]
    sdk_resource._get_stack_trace = no_stack_trace
    sdk_resource._get_source_position = declaring_position
    return True


def mute_debug_messages() -> bool:
    """Debug messages are not sent to the engine. True if in force."""
    if os.environ.get("CAPACITY_DEBUG"):
        return False
    from pulumi import log

    if getattr(log.debug, "_capacity_muted", False):
        return True

    def not_sent(*_args: Any, **_kwargs: Any) -> None:
        return None

    not_sent._capacity_muted = True  # type: ignore[attr-defined]
    log.debug = not_sent
    return True


# --- the CLI, run so that Ctrl-C cancels cleanly ------------------------------------------------


def command(cli: Any, echo: Callable[[str], None] = _stderr):
    """The PulumiCommand of our runs (`cli`: a capacity.engine.pulumi_cli.PulumiCli)."""
    from pulumi.automation import PulumiCommand
    from semver import VersionInfo

    if not in_range():
        _warn_outside("Pulumi runs as the SDK starts it (Ctrl-C does not cancel cleanly)", echo)
        return PulumiCommand(root=str(cli.root), version=VersionInfo.parse(cli.version), skip_version_check=True)
    return _command_class()(cli, echo)


def _command_class():
    from pulumi.automation import CommandResult, PulumiCommand
    from pulumi.automation.errors import create_command_error
    from semver import VersionInfo

    class Command(PulumiCommand):
        def __init__(self, cli: Any, echo: Callable[[str], None]) -> None:  # no probe: ensure_pulumi checked
            self.command = str(cli.pulumi)
            self.version = VersionInfo.parse(cli.version)
            self.interrupted = 0
            self.echo = echo

        def run(self, args, cwd, additional_env, on_output=None, on_error=None):
            args = _non_interactive(list(args))
            env = {**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"}
            env["PATH"] = os.pathsep.join([os.path.dirname(self.command), env.get("PATH", "")])  # its plugins first
            process = subprocess.Popen(
                [self.command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                encoding="utf-8", errors="replace", start_new_session=True,
            )
            reaper.guard_session(process.pid)
            chunks: dict[str, list[str]] = {"out": [], "err": []}
            readers = [threading.Thread(target=_consume, args=(process.stdout, on_output, chunks["out"]), daemon=True),
                       threading.Thread(target=_consume, args=(process.stderr, on_error, chunks["err"]), daemon=True)]
            for reader in readers:
                reader.start()
            interrupted_here = self._wait(process, readers)
            reaper.release_session(process.pid)
            if interrupted_here:
                raise KeyboardInterrupt
            result = CommandResult(stdout="\n".join(chunks["out"]), stderr="\n".join(chunks["err"]),
                                   code=process.returncode)
            if process.returncode != 0:
                raise create_command_error(result)
            return result

        def _wait(self, process: subprocess.Popen, readers: list[threading.Thread]) -> bool:
            """Until the CLI ends; each Ctrl-C is forwarded to it. True if one came."""
            interrupted_here = False
            while True:
                try:
                    for reader in readers:
                        while reader.is_alive():
                            reader.join(0.2)
                    process.wait()
                    return interrupted_here
                except KeyboardInterrupt:
                    interrupted_here = True
                    self.interrupted += 1
                    if self.interrupted == 1:
                        self.echo("Cancelling: letting the operations in flight finish and saving the state "
                                  "(Ctrl-C again to stop sooner) ...")
                    else:
                        self.echo("Stopping sooner; an operation cut short is recovered by the next run.")
                    try:
                        process.send_signal(signal.SIGINT)
                    except ProcessLookupError:
                        pass

    return Command


def _non_interactive(args: list[str]) -> list[str]:
    sep = args.index("--") if "--" in args else len(args)
    if "--non-interactive" not in args[:sep]:
        args.insert(0, "--non-interactive")
    return args


def _consume(stream, callback, sink: list[str]) -> None:
    for line in iter(stream.readline, ""):
        line = line.rstrip()
        if callback:
            callback(line)
        sink.append(line)
    stream.close()
