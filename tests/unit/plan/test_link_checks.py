"""Owned gateways and links, with hostile values: exit 1, the line, the path, a sentence that says how."""

from __future__ import annotations

from pathlib import Path

import pytest

from capacity.errors import PlanError
from capacity.plan.loading import load_text

PLAN = (Path(__file__).parents[1] / "plans" / "owned-links.yaml").read_text()


def problems(text: str) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_text(text, "plan.yaml")
    return [str(p) for p in caught.value.problems]


def edit(old: str, new: str) -> str:
    assert old in PLAN, old
    return PLAN.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_plan_with_every_kind_of_owned_link_is_valid():
    loaded = load_text(PLAN, "plan.yaml")
    assert [link.name for link in loaded.plan.links][-4:] == [
        "dallas--aws-use1--ic", "dallas--azure-eus2--ic", "dallas--gcp-usc1--ic", "dallas--oci-iad--ic"]
    assert [g.public_ip for g in loaded.plan.sites["dallas"].network.edges] == ["203.0.114.10", "203.0.114.11"]


@pytest.mark.parametrize("address,words", [
    ("10.1.2.3", ["private (RFC 1918)"]), ("192.168.0.1", ["private (RFC 1918)"]),
    ("127.0.0.1", ["reserved or non-routable"]), ("100.64.0.1", ["reserved or non-routable"]),
    ("192.0.2.20", ["reserved or non-routable"]), ("224.0.0.5", ["reserved or non-routable"]),
    ("0.0.0.0", ["reserved or non-routable"]), ("203.0.1145", ["not an IPv4 address"]),
])
def test_a_gateway_address_the_clouds_cannot_reach_is_refused(address, words):
    text = edit("203.0.114.20", address)
    found = problems(text)
    assert len(found) == 1
    assert f"plan.yaml:{line_of(text, address)}:" in found[0]
    assert "sites.austin.network.gateway.public_ip" in found[0] and "To fix" in found[0]
    assert all(w in found[0] for w in words), found[0]


@pytest.mark.parametrize("asn,words", [
    ("0", ["reserved", "cannot be used"]), ("23456", ["reserved", "AS_TRANS"]), ("65535", ["reserved"]),
    ("4294967295", ["reserved"]), ("64500", ["reserved"]), ("15169", ["public ASN", "public_asn: true"]),
    ("65515", ["Microsoft Azure's own side", "drop the routes"]), ("64512", ["Amazon Web Services"]),
    ("31898", ["Oracle"]), ("-1", ["at least 0"]), ("4294967296", ["4,294,967,295"]),
])
def test_an_asn_bgp_cannot_use_is_refused(asn, words):
    text = edit("asn: 4200000020", f"asn: {asn}")
    if asn == "31898":
        text = text.replace(f"asn: {asn}", f"asn: {asn}, public_asn: true")
    found = problems(text)
    assert len(found) == 1 and "sites.austin.network.gateway" in found[0]
    assert all(w in found[0] for w in words), found[0]


def test_a_public_asn_is_taken_when_the_plan_says_so():
    load_text(edit("asn: 4200000020", "asn: 15169, public_asn: true"), "plan.yaml")


def test_an_owned_end_without_a_gateway_says_how_to_add_one():
    text = edit("      gateway: {public_ip: 203.0.114.20, asn: 4200000020}\n", "")
    found = problems(text)
    assert len(found) == 1 and "site 'austin'" in found[0] and "network.gateway: {public_ip, asn}" in found[0]


@pytest.mark.parametrize("old,new,words", [
    ("bandwidth_gbps: 10, location: EqDC2", "bandwidth_gbps: 40, location: EqDC2",
     ["does not offer 40 Gbps", "1, 10, 100, 400", "provider_partner"]),
    ("bandwidth_gbps: 1, location: Washington DC", "bandwidth_gbps: 3, location: Washington DC",
     ["through a partner", "0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10"]),
    ("bandwidth_gbps: 10, location: dfw", "bandwidth_gbps: 100.5, location: dfw", ["Did you mean '100'"]),
])
def test_a_bandwidth_the_cloud_does_not_sell_is_refused(old, new, words):
    found = problems(edit(old, new))
    assert len(found) == 1 and ".bandwidth_gbps" in found[0]
    assert all(w in found[0] for w in words), found[0]


def test_interconnect_fields_belong_to_interconnects():
    found = problems(edit("  - between: [dallas, austin]\n", "  - {between: [dallas, austin], location: x}\n"))
    assert "are for `kind: interconnect`" in found[0]
    found = problems(edit("bandwidth_gbps: 10, location: EqDC2", "location: EqDC2"))
    assert "needs `bandwidth_gbps` and `location`" in found[0]


def test_an_interconnect_between_two_clouds_or_two_owned_sites_is_refused():
    found = problems(edit("  - between: [dallas, austin]\n",
                          "  - {between: [dallas, austin], kind: interconnect, bandwidth_gbps: 10, location: x}\n"))
    assert len(found) == 1 and "joins an owned site to a cloud site" in found[0]


def test_aws_to_oci_vpn_says_how_to_connect_them():
    found = problems(edit("  - between: [dallas, austin]\n", "  - between: [aws-use1, oci-iad]\n"))
    assert len(found) == 1
    assert "not supported" in found[0] and "through" not in found[0].split("To fix")[0]
    assert "owned site" in found[0].split("To fix")[1] and "interconnects" in found[0]


def test_overlapping_networks_of_linked_sites_name_both_sites_and_lines():
    text = edit("cidr: 10.41.0.0/16", "cidr: 10.40.128.0/17")
    found = problems(text)
    assert len(found) == 1
    assert "overlap" in found[0] and "'austin'" in found[0] and "'dallas'" in found[0]
    assert f"plan.yaml:{line_of(text, '10.40.128.0/17')}:" in found[0]
    assert f"(line {line_of(text, 'cidr: 10.40.0.0/16')})" in found[0]


def test_at_most_32_links_to_owned_routers():
    sites = "".join(f"  dc{i}:\n    provider: owned\n    location: x\n    power_mw: 1\n    cost_per_gpu_hour: 1.0\n"
                    f"    network: {{cidr: 10.{100 + i}.0.0/16, gateway: {{public_ip: 203.0.115.{i + 1}, asn: 65010}}}}\n"
                    for i in range(33))
    links = "".join(f"  - between: [dc{i}, aws-use1]\n" for i in range(33))
    text = PLAN.replace("sites:\n", "sites:\n" + sites, 1).replace("links:\n", "links:\n" + links, 1)
    found = problems(text)
    assert len(found) == 1 and "links[32]" in found[0] and "at most 32" in found[0]
