"""The deploy workflow: what preview, up, refresh and destroy share, below the CLI.

    run = Workflow.start("up", loaded, plan_path=..., stack=..., progress=...)
    outcome = run.up()

`start` checks credentials (preflight), opens the stack, repairs a killed run's debris, clears its
lock and recovers its pending operations (up, destroy), refuses an `up` that would create a second
stack for capacity another stack already holds (a renamed plan), then readies owned sites'
inventories (imported on first use, shortages found before any change). Every run carries the
lease guard (capacity/deploy/guard.py), checked inside the update; `destroy` is an update to an
empty program, so the same guard, under the same lock, decides it.

Each operation returns an `Outcome`. The CLI parses flags, confirms, and shows outcomes;
`progress(verb)` is its display of engine events (a `Recorder` that shows them:
capacity/cli/progress.py). pulumi is imported inside functions only.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, Optional

from capacity.engine import deployment as state
from capacity.errors import EngineError, LeaseGuardRefusal, StackNotFound
from capacity.engine.filestate import disk_full, full_disk
from capacity.deploy.guard import REFUSAL_MARK, LeaseGuard, cluster_sites, recording_facts, refusal
from capacity.engine.pulumi_cli import Echo, print_to_stderr
from capacity.engine.events import Recorder, Step
from capacity.engine.stack import PlanStack, Stacks
from capacity.inventory import InventoryError, inventory_url
from capacity.inventory.ledger import StackState, StackStates
from capacity.words import inert


def preflight(loaded) -> None:
    """The SDK extra and credentials of every provider the plan uses, checked before the engine starts."""
    from capacity.providers import missing_sdks, spec

    sdks = missing_sdks(loaded.providers())
    if sdks:
        raise EngineError("Cannot deploy: " + "\n".join(sdks))
    missing = [message for name in sorted(loaded.providers()) for message in spec(name).missing_credentials()]
    if missing:
        raise EngineError("Missing cloud credentials (checked before starting the engine):\n  - "
                          + "\n  - ".join(missing))


def guarded_program(loaded, guard: LeaseGuard, day: dt.date | None = None) -> Callable[[], None]:
    """The plan's program as deployed on `day` (today; nothing for destroy), the lease guard first."""

    def program() -> None:
        import pulumi

        guard.check(loaded, dry_run=pulumi.runtime.is_dry_run(), day=day)
        if loaded is not None:
            from capacity.components.program import build

            pulumi.runtime.register_stack_transformation(recording_facts(loaded, day))
            build(loaded, day)

    return program


def change_counts(changes: Optional[dict]) -> dict[str, int]:
    return {str(getattr(op, "value", op)): int(n) for op, n in (changes or {}).items()}


def has_changes(counts: dict[str, int]) -> bool:
    return any(n for op, n in counts.items() if op != "same")


@dataclass
class Outcome:
    """What one operation did (or, for a preview, would do): for the CLI to show."""

    verb: str
    stack: str
    changes: dict[str, int]
    """op -> resources (create, update, delete, replace, same)."""
    steps: list[Step] = field(default_factory=list)
    """The planned or performed steps that change something."""
    drift: list[Step] = field(default_factory=list)
    """refresh: the resources whose real state differed from the state's."""
    seconds: float | None = None
    takings: list[str] = field(default_factory=list)
    """What the lease guard found the run would take (refused without --allow-destroy)."""

    @property
    def has_changes(self) -> bool:
        return has_changes(self.changes)


@dataclass
class Workflow:
    """One command's run of a plan (or, for destroy and status, of a stack) through the engine."""

    verb: str
    loaded: Any
    pstack: PlanStack
    guard: LeaseGuard
    progress: Callable[..., Any]
    echo: Echo = print_to_stderr

    @classmethod
    def start(cls, verb: str, loaded, *, plan_path: str | None = None, stack: str | None = None,
              backend: str | None = None, progress: Callable[..., Any], echo: Echo = print_to_stderr,
              allow_destroy: bool = False, new_stack: bool = False, day: dt.date | None = None) -> "Workflow":
        if loaded is not None:
            preflight(loaded)
        name = stack or loaded.name
        guard = LeaseGuard(read_state=lambda: pstack.deployment(), verb=verb, allow=allow_destroy)
        program = guarded_program(None if verb == "destroy" else loaded, guard, day)
        pstack = PlanStack.open(name, program, backend=backend, echo=echo)  # a full or read-only disk said here
        run = cls(verb=verb, loaded=loaded, pstack=pstack, guard=guard, progress=progress, echo=echo)
        if verb == "destroy" and not pstack.exists():
            return run
        pstack.check_locks()
        pstack.repair_debris()
        pending = pstack.pending_operations() if pstack.exists() else []  # a damaged state is named here
        if verb in ("up", "destroy") and pending:
            with run.shown("recover") as progress_:
                pstack.recover(on_event=progress_)
        if verb == "up" and not new_stack:
            run.refuse_a_second_stack()
        try:
            run.prepare_inventories(plan_path)
        except InventoryError:
            from capacity.inventory import inventory_dir

            if inventory_url() is None and disk_full(inventory_dir()):  # SQLite says "disk I/O error"
                raise full_disk(inventory_dir(), "the inventory") from None
            raise
        return run

    # -- the operations

    def preview(self, diff: bool = False, refresh: bool = False, progress=None) -> Outcome:
        with self.shown("preview", progress, show_diff=diff) as shown:
            result = self.pstack.preview(on_event=shown, diff=diff, refresh=refresh)
        return self._outcome("preview", change_counts(result.change_summary), shown)

    def _outcome(self, verb: str, changes: dict[str, int], shown: Recorder) -> Outcome:
        return Outcome(verb=verb, stack=self.pstack.name, changes=changes, steps=shown.changes(),
                       drift=shown.drifted(), seconds=shown.duration, takings=list(self.guard.found))

    def refuse_if_guarded(self) -> None:
        """After a preview: refuse now what the update would refuse (before asking anyone)."""
        if self.guard.found and not self.guard.allow:
            raise LeaseGuardRefusal(refusal(self.verb, self.guard.found))

    def up(self, refresh: bool = False) -> Outcome:
        with self.guarded(), self.shown("up") as shown:
            result = self.pstack.up(on_event=shown, refresh=refresh)
        return self._outcome("up", change_counts(result.summary.resource_changes), shown)

    def refresh(self) -> Outcome:
        with self.shown("refresh") as shown:
            result = self.pstack.refresh(on_event=shown)
        return self._outcome("refresh", change_counts(result.summary.resource_changes), shown)

    def destroy(self):
        """Every resource deleted, as an update to an empty program (so under the guard); then the
        inventory gives back whatever an interrupted run left to the stack."""
        from capacity.inventory.ledger import after_destroy

        with self.guarded(), self.shown("destroy") as shown:
            result = self.pstack.up(on_event=shown)
        for line in after_destroy(self.pstack.name, state.resources(self.pstack.deployment())):
            self.echo(line)
        changes = change_counts(result.summary.resource_changes)
        changes.pop("same", None)
        return self._outcome("destroy", changes, shown)

    # -- the owned sites' inventory

    def prepare_inventories(self, plan_path: str | None) -> None:
        """After recovery, before the first create: `up` imports inventories on first use, releases
        what killed runs left and checks every owned cluster can get its nodes; `preview` checks
        that last. An owned-only state is saved once at the end (`checkpoint_env`)."""
        from capacity.inventory import ledger

        owned = self.loaded is not None and "owned" in self.loaded.providers()
        deployment = self.pstack.deployment() if self.pstack.exists() else None
        resources = state.resources(deployment)
        if (owned and self.verb == "up") or self.verb == "destroy":
            self.refuse_releasing_unsaved_pools(resources)
        if owned and plan_path and self.verb == "up":
            for line in ledger.before_up(self.loaded, plan_path, self.pstack.name, resources,
                                         ledger.holders_in(stack_states(self.pstack.stacks()))):
                self.echo(line)
        elif owned and plan_path and self.verb == "preview":
            ledger.check_shortages(self.loaded, plan_path, self.pstack.name, resources)
        if self.verb in ("up", "destroy"):
            self.pstack.add_env(checkpoint_env(self.loaded, deployment))

    def refuse_releasing_unsaved_pools(self, resources: list[dict]) -> None:
        """Lease pools a killed run made but no state has (owned runs save their state at the end):
        an `up` whose plan drops them, or a `destroy`, would release them. That takes a lease's
        capacity, so it needs --allow-destroy like any other taking."""
        from capacity.inventory import ledger, sites

        keep = ledger.plan_keys(self.loaded, self.pstack.name) if self.verb == "up" else ()
        where = ledger.owned_sites(self.loaded) if self.verb == "up" else sites()
        taken = ledger.orphan_pools(self.pstack.name, resources, where, keep)
        if taken and not self.guard.allow:
            raise LeaseGuardRefusal(refusal(self.verb, taken))

    # -- the steps around them

    @contextlib.contextmanager
    def guarded(self) -> Iterator[None]:
        """The guard's refusal, said as itself rather than as a failed program."""
        try:
            yield
        except EngineError:
            if self.guard.found and not self.guard.allow:
                raise LeaseGuardRefusal(refusal(self.verb, self.guard.found)) from None
            raise

    @contextlib.contextmanager
    def shown(self, verb: str, progress=None, **options) -> Iterator[Any]:
        """A display of the operation's events; an error it already showed is said briefly."""
        with progress or self.progress(verb, **options) as display:
            display.muted = (REFUSAL_MARK,)  # said once, by `guarded`
            try:
                yield display
            except EngineError as exc:
                if disk_full(self.pstack.state_dir):  # whatever words the failing part chose for it
                    raise full_disk(self.pstack.state_dir, "the state directory") from None
                if not display.errors or self.guard.found:
                    raise
                count = len(display.errors)
                raise EngineError(f"{display.verb} failed ({count} error{'s' if count != 1 else ''} above); "
                                  "what succeeded is saved in the state.", exit_code=exc.exit_code) from None

    def refuse_a_second_stack(self) -> None:
        """A plan whose stack does not exist yet, while another stack holds its clusters at the same
        sites: most likely a renamed plan, which would hold (and bill) everything twice."""
        if self.loaded is None or self.pstack.exists():
            return
        wanted = {(cluster.site, name) for name, cluster in self.loaded.plan.clusters.items()}
        names = {name for _site, name in wanted}
        for row in self.pstack.list_stacks():
            if row["name"] == self.pstack.name:
                continue
            other = self.pstack.other(row["name"]).deployment()
            shared = sorted(inert(name) for site, name in cluster_sites(other)
                            if (site, name) in wanted or (not site and name in names))  # site unrecorded
            if shared:
                raise EngineError(_second_stack(self.pstack.name, inert(row["name"]), shared, self.pstack.backend.shown))


def _second_stack(name: str, other: str, clusters: list[str], backend: str) -> str:
    plural = len(clusters) > 1
    return (f"Stack '{name}' does not exist yet, but stack '{other}' in {backend} already holds "
            f"cluster{'s' if plural else ''} {', '.join(repr(c) for c in clusters)} at the same "
            f"site{'s' if plural else ''}: was the plan renamed (metadata.name)? A second stack would hold "
            f"that capacity twice, and '{other}' would keep running and billing.\n"
            f"To fix: put metadata.name back to '{other}' (or pass --stack {other}); or, if both stacks are "
            f"meant to exist, run again with --new-stack.")


def stack_states(stacks: Stacks) -> StackStates:
    """The ledger's handle on a backend: each stack's resources, and whether a run is changing it
    now (a live lock of the local backend says so; elsewhere, the backend's own flag)."""

    def read() -> list[StackState]:
        found = []
        for row in stacks.list_stacks():
            other = stacks.stack(row["name"])
            busy = other.has_live_lock() if other.backend.local_dir is not None else row["update_in_progress"]
            found.append(StackState(row["name"], state.resources(other.deployment()), busy))
        return found

    return read


OWNED_TYPES = ("pulumi:pulumi:Stack", "pulumi:providers:pulumi-python")
OWNED_PREFIXES = ("capacity:owned:", "pulumi-python:dynamic/owned:")


def checkpoint_env(loaded, deployment: dict | None) -> dict[str, str]:
    """The engine's environment for a run that touches owned resources only.

    The file backend rewrites the whole state twice per step (and copies it to a `.bak` first), so
    a run's time grows with the square of its resources. An owned resource needs none of those
    intermediate states to survive a crash: the ledger keys every allocation and pool by its
    resource, so a create the state lost adopts the same nodes, an update or delete run again
    changes nothing more, and what a changed plan no longer has is released before the next `up`.
    So for a plan (and a state) of owned resources only, the engine saves the state once, at the
    end (`PULUMI_SKIP_CHECKPOINTS`). Any cloud resource keeps every checkpoint: a cloud create the
    state lost would leak."""
    if loaded is not None and loaded.providers() != {"owned"}:
        return {}
    if any(t not in OWNED_TYPES and not t.startswith(OWNED_PREFIXES) for t in state.types(deployment)):
        return {}
    return {"PULUMI_SKIP_CHECKPOINTS": "true"}


def open_stack(name: str, backend: str | None = None, echo: Echo = print_to_stderr, known: bool = False) -> PlanStack:
    """A stack to read (status); `known`: it must exist (a name given with --stack)."""
    pstack = open_stacks(backend, echo).stack(name)
    if known and not pstack.exists():
        raise unknown_stack(pstack)
    return pstack


def open_stacks(backend: str | None = None, echo: Echo = print_to_stderr) -> Stacks:
    """The stacks of a backend, to read (stacks, status)."""
    return Stacks.open(backend, echo=echo, writes=False)


def unknown_stack(pstack: PlanStack) -> StackNotFound:
    """A stack named with --stack that the backend does not have: the ones it has."""
    names = [inert(row["name"]) for row in pstack.list_stacks()]
    there = f"the stacks there are: {', '.join(names)}" if names else "there are no stacks there yet"
    return StackNotFound(f"No stack '{pstack.name}' in {pstack.backend.shown}; {there}.\n"
                       "To fix: name one of those with --stack, or give the plan file instead.")
