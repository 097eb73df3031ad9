"""Answers for rendering OCI resources under Pulumi's mocks (`capacity resources`): the outputs the
cloud computes that the program reads, and the data sources it looks up.

MOCKS maps resource types to `f(name, inputs) -> outputs` and invoke tokens to `f(args) -> result`,
keys in camelCase as the engine sends them.
"""

from __future__ import annotations

import hashlib

from capacity.components.base import MockAnswers


def _digest(seed: str, size: int = 8) -> str:
    return hashlib.sha256(seed.encode()).hexdigest()[:size]


def _ip(seed: str) -> str:
    """An address of the benchmarking range 198.18.0.0/15 (RFC 2544), the same for the same seed."""
    value = int(_digest(seed), 16)
    return f"198.18.{value % 256}.{value // 256 % 254 + 1}"


def _ocid(kind: str, seed: str) -> str:
    return f"ocid1.{kind}.oc1..mock{_digest(seed, 20)}"


def _availability_domains(args: dict) -> dict:
    return {"availabilityDomains": [{"name": f"Mock:AD-{n}", "id": _ocid("availabilitydomain", str(n)),
                                     "compartmentId": args.get("compartmentId")} for n in (1, 2, 3)],
            "compartmentId": args.get("compartmentId"), "id": "availability-domains"}


def _node_pool_option(args: dict) -> dict:
    """OKE images, newest first, for the version asked: plain, arm64 and GPU builds."""
    version = str(args.get("nodePoolK8sVersion", "")).lstrip("v")
    names = [f"Oracle-Linux-8.10-Gen2-GPU-2026.10.01-0-OKE-{version}-900",
             f"Oracle-Linux-8.10-aarch64-GPU-2026.10.01-0-OKE-{version}-900",
             f"Oracle-Linux-8.10-aarch64-2026.10.01-0-OKE-{version}-900",
             f"Oracle-Linux-8.10-2026.10.01-0-OKE-{version}-900"]
    return {"sources": [{"sourceName": n, "sourceType": "IMAGE", "imageId": _ocid("image", n)} for n in names],
            "kubernetesVersions": [f"v{version}"], "id": args.get("nodePoolOptionId")}


def _images(args: dict) -> dict:
    """Platform images for the shape asked, newest first."""
    names = ["Oracle-Linux-8.10-Gen2-GPU-2026.10.01-0", "Oracle-Linux-8.10-aarch64-GPU-2026.10.01-0",
             "Oracle-Linux-8.10-2026.10.01-0"]
    return {"images": [{"displayName": n, "id": _ocid("image", n), "operatingSystem": "Oracle Linux"}
                       for n in names], "id": "images"}


def _tunnels(args: dict) -> dict:
    ipsec = args.get("ipsecId", "")
    return {"ipSecConnectionTunnels": [{"id": _ocid("ipsectunnel", f"{ipsec}/{n}"), "ipsecId": ipsec}
                                       for n in (1, 2)], "ipsecId": ipsec, "id": ipsec}


def _vcn_defaults(name: str, inputs: dict) -> dict:
    """The security list, route table and DHCP options OCI makes with every VCN."""
    return {"defaultSecurityListId": _ocid("securitylist", f"{name}/default"),
            "defaultRouteTableId": _ocid("routetable", f"{name}/default"),
            "defaultDhcpOptionsId": _ocid("dhcpoptions", f"{name}/default")}


MOCKS = MockAnswers(
    invokes={
        "oci:Identity/getAvailabilityDomains:getAvailabilityDomains": _availability_domains,
        "oci:ContainerEngine/getNodePoolOption:getNodePoolOption": _node_pool_option,
        "oci:Core/getImages:getImages": _images,
        "oci:Core/getIpsecConnectionTunnels:getIpsecConnectionTunnels": _tunnels,
        "oci:Core/getFastConnectProviderServices:getFastConnectProviderServices": lambda args: {
            "compartmentId": args.get("compartmentId"), "id": "services",
            "fastConnectProviderServices": [{"id": _ocid("providerservice", str(args.get("filters"))),
                                             "providerName": "partner"}]},
    },
    outputs={
        "oci:Core/vcn:Vcn": _vcn_defaults,
        "oci:Core/ipsecConnectionTunnelManagement:IpsecConnectionTunnelManagement":
            lambda name, inputs: {"vpnIp": _ip(name)},
    },
)
