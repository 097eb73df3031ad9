"""The report's sites and links: a small drawing (sites on a circle, VPNs dashed, interconnects
thick) and a table of the links with their monthly list price. The drawing's box is 360 units
wide and never drawn wider than 560 px, so its 13-unit text reads at 11 px or more from a
375 px phone to a desktop."""

from __future__ import annotations

import html
import math

from capacity.plan.loading import LoadedPlan
from capacity.review.link_costs import link_costs
from capacity.words import inert

WIDTH, HEIGHT, RADIUS = 360, 300, 105
COLOURS = {"aws": "#d4760a", "azure": "#0969da", "gcp": "#1a7f37", "oci": "#cf222e", "owned": "#57606a"}


def _e(value: object) -> str:
    return html.escape(inert(value), quote=True)


def _places(names: list[str]) -> dict[str, tuple[float, float]]:
    centre_x, centre_y = WIDTH / 2, HEIGHT / 2
    if len(names) == 1:
        return {names[0]: (centre_x, centre_y)}
    step = 2 * math.pi / len(names)
    return {name: (centre_x + RADIUS * math.cos(i * step - math.pi / 2),
                   centre_y + RADIUS * math.sin(i * step - math.pi / 2)) for i, name in enumerate(names)}


def drawing(loaded: LoadedPlan) -> str:
    sites = loaded.plan.sites
    names = sorted(sites, key=lambda n: (sites[n].provider != "owned", sites[n].provider, n))
    at = _places(names)
    parts = [f'<svg class="topology" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
             f'aria-label="Sites and links of plan {_e(loaded.name)}">']
    pairs: dict[frozenset[str], int] = {}
    for link in loaded.plan.links:
        a, b = link.between
        if a not in at or b not in at:
            continue
        offset = 4 * pairs.get(frozenset(link.between), 0)  # a VPN beside an interconnect
        pairs[frozenset(link.between)] = pairs.get(frozenset(link.between), 0) + 1
        (x1, y1), (x2, y2) = at[a], at[b]
        style = ('stroke-width="4"' if link.kind == "interconnect" else 'stroke-width="1.5" stroke-dasharray="5 3"')
        parts.append(f'<line x1="{x1 + offset:.1f}" y1="{y1 + offset:.1f}" x2="{x2 + offset:.1f}" '
                     f'y2="{y2 + offset:.1f}" stroke="#57606a" {style}><title>{_e(link.name)} ({link.kind})</title></line>')
    for name in names:
        x, y = at[name]
        provider = sites[name].provider
        colour = COLOURS.get(provider, "#57606a")
        mark = (f'<rect x="{x - 8:.1f}" y="{y - 8:.1f}" width="16" height="16" fill="{colour}"/>' if provider == "owned"
                else f'<circle cx="{x:.1f}" cy="{y:.1f}" r="8" fill="{colour}"/>')
        below = y >= HEIGHT / 2
        anchor = "middle" if abs(x - WIDTH / 2) < 20 else ("start" if x > WIDTH / 2 else "end")
        tx = x + (0 if anchor == "middle" else (11 if anchor == "start" else -11))
        ty = y + (24 if below and anchor == "middle" else -14 if anchor == "middle" else 4)
        parts.append(f'{mark}<text x="{tx:.1f}" y="{ty:.1f}" font-size="13" text-anchor="{anchor}">'
                     f'{_e(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def links_section(loaded: LoadedPlan) -> str:
    """The report's "Sites and links" section; empty for a plan without links."""
    if not loaded.plan.links:
        return ""
    costs: dict[str, float] = {}
    for cost in link_costs(loaded):
        costs[cost.name] = costs.get(cost.name, 0.0) + cost.monthly
    arrow = " \u2194 "
    rows = "".join(
        f"<tr><td>{_e(link.name)}</td><td>{link.kind}</td><td>{_e(arrow.join(link.between))}</td>"
        f"<td class=\"n\">{f'{link.bandwidth_gbps:g} Gbps' if link.bandwidth_gbps else '-'}</td>"
        f"<td class=\"n\">${costs.get(link.name, 0.0):,.0f}</td></tr>" for link in loaded.plan.links)
    legend = ('<p class="keys"><span><i class="sw" style="border-top:2px dashed #57606a"></i>VPN</span>'
              '<span><i class="sw" style="border-top:4px solid #57606a"></i>interconnect</span>'
              '<span><i class="sw" style="background:#57606a"></i>owned site (square)</span>'
              + "".join(f'<span><i class="sw" style="background:{c};border-radius:50%"></i>{p}</span>'
                        for p, c in COLOURS.items() if p != "owned") + "</p>")
    return "\n".join([
        "<h2>Sites and links</h2>", legend,
        f'<div class="topo">{drawing(loaded)}</div>',
        '<div class="wide"><table><thead><tr><th>Link</th><th>Kind</th><th>Between</th><th class="n">Speed</th>'
        '<th class="n">List price / month</th></tr></thead><tbody>' + rows + "</tbody></table></div>",
    ])
