"""The light core: a plan whose cloud SDK extra is missing is refused with the pip command."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.providers import missing_sdks, specs
from capacity.cli.main import app

ROOT = Path(__file__).parents[1]
runner = CliRunner()


@pytest.fixture
def without_azure(monkeypatch):
    """This interpreter as a core install plus every extra but azure would see it."""
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name.startswith("pulumi_azure_native") else real(name, *a))


def test_every_cloud_names_its_sdk_and_the_core_needs_none():
    sdks = {name: s.sdk for name, s in specs().items()}
    assert sdks == {"aws": "pulumi_aws", "azure": "pulumi_azure_native", "gcp": "pulumi_gcp",
                    "oci": "pulumi_oci", "owned": ""}
    extras = (ROOT / "pyproject.toml").read_text()
    for name, sdk in sdks.items():
        if sdk:
            assert f'{name} = ["{sdk.replace("_", "-")}' in extras


def test_installed_sdks_are_not_reported():
    assert missing_sdks(["aws", "azure", "gcp", "oci", "owned"]) == []


@pytest.mark.parametrize("command", [["resources"], ["preview"], ["up", "--yes"]])
def test_a_plan_needing_a_missing_extra_says_the_pip_command(without_azure, command, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = runner.invoke(app, [*command, str(ROOT / "stacks/example.yaml")])
    assert result.exit_code == 1
    assert "Microsoft Azure sites, and its Pulumi SDK (pulumi-azure-native) is not installed" in result.output
    assert "pip install 'capacity[azure]'" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / ".capacity").exists()  # refused before any stack was opened


def test_an_owned_plan_needs_no_extra(without_azure):
    result = runner.invoke(app, ["resources", str(ROOT / "stacks/quickstart.yaml"), "--format", "json"])
    assert result.exit_code == 0, result.output
