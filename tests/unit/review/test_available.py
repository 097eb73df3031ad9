"""`capacity available` on the hand-computed plan (plans/fit/hand.yaml): every step worked out by hand."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

from typer.testing import CliRunner

from capacity.cli.main import app
from capacity.plan.loading import load_plan
from capacity.review.available import available

HAND = Path(__file__).parent / "plans" / "fit" / "hand.yaml"
runner = CliRunner()
D = dt.date.fromisoformat


def steps(result, name):
    cluster = next(c for c in result.clusters if c.name == name)
    return [(str(s.start), str(s.end), s.gpus) for s in cluster.free]


def test_free_gpus_are_a_step_function_counting_every_lease_internal_included():
    result = available(load_plan(HAND), D("2027-01-01"), D("2027-07-01"))
    # 128 GPUs; the internal lease holds 16 all along to 06-01; acme 64 from 03-01 to 04-15
    assert steps(result, "big") == [("2027-01-01", "2027-03-01", 112), ("2027-03-01", "2027-04-15", 48),
                                    ("2027-04-15", "2027-06-01", 112), ("2027-06-01", "2027-07-01", 128)]
    assert steps(result, "mix") == [("2027-01-01", "2027-07-01", 12)]  # 32 - 8 dedicated - 12 shared
    assert steps(result, "lab") == [("2027-01-01", "2027-07-01", 32)]


def test_a_capacity_block_cluster_has_gpus_only_inside_its_block():
    result = available(load_plan(HAND), D("2027-01-01"), D("2027-03-01"))
    assert steps(result, "blk") == [("2027-01-01", "2027-02-01", 0), ("2027-02-01", "2027-02-15", 16),
                                    ("2027-02-15", "2027-03-01", 0)]


def test_a_window_starting_inside_a_lease_counts_it_from_the_first_day():
    result = available(load_plan(HAND), D("2027-04-01"), D("2027-04-20"))
    assert steps(result, "big") == [("2027-04-01", "2027-04-15", 48), ("2027-04-15", "2027-04-20", 112)]


def test_owned_sites_report_spare_inventory_nodes_and_power_headroom():
    room = available(load_plan(HAND), D("2027-01-01"), D("2027-02-01")).sites[0]
    # 7 free hgx-h100 in nodes.csv, 4 in cluster lab; 100 kW less 4 x 10.2 kW
    assert room.as_json() == {"name": "dc-1", "provider": "owned", "power_kw": 100.0, "draw_kw": 40.8,
                              "power_headroom_kw": 59.2, "spare_nodes": {"hgx-h100": 3}}


def test_an_inventory_outside_the_plans_folder_is_never_read(tmp_path):
    (tmp_path / "plans").mkdir()
    shutil.copy(HAND.with_name("nodes.csv"), tmp_path / "nodes.csv")
    plan = tmp_path / "plans" / "hand.yaml"
    plan.write_text(HAND.read_text().replace("inventory: nodes.csv", "inventory: ../nodes.csv"))
    room = available(load_plan(plan), D("2027-01-01"), D("2027-02-01")).sites[0]
    assert room.spare is None


def test_json_contract_and_filters():
    result = runner.invoke(app, ["available", str(HAND), "--from", "2027-01-01", "--to", "2027-03-01",
                                 "--accelerator", "H100", "--site", "aws-use1", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert set(data) == {"from", "to", "clusters", "sites"}
    assert (data["from"], data["to"]) == ("2027-01-01", "2027-03-01")
    assert [c["name"] for c in data["clusters"]] == ["big", "mix", "blk"]
    assert data["sites"] == []
    big = data["clusters"][0]
    assert set(big) == {"name", "site", "provider", "accelerator", "instance_type", "gpus", "free"}
    assert big["free"] == [{"start": "2027-01-01", "end": "2027-03-01", "gpus": 112}]
    assert (big["site"], big["provider"], big["accelerator"], big["instance_type"], big["gpus"]) == \
        ("aws-use1", "aws", "H100", "p5.48xlarge", 128)


def test_markdown_is_a_table_for_a_pr_comment():
    result = runner.invoke(app, ["available", str(HAND), "--from", "2027-01-01", "--to", "2027-07-01",
                                 "--format", "markdown"])
    assert result.exit_code == 0
    assert "| cluster | site | type | GPUs | free (from..to: GPUs) |" in result.stdout
    assert "| big | aws-use1 (aws) | p5.48xlarge (H100) | 128 | 2027-01-01..2027-03-01: 112; " in result.stdout
    assert "- dc-1: 3 hgx-h100 spare; power 40.8 of 100.0 kW used, 59.2 kW free" in result.stdout


def test_bad_command_lines_exit_2():
    for args, words in ((["--from", "2027-02-01", "--to", "2027-01-01"], "empty"),
                        (["--accelerator", "H10"], "Did you mean 'H100'"),
                        (["--site", "aws-use2"], "Did you mean 'aws-use1'")):
        result = runner.invoke(app, ["available", str(HAND), *args])
        assert result.exit_code == 2, (args, result.output)
        assert words in result.output
