"""The owned end's router configuration, against goldens: strongSwan, FRR and the neutral JSON;
keys only when given. Regenerate with CAPACITY_REGOLD=1 and read the diff."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from capacity.review import router

GOLDEN = Path(__file__).resolve().parents[2] / "golden" / "router"
# A VPN from two routers of `dallas` to AWS (two tunnels each), as components/edge.py exports it.
VPN = {
    "kind": "vpn", "owned": "dallas", "cloud": "aws-use1", "provider": "aws", "owned_cidr": "10.40.0.0/16",
    "cloud_cidr": "10.10.0.0/16", "id": "vpn-0abc",
    "sessions": [
        {"edge": "203.0.114.10", "owned_asn": 65010, "owned_inside": "169.254.22.2/30", "cloud_address": "52.0.0.1",
         "cloud_asn": 64512, "cloud_inside": "169.254.22.1"},
        {"edge": "203.0.114.10", "owned_asn": 65010, "owned_inside": "169.254.22.6/30", "cloud_address": "52.0.0.2",
         "cloud_asn": 64512, "cloud_inside": "169.254.22.5"},
        {"edge": "203.0.114.11", "owned_asn": 65010, "owned_inside": "169.254.22.10/30", "cloud_address": "52.0.0.3",
         "cloud_asn": 64512, "cloud_inside": "169.254.22.9"},
        {"edge": "203.0.114.11", "owned_asn": 65010, "owned_inside": "169.254.22.14/30", "cloud_address": "52.0.0.4",
         "cloud_asn": 64512, "cloud_inside": "169.254.22.13"},
    ],
}
INTERCONNECT = {
    "kind": "interconnect", "owned": "dallas", "cloud": "oci-iad", "provider": "oci", "owned_cidr": "10.40.0.0/16",
    "cloud_cidr": "10.50.0.0/16", "id": "ocid1.virtualcircuit", "bandwidth_gbps": 10.0, "location": "Equinix DC2",
    "partner": None, "vlan": 1404,
    "sessions": [{"edge": "203.0.114.10", "owned_asn": 65010, "owned_inside": "169.254.21.2/30", "cloud_address": None,
                  "cloud_asn": 31898, "cloud_inside": "169.254.21.1"}],
}
KEYS = ["Key1aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "Key2bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        "Key3ccccccccccccccccccccccccccccccccccccc", "Key4ddddddddddddddddddddddddddddddddddddd"]


def check(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CAPACITY_REGOLD"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    assert text == path.read_text(), f"{name} differs from its golden"


@pytest.mark.parametrize("policy_based", [False, True])
def test_swanctl_conf_for_each_router(policy_based):
    suffix = "-policy" if policy_based else ""
    for edge in ("203.0.114.10", "203.0.114.11"):
        check(f"vpn-{edge}{suffix}.swanctl.conf", router.swanctl_conf("dallas--aws-use1", VPN, edge, KEYS, policy_based))


def test_frr_conf_for_each_router():
    for edge in ("203.0.114.10", "203.0.114.11"):
        check(f"vpn-{edge}.frr.conf", router.frr_conf("dallas--aws-use1", VPN, edge, KEYS))
    check("interconnect.frr.conf", router.frr_conf("dallas--oci-iad--ic", INTERCONNECT, "203.0.114.10", KEYS[:1]))


def test_neutral_json():
    check("vpn.json", json.dumps(router.neutral("dallas--aws-use1", VPN, KEYS), indent=2) + "\n")
    check("interconnect.json", json.dumps(router.neutral("dallas--oci-iad--ic", INTERCONNECT, KEYS[:1]), indent=2) + "\n")


def test_keys_are_written_only_when_given():
    for shown in (router.text("dallas--aws-use1", VPN), router.text("dallas--oci-iad--ic", INTERCONNECT),
                  json.dumps(router.neutral("dallas--aws-use1", VPN))):
        assert router.HIDDEN in shown
        assert not any(key in shown for key in KEYS)
    shown = router.text("dallas--aws-use1", VPN, KEYS)
    assert all(key in shown for key in KEYS) and router.HIDDEN not in shown


def test_each_router_gets_only_its_own_tunnels():
    first = router.swanctl_conf("dallas--aws-use1", VPN, "203.0.114.10", KEYS)
    assert "52.0.0.1" in first and "52.0.0.2" in first and "52.0.0.3" not in first
    assert KEYS[0] in first and KEYS[2] not in first
    frr = router.frr_conf("dallas--aws-use1", VPN, "203.0.114.11", KEYS)
    assert "neighbor 169.254.22.9 remote-as 64512" in frr and "169.254.22.1 " not in frr
