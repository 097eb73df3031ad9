"""One Pulumi stack per plan, through the Automation API with an inline program.

- Project `capacity`; stack `metadata.name` of the plan (or `--stack`). `Stacks` is a backend's
  stacks (listed, opened by name); the backend, its secrets and our workspace: backend.py.
- The CLI runs in its own session: a Ctrl-C reaches only us, and we forward it to Pulumi, which
  cancels cleanly (operations in flight finish and are saved). A second Ctrl-C is forwarded too.
- Before an operation: a lock left by a killed run on this machine is removed (said so), a live
  one fails at once naming who holds it; pending operations left by a killed run are recovered
  with `refresh --clear-pending-creates`, said so.

pulumi is imported inside functions only.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable

from capacity.engine import sdk_patches
from capacity.errors import EngineError, StackLocked, StackNotFound
from capacity.engine.filestate import check_usable, read_checkpoint, repair
from capacity.engine.backend import (
    PROJECT,
    Backend,
    default_state_dir,
    make_workspace,
    resolve_backend,
    run_env,
)
from capacity.engine.pulumi_cli import Echo, PulumiCli, ensure_pulumi, print_to_stderr
from capacity.engine import deployment as state
from capacity.words import count

_ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


# --- the program ----------------------------------------------------------------------------


def lean(program: Callable[[], None]) -> Callable[[], Awaitable[None]]:
    """The inline program, without the SDK's per-resource overhead that nobody reads.

    - Stack traces and debug messages: not sent (capacity/engine/sdk_patches.py).
    - The end of the program: the SDK then awaits the registrations' RPCs one by one, but only
      those already started; if none has, it falls back to waiting on every pending output again
      after each step (quadratic: ~1 s of CPU on a 1,000-node plan). Yielding once starts them."""

    async def run() -> None:
        program()
        await asyncio.sleep(0)

    sdk_patches.apply()  # before the run: the stack resource is registered before the program
    return run


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
        stacks = Stacks.open(backend, state_dir=state_dir, echo=echo, install=install, writes=writes)
        return cls(name=name, program=lean(program) if program is not None else None, backend=stacks.backend,
                   state_dir=stacks.state_dir, cli=stacks.cli, echo=echo)

    # -- workspace

    def env(self) -> dict[str, str]:
        return run_env(self.backend, self.state_dir, self.cli, self.echo)

    @property
    def workspace(self):
        if self._workspace is None:
            self._workspace = make_workspace(self.backend, self.state_dir, self.cli, self.echo, self.program)
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
                raise StackNotFound(
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
        return self.stacks().list_stacks()

    def stacks(self) -> "Stacks":
        """The backend's stacks, reached through this stack's workspace."""
        return Stacks(backend=self.backend, state_dir=self.state_dir, cli=self.cli, echo=self.echo,
                      _workspace=self.workspace)

    def other(self, name: str) -> "PlanStack":
        """Another stack of the same backend (sharing this one's workspace, if made)."""
        return PlanStack(name=name, program=None, backend=self.backend, state_dir=self.state_dir,
                         cli=self.cli, echo=self.echo, _workspace=self._workspace)

    def add_env(self, env: dict[str, str]) -> None:
        """Engine settings for the runs still to come (the workspace's environment)."""
        self.workspace.env_vars.update(env)

    def remove(self, force: bool = False) -> None:
        """Forget the stack: its state, configuration and history. One that holds resources is
        refused unless `force` (its resources would be left running, no longer managed)."""
        if not self.exists():
            raise StackNotFound(f"Stack '{self.name}' does not exist in {self.backend.shown}.")
        self.check_locks()
        held = state.managed_resources(self.deployment())
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
        return state.stack_outputs(self.deployment())

    def secret_output(self, name: str) -> Any:
        """A stack output decrypted (secret or not), e.g. the links' keys; {} if there is none."""
        found = self.stack(create=False).outputs().get(name)
        return found.value if found is not None else {}

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

    def has_live_lock(self) -> bool:
        """A run holds this stack's lock now (the local backend; a killed run's lock does not count)."""
        return any(not lock.stale for lock in self.locks())

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
            raise StackLocked(locked_message(self.name, [lk.describe() + f" (lock file {lk.path})" for lk in live]))

    def pending_operations(self) -> list[dict]:
        return state.pending_operations(self.deployment())

    def recover(self, on_event=None) -> bool:
        """After a killed run: refresh the stack, clearing pending creates. True if it did."""
        pending = self.pending_operations()
        if not pending:
            return False
        ops = ", ".join(f"{op.get('type', '?')} {state.urn_name(op.get('resource', {}).get('urn', '')) or '?'}" for op in pending)
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


@dataclass
class Stacks:
    """The stacks of one backend, as this machine reaches them: list them, open one by name."""

    backend: Backend
    state_dir: Path
    cli: PulumiCli
    echo: Echo = print_to_stderr
    _workspace: Any = field(default=None, repr=False)

    @classmethod
    def open(cls, backend: str | None = None, *, state_dir: Path | None = None, echo: Echo = print_to_stderr,
             install: bool = True, writes: bool = True) -> "Stacks":
        """The backend `backend` names (default: PULUMI_BACKEND_URL, else the state dir's own), its
        directories checked usable, and the Pulumi CLI found (or installed)."""
        state = (state_dir or default_state_dir()).absolute()
        where = resolve_backend(backend, state)
        check_usable(state, "the state directory", write=writes)
        if where.local_dir is not None:
            check_usable(where.local_dir, "the state backend directory", write=writes)
        return cls(backend=where, state_dir=state, cli=ensure_pulumi(install=install, echo=echo), echo=echo)

    @property
    def workspace(self):
        if self._workspace is None:
            self._workspace = make_workspace(self.backend, self.state_dir, self.cli, self.echo, None)
        return self._workspace

    def stack(self, name: str) -> PlanStack:
        """The stack `name` of this backend, to read or remove (no program)."""
        _check_stack_name(name)
        return PlanStack(name=name, program=None, backend=self.backend, state_dir=self.state_dir, cli=self.cli,
                         echo=self.echo, _workspace=self._workspace)

    def list_stacks(self) -> list[dict[str, Any]]:
        """Every stack of the project in this backend: name, last update, whether an update is in
        progress, resources held, and its URL (Pulumi Cloud)."""
        if self.backend.local_dir is not None and not (self.backend.local_dir / ".pulumi").exists():
            return []
        from pulumi.automation.errors import CommandError

        try:
            summaries = self.workspace.list_stacks()
        except CommandError as exc:
            raise engine_failure(exc, "listing stacks") from None
        rows = []
        for summary in summaries:
            name = summary.name.split("/")[-1]
            rows.append({"name": name, "last_update": summary.last_update or None,
                         "update_in_progress": bool(summary.update_in_progress),
                         "resources": len(state.managed_resources(self.stack(name)._state())),
                         "url": summary.url or None})
        return rows


# --- helpers ----------------------------------------------------------------------------------


_STACK_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")


def _check_stack_name(name: str) -> None:
    if not _STACK_NAME.match(name or ""):
        raise EngineError(f"'{name}' is not a usable stack name: use letters, digits, '-', '_' or '.' "
                          "(at most 100).", exit_code=2)


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
        return StackLocked(locked_message(stack or "?", holders or ["another update"]))
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
