"""`capacity calendar`: every dated event of a plan, in order, as text, JSON, markdown or iCalendar.

Events: reservations bought, starting and ending; leases starting, amended and ending (internal use
has kinds of its own). The iCalendar output (RFC 5545) has one all-day VEVENT per event, with a UID
stable across runs so that a team calendar updates events in place.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass

from capacity.plan.loading import LoadedPlan
from capacity.plan.model import Lease
from capacity.review.money import price_text
from capacity.words import count, inert

KINDS = ("reservation-bought", "reservation-starts", "reservation-ends", "lease-starts", "lease-amended",
         "lease-ends", "internal-starts", "internal-amended", "internal-ends")


@dataclass(frozen=True)
class Event:
    date: dt.date
    kind: str
    name: str  # the reservation's cluster, or the lease
    cluster: str
    site: str
    detail: str

    def as_json(self) -> dict[str, str]:
        return {"date": self.date.isoformat(), "kind": self.kind, "name": self.name, "cluster": self.cluster,
                "site": self.site, "detail": self.detail}


def events(loaded: LoadedPlan) -> list[Event]:
    """Every dated event of the plan, by date, then kind (in KINDS order), then name."""
    out = [*_reservation_events(loaded), *_lease_events(loaded)]
    return sorted(out, key=lambda e: (e.date, KINDS.index(e.kind), e.name))


def _reservation_events(loaded: LoadedPlan) -> list[Event]:
    out = []
    for name, spec in loaded.plan.clusters.items():
        r = spec.reservation
        if not spec.reserved or r is None:
            continue
        what = f"{r.kind} of {count(loaded.gpus(name), 'GPU')}"
        priced = f" at {price_text(r.price_per_gpu_hour)}/GPU-h" if r.price_per_gpu_hour is not None else ""
        for day, kind, detail in ((r.buy_day, "reservation-bought", f"buy the {what}{priced} for {r.start}"),
                                  (r.start, "reservation-starts", f"the {what} starts"),
                                  (r.end, "reservation-ends", f"the {what} ends")):
            if day is not None:
                out.append(Event(day, kind, name, name, spec.site, detail))
    return out


def _lease_events(loaded: LoadedPlan) -> list[Event]:
    out = []
    for name, lease in loaded.plan.leases.items():
        site = loaded.plan.clusters[lease.cluster].site
        prefix = "internal" if lease.internal else "lease"
        terms = lease.terms
        first = terms[0]
        out.append(Event(lease.start, f"{prefix}-starts", name, lease.cluster, site,
                         f"{lease.tenant}: {_term(lease, first.gpus, first.price)} until {lease.end}"))
        for before, term in zip(terms, terms[1:]):
            out.append(Event(term.start, f"{prefix}-amended", name, lease.cluster, site,
                             f"{lease.tenant}: {_term(lease, before.gpus, before.price)} -> "
                             f"{_term(lease, term.gpus, term.price)}"))
        out.append(Event(lease.end, f"{prefix}-ends", name, lease.cluster, site,
                         f"{lease.tenant}: {count(terms[-1].gpus, 'GPU')} released"))
    return out


def _term(lease: Lease, gpus: int, price: float) -> str:
    return count(gpus, "GPU") + ("" if lease.internal else f" at {price_text(price)}/GPU-h")


def select(found: list[Event], start: dt.date | None, end: dt.date | None, kinds: list[str]) -> list[Event]:
    """Events in [start, end) whose kind is one of `kinds` or starts with one (`lease` takes lease-*)."""
    def wanted(kind: str) -> bool:
        return not kinds or any(kind == k or kind.startswith(k + "-") for k in kinds)

    return [e for e in found if (start is None or e.date >= start) and (end is None or e.date < end)
            and wanted(e.kind)]


def text(found: list[Event]) -> str:
    lines = [f"{e.date}  {e.kind:<18}  {e.name:<24}  {e.site}/{e.cluster}  {e.detail}" for e in found]
    return "".join(inert(line) + "\n" for line in lines) or "No events.\n"


def markdown(found: list[Event]) -> str:
    def cell(value: str) -> str:
        return html.escape(" ".join(inert(value).split())).replace("|", "\\|")

    rows = [f"| {e.date} | {e.kind} | `{cell(e.name)}` | {cell(e.site)} / {cell(e.cluster)} | {cell(e.detail)} |"
            for e in found]
    return "\n".join(["| Date | Event | Name | Site / cluster | Detail |", "|---|---|---|---|---|", *rows]) + "\n"


# ------------------------------------------------------------------ iCalendar (RFC 5545)


def _escape(value: str) -> str:
    """TEXT values (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    value = inert(value)
    for raw, safe in (("\\", "\\\\"), (";", "\\;"), (",", "\\,"), ("\r\n", "\\n"), ("\n", "\\n"), ("\r", "\\n")):
        value = value.replace(raw, safe)
    return value


def _fold(line: str) -> str:
    """Lines of at most 75 octets, continued with CRLF and a space (RFC 5545 3.1), never inside a character."""
    out: list[str] = []
    current = ""
    for char in line:
        limit = 75 if not out else 74
        if len((current + char).encode("utf-8")) > limit:
            out.append(current)
            current = char
        else:
            current += char
    out.append(current)
    return "\r\n ".join(out)


def ics(found: list[Event], plan: str) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//capacity//capacity calendar//EN", "CALSCALE:GREGORIAN",
             f"X-WR-CALNAME:{_escape(f'capacity: {plan}')}"]
    for e in found:
        day = e.date.strftime("%Y%m%d")
        lines += ["BEGIN:VEVENT", f"UID:{_escape(f'{e.kind}.{e.name}.{day}@{plan}.capacity')}",
                  f"DTSTAMP:{day}T000000Z", f"DTSTART;VALUE=DATE:{day}",
                  f"DTEND;VALUE=DATE:{(e.date + dt.timedelta(days=1)).strftime('%Y%m%d')}",
                  f"SUMMARY:{_escape(f'{e.kind}: {e.name}')}",
                  f"DESCRIPTION:{_escape(f'{e.detail} (cluster {e.cluster} on site {e.site})')}",
                  f"CATEGORIES:{_escape(e.kind)}", "TRANSP:TRANSPARENT", "END:VEVENT"]
    lines.append("END:VCALENDAR")
    return "".join(_fold(line) + "\r\n" for line in lines)
