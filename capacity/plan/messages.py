"""Pydantic's validation errors, said in the plan's own words and pointed at their line."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from capacity.errors import Problem, did_you_mean
from capacity.providers import specs
from capacity.plan.reader import Document, Path_

KEY = "[key]"


def problem(doc: Document, err: ErrorDetails, root: type[BaseModel] | None = None) -> Problem:
    """One pydantic error at its line; `root` is the model of the whole file (default: the plan)."""
    loc = _user_loc(err["loc"])
    is_key = bool(loc) and loc[-1] == KEY
    path = loc[:-1] if is_key else loc
    kind = err["type"]
    if kind == "extra_forbidden":
        key = str(path[-1])
        known = _known_keys(err["loc"][:-1], root)
        message = f"unknown key '{key}'.{did_you_mean(key, known)}"
        if known:
            message += f" Known keys here: {', '.join(known)}."
        return doc.problem(path, message, key=True)
    if kind == "missing":
        return doc.problem(path[:-1], f"missing required key '{path[-1]}'.", key=True)
    return doc.problem(path, _sentence(err), key=is_key)


def _user_loc(loc: tuple[int | str, ...]) -> Path_:
    """Drops the provider tag pydantic adds inside `sites.<name>`."""
    if len(loc) >= 3 and loc[0] == "sites" and loc[2] in specs():
        return loc[:2] + loc[3:]
    return tuple(loc)


def _shown(value: Any) -> str:
    if value is None:
        return "nothing (null)"
    if isinstance(value, (dict, list)):
        return "a mapping" if isinstance(value, dict) else "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _sentence(err: ErrorDetails) -> str:
    kind, ctx, given = err["type"], err.get("ctx") or {}, err.get("input")
    if kind == "union_tag_invalid":
        tags = list(specs())
        return (f"unknown provider {given.get('provider')!r}; use one of {', '.join(tags)}."
                f"{did_you_mean(given.get('provider'), tags)}") if isinstance(given, dict) else "unknown provider."
    if kind == "union_tag_not_found":
        return f"missing key 'provider' (one of {', '.join(specs())})."
    if kind == "literal_error":
        expected = ctx.get("expected", "")
        choices = [c.strip(" '") for c in expected.replace(" or ", ",").split(",")]
        return f"{_shown(given)} is not allowed; use {expected}.{did_you_mean(given, choices)}"
    if kind in ("int_type", "int_parsing", "int_from_float"):
        return f"must be a whole number, not {_shown(given)}."
    if kind in ("float_type", "float_parsing"):
        return f"must be a number, not {_shown(given)}."
    if kind == "finite_number":
        return f"must be a finite number, not {_shown(given)}."
    if kind in ("greater_than", "greater_than_equal", "less_than", "less_than_equal"):
        words = {"greater_than": "more than", "greater_than_equal": "at least",
                 "less_than": "less than", "less_than_equal": "at most"}[kind]
        bound = next(iter(ctx.values()))
        if not isinstance(bound, (int, float)):
            return err["msg"] + "."
        shown_bound = f"{bound:,}" if float(bound).is_integer() and abs(bound) < 1e15 else f"{bound:g}"
        return f"must be {words} {shown_bound.removesuffix('.0')}, not {_shown(given)}."
    if kind in ("string_type", "str_type"):
        return f"must be text, not {_shown(given)}."
    if kind in ("dict_type", "model_type", "model_attributes_type"):
        return f"must be a mapping of keys, not {_shown(given)}."
    if kind in ("list_type", "tuple_type"):
        return f"must be a list, not {_shown(given)}."
    if kind == "too_short" and ctx.get("field_type") == "Dictionary":
        return "must not be empty."
    if kind in ("too_short", "too_long"):
        return f"{err['msg'][0].lower()}{err['msg'][1:]}."
    if kind == "value_error":
        return err["msg"].removeprefix("Value error, ") + "."
    if kind == "string_too_long":
        return f"is longer than {ctx.get('max_length')} characters."
    return err["msg"] + "."


def _known_keys(loc: tuple[int | str, ...], root: type[BaseModel] | None) -> list[str]:
    """The keys the model accepts at `loc` (pydantic's loc, provider tag included)."""
    from capacity.plan.model import Plan

    current: Any = root or Plan
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = next((f for n, f in current.model_fields.items() if part in (n, f.alias)), None)
            if field is None:
                return []
            current = field.annotation
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        elif typing.get_origin(current) in (list, tuple):
            current = typing.get_args(current)[0]
        elif _is_union(current):
            current = specs()[part].site_model if part in specs() else None
        else:
            return []
    current = _unwrap(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or n for n, f in current.model_fields.items()]
    return []


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _unwrap(tp: Any) -> Any:
    """Annotated[X, ...] -> X; Optional[X] -> X (other unions stay)."""
    while True:
        if typing.get_origin(tp) is typing.Annotated:
            tp = typing.get_args(tp)[0]
            continue
        if _is_union(tp):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) == 1:
                tp = args[0]
                continue
        return tp
