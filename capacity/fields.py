"""Building blocks of the plan model: strict base model, names, money, dates, networks."""

from __future__ import annotations

import datetime as dt
import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, StrictInt

NAME_MAX = 63
_NAME = re.compile(r"[a-z]([a-z0-9-]{0,61}[a-z0-9])?\Z")


class StrictModel(BaseModel):
    """Everything a user writes: unknown keys are errors, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)


def check_name(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a name, not {type(value).__name__}")
    if _NAME.match(value):
        return value
    if len(value) > NAME_MAX:
        raise ValueError(f"'{value[:20]}...' is {len(value)} characters; names are at most {NAME_MAX}")
    if not value.isascii():
        odd = next(c for c in value if not c.isascii())
        raise ValueError(f"'{value}' contains the non-ASCII character {odd!r} (U+{ord(odd):04X}); "
                         "names use only a-z, 0-9 and '-'")
    hint = value.lower().replace("_", "-").replace(".", "-")
    fix = f" (e.g. '{hint}')" if _NAME.match(hint) else ""
    raise ValueError(f"'{value}' is not a lowercase DNS label: start with a letter, then a-z, 0-9 or '-', "
                     f"not ending in '-'{fix}")


def check_date(value: Any) -> dt.date:
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        return value
    if not isinstance(value, str) or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        raise ValueError(f"{value!r} is not a date; write YYYY-MM-DD")
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{value} is not a real calendar date") from None


def check_cidr(value: Any) -> ipaddress.IPv4Network:
    if not isinstance(value, str):
        raise ValueError(f"must be a CIDR such as 10.0.0.0/16, not {type(value).__name__}")
    try:
        network = ipaddress.IPv4Network(value, strict=True)
    except ValueError as exc:
        raise ValueError(f"'{value}' is not a valid IPv4 CIDR ({exc})") from None
    if network.prefixlen < 8:
        raise ValueError(f"'{value}' has prefix /{network.prefixlen}; use /8 or longer")
    return network


Name = Annotated[str, BeforeValidator(check_name), Field(description="A lowercase DNS label (a-z, 0-9, '-').",
                                                          json_schema_extra={"pattern": _NAME.pattern.rstrip("\\Z") + "$",
                                                                             "maxLength": NAME_MAX})]
PlanDate = Annotated[dt.date, BeforeValidator(check_date), Field(description="A date, YYYY-MM-DD.")]
Money = Annotated[float, Field(strict=True, ge=0, allow_inf_nan=False, description="US dollars, finite and >= 0.")]
Count = Annotated[StrictInt, Field(gt=0, le=1_000_000)]
Text = Annotated[str, Field(strict=True, min_length=1, max_length=256)]
_RELATIVE = re.compile(r"[A-Za-z0-9._-][A-Za-z0-9._/-]{0,254}\Z")


def check_relative_path(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"must be a file path, not {type(value).__name__}")
    if value.startswith("/"):
        raise ValueError(f"'{value}' is an absolute path; give it relative to the plan file "
                         "(e.g. catalog.yaml or ../catalogs/gpus.yaml)")
    if not _RELATIVE.match(value):
        raise ValueError("a file path here uses only letters, digits, '.', '_', '-' and '/', "
                         "at most 255 characters")
    return value


RelativePath = Annotated[str, BeforeValidator(check_relative_path), Field(
    description="A file path relative to the plan file.",
    json_schema_extra={"pattern": "^" + _RELATIVE.pattern.removesuffix("\\Z") + "$"})]
Cidr = Annotated[ipaddress.IPv4Network, BeforeValidator(check_cidr), Field(description="An IPv4 CIDR, /8 or longer (each provider sets its smallest).")]


class Network(StrictModel):
    cidr: Annotated[Cidr, Field(description="Address space of the site, e.g. 10.10.0.0/16.")]


class SiteBase(StrictModel):
    """Fields every site has; each provider module adds its own."""

    network: Annotated[Network, Field(description="The site's private network.")]

    @property
    def location_label(self) -> str:
        return str(getattr(self, "region", None) or getattr(self, "location", ""))


__all__ = ["StrictModel", "Name", "PlanDate", "Money", "Count", "Text", "Cidr", "Network", "SiteBase", "RelativePath",
           "Literal", "Annotated", "Field", "AfterValidator"]
