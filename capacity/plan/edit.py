"""Editing a plan file in place: set or add values, keeping the rest of the file as it was.

ruamel.yaml's round-trip mode keeps comments, key order, quotes and flow mappings; the indents
are measured from the file so the dump lays the untouched parts out as before. Only call this on
a plan that `load_plan` accepted (bounded size, no duplicate keys, no tags).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ruamel.yaml import YAML

Path_ = tuple[str, ...]


def _mapping_indent(text: str) -> int:
    """Spaces a nested mapping is indented by in `text` (2 if there is none)."""
    parent = None
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        depth = len(line) - len(line.lstrip(" "))
        if parent is not None and depth > parent and not stripped.startswith("-"):
            return depth - parent
        parent = depth if stripped.endswith(":") and not stripped.startswith("-") else None
    return 2


def _yaml(text: str) -> YAML:
    from ruamel.yaml import YAML
    from ruamel.yaml.util import load_yaml_guess_indent

    _, sequence, offset = load_yaml_guess_indent(text)
    yaml = YAML()  # round-trip
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    mapping = _mapping_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence or mapping + (offset or 0), offset=offset or 0)
    return yaml


def _block(value: Any) -> Any:
    """Plain dicts as block-style mappings, so new entries read like the hand-written ones."""
    from ruamel.yaml.comments import CommentedMap

    if not isinstance(value, dict):
        return value
    out = CommentedMap()
    for key, item in value.items():
        out[key] = _block(item)
    out.fa.set_block_style()
    return out


def _tail(node: Any) -> tuple[Any, Any] | None:
    """(mapping, key) of the last scalar a block mapping ends with, where ruamel keeps the comments
    and blank lines that follow it; None when it ends otherwise."""
    while isinstance(node, dict) and node:
        key = list(node)[-1]
        if not isinstance(node[key], dict):
            return (node, key) if not isinstance(node[key], list) else None
        node = node[key]
    return None


def _put(node: Any, key: str, value: Any) -> None:
    """node[key] = value, the comment after the mapping's old last entry moved after the new one
    (it belongs to what follows the mapping, not to its old last entry)."""
    before = _tail(node) if key not in node else None
    node[key] = _block(value)
    after = _tail(node)
    if before is None or after is None or after == before:
        return
    from ruamel.yaml.error import CommentMark
    from ruamel.yaml.tokens import CommentToken

    held, held_key = before
    slot = held.ca.items.get(held_key)
    if not slot or len(slot) < 3 or slot[2] is None:
        return
    token = slot[2]
    own, _, following = token.value.partition("\n")  # the old entry's own end-of-line comment stays
    if not following:
        return
    slot[2] = CommentToken(own + "\n", token.start_mark, None, token.column) if own.strip() else None
    target, target_key = after
    target.ca.items.setdefault(target_key, [None, None, None, None])[2] = CommentToken("\n" + following, CommentMark(0), None)


def edit_text(text: str, puts: list[tuple[Path_, Any]]) -> str:
    """`text` with each (path, value) set: missing or empty mappings on the way are made."""
    from ruamel.yaml.comments import CommentedMap

    text_lf = text.replace("\r\n", "\n")
    yaml = _yaml(text_lf)
    data = yaml.load(text_lf)
    for path, value in puts:
        node = data
        for key in path[:-1]:
            child = node.get(key)
            if not isinstance(child, dict):
                child = CommentedMap()
                node[key] = child
            if not child:  # `leases: {}`: written as a block from now on
                child.fa.set_block_style()
            node = child
        _put(node, path[-1], value)
    out = io.StringIO()
    yaml.dump(data, out)
    return out.getvalue().replace("\n", "\r\n") if "\r\n" in text else out.getvalue()
