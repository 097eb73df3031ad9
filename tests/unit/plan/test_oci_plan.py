"""OCI sites in the plan: validation, catalog, tags and credentials, all without pulumi_oci."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.plan.catalog import shipped
from capacity.plan.loading import load_plan
from capacity.providers import spec
from capacity.cli.main import app

ROOT = Path(__file__).resolve().parents[3]
PLAN = Path(__file__).parents[1] / "plans" / "oci.yaml"
TEXT = PLAN.read_text()
COMPARTMENT = "ocid1.compartment.oc1..aaaaaaaa4ggqxnhbtypkxvmzc5asfhw3hzvhe6bmq2nvbqkqwbe6jdwvdq3a"
runner = CliRunner()


def edit(old: str, new: str) -> str:
    assert old in TEXT, old
    return TEXT.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def test_the_oci_plan_is_valid_and_resolves_its_shapes():
    loaded = load_plan(PLAN)
    assert loaded.summary()["providers"] == ["azure", "gcp", "oci"]
    assert loaded.types["train-o"].instance_type == "BM.GPU.H100.8"
    assert loaded.types["batch-o"].instance_type == "BM.GPU.B200.8"  # accelerator B200 in us-chicago-1
    assert loaded.gpus("train-o") == 72 * 8
    site = loaded.plan.sites["oci-iad"]
    assert site.compartment == COMPARTMENT
    assert site.availability_domains == ["Uocm:US-ASHBURN-AD-2", "Uocm:US-ASHBURN-AD-3"]
    assert loaded.plan.sites["oci-ord"].availability_domains is None


def test_catalog_lists_every_oci_generation_with_prices_and_regions():
    oci = {t.instance_type: t for t in shipped().of("oci")}
    assert {t.accelerator for t in oci.values()} >= {"A100", "H100", "H200", "B200", "GB200"}
    for entry in oci.values():
        assert entry.price_per_hour and entry.price_per_hour > 0, entry
        assert entry.regions and entry.regions <= shipped().regions["oci"], entry
        assert entry.kw_per_node is None
    assert (oci["BM.GPU.H100.8"].gpus, oci["BM.GPU.H100.8"].gpu_memory_gb) == (8, 80)
    assert (oci["BM.GPU.GB200.4"].gpus, oci["BM.GPU.GB200.4"].gpu_memory_gb) == (4, 186)
    assert oci["BM.GPU.H100.8"].price_per_gpu_hour == 10.0


# (id, plan text, plan path of the error, text on the error's line, words the message must hold)
CASES = [
    ("unknown-shape", edit("instance_type: BM.GPU.H100.8", "instance_type: BM.GPU.H100.4"),
     "clusters.train-o.instance_type", "BM.GPU.H100.4", ["not in the catalog for oci", "Did you mean 'BM.GPU.H100.8'"]),
    ("aws-type-on-oci", edit("instance_type: BM.GPU.H100.8", "instance_type: p5.48xlarge"),
     "clusters.train-o.instance_type", "p5.48xlarge", ["not in the catalog for oci"]),
    ("shape-not-in-region", edit("region: us-ashburn-1", "region: ap-tokyo-1")
     .replace("US-ASHBURN-AD-2", "AP-TOKYO-1-AD-1").replace("US-ASHBURN-AD-3", "AP-TOKYO-1-AD-2"),
     "clusters.train-o.instance_type", "BM.GPU.H100.8", ["not offered in ap-tokyo-1", "us-ashburn-1"]),
    ("accelerator-not-in-region", edit("region: us-chicago-1", "region: eu-frankfurt-1"),
     "clusters.batch-o.accelerator", "accelerator: B200",
     ["no oci instance type with B200 is offered in eu-frankfurt-1"]),
    ("unknown-region", edit("region: us-ashburn-1", "region: us-ashburn1"), "sites.oci-iad.region", "us-ashburn1",
     ["not a region of Oracle Cloud Infrastructure", "Did you mean 'us-ashburn-1'"]),
    ("vcn-ocid-as-compartment",
     edit(f"compartment: {COMPARTMENT}", "compartment: ocid1.vcn.oc1.iad.aaaaaaaabbbbbbbbccccccccdddd"),
     "sites.oci-iad.compartment", "ocid1.vcn", ["not a compartment OCID", "ocid1.compartment.oc1..<id>"]),
    ("truncated-compartment", edit(f"compartment: {COMPARTMENT}", "compartment: ocid1.compartment.oc1..aaaa"),
     "sites.oci-iad.compartment", "ocid1.compartment", ["not a compartment OCID"]),
    ("compartment-name", edit(f"compartment: {COMPARTMENT}", "compartment: gpu-prod"),
     "sites.oci-iad.compartment", "gpu-prod", ["'gpu-prod' is not a compartment OCID"]),
    ("missing-compartment", edit(f"    compartment: {COMPARTMENT}\n", ""), "sites.oci-iad", "oci-iad:",
     ["missing required key 'compartment'"]),
    ("bad-availability-domain", edit('"Uocm:US-ASHBURN-AD-2"', '"AD-2"'), "sites.oci-iad.availability_domains[0]",
     "availability_domains", ["'AD-2' is not an availability domain name", "Uocm:US-ASHBURN-AD-1"]),
    ("repeated-availability-domain", edit('"Uocm:US-ASHBURN-AD-3"', '"Uocm:US-ASHBURN-AD-2"'),
     "sites.oci-iad.availability_domains", "availability_domains", ["names an availability domain twice"]),
    ("capacity-block-on-oci", edit("      kind: capacity-reservation\n      start: 2026-12-01",
                                   "      kind: capacity-block\n      start: 2026-12-01"),
     "clusters.train-o.reservation.kind", "capacity-block",
     ["does not support `capacity-block`", "no capacity blocks"]),
    ("typo-in-oci-key", edit("    availability_domains:", "    availability_domain:"),
     "sites.oci-iad.availability_domain",
     "availability_domain:", ["unknown key", "Did you mean 'availability_domains'"]),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_oci_plan_is_reported_at_its_line(case, tmp_path):
    _, text, path, marker, words = case
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    result = runner.invoke(app, ["validate", str(plan), "--format", "json"])
    assert result.exit_code == 1, result.output
    errors = json.loads(result.stdout)["errors"]
    match = [e for e in errors if e["path"] == path]
    assert match, f"no error at {path}: {errors}"
    assert match[0]["line"] == line_of(text, marker)
    for word in words:
        assert word in match[0]["message"], (word, match[0]["message"])


AWS_SITE = "  aws-use1:\n    provider: aws\n    region: us-east-1\n    network: {cidr: 10.10.0.0/16}\n"


@pytest.mark.parametrize("peer, sites", [("aws-use1", AWS_SITE), ("oci-ord", "")])
def test_a_link_between_two_ends_that_both_need_the_peer_address_first_is_refused(peer, sites, tmp_path):
    """AWS's customer gateway needs the OCI tunnel address, which exists only once OCI's IPSec
    connection exists, and that needs the AWS tunnel address: neither end can go first."""
    text = edit("links:\n", "links:\n  - between: [oci-iad, %s]\n" % peer).replace("sites:\n", "sites:\n" + sites, 1)
    plan = tmp_path / "plan.yaml"
    plan.write_text(text)
    result = runner.invoke(app, ["validate", str(plan), "--format", "json"])
    assert result.exit_code == 1
    errors = [e for e in json.loads(result.stdout)["errors"] if e["path"] == "links[0].between"]
    assert errors and "not supported" in errors[0]["message"], errors


def test_oci_links_to_azure_and_gcp_are_accepted():
    loaded = load_plan(PLAN)
    assert [link.between for link in loaded.plan.links] == [("azure-eus2", "oci-iad"), ("oci-iad", "gcp-usc1")]
    assert spec("oci").link_address_from_connection


def test_oci_tags_follow_free_form_tag_rules():
    tags = spec("oci").tags({"capacity-plan": "p", "team.name": "x", "cost center": "y", "k" * 150: "v" * 300,
                             **{f"label-{i:02}": "v" for i in range(80)}})
    assert len(tags) == 64
    assert all(len(k) <= 100 and "." not in k and " " not in k for k in tags)
    assert all(len(v) <= 256 for v in tags.values())
    small = spec("oci").tags({"capacity-plan": "p", "team.name": "x", "cost center": "y"})
    assert small == {"capacity-plan": "p", "team-name": "x", "cost-center": "y"}


CREDENTIAL_ENV = [
    "OCI_AUTH", "TF_VAR_auth", "OCI_CONFIG_FILE",
    *(f"{p}{k}" for p in ("OCI_", "TF_VAR_") for k in ("TENANCY_OCID", "USER_OCID", "FINGERPRINT", "PRIVATE_KEY",
                                                         "PRIVATE_KEY_PATH", "tenancy_ocid", "user_ocid",
                                                         "fingerprint", "private_key", "private_key_path")),
]


@pytest.fixture
def no_credentials(monkeypatch, tmp_path):
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return monkeypatch


def test_preflight_without_credentials_says_how_to_get_them(no_credentials):
    [message] = spec("oci").missing_credentials()
    assert "oci setup config" in message and "OCI_TENANCY_OCID" in message


def test_preflight_accepts_the_config_file(no_credentials, tmp_path):
    (tmp_path / ".oci").mkdir()
    (tmp_path / ".oci" / "config").write_text("[DEFAULT]\n")
    assert spec("oci").missing_credentials() == []


def test_preflight_accepts_an_api_key_from_the_environment(no_credentials):
    for name in ("OCI_TENANCY_OCID", "OCI_USER_OCID", "OCI_FINGERPRINT"):
        no_credentials.setenv(name, "x")
    assert spec("oci").missing_credentials()  # no private key yet
    no_credentials.setenv("TF_VAR_private_key_path", "/keys/oci.pem")
    assert spec("oci").missing_credentials() == []


def test_preflight_accepts_instance_principal_and_rejects_a_missing_config_file(no_credentials):
    no_credentials.setenv("OCI_AUTH", "InstancePrincipal")
    assert spec("oci").missing_credentials() == []
    no_credentials.delenv("OCI_AUTH")
    no_credentials.setenv("OCI_CONFIG_FILE", "/nowhere/config")
    assert "/nowhere/config" in spec("oci").missing_credentials()[0]


def test_validating_an_oci_plan_never_imports_pulumi():
    code = (
        "import sys\n"
        "from typer.testing import CliRunner\n"
        "from capacity.cli.main import app\n"
        f"result = CliRunner().invoke(app, ['validate', {str(PLAN)!r}])\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pulumi_oci', 'components')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
