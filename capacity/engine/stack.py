"""One Pulumi stack per plan, through the Automation API with an inline program.

- Project `capacity`; stack `metadata.name` of the plan (or `--stack`).
- Backend: `--backend URL`, else `PULUMI_BACKEND_URL`, else the local file backend in
  `<state dir>/pulumi` (the state dir is `capacity.state.state_dir()`: `$CAPACITY_STATE_DIR`, else
  `.capacity/` in the current directory). s3://, azblob://, gs:// and Pulumi Cloud work the same.
- Secrets: `PULUMI_CONFIG_PASSPHRASE` or `PULUMI_CONFIG_PASSPHRASE_FILE` if set; Pulumi Cloud uses
  its own; otherwise a passphrase generated once into `<state dir>/passphrase` (mode 0600), said
  once, and handed to Pulumi as a file (never on a command line, never printed).
- Pulumi's own workspace files (Pulumi.yaml, Pulumi.<stack>.yaml with the encryption salt) live in
  `<state dir>/workspaces/<backend>/`, never in the user's repository.
- The CLI runs in its own session: a Ctrl-C reaches only us, and we forward it to Pulumi, which
  cancels cleanly (operations in flight finish and are saved). A second Ctrl-C is forwarded too.
- Before an operation: a lock left by a killed run on this machine is removed (said so), a live
  one fails at once naming who holds it; pending operations left by a killed run are recovered
  with `refresh --clear-pending-creates`, said so.

pulumi is imported inside functions only.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlparse

from capacity.engine import reaper
from capacity.errors import EngineError
from capacity.engine.filestate import check_usable, read_checkpoint, repair
from capacity.engine.pulumi_cli import Echo, PulumiCli, engine_env, ensure_pulumi, print_to_stderr
from capacity.engine.status import managed_resources
from capacity.state import made_state_dir
from capacity.words import count

PROJECT = "capacity"
_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


def default_state_dir() -> Path:
    try:
        from capacity.state import state_dir
    except ImportError:  # pragma: no cover - the shared helper is always there in the package
        return Path(os.environ.get("CAPACITY_STATE_DIR") or Path.cwd() / ".capacity").absolute()
    return state_dir()


# --- backend and secrets ------------------------------------------------------------------


@dataclass(frozen=True)
class Backend:
    url: str
    kind: str
    """local (a file:// directory), diy (s3://, azblob://, gs://, ...) or cloud (Pulumi Cloud)."""
    local_dir: Path | None = None

    @property
    def shown(self) -> str:
        """The URL without any credentials in it."""
        parsed = urlparse(self.url)
        if parsed.password or parsed.username:
            netloc = parsed.hostname or ""
            if parsed.port:
                netloc += f":{parsed.port}"
            return parsed._replace(netloc=f"****@{netloc}").geturl()
        return self.url


def resolve_backend(flag: str | None = None, state_dir: Path | None = None) -> Backend:
    url = flag or os.environ.get("PULUMI_BACKEND_URL") or ""
    if not url:
        local = (state_dir or default_state_dir()) / "pulumi"
        return Backend(url=local.as_uri(), kind="local", local_dir=local)
    parsed = urlparse(url)
    if parsed.scheme == "file":
        raw = url[len("file://"):]
        local = Path(os.path.expanduser(raw.split("?", 1)[0])).absolute()
        return Backend(url=local.as_uri(), kind="local", local_dir=local)
    if parsed.scheme in ("http", "https"):
        return Backend(url=url, kind="cloud")
    if parsed.scheme:
        return Backend(url=url, kind="diy")
    # A bare path: treat it as a local directory.
    local = Path(url).expanduser().absolute()
    return Backend(url=local.as_uri(), kind="local", local_dir=local)


def secrets_env(backend: Backend, state_dir: Path, echo: Echo = print_to_stderr) -> dict[str, str]:
    """What Pulumi needs to encrypt this stack's secrets; generates a passphrase once if needed."""
    if "PULUMI_CONFIG_PASSPHRASE" in os.environ or "PULUMI_CONFIG_PASSPHRASE_FILE" in os.environ:
        return {}
    if backend.kind == "cloud":
        return {}
    path = state_dir / "passphrase"
    if not path.exists():
        encrypted = encrypted_stacks(backend, state_dir)
        if encrypted:
            raise EngineError(
                f"The secrets passphrase file {path} is missing, but stack{'s' if len(encrypted) > 1 else ''} "
                f"{', '.join(encrypted)} in {backend.shown} {'were' if len(encrypted) > 1 else 'was'} made with a "
                f"passphrase: a new one would not open {'them' if len(encrypted) > 1 else 'it'}.\n"
                f"To fix: put the file back (from your backup), or set PULUMI_CONFIG_PASSPHRASE or "
                f"PULUMI_CONFIG_PASSPHRASE_FILE to the passphrase those stacks were made with.")
        state_dir.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass  # another process made it a moment ago
        else:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(32) + "\n")
            shared = "" if backend.kind == "local" else f" Everyone using {backend.shown} needs the same one."
            echo(f"Generated the secrets passphrase of this state in {path} (mode 0600). Keep it: "
                 f"without it the stacks' secrets cannot be decrypted. Set PULUMI_CONFIG_PASSPHRASE "
                 f"or PULUMI_CONFIG_PASSPHRASE_FILE to use your own.{shared}")
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        os.chmod(path, 0o600)
    return {"PULUMI_CONFIG_PASSPHRASE_FILE": str(path)}


def encrypted_stacks(backend: Backend, state_dir: Path) -> list[str]:
    """Stacks this backend holds, as far as this machine can tell: the state files of a local
    backend, and the stack settings (with their encryption salt) our workspace keeps for any other."""
    names = set()
    if backend.local_dir is not None:
        names |= {p.name.split(".json")[0] for p in (backend.local_dir / ".pulumi" / "stacks" / PROJECT).glob("*.json*")
                  if p.name.endswith((".json", ".json.gz"))}
    for settings in workspace_dir(backend, state_dir).glob("Pulumi.*.yaml"):
        try:
            if "encryptionsalt:" in settings.read_text():
                names.add(settings.name[len("Pulumi."):-len(".yaml")])
        except OSError:
            continue
    return sorted(names)


def workspace_dir(backend: Backend, state_dir: Path) -> Path:
    if backend.kind == "local" and backend.local_dir == state_dir / "pulumi":
        slug = "local"
    else:
        from capacity.engine.identity import clean_url

        digest = hashlib.sha256(backend.url.encode()).hexdigest()[:8]
        clean = urlparse(clean_url(backend.url))  # no credentials in a directory name
        slug = f"{re.sub(r'[^a-z0-9]+', '-', clean.scheme + '-' + (clean.netloc or 'x')).strip('-')}-{digest}"
        old = re.sub(r"[^a-z0-9]+", "-", urlparse(backend.url).scheme + "-" + (urlparse(backend.url).netloc or "x"))
        old_dir = state_dir / "workspaces" / f"{old.strip('-')}-{digest}"
        if old_dir.name != slug and old_dir.is_dir() and not (state_dir / "workspaces" / slug).exists():
            old_dir.rename(state_dir / "workspaces" / slug)  # made by an older capacity: keep its settings
    return state_dir / "workspaces" / slug


# --- the CLI, run so that Ctrl-C cancels cleanly ------------------------------------------


def _make_command(cli: PulumiCli, echo: Echo):
    """A PulumiCommand that knows its version (no extra `pulumi version`) and forwards Ctrl-C."""
    from pulumi.automation import PulumiCommand
    from pulumi.automation._cmd import CommandResult, _fixup_path
    from pulumi.automation.errors import create_command_error
    from semver import VersionInfo

    class Command(PulumiCommand):
        def __init__(self) -> None:  # noqa: D401 - no probe: ensure_pulumi checked the version
            self.command = str(cli.pulumi)
            self.version = VersionInfo.parse(cli.version)
            self.interrupted = 0

        def run(self, args, cwd, additional_env, on_output=None, on_error=None):
            args = list(args)
            sep = args.index("--") if "--" in args else len(args)
            if "--non-interactive" not in args[:sep]:
                args.insert(0, "--non-interactive")
            env = _fixup_path({**os.environ, **additional_env, "PULUMI_AUTOMATION_API": "true"},
                              os.path.dirname(self.command))
            chunks: dict[str, list[str]] = {"out": [], "err": []}

            def consume(stream, callback, sink):
                for line in iter(stream.readline, ""):
                    line = line.rstrip()
                    if callback:
                        callback(line)
                    sink.append(line)
                stream.close()

            process = subprocess.Popen(
                [self.command, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env,
                encoding="utf-8", errors="replace", start_new_session=True,
            )
            reaper.guard_session(process.pid)
            readers = [
                threading.Thread(target=consume, args=(process.stdout, on_output, chunks["out"]), daemon=True),
                threading.Thread(target=consume, args=(process.stderr, on_error, chunks["err"]), daemon=True),
            ]
            for reader in readers:
                reader.start()
            interrupted_here = False
            while True:
                try:
                    for reader in readers:
                        while reader.is_alive():
                            reader.join(0.2)
                    process.wait()
                    break
                except KeyboardInterrupt:
                    interrupted_here = True
                    self.interrupted += 1
                    if self.interrupted == 1:
                        echo("Cancelling: letting the operations in flight finish and saving the state "
                             "(Ctrl-C again to stop sooner) ...")
                    else:
                        echo("Stopping sooner; an operation cut short is recovered by the next run.")
                    try:
                        process.send_signal(signal.SIGINT)
                    except ProcessLookupError:
                        pass
            reaper.release_session(process.pid)
            if interrupted_here:
                raise KeyboardInterrupt
            result = CommandResult(stdout="\n".join(chunks["out"]), stderr="\n".join(chunks["err"]),
                                   code=process.returncode)
            if process.returncode != 0:
                raise create_command_error(result)
            return result

    return Command()


# --- the program ----------------------------------------------------------------------------


def lean(program: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """The inline program, without the SDK's per-resource overhead that nobody reads.

    - Stack traces: the SDK sends the whole Python stack of every resource registration, and the
      file backend rewrites the full state after every step: on a 1,000-node plan those stacks
      would be over half of the state. Only the source position (the line that declared the
      resource) is sent, found without formatting the stack. CAPACITY_FULL_STACK_TRACES=1 sends
      the stacks.
    - Debug messages: the SDK logs about five per resource to the engine, which streams each one
      back to our progress display as an event, only to be dropped there. They are not sent unless
      CAPACITY_DEBUG=1.
    - The end of the program: the SDK then awaits the registrations' RPCs one by one, but only
      those already started; if none has, it falls back to waiting on every pending output again
      after each step (quadratic: ~1 s of CPU on a 1,000-node plan). Yielding once starts them."""

    async def run() -> None:
        program()
        await asyncio.sleep(0)

    _trim_stack_traces()  # before the run: the stack resource is registered before the program
    _mute_debug_messages()
    return run


def _trim_stack_traces() -> None:
    if os.environ.get("CAPACITY_FULL_STACK_TRACES"):
        return
    try:
        from pulumi.runtime import resource as sdk_resource
        from pulumi.runtime.proto import source_pb2
    except ImportError:  # pragma: no cover - an SDK without source positions: nothing to trim
        return
    used = ("_get_stack_trace", "_get_source_position", "_get_source_position_for_frame")
    if not all(hasattr(sdk_resource, name) for name in used):
        return  # an SDK that works otherwise: leave it alone
    if getattr(sdk_resource._get_stack_trace, "_capacity_trimmed", False):
        return
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


def _mute_debug_messages() -> None:
    if os.environ.get("CAPACITY_DEBUG"):
        return
    from pulumi import log

    if getattr(log.debug, "_capacity_muted", False):
        return

    def not_sent(*_args: Any, **_kwargs: Any) -> None:
        return None

    not_sent._capacity_muted = True  # type: ignore[attr-defined]
    log.debug = not_sent


# --- the stack ------------------------------------------------------------------------------


@dataclass
class LockInfo:
    path: Path
    pid: int
    username: str
    hostname: str
    timestamp: str

    def describe(self) -> str:
        return f"{self.username}@{self.hostname} (pid {self.pid}) since {self.timestamp}"

    @property
    def stale(self) -> bool:
        """Held by a process of this machine that no longer runs (a killed `capacity up`)."""
        if self.hostname != socket.gethostname():
            return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        proc = Path(f"/proc/{self.pid}")
        if proc.exists():
            try:
                state = (proc / "stat").read_text().rsplit(")", 1)[1].split()[0]
                comm = (proc / "comm").read_text()
                return state in ("Z", "X") or not any(name in comm for name in ("pulumi", "capacity", "python"))
            except (OSError, IndexError):
                return False
        return False


@dataclass
class PlanStack:
    """The stack of one plan: workspace, backend, secrets, and the guarded operations."""

    name: str
    program: Callable[[], Awaitable[None]] | None
    backend: Backend
    state_dir: Path
    cli: PulumiCli
    echo: Echo = print_to_stderr
    _stack: Any = field(default=None, repr=False)
    _workspace: Any = field(default=None, repr=False)

    @classmethod
    def open(cls, name: str, program: Callable[[], None] | None = None, *, backend: str | None = None,
             state_dir: Path | None = None, echo: Echo = print_to_stderr, install: bool = True,
             writes: bool = True) -> "PlanStack":
        _check_stack_name(name)
        state = (state_dir or default_state_dir()).absolute()
        where = resolve_backend(backend, state)
        check_usable(state, "the state directory", write=writes)
        if writes:
            made_state_dir(state)  # owner-only, ignored by git
        if where.local_dir is not None:
            check_usable(where.local_dir, "the state backend directory", write=writes)
        cli = ensure_pulumi(install=install, echo=echo)
        program = lean(program) if program is not None else None
        return cls(name=name, program=program, backend=where, state_dir=state, cli=cli, echo=echo)

    # -- workspace

    def env(self) -> dict[str, str]:
        env = engine_env(self.cli)
        if self.backend.kind == "cloud" and "PULUMI_HOME" not in os.environ:
            env.pop("PULUMI_HOME", None)  # keep the user's `pulumi login`
        env["PULUMI_BACKEND_URL"] = self.backend.url
        env["CAPACITY_STATE_DIR"] = str(self.state_dir)  # providers run elsewhere; same inventories
        env.update(secrets_env(self.backend, self.state_dir, self.echo))
        return env

    @property
    def workspace(self):
        if self._workspace is None:
            from pulumi import automation as auto

            if self.backend.local_dir is not None:
                self.backend.local_dir.mkdir(parents=True, exist_ok=True)
            work_dir = workspace_dir(self.backend, self.state_dir)
            work_dir.mkdir(parents=True, exist_ok=True)
            env = self.env()
            settings = auto.ProjectSettings(
                name=PROJECT, runtime="python",  # the backend comes from PULUMI_BACKEND_URL: no credentials in a file
                description="GPU capacity plans (written by capacity; do not edit)",
            )
            self._workspace = auto.LocalWorkspace(
                work_dir=str(work_dir), pulumi_home=env.get("PULUMI_HOME"), program=self.program,
                env_vars=env, project_settings=settings, pulumi_command=_make_command(self.cli, self.echo),
            )
        return self._workspace

    def stack(self, create: bool = True):
        """The Automation API stack; EngineError if it does not exist and create is False."""
        if self._stack is None:
            from pulumi import automation as auto

            try:
                if create and self.backend.local_dir is not None and not self.exists():
                    self._stack = self._create_new(auto)
                elif create:
                    self._stack = auto.Stack.create_or_select(self.name, self.workspace)
                else:
                    self._stack = auto.Stack.select(self.name, self.workspace)
            except auto.errors.StackNotFoundError:
                raise EngineError(
                    f"Stack '{self.name}' does not exist in {self.backend.shown}.\n"
                    f"To fix: run `capacity up` on the plan first, or name the stack with --stack."
                ) from None
            except auto.errors.CommandError as exc:
                raise engine_failure(exc, f"opening stack '{self.name}'", self.name) from None
        return self._stack

    def _create_new(self, auto):
        """A stack the local backend has no state file for: created at once (no `pulumi stack select`
        run only to fail first); selected if another run created it meanwhile."""
        try:
            return auto.Stack.create(self.name, self.workspace)
        except auto.errors.StackAlreadyExistsError:
            return auto.Stack.select(self.name, self.workspace)

    def exists(self) -> bool:
        if self.backend.local_dir is not None:
            return self._checkpoint_path() is not None
        return any(row["name"] == self.name for row in self.list_stacks())

    def list_stacks(self) -> list[dict[str, Any]]:
        """Every stack of the project in this backend."""
        if self.backend.local_dir is not None and not (self.backend.local_dir / ".pulumi").exists():
            return []
        from pulumi.automation.errors import CommandError

        try:
            summaries = self.workspace.list_stacks()
        except CommandError as exc:
            raise engine_failure(exc, "listing stacks") from None
        return [{"name": s.name.split("/")[-1], "last_update": s.last_update or None,
                 "update_in_progress": bool(s.update_in_progress),
                 "resources": len(managed_resources(self.other(s.name.split("/")[-1])._state())),
                 "url": s.url or None} for s in summaries]

    def other(self, name: str) -> "PlanStack":
        """Another stack of the same backend."""
        return PlanStack(name=name, program=None, backend=self.backend, state_dir=self.state_dir,
                         cli=self.cli, echo=self.echo)

    def remove(self, force: bool = False) -> None:
        """Forget the stack: its state, configuration and history. One that holds resources is
        refused unless `force` (its resources would be left running, no longer managed)."""
        if not self.exists():
            raise EngineError(f"Stack '{self.name}' does not exist in {self.backend.shown}.")
        self.check_locks()
        held = managed_resources(self.deployment())
        if held and not force:
            raise EngineError(
                f"Stack '{self.name}' holds {count(len(held), 'resource')}; removing it would leave them running "
                f"with nothing managing them.\nTo fix: run `capacity destroy --stack {self.name}` first, or add "
                "--force to forget them anyway.")
        from pulumi.automation.errors import CommandError

        try:
            self.workspace.remove_stack(self.name, force=True)
        except CommandError as exc:
            raise engine_failure(exc, "removing the stack", self.name) from None

    # -- state, locks, recovery

    def _stack_dir(self) -> Path:
        assert self.backend.local_dir is not None
        return self.backend.local_dir / ".pulumi" / "stacks" / PROJECT

    def _checkpoint_path(self) -> Path | None:
        for suffix in (".json", ".json.gz"):
            path = self._stack_dir() / f"{self.name}{suffix}"
            if path.exists():
                return path
        return None

    def deployment(self) -> dict | None:
        """The stack's current state (the `deployment` part of an export), or None if undeployed."""
        if self.backend.local_dir is not None:
            path = self._checkpoint_path()
            return None if path is None else read_checkpoint(path, self.name)
        if not self.exists():
            return None
        return self._state()

    def _state(self) -> dict | None:
        """deployment() of a stack known to exist (no look-up in the list of stacks first)."""
        if self.backend.local_dir is not None:
            return self.deployment()
        from pulumi.automation.errors import CommandError

        try:
            return dict(self.stack(create=False).export_stack().deployment or {})
        except CommandError as exc:
            raise engine_failure(exc, "reading the state") from None

    def outputs(self) -> dict[str, Any]:
        """The stack's outputs as plain values (secret ones left out)."""
        deployment = self.deployment() or {}
        for resource in deployment.get("resources") or []:
            if resource.get("type") == "pulumi:pulumi:Stack":
                return {k: v for k, v in (resource.get("outputs") or {}).items() if not _is_secret(v)}
        return {}

    def resources(self) -> list[dict]:
        """The stack's resources, the stack itself left out."""
        return [r for r in (self.deployment() or {}).get("resources") or [] if r.get("type") != "pulumi:pulumi:Stack"]

    def repair_debris(self) -> None:
        """Half-written files a killed run left beside the state: removed under the stack's lock
        (after `check_locks`, which clears a killed run's lock and refuses a live one)."""
        if self.backend.local_dir is None or not self._stack_dir().is_dir():
            return
        lock_dir = self.backend.local_dir / ".pulumi" / "locks" / "organization" / PROJECT / self.name
        repair(self._stack_dir(), lock_dir, self.name, self.echo)

    def locks(self) -> list[LockInfo]:
        if self.backend.local_dir is None:
            return []
        lock_dir = self.backend.local_dir / ".pulumi" / "locks"
        found = []
        for path in sorted(lock_dir.glob(f"**/{PROJECT}/{self.name}/*.json")):
            try:
                data = json.loads(path.read_text())
            except (OSError, ValueError):
                continue
            found.append(LockInfo(path=path, pid=int(data.get("pid") or 0), username=str(data.get("username", "?")),
                                  hostname=str(data.get("hostname", "?")), timestamp=str(data.get("timestamp", "?"))))
        return found

    def check_locks(self) -> None:
        """Remove locks of killed runs on this machine; fail at once on a live one."""
        live = []
        for lock in self.locks():
            if lock.stale:
                self.echo(f"Removing the lock left on stack '{self.name}' by a run that was killed: "
                          f"{lock.describe()}.")
                lock.path.unlink(missing_ok=True)
            else:
                live.append(lock)
        if live:
            raise EngineError(locked_message(self.name, [lk.describe() + f" (lock file {lk.path})" for lk in live]))

    def pending_operations(self) -> list[dict]:
        return list((self.deployment() or {}).get("pending_operations") or [])

    def recover(self, on_event=None) -> bool:
        """After a killed run: refresh the stack, clearing pending creates. True if it did."""
        pending = self.pending_operations()
        if not pending:
            return False
        ops = ", ".join(f"{op.get('type', '?')} {_urn_name(op.get('resource', {}).get('urn', ''))}" for op in pending)
        self.echo(f"The last run on stack '{self.name}' was interrupted in the middle of: {ops}. "
                  "Recovering: refreshing the stack from the providers and clearing the unfinished "
                  "operations (creates are retried by this run) ...")
        from pulumi.automation.errors import CommandError

        try:
            self.stack().refresh(clear_pending_creates=True, on_event=on_event, color="never")
        except CommandError as exc:
            raise engine_failure(exc, "recovering the interrupted run", self.name) from None
        self.echo("Recovered.")
        return True

    def prepare(self, on_event=None, recover: bool = True) -> None:
        """Before any operation: locks, then pending operations."""
        self.check_locks()
        if recover and self.exists():
            self.recover(on_event)

    # -- operations

    def preview(self, on_event=None, diff: bool = False, refresh: bool = False):
        return self._run("preview", lambda s: s.preview(on_event=on_event, diff=diff, refresh=refresh, color="never"))

    def up(self, on_event=None, refresh: bool = False):
        return self._run("up", lambda s: s.up(on_event=on_event, refresh=refresh, color="never"))

    def refresh(self, on_event=None):
        return self._run("refresh", lambda s: s.refresh(on_event=on_event, color="never"))

    def destroy(self, on_event=None):
        return self._run("destroy", lambda s: s.destroy(on_event=on_event, color="never"))

    def _run(self, verb: str, call):
        from pulumi.automation.errors import CommandError

        stack = self.stack()
        try:
            return call(stack)
        except CommandError as exc:
            raise engine_failure(exc, verb, self.name) from None


# --- helpers ----------------------------------------------------------------------------------


_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _check_stack_name(name: str) -> None:
    if not _STACK_NAME.match(name or ""):
        raise EngineError(f"'{name}' is not a usable stack name: use letters, digits, '-', '_' or '.' "
                          "(at most 100).", exit_code=2)


def _is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get("4dabf18193072939515e22adb298388d") == "1b47061264138c4ac30d75fd1eb44270"


def _urn_name(urn: str) -> str:
    return urn.rsplit("::", 1)[-1] if urn else "?"


def locked_message(stack: str, holders: list[str]) -> str:
    return (f"Stack '{stack}' is in use by another run: " + "; ".join(holders) + ".\n"
            "To fix: wait for that run to finish. If it is dead on another machine, delete the lock file "
            "named above (or run `pulumi cancel` against the same backend).")


def error_lines(text: str) -> list[str]:
    """The `error:` lines of Pulumi's output, without colour codes and duplicates."""
    seen: list[str] = []
    for raw in _ANSI.sub("", text or "").splitlines():
        line = raw.strip()
        match = re.search(r"\berror: (.*)", line)
        if match and match.group(1).strip() and match.group(1).strip() not in seen:
            seen.append(match.group(1).strip())
    return seen


def engine_failure(exc: Exception, verb: str, stack: str | None = None) -> EngineError:
    """A CommandError made into one clear EngineError (the lock holder named, no traceback)."""
    text = _ANSI.sub("", str(exc))  # CommandError keeps only "code: N stdout: ... stderr: ..."
    if "currently locked" in text or "Another update is currently in progress" in text:
        holders = re.findall(r"created by (\S+ \(pid \d+\) at \S+)", text)
        return EngineError(locked_message(stack or "?", holders or ["another update"]))
    if "incorrect passphrase" in text or "passphrase must be set" in text:
        return EngineError(
            f"{verb} failed: the secrets passphrase does not open this stack's state.\n"
            "To fix: set PULUMI_CONFIG_PASSPHRASE or PULUMI_CONFIG_PASSPHRASE_FILE to the passphrase the "
            "stack was created with (by default capacity keeps it in .capacity/passphrase)."
        )
    lowered = text.lower()
    if "no space left on device" in lowered:
        return EngineError(
            f"{verb} failed: the disk is full (no space left on device). What was done before is saved in "
            "the state; there is nothing to restore.\nTo fix: free some space on the disk holding the state "
            "(and the system's temporary directory), then run the command again: the interrupted run is recovered.")
    if "read-only file system" in lowered:
        return EngineError(
            f"{verb} failed: the state is on a read-only file system.\nTo fix: make it writable, or point "
            "CAPACITY_STATE_DIR or --backend at a writable directory.")
    from capacity.engine.events import clean_message

    found = list(dict.fromkeys(clean_message(line) for line in error_lines(text)))
    lines = [line for line in found if not re.match(r"(update|preview|refresh|destroy) failed$", line)] or found
    if not lines:
        code = re.search(r"code: (-?\d+)", text)
        tail = [line.strip() for line in text.splitlines() if line.strip() and not line.strip().startswith(("code:", "stdout:", "stderr:"))]
        lines = [tail[-1] if tail else f"pulumi exited with code {code.group(1) if code else '?'}"]
    return EngineError(f"{verb} failed: " + "\n  ".join(lines[:8]))
