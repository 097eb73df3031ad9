"""Tag and label normalisation shared by the provider modules."""

from __future__ import annotations

import hashlib
import re


def shorten(text: str, limit: int) -> str:
    """Cut to `limit`, keeping a short hash of the whole so that distinct values stay distinct."""
    if len(text) <= limit:
        return text
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{text[: limit - 7]}-{digest}"


def limited(tags: dict[str, str], key_max: int, value_max: int, count_max: int, forbidden: str = "") -> dict[str, str]:
    """Keys and values cut to the provider's lengths, forbidden characters replaced by '-'."""
    out: dict[str, str] = {}
    for key, value in sorted(tags.items())[:count_max]:
        if forbidden:
            key = re.sub(f"[{re.escape(forbidden)}]", "-", key)
        out[shorten(key, key_max)] = shorten(str(value), value_max)
    return out


def gcp_labels(tags: dict[str, str]) -> dict[str, str]:
    """GCP labels: lowercase letters, digits, '_' and '-'; keys start with a letter; 63 characters."""
    out: dict[str, str] = {}
    for key, value in sorted(tags.items())[:64]:
        key = re.sub(r"[^a-z0-9_-]", "_", key.lower())
        if not key[:1].isalpha():
            key = "k" + key
        out[shorten(key, 63)] = shorten(re.sub(r"[^a-z0-9_-]", "_", str(value).lower()), 63)
    return out
