"""Cloud names within each provider's limits, and the tags every cloud resource carries.

Pulumi's own names (URNs) have no limit; the names clouds see do. Plan names are DNS labels of up
to 63 characters, so joined names can be long: `fit` cuts them to a limit and keeps them distinct
with a short hash of the whole.
"""

from __future__ import annotations

import hashlib
import re

from capacity.providers import spec

TAG_PREFIX = "capacity-"


def _digest(text: str, size: int) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:size]


def fit(*parts: str, limit: int) -> str:
    """`parts` joined by '-', at most `limit` characters: a DNS-label-like name (a-z, 0-9, '-').
    Too long, each part is cut to a fair share of the room, so every part still shows."""
    cleaned = [re.sub(r"[^a-z0-9-]+", "-", p.lower()).strip("-") for p in parts if p]
    cleaned = [p for p in cleaned if p]
    name = "-".join(cleaned)
    if len(name) <= limit:
        return name
    room = limit - 9 - (len(cleaned) - 1)  # the hash and the separators
    cut = [p[:size].strip("-") for p, size in zip(cleaned, _fair_shares([len(p) for p in cleaned], room))]
    return "-".join([p for p in cut if p] + [_digest("-".join(parts), 8)])


def _fair_shares(lengths: list[int], room: int) -> list[int]:
    """Room split among parts: short parts keep their length, long ones share what is left."""
    shares = [0] * len(lengths)
    left = max(room, 0)
    for count, index in enumerate(sorted(range(len(lengths)), key=lengths.__getitem__)):
        shares[index] = min(lengths[index], left // (len(lengths) - count))
        left -= shares[index]
    return shares


def compact(*parts: str, limit: int) -> str:
    """Letters and digits only, starting with a letter (e.g. AKS agent pool names, 12 characters)."""
    whole = "-".join(parts)
    name = re.sub(r"[^a-z0-9]", "", whole.lower())
    if not name[:1].isalpha():
        name = "p" + name
    if len(name) > limit:
        name = name[: limit - 6] + _digest(whole, 6)
    return name


def tags(provider: str, labels: dict[str, str] | None = None, **parts: str) -> dict[str, str]:
    """The plan's labels plus `capacity-<part>` tags (plan, site, cluster, lease, tenant, link),
    normalised to the provider's tag rules."""
    raw = dict(labels or {})
    raw.update({f"{TAG_PREFIX}{key}": value for key, value in parts.items() if value})
    return spec(provider).tags(raw)
