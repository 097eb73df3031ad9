"""Oracle Cloud Infrastructure."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal, Optional

from pydantic import field_validator

from capacity.fields import AfterValidator, Annotated, Field, SiteBase
from capacity.providers import ProviderSpec
from capacity.providers._tags import limited

# ocid1.<type>.<realm>.<region, empty for compartments>.<unique id>. The root compartment is the tenancy.
_COMPARTMENT = re.compile(r"ocid1\.(compartment|tenancy)\.oc[0-9]+\.\.[a-z0-9]{20,100}\Z")
# Availability domains carry a tenancy-specific prefix: "Uocm:US-ASHBURN-AD-1", "Uocm:EU-FRANKFURT-1-AD-2".
_AVAILABILITY_DOMAIN = re.compile(r"[A-Za-z0-9]{1,16}:[A-Z0-9-]+-AD-[1-3]\Z")


def _availability_domain(name: str) -> str:
    if not _AVAILABILITY_DOMAIN.match(name):
        raise ValueError(f"'{name}' is not an availability domain name such as 'Uocm:US-ASHBURN-AD-1'. "
                         "To fix: copy the names from `oci iam availability-domain list`")
    return name


AvailabilityDomain = Annotated[str, Field(strict=True, max_length=64, json_schema_extra={"pattern": _AVAILABILITY_DOMAIN.pattern}),
                               AfterValidator(_availability_domain)]


class OciSite(SiteBase):
    provider: Annotated[Literal["oci"], Field(description="oci: Oracle Cloud Infrastructure.")]
    region: Annotated[str, Field(strict=True, description="OCI region identifier, e.g. us-ashburn-1.")]
    compartment: Annotated[str, Field(strict=True, json_schema_extra={"pattern": _COMPARTMENT.pattern}, description=(
        "OCID of the compartment that holds the site (ocid1.compartment.oc1..<id>; the tenancy OCID for the root)."))]
    availability_domains: Annotated[Optional[list[AvailabilityDomain]], Field(
        min_length=1, max_length=3,
        description="Availability domains, e.g. 'Uocm:US-ASHBURN-AD-1'; GPU nodes and their reservation go in "
                    "the first (default: the region's first).")] = None

    @field_validator("compartment")
    @classmethod
    def _compartment_ocid(cls, value: str) -> str:
        if _COMPARTMENT.match(value):
            return value
        shown = value if len(value) <= 40 else value[:37] + "..."
        raise ValueError(f"'{shown}' is not a compartment OCID: it reads ocid1.compartment.oc1..<id> "
                         "(or ocid1.tenancy.oc1..<id> for the root compartment). "
                         "To fix: copy it from `oci iam compartment list` or the console")

    @field_validator("availability_domains")
    @classmethod
    def _distinct(cls, value: Optional[list[str]]) -> Optional[list[str]]:
        if value and len(set(value)) != len(value):
            raise ValueError("names an availability domain twice")
        return value


def _set(*names: str) -> bool:
    return all(os.environ.get(name) for name in names)


def _either(key: str) -> str:
    """The env var the OCI provider reads for `key`: TF_VAR_<key> or OCI_<KEY>, whichever is set."""
    return f"TF_VAR_{key}" if os.environ.get(f"TF_VAR_{key}") else f"OCI_{key.upper()}"


def missing_credentials() -> list[str]:
    # Pulumi's OCI provider (the Terraform provider) reads TF_VAR_<name> or OCI_<NAME>, then ~/.oci/config.
    if os.environ.get(_either("auth"), "").lower() not in ("", "apikey"):
        return []  # instance / resource principal, security token, OKE workload identity: no key on disk
    if _set(*(_either(k) for k in ("tenancy_ocid", "user_ocid", "fingerprint"))) and (
        _set(_either("private_key")) or _set(_either("private_key_path"))
    ):
        return []
    path = os.environ.get("OCI_CONFIG_FILE")
    if path:
        if Path(path).expanduser().is_file():
            return []
        return [f"oci: OCI_CONFIG_FILE names {path}, which does not exist."]
    if (Path.home() / ".oci" / "config").is_file():
        return []
    return ["oci: no credentials. Run `oci setup config` (writes ~/.oci/config), or set OCI_TENANCY_OCID, "
            "OCI_USER_OCID, OCI_FINGERPRINT and OCI_PRIVATE_KEY_PATH for an API key, or OCI_AUTH=InstancePrincipal "
            "on an OCI instance. (OCI_CLI_* variables are read by the oci CLI only, not by Pulumi.)"]


SPEC = ProviderSpec(
    bgp_asn=31898,
    sdk="pulumi_oci",
    name="oci",
    title="Oracle Cloud Infrastructure",
    site_model=OciSite,
    reservation_kinds=frozenset({"capacity-reservation"}),
    reservation_note="OCI has compute capacity reservations but no capacity blocks",
    # An IPSec connection's tunnel addresses are assigned by Oracle when it is created, and creating it
    # needs the CPE, i.e. the peer's address: like AWS, this end goes first.
    link_address_from_connection=True,
    longest_prefix=lambda site: 29,  # a node subnet and a public one, each a /30 at least
    # Free-form tags: keys up to 100 characters without '.' or spaces, values up to 256; 64 tags a resource.
    tags=lambda tags: limited(tags, key_max=100, value_max=256, count_max=64, forbidden=". "),
    missing_credentials=missing_credentials,
)
