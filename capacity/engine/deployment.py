"""The one reader of Pulumi's state: a stack's `deployment` (what `pulumi stack export` holds under
`deployment`, and the file backend under `checkpoint.latest`), as plain JSON.

Status, the progress display, the lease guard, the ledger (through capacity/deploy) and recovery
all read the state through these functions, so what counts as a managed resource, a stack output
or an interrupted operation is decided once. Nothing here imports pulumi.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

STACK_TYPE = "pulumi:pulumi:Stack"
PLUMBING = (STACK_TYPE, "pulumi:providers:")
"""Type prefixes of Pulumi's own plumbing (the stack itself, provider instances), not capacity."""

# How the engine marks a secret value in the state.
_SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def resources(deployment: dict | None) -> list[dict]:
    """Every resource of the state, plumbing included, in the state's order."""
    return [r for r in (deployment or {}).get("resources") or [] if isinstance(r, dict)]


def is_plumbing(type_token: Any) -> bool:
    return str(type_token or "").startswith(PLUMBING)


def managed_resources(deployment: dict | None) -> list[dict]:
    """The resources a stack holds, as status, stacks, destroy and `stacks rm` count them: all but
    Pulumi's own plumbing."""
    return [r for r in resources(deployment) if not is_plumbing(r.get("type"))]


def of_type(deployment: dict | None, wanted: str | Callable[[str], bool]) -> list[dict]:
    """The resources of one type token (or whose token `wanted(token)` accepts)."""
    test = wanted if callable(wanted) else (lambda token: token == wanted)
    return [r for r in resources(deployment) if test(str(r.get("type") or ""))]


def types(deployment: dict | None) -> set[str]:
    """The type tokens the state holds."""
    return {str(r.get("type") or "") for r in resources(deployment)}


def is_secret(value: Any) -> bool:
    return isinstance(value, dict) and value.get(_SECRET_SIG[0]) == _SECRET_SIG[1]


def stack_outputs(deployment: dict | None) -> dict[str, Any]:
    """The stack's outputs as plain values (secret ones left out); {} without a stack resource."""
    for resource in of_type(deployment, STACK_TYPE):
        return {k: v for k, v in (resource.get("outputs") or {}).items() if not is_secret(v)}
    return {}


def pending_operations(deployment: dict | None) -> list[dict]:
    """Operations a killed run left unfinished (each {type, resource: {urn, ...}})."""
    return [op for op in (deployment or {}).get("pending_operations") or [] if isinstance(op, dict)]


def last_update(deployment: dict | None) -> str | None:
    return ((deployment or {}).get("manifest") or {}).get("time")


def urn_name(urn: str) -> str:
    """The resource's name: the last part of its urn."""
    return urn.rsplit("::", 1)[-1] if urn else ""


def type_chain(urn: str) -> list[str]:
    """The type tokens from the root component down to the resource itself."""
    parts = urn.split("::")
    return parts[-2].split("$") if len(parts) >= 3 else []


def urn_type(urn: str) -> str:
    """The resource's own type token (the last of the parent$child chain)."""
    if not urn or "::" not in urn:
        return ""
    return urn.split("::")[-2].split("$")[-1]


def ancestor(by_urn: dict[str, dict], resource: dict, accept: Callable[[str], bool]) -> str | None:
    """The urn of the nearest parent of `resource` (among `by_urn`) that `accept(urn)` takes, or None."""
    parent = resource.get("parent")
    seen: set[str] = set()
    while parent in by_urn and parent not in seen:
        if accept(parent):
            return parent
        seen.add(parent)
        parent = (by_urn.get(parent) or {}).get("parent")
    return None


def by_urn(items: Iterable[dict]) -> dict[str, dict]:
    return {str(r.get("urn")): r for r in items if r.get("urn")}
