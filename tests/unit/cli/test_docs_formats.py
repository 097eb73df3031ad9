"""docs/file-formats.md says what the code reads: its tables name the loader's columns and the
catalog model's fields, its examples load, and its errors are the ones the code gives."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.plan.catalog import CatalogFile, InstanceTypeEntry, load_catalog
from capacity.errors import PlanError
from capacity.plan import inventory_file as loader
from capacity.cli.main import app

ROOT = Path(__file__).parents[3]
PAGE = (ROOT / "docs/file-formats.md").read_text()


def section(title: str) -> str:
    return re.split(r"\n##+ ", PAGE.split(f"\n{title}\n", 1)[1], maxsplit=1)[0]


def table(title: str) -> dict[str, str]:
    """The first column of a section's table (names in backticks) -> its second column."""
    rows = re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", section(title), re.M)
    return {name: second.strip() for name, second in rows}


def blocks(title: str) -> list[str]:
    """The fenced code blocks of a section, without their fences."""
    return [fenced.split("\n", 1)[1] for fenced in section(title).split("```")[1::2]]


def test_inventory_columns_are_the_loaders():
    columns = table("### Columns")
    assert tuple(columns) == loader.COLUMNS
    assert [name for name, required in columns.items() if required == "yes"] == list(loader.REQUIRED)


def test_catalog_keys_and_fields_are_the_models():
    assert list(table("### Top-level keys")) == list(CatalogFile.model_fields)
    fields = table("### Instance type fields")
    assert list(fields) == list(InstanceTypeEntry.model_fields)
    required = [name for name, field in InstanceTypeEntry.model_fields.items() if field.is_required()]
    assert [name for name, text in fields.items() if text == "yes"] == required


@pytest.mark.parametrize("title,suffix", [("### CSV", ".csv"), ("### YAML", ".yaml")])
def test_inventory_examples_import(title, suffix, tmp_path):
    path = tmp_path / f"lab-1{suffix}"
    path.write_text(blocks(title)[0])
    nodes = loader.read_inventory(path, load_catalog())
    assert nodes and all(node.model == "hgx-h100" and node.gpus == 8 for node in nodes)
    assert {node.state for node in nodes} >= {"free"} and len({node.state for node in nodes}) == 2


def test_catalog_example_loads_and_its_errors_are_the_codes(tmp_path):
    example, _commands, documented = blocks("### An example")
    path = tmp_path / "our-catalog.yaml"
    path.write_text(example)
    catalog = load_catalog(path)
    assert catalog.lookup("aws", "p5.48xlarge").price_per_hour == 40.0
    assert catalog.lookup("owned", "hgx-b300").kw_per_node == 14.5
    assert catalog.as_of == "2026-12-01"
    shown = runner_lines(["catalog", "--catalog", str(path), "--provider", "owned"])
    assert any(line.split()[:2] == ["owned", "hgx-b300"] for line in shown)

    documented = documented.splitlines()
    path.write_text(example.replace(",\n     kw_per_node: 14.5}", "}"))
    assert _errors(path) == [documented[0].replace("our-catalog.yaml", str(path))]
    path.write_text("- {provider: aws}\n")
    assert _errors(path) == [documented[1].replace("our-catalog.yaml", str(path))]


def runner_lines(args: list[str]) -> list[str]:
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    return result.stdout.splitlines()


def _errors(path: Path) -> list[str]:
    with pytest.raises(PlanError) as caught:
        load_catalog(path)
    return [str(problem) for problem in caught.value.problems]
