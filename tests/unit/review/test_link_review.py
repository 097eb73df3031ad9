"""Links in the review: their list prices in the run-rate (hand-checked), and the risk of removing
a site's only path to the clusters its leases run on."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from capacity.plan.loading import load_text
from capacity.review.diff import diff_plans
from capacity.review.link_costs import link_costs, monthly_total

PLAN = (Path(__file__).parents[1] / "plans" / "owned-links.yaml").read_text()
LEASED = PLAN + """
clusters:
  train-a:
    site: aws-use1
    instance_type: p5.48xlarge
    nodes: 2
leases:
  lab:
    tenant: research
    cluster: train-a
    gpus: 8
    start: 2026-12-01
    end: 2027-06-01
    internal: true
"""
AS_OF = dt.date(2027, 1, 15)


def loaded(text: str):
    return load_text(text, "plan.yaml")


def without(text: str, line: str) -> str:
    assert line in text, line
    return text.replace(line, "", 1)


def test_link_prices_by_hand():
    costs = {(c.name, c.site): round(c.monthly, 2) for c in link_costs(loaded(PLAN))}
    assert costs == {
        ("dallas--aws-use1", "aws-use1"): 0.05 * 730,             # one VPN connection (two tunnels)
        ("dallas--azure-eus2", "azure-eus2"): 0.0,                # included with the VPN gateway
        ("dallas--gcp-usc1", "gcp-usc1"): round(0.10 * 730, 2),   # two HA VPN tunnels
        ("dallas--oci-iad", "oci-iad"): 0.0,                      # OCI's VPN is free
        ("dallas--aws-use1--ic", "aws-use1"): 2.25 * 730,         # 10G dedicated Direct Connect port
        ("dallas--azure-eus2--ic", "azure-eus2"): round(0.597 * 730, 2),  # 1G ExpressRoute circuit ($436/month)
        ("dallas--gcp-usc1--ic", "gcp-usc1"): round(2.328 * 730, 2),      # 10G Dedicated Interconnect + VLAN
        ("dallas--oci-iad--ic", "oci-iad"): round(1.275 * 730, 2),        # 10G FastConnect through a partner
    }
    # The owned-to-owned WAN link costs nothing here; the total is 6.60 an hour.
    assert monthly_total(loaded(PLAN)) == pytest.approx(6.60 * 730)


def test_link_costs_are_in_the_diff_run_rate():
    base, head = loaded(LEASED), loaded(without(LEASED, "  - {between: [dallas, aws-use1], kind: interconnect, "
                                                       "bandwidth_gbps: 10, location: EqDC2}\n"))
    found = diff_plans(base, head, AS_OF)
    assert found.total.monthly_cost.delta == pytest.approx(-2.25 * 730)
    assert found.sites["aws-use1"].monthly_cost.delta == pytest.approx(-2.25 * 730)
    assert found.providers["aws"].monthly_cost.delta == pytest.approx(-2.25 * 730)
    # The VPN still joins dallas and aws-use1: no path is lost.
    assert not [r for r in found.risks if r.kind == "only-path-removed"]


def test_removing_the_only_path_to_leased_clusters_is_a_high_risk():
    head = without(without(LEASED, "  - between: [dallas, aws-use1]\n"),
                   "  - {between: [dallas, aws-use1], kind: interconnect, bandwidth_gbps: 10, location: EqDC2}\n")
    found = [r for r in diff_plans(loaded(LEASED), loaded(head), AS_OF).risks if r.kind == "only-path-removed"]
    assert len(found) == 2 and {r.level for r in found} == {"high"}
    assert {r.name for r in found} == {"dallas--aws-use1", "dallas--aws-use1--ic"}
    assert all("aws-use1 (lab)" in r.message and "no path between them" in r.message for r in found)


def test_a_path_through_another_site_keeps_the_clusters_reachable():
    linked = LEASED.replace("  - between: [dallas, austin]\n", "  - between: [dallas, austin]\n"
                            "  - between: [austin, aws-use1]\n")
    head = without(without(linked, "  - between: [dallas, aws-use1]\n"),
                   "  - {between: [dallas, aws-use1], kind: interconnect, bandwidth_gbps: 10, location: EqDC2}\n")
    assert not [r for r in diff_plans(loaded(linked), loaded(head), AS_OF).risks if r.kind == "only-path-removed"]


def test_a_faster_interconnect_is_a_change_with_its_price():
    head = LEASED.replace("bandwidth_gbps: 10, location: EqDC2", "bandwidth_gbps: 100, location: EqDC2")
    found = diff_plans(loaded(LEASED), loaded(head), AS_OF)
    (change,) = [c for c in found.changes if c.object == "link"]
    assert change.name == "dallas--aws-use1--ic" and change.detail == "bandwidth_gbps: 10 -> 100"
    # a 100G Direct Connect port at $22.50 an hour instead of a 10G one at $2.25
    assert found.total.monthly_cost.delta == pytest.approx((22.50 - 2.25) * 730)
