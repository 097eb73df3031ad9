"""`capacity report`: a plan's GPUs, money and lease book, as text, markdown, JSON or one HTML file.

Figures come from capacity.economics; this module only lays them out. The HTML is self-contained
(inline CSS and SVG, no script, no CDN) and escapes every string taken from the plan.
"""

from __future__ import annotations

import datetime as dt
import html
from typing import Iterable

from capacity.diff import compact_money
from capacity.economics import Book, ClusterBook, GroupBook, Steps, Window
from capacity.words import count

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


def _money(value: float) -> str:
    return f"-${-value:,.0f}" if value < 0 else f"${value:,.0f}"


def _cells(row: GroupBook | ClusterBook) -> list[str]:
    t, u = row.totals, row.usage
    return [f"{t.gpus:,}", _money(t.monthly_cost), _money(t.lease_value), _pct(u.utilisation),
            _money(u.revenue), _money(u.cost), _money(u.margin)]


HEADERS = ["GPUs", "Run-rate / month", "Lease value (whole terms)", "Utilisation", "Revenue", "Cost", "Margin"]


def _months(b: Book) -> list[tuple[Window, int, int, float]]:
    """(month, most GPUs, most GPUs leased, utilisation) for each month of the window."""
    out = []
    for month in b.window.months():
        available = b.capacity.gpu_hours(month)
        leased = b.steps.gpu_hours(month)
        out.append((month, b.capacity.peak(month), b.steps.peak(month), leased / available if available else 0.0))
    return out


def _summary(b: Book) -> str:
    t, u = b.total.totals, b.total.usage
    return (f"{count(t.gpus, 'GPU')} in {count(len(b.sites), 'site')} and {count(len(b.clusters), 'cluster')}; run-rate "
            f"{compact_money(t.monthly_cost)}/month; {count(len(b.plan.plan.leases), 'lease')} worth "
            f"{compact_money(t.lease_value)} over their terms. From {b.window.start} to {b.window.end}: "
            f"utilisation {_pct(u.utilisation)}, revenue {compact_money(u.revenue)}, cost {compact_money(u.cost)}, "
            f"margin {compact_money(u.margin)}.")


# ------------------------------------------------------------------ JSON


def _figures_json(row: GroupBook | ClusterBook) -> dict:
    t, u = row.totals, row.usage
    return {"gpus": t.gpus, "monthly_cost": round(t.monthly_cost, 2), "lease_value": round(t.lease_value, 2),
            "available_gpu_hours": u.available_gpu_hours, "leased_gpu_hours": u.leased_gpu_hours,
            "utilisation": round(u.utilisation, 6), "revenue": round(u.revenue, 2), "cost": round(u.cost, 2),
            "margin": round(u.margin, 2)}


def _steps_json(steps: Steps, window: Window) -> list[dict]:
    return [{"from": start.isoformat(), "until": end.isoformat(), "gpus": gpus}
            for start, end, gpus in steps.pieces(window)]


def as_json(b: Book, source: str) -> dict:
    plan = b.plan.plan
    return {
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
                     "leased_gpus": _steps_json(c.steps, b.window)}
            for c in b.clusters.values()},
        "leased_gpus": _steps_json(b.steps, b.window),
        "months": [{"month": m.start.strftime("%Y-%m"), "capacity": cap, "leased_peak": peak,
                    "utilisation": round(util, 6)} for m, cap, peak, util in _months(b)],
    }


# ------------------------------------------------------------------ text and markdown


def text(b: Book) -> str:
    out = [f"{b.plan.name}: {_summary(b)}", ""]
    labels = [("  " * depth) + label for depth, label, _ in _rows(b)]
    width = max(len(label) for label in labels)
    short = ["GPUs", "run-rate/mo", "lease value", "util.", "revenue", "cost", "margin"]
    out.append(f"{'':{width}}  " + "  ".join(f"{h:>14}" for h in short))
    for label, (_, _, row) in zip(labels, _rows(b)):
        out.append(f"{label:{width}}  " + "  ".join(f"{c:>14}" for c in _cells(row)))
    unpriced = [c.name for c in b.clusters.values() if c.price.per_gpu_hour is None]
    if unpriced:
        out.append(f"No price for {', '.join(unpriced)}: counted at $0.")
    out += ["", "Leased GPUs by month (capacity, peak leased, utilisation)"]
    for month, capacity, peak, util in _months(b):
        out.append(f"  {month.start:%Y-%m}  {capacity:>10,}  {peak:>10,}  {_pct(util):>7}")
    return "\n".join(out) + "\n"


def _md(value: str) -> str:
    return html.escape(" ".join(value.split())).replace("|", "\\|").replace("@", "@&#8203;")


def markdown(b: Book) -> str:
    out = [f"### Capacity report: `{b.plan.name}`", "", _md(_summary(b)), "",
           "| Provider / site / cluster | " + " | ".join(HEADERS) + " |",
           "|---|" + "---:|" * len(HEADERS)]
    for depth, label, row in _rows(b):
        name = f"**{_md(label)}**" if depth == 0 else "\u2003" * depth + f"`{label}`"
        out.append(f"| {name} | " + " | ".join(_cells(row)) + " |")
    out += ["", "#### Leased GPUs by month", "",
            "| Month | Capacity | Peak leased | Utilisation |", "|---|---:|---:|---:|"]
    for month, capacity, peak, util in _months(b):
        out.append(f"| {month.start:%Y-%m} | {capacity:,} | {peak:,} | {_pct(util)} |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ HTML with inline SVG charts

CHART_W, CHART_H = 720, 220
PAD_L, PAD_R, PAD_T, PAD_B = 64, 16, 14, 40

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:2rem auto;max-width:1100px;
color:#1b1f24;padding:0 1rem}
h1{font-size:1.5rem;margin-bottom:.2rem}h2{font-size:1.15rem;margin-top:2rem}
table{border-collapse:collapse;width:100%;margin:1rem 0}th,td{padding:.3rem .55rem;border-bottom:1px solid #d8dee4}
th{text-align:left;background:#f6f8fa}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
tr.d0 td{font-weight:600}tr.d1 td:first-child{padding-left:1.4rem}
tr.d2 td:first-child{padding-left:2.6rem;color:#57606a}
.charts{display:grid;grid-template-columns:repeat(auto-fill,minmax(520px,1fr));gap:1.2rem}
figure{margin:0;border:1px solid #d8dee4;border-radius:6px;padding:.6rem}figcaption{font-weight:600;margin-bottom:.3rem}
svg{width:100%;height:auto}.cap{stroke:#cf222e;stroke-width:2;stroke-dasharray:6 4;fill:none}
.leased{fill:#0969da;fill-opacity:.28;stroke:#0969da;stroke-width:1.5}.res{fill:#2da44e;fill-opacity:.10}
.axis{stroke:#8c959f;stroke-width:1}.grid{stroke:#eaeef2;stroke-width:1}text{font-size:11px;fill:#57606a}
.legend span{display:inline-block;margin-right:1rem}
.sw{display:inline-block;width:14px;height:10px;margin-right:4px;vertical-align:middle}
"""


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _stepped(steps: Steps, window: Window, x, y) -> list[str]:
    points = []
    for start, end, gpus in steps.pieces(window):
        points += [f"{x(start)},{y(gpus)}", f"{x(end)},{y(gpus)}"]
    return points


def chart(title: str, capacity: Steps, steps: Steps, window: Window,
          reserved: tuple[dt.date, dt.date] | None = None) -> str:
    """An inline SVG: the leased GPUs as a stepped area under the capacity line, over the window."""
    days = max((window.end - window.start).days, 1)
    most = capacity.peak(window)
    top = max(most, steps.peak(window), 1) * 1.1
    inner_w, inner_h = CHART_W - PAD_L - PAD_R, CHART_H - PAD_T - PAD_B

    def x(day: dt.date) -> float:
        return round(PAD_L + inner_w * (min(max(day, window.start), window.end) - window.start).days / days, 1)

    def y(gpus: float) -> float:
        return round(PAD_T + inner_h * (1 - gpus / top), 1)

    base = y(0)
    points = [f"{x(window.start)},{base}", *_stepped(steps, window, x, y), f"{x(window.end)},{base}"]
    parts = [f'<svg viewBox="0 0 {CHART_W} {CHART_H}" role="img" aria-label="{_e(title)}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{_e(title)}</title>']
    for tick in sorted({0, most // 2, most}):
        parts.append(f'<line class="grid" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{y(tick)}" y2="{y(tick)}"/>'
                     f'<text x="{PAD_L - 6}" y="{y(tick) + 4}" text-anchor="end">{tick:,}</text>')
    if reserved:
        start, end = reserved
        parts.append(f'<rect class="res" x="{x(start)}" y="{PAD_T}" width="{round(x(end) - x(start), 1)}" '
                     f'height="{inner_h}"><title>reserved {_e(start)} to {_e(end)}</title></rect>')
    parts.append(f'<polygon class="leased" points="{" ".join(points)}"><title>leased GPUs</title></polygon>')
    parts.append(f'<polyline class="cap" points="{" ".join(_stepped(capacity, window, x, y))}">'
                 f'<title>capacity, up to {count(most, "GPU")}</title></polyline>')
    parts.append(f'<line class="axis" x1="{PAD_L}" x2="{CHART_W - PAD_R}" y1="{base}" y2="{base}"/>')
    months = window.months()
    every = max(1, -(-len(months) // 12))
    for month in months[::every]:
        parts.append(f'<line class="axis" x1="{x(month.start)}" x2="{x(month.start)}" y1="{base}" y2="{base + 4}"/>'
                     f'<text x="{x(month.start)}" y="{base + 18}" text-anchor="middle">{month.start:%Y-%m}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _cluster_chart(b: Book, c: ClusterBook) -> str:
    spec = b.plan.plan.clusters[c.name].reservation
    reserved = None
    if spec is not None and spec.kind != "none":
        reserved = (spec.start or b.window.start, spec.end or b.window.end)
    title = f"{c.name} on {c.site}: {c.totals.gpus:,} {c.accelerator} GPUs, utilisation {_pct(c.usage.utilisation)}"
    return (f"<figure><figcaption>{_e(title)}</figcaption>"
            f"{chart(title, c.capacity, c.steps, b.window, reserved)}</figure>")


def to_html(b: Book) -> str:
    rows = []
    for depth, label, row in _rows(b):
        cells = "".join(f'<td class="n">{_e(c)}</td>' for c in _cells(row))
        rows.append(f'<tr class="d{depth}"><td>{_e(label)}</td>{cells}</tr>')
    months = "".join(f'<tr><td>{m.start:%Y-%m}</td><td class="n">{cap:,}</td><td class="n">{peak:,}</td>'
                     f'<td class="n">{_pct(util)}</td></tr>' for m, cap, peak, util in _months(b))
    total_title = f"All clusters: {count(b.total.totals.gpus, 'GPU')}, utilisation {_pct(b.total.usage.utilisation)}"
    legend = ('<p class="legend"><span><i class="sw" style="background:#0969da55"></i>leased GPUs</span>'
              '<span><i class="sw" style="border-top:2px dashed #cf222e"></i>capacity</span>'
              '<span><i class="sw" style="background:#2da44e22"></i>reservation window</span></p>')
    name = _e(b.plan.name)
    return "\n".join([
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>Capacity report: {name}</title><style>{_CSS}</style></head><body>",
        f"<h1>Capacity report: {name}</h1>",
        f"<p>{_e(_summary(b))}</p>",
        "<h2>Capacity against leased GPUs</h2>", legend,
        f'<div class="charts"><figure><figcaption>{_e(total_title)}</figcaption>'
        f"{chart(total_title, b.capacity, b.steps, b.window)}</figure>",
        *(_cluster_chart(b, c) for c in b.clusters.values()),
        "</div>",
        "<h2>By provider, site and cluster</h2>",
        "<table><thead><tr><th></th>" + "".join(f'<th class="n">{_e(h)}</th>' for h in HEADERS) + "</tr></thead>",
        "<tbody>" + "".join(rows) + "</tbody></table>",
        "<h2>Leased GPUs by month</h2>",
        '<table><thead><tr><th>Month</th><th class="n">Capacity</th><th class="n">Peak leased</th>'
        '<th class="n">Utilisation</th></tr></thead><tbody>' + months + "</tbody></table>",
        f"<p><small>Run-rate: each cluster at full size for 730 hours at its reservation price, its owned site's "
        f"cost per GPU-hour, or the catalog's on-demand price (catalog as of {_e(b.plan.catalog.as_of)}). "
        f"Utilisation, revenue, cost and margin count the window {b.window.start} to {b.window.end} "
        f"({b.window.hours:,} hours); a cluster on a capacity block has its GPUs during the block only.</small></p>",
        "</body></html>",
        "",
    ])
