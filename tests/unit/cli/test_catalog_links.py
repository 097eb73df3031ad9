"""`capacity catalog --links`: the link prices and the interconnect speeds a plan may use."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from capacity.cli.main import app

runner = CliRunner()


def test_links_as_json_with_monthly_prices():
    result = runner.invoke(app, ["catalog", "--links", "--provider", "oci", "--format", "json"])
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    assert {r["kind"] for r in rows} == {"vpn", "interconnect"}
    port = next(r for r in rows if r["bandwidth_gbps"] == 10 and not r["partner"])
    assert port["price_per_hour"] == 1.275 and port["price_per_month"] == 930.75


def test_links_as_text():
    result = runner.invoke(app, ["catalog", "--links", "--provider", "aws"])
    assert result.exit_code == 0
    assert "interconnect dedicated   10 Gbps    2.250/h      1,642/month" in result.stdout
    assert "data transfer not included" in result.stdout


def test_unknown_provider_is_a_usage_error():
    result = runner.invoke(app, ["catalog", "--links", "--provider", "awz"])
    assert result.exit_code == 2 and "Did you mean 'aws'" in result.output
