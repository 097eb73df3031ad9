"""Pre-shared keys for VPN links: generated once by a dynamic resource, kept encrypted in state.

A key regenerated on every run would churn the tunnels, and one derived from the plan would be
guessable. So `create` draws it from `secrets` once; it lives in the stack's state as a secret
output and stays the same until the link is removed.
"""

from __future__ import annotations

import secrets
import string
from typing import Optional

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ReadResult, Resource, ResourceProvider

# AWS tunnel keys: 8-64 letters, digits, '.' and '_', not starting with '0'. Azure and GCP accept these too.
_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 40


def new_key() -> str:
    return secrets.choice(string.ascii_letters) + "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH - 1))


class PresharedKeyProvider(ResourceProvider):
    def create(self, props: dict) -> CreateResult:
        return CreateResult(id_=f"psk-{secrets.token_hex(6)}", outs={"key": new_key()})

    def diff(self, _id: str, _olds: dict, _news: dict) -> DiffResult:
        return DiffResult(changes=False)

    def read(self, id_: str, props: dict) -> ReadResult:
        return ReadResult(id_=id_, outs=props)


class PresharedKey(Resource, module="link", name="PresharedKey"):
    """A link's pre-shared key (type `pulumi-python:dynamic/link:PresharedKey`); `key` is a secret."""

    key: pulumi.Output[str]

    def __init__(self, name: str, opts: Optional[pulumi.ResourceOptions] = None) -> None:
        secret = pulumi.ResourceOptions(additional_secret_outputs=["key"])
        super().__init__(PresharedKeyProvider(), name, {"key": None},
                         pulumi.ResourceOptions.merge(opts, secret))

    @property
    def secret_key(self) -> pulumi.Output[str]:
        """The key, marked secret wherever it flows (also under mocks, which ignore secret outputs)."""
        return pulumi.Output.secret(self.key)
