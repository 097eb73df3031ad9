"""Shell completion of the names a command line holds: stacks and owned sites.

Completion runs on every Tab, so it reads only local files (a local backend's state files, the
SQLite inventories) and never starts Pulumi or reaches a server: a remote backend or a PostgreSQL
inventory completes nothing. A failure completes nothing rather than printing an error.
"""

from __future__ import annotations

import typer


def stack_names(ctx: typer.Context, incomplete: str) -> list[str]:
    """Stacks of the backend the command line names (--backend), else the default one."""
    try:
        from capacity.engine.backend import default_state_dir, local_stacks, resolve_backend

        backend = resolve_backend((ctx.params or {}).get("backend"), default_state_dir())
        return [name for name in local_stacks(backend) if name.startswith(incomplete)]
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return []


def site_names(incomplete: str) -> list[str]:
    """Owned sites with a local (SQLite) inventory."""
    try:
        from capacity.inventory import inventory_url, sqlite_sites

        if inventory_url():
            return []
        return [name for name in sqlite_sites() if name.startswith(incomplete)]
    except Exception:  # noqa: BLE001 - completion never fails loudly
        return []
