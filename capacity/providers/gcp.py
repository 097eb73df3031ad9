"""Google Cloud."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, Optional

from pydantic import field_validator

from capacity.fields import Annotated, Field, SiteBase, Text
from capacity.providers import ProviderSpec
from capacity.providers._tags import gcp_labels

_PROJECT = re.compile(r"[a-z][a-z0-9-]{4,28}[a-z0-9]\Z")


class GcpSite(SiteBase):
    provider: Annotated[Literal["gcp"], Field(description="gcp: Google Cloud.")]
    region: Annotated[str, Field(strict=True, description="GCP region, e.g. us-central1.")]
    project: Annotated[str, Field(strict=True, description="GCP project id (6-30 characters).",
                                  json_schema_extra={"pattern": _PROJECT.pattern})]
    zones: Annotated[Optional[list[Text]], Field(description="Zones for node pools (default: <region>-a).")] = None

    @field_validator("project")
    @classmethod
    def _project_id(cls, value: str) -> str:
        if not _PROJECT.match(value):
            raise ValueError(f"'{value}' is not a GCP project id: 6-30 characters, lowercase letters, digits "
                             "and '-', starting with a letter")
        return value


def missing_credentials() -> list[str]:
    env = os.environ
    path = env.get("GOOGLE_APPLICATION_CREDENTIALS")
    if path:
        return [] if Path(path).is_file() else [f"gcp: GOOGLE_APPLICATION_CREDENTIALS names {path}, which does not exist."]
    if env.get("GOOGLE_CREDENTIALS") or env.get("GOOGLE_OAUTH_ACCESS_TOKEN") or env.get("CLOUDSDK_AUTH_ACCESS_TOKEN"):
        return []
    if (Path.home() / ".config" / "gcloud" / "application_default_credentials.json").is_file():
        return []
    return ["gcp: no application default credentials. Run `gcloud auth application-default login`, "
            "or set GOOGLE_APPLICATION_CREDENTIALS to a service account key file."]


SPEC = ProviderSpec(
    bgp_asn=64514,
    sdk="pulumi_gcp",
    name="gcp",
    title="Google Cloud",
    site_model=GcpSite,
    reservation_kinds=frozenset({"capacity-reservation"}),
    longest_prefix=lambda site: 27,  # nodes, services and two pod ranges, each a /29 at least
    reservation_note="GCP reservations are plain compute reservations here; calendar-mode blocks are not modelled",
    tags=gcp_labels,
    missing_credentials=missing_credentials,
)
