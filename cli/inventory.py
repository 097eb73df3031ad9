"""`capacity inventory`: the hardware of owned data centers (import, list, mark, audit, migrate)."""

from __future__ import annotations

import os
import re
import sys
from collections import Counter
from enum import Enum
from typing import Annotated, Optional

import typer

from capacity.cli.complete import site_names
from capacity.words import count
from capacity.cli.output import CatalogOption, Format, FormatOption, Handled, emit_json, is_tty, say

app = typer.Typer(
    cls=Handled,
    name="inventory",
    help="Racks and nodes of owned data centers: import them, list them, mark failures.",
    no_args_is_help=True,
)


class MarkState(str, Enum):
    failed = "failed"
    maintenance = "maintenance"
    free = "free"


def _site(value: str) -> str:
    from capacity.fields import check_name

    try:
        return check_name(value)
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None


def _any_site(value: Optional[str]) -> Optional[str]:
    return None if value is None else _site(value)


def _use_inventory_url(value: Optional[str]) -> Optional[str]:
    """--inventory-url sets CAPACITY_INVENTORY_URL for this run and what it starts (the providers)."""
    if value:
        from capacity.inventory.db import is_postgres

        if not is_postgres(value):
            raise typer.BadParameter("give a PostgreSQL URL: postgresql://USER@HOST:PORT/DATABASE")
        os.environ["CAPACITY_INVENTORY_URL"] = value
    return value


InventoryUrlOption = Annotated[Optional[str], typer.Option(
    "--inventory-url", callback=_use_inventory_url, show_default=False,
    help="The owned sites' shared inventory, a PostgreSQL URL (default: CAPACITY_INVENTORY_URL, "
         "else SQLite files under .capacity/inventory).")]
BackendOption = Annotated[Optional[str], typer.Option(
    "--backend", help="The Pulumi backend whose stacks hold the nodes (default: PULUMI_BACKEND_URL, "
                      "else .capacity/pulumi).")]

SiteOption = Annotated[str, typer.Option("--site", "-s", help="The owned site (its name in the plan).",
                                         callback=_site, show_default=False, autocompletion=site_names)]


@app.command("import")
def import_(
    file: Annotated[str, typer.Argument(help="Inventory file: CSV with a header, or YAML with `nodes:`.",
                                        show_default=False)],
    site: SiteOption,
    plan: Annotated[Optional[str], typer.Option("--plan", help="Check the site against this plan, or - to read it "
                                                "from stdin (and use its catalog).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Import into a site whose inventory was lost while "
                                        "stacks hold its nodes (then run `capacity inventory audit --fix`).")] = False,
    catalog: CatalogOption = None,
    backend: BackendOption = None,
    inventory_url: InventoryUrlOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Add the nodes of FILE to the site's inventory (every row checked first; all or nothing)."""
    from capacity import inventory
    from capacity.plan.catalog import load_catalog
    from capacity.errors import did_you_mean
    from capacity.cli.output import load_or_exit

    if plan:
        loaded = load_or_exit(plan, catalog, fmt)
        owned = [name for name, s in loaded.plan.sites.items() if s.provider == "owned"]
        if site not in owned:
            raise typer.BadParameter(f"plan {plan} has no owned site '{site}'.{did_you_mean(site, owned)} "
                                     f"Its owned sites: {', '.join(owned) or 'none'}.", param_hint="--site")
        cat = loaded.catalog
    else:
        cat = load_catalog(catalog)
    if not force:
        _refuse_lost_inventory(site, file, backend)
    added, present = inventory.import_file(file, site, cat, force=force)
    if fmt == Format.json:
        emit_json({"ok": True, "site": site, "file": file, "added": added, "already_there": present,
                   "inventory": inventory.shown_location(site)})
        return
    note = f" ({present} already there)" if present else ""
    sys.stdout.write(f"site {site}: {count(added, 'node')} added from {file}{note}; inventory "
                     f"{inventory.shown_location(site)}\n")


def _refuse_lost_inventory(site: str, file: str, backend: Optional[str]) -> None:
    """A site with no nodes (or an empty file) while stacks of the backend hold its nodes: refused."""
    from capacity import inventory

    if inventory.site_nodes(site):
        return
    if inventory.inventory_url() is None and inventory.db_path(site).is_file():
        inventory.open_site(site)  # an empty file: refused, with the recovery steps
    stacks = _stacks(backend, required=False)
    if stacks is not None:
        from capacity.deploy.workflow import stack_states
        from capacity.inventory.ledger import holders_in

        inventory.refuse_reimport(site, holders_in(stack_states(stacks))(site), file)


def _stacks(backend: Optional[str], required: bool = True):
    """The backend's stacks (through the Pulumi CLI); None if there is no CLI and they are optional."""
    from capacity.errors import EngineError
    from capacity.engine.stack import Stacks

    try:
        return Stacks.open(backend, echo=say, install=required)
    except EngineError:
        if required:
            raise
        return None


def _natural(text: str) -> list:
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", text)]


def _site_data(site: str) -> dict:
    from capacity import inventory

    with inventory.open_site(site) as inv:
        nodes = inv.nodes()
    racks: dict[str, list] = {}
    for node in sorted(nodes, key=lambda n: (_natural(n.rack), _natural(n.serial))):
        racks.setdefault(node.rack, []).append({
            "serial": node.serial, "model": node.model, "gpus": node.gpus, "kw": node.kw, "state": node.state,
            "holder": node.allocation, "pool": node.pool, "tenant": node.tenant})
    states = Counter(n.state for n in nodes)
    return {
        "site": site,
        "inventory": inventory.shown_location(site),
        "racks": [{"rack": rack, "nodes": members} for rack, members in racks.items()],
        "totals": {
            "racks": len(racks), "nodes": len(nodes), **{s: states[s] for s in inventory.STATES},
            "gpus": sum(n.gpus for n in nodes),
            "gpus_free": sum(n.gpus for n in nodes if n.state == "free"),
            "gpus_allocated": sum(n.gpus for n in nodes if n.state == "allocated"),
            "kw_allocated": round(sum(n.kw for n in nodes if n.state == "allocated"), 3),
        },
    }


@app.command("list")
def list_(
    site: Annotated[Optional[str], typer.Option("--site", "-s", help="Only this site (default: every site).",
                                                callback=_any_site, autocompletion=site_names)] = None,
    fmt: FormatOption = Format.text,
    inventory_url: InventoryUrlOption = None,
) -> None:
    """Racks and nodes: state, holder (stack/cluster) and lease pool; totals per site."""
    from capacity import inventory
    from capacity.errors import did_you_mean

    known = inventory.sites()
    if site is not None and site not in known:
        hint = did_you_mean(site, known)
        raise inventory.InventoryError(
            f"site {site} has no inventory in {inventory.where()}.{hint} Sites with one: "
            f"{', '.join(known) or 'none'}. To fix: `capacity inventory import FILE --site {site}`.")
    data = [_site_data(name) for name in ([site] if site else known)]
    if fmt == Format.json:
        emit_json({"sites": data})
        return
    if not data:
        sys.stdout.write(f"no inventories in {inventory.where()}. "
                         "To add one: `capacity inventory import FILE --site SITE`.\n")
        return
    for entry in data:
        _print_site(entry)


def _print_site(entry: dict) -> None:
    t = entry["totals"]
    header = ("rack", "serial", "model", "gpus", "kW", "state", "holder", "pool")
    rows = [(rack["rack"], n["serial"], n["model"], str(n["gpus"]), f"{n['kw']:g}", n["state"],
             n["holder"] or "-", f"{n['pool']} ({n['tenant']})" if n["pool"] else "-")
            for rack in entry["racks"] for n in rack["nodes"]]
    summary = (f"{count(t['racks'], 'rack')}, {count(t['nodes'], 'node')}: {t['free']} free, {t['allocated']} allocated, "
               f"{t['failed']} failed, {t['maintenance']} in maintenance; GPUs {t['gpus_allocated']:,} allocated "
               f"of {t['gpus']:,} ({t['gpus_free']:,} free); {t['kw_allocated']:,.1f} kW allocated")
    if is_tty():
        from rich.table import Table

        from capacity.cli.output import console

        table = Table(*header, title=f"site {entry['site']}", caption=summary)
        for row in rows:
            table.add_row(*row)
        console().print(table)
        return
    out = sys.stdout
    out.write(f"site {entry['site']} ({entry['inventory']})\n")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        out.write("  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() + "\n")
    out.write(f"  {summary}\n")


@app.command()
def mark(
    serial: Annotated[str, typer.Argument(help="The node's serial.", show_default=False)],
    site: SiteOption,
    state: Annotated[MarkState, typer.Option("--state", help="failed or maintenance (out of service), "
                                             "or free (back in the pool).", show_default=False)],
    inventory_url: InventoryUrlOption = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Record an out-of-band change of a node. A held node that fails stays with its cluster until
    `capacity refresh` reports it and `capacity up` replaces it with a free node."""
    from capacity import inventory

    with inventory.open_site(site) as inv:
        before, after = inv.mark(serial, state.value)
    if fmt == Format.json:
        emit_json({"ok": True, "site": site, "serial": serial, "rack": after.rack, "before": before.state,
                   "after": after.state, "holder": after.allocation, "pool": after.pool})
        return
    held = f", held by {after.allocation}" + (f" (lease pool {after.pool})" if after.pool else "") \
        if after.allocation else ""
    sys.stdout.write(f"{serial} (site {site}, rack {after.rack}): {before.state} -> {after.state}{held}.\n")
    if after.allocation:
        say("The next `capacity refresh PLAN` reports it; `capacity up PLAN` then replaces it with a free node.")


@app.command()
def audit(
    site: Annotated[Optional[str], typer.Option("--site", "-s", help="Only this site (default: every site).",
                                                callback=_any_site, autocompletion=site_names)] = None,
    fmt: FormatOption = Format.text,
    fix: Annotated[bool, typer.Option("--fix", help="Release the orphans found (after listing them), never a "
                                      "node that a state holds; give nodes a state holds that the inventory "
                                      "lists free back to their holder.")] = False,
    backend: BackendOption = None,
    inventory_url: InventoryUrlOption = None,
) -> None:
    """Compare the inventory with the states of every stack in the backend: nodes held by a resource
    no state has (orphans), nodes a state claims that the inventory gives to another holder or lists
    as free, pools of leases that no longer exist. Exit 0 when clean (or all fixed), 1 with problems."""
    from capacity import inventory
    from capacity.deploy.workflow import stack_states
    from capacity.inventory.ledger import FIXED
    from capacity.inventory.ledger import audit as run_audit
    from capacity.inventory.ledger import fix as fix_orphans

    chosen = [site] if site else inventory.sites()
    states = stack_states(_stacks(backend))
    found, busy = run_audit(states, chosen)
    fixed = fix_orphans(found, states) if fix and found else []
    left = [f for f in found if f.kind not in FIXED] if fix else found
    if fmt == Format.json:
        emit_json({"problems": [f.as_json() for f in found]})
    else:
        for finding in found:
            where = f"{finding.serial}: " if finding.serial else ""
            sys.stdout.write(f"{finding.kind}  site {finding.site}  {where}{finding.message}\n")
        for line in fixed:
            sys.stdout.write(f"fixed: {line}\n")
        if busy:
            say(f"note: left out stack(s) {', '.join(sorted(busy))}: a run is changing them now.")
        sites_shown = ", ".join(chosen) or "no sites"
        say(f"{len(found)} problem(s) in {sites_shown}" + (f"; {len(left)} left after --fix" if fix else "") + ".")
    if left:
        raise typer.Exit(1)


@app.command()
def migrate(
    to: Annotated[str, typer.Option("--to", help="The PostgreSQL database to copy into "
                                    "(postgresql://USER@HOST:PORT/DATABASE).", show_default=False)],
    site: Annotated[Optional[str], typer.Option("--site", "-s", help="Only this site (default: every site).",
                                                callback=_any_site, autocompletion=site_names)] = None,
    fmt: FormatOption = Format.text,
) -> None:
    """Copy the SQLite inventories of this state dir (racks, nodes, allocations, pools) into
    PostgreSQL, and check the counts. The SQLite files are left as they are."""
    from capacity import inventory
    from capacity.inventory.db import shown_url

    copied = inventory.migrate_to(to, [site] if site else None)
    if fmt == Format.json:
        emit_json({"ok": True, "to": shown_url(to), "sites": [{"site": name, **counts} for name, counts in copied]})
        return
    for name, counts in copied:
        sys.stdout.write(f"site {name}: copied {counts['nodes']} nodes, {counts['allocations']} allocations and "
                         f"{counts['pools']} pools into {shown_url(to)}; counts checked.\n")
    say(f"To use it: export CAPACITY_INVENTORY_URL='{shown_url(to)}' (with your credentials), "
        "or pass --inventory-url.")
