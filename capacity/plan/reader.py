"""A safe, bounded YAML reader that remembers where every value came from.

Built on libyaml's event stream, so nothing is ever constructed from a tag and deep nesting
cannot exhaust the stack. Scalars follow YAML 1.2's core schema: `no`, `on` and `yes` stay
strings, `010` is ten, and dates stay text for the model to check.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from capacity.errors import PlanError, Problem, join_path

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 2_000_000  # values after alias expansion
MAX_DIGITS = 1000
_TOO_DEEP = f"nests deeper than {MAX_DEPTH} levels; a {{noun}} never needs that."

Path_ = tuple[Any, ...]  # ("leases", "acme-q1", "gpus")

STDIN = "-"  # the file name that means standard input
STDIN_NAME = "<stdin>"  # and how errors name it

_CORE = "tag:yaml.org,2002:"
_NULL = {"", "~", "null", "Null", "NULL"}
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9]+\Z")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?\Z")
_SPECIAL_FLOAT = {".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan}
for _sign, _mult in (("", 1), ("+", 1), ("-", -1)):
    for _inf in (".inf", ".Inf", ".INF"):
        _SPECIAL_FLOAT[_sign + _inf] = _mult * math.inf


@dataclass(frozen=True)
class Kind:
    """What a YAML file holds (a plan, a catalog), as its messages name it."""

    noun: str
    keys: str  # its top-level keys, for "must be a mapping (...)"
    start: str  # the fix for an empty file


PLAN = Kind("plan", "apiVersion, kind, metadata, sites, ...", "start from stacks/quickstart.yaml")


def shown_name(path: str | Path) -> str:
    """The name errors and reports give a file: `<stdin>` for `-`."""
    return STDIN_NAME if str(path) == STDIN else str(path)


@dataclass
class Document:
    """Parsed YAML plus the line and column of every key and value (1-based)."""

    data: Any
    file: str
    values: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path_, tuple[int, int]] = field(default_factory=dict)
    kind: Kind = PLAN

    def locate(self, path: Path_, key: bool = False) -> tuple[int, int]:
        """Position of `path`, or of its nearest ancestor that was written in the file."""
        path = tuple(path)
        table = self.keys if key else self.values
        while path:
            if path in table:
                return table[path]
            if path in self.values:
                return self.values[path]
            if path in self.keys:
                return self.keys[path]
            path = path[:-1]
        return self.values.get((), (1, 1))

    def problem(self, path: Path_, message: str, key: bool = False) -> Problem:
        line, column = self.locate(path, key)
        return Problem(line, column, join_path(path), message, self.file, self.kind.noun)


def _fail(file: str, line: int, column: int, message: str, kind: Kind = PLAN) -> PlanError:
    return PlanError([Problem(line, column, "", message, file, kind.noun)])


def read_file(path: str | Path, shown_as: str | None = None, kind: Kind = PLAN) -> Document:
    """Read and parse a plan file (`-`: standard input), refusing anything that is not a small
    UTF-8 text file."""
    name = shown_as or shown_name(path)
    if str(path) == STDIN:
        return parse_bytes(_read_stdin(name, kind), name, kind)
    p = Path(path)
    if not p.exists():
        raise _fail(name, 1, 1, "no such file. To fix: check the path.", kind)
    if p.is_dir():
        raise _fail(name, 1, 1, f"is a directory, not a {kind.noun} file. To fix: name a .yaml file.", kind)
    if not p.is_file():
        raise _fail(name, 1, 1, "is not a regular file. To fix: name a .yaml file.", kind)
    try:
        with p.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise _fail(name, 1, 1, f"cannot be read: {exc.strerror}.", kind) from None
    return parse_bytes(raw, name, kind)


def _read_stdin(name: str, kind: Kind) -> bytes:
    stream = getattr(sys.stdin, "buffer", None)
    if stream is None:
        raise _fail(name, 1, 1, "cannot be read: there is no standard input.", kind)
    try:
        raw: bytes = stream.read(MAX_BYTES + 1)
        return raw
    except OSError as exc:
        raise _fail(name, 1, 1, f"cannot be read: {exc.strerror}.", kind) from None


def parse_bytes(raw: bytes, file: str, kind: Kind = PLAN) -> Document:
    if len(raw) > MAX_BYTES:
        raise _fail(file, 1, 1, f"is larger than {MAX_BYTES // (1024 * 1024)} MiB; "
                                f"{kind.noun}s are refused above that size.", kind)
    if b"\x00" in raw:
        line, column = _position(raw, raw.index(b"\x00"))
        raise _fail(file, line, column, f"contains binary data (a NUL byte); a {kind.noun} is a UTF-8 text file.", kind)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, column = _position(raw, exc.start)
        raise _fail(file, line, column,
                    f"is not UTF-8 text (byte 0x{raw[exc.start]:02x}). To fix: save the file as UTF-8.", kind)
    return parse_text(text.removeprefix("\ufeff"), file, kind)


def _position(raw: bytes, offset: int) -> tuple[int, int]:
    before = raw[:offset]
    return before.count(b"\n") + 1, offset - (before.rfind(b"\n") + 1) + 1


def parse_text(text: str, file: str, kind: Kind = PLAN) -> Document:
    doc = Document(None, file, kind=kind)
    problems: list[Problem] = []
    try:
        _Builder(doc, problems).run(text)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        if exc.problem == "exceeded maximum nesting depth":
            # Newer libyaml scans ahead and stops deep flow nesting before our own count sees it.
            raise _fail(file, line, column, _TOO_DEEP.format(noun=kind.noun), kind)
        reason = exc.problem or exc.context or "invalid YAML"
        if mark and "\t" in _line(text, mark.line):
            reason += " (a tab: YAML does not allow tabs for indentation. To fix: indent with spaces)"
        raise _fail(file, line, column, f"is not valid YAML: {reason}.", kind)
    except yaml.YAMLError as exc:
        raise _fail(file, 1, 1, f"is not valid YAML: {exc}.", kind)
    if problems:
        raise PlanError(problems)
    if doc.data is None:
        raise _fail(file, 1, 1, f"is empty. To fix: {kind.start}.", kind)
    if not isinstance(doc.data, dict):
        found = "a list" if isinstance(doc.data, list) else f"a {type(doc.data).__name__}"
        raise _fail(file, 1, 1, f"must be a mapping ({kind.keys}), found {found}.", kind)
    return doc


def _line(text: str, index: int) -> str:
    lines = text.splitlines()
    return lines[index] if 0 <= index < len(lines) else ""


class _Frame:
    __slots__ = ("container", "path", "key", "size", "anchor", "seen")

    def __init__(self, container: Any, path: Path_, anchor: str | None) -> None:
        self.container = container
        self.path = path
        self.key: Any = None  # pending mapping key; None means "expecting a key"
        self.size = 1
        self.anchor = anchor
        self.seen: dict[Any, tuple[int, int]] = {}


class _Builder:
    """Turns libyaml events into plain dicts, lists and scalars, recording positions."""

    def __init__(self, doc: Document, problems: list[Problem]):
        self.doc = doc
        self.problems = problems
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.nodes = 0
        self.stack: list[_Frame] = []
        self.documents = 0

    def run(self, text: str) -> None:
        parser = yaml.CSafeLoader(text) if hasattr(yaml, "CSafeLoader") else yaml.SafeLoader(text)
        try:
            while parser.check_event():
                self.handle(parser.get_event())
        finally:
            parser.dispose()

    def error(self, mark: Any, message: str) -> PlanError:
        return _fail(self.doc.file, mark.line + 1, mark.column + 1, message, self.doc.kind)

    def handle(self, event: Any) -> None:
        kind = type(event)
        if kind is yaml.ScalarEvent:
            self.add(self.scalar(event), event, 1)
        elif kind is yaml.MappingStartEvent or kind is yaml.SequenceStartEvent:
            self.check_tag(event, "map" if kind is yaml.MappingStartEvent else "seq")
            if len(self.stack) >= MAX_DEPTH:
                raise self.error(event.start_mark, _TOO_DEEP.format(noun=self.doc.kind.noun))
            path = self.child_path(event)
            container: Any = {} if kind is yaml.MappingStartEvent else []
            # a mapping or list is pointed at by its key, where a reader looks for it
            if path not in self.doc.keys:
                self.record(path, event)
            self.stack.append(_Frame(container, path, event.anchor))
        elif kind is yaml.MappingEndEvent or kind is yaml.SequenceEndEvent:
            frame = self.stack.pop()
            if frame.anchor:
                self.anchors[frame.anchor] = (frame.container, frame.size)
            self.attach(frame.container, frame.size)
        elif kind is yaml.AliasEvent:
            if event.anchor not in self.anchors:
                raise self.error(event.start_mark, f"uses alias *{event.anchor} before its anchor &{event.anchor}.")
            value, size = self.anchors[event.anchor]
            self.add(value, event, size, keep_anchor=False)
        elif kind is yaml.DocumentStartEvent:
            self.documents += 1
            if self.documents > 1:
                raise self.error(event.start_mark,
                                 f"holds more than one YAML document; a {self.doc.kind.noun} is one document.")

    def child_path(self, event: Any) -> Path_:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return frame.path + (len(frame.container),)
        if frame.key is None:
            raise self.error(event.start_mark, "uses a mapping or list as a key; keys must be plain names.")
        return frame.path + (frame.key,)

    def record(self, path: Path_, event: Any) -> None:
        mark = event.start_mark
        self.doc.values[path] = (mark.line + 1, mark.column + 1)

    def add(self, value: Any, event: Any, size: int, keep_anchor: bool = True) -> None:
        """A finished scalar or alias: a mapping key, or a value for the current container."""
        self.nodes += size
        if self.nodes > MAX_NODES:
            raise self.error(event.start_mark, f"expands to more than {MAX_NODES:,} values (an alias bomb?); refused.")
        if keep_anchor and getattr(event, "anchor", None):
            self.anchors[event.anchor] = (value, size)
        frame = self.stack[-1] if self.stack else None
        if frame is not None and isinstance(frame.container, dict) and frame.key is None:
            self.take_key(frame, value, event)
            return
        self.record(self.child_path(event), event)
        self.attach(value, size)

    def take_key(self, frame: _Frame, value: Any, event: Any) -> None:
        if isinstance(value, (dict, list)):
            raise self.error(event.start_mark, "uses a mapping or list as a key; keys must be plain names.")
        key = event.value if type(event) is yaml.ScalarEvent else str(value)
        mark = (event.start_mark.line + 1, event.start_mark.column + 1)
        if key in frame.seen:
            first = frame.seen[key]
            self.problems.append(
                Problem(mark[0], mark[1], join_path(frame.path + (key,)),
                        f"duplicate key '{key}' (first written at line {first[0]}); YAML would silently keep only one. "
                        "To fix: remove or rename one of them.", self.doc.file))
        else:
            frame.seen[key] = mark
        frame.key = key
        self.doc.keys[frame.path + (key,)] = mark

    def attach(self, value: Any, size: int) -> None:
        if not self.stack:
            self.doc.data = value
            return
        frame = self.stack[-1]
        frame.size += size
        if isinstance(frame.container, list):
            frame.container.append(value)
        else:
            if frame.key not in frame.container:
                frame.container[frame.key] = value
            frame.key = None

    def check_tag(self, event: Any, expected: str) -> None:
        tag = event.tag
        if tag is None or tag == "!" or tag == _CORE + expected:
            return
        raise self.error(event.start_mark, self.no_tags(tag))

    def no_tags(self, tag: str) -> str:
        return f"uses the tag {tag}; tags are not allowed in a {self.doc.kind.noun}. To fix: remove it."

    def scalar(self, event: Any) -> Any:
        tag, value = event.tag, event.value
        if tag is not None and tag != "!" and not tag.startswith(_CORE):
            raise self.error(event.start_mark, self.no_tags(tag))
        if tag is not None and tag.startswith(_CORE):
            return self.tagged(event, tag[len(_CORE):])
        if event.style or tag == "!":  # quoted or block scalars are text
            return value
        return self.plain(event, value)

    def plain(self, event: Any, value: str) -> Any:
        if value in _NULL:
            return None
        if value in _BOOL:
            return _BOOL[value]
        if _INT.match(value):
            if len(value) > MAX_DIGITS:
                raise self.error(event.start_mark, f"has a number of {len(value)} digits; refused.")
            return int(value)
        if value in _SPECIAL_FLOAT:
            return _SPECIAL_FLOAT[value]
        if _FLOAT.match(value):
            if len(value) > MAX_DIGITS:
                raise self.error(event.start_mark, f"has a number of {len(value)} characters; refused.")
            return float(value)
        return value

    def tagged(self, event: Any, name: str) -> Any:
        if name == "str":
            return event.value
        if name in ("int", "float", "bool", "null"):
            value = self.plain(event, event.value)
            kinds: dict[str, Any] = {"int": int, "float": (int, float), "bool": bool, "null": type(None)}
            if isinstance(value, kinds[name]) and not (name != "bool" and isinstance(value, bool)):
                return float(value) if name == "float" else value
            raise self.error(event.start_mark, f"'{event.value}' is not a valid !!{name}.")
        raise self.error(event.start_mark, self.no_tags(f"!!{name}"))

