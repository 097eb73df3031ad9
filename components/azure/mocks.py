"""What Azure computes that the components read, for rendering under mocks."""

from __future__ import annotations

from capacity.components.base import MockAnswers, documentation_ip

SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"

MOCKS = MockAnswers(
    invokes={"azure-native:authorization:getClientConfig": lambda args: {
        "clientId": "render", "objectId": "render", "subscriptionId": SUBSCRIPTION, "tenantId": SUBSCRIPTION}},
    outputs={
        "azure-native:network:PublicIPAddress": lambda name, inputs: {"ipAddress": documentation_ip(name, "198.51.100")},
        "azure-native:network:VirtualNetworkGateway": lambda name, inputs: {
            "bgpSettings": {**(inputs.get("bgpSettings") or {}), "bgpPeeringAddress": documentation_ip(name, "192.0.2")}},
        "azure-native:network:ExpressRouteCircuit": lambda name, inputs: {"name": inputs.get("circuitName", name)},
        "azure-native:containerservice:ManagedCluster": lambda name, inputs: {
            "identity": {**inputs.get("identity", {}), "principalId": f"{name}-principal"}},
    },
)
