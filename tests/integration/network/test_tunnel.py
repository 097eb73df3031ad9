"""The router configuration we hand over, run for real: two network namespaces joined by a veth pair
this test makes (no other interface, so nothing routes out), strongSwan's charon and FRR's zebra and
bgpd in each. One end is the owned router, configured from `capacity.review.router`'s output; the
far end plays the cloud with the cloud's parameters (the same generator, ends swapped).

This machine's kernel has XFRM but no ESP and no XFRM interfaces, so the data path runs in
userspace: strongSwan's kernel-libipsec plugin (a TUN device), with the policy-based variant of
the configuration (`policy_based=True`: the tunnel carries the inside addresses and the two
sites' networks), and charon installs its routes in the main table (`routing_table = 254`) so
that FRR's zebra sees the peer's inside address as reachable. The IKE SA and CHILD SA must come
up, BGP must establish over the tunnel, each end must learn the other site's network from BGP, and
a TCP connection must cross the tunnel between the two sites' networks."""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import sys
import shutil
import subprocess
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from capacity.review import router

CHARON = Path("/usr/lib/ipsec/charon")
ZEBRA, BGPD = Path("/usr/lib/frr/zebra"), Path("/usr/lib/frr/bgpd")
LINK = {
    "kind": "vpn", "owned": "dallas", "cloud": "aws-use1", "provider": "aws", "owned_cidr": "10.40.0.0/16",
    "cloud_cidr": "10.10.0.0/16", "id": "vpn-test",
    "sessions": [{"edge": "203.0.114.10", "owned_asn": 65010, "owned_inside": "169.254.22.2/30",
                  "cloud_address": "203.0.114.99", "cloud_asn": 64512, "cloud_inside": "169.254.22.1"}],
}
KEYS = ["Tk9sYW5kZXJzIGFyZSBub3QgdGhlIGtleSBoZXJlMTIz"]
PLUGINS = ("random nonce aes sha1 sha2 hmac gmp curve25519 kdf pem pkcs1 x509 pubkey "
           "kernel-libipsec kernel-netlink socket-default vici")


def far_end(link: dict) -> dict:
    """The same link seen from the cloud's side: ends, ASNs and networks swapped."""
    s = link["sessions"][0]
    return {**link, "owned": link["cloud"], "cloud": link["owned"], "owned_cidr": link["cloud_cidr"],
            "cloud_cidr": link["owned_cidr"],
            "sessions": [{"edge": s["cloud_address"], "owned_asn": s["cloud_asn"], "owned_inside": s["cloud_inside"] + "/30",
                          "cloud_address": s["edge"], "cloud_asn": s["owned_asn"],
                          "cloud_inside": s["owned_inside"].split("/")[0]}]}


def _missing() -> list[str]:
    tools = [CHARON, ZEBRA, BGPD, Path(shutil.which("swanctl") or "/nonexistent"), Path(shutil.which("ip") or "/x")]
    return [str(t) for t in tools if not t.exists()]


@pytest.fixture(scope="module")
def tools():
    missing = _missing()
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI needs strongSwan and FRR (.ci/run installs them): missing {', '.join(missing)}")
        pytest.skip(f"strongSwan or FRR missing: {', '.join(missing)}")
    if os.geteuid() != 0:
        pytest.skip("network namespaces need root")


def sh(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True, check=check, timeout=60)


class End:
    """One router in its own namespace: charon and FRR with every path under `root`."""

    def __init__(self, ns: str, root: Path, link: dict, name: str, keys: list[str]) -> None:
        self.ns, self.root, self.link, self.name, self.keys = ns, root, link, name, keys
        self.session = link["sessions"][0]
        self.processes: list[subprocess.Popen] = []
        root.mkdir(parents=True)
        root.chmod(0o777)  # FRR's daemons drop to the `frr` user

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.ns, *args, check=check)

    def spawn(self, *args: str, env: dict | None = None) -> None:
        # A mount namespace of its own with a private /run: charon's pid file and FRR's default paths.
        script = 'mount -t tmpfs tmpfs /run && exec "$@"'
        log = open(self.root / f"{Path(args[0]).name}.log", "w")
        self.processes.append(subprocess.Popen(
            ["ip", "netns", "exec", self.ns, "unshare", "-m", "sh", "-c", script, "sh", *args],
            stdout=log, stderr=subprocess.STDOUT, env={**os.environ, **(env or {})}))

    def addresses(self) -> None:
        inside = self.session["owned_inside"].split("/")[0]
        self.run("ip", "link", "set", "lo", "up")
        self.run("ip", "addr", "add", f"{inside}/32", "dev", "lo")
        network = ipaddress.ip_network(self.link["owned_cidr"])
        self.run("ip", "addr", "add", f"{network[1]}/{network.prefixlen}", "dev", "lo")  # a host of the site

    def start_charon(self) -> None:
        conf = self.root / "strongswan.conf"
        conf.write_text(
            f"charon {{\n  load = {PLUGINS}\n  install_virtual_ip = no\n  routing_table = 254\n"
            f"  filelog {{\n    log {{\n      path = {self.root}/charon-file.log\n      flush_line = yes\n      default = 1\n      ike = 2\n"
            f"    }}\n  }}\n"
            f"  plugins {{\n    vici {{\n      socket = unix://{self.root}/charon.vici\n    }}\n  }}\n}}\n"
            f"swanctl {{\n  load = pem pkcs1 x509 pubkey random nonce aes sha1 sha2 hmac\n}}\n")
        (self.root / "swanctl.conf").write_text(
            router.swanctl_conf(self.name, self.link, self.session["edge"], self.keys, policy_based=True))
        self.spawn(str(CHARON), env={"STRONGSWAN_CONF": str(conf)})
        self.wait(lambda: (self.root / "charon.vici").exists(), "charon's vici socket")

    def swanctl(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(["ip", "netns", "exec", self.ns, "swanctl", *args, "--uri", f"unix://{self.root}/charon.vici"],
                              capture_output=True, text=True, check=check, timeout=60,
                              env={**os.environ, "STRONGSWAN_CONF": str(self.root / "strongswan.conf")})

    def load(self) -> None:
        self.swanctl("--load-all", "--file", str(self.root / "swanctl.conf"))

    def established(self) -> bool:
        sas = self.swanctl("--list-sas", check=False).stdout
        return "ESTABLISHED" in sas and "INSTALLED" in sas

    def start_frr(self) -> None:
        (self.root / "bgpd.conf").write_text(router.frr_conf(self.name, self.link, self.session["edge"], self.keys))
        (self.root / "zebra.conf").write_text("")
        common = ["-P", "0", "-z", str(self.root / "zserv.api"),
                  "--vty_socket", str(self.root)]
        self.spawn(str(ZEBRA), "-f", str(self.root / "zebra.conf"), "-i", str(self.root / "zebra.pid"), *common)
        self.wait(lambda: (self.root / "zserv.api").exists(), "zebra's socket")
        self.spawn(str(BGPD), "-f", str(self.root / "bgpd.conf"), "-i", str(self.root / "bgpd.pid"), *common)

    def wait(self, ready, what: str, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if ready():
                return
            if any(p.poll() is not None for p in self.processes):
                break
            time.sleep(0.2)
        logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in sorted(self.root.glob("*.log")))
        raise AssertionError(f"{self.ns}: no {what}\n{logs}\n{self.diagnosis()}")

    def diagnosis(self) -> str:
        commands = [("ip", "addr"), ("ip", "route", "show", "table", "all"),
                    ("vtysh", "--vty_socket", str(self.root), "-c", "show bgp summary"),
                    ("vtysh", "--vty_socket", str(self.root), "-c", "show bgp ipv4 unicast")]
        return "\n".join(f"$ {' '.join(c)}\n{self.run(*c, check=False).stdout}" for c in commands)

    def bgp_routes(self) -> dict:
        """The BGP table: prefix -> its paths (FRR's JSON)."""
        shown = self.run("vtysh", "--vty_socket", str(self.root), "-c", "show bgp ipv4 unicast json", check=False)
        try:
            return json.loads(shown.stdout or "{}").get("routes", {})
        except json.JSONDecodeError:
            return {}

    def learned(self, cidr: str, asn: int) -> bool:
        """`cidr` is in the BGP table, learned from `asn` (not our own announcement)."""
        paths = self.bgp_routes().get(cidr, [])
        return any(str(asn) == str(p.get("path", "")).split(" ")[0] for p in paths)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


@contextlib.contextmanager
def namespaces(name: str, link: dict, keys: list[str], far_keys: list[str] | None = None):
    """The link's owned router (first session) and its far end, each in a namespace of its own,
    joined by a veth pair: (owned End, far End). Everything is removed on the way out."""
    tag = uuid.uuid4().hex[:6]
    tmp_path = Path(tempfile.mkdtemp(prefix="capacity-tunnel-"))
    tmp_path.chmod(0o755)  # FRR runs as `frr`: it must reach the directories below
    owned_ns, cloud_ns = f"cap-owned-{tag}", f"cap-cloud-{tag}"
    made, ends = [], []
    try:
        for ns in (owned_ns, cloud_ns):
            sh("ip", "netns", "add", ns)
            made.append(ns)
        veth_a, veth_b = f"vo{tag}", f"vc{tag}"
        sh("ip", "link", "add", veth_a, "netns", owned_ns, "type", "veth", "peer", "name", veth_b, "netns", cloud_ns)
        ends = [End(owned_ns, tmp_path / "owned", link, name, keys),
                End(cloud_ns, tmp_path / "cloud", far_end(link), name, far_keys or keys)]
        for end, veth in zip(ends, (veth_a, veth_b)):
            peer = end.session["cloud_address"]
            end.run("ip", "addr", "add", f"{end.session['edge']}/32", "dev", veth)
            end.run("ip", "link", "set", veth, "up")
            end.run("ip", "route", "add", f"{peer}/32", "dev", veth)
            end.addresses()
        yield ends[0], ends[1]
    finally:
        for end in ends:
            end.stop()
        for ns in made:
            sh("ip", "netns", "del", ns, check=False)
        shutil.rmtree(tmp_path, ignore_errors=True)


def tunnel_and_bgp_come_up(owned: End, cloud: End) -> None:
    """IKE and CHILD SA, BGP both ways with only the two networks, and a TCP connection across."""
    for end in (owned, cloud):
        end.start_charon()
    cloud.load()
    owned.load()  # start_action = start: the owned router initiates
    owned.wait(owned.established, "IKE and CHILD SA", 60)
    sas = owned.swanctl("--list-sas").stdout
    assert f"{owned.name}-1" in sas and owned.session["cloud_address"] in sas
    for end in (owned, cloud):
        end.start_frr()
    far, near = owned.link["cloud_cidr"], owned.link["owned_cidr"]
    owned.wait(lambda: owned.learned(far, owned.session["cloud_asn"]), "BGP route to the far network", 90)
    cloud.wait(lambda: cloud.learned(near, owned.session["owned_asn"]), "BGP route to the owned network", 30)
    # Each end accepts only the other's network (the route maps), and announces its own.
    assert set(owned.bgp_routes()) == {far, near}
    # The data path: a TCP connection from the owned network to the far end's BGP port, through the tunnel.
    target, source = str(ipaddress.ip_network(far)[1]), str(ipaddress.ip_network(near)[1])
    code = (f"import socket; s = socket.create_connection(('{target}', 179), timeout=5, "
            f"source_address=('{source}', 0)); print('connected')")
    done = owned.run(sys.executable, "-c", code, check=False)
    assert "connected" in done.stdout, done.stderr
    assert "ipsec0" in owned.run("ip", "route", "get", target, "from", source).stdout


@pytest.fixture
def ends(tools):
    with namespaces("dallas--aws-use1", LINK, KEYS) as pair:
        yield pair


def test_tunnel_and_bgp_come_up_from_our_configuration(ends):
    tunnel_and_bgp_come_up(*ends)


def test_a_wrong_key_brings_no_tunnel_up(tools):
    """The check above can fail: the far end with another key refuses the owned router."""
    with namespaces("dallas--aws-use1", LINK, KEYS, ["AnotherKeyAnotherKeyAnotherKeyAnotherKey12"]) as (owned, cloud):
        for end in (owned, cloud):
            end.start_charon()
        cloud.load()
        owned.load()
        with pytest.raises(AssertionError, match="no IKE and CHILD SA"):
            owned.wait(owned.established, "IKE and CHILD SA", 8)
        assert "AUTHENTICATION_FAILED" in (owned.root / "charon-file.log").read_text()
