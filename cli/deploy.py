"""Commands that run a plan through the real Pulumi engine: preview, up, refresh, destroy, status, stacks.

One stack per plan (its `metadata.name`, or --stack), in the local file backend under
`.capacity/` unless --backend or PULUMI_BACKEND_URL say otherwise. pulumi is imported inside the
command bodies only, so `capacity --help` and `validate` never load it.

Exit codes: 0 success; 1 invalid plan, failed operation, refused operation (an `up` or `destroy`
without --yes where no one can confirm, an `up` that would take capacity from an active lease);
2 a wrong command line; 130 cancelled with Ctrl-C (the state is saved). `preview
--detailed-exitcode`: 0 no changes, 2 changes pending, 1 error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import sys
from typing import Annotated, Iterator, Optional

import typer

from cli.output import CatalogOption, Format, FormatOption, emit_json, say

app = typer.Typer(name="deploy", help="Run plans through the Pulumi engine.", no_args_is_help=True)

StackOption = Annotated[Optional[str], typer.Option("--stack", "-s", help="Stack name (default: the plan's metadata.name).")]
BackendOption = Annotated[Optional[str], typer.Option(
    "--backend", help="State backend URL: file://DIR, s3://, azblob://, gs:// or Pulumi Cloud "
                      "(default: PULUMI_BACKEND_URL, else .capacity/pulumi).")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required without a terminal).")]
PlanArg = Annotated[str, typer.Argument(help="The capacity plan file (YAML).", show_default=False)]
DayOption = Annotated[Optional[dt.datetime], typer.Option(
    "--on", formats=["%Y-%m-%d"], show_default=False,
    help="Deploy as on this day, YYYY-MM-DD (default today): it decides which leases are in force or ended.")]
OptionalPlanArg = Annotated[Optional[str], typer.Argument(help="The capacity plan file (YAML); or give --stack.",
                                                          show_default=False)]


# --- shared plumbing ------------------------------------------------------------------------


@contextlib.contextmanager
def _engine_errors(verb: str, stack_name: str = "") -> Iterator[None]:
    """EngineError -> its message and exit code; Ctrl-C (or SIGTERM) -> a clean cancel, exit 130."""
    from capacity.engine.errors import EngineError

    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    except ValueError:  # not the main thread (e.g. some test runners)
        previous = None
    try:
        yield
    except EngineError as exc:
        say(f"error: {exc}")
        raise typer.Exit(exc.exit_code) from None
    except Exception as exc:  # an owned site's inventory problem is the user's to fix, not a bug
        if type(exc).__name__ != "InventoryError":
            raise
        say(f"error: {exc}")
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        where = f" on stack '{stack_name}'" if stack_name else ""
        say(f"Cancelled: {verb}{where} stopped; what was done is saved in the state. "
            f"Run it again to continue.")
        raise typer.Exit(130) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGTERM, previous)


def _sigterm_as_interrupt(_signum, _frame) -> None:
    raise KeyboardInterrupt


def _load(plan: str, catalog: Optional[str], fmt: Format = Format.text):
    from cli.output import load_or_exit

    return load_or_exit(plan, catalog, fmt)


def _preflight(loaded) -> None:
    """Credentials for every provider the plan uses, checked before the engine starts."""
    from capacity.engine.errors import EngineError
    from capacity.providers import spec

    missing = [message for name in sorted(loaded.providers()) for message in spec(name).missing_credentials()]
    if missing:
        raise EngineError("Missing cloud credentials (checked before starting the engine):\n  - "
                          + "\n  - ".join(missing))


def _prepare_inventories(loaded, plan: str) -> None:
    """Owned sites: import each site's inventory file on first use, before Pulumi starts."""
    if "owned" not in loaded.providers():
        return
    from capacity.inventory import prepare_sites

    for line in prepare_sites(loaded, plan):
        say(line)


def _prepare(pstack, fmt: Format, recover: bool = True) -> None:
    """Locks (a killed run's removed, a live one refused), then a killed run's pending operations."""
    pstack.check_locks()
    if recover and pstack.exists() and pstack.pending_operations():
        with _progress(fmt, "recover") as progress:
            with _shown(progress):
                pstack.recover(on_event=progress)


def _open(loaded, stack: Optional[str], backend: Optional[str], with_program: bool = True,
          on: Optional[dt.datetime] = None):
    from capacity.engine.stack import PlanStack

    program = None
    if with_program:
        from components.program import build

        def program() -> None:
            build(loaded, on.date() if on else None)

    return PlanStack.open(stack or loaded.name, program, backend=backend, echo=say)


def _require_yes(yes: bool, verb: str) -> None:
    if not yes and not sys.stdin.isatty():
        say(f"error: `capacity {verb}` changes real capacity and there is no terminal to confirm it on.\n"
            f"To fix: run it again with --yes (e.g. in CI).")
        raise typer.Exit(1)


def _confirm(question: str) -> bool:
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:
        return False


@contextlib.contextmanager
def _shown(progress) -> Iterator[None]:
    """An operation whose errors the progress display has already shown: say so, briefly."""
    from capacity.engine.errors import EngineError

    try:
        yield
    except EngineError as exc:
        if not progress.errors:
            raise
        count = len(progress.errors)
        raise EngineError(f"{progress.verb} failed ({count} error{'s' if count != 1 else ''} above); "
                          "what succeeded is saved in the state.", exit_code=exc.exit_code) from None


def _progress(fmt: Format, verb: str, show_diff: bool = False):
    from capacity.engine.events import Progress, choose_mode

    return Progress(mode=choose_mode(fmt.value), verb=verb, show_diff=show_diff)


def _quiet_progress(verb: str):
    """Diagnostics only (plain lines on stderr), no resource lines: for the safety check."""
    from capacity.engine.events import Progress

    return Progress(mode="plain", verb=verb, show_steps=False)


def _has_changes(summary: dict[str, int]) -> bool:
    return any(n for op, n in summary.items() if op != "same")


def _dangers(pstack, loaded, steps, on: Optional[dt.datetime] = None) -> list:
    from capacity.engine.safety import DANGEROUS_OPS, active_leases, dangers, parent_map

    if not any(step.op in DANGEROUS_OPS for step in steps):
        return []  # nothing deleted or replaced: no need to read the state
    deployment = pstack.deployment()
    deployed = pstack.outputs()
    deployed_leases = deployed.get("leases") if isinstance(deployed.get("leases"), dict) else {}
    deployed_clusters = deployed.get("clusters") if isinstance(deployed.get("clusters"), dict) else {}
    leases = active_leases(loaded.plan.leases, deployed_leases, on.date() if on else None)
    clusters = set(loaded.plan.clusters) | set(deployed_clusters)
    return dangers(steps, parent_map(deployment, steps), clusters, leases)


def _may_take_capacity(pstack, loaded) -> bool:
    """Could an up touch a resource that carries an active lease? Only if some are deployed."""
    deployment = pstack.deployment() or {}
    resources = [r for r in deployment.get("resources") or [] if r.get("type") != "pulumi:pulumi:Stack"]
    if not resources:
        return False
    deployed = pstack.outputs().get("leases")
    return bool(deployed) or bool(loaded.plan.leases)


# --- commands -------------------------------------------------------------------------------


@app.command()
def preview(
    plan: PlanArg,
    diff: Annotated[bool, typer.Option("--diff", help="Show the properties that change.")] = False,
    detailed_exitcode: Annotated[bool, typer.Option(
        "--detailed-exitcode", help="Exit 0 when there are no changes, 2 when there are, 1 on error.")] = False,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
    on: DayOption = None,
) -> None:
    """Show what `up` would change, without changing anything."""
    loaded = _load(plan, catalog, fmt)
    name = stack or loaded.name
    with _engine_errors("preview", name):
        _preflight(loaded)
        pstack = _open(loaded, stack, backend, on=on)
        _prepare(pstack, fmt, recover=False)
        with _progress(Format.text, "preview", show_diff=diff) as progress:
            with _shown(progress):
                result = pstack.preview(on_event=progress)
        summary = {str(getattr(k, "value", k)): int(v) for k, v in (result.change_summary or {}).items()}
        changes = progress.changes()
        found = _dangers(pstack, loaded, progress.steps, on)
        if fmt == Format.json:
            emit_json({
                "stack": name,
                "backend": pstack.backend.shown,
                "has_changes": _has_changes(summary),
                "changes": summary,
                "steps": [s.as_json() for s in changes],
                "refused_without_allow_destroy": [d.message() for d in found],
            })
        else:
            from capacity.engine.events import summary_line

            if _has_changes(summary):
                say(f"{name}: {summary_line(summary, preview=True)}.")
            else:
                say(f"{name}: no changes.")
            for danger in found:
                say(f"warning: up would {danger.message()}; it will refuse without --allow-destroy.")
    if detailed_exitcode and _has_changes(summary):
        raise typer.Exit(2)


@app.command()
def up(
    plan: PlanArg,
    yes: YesOption = False,
    allow_destroy: Annotated[bool, typer.Option(
        "--allow-destroy", help="Allow deleting or replacing clusters, pools or reservations with active leases.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Refresh the state from the providers first.")] = False,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
    on: DayOption = None,
) -> None:
    """Make the world match the plan: create, update and delete its resources."""
    _require_yes(yes, "up")
    loaded = _load(plan, catalog, fmt)
    name = stack or loaded.name
    with _engine_errors("up", name):
        from capacity.engine.errors import EngineError
        from capacity.engine.events import summary_line
        from capacity.engine.safety import refusal

        _preflight(loaded)
        _prepare_inventories(loaded, plan)
        pstack = _open(loaded, stack, backend, on=on)
        _prepare(pstack, fmt)
        check_leases = not allow_destroy and _may_take_capacity(pstack, loaded)
        if not yes or check_leases:
            interactive = not yes
            if not interactive:
                say("Checking the changes against active leases ...")
            with (_progress(Format.text, "preview") if interactive else _quiet_progress("preview")) as progress:
                with _shown(progress):
                    result = pstack.preview(on_event=progress, refresh=refresh)
            summary = {str(getattr(k, "value", k)): int(v) for k, v in (result.change_summary or {}).items()}
            found = _dangers(pstack, loaded, progress.steps, on) if check_leases else []
            if found:
                raise EngineError(refusal(found))
            if not _has_changes(summary):
                _done(fmt, name, {}, "no changes")
                return
            if interactive:
                say(f"{name}: {summary_line(summary, preview=True)}.")
                if not _confirm(f"Apply these changes to stack '{name}'?"):
                    say("Nothing changed.")
                    raise typer.Exit(1)
        with _progress(fmt, "up") as progress:
            with _shown(progress):
                result = pstack.up(on_event=progress, refresh=refresh)
        changes = {str(getattr(k, "value", k)): int(v) for k, v in (result.summary.resource_changes or {}).items()}
        _done(fmt, name, changes, summary_line(changes, progress.duration))


def _done(fmt: Format, name: str, changes: dict[str, int], text: str) -> None:
    if fmt == Format.json:
        import json

        sys.stdout.write(json.dumps({"event": "result", "stack": name, "ok": True, "changes": changes}) + "\n")
    else:
        say(f"{name}: {text}.")


@app.command()
def refresh(
    plan: PlanArg,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
    on: DayOption = None,
) -> None:
    """Read the real state of every resource into the stack and report drift."""
    loaded = _load(plan, catalog, fmt)
    name = stack or loaded.name
    with _engine_errors("refresh", name):
        _preflight(loaded)
        pstack = _open(loaded, stack, backend, on=on)
        _prepare(pstack, fmt, recover=False)
        with _progress(fmt, "refresh") as progress:
            with _shown(progress):
                result = pstack.refresh(on_event=progress)
        drifted = progress.drifted()
        if fmt == Format.json:
            import json

            sys.stdout.write(json.dumps({"event": "result", "stack": name, "ok": True,
                                         "drift": [s.as_json() for s in drifted]}) + "\n")
        elif drifted:
            say(f"{name}: drift in {len(drifted)} resource(s): {', '.join(s.name for s in drifted)}. "
                "The state now records it; run `capacity up` to put it right.")
        else:
            read = sum((result.summary.resource_changes or {}).values())
            say(f"{name}: no drift ({read} resources read).")


@app.command()
def destroy(
    plan: OptionalPlanArg = None,
    yes: YesOption = False,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
) -> None:
    """Delete every resource of the plan's stack (owned nodes go back to the free pool)."""
    if not plan and not stack:
        say("error: give the plan file or --stack.")
        raise typer.Exit(2)
    _require_yes(yes, "destroy")
    loaded = _load(plan, catalog, fmt) if plan else None
    name = stack or loaded.name
    with _engine_errors("destroy", name):
        from capacity.engine.stack import PlanStack

        if loaded is not None:
            _preflight(loaded)
        pstack = PlanStack.open(name, None, backend=backend, echo=say)
        if not pstack.exists():
            say(f"{name}: nothing to destroy (no such stack in {pstack.backend.shown}).")
            return
        _prepare(pstack, fmt)
        if not yes:
            count = len([r for r in (pstack.deployment() or {}).get("resources") or []
                         if r.get("type") != "pulumi:pulumi:Stack"])
            if not _confirm(f"Destroy all {count} resources of stack '{name}'?"):
                say("Nothing changed.")
                raise typer.Exit(1)
        with _progress(fmt, "destroy") as progress:
            with _shown(progress):
                result = pstack.destroy(on_event=progress)
        from capacity.engine.events import summary_line

        changes = {str(getattr(k, "value", k)): int(v) for k, v in (result.summary.resource_changes or {}).items()}
        _done(fmt, name, changes, summary_line(changes, progress.duration))


@app.command()
def status(
    plan: OptionalPlanArg = None,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
) -> None:
    """What is deployed: GPUs by provider, site and cluster; leases with their nodes or pools; reservations."""
    if not plan and not stack:
        say("error: give the plan file or --stack.")
        raise typer.Exit(2)
    loaded = _load(plan, catalog, fmt) if plan else None
    name = stack or loaded.name
    with _engine_errors("status", name):
        from capacity.engine.stack import PlanStack
        from capacity.engine.status import render_text, stack_status

        pstack = PlanStack.open(name, None, backend=backend, echo=say, install=True)
        data = stack_status(pstack, loaded)
    if fmt == Format.json:
        emit_json(data)
    else:
        sys.stdout.write(render_text(data))


@app.command()
def stacks(
    fmt: FormatOption = Format.text,
    backend: BackendOption = None,
) -> None:
    """List the stacks in the backend, with their last update and resource count."""
    with _engine_errors("stacks"):
        from capacity.engine.stack import PlanStack

        pstack = PlanStack.open("list", None, backend=backend, echo=say)
        rows = pstack.list_stacks()
    if fmt == Format.json:
        emit_json({"backend": pstack.backend.shown, "stacks": rows})
        return
    if not rows:
        say(f"No stacks in {pstack.backend.shown}.")
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        sys.stdout.write(f"{row['name'].ljust(width)}  {str(row['resources'] if row['resources'] is not None else '-'):>6} "
                         f"resources  last update {row['last_update'] or 'never'}"
                         f"{'  (update in progress)' if row['update_in_progress'] else ''}\n")


COMMANDS = [preview, up, refresh, destroy, status, stacks]
