"""validate, schema and catalog as a user runs them: output, JSON shapes and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.plan.schema import plan_schema
from capacity.cli.main import app

ROOT = Path(__file__).parents[3]
runner = CliRunner()


@pytest.mark.parametrize("plan,gpus", [("stacks/example.yaml", 2864), ("stacks/quickstart.yaml", 64)])
def test_validate_shipped_plans(plan, gpus):
    result = runner.invoke(app, ["validate", str(ROOT / plan), "--format", "json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    assert out["valid"] is True and out["errors"] == []
    assert out["summary"]["gpus"] == gpus
    assert {"sites", "clusters", "leases", "gpus"} <= set(out["summary"])


def test_validate_text_summary():
    result = runner.invoke(app, ["validate", str(ROOT / "stacks/example.yaml")])
    assert result.exit_code == 0
    assert "valid. 5 sites (aws, azure, gcp, oci, owned), 7 clusters, 2,864 GPUs, 14 leases, 4 links; 1 warning." in result.stdout


def test_counts_agree_with_their_nouns(tmp_path):
    plan = tmp_path / "one.yaml"
    plan.write_text("apiVersion: capacity/v1\nkind: CapacityPlan\nmetadata: {name: one}\nsites:\n"
                    "  east: {provider: aws, region: us-east-1, network: {cidr: 10.0.0.0/16}}\n"
                    "clusters:\n  train: {site: east, instance_type: p5.4xlarge, nodes: 1}\n")
    result = runner.invoke(app, ["validate", str(plan)])
    assert result.exit_code == 0, result.output
    assert f"{plan}: valid. 1 site (aws), 1 cluster, 1 GPU, 0 leases, 0 links." in result.stdout


def test_docs_example_is_a_valid_plan(tmp_path):
    doc = (ROOT / "docs/plan-format.md").read_text()
    example = doc.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "docs-example.yaml"
    path.write_text(example)
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 0, result.output


def test_committed_schema_is_current():
    committed = json.loads((ROOT / "schema/capacity-plan.schema.json").read_text())
    assert committed == plan_schema(), "run: capacity schema > schema/capacity-plan.schema.json"


def test_schema_command_prints_the_schema():
    result = runner.invoke(app, ["schema"])
    assert result.exit_code == 0
    schema = json.loads(result.stdout)
    assert schema["properties"]["apiVersion"]["const"] == "capacity/v1"
    assert schema["additionalProperties"] is False
    assert {"sites", "clusters", "leases", "links", "metadata"} <= set(schema["properties"])


def test_catalog_json_one_object_per_type():
    result = runner.invoke(app, ["catalog", "--provider", "aws", "--format", "json"])
    assert result.exit_code == 0
    entries = json.loads(result.stdout)
    assert entries and all(e["provider"] == "aws" for e in entries)
    p5 = next(e for e in entries if e["instance_type"] == "p5.48xlarge")
    assert p5["accelerator"] == "H100" and p5["gpus"] == 8 and "us-east-1" in p5["regions"]
    assert p5["price_per_hour"] > 0
    assert {"provider", "instance_type", "accelerator", "gpus", "regions", "price_per_hour"} <= set(p5)


def test_catalog_covers_the_generations():
    result = runner.invoke(app, ["catalog", "--format", "json"])
    entries = json.loads(result.stdout)
    for provider in ("aws", "azure", "gcp"):
        have = {e["accelerator"] for e in entries if e["provider"] == provider}
        assert {"A100", "H100", "H200"} <= have, provider
    owned = [e for e in entries if e["provider"] == "owned"]
    assert all(e["kw_per_node"] for e in owned)
    assert any(e["accelerator"] == "GB200" and e["gpus"] == 72 for e in owned)


def test_catalog_text_table():
    result = runner.invoke(app, ["catalog", "--provider", "gcp"])
    assert result.exit_code == 0
    assert "a3-highgpu-8g" in result.stdout and "figures as of" in result.stdout


def test_catalog_override_file(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("instance_types:\n  - {provider: aws, instance_type: p5.48xlarge, accelerator: H100, gpus: 8,\n"
                     "     gpu_memory_gb: 80, price_per_hour: 40.0, regions: [us-east-1]}\n"
                     "  - {provider: owned, instance_type: my-box, accelerator: H100, gpus: 4, gpu_memory_gb: 80,\n"
                     "     kw_per_node: 5.0}\n")
    result = runner.invoke(app, ["catalog", "--catalog", str(extra), "--format", "json"])
    entries = {e["instance_type"]: e for e in json.loads(result.stdout)}
    assert entries["p5.48xlarge"]["price_per_hour"] == 40.0
    assert entries["my-box"]["gpus"] == 4
    plan = (ROOT / "stacks/quickstart.yaml").read_text().replace("instance_type: hgx-h100", "instance_type: my-box")
    path = tmp_path / "plan.yaml"
    path.write_text(plan)
    (tmp_path / "inventory").mkdir()
    (tmp_path / "inventory" / "quickstart-inventory.csv").write_text(
        (ROOT / "stacks/inventory/quickstart-inventory.csv").read_text())
    assert runner.invoke(app, ["validate", str(path)]).exit_code == 1
    result = runner.invoke(app, ["validate", str(path), "--catalog", str(extra), "--format", "json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["summary"]["gpus"] == 32


def test_bad_catalog_file_is_a_clear_error(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("instance_types:\n  - {provider: aws, instance_type: x, gpus: eight}\n")
    result = runner.invoke(app, ["catalog", "--catalog", str(extra)])
    assert result.exit_code == 1
    assert f"{extra}:2:" in result.stderr and "Traceback" not in result.output


@pytest.mark.parametrize("args", [["validate"], ["validate", "a", "b"], ["validate", "x.yaml", "--format", "xml"],
                                  ["catalog", "--provider", "ibm"], ["no-such-command"]])
def test_bad_command_line_exits_2(args):
    assert runner.invoke(app, args).exit_code == 2


def test_help_of_every_command():
    result = runner.invoke(app, ["--help"])
    assert result.exit_code == 0
    for name, command in _commands():
        sub = runner.invoke(app, [*name, "--help"])
        assert sub.exit_code == 0, name
        assert "Usage:" in sub.stdout


def _commands():
    import typer.main

    group = typer.main.get_command(app)
    for name, command in group.commands.items():
        yield [name], command
        for sub in getattr(command, "commands", {}) or {}:
            yield [name, sub], command.commands[sub]


@pytest.mark.parametrize("args", [["--help"], ["-h"], ["--version"], ["validate", "stacks/example.yaml"],
                                  ["diff", "stacks/quickstart.yaml", "stacks/example.yaml"],
                                  ["catalog", "--format", "json"], ["catalog", "--wide", "--region", "eastus"],
                                  ["schema"], ["schema", "--format", "json"]])
def test_read_only_commands_never_import_pulumi(args):
    code = (f"import sys\nfrom capacity.cli.main import app\ntry:\n    app({args!r})\nexcept SystemExit:\n    pass\n"
            "print('MODULES=' + ','.join(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi'))))")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("MODULES="))
    assert line == "MODULES=", line


def test_catalog_file_with_an_unknown_provider_says_which(tmp_path):
    extra = tmp_path / "extra.yaml"
    extra.write_text("regions: {aws2: [us-east-1]}\ninstance_types:\n"
                     "  - {provider: azur, instance_type: x, accelerator: H100, gpus: 8, gpu_memory_gb: 80}\n")
    result = runner.invoke(app, ["catalog", "--catalog", str(extra)])
    assert result.exit_code == 1 and result.stdout == ""
    assert f"{extra}:1:11: regions.aws2: unknown provider 'aws2'. Did you mean 'aws'?" in result.stderr
    assert f"{extra}:3:16: instance_types[0].provider: unknown provider 'azur'. Did you mean 'azure'?" in result.stderr
