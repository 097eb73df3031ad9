"""Reading an inventory file (CSV or YAML): every row checked, every problem reported at its line.

CSV has a header row; `serial`, `rack` and `model` are required, `gpus`, `kw` and `state` optional
(the catalog gives GPUs and kW; nodes start free); lines starting with `#` are comments. YAML
holds the same fields as a list:

    nodes:
      - {serial: H100-0001, rack: r01, model: hgx-h100}
"""

from __future__ import annotations

import csv
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from capacity.plan.catalog import Catalog, InstanceType
from capacity.errors import PlanError, Problem, did_you_mean
from capacity.errors import InventoryError
from capacity.plan.reader import Document, parse_bytes

if TYPE_CHECKING:
    from capacity.plan.model import Plan

COLUMNS = ("serial", "rack", "model", "gpus", "kw", "state")
REQUIRED = ("serial", "rack", "model")
IMPORT_STATES = ("free", "failed", "maintenance")
MAX_BYTES = 64 * 1024 * 1024
MAX_PROBLEMS = 100
MAX_KW = 1000.0
_LABEL = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")


@dataclass(frozen=True)
class NodeRow:
    serial: str
    rack: str
    model: str
    gpus: int
    kw: float
    state: str
    line: int


Report = Callable[[str, str], None]  # (field, message)


def read_inventory(path: str | Path, catalog: Catalog, shown_as: str | None = None) -> list[NodeRow]:
    """The nodes of an inventory file; InventoryError listing every problem (file:line) if any."""
    name = shown_as or str(path)
    raw = _read_bytes(Path(path), name)
    suffix = Path(path).suffix.lower()
    if suffix in (".yaml", ".yml"):
        records, problems = _yaml_records(raw, name)
    elif suffix == ".csv":
        records, problems = _csv_records(raw, name)
    else:
        raise InventoryError(f"{name}: is neither .csv nor .yaml. To fix: name the file *.csv or *.yaml.")
    return _check_records(records, catalog, name, problems)


def _read_bytes(path: Path, name: str) -> bytes:
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise InventoryError(f"{name}: {what}. To fix: name an inventory file (.csv or .yaml).")
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise InventoryError(f"{name}: cannot be read: {exc.strerror}.") from None
    if len(raw) > MAX_BYTES:
        raise InventoryError(f"{name}: is larger than {MAX_BYTES // 2**20} MiB; refused.")
    return raw


# A record: the line of the row, and per field its value and (line, column).
Record = tuple[int, dict[str, tuple[Any, tuple[int, int]]], str]  # (line, fields, path prefix)


def _csv_records(raw: bytes, name: str) -> tuple[list[Record], list[Problem]]:
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[:exc.start].count(b"\n") + 1
        raise InventoryError(f"{name}:{line}: is not UTF-8 text. To fix: save the file as UTF-8.") from None
    rows = csv.reader(io.StringIO(text, newline=""))
    header: list[str] | None = None
    header_line = 1
    records: list[Record] = []
    problems: list[Problem] = []
    try:
        for cells in rows:
            line = rows.line_num
            if not any(c.strip() for c in cells) or cells[0].lstrip().startswith("#"):
                continue
            if header is None:
                header, header_line = [c.strip().lower() for c in cells], line
                problems += _header_problems(header, line, name)
                if problems:
                    raise InventoryError(problems=problems)
                continue
            if len(cells) != len(header):
                problems.append(Problem(line, 1, "row", f"has {len(cells)} cells; the header (line {header_line}) "
                                                     f"has {len(header)}. To fix: one cell per column.", name))
                continue
            fields = {col: (cell.strip(), (line, _column(cells, i))) for i, (col, cell) in enumerate(zip(header, cells))
                      if cell.strip() != ""}
            records.append((line, fields, ""))
    except csv.Error as exc:
        raise InventoryError(f"{name}:{rows.line_num}: is not valid CSV: {exc}.") from None
    if header is None:
        raise InventoryError(f"{name}:1: has no rows. To fix: start with a header: {','.join(COLUMNS)}")
    return records, problems


def _column(cells: list[str], index: int) -> int:
    """Approximate 1-based column of a cell (exact unless cells are quoted)."""
    return sum(len(c) + 1 for c in cells[:index]) + 1


def _header_problems(header: list[str], line: int, name: str) -> list[Problem]:
    problems = []
    for index, col in enumerate(header):
        if col not in COLUMNS:
            problems.append(Problem(line, index + 1, col, f"unknown column {col!r}.{did_you_mean(col, COLUMNS)} "
                                                          f"Columns: {', '.join(COLUMNS)}.", name))
        elif header.index(col) != index:
            problems.append(Problem(line, index + 1, col, f"column '{col}' appears twice.", name))
    for col in REQUIRED:
        if col not in header:
            problems.append(Problem(line, 1, col, f"the header lacks the required column '{col}' "
                                                  f"(required: {', '.join(REQUIRED)}).", name))
    return problems


def _yaml_records(raw: bytes, name: str) -> tuple[list[Record], list[Problem]]:
    if not raw.strip():
        raise InventoryError(f"{name}:1: is empty. To fix: write `nodes:` and one entry per node.")
    try:
        doc = parse_bytes(raw, name)
    except PlanError as exc:
        if any(p.message.startswith("must be a mapping") for p in exc.problems):
            raise InventoryError(f"{name}:1: must be a mapping with a `nodes:` list.") from None
        raise InventoryError(problems=exc.problems) from None
    extra = [key for key in doc.data if key != "nodes"]
    if extra or not isinstance(doc.data.get("nodes"), list):
        path = (extra[0],) if extra else ("nodes",)
        raise InventoryError(problems=[doc.problem(path, "an inventory holds only `nodes:`, a list of nodes "
                                                         f"({', '.join(COLUMNS)}).", key=bool(extra))])
    records: list[Record] = []
    problems: list[Problem] = []
    for index, entry in enumerate(doc.data["nodes"]):
        where = ("nodes", index)
        line = doc.locate(where)[0]
        if not isinstance(entry, dict):
            problems.append(doc.problem(where, f"must be a mapping ({', '.join(COLUMNS)})."))
            continue
        for key in entry:
            if key not in COLUMNS:
                problems.append(doc.problem(where + (key,), f"unknown field '{key}'.{did_you_mean(key, COLUMNS)}", key=True))
        fields = {k: (v, doc.locate(where + (k,))) for k, v in entry.items() if k in COLUMNS and v is not None}
        records.append((line, fields, f"nodes[{index}]."))
    return records, problems


def _check_records(records: list[Record], catalog: Catalog, name: str, problems: list[Problem]) -> list[NodeRow]:
    models = {t.instance_type: t for t in catalog.of("owned")}
    seen: dict[str, int] = {}
    nodes: list[NodeRow] = []
    for line, fields, prefix in records:
        if len(problems) >= MAX_PROBLEMS:
            problems.append(Problem(line, 1, "", f"... stopped after {MAX_PROBLEMS} problems; fix these first.", name))
            break

        def report(field: str, message: str) -> None:
            at = fields[field][1] if field in fields else (line, 1)
            problems.append(Problem(at[0], at[1], prefix + field, message, name))

        node = _node(fields, line, models, report)
        if node is None:
            continue
        if node.serial.casefold() in seen:  # serials name hardware: D1 and d1 are one node
            report("serial", f"serial '{node.serial}' repeats line {seen[node.serial.casefold()]} (serials are "
                   "compared without case). To fix: each node once.")
            continue
        seen[node.serial.casefold()] = line
        nodes.append(node)
    if problems:
        raise InventoryError(problems=problems)
    if not nodes:
        raise InventoryError(f"{name}: lists no nodes.")
    return nodes


def _node(fields: dict[str, tuple[Any, tuple[int, int]]], line: int, models: dict[str, InstanceType], report: Report) -> NodeRow | None:
    bad = False

    def fail(field: str, message: str) -> None:
        nonlocal bad
        bad = True
        report(field, message)

    value = {k: v for k, (v, _) in fields.items()}
    for field in REQUIRED:
        if field not in value:
            fail(field, f"`{field}` is missing.")
    serial, rack = (_label(value.get(f), f, fail) for f in ("serial", "rack"))
    model = value.get("model")
    entry = models.get(model) if isinstance(model, str) else None
    if "model" in value and entry is None:
        fail("model", f"unknown system model {model!r}.{did_you_mean(model, models)} "
                      f"The catalog's owned models: {', '.join(sorted(models))}.")
    gpus = _number(value.get("gpus"), "gpus", int, fail)
    if entry is not None and gpus is not None and gpus != entry.gpus:
        fail("gpus", f"{model} has {entry.gpus} GPUs in the catalog, not {gpus}.")
    kw = _number(value.get("kw"), "kw", float, fail)
    if kw is not None and not 0 < kw <= MAX_KW:
        fail("kw", f"{kw:g} kW is not a node's power draw (0 to {MAX_KW:g} kW).")
    state = value.get("state", "free")
    if state not in IMPORT_STATES:
        fail("state", f"state {state!r} is not one of {', '.join(IMPORT_STATES)}"
                      + (" (nodes are allocated by `capacity up`, not imported)." if state == "allocated" else "."))
    if bad or entry is None or serial is None or rack is None:
        return None
    if kw is None:
        kw = entry.kw_per_node or 0.0  # an owned model always has it (the catalog's check)
    return NodeRow(serial, rack, entry.instance_type, entry.gpus, kw, state, line)


def _label(value: Any, field: str, fail: Report) -> str | None:
    if value is None:
        return None
    if isinstance(value, (dict, list)):
        fail(field, f"{field} must be text, not a {'mapping' if isinstance(value, dict) else 'list'}.")
        return None
    if not isinstance(value, str):
        fail(field, f"{field} {value!r} is a {type(value).__name__}; quote it (\"{value}\") so it stays as written.")
        return None
    if not _LABEL.match(value):
        fail(field, f"{field} {value!r} must be 1 to 64 characters: letters, digits, '.', '_' or '-', "
                    "starting with a letter or digit.")
        return None
    return value


def _number(value: Any, field: str, kind: type, fail: Report) -> Any:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = kind(value)
        except ValueError:
            fail(field, f"{field} '{value}' is not {'a whole number' if kind is int else 'a number'}.")
            return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or (kind is int and not isinstance(value, int)):
        fail(field, f"{field} {value!r} is not {'a whole number' if kind is int else 'a number'}.")
        return None
    if not math.isfinite(value) or value <= 0:
        fail(field, f"{field} must be a positive number, not {value}.")
        return None
    return kind(value)


def plan_inventory_problems(plan: Plan, doc: Document, catalog: Catalog) -> list[Problem]:
    """`validate`'s check of each owned site's `inventory:` file: it exists and every row parses,
    reported at the plan line that names it. A file outside the repository (or the plan's folder,
    outside git) is neither read nor looked for: an untrusted plan must not learn, through
    validate, which files exist elsewhere."""
    from capacity.plan.files import outside, repository_root

    if not Path(doc.file).is_file():
        return []  # a plan given as text: no folder to look in
    folder = Path(doc.file).resolve().parent
    root = repository_root(folder)
    problems = []
    for name, site in plan.sites.items():
        named = getattr(site, "inventory", None)
        if site.provider != "owned" or not named:
            continue
        file = _beside(doc, named)
        at = ("sites", name, "inventory")
        if not file.is_relative_to(root):
            problems.append(doc.problem(at, f"inventory file '{named}' is outside the {outside(root)}; a plan reads "
                                            "files only from inside it. To fix: keep the inventory file beside the "
                                            f"plan, or import it with `capacity inventory import FILE --site {name}`."))
        elif not file.is_file():
            problems.append(doc.problem(at, f"inventory file '{named}' does not exist (looked for {file}). "
                                            "To fix: name the file relative to the plan, or remove `inventory:` "
                                            f"and run `capacity inventory import FILE --site {name}`."))
        else:
            try:
                read_inventory(file, catalog, str(Path(doc.file).parent / named))
            except InventoryError as exc:
                lines = str(exc).splitlines()
                more = f" (and {len(lines) - 3} more)" if len(lines) > 3 else ""
                problems.append(doc.problem(at, f"inventory file '{named}' is not valid: "
                                                + "; ".join(line.rstrip(".") for line in lines[:3]) + more
                                                + ". To fix: correct those rows."))
    return problems


def _beside(doc: Document, named: str) -> Path:
    return (Path(doc.file).resolve().parent / named).resolve()


def site_inventory(site: Any, doc: Document, catalog: Catalog) -> list[NodeRow] | None:
    """The nodes of an owned site's `inventory:` file, read as `validate` reads it (only inside the
    plan's folder); None when the site names none, the plan is not a file, or the file is outside."""
    named = getattr(site, "inventory", None)
    if not named or not Path(doc.file).is_file():
        return None
    file = _beside(doc, named)
    if not file.is_file() or not file.is_relative_to(Path(doc.file).resolve().parent):
        return None
    return read_inventory(file, catalog, str(Path(doc.file).parent / named))
