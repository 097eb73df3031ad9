"""Links in `capacity status`: the deployed links (stack output `links`) as rows, and one link's
router configuration for the network team (capacity/review/router.py), keys only when asked."""

from __future__ import annotations

from typing import Any

from capacity.errors import EngineError, did_you_mean


class UnknownLink(EngineError):
    """`--link NAME` names no deployed link."""


def link_rows(outputs: dict[str, Any]) -> list[dict]:
    """One row per deployed link with an owned end."""
    links = outputs.get("links") if isinstance(outputs.get("links"), dict) else {}
    rows = []
    for name, link in sorted(links.items()):
        row = {"name": name, "kind": link.get("kind"), "owned": link.get("owned"), "peer": link.get("cloud"),
               "provider": link.get("provider"), "sessions": len(link.get("sessions") or []), "id": link.get("id")}
        if link.get("kind") == "interconnect":
            row.update(bandwidth_gbps=link.get("bandwidth_gbps"), location=link.get("location"))
        rows.append(row)
    return rows


def link_lines(rows: list[dict]) -> list[str]:
    if not rows:
        return []
    lines = ["", "  Links"]
    for row in rows:
        speed = f", {row['bandwidth_gbps']:g} Gbps at {row['location']}" if row.get("bandwidth_gbps") else ""
        lines.append(f"    {row['name']}: {row['kind']} {row['owned']} <-> {row['peer']} ({row['provider']}){speed}, "
                     f"{row['sessions']} BGP session{'s' if row['sessions'] != 1 else ''}; id {row.get('id') or '-'} "
                     f"(router configuration: --link {row['name']})")
    return lines


def link_config(pstack, name: str, show_secrets: bool) -> tuple[dict, list | None]:
    """The link `name` as deployed, and its keys (decrypted from the state) if `show_secrets`."""
    links = pstack.outputs().get("links") or {}
    if name not in links:
        known = sorted(links)
        raise UnknownLink(f"stack '{pstack.name}' has no link '{name}' with an owned end.{did_you_mean(name, known)} "
                          f"Links: {', '.join(known) or 'none'}. To fix: give one of these to --link.")
    keys = pstack.secret_output("link_keys").get(name) if show_secrets else None
    return links[name], keys
