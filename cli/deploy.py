"""Commands that run a plan through the real Pulumi engine: preview, up, refresh, destroy, status, stacks.

One stack per plan (its `metadata.name`, or --stack), in the local file backend under
`.capacity/` unless --backend or PULUMI_BACKEND_URL say otherwise. pulumi is imported inside the
command bodies only, so `capacity --help` and `validate` never load it.

Exit codes: 0 success; 1 invalid plan, failed operation, refused operation (an `up` or `destroy`
without --yes where no one can confirm, an `up` or `destroy` that would take capacity from a lease in
force, an `up` that would make a second stack of a renamed plan, an unknown --stack);
2 a wrong command line; 130 cancelled with Ctrl-C (the state is saved). `preview` exits 1 with
the lease guard's refusal when `up` of the plan would be refused (its result is on stdout);
`preview --detailed-exitcode`: 0 no changes, 2 changes pending, 1 error or refusal.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import signal
import sys
from typing import Annotated, Iterator, Optional

import typer

from capacity.words import count
from capacity.cli.complete import stack_names
from capacity.cli.inventory import InventoryUrlOption
from capacity.cli.output import CatalogOption, Format, FormatOption, Handled, day_option, emit_json, say

app = typer.Typer(cls=Handled, name="deploy", help="Run plans through the Pulumi engine.", no_args_is_help=True)

StackOption = Annotated[Optional[str], typer.Option(
    "--stack", "-s", help="Stack name (default: the plan's metadata.name; docs/state.md).",
    autocompletion=stack_names)]
BackendOption = Annotated[Optional[str], typer.Option(
    "--backend", help="State backend URL: file://DIR, s3://, azblob://, gs:// or Pulumi Cloud "
                      "(default: PULUMI_BACKEND_URL, else .capacity/pulumi; docs/state.md).")]
AllowDestroyOption = Annotated[bool, typer.Option(
    "--allow-destroy", help="Allow deleting, moving or shrinking the capacity of leases in force.")]
YesOption = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation (required without a terminal).")]
PlanArg = Annotated[str, typer.Argument(help="The capacity plan file (YAML), or - to read it from stdin.",
                                        show_default=False)]
OptionalPlanArg = Annotated[Optional[str], typer.Argument(
    help="The capacity plan file (YAML), or - to read it from stdin; or give --stack.", show_default=False)]
DayOption = Annotated[Optional[dt.date], day_option(
    "--on", help="Deploy as on this day, YYYY-MM-DD (default today): it decides which leases are in force or ended.")]


# --- shared plumbing ------------------------------------------------------------------------


@contextlib.contextmanager
def _engine_errors(verb: str, stack_name: str = "") -> Iterator[None]:
    """Ctrl-C (or SIGTERM) -> a clean cancel, exit 130. (Errors for the user: cli/output.py's `report`.)"""
    previous = None
    try:
        previous = signal.signal(signal.SIGTERM, _sigterm_as_interrupt)
    except ValueError:  # not the main thread (e.g. some test runners)
        previous = None
    try:
        yield
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
    from capacity.cli.output import load_or_exit

    return load_or_exit(plan, catalog, fmt)


def _start(verb: str, loaded, fmt: Format, **options):
    """The engine workflow of one command, its events shown in the format asked for."""
    from capacity.deploy.workflow import Workflow

    return Workflow.start(verb, loaded, progress=lambda shown_verb, **kw: _progress(fmt, shown_verb, **kw),
                          echo=say, **options)


def _require_yes(yes: bool, verb: str) -> None:
    from capacity.errors import CapacityError

    if not yes and not sys.stdin.isatty():
        raise CapacityError(f"`capacity {verb}` changes real capacity and there is no terminal to confirm it on.\n"
                            f"To fix: run it again with --yes (e.g. in CI).")


def _plan_or_stack(plan: Optional[str], stack: Optional[str]) -> None:
    from capacity.errors import CapacityError

    if not plan and not stack:
        raise CapacityError("give the plan file or --stack.", exit_code=2)


def _confirm(question: str) -> bool:
    try:
        return typer.confirm(question, default=False, err=True)
    except typer.Abort:
        return False


def _progress(fmt: Format, verb: str, show_diff: bool = False):
    from capacity.cli.progress import Progress, choose_mode

    return Progress(mode=choose_mode(fmt.value), verb=verb, show_diff=show_diff)


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
    inventory_url: InventoryUrlOption = None,
    on: DayOption = None,
) -> None:
    """Show what `up` would change, without changing anything."""
    loaded = _load(plan, catalog, fmt)
    name = stack or loaded.name
    with _engine_errors("preview", name):
        from capacity.deploy.guard import refusal
        from capacity.deploy.status import dated_reservations

        run = _start("preview", loaded, fmt, plan_path=plan, stack=stack, backend=backend,
                     day=on)
        outcome = run.preview(diff=diff, progress=_progress(Format.text, "preview", show_diff=diff))
        summary = outcome.changes
        dated = dated_reservations(loaded, run.pstack.outputs(), on)
        refused = refusal("up", run.guard.found) if run.guard.found else None
        if fmt == Format.json:
            emit_json({
                "stack": name,
                "backend": run.pstack.backend.shown,
                "has_changes": outcome.has_changes,
                "changes": summary,
                "steps": [s.as_json() for s in outcome.steps],
                "refused_without_allow_destroy": outcome.takings,
                "refused": {"by": "lease guard", "message": refused, "takings": outcome.takings} if refused else None,
                "reservations": dated["reservations"],
                "ended_as_planned": dated["ended_as_planned"],
            })
        else:
            from capacity.cli.progress import summary_line

            shown_line = summary_line(summary, preview=True) if outcome.has_changes else "no changes"
            sys.stdout.write(f"{name}: {shown_line}.\n")
            for line in dated["lines"]:
                sys.stdout.write(f"{line}.\n")
            if refused:
                sys.stdout.write(f"up would be refused: {refused}\n")
    if refused:
        say(f"error: {refused}")
        raise typer.Exit(1)
    if detailed_exitcode and outcome.has_changes:
        raise typer.Exit(2)


@app.command()
def up(
    plan: PlanArg,
    yes: YesOption = False,
    allow_destroy: AllowDestroyOption = False,
    new_stack: Annotated[bool, typer.Option(
        "--new-stack", help="Create this plan's stack even though another stack holds the same clusters.")] = False,
    refresh: Annotated[bool, typer.Option("--refresh", help="Refresh the state from the providers first.")] = False,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
    inventory_url: InventoryUrlOption = None,
    on: DayOption = None,
) -> None:
    """Make the world match the plan: create, update and delete its resources."""
    _require_yes(yes, "up")
    loaded = _load(plan, catalog, fmt)
    name = stack or loaded.name
    with _engine_errors("up", name):
        from capacity.cli.progress import summary_line

        run = _start("up", loaded, fmt, plan_path=plan, stack=stack, backend=backend,
                     allow_destroy=allow_destroy, new_stack=new_stack, day=on)
        if not yes:
            planned = run.preview(refresh=refresh, progress=_progress(Format.text, "preview"))
            run.refuse_if_guarded()
            if not planned.has_changes:
                _done(fmt, name, {}, "no changes")
                return
            say(f"{name}: {summary_line(planned.changes, preview=True)}.")
            if not _confirm(f"Apply these changes to stack '{name}'?"):
                say("Nothing changed.")
                raise typer.Exit(1)
        outcome = run.up(refresh=refresh)
        _done(fmt, name, outcome.changes, summary_line(outcome.changes, outcome.seconds))


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
    inventory_url: InventoryUrlOption = None,
    on: DayOption = None,
) -> None:
    """Read the real state of every resource into the stack and report drift."""
    loaded = _load(plan, catalog, fmt)
    name = stack or loaded.name
    with _engine_errors("refresh", name):
        outcome = _start("refresh", loaded, fmt, stack=stack, backend=backend, day=on).refresh()
        drifted = outcome.drift
        if fmt == Format.json:
            import json

            sys.stdout.write(json.dumps({"event": "result", "stack": name, "ok": True,
                                         "drift": [s.as_json() for s in drifted]}) + "\n")
        elif drifted:
            say(f"{name}: drift in {len(drifted)} resource(s): {', '.join(s.name for s in drifted)}. "
                "The state now records it; run `capacity up` to put it right.")
        else:
            read = sum(outcome.changes.values())
            say(f"{name}: no drift ({count(read, 'resource')} read).")


@app.command()
def destroy(
    plan: OptionalPlanArg = None,
    yes: YesOption = False,
    allow_destroy: AllowDestroyOption = False,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
    inventory_url: InventoryUrlOption = None,
) -> None:
    """Delete every resource of the plan's stack (owned nodes go back to the free pool)."""
    _plan_or_stack(plan, stack)
    _require_yes(yes, "destroy")
    loaded = _load(plan, catalog, fmt) if plan else None
    name = stack or loaded.name
    with _engine_errors("destroy", name):
        from capacity.cli.progress import summary_line

        run = _start("destroy", loaded, fmt, stack=name, backend=backend, allow_destroy=allow_destroy)
        if not run.pstack.exists():
            if stack and not plan:  # a name typed by hand: say which there are
                from capacity.deploy.workflow import unknown_stack

                raise unknown_stack(run.pstack)
            say(f"{name}: nothing to destroy (no such stack in {run.pstack.backend.shown}).")
            return
        if not yes:
            from capacity.engine.deployment import managed_resources

            held = managed_resources(run.pstack.deployment())
            if not _confirm(f"Destroy all {count(len(held), 'resource')} of stack '{name}'?"):
                say("Nothing changed.")
                raise typer.Exit(1)
        outcome = run.destroy()
        _done(fmt, name, outcome.changes, summary_line(outcome.changes, outcome.seconds))


@app.command()
def status(
    plan: OptionalPlanArg = None,
    fmt: FormatOption = Format.text,
    stack: StackOption = None,
    backend: BackendOption = None,
    catalog: CatalogOption = None,
    link: Annotated[Optional[str], typer.Option(
        "--link", help="Show this link's router configuration for the owned end: strongSwan swanctl.conf and "
                       "FRR, or vendor-neutral JSON with --format json.", show_default=False)] = None,
    show_secrets: Annotated[bool, typer.Option(
        "--show-secrets", help="With --link: write the pre-shared and BGP keys in clear (else a placeholder).")] = False,
) -> None:
    """What is deployed: GPUs by provider, site and cluster; leases with their nodes or pools; reservations;
    links to owned sites (`--link NAME` for a router's configuration)."""
    from capacity.errors import CapacityError

    _plan_or_stack(plan, stack)
    if show_secrets and not link:
        raise CapacityError("--show-secrets goes with --link NAME (it shows that link's keys).", exit_code=2)
    loaded = _load(plan, catalog, fmt) if plan else None
    name = stack or loaded.name
    if link:
        _link_status(name, backend, stack is not None, link, show_secrets, fmt)
        return
    with _engine_errors("status", name):
        from capacity.deploy.status import stack_status
        from capacity.deploy.workflow import open_stack

        data = stack_status(open_stack(name, backend, echo=say, known=stack is not None), loaded).as_json()
    if fmt == Format.json:
        emit_json(data)
    else:
        from capacity.cli.status_text import render_text

        sys.stdout.write(render_text(data))


def _link_status(name: str, backend: str | None, known: bool, link: str, show_secrets: bool, fmt: Format) -> None:
    with _engine_errors("status", name):
        from capacity.deploy.workflow import open_stack
        from capacity.engine.links import link_config
        from capacity.review import router

        data, keys = link_config(open_stack(name, backend, echo=say, known=known), link, show_secrets)
    if fmt == Format.json:
        emit_json(router.neutral(link, data, keys))
    else:
        sys.stdout.write(router.text(link, data, keys))


stacks_app = typer.Typer(cls=Handled, name="stacks", help="List the stacks in the backend (`stacks rm NAME` removes one).",
                         invoke_without_command=True)


@stacks_app.callback()
def stacks(
    context: typer.Context,
    fmt: FormatOption = Format.text,
    backend: BackendOption = None,
) -> None:
    """List the stacks in the backend, with their last update and resource count; `stacks rm NAME`
    removes one (a stack left empty by a preview or a failed first up, say)."""
    if context.invoked_subcommand is not None:
        return
    with _engine_errors("stacks"):
        from capacity.deploy.workflow import open_stacks

        stacks = open_stacks(backend, echo=say)
        rows = stacks.list_stacks()
    if fmt == Format.json:
        emit_json({"backend": stacks.backend.shown, "stacks": rows})
        return
    if not rows:
        say(f"No stacks in {stacks.backend.shown}.")
        return
    width = max(len(r["name"]) for r in rows)
    for row in rows:
        sys.stdout.write(f"{row['name'].ljust(width)}  {count(row['resources'], 'resource'):>13}  "
                         f"last update {row['last_update'] or 'never'}"
                         f"{'  (update in progress)' if row['update_in_progress'] else ''}\n")


@stacks_app.command("rm")
def remove_stack(
    name: Annotated[str, typer.Argument(help="The stack to remove.", show_default=False, autocompletion=stack_names)],
    force: Annotated[bool, typer.Option("--force", help="Remove it even if it holds resources (they are left "
                                                         "running, no longer managed).")] = False,
    yes: YesOption = False,
    backend: BackendOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Remove a stack: its state, configuration and history. Refused while it holds resources
    (run `capacity destroy --stack NAME` first) unless --force, which asks first (or takes --yes)."""
    if force:
        _require_yes(yes, "stacks rm --force")
    with _engine_errors("stacks rm", name):
        from capacity.engine.stack import PlanStack

        pstack = PlanStack.open(name, None, backend=backend, echo=say)
        if force and not yes and not _confirm(f"Remove stack '{name}' and forget any resources it holds?"):
            say("Nothing changed.")
            raise typer.Exit(1)
        pstack.remove(force=force)
    if fmt == Format.json:
        emit_json({"ok": True, "removed": name, "backend": pstack.backend.shown})
        return
    say(f"Removed stack '{name}' from {pstack.backend.shown}.")
    if force:
        from capacity.deploy.ownership import holder_of, left_in_inventory

        for line in left_in_inventory(name, holder_of(pstack.backend)):
            say(line)


COMMANDS = [preview, up, refresh, destroy, status]
