"""`capacity resources`: the golden rendering of the example plan, the command's output and
errors, lazy imports of the cloud SDKs, and the link keys."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import typer
from typer.testing import CliRunner

from capacity.cli.resources import resources
from capacity.components import render as render_module
from capacity.components.linkkey import KEY_LENGTH, PresharedKeyProvider
from capacity.components.program import MissingProvider, provider

from .conftest import DAY, EXAMPLE, ROOT

GOLDEN = ROOT / "tests" / "golden" / "resources-example.json"
app = typer.Typer()
app.callback()(lambda: None)  # keep `resources` a subcommand, as in cli/main.py
app.command()(resources)
runner = CliRunner()

AWS_ONLY = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: aws-only}
sites:
  east: {provider: aws, region: us-east-1, network: {cidr: %s}}
clusters:
  train: {site: east, instance_type: p5.48xlarge, nodes: 2}
"""


def invoke(*args: str):
    return runner.invoke(app, ["resources", *args])


def test_json_matches_the_reviewed_golden_file():
    """Regenerate after a reviewed change with: UPDATE_GOLDEN=1 pytest tests/unit/components"""
    result = invoke(str(EXAMPLE), "--format", "json", "--on", DAY.isoformat())
    assert result.exit_code == 0, result.output
    # Owned sites keep their inventory under the checkout; the golden file must not depend on where that is.
    text = result.stdout.replace(str(ROOT), "<repo>")
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(text)
    assert json.loads(text) == json.loads(GOLDEN.read_text()), \
        "the rendering changed: review it, then UPDATE_GOLDEN=1 pytest tests/unit/components"


def test_json_lists_each_cloud_sites_capacity():
    data = json.loads(invoke(str(EXAMPLE), "-f", "json", "--on", DAY.isoformat()).stdout)
    assert data["plan"] == "frontier-2027" and data["on"] == DAY.isoformat()
    assert data["count"] == len(data["resources"])
    kinds = {(r["type"].split(":")[1], r["type"].split(":")[2]) for r in data["resources"] if r["type"].startswith("capacity:")}
    for cloud in ("aws", "azure", "gcp"):
        assert {(cloud, k) for k in ("SiteNetwork", "GpuCluster", "Reservation", "LeasePool", "LinkEnd")} <= kinds
    assert set(data["resources"][0]) == {"type", "name", "parent", "inputs"}
    assert any("cannot be cancelled" in w for w in data["warnings"]) is False  # burst-a's block ended on 2027-01-18


def test_text_indents_children_under_their_component():
    result = invoke(str(EXAMPLE), "--on", DAY.isoformat())
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    at = lines.index("capacity:aws:SiteNetwork  aws-use1")
    assert lines[at + 1].startswith("  aws:") and "cidrBlock" in "".join(lines[at:at + 40])
    assert lines[-1].endswith("resources in plan frontier-2027 as of 2027-02-01.")
    assert "warning: cluster 'train-z'" in result.stderr


def test_secrets_are_never_printed():
    data = json.loads(invoke(str(EXAMPLE), "-f", "json").stdout)
    keys = {"tunnel1PresharedKey", "tunnel2PresharedKey", "sharedKey", "sharedSecret"}
    found = [r["inputs"][k] for r in data["resources"] for k in keys if k in r["inputs"]]
    # per link: AWS 2 tunnel keys, Azure 1 shared key, GCP 1 shared secret, OCI 2 tunnel secrets
    assert len(found) == (2 + 1) + (2 + 1) + (1 + 1) + (1 + 2) and set(found) == {"[secret]"}


def test_invalid_plan_and_bad_options(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(AWS_ONLY.replace("p5.48xlarge", "p5.48xlarg") % "10.0.0.0/16")
    result = invoke(str(bad))
    assert result.exit_code == 1 and "p5.48xlarg" in result.stderr
    assert invoke(str(EXAMPLE), "--on", "2027-02-30").exit_code == 2
    assert invoke(str(EXAMPLE), "--format", "yaml").exit_code == 2


@pytest.mark.parametrize("day,words", [("2027-02-30", "2027-02-30 is not a real calendar date"),
                                       ("next week", "'next week' is not a date; write YYYY-MM-DD")])
def test_a_bad_on_date_is_named_as_validate_names_it(day, words):
    result = invoke(str(EXAMPLE), "--on", day)
    assert result.exit_code == 2
    assert words in " ".join(result.output.split())  # the usage box may wrap it


def test_a_network_too_small_for_the_cloud_is_a_clear_error(tmp_path):
    plan = tmp_path / "small.yaml"
    plan.write_text(AWS_ONLY % "10.0.0.0/28")
    result = invoke(str(plan))
    assert result.exit_code == 1  # refused by the plan's checks, before any component runs
    assert "10.0.0.0/28 is too small" in result.stderr and "/26 or larger" in result.stderr
    assert "Traceback" not in result.output


def test_azure_instances_need_an_ssh_key(monkeypatch, tmp_path):
    plan = tmp_path / "azure.yaml"
    plan.write_text("""apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: vms}
sites:
  west: {provider: azure, region: eastus, network: {cidr: 10.0.0.0/16}}
clusters:
  batch: {site: west, instance_type: Standard_ND96isr_H100_v5, nodes: 2, orchestrator: none}
""")
    result = invoke(str(plan), "-f", "json")
    assert result.exit_code == 0
    scale_set = next(r for r in json.loads(result.stdout)["resources"]
                     if r["type"] == "azure-native:compute:VirtualMachineScaleSet")
    assert scale_set["inputs"]["sku"] == {"capacity": 2, "name": "Standard_ND96isr_H100_v5", "tier": "Standard"}
    monkeypatch.setattr(render_module, "CONFIG", {})
    result = invoke(str(plan))
    assert result.exit_code == 1 and "pulumi config set capacity:sshPublicKey" in result.stderr


def test_an_aws_only_plan_imports_neither_azure_nor_gcp(tmp_path):
    plan = tmp_path / "aws.yaml"
    plan.write_text(AWS_ONLY % "10.0.0.0/16")
    code = f"""
import json, sys
import capacity.cli.resources
assert "pulumi" not in sys.modules, "importing the command must not import pulumi"
from capacity.plan.loading import load_plan
from capacity.components.render import render
types = {{r["type"] for r in render(load_plan({str(plan)!r})).resources}}
assert "aws:eks/cluster:Cluster" in types, types
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in
                        ("pulumi_aws", "pulumi_azure_native", "pulumi_gcp", "pulumi_oci"))))
"""
    env = dict(os.environ, CAPACITY_STATE_DIR=str(tmp_path / ".capacity"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, env=env).stdout
    loaded = {name.split(".")[0] for name in json.loads(out)}
    assert loaded == {"pulumi_aws"}


def test_a_provider_without_components_is_named():
    with pytest.raises(MissingProvider, match="no Pulumi components for provider 'nosuch'"):
        provider("nosuch")


def test_link_keys_are_generated_once_and_fit_every_cloud():
    keys = {PresharedKeyProvider().create({}).outs["key"] for _ in range(20)}
    assert len(keys) == 20
    for key in keys:  # AWS: 8-64 of letters, digits, '.', '_', not starting with 0
        assert len(key) == KEY_LENGTH and key.isalnum() and key.isascii() and key[0].isalpha()
    assert PresharedKeyProvider().diff("id", {"key": "a"}, {}).changes is False


def test_the_root_program_deploys_the_plan_named_in_stack_config(tmp_path):
    """The root program, as `pulumi up` runs it (by path), under the same mocks. Like `capacity up`,
    it needs an inventory for the owned site: here one imported beforehand."""
    rows = "".join(f"GB-{n:02d},r{n // 9},gb200-nvl72\n" for n in range(18))
    (tmp_path / "abilene.csv").write_text("serial,rack,model\n" + rows)
    code = f"""
import json, runpy
from capacity.inventory import import_file
from capacity.components.program import package
from capacity.components.render import mock_answers, render_program
import_file({str(tmp_path / "abilene.csv")!r}, "abilene-1")
answers = [mock_answers(package(name)) for name in ("aws", "azure", "gcp", "oci", "owned", "kubernetes")]
program = lambda: runpy.run_path({str(ROOT / "__main__.py")!r}, run_name="__main__")
for plan in ("stacks/example.yaml", "stacks/nosuch.yaml"):
    try:
        done = render_program(program, config={{"capacity:plan": plan}}, answers=answers)
        print(json.dumps(sorted({{r["type"] for r in done.resources}})))
    except Exception as exc:
        print(json.dumps(str(exc)))
"""
    env = dict(os.environ, CAPACITY_STATE_DIR=str(tmp_path / ".capacity"))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True, env=env)
    types, missing = (json.loads(line) for line in out.stdout.splitlines())
    assert {"capacity:aws:GpuCluster", "capacity:azure:GpuCluster", "capacity:gcp:GpuCluster",
            "capacity:owned:GpuCluster"} <= set(types)
    assert "stacks/nosuch.yaml" in missing and "Traceback" not in missing
