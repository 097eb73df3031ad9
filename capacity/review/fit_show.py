"""`available` and `fit` as text for a terminal and as markdown for a pull-request comment.

Plan text is made inert (`markdown.md`); the markdown stays well under a GitHub comment's 65,536
bytes by listing at most MAX_ROWS rows per table and saying how many it left out.
"""

from __future__ import annotations

from capacity.review.available import Available, SiteRoom
from capacity.review.fit import Fit, Option
from capacity.review.markdown import md
from capacity.review.timeline import Span
from capacity.words import count, inert

MAX_ROWS = 60
MAX_STEPS = 12


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{'-' if round(value) < 0 else ''}${abs(value):,.0f}"


def _steps(free: list[Span], limit: int = MAX_STEPS) -> str:
    parts = [f"{s.start}..{s.end}: {s.gpus}" for s in free[:limit]]
    if len(free) > limit:
        parts.append(f"... {len(free) - limit} more")
    return "; ".join(parts)


def _room(room: SiteRoom) -> str:
    spare = "no inventory file" if room.spare is None else \
        (", ".join(f"{n} {model}" for model, n in room.spare.items()) or "none") + " spare"
    return f"{spare}; power {room.draw_kw:,.1f} of {room.power_kw:,.1f} kW used, {room.headroom_kw:,.1f} kW free"


# ------------------------------------------------------------------ available


def available_text(a: Available) -> str:
    lines = [f"Free GPUs from {a.start} to {a.end} (end exclusive):", ""]
    if not a.clusters:
        lines.append("  no cluster matches.")
    for c in a.clusters:
        lines.append(inert(f"{c.name}  {c.site} ({c.provider})  {c.instance_type} ({c.accelerator})  {c.gpus} GPUs"))
        for s in c.free:
            lines.append(f"    {s.start} .. {s.end}  {s.gpus:>7,} free")
    if a.sites:
        lines += ["", "Owned sites:"]
        lines += [inert(f"  {r.name}: {_room(r)}") for r in a.sites]
    return "\n".join(lines) + "\n"


def available_markdown(a: Available) -> str:
    out = [f"### Free GPUs, {a.start} to {a.end}", "",
           "| cluster | site | type | GPUs | free (from..to: GPUs) |", "| --- | --- | --- | ---: | --- |"]
    for c in a.clusters[:MAX_ROWS]:
        out.append(f"| {md(c.name)} | {md(c.site)} ({c.provider}) | {md(c.instance_type)} ({md(c.accelerator)}) "
                   f"| {c.gpus:,} | {_steps(c.free)} |")
    if len(a.clusters) > MAX_ROWS:
        out.append(f"\n{count(len(a.clusters) - MAX_ROWS, 'more cluster')} left out (`--format json` lists all).")
    if a.sites:
        out += ["", "**Owned sites**", ""] + [f"- {md(r.name)}: {md(_room(r))}" for r in a.sites]
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------ fit


def _demand(f: Fit) -> str:
    d = f.demand
    what = d.instance_type or d.accelerator
    price = f" at ${d.price:,.2f}/GPU-hour" if d.price is not None else ""
    return f"{d.gpus:,} {what} GPUs ({d.isolation}) from {d.start} to {d.end}{price}"


def _where(o: Option) -> str:
    reservation = o.reservation["kind"] if o.reservation else ("on-demand" if o.kind == "new" else "")
    added = f" +{o.added_nodes} nodes" if o.kind == "grow" else ""
    return f"{o.cluster}{added} at {o.site} ({o.provider}{', ' + reservation if reservation else ''})"


def _instead(f: Fit) -> list[str]:
    if not f.instead:
        return []
    near, share = f.instead.get("nearest_window"), f.instead.get("largest_share")
    lines = []
    if near:
        lines.append(f"The nearest window that fits: cluster {near['cluster']} from {near['start']} to {near['end']}.")
    if share:
        lines.append(f"The largest share for the whole window: {share['gpus']:,} GPUs on cluster {share['cluster']}.")
    return lines or ["No cluster of the plan has any of it free, then or later."]


def fit_text(f: Fit, top: int) -> str:
    lines = [inert(f"Where {_demand(f)} fits:"), ""]
    if not f.options:
        lines.append("Nothing fits.")
        lines += _instead(f)
    for o in f.options[:top]:
        lines.append(inert(f"{o.rank:>3}. {o.kind:<8} {_where(o)}  {o.instance_type} x{o.nodes}  "
                           f"cost {_money(o.cost)} ({o.covers[0]}..{o.covers[1]})  "
                           f"revenue {_money(o.revenue)}  margin {_money(o.margin)}"))
        lines += [inert(f"          - {note}") for note in o.notes]
    if len(f.options) > top:
        lines.append(f"     ... {count(len(f.options) - top, 'more option')} (--top)")
    if f.refused:
        lines += ["", "Did not fit as they are:"]
        lines += [inert(f"  {r.cluster}: {r.why}") for r in f.refused[:MAX_ROWS]]
        if len(f.refused) > MAX_ROWS:
            lines.append(f"  ... {count(len(f.refused) - MAX_ROWS, 'more cluster')} (--format json lists all)")
    return "\n".join(lines) + "\n"


def fit_markdown(f: Fit, top: int) -> str:
    out = [f"### Where {md(_demand(f))} fits", ""]
    if not f.options:
        out += ["**Nothing fits.** " + " ".join(md(line) for line in _instead(f)), ""]
    else:
        out += ["| # | kind | where | type x nodes | cost | covers | revenue | margin | notes |",
                "| ---: | --- | --- | --- | ---: | --- | ---: | ---: | --- |"]
        for o in f.options[:min(top, MAX_ROWS)]:
            out.append(f"| {o.rank} | {o.kind} | {md(_where(o))} | {md(o.instance_type)} x{o.nodes} | "
                       f"{_money(o.cost)} | {o.covers[0]}..{o.covers[1]} | {_money(o.revenue)} | "
                       f"{_money(o.margin)} | {md('; '.join(o.notes))} |")
        if len(f.options) > top:
            out.append(f"\n{count(len(f.options) - top, 'more option')} not shown (`--top`).")
    if f.refused:
        out += ["", f"<details><summary>{count(len(f.refused), 'cluster')} of it did not fit as they are</summary>",
                ""]
        out += [f"- {md(r.cluster)}: {md(r.why)}" for r in f.refused[:MAX_ROWS]]
        if len(f.refused) > MAX_ROWS:
            out.append(f"- ... {count(len(f.refused) - MAX_ROWS, 'more cluster')} (`--format json` lists all)")
        out += ["", "</details>"]
    return "\n".join(out) + "\n"
