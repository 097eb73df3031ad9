"""What AWS computes that the components read, for rendering under mocks."""

from __future__ import annotations

import hashlib

from capacity.components.base import MockAnswers, documentation_ip


def capacity_block_offering(args: dict) -> dict:
    """An offering matching the request, as aws.ec2.get_capacity_block_offering returns it."""
    key = "|".join(str(args.get(k)) for k in ("instanceType", "instanceCount", "startDateRange"))
    return {
        "capacityBlockOfferingId": "cb-" + hashlib.sha256(key.encode()).hexdigest()[:17],
        "availabilityZone": "mock-zone",
        "capacityDurationHours": args.get("capacityDurationHours"),
        "currencyCode": "USD",
        "endDateRange": args.get("endDateRange"),
        "instanceCount": args.get("instanceCount"),
        "instanceType": args.get("instanceType"),
        "startDateRange": args.get("startDateRange"),
        "tenancy": "default",
        "upfrontFee": "0.00",
    }


def vpc_defaults(name: str, inputs: dict) -> dict:
    """The security group, route table, network ACL and DHCP options AWS makes with every VPC."""
    suffix = hashlib.sha256(name.encode()).hexdigest()[:17]
    return {"defaultSecurityGroupId": f"sg-{suffix}", "defaultRouteTableId": f"rtb-{suffix}",
            "mainRouteTableId": f"rtb-{suffix}", "defaultNetworkAclId": f"acl-{suffix}",
            "dhcpOptionsId": f"dopt-{suffix}"}


MOCKS = MockAnswers(
    invokes={"aws:ec2/getCapacityBlockOffering:getCapacityBlockOffering": capacity_block_offering},
    outputs={
        "aws": lambda name, inputs: {"arn": f"arn:aws:mock:::{name}"},
        "aws:ec2/vpc:Vpc": vpc_defaults,
        "aws:ec2/vpnConnection:VpnConnection": lambda name, inputs: {
            "tunnel1Address": documentation_ip(name + "/1"), "tunnel2Address": documentation_ip(name + "/2")},
        "aws:ec2/launchTemplate:LaunchTemplate": lambda name, inputs: {"latestVersion": 1},
    },
)
