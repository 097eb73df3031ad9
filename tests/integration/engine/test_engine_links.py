"""A link between two owned sites through the real engine: `up` generates its key (a secret in the
state), `status` lists the link, `status --link` hands over both routers' configuration with the
key hidden, and shows it only with --show-secrets. The same key on every later run."""

from __future__ import annotations

import json
import os

import pytest

from capacity.review.router import HIDDEN

PLAN = """\
apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: wan-links}
sites:
  dallas:
    provider: owned
    location: Dallas, TX
    power_mw: 10
    cost_per_gpu_hour: 1.0
    inventory: dallas.csv
    network:
      cidr: 10.40.0.0/16
      gateway: {public_ip: 203.0.114.10, asn: 65010}
  austin:
    provider: owned
    location: Austin, TX
    power_mw: 10
    cost_per_gpu_hour: 1.0
    inventory: austin.csv
    network:
      cidr: 10.41.0.0/16
      gateway: {public_ip: 203.0.114.20, asn: 65020}
links:
  - between: [dallas, austin]
"""


def write_plan(folder) -> object:
    """The plan and the one-node inventories its owned sites need."""
    for site in ("dallas", "austin"):
        (folder / f"{site}.csv").write_text(f"serial,rack,model,gpus,kw\n{site.upper()}-1,r01,hgx-h100,8,10.2\n")
    plan = folder / "wan.yaml"
    plan.write_text(PLAN)
    return plan


def test_owned_link_configuration_after_up(capacity, tmp_path):
    plan = write_plan(tmp_path)
    capacity("up", plan, "--yes")

    status = json.loads(capacity("status", plan, "--format", "json").stdout)
    (row,) = status["links"]
    assert row["name"] == "dallas--austin" and row["kind"] == "vpn" and row["sessions"] == 1
    assert "--link dallas--austin" in capacity("status", plan).stdout

    hidden = capacity("status", plan, "--link", "dallas--austin").stdout
    assert "router 203.0.114.10" in hidden and "remote_addrs = 203.0.114.20" in hidden
    assert "neighbor 169.254." in hidden and "remote-as 65020" in hidden and HIDDEN in hidden

    shown = json.loads(capacity("status", plan, "--link", "dallas--austin", "--show-secrets",
                                "--format", "json").stdout)
    (tunnel,) = shown["routers"][0]["tunnels"]
    key = tunnel["pre_shared_key"]
    assert key != HIDDEN and len(key) == 40 and key not in hidden
    assert shown["advertise"] == ["10.40.0.0/16"] and shown["accept"] == ["10.41.0.0/16"]
    # The key is encrypted in the state, and the same after another run.
    state_text = "".join(p.read_text() for p in tmp_path.rglob("*.json") if ".capacity" in str(p))
    assert key not in state_text
    capacity("up", plan, "--yes")
    again = json.loads(capacity("status", plan, "--link", "dallas--austin", "--show-secrets", "--format", "json").stdout)
    assert again["routers"][0]["tunnels"][0]["pre_shared_key"] == key


def test_unknown_link_says_which_exist(capacity, tmp_path):
    plan = write_plan(tmp_path)
    capacity("up", plan, "--yes")
    result = capacity("status", plan, "--link", "dallas--austn", expect=1)
    assert "no link 'dallas--austn'" in result.output and "Did you mean 'dallas--austin'" in result.output


def test_show_secrets_needs_a_link(capacity, tmp_path):
    plan = write_plan(tmp_path)
    result = capacity("status", plan, "--show-secrets", expect=2)
    assert "--show-secrets goes with --link" in result.output


def test_the_deployed_link_brings_a_real_tunnel_up(capacity, tmp_path):
    """From `up` to packets: the link's stack output and its keys (decrypted from the state) configure
    both owned routers, each in a network namespace (tests/integration/network), and the tunnel, BGP
    and a connection between the sites come up."""
    from capacity.deploy.workflow import open_stack
    from capacity.engine.links import link_config
    from tests.integration.network.test_tunnel import _missing, namespaces, tunnel_and_bgp_come_up

    if _missing() or os.geteuid() != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs strongSwan, FRR and root: missing {_missing()}")
        pytest.skip("strongSwan or FRR missing, or not root")
    plan = write_plan(tmp_path)
    capacity("up", plan, "--yes")
    link, keys = link_config(open_stack("wan-links", None, echo=lambda *_: None), "dallas--austin", True)
    assert len(keys) == 1 and link["sessions"][0]["cloud_address"] == "203.0.114.20"
    with namespaces("dallas--austin", link, keys) as (dallas, austin):
        tunnel_and_bgp_come_up(dallas, austin)
