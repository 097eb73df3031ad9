"""`capacity report`: a plan's GPUs, money and lease book, as text, markdown, JSON or one HTML file.

Figures come from capacity.review.economics; this module only lays them out. The HTML is self-contained
(inline CSS and SVG, no script, no CDN) and escapes every string taken from the plan.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass
from typing import Any, Iterable

from capacity.plan.model import Lease
from capacity.review.cash import MonthTable
from capacity.review.economics import Book, ClusterBook, GroupBook, Steps, Usage, Window, leased_steps
from capacity.review.money import compact, dollars
from capacity.review.topology import links_section
from capacity.words import count, inert

# ------------------------------------------------------------------ rows shared by the layouts


def _rows(b: Book) -> Iterable[tuple[int, str, GroupBook | ClusterBook]]:
    """(depth, label, figures): each provider, its sites, their clusters; then the total."""
    for provider, group in b.providers.items():
        yield 0, provider, group
        for site, site_group in b.sites.items():
            if b.plan.plan.sites[site].provider != provider:
                continue
            yield 1, site, site_group
            for cluster in b.clusters.values():
                if cluster.site == site:
                    yield 2, cluster.name, cluster
    yield 0, "Total", b.total


def _pct(value: float) -> str:
    return f"{value * 100:.1f}%"


def _hours(value: float) -> str:
    return f"{value:,.0f}"


def _cells(row: GroupBook | ClusterBook) -> list[str]:
    t, u = row.totals, row.usage
    return [f"{t.gpus:,}", dollars(t.monthly_cost), dollars(t.lease_value), _hours(u.internal_gpu_hours),
            _hours(u.leased_gpu_hours), _hours(u.idle_gpu_hours), _pct(u.utilisation),
            dollars(u.revenue), dollars(u.cost), dollars(u.margin)]


HEADERS = ["GPUs", "Run-rate / month", "Lease value (whole terms)", "Internal GPU-h", "Leased GPU-h", "Idle GPU-h",
           "Utilisation", "Revenue", "Cost", "Margin"]
MARGIN = HEADERS.index("Margin")


def _months(b: Book) -> list[tuple[Window, int, int, int, float]]:
    """(month, most GPUs, most GPUs leased, most GPUs in internal use, utilisation) per month."""
    out = []
    for month in b.window.months():
        available = b.capacity.gpu_hours(month)
        used = b.steps.gpu_hours(month) + b.internal.gpu_hours(month)
        out.append((month, b.capacity.peak(month), b.steps.peak(month), b.internal.peak(month),
                    used / available if available else 0.0))
    return out


def _summary(b: Book) -> str:
    t, u = b.total.totals, b.total.usage
    return (f"{count(t.gpus, 'GPU')} in {count(len(b.sites), 'site')} and {count(len(b.clusters), 'cluster')}; run-rate "
            f"{compact(t.monthly_cost)}/month; {count(len(b.plan.plan.leases), 'lease')} worth "
            f"{compact(t.lease_value)} over their terms. From {b.window.start} to {b.window.end}: "
            f"of {_hours(u.available_gpu_hours)} GPU-hours, {_hours(u.internal_gpu_hours)} in internal use, "
            f"{_hours(u.leased_gpu_hours)} leased and {_hours(u.idle_gpu_hours)} idle; "
            f"utilisation {_pct(u.utilisation)}, cost {compact(u.cost)}. {_split(u)}")


def _split(u: Usage) -> str:
    """Sold leases apart from internal use: internal use is the cost of the company's own work, not a loss."""
    loss = " (a loss)" if u.sold_margin < 0 else ""
    return (f"Sold leases: revenue {compact(u.revenue)}, cost of their GPUs {compact(u.sold_cost)}, "
            f"margin {compact(u.sold_margin)}{loss}. Internal use (the company's own work): cost "
            f"{compact(u.internal_cost)}. Idle: cost {compact(u.idle_cost)}.")


# ------------------------------------------------------------------ JSON


def _figures_json(row: GroupBook | ClusterBook) -> dict[str, Any]:
    t, u = row.totals, row.usage
    return {"gpus": t.gpus, "monthly_cost": round(t.monthly_cost, 2), "lease_value": round(t.lease_value, 2),
            "available_gpu_hours": u.available_gpu_hours, "leased_gpu_hours": u.leased_gpu_hours,
            "internal_gpu_hours": u.internal_gpu_hours, "idle_gpu_hours": u.idle_gpu_hours,
            "utilisation": round(u.utilisation, 6), "revenue": round(u.revenue, 2), "cost": round(u.cost, 2),
            "margin": round(u.margin, 2), "sold_cost": round(u.sold_cost, 2), "sold_margin": round(u.sold_margin, 2),
            "internal_cost": round(u.internal_cost, 2), "idle_cost": round(u.idle_cost, 2)}


def _steps_json(steps: Steps, window: Window) -> list[dict[str, Any]]:
    return [{"from": start.isoformat(), "until": end.isoformat(), "gpus": gpus}
            for start, end, gpus in steps.pieces(window)]


def as_json(b: Book, source: str, table: MonthTable | None = None) -> dict[str, Any]:
    plan = b.plan.plan
    return {
        **({"basis": table.basis, "by_month": table.as_json()} if table else {}),
        "plan": b.plan.name,
        "source": source,
        "window": {"from": b.window.start.isoformat(), "to": b.window.end.isoformat(), "hours": b.window.hours},
        "hours_per_month": 730,
        **_figures_json(b.total),
        "providers": {name: _figures_json(g) for name, g in b.providers.items()},
        "sites": {name: {"provider": plan.sites[name].provider, **_figures_json(g)} for name, g in b.sites.items()},
        "clusters": {
            c.name: {"site": c.site, "provider": c.provider, "accelerator": c.accelerator,
                     "instance_type": c.instance_type, "nodes": c.nodes, "price_per_gpu_hour": c.price.per_gpu_hour,
                     "price_source": c.price.source, **_figures_json(c), "leases": c.leases,
                     "leased_gpus": _steps_json(c.steps, b.window), "internal_gpus": _steps_json(c.internal, b.window)}
            for c in b.clusters.values()},
        "leased_gpus": _steps_json(b.steps, b.window),
        "internal_gpus": _steps_json(b.internal, b.window),
        "months": [{"month": m.start.strftime("%Y-%m"), "capacity": cap, "leased_peak": peak,
                    "internal_peak": internal, "utilisation": round(util, 6)}
                   for m, cap, peak, internal, util in _months(b)],
    }


# ------------------------------------------------------------------ text and markdown


def _table_rows(table: MonthTable) -> list[tuple[str, list[float]]]:
    """(label, dollars per month): each provider, the total cost, lease revenue."""
    return [*table.providers.items(), ("total cost", table.total()), ("lease revenue", table.revenue)]


def _table_title(table: MonthTable) -> str:
    return ("Paid to each provider by month (cash: blocks on their buy day, bills and invoices in arrears)"
            if table.basis == "cash" else "Cost by provider and month (accrual: when GPU-hours are used)")


def text(b: Book, table: MonthTable | None = None) -> str:
    out = [f"{b.plan.name}: {_summary(b)}", ""]
    labels = [("  " * depth) + label for depth, label, _ in _rows(b)]
    width = max(len(label) for label in labels)
    short = ["GPUs", "run-rate/mo", "lease value", "internal GPU-h", "leased GPU-h", "idle GPU-h", "util.",
             "revenue", "cost", "margin"]
    out.append(f"{'':{width}}  " + "  ".join(f"{h:>14}" for h in short))
    for label, (_, _, row) in zip(labels, _rows(b)):
        out.append(f"{label:{width}}  " + "  ".join(f"{c:>14}" for c in _cells(row)))
    unpriced = [c.name for c in b.clusters.values() if c.price.per_gpu_hour is None]
    if unpriced:
        out.append(f"No price for {', '.join(unpriced)}: counted at $0.")
    out += ["", "GPUs by month (capacity, peak leased, peak internal, utilisation)"]
    for month, capacity, peak, internal, util in _months(b):
        out.append(f"  {month.start:%Y-%m}  {capacity:>10,}  {peak:>10,}  {internal:>10,}  {_pct(util):>7}")
    if table:
        width = max(len(label) for label, _ in _table_rows(table))
        out += ["", _table_title(table),
                f"  {'':{width}}" + "".join(f"  {m.start:%Y-%m}".rjust(14) for m in table.months)]
        out += [f"  {label:{width}}" + "".join(f"{dollars(v):>14}" for v in values) for label, values in _table_rows(table)]
    return "".join(inert(line) + "\n" for line in out)


def _md(value: str) -> str:
    return html.escape(" ".join(inert(value).split())).replace("|", "\\|").replace("@", "@&#8203;")


def markdown(b: Book, table: MonthTable | None = None) -> str:
    out = [f"### Capacity report: `{_md(b.plan.name)}`", "", _md(_summary(b)), "",
           "| Provider / site / cluster | " + " | ".join(HEADERS) + " |",
           "|---|" + "---:|" * len(HEADERS)]
    for depth, label, row in _rows(b):
        name = f"**{_md(label)}**" if depth == 0 else "\u2003" * depth + f"`{_md(label)}`"
        cells = _cells(row)
        if row.usage.margin < 0:
            cells[MARGIN] = f"**{cells[MARGIN]}** \u25bc"
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out += ["", "#### GPUs by month", "",
            "| Month | Capacity | Peak leased | Peak internal | Utilisation |", "|---|---:|---:|---:|---:|"]
    for month, capacity, peak, internal, util in _months(b):
        out.append(f"| {month.start:%Y-%m} | {capacity:,} | {peak:,} | {internal:,} | {_pct(util)} |")
    if table:
        out += ["", f"#### {_table_title(table)}", "",
                "| Provider | " + " | ".join(f"{m.start:%Y-%m}" for m in table.months) + " |",
                "|---|" + "---:|" * len(table.months)]
        out += [f"| {_md(label)} | " + " | ".join(dollars(v) for v in values) + " |" for label, values in _table_rows(table)]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ HTML with inline SVG charts

# The viewBox is small so that, scaled to a phone's width, its text still reads at 11 px or more.
CHART_W, CHART_H = 400, 200
PAD_L, PAD_R, PAD_T, PAD_B = 56, 24, 12, 30
MAX_KEYS = 24  # legend entries under one chart
_SOLD = ("#0969da", "#1a7f37", "#bf8700", "#bc4c00", "#0550ae", "#116329", "#953800", "#4d2d00")
_INTERNAL = ("#8250df", "#a475f9", "#6639ba", "#c297ff")

_CSS = """
*{box-sizing:border-box}
.topo{max-width:560px}.topo svg{width:100%;height:auto;display:block}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:1.5rem auto;max-width:1280px;
color:#1b1f24;padding:0 .75rem;overflow-wrap:anywhere}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
.wide{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;width:100%;margin:1rem 0;overflow-wrap:normal}td:first-child{white-space:nowrap}th,td{padding:.3rem .55rem;border-bottom:1px solid #d8dee4}
th{text-align:left;background:#f6f8fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
tr.d0 td{font-weight:600}tr.d1 td:first-child{padding-left:1.4rem}
tr.d2 td:first-child{padding-left:2.6rem;color:#57606a}
.neg{color:#cf222e;font-weight:600}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,440px),1fr));gap:1.2rem}
figure{margin:0;border:1px solid #d8dee4;border-radius:6px;padding:.4rem;min-width:0}
figcaption{font-weight:600;margin-bottom:.3rem}
svg{display:block;width:100%;height:auto}.cap{stroke:#cf222e;stroke-width:2;stroke-dasharray:6 4;fill:none}
.layer{fill-opacity:.55;stroke-width:1}.res{fill:#2da44e;fill-opacity:.10}
.axis{stroke:#8c959f;stroke-width:1}.grid{stroke:#eaeef2;stroke-width:1}svg text{font-size:14px;fill:#57606a}
@media (min-width:700px){svg text{font-size:11px}}
.keys{list-style:none;padding:0;margin:.4rem 0 0;display:flex;flex-wrap:wrap;gap:.2rem 1rem;font-size:13px}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
"""


def _e(value: object) -> str:
    return html.escape(inert(value), quote=True)


@dataclass(frozen=True)
class Layer:
    """One band of a chart: a lease (or a tenant's leases) stacked on those below it."""

    label: str
    steps: Steps
    colour: str
    internal: bool


def _layers(groups: list[tuple[str, bool, Steps]]) -> list[Layer]:
    """Internal use first (at the bottom), then what is leased out, each in its own colour."""
    groups = sorted(groups, key=lambda g: not g[1])
    sold = internal = 0
    out = []
    for label, is_internal, steps in groups:
        if is_internal:
            colour, internal = _INTERNAL[internal % len(_INTERNAL)], internal + 1
        else:
            colour, sold = _SOLD[sold % len(_SOLD)], sold + 1
        out.append(Layer(label, steps, colour, is_internal))
    return out


def _ticks(window: Window) -> list[tuple[dt.date, str]]:
    """At most six labels along the time axis: days for a short window, months otherwise."""
    days = (window.end - window.start).days
    if days <= 62:
        step = max(1, -(-days // 6))
        return [(window.start + dt.timedelta(days=d), f"{window.start + dt.timedelta(days=d):%b %d}")
                for d in range(0, days, step)]
    months = window.months()
    every = max(1, -(-len(months) // 6))
    return [(m.start, f"{m.start:%Y-%m}") for m in months[::every]]


def chart(title: str, capacity: Steps, layers: list[Layer], window: Window,
          reserved: tuple[dt.date, dt.date] | None = None) -> str:
    """An inline SVG: each layer a stacked band under the capacity line, over the window."""
    days = max((window.end - window.start).days, 1)
    cuts = sorted({window.start, window.end, *(d for s in [capacity, *(l.steps for l in layers)] for d in s.days
                                               if window.start < d < window.end)})
    pieces = list(zip(cuts, cuts[1:]))
    stacked = [[0] * len(pieces)]
    for layer in layers:
        stacked.append([below + layer.steps.at(start) for below, (start, _) in zip(stacked[-1], pieces)])
    most = capacity.peak(window)
    top = max(most, max(stacked[-1], default=0), 1) * 1.1
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(day: dt.date) -> float:
        return round(PAD_L + inner_w * (min(max(day, window.start), window.end) - window.start).days / days, 1)

    def y(gpus: float) -> float:
        return round(PAD_T + inner_h * (1 - gpus / top), 1)

    def edge(heights: list[int]) -> list[str]:
        return [p for (start, end), h in zip(pieces, heights) for p in (f"{x(start)},{y(h)}", f"{x(end)},{y(h)}")]

    parts = [f'<svg viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{_e(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>']
    for tick in sorted({0, most // 2, most}):
        parts.append(f'<line class="grid" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{y(tick)}" y2="{y(tick)}"/>'
                     f'<text x="{PAD_L - 6}" y="{y(tick) + 4}" text-anchor="end">{tick:,}</text>')
    if reserved:
        start, end = reserved
        parts.append(f'<rect class="res" x="{x(start)}" y="{PAD_T}" width="{round(x(end) - x(start), 1)}" '
                     f'height="{inner_h}"><title>reserved {_e(start)} to {_e(end)}</title></rect>')
    for layer, below, above in zip(layers, stacked, stacked[1:]):
        points = edge(above) + list(reversed(edge(below)))
        parts.append(f'<polygon class="layer" fill="{layer.colour}" stroke="{layer.colour}" '
                     f'points="{" ".join(points)}"><title>{_e(layer.label)}</title></polygon>')
    capacity_edge = edge([capacity.at(start) for start, _ in pieces])
    parts.append(f'<polyline class="cap" points="{" ".join(capacity_edge)}">'
                 f'<title>capacity, up to {count(most, "GPU")}</title></polyline>')
    base = y(0)
    parts.append(f'<line class="axis" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{base}" y2="{base}"/>')
    for day, label in _ticks(window):
        parts.append(f'<line class="axis" x1="{x(day)}" x2="{x(day)}" y1="{base}" y2="{base + 4}"/>'
                     f'<text x="{x(day)}" y="{base + 18}" text-anchor="middle">{label}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _keys(layers: list[Layer]) -> str:
    shown = "".join(f'<li><i class="sw" style="background:{layer.colour}"></i>{_e(layer.label)}'
                    f'{" (internal)" if layer.internal else ""}</li>' for layer in layers[:MAX_KEYS])
    more = f"<li>and {len(layers) - MAX_KEYS:,} more</li>" if len(layers) > MAX_KEYS else ""
    return f'<ul class="keys">{shown}{more}</ul>' if layers else ""


def _figure(title: str, margin: float, svg: str, layers: list[Layer]) -> str:
    marked = f' <span class="neg">margin {_e(compact(margin))} \u25bc</span>' if margin < 0 else ""
    return f"<figure><figcaption>{_e(title)}{marked}</figcaption>{svg}{_keys(layers)}</figure>"


def _cluster_chart(b: Book, c: ClusterBook) -> str:
    spec = b.plan.plan.clusters[c.name].reservation
    reserved = None
    if spec is not None and spec.kind != "none":
        reserved = (spec.start or b.window.start, spec.end or b.window.end)
    leases = b.plan.plan.leases
    layers = _layers([(f"{name} \u00b7 {leases[name].tenant}", leases[name].internal, leased_steps([leases[name]]))
                      for name in c.leases if leases[name].end > b.window.start and leases[name].start < b.window.end])
    title = f"{c.name} on {c.site}: {c.totals.gpus:,} {c.accelerator} GPUs, utilisation {_pct(c.usage.utilisation)}"
    return _figure(title, c.usage.margin, chart(title, c.capacity, layers, b.window, reserved), layers)


def _total_chart(b: Book) -> str:
    by_tenant: dict[tuple[str, bool], list[Lease]] = {}
    for lease in b.plan.plan.leases.values():
        if lease.end <= b.window.start or lease.start >= b.window.end:
            continue
        by_tenant.setdefault((lease.tenant, lease.internal), []).append(lease)
    layers = _layers([(tenant, internal, leased_steps(leases)) for (tenant, internal), leases in by_tenant.items()])
    title = f"All clusters: {b.total.totals.gpus:,} GPUs, utilisation {_pct(b.total.usage.utilisation)}"
    return _figure(title, b.total.usage.margin, chart(title, b.capacity, layers, b.window), layers)


def _cell(index: int, value: str, margin: float) -> str:
    if index == MARGIN and margin < 0:
        return f'<td class="n neg" title="negative margin">\u25bc {_e(value)}</td>'
    return f'<td class="n">{_e(value)}</td>'


def _html_table(table: MonthTable | None) -> str:
    if not table:
        return ""
    head = "".join(f'<th class="n">{m.start:%Y-%m}</th>' for m in table.months)
    rows = "".join(f"<tr><td>{_e(label)}</td>" + "".join(f'<td class="n">{_e(dollars(v))}</td>' for v in values)
                   + "</tr>" for label, values in _table_rows(table))
    return (f"<h2>{_e(_table_title(table))}</h2>"
            f'<div class="wide"><table><thead><tr><th>Provider</th>{head}</tr></thead><tbody>{rows}</tbody></table></div>')


def to_html(b: Book, table: MonthTable | None = None) -> str:
    rows = []
    for depth, label, row in _rows(b):
        cells = "".join(_cell(i, c, row.usage.margin) for i, c in enumerate(_cells(row)))
        rows.append(f'<tr class="d{depth}"><td>{_e(label)}</td>{cells}</tr>')
    months = "".join(f'<tr><td>{m.start:%Y-%m}</td><td class="n">{cap:,}</td><td class="n">{peak:,}</td>'
                     f'<td class="n">{internal:,}</td><td class="n">{_pct(util)}</td></tr>'
                     for m, cap, peak, internal, util in _months(b))
    legend = ('<p class="keys"><span><i class="sw" style="background:#8250df"></i>internal use</span>'
              '<span><i class="sw" style="background:#0969da"></i>leased out (one colour per lease or tenant)</span>'
              '<span><i class="sw" style="border-top:2px dashed #cf222e"></i>capacity</span>'
              '<span><i class="sw" style="background:#2da44e22"></i>reservation window</span>'
              '<span class="neg">\u25bc negative margin</span></p>')
    name = _e(b.plan.name)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Capacity report: {name}</title><style>{_CSS}</style></head><body>",
        f"<h1>Capacity report: {name}</h1>",
        f"<p>{_e(_summary(b))}</p>",
        "<h2>Capacity against internal and leased GPUs</h2>", legend,
        f'<div class="charts">{_total_chart(b)}',
        *(_cluster_chart(b, c) for c in b.clusters.values()),
        "</div>",
        "<h2>By provider, site and cluster</h2>",
        '<div class="wide"><table><thead><tr><th></th>'
        + "".join(f'<th class="n">{_e(h)}</th>' for h in HEADERS) + "</tr></thead>",
        "<tbody>" + "".join(rows) + "</tbody></table></div>",
        "<h2>GPUs by month</h2>",
        '<div class="wide"><table><thead><tr><th>Month</th><th class="n">Capacity</th><th class="n">Peak leased</th>'
        '<th class="n">Peak internal</th><th class="n">Utilisation</th></tr></thead><tbody>'
        + months + "</tbody></table></div>",
        _html_table(table),
        links_section(b.plan),
        f"<p><small>Run-rate: each cluster at full size for 730 hours at its reservation price, its owned site's "
        f"cost per GPU-hour, or the catalog's on-demand price, plus each link's list price "
        f"(catalog as of {_e(b.plan.catalog.as_of)}). "
        f"Utilisation (internal use plus leased, over available), revenue, cost and margin count the window "
        f"{b.window.start} to {b.window.end} ({b.window.hours:,} hours); internal use earns nothing; a cluster on "
        f"a capacity block has its GPUs during the block only. Cost follows dates: a reservation's price inside "
        f"its window, the on-demand price outside it.</small></p>",
        "</body></html>",
        "",
    ])
