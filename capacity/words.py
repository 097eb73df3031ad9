"""Small helpers for sentences shown to people."""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit


def count(number: int, noun: str) -> str:
    """'1 cluster', '2 clusters'."""
    return f"{number:,} {noun}{'' if number == 1 else 's'}"


# C0 and C1 controls, DEL, the characters that reorder or break text (bidi controls, line and
# paragraph separators, the byte-order mark), and the invisible ones (zero-width space, joiners
# and non-joiners, word joiner and invisible operators, soft hyphen, fillers, variation selectors):
# a name that looks like another must not read as it.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f"
                     "\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2069\u206a-\u206f\u3164"
                     "\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def inert(text: object) -> str:
    """Text from a plan made harmless for a terminal, Markdown or HTML: every control character
    shown as a visible escape (ESC as \\x1b, CR as \\x0d, U+202E as \\u202e), never acted on."""
    return _UNSAFE.sub(_escape, str(text))


def shown_url(url: str, keep_query: bool = True) -> str:
    """A URL safe to print and to keep: without user and password (nor its query, unless
    `keep_query`: a database URL's query can hold a password)."""
    parts = urlsplit(url)
    if not parts.netloc:
        return urlunsplit((parts.scheme, "", parts.path, parts.query if keep_query else "", ""))
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query if keep_query else "", ""))
