"""What GCP computes that the components read, for rendering under mocks."""

from __future__ import annotations

from capacity.components.base import MockAnswers, documentation_ip

MOCKS = MockAnswers(outputs={
    "gcp": lambda name, inputs: {"selfLink": f"mock/{name}", "selfLinkUnique": f"mock/{name}?uniqueId=1"},
    "gcp:compute/address:Address": lambda name, inputs: {"address": documentation_ip(name, "192.0.2")},
    "gcp:compute/haVpnGateway:HaVpnGateway": lambda name, inputs: {
        "vpnInterfaces": [{"id": i, "ipAddress": documentation_ip(f"{name}/{i}", "192.0.2")} for i in (0, 1)]},
    "gcp:compute/interconnectAttachment:InterconnectAttachment": lambda name, inputs: {
        "cloudRouterIpAddress": "169.254.0.1/29", "pairingKey": f"{name}/us-central1/1"},
})
