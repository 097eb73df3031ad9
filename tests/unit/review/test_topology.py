"""The report's sites and links: a drawing with a line per link (interconnects thick) and a mark per
site, a table with each link's monthly list price; nothing for a plan without links."""

from __future__ import annotations

import re
from pathlib import Path

from capacity.plan.loading import load_text
from capacity.review.topology import drawing, links_section

PLAN = (Path(__file__).parents[1] / "plans" / "owned-links.yaml").read_text()


def test_a_line_per_link_and_a_mark_per_site():
    svg = drawing(load_text(PLAN, "plan.yaml"))
    lines = re.findall(r"<line [^>]*>", svg)
    assert len(lines) == 9 and sum('stroke-width="4"' in line for line in lines) == 4
    assert svg.count("<rect ") == 2 and svg.count("<circle ") == 4  # owned sites square, clouds round
    assert all(f">{name}</text>" in svg for name in ("dallas", "austin", "aws-use1", "oci-iad"))


def test_the_table_prices_each_link_by_the_month():
    section = links_section(load_text(PLAN, "plan.yaml"))
    assert "<td>dallas--aws-use1--ic</td><td>interconnect</td>" in section
    assert '<td class="n">10 Gbps</td><td class="n">$1,642</td>' in section  # $2.25 x 730 = $1,642.50
    assert '<td class="n">$73</td>' in section  # GCP's two HA VPN tunnels, $0.10 x 730


def test_no_links_no_section():
    lone = PLAN[:PLAN.index("links:")]
    assert links_section(load_text(lone, "plan.yaml")) == ""
