"""A plan diff as a pull-request comment (markdown) or as plain text for a terminal.

The markdown always fits in one GitHub comment (65,536 characters, counted here in UTF-8 bytes,
which is never fewer): past that it keeps the headline and table, lists as many risks, changes
and lease charts as fit, and says at the top what it left out.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from capacity.plan.model import Lease
from capacity.review.changes import either
from capacity.review.diff import LEVELS, Change, Figures, PlanDiff, Risk, signed
from capacity.review.money import compact, dollars
from capacity.words import count, inert

LIMIT = 65_536
MAX_SITE_ROWS = 40
MAX_GANTTS = 25
MAX_GANTT_LEASES = 40
_NOTE_ROOM = 700  # bytes kept for the "left out" note
_ICON = {"high": "\U0001F534", "medium": "\U0001F7E0", "low": "\U0001F7E1"}
_SIGN = {"added": "+", "removed": "-", "changed": "~"}


def size(text: str) -> int:
    return len(text.encode("utf-8"))


def md(text: str) -> str:
    """Plan text made inert in markdown: no HTML, no mentions, no table breaks, one line."""
    text = " ".join(inert(text).split()).replace(" <-> ", " \u2194 ").replace(" -> ", " \u2192 ")
    for raw, safe in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ("|", "\\|"), ("`", "'"),
                      ("@", "@&#8203;"), ("[", "\\["), ("]", "\\]")):
        text = text.replace(raw, safe)
    return text


def code(text: str, limit: int = 160) -> str:
    """Inline code, one line, at most `limit` characters (plan paths can be long)."""
    text = " ".join(inert(text).split()).replace("`", "'")
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return "`" + text.replace("|", "\\|") + "`"


# ------------------------------------------------------------------ markdown


@dataclass
class _Budget:
    left: int

    def take(self, text: str) -> bool:
        n = size(text)
        if n > self.left:
            return False
        self.left -= n
        return True


def markdown(d: PlanDiff, limit: int = LIMIT) -> str:
    marker = re.sub(r"-{2,}", "-", re.sub(r"[^A-Za-z0-9._/:+=,-]", "_", d.head_label))[:300]
    top = (f"<!-- capacity-diff: {marker} -->\n"
           f"### Capacity plan {code(d.head.name)}: {md(d.headline)}\n\n"
           f"{code(d.base_label)} \u2192 {code(d.head_label)} \u00b7 risks as of {d.as_of}\n\n")
    table = _table(d) + _use_line(d)
    budget = _Budget(limit - size(top) - size(table) - _NOTE_ROOM)
    left_out: list[str] = []
    risks = _risks_section(d.risks, _Budget(int(budget.left * 0.5)), left_out)
    budget.left -= size(risks)
    changes = _changes_section(d.changes, _Budget(int(budget.left * 0.7)), left_out)
    budget.left -= size(changes)
    quotas = _quotas_section(d, budget, left_out)
    gantts = _gantt_section(d, budget, left_out)
    note = ""
    if left_out:
        note = (f"> **Summarised to fit one GitHub comment ({limit:,} characters).** Left out: "
                f"{'; '.join(left_out)}. Run `capacity diff BASE HEAD` locally, or `--format json`, for all of it.\n\n")
    text = top + note + table + risks + changes + quotas + gantts
    assert size(text) <= limit, "the markdown budget was overrun"
    return text


def _figure_cells(f: Figures) -> str:
    money = [f"{dollars(d.base)} \u2192 {dollars(d.head)} | {dollars(d.delta, signed=True)}"
             for d in (f.monthly_cost, f.lease_value)]
    return f"{int(f.gpus.base):,} \u2192 {int(f.gpus.head):,} | {signed(int(f.gpus.delta))} | " + " | ".join(money)


def _table(d: PlanDiff) -> str:
    rows = ["| Provider / site | GPUs | \u0394 GPUs | Run-rate / month | \u0394 / month | Lease value "
            "| \u0394 lease value |", "|---|---:|---:|---:|---:|---:|---:|"]
    shown = 0
    hidden = 0
    for provider, figures in d.providers.items():
        rows.append(f"| **{md(provider)}** | {_figure_cells(figures)} |")
        for site, status in d.site_status.items():
            if d.site_provider[site] != provider or status == "unchanged":
                continue
            if shown >= MAX_SITE_ROWS:
                hidden += 1
                continue
            shown += 1
            tag = f" ({status})" if status in ("added", "removed") else ""
            rows.append(f"| \u2003{code(site)}{tag} | {_figure_cells(d.sites[site])} |")
    if hidden:
        rows.append(f"| \u2003_{hidden} more changed sites_ | | | | | | |")
    rows.append(f"| **Total** | {_figure_cells(d.total)} |")
    return "\n".join(rows) + "\n\n"


def _hours(value: float) -> str:
    return f"{compact(value).lstrip('$')} GPU-h"


def _use_parts(f: Figures) -> list[str]:
    """Internal, leased and idle GPU-hours and utilisation, BASE -> HEAD."""
    parts = [f"{word} {_hours(d.base)} \u2192 {_hours(d.head)}"
             for word, d in (("internal", f.internal_gpu_hours), ("leased", f.leased_gpu_hours),
                             ("idle", f.idle_gpu_hours))]
    return parts + [f"utilisation {f.utilisation.base:.1%} \u2192 {f.utilisation.head:.1%}"]


def _use_line(d: PlanDiff) -> str:
    line = f"Use from {d.window.start} to {d.window.end}: {', '.join(_use_parts(d.total))}.\n\n"
    later = _bought_later(d)
    return line + (f"Reservations bought on their date: {md(later)}.\n\n" if later else "")


def _bought_later(d: PlanDiff) -> str:
    """HEAD's reservations not bought yet on the as-of day, with the day each is bought."""
    return "; ".join(f"{p['cluster']} ({p['kind']}) on {p['buy_day']}" for p in d.purchases if p["state"] == "scheduled")


def _risk_line(r: Risk) -> str:
    return f"- {_ICON[r.level]} **{r.level}** {code(r.name)} ({r.kind}): {md(r.message)}\n"


def _risks_section(risks: list[Risk], budget: _Budget, left_out: list[str]) -> str:
    if not risks:
        return "#### Risks\nNone found.\n\n"
    counts = ", ".join(f"{n:,} {level}" for level in LEVELS if (n := sum(r.level == level for r in risks)))
    head = f"#### Risks: {counts}\n"
    budget.left -= size(head) + 120
    lines = []
    for risk in risks:
        line = _risk_line(risk)
        if not budget.take(line):
            break
        lines.append(line)
    missing = risks[len(lines):]
    tail = ""
    if missing:
        by_level = ", ".join(f"{n:,} {level}" for level in LEVELS if (n := sum(r.level == level for r in missing)))
        tail = f"- _... and {len(missing):,} more risks ({by_level})._\n"
        left_out.append(f"{len(missing):,} of {len(risks):,} risks")
    return head + "".join(lines) + tail + "\n"


def _change_row(c: Change) -> str:
    return f"| {c.kind} | {c.object} | {code(c.name)} | {md(c.detail)} |\n"


def _changes_section(changes: list[Change], budget: _Budget, left_out: list[str]) -> str:
    if not changes:
        return ""
    counts = ", ".join(f"{n:,} {kind}" for kind in ("added", "removed", "changed")
                       if (n := sum(c.kind == kind for c in changes)))
    head = (f"<details><summary><b>Changes</b>: {counts}</summary>\n\n"
            "| Change | Object | Name | Detail |\n|---|---|---|---|\n")
    end = "\n</details>\n\n"
    budget.left -= size(head) + size(end) + 120
    rows = []
    for change in changes:
        row = _change_row(change)
        if not budget.take(row):
            break
        rows.append(row)
    tail = ""
    if len(rows) < len(changes):
        missing = len(changes) - len(rows)
        tail = f"\n_... and {missing:,} more changes._\n"
        left_out.append(f"{missing:,} of {len(changes):,} changes")
    return head + "".join(rows) + tail + end


# ------------------------------------------------------------------ lease charts (mermaid gantt)


def _quotas_title(d: PlanDiff) -> str:
    kinds = {q.orchestrator for q in d.quotas}
    return "Kubernetes GPU quotas" if kinds == {"kubernetes"} else \
        "Slurm GPU limits" if kinds == {"slurm"} else "GPU quotas (Kubernetes) and limits (Slurm)"


def _quotas_section(d: PlanDiff, budget: _Budget, left_out: list[str]) -> str:
    """Tenants' GPU quotas in Kubernetes clusters that move (capacity/review/quotas.py), if they fit."""
    if not d.quotas:
        return ""
    rows = "".join(f"| {code(q.tenant)} | {code(q.cluster)}{' (Slurm)' if q.orchestrator == 'slurm' else ''} "
                   f"| {q.base:,} \u2192 {q.head:,} | {signed(q.delta)} |\n"
                   for q in d.quotas)
    section = (f"#### {_quotas_title(d)} per tenant (peak from {d.as_of})\n\n"
               "| Tenant | Cluster | GPUs | \u0394 |\n|---|---|---:|---:|\n" + rows + "\n")
    if budget.take(section):
        return section
    left_out.append(f"{len(d.quotas)} quota changes")
    return ""


def _gantt_section(d: PlanDiff, budget: _Budget, left_out: list[str]) -> str:
    clusters = d.changed_clusters()
    if not clusters:
        return ""
    head = "#### Leases on changed clusters\n\n"
    budget.left -= size(head)
    blocks = []
    for name in clusters[:MAX_GANTTS]:
        block = gantt(d, name)
        if not budget.take(block):
            break
        blocks.append(block)
    if len(blocks) < len(clusters):
        left_out.append(f"lease charts of {len(clusters) - len(blocks):,} of {len(clusters):,} changed clusters")
    return head + "".join(blocks) if blocks else ""


def gantt(d: PlanDiff, cluster: str) -> str:
    """A mermaid gantt of the leases on one cluster: HEAD's leases, plus BASE's that left it."""
    base_c, head_c = d.base.plan.clusters.get(cluster), d.head.plan.clusters.get(cluster)
    status = "removed" if head_c is None else "added" if base_c is None else "changed"
    spec, side = (head_c, d.head) if head_c else (either(base_c, head_c), d.base)
    before, after = (d.base.gpus(cluster) if base_c else 0), (d.head.gpus(cluster) if head_c else 0)
    gpus = f"{before:,} to {after:,}" if before != after else f"{after:,}"
    title = inert(f"{cluster} on {spec.site}: {gpus} {side.types[cluster].accelerator} GPUs").replace(";", ",")
    held = spec.reservation if spec.reserved else None
    reservation = held if held is not None and held.start and held.end else None
    tasks = _gantt_tasks(d, cluster)
    shown = tasks[:MAX_GANTT_LEASES]
    if not shown and reservation is None:
        return f"**{code(cluster)}** ({status}): no leases.\n\n"
    spans = [(t[3], t[4]) for t in shown]
    if reservation is not None and reservation.start and reservation.end:
        spans.append((reservation.start, reservation.end))
    lines = ["```mermaid", "gantt", f"    title {title}", "    dateFormat YYYY-MM-DD", *_axis(spans),
             "    todayMarker off"]  # mermaid's today is the reader's clock; the diff's is --as-of
    if min(start for start, _ in spans) <= d.as_of <= max(end for _, end in spans):
        lines += ["    section as of", f"    {d.as_of} :milestone, m0, {d.as_of}, 0d"]
    if reservation is not None:
        lines += ["    section reservation", f"    {reservation.kind} :r0, {reservation.start}, {reservation.end}"]
    section = None
    for i, (tenant, label, tag, start, end) in enumerate(sorted(shown, key=lambda t: (t[0], t[3], t[1]))):
        if tenant != section:
            section = tenant
            lines.append(f"    section {tenant}")
        lines.append(f"    {label} :{tag}t{i}, {start}, {end}")
    lines.append("```")
    hidden = len(tasks) - len(shown)
    note = f"_{hidden:,} more leases on {code(cluster)} not charted._\n" if hidden else ""
    return f"**{code(cluster)}** ({status})\n\n" + "\n".join(lines) + "\n" + note + "\n"


def _axis(spans: list[tuple[dt.date, dt.date]]) -> list[str]:
    """Axis lines fitted to the charted days: days for a few weeks, weeks for a season, else months."""
    days = (max(end for _, end in spans) - min(start for start, _ in spans)).days
    if days <= 45:
        return ["    axisFormat %b %d", "    tickInterval 1week" if days > 14 else "    tickInterval 1day"]
    if days <= 120:
        return ["    axisFormat %b %d", "    tickInterval 1week"]
    return ["    axisFormat %Y-%m", "    tickInterval 1month" if days <= 730 else "    tickInterval 3month"]


def _shape(lease: Lease) -> list[tuple[dt.date, dt.date, int]]:
    return [(t.start, t.end, t.gpus) for t in lease.terms]


def _gantt_tasks(d: PlanDiff, cluster: str) -> list[tuple[str, str, str, dt.date, dt.date]]:
    """(tenant, label, tag, start, end) per lease term: changed ones first, so the cap keeps them."""
    base, head = d.base.plan.leases, d.head.plan.leases
    tasks: list[tuple[bool, Lease, str, str]] = []
    for name, lease in head.items():
        if lease.cluster != cluster:
            continue
        old = base.get(name)
        state = "new" if old is None else "" if old == lease else "moved here" if old.cluster != cluster else "changed"
        tasks.append((state == "", lease, name, state))
        if old is not None and state == "changed" and _shape(old) != _shape(lease):
            tasks.append((False, old, name, "before"))
    for name, lease in base.items():
        if lease.cluster != cluster:
            continue
        new = head.get(name)
        if new is None:
            tasks.append((False, lease, name, "cancelled"))
        elif new.cluster != cluster:
            tasks.append((False, lease, name, f"moved to {new.cluster}"))
    out = []
    for _, lease, name, state in sorted(tasks, key=lambda t: (t[0], t[1].start, t[2])):
        if state == "cancelled" or state.startswith("moved to"):
            tag = "crit, "
        elif state == "before" or lease.end <= d.as_of:
            tag = "done, "
        else:
            tag = "active, " if state else ""
        for index, term in enumerate(lease.terms):  # amendments: a bar per term
            since = f" from {term.start}" if index else ""
            label = f"{name} {count(term.gpus, 'GPU')}{since}" + (f" ({state})" if state else "")
            out.append((lease.tenant, label, tag, term.start, term.end))
    return out


# ------------------------------------------------------------------ plain text


def text(d: PlanDiff) -> str:
    out = [f"{d.head.name}: {d.headline}", f"BASE {d.base_label}  HEAD {d.head_label}  (risks as of {d.as_of})", ""]
    width = max([len(p) for p in d.providers] + [len(s) + 2 for s in d.sites] + [5])
    out.append(f"{'':{width}}  {'GPUs':>22}  {'run-rate / month':>34}  {'lease value':>38}")
    for provider, figures in d.providers.items():
        out.append(_text_row(provider, figures, width))
        for site, status in d.site_status.items():
            if d.site_provider[site] == provider and status != "unchanged":
                note = f"  ({status})" if status != "changed" else ""
                out.append(_text_row("  " + site, d.sites[site], width) + note)
    out.append(_text_row("Total", d.total, width))
    out.append(f"Use from {d.window.start} to {d.window.end}: {', '.join(_use_parts(d.total))}.".replace("\u2192", "->"))
    if _bought_later(d):
        out.append(f"Reservations bought on their date: {_bought_later(d)}.")
    out.append("")
    out.append(f"Risks ({len(d.risks)})" if d.risks else "Risks: none found.")
    for r in d.risks:
        out.append(f"  {r.level.upper():6}  {r.name} ({r.kind}): {r.message}")
    out.append("")
    out.append(f"Changes ({len(d.changes)})" if d.changes else "Changes: none.")
    for c in d.changes:
        out.append(f"  {_SIGN[c.kind]} {c.object} {c.name}: {c.detail}")
    if d.quotas:
        out += ["", f"{_quotas_title(d)} per tenant, peak from {d.as_of} ({len(d.quotas)})"]
        out += [f"  {q.text()}" for q in d.quotas]
    return "".join(inert(line) + "\n" for line in out)


def _text_row(label: str, f: Figures, width: int) -> str:
    gpus = f"{int(f.gpus.base):,} -> {int(f.gpus.head):,} ({signed(int(f.gpus.delta))})"
    cost, value = (f"{compact(d.base)} -> {compact(d.head)} ({dollars(d.delta, signed=True)})"
                   for d in (f.monthly_cost, f.lease_value))
    return f"{label:{width}}  {gpus:>22}  {cost:>34}  {value:>38}"
