"""Every kind of bad plan: exit 1, the file:line:column, the plan path, a sentence, nothing executed."""

from __future__ import annotations

import json
import tracemalloc
from pathlib import Path

import pytest
from typer.testing import CliRunner

from capacity.errors import PlanError
from capacity.plan.loading import load_plan
from capacity.plan.reader import MAX_BYTES
from capacity.cli.main import app

runner = CliRunner()
VALID = (Path(__file__).parent / "valid.yaml").read_text()


def edit(old: str, new: str) -> str:
    assert old in VALID, old
    return VALID.replace(old, new, 1)


def line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def validate_json(path) -> tuple[int, dict]:
    result = runner.invoke(app, ["validate", str(path), "--format", "json"])
    return result.exit_code, json.loads(result.stdout)


# (id, plan text, plan path of the error, text on the error's line, words the message must hold)
CASES = [
    ("unknown-key", edit("    nodes: 4\n", "    nodse: 4\n    nodes: 4\n"), "clusters.train-a.nodse", "nodse",
     ["unknown key 'nodse'", "Did you mean 'nodes'"]),
    ("duplicate-key", edit("    nodes: 8\n", "    nodes: 8\n    nodes: 9\n"), "clusters.lab.nodes", "nodes: 9",
     ["duplicate key 'nodes'"]),
    ("wrong-type", edit("    nodes: 4\n", "    nodes: four\n"), "clusters.train-a.nodes", "nodes: four",
     ["whole number", "'four'"]),
    ("null-nodes", edit("    nodes: 4\n", "    nodes: null\n"), "clusters.train-a.nodes", "nodes: null",
     ["whole number", "null"]),
    ("negative-nodes", edit("    nodes: 4\n", "    nodes: -4\n"), "clusters.train-a.nodes", "nodes: -4",
     ["more than 0", "-4"]),
    ("zero-nodes", edit("    nodes: 4\n", "    nodes: 0\n"), "clusters.train-a.nodes", "nodes: 0", ["more than 0"]),
    ("fractional-nodes", edit("    nodes: 4\n", "    nodes: 4.5\n"), "clusters.train-a.nodes", "nodes: 4.5",
     ["whole number", "4.5"]),
    ("100-digit-nodes", edit("    nodes: 4\n", "    nodes: " + "9" * 100 + "\n"), "clusters.train-a.nodes", "nodes: 999",
     ["at most 1,000,000"]),
    ("quoted-nodes", edit("    nodes: 4\n", "    nodes: '4'\n"), "clusters.train-a.nodes", "nodes: '4'", ["whole number"]),
    ("bool-nodes", edit("    nodes: 4\n", "    nodes: true\n"), "clusters.train-a.nodes", "nodes: true", ["whole number"]),
    ("nan-price", edit("price_per_gpu_hour: 2.40", "price_per_gpu_hour: .nan"), "leases.acme-q1.price_per_gpu_hour",
     "price_per_gpu_hour", ["finite"]),
    ("negative-price", edit("price_per_gpu_hour: 2.40", "price_per_gpu_hour: -2.40"),
     "leases.acme-q1.price_per_gpu_hour", "price_per_gpu_hour", ["at least 0"]),
    ("impossible-date", edit("    start: 2027-01-01\n    end: 2027-04-01", "    start: 2027-02-30\n    end: 2027-04-01"),
     "leases.acme-q1.start", "2027-02-30", ["not a real calendar date"]),
    ("not-a-date", edit("    end: 2027-04-01", "    end: next spring"), "leases.acme-q1.end", "next spring",
     ["YYYY-MM-DD"]),
    ("lease-end-before-start", edit("    end: 2027-04-01", "    end: 2026-04-01"), "leases.acme-q1.end",
     "end: 2026-04-01", ["on or before it starts"]),
    ("reservation-end-before-start", edit("      end: 2027-12-31", "      end: 2026-12-31"),
     "clusters.train-a.reservation.end", "end: 2026-12-31", ["on or before it starts"]),
    ("unknown-provider", edit("    provider: azure", "    provider: azur"), "sites.azure-eus2", "azure-eus2:",
     ["unknown provider 'azur'", "Did you mean 'azure'"]),
    ("unknown-region", edit("region: eastus2", "region: eastsu2"), "sites.azure-eus2.region", "eastsu2",
     ["not a region of Microsoft Azure", "Did you mean 'eastus2'"]),
    ("unknown-instance-type", edit("instance_type: p5.48xlarge", "instance_type: p5.48xlarg"),
     "clusters.train-a.instance_type", "p5.48xlarg", ["not in the catalog", "Did you mean 'p5.48xlarge'"]),
    ("unknown-accelerator", edit("    instance_type: hgx-h100", "    accelerator: H1000"), "clusters.lab.accelerator",
     "H1000", ["not an accelerator"]),
    ("type-not-in-region", edit("region: us-east-1", "region: af-south-1"), "clusters.train-a.instance_type",
     "p5.48xlarge", ["not offered in af-south-1"]),
    ("upper-case-name", edit("  lab:\n", "  Lab:\n").replace("cluster: train-a", "cluster: train-a"), "clusters.Lab",
     "Lab:", ["not a lowercase DNS label", "'lab'"]),
    ("underscore-name", edit("  train-a:\n", "  train_a:\n"), "clusters.train_a", "train_a:",
     ["not a lowercase DNS label", "'train-a'"]),
    ("homoglyph-name", edit("  lab:\n", "  l\u0430b:\n"), "clusters.l\u0430b", "b:", ["non-ASCII", "U+0430"]),
    ("long-name", edit("  lab:\n", "  " + "a" * 64 + ":\n"), "clusters." + "a" * 64, "aaaa:", ["at most 63"]),
    ("missing-site", edit("    site: dc-1", "    site: dc-2"), "clusters.lab.site", "site: dc-2",
     ["site 'dc-2' is not defined", "Did you mean 'dc-1'"]),
    ("missing-cluster", edit("    cluster: train-a", "    cluster: train-b"), "leases.acme-q1.cluster", "train-b",
     ["cluster 'train-b' is not defined", "Did you mean 'train-a'"]),
    ("overlapping-cidr", edit("cidr: 10.20.0.0/16", "cidr: 10.10.128.0/17"), "sites.azure-eus2.network.cidr",
     "10.10.128.0/17", ["overlaps 10.10.0.0/16", "aws-use1"]),
    ("invalid-cidr", edit("cidr: 10.20.0.0/16", "cidr: 10.20.0.1/16"), "sites.azure-eus2.network.cidr",
     "10.20.0.1/16", ["not a valid IPv4 CIDR"]),
    ("link-to-itself", edit("between: [aws-use1, azure-eus2]", "between: [aws-use1, aws-use1]"), "links[0].between",
     "between:", ["to itself"]),
    ("link-to-missing-site", edit("between: [aws-use1, azure-eus2]", "between: [aws-use1, gcp-x]"),
     "links[0].between[1]", "between:", ["site 'gcp-x' is not defined"]),
    ("over-power", edit("    nodes: 8\n", "    nodes: 120\n"), "sites.dc-1.power_mw", "power_mw",
     ["1.22 MW", "over the site's 1.00 MW"]),
    ("oversubscribed", edit("    isolation: dedicated-nodes\n", "    isolation: dedicated-nodes\n"
                            "  globex:\n    tenant: globex\n    cluster: train-a\n    gpus: 24\n"
                            "    start: 2027-03-01\n    end: 2027-05-01\n    price_per_gpu_hour: 3\n"),
     "leases.globex.gpus", "gpus: 24", ["on 2027-03-01", "40 GPUs, more than its 32", "acme-q1 (16)", "globex (24)"]),
    # (a lease may outlive a capacity reservation, as a risk in `diff`; it may not start before it)
    ("outside-reservation", edit("    start: 2027-01-01\n    end: 2027-04-01", "    start: 2026-12-01\n    end: 2027-04-01"),
     "leases.acme-q1", "acme-q1:", ["outside the reservation", "2027-12-31"]),
    ("dedicated-not-whole-nodes", edit("    gpus: 16", "    gpus: 12"), "leases.acme-q1.gpus", "gpus: 12",
     ["whole nodes of 8 GPUs", "lease 8 or 16"]),
    ("gpus-over-cluster", edit("    gpus: 16", "    gpus: 64"), "leases.acme-q1.gpus", "gpus: 64",
     ["more than cluster 'train-a' has (32)"]),
    ("capacity-block-on-azure", edit("    site: aws-use1\n    instance_type: p5.48xlarge",
                                     "    site: azure-eus2\n    instance_type: Standard_ND96isr_H100_v5")
     .replace("kind: capacity-reservation", "kind: capacity-block"), "clusters.train-a.reservation.kind",
     "capacity-block", ["does not support `capacity-block`"]),
    ("capacity-block-too-long", edit("kind: capacity-reservation", "kind: capacity-block"),
     "clusters.train-a.reservation.end", "end: 2027-12-31", ["1 to 182 days", "364"]),
    ("wrong-api-version", edit("apiVersion: capacity/v1", "apiVersion: capacity/v2"), "apiVersion", "capacity/v2",
     ["'capacity/v2' is not allowed", "capacity/v1"]),
    ("yaml-1.1-no-as-name", edit("  lab:\n", "  no:\n").replace("site: dc-1", "site: dc-1"), "clusters", "no:", []),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_bad_plan_is_reported_at_its_line(case, write_plan):
    name, text, path, marker, words = case
    if name == "yaml-1.1-no-as-name":
        # `no` stays the name "no" (YAML 1.2), it is not read as false: the plan is valid.
        loaded = load_plan(write_plan(text))
        assert "no" in loaded.plan.clusters and False not in loaded.plan.clusters
        return
    code, out = validate_json(write_plan(text))
    assert code == 1
    assert out["valid"] is False
    match = [e for e in out["errors"] if e["path"] == path]
    assert match, f"no error at {path}: {out['errors']}"
    error = match[0]
    assert error["line"] == line_of(text, marker)
    assert error["column"] >= 1
    for word in words:
        assert word in error["message"], (word, error["message"])


def test_every_violation_is_reported_in_one_run(write_plan):
    text = (edit("    nodes: 4\n", "    nodse: 4\n    nodes: 4\n")
            .replace("region: eastus2", "region: eastus9")
            .replace("    gpus: 16", "    gpus: 12")
            .replace("cidr: 10.40.0.0/16", "cidr: 10.10.0.0/24"))
    code, out = validate_json(write_plan(text))
    assert code == 1
    paths = {e["path"] for e in out["errors"]}
    # the typo'd cluster is reported once; the lease on it is not blamed for its cluster's typo
    assert {"clusters.train-a.nodse", "sites.azure-eus2.region", "sites.dc-1.network.cidr"} <= paths
    assert not any(p.startswith("leases.acme-q1.cluster") for p in paths)


def test_text_output_names_file_line_column_and_path(write_plan):
    path = write_plan(edit("    nodes: 4\n", "    nodes: -4\n"))
    result = runner.invoke(app, ["validate", str(path)])
    assert result.exit_code == 1
    line = line_of(VALID, "    nodes: 4")
    assert f"{path}:{line}:12: clusters.train-a.nodes: must be more than 0, not -4." in result.stderr
    assert "Traceback" not in result.output
    assert "1 problem found." in result.stderr


# --- files that are not plans at all ---------------------------------------------------------------

FILE_CASES = [
    ("not-yaml", b"sites: [unclosed\n  - x: {\n", "is not valid YAML"),
    ("binary", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "binary data"),
    ("not-utf8", "metadata: {name: caf\u00e9}\n".encode("latin-1"), "not UTF-8"),
    ("empty", b"", "is empty"),
    ("only-comments", b"# nothing here\n", "is empty"),
    ("top-level-list", b"- apiVersion: capacity/v1\n", "must be a mapping"),
    ("top-level-scalar", b"hello\n", "must be a mapping"),
    ("tabs", b"apiVersion: capacity/v1\nmetadata:\n\tname: x\n", "tab"),
    ("python-tag", b"apiVersion: !!python/object/apply:os.system ['touch /tmp/capacity-pwned']\n", "tags are not allowed"),
    ("python-name-tag", b"a: !!python/name:os.system\n", "tags are not allowed"),
    ("custom-tag", b"a: !Ref x\n", "tags are not allowed"),
    ("two-documents", b"a: 1\n---\nb: 2\n", "more than one YAML document"),
    ("undefined-alias", b"a: *nothing\n", "before its anchor"),
]


@pytest.mark.parametrize("case", FILE_CASES, ids=[c[0] for c in FILE_CASES])
def test_bad_file_gives_one_clear_error(case, write_plan):
    _, raw, words = case
    path = write_plan(raw)
    code, out = validate_json(path)
    assert code == 1
    assert len(out["errors"]) == 1
    assert words in out["errors"][0]["message"]
    assert out["errors"][0]["line"] >= 1


def test_python_tag_executes_nothing(write_plan, tmp_path):
    marker = tmp_path / "pwned"
    path = write_plan(f"apiVersion: !!python/object/apply:os.system ['touch {marker}']\n")
    code, _ = validate_json(path)
    assert code == 1
    assert not marker.exists()


def test_tab_error_points_at_the_tab(write_plan):
    code, out = validate_json(write_plan(b"apiVersion: capacity/v1\nmetadata:\n\tname: x\n"))
    assert code == 1
    assert (out["errors"][0]["line"], out["errors"][0]["column"]) == (3, 1)
    assert "indent with spaces" in out["errors"][0]["message"]


def test_not_utf8_points_at_the_byte(write_plan):
    code, out = validate_json(write_plan("a: 1\nb: caf\u00e9\n".encode("latin-1")))
    assert (out["errors"][0]["line"], out["errors"][0]["column"]) == (2, 7)
    assert "0xe9" in out["errors"][0]["message"]


def test_missing_file_and_directory(tmp_path):
    for target, words in ((tmp_path / "nope.yaml", "no such file"), (tmp_path, "is a directory")):
        code, out = validate_json(target)
        assert code == 1
        assert words in out["errors"][0]["message"]


def test_file_over_the_size_limit_is_refused_unread(write_plan):
    path = write_plan(b"a: " + b"x" * (MAX_BYTES + 10) + b"\n")
    tracemalloc.start()
    code, out = validate_json(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 1
    assert "larger than 16 MiB" in out["errors"][0]["message"]
    assert peak < 3 * MAX_BYTES  # read once, never parsed


def test_alias_bomb_is_bounded(write_plan):
    levels = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 12):
        prev = chr(ord("a") + i - 1)
        cur = chr(ord("a") + i)
        levels.append(f"{cur}: &{cur} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]")
    tracemalloc.start()
    code, out = validate_json(write_plan("\n".join(levels) + "\n"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 1
    assert "alias bomb" in out["errors"][0]["message"]
    assert peak < 50 * 1024 * 1024


@pytest.mark.parametrize("opener,closer", [("[", "]"), ("{a: ", "}")])
def test_deep_nesting_is_refused(write_plan, opener, closer):
    depth = 20_000
    tracemalloc.start()
    code, out = validate_json(write_plan(opener * depth + "1" + closer * depth + "\n"))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert code == 1
    error = out["errors"][0]
    # Our own count or libyaml's look-ahead may stop it first; either way it is our sentence,
    # placed on the one line, inside the brackets (libyaml stops within its first 1,000 levels).
    assert error["message"].endswith("nests deeper than 64 levels; a plan never needs that.")
    assert error["line"] == 1 and 64 <= error["column"] <= 1000 * len(opener) + 1
    assert peak < 50 * 1024 * 1024


def test_load_plan_raises_plan_error_with_sorted_problems(write_plan):
    text = edit("    nodes: 4\n", "    nodes: 0\n").replace("region: eastus2", "region: nowhere")
    with pytest.raises(PlanError) as caught:
        load_plan(write_plan(text))
    lines = [p.line for p in caught.value.problems]
    assert lines == sorted(lines) and len(lines) == 2


@pytest.mark.parametrize("old,new,path", [
    # a reservation ending before its start: its leases are not also reported as outside it
    ("      end: 2027-12-31", "      end: 2026-12-31", "clusters.train-a.reservation.end"),
    # a region not in the catalog: its clusters' types are not also reported as not offered there
    ("region: us-east-1", "region: us-east-9", "sites.aws-use1.region"),
])
def test_one_mistake_gives_one_error(write_plan, old, new, path):
    code, out = validate_json(write_plan(edit(old, new)))
    assert code == 1
    assert [e["path"] for e in out["errors"]] == [path]


@pytest.mark.parametrize("old,new,path", [
    ("instance_type: p5.48xlarge", "instance_type: p5.48xlarge", "clusters.train-a.instance_type"),
    ("instance_type: p5.48xlarge", "accelerator: H100", "clusters.train-a.accelerator"),
])
def test_regions_offered_are_listed_whole_with_the_suggestion(write_plan, old, new, path):
    from capacity.plan.catalog import shipped

    text = edit(old, new).replace("region: us-east-1", "region: eu-west-3")
    code, out = validate_json(write_plan(text))
    (error,) = [e for e in out["errors"] if e["path"] == path]
    offered = sorted(set().union(*(t.regions for t in shipped().of("aws") if t.accelerator == "H100"
                                   and (new.startswith("accelerator") or t.instance_type == "p5.48xlarge"))))
    listed = error["message"].split(" offered in ", 2)[-1].split(". To fix")[0].split(", ")
    assert listed == offered and len(offered) > 8
    suggested = error["message"].split("(e.g. ")[1].split(")")[0]
    assert suggested in offered and suggested.startswith("eu-west")


@pytest.mark.parametrize("named", ["/etc/hostname", "/etc/no-such-file-anywhere", "../../../../../etc/hostname"])
def test_validate_says_only_outside_the_repository_for_an_inventory_elsewhere(tmp_path, named):
    repo = tmp_path / "repo"
    (repo / ".git").mkdir(parents=True)
    plan = repo / "plan.yaml"
    plan.write_text("apiVersion: capacity/v1\nkind: CapacityPlan\nmetadata: {name: x}\nsites:\n  lab-1:\n"
                    "    provider: owned\n    location: A\n    power_mw: 1\n    cost_per_gpu_hour: 1\n"
                    f"    network: {{cidr: 10.0.0.0/16}}\n    inventory: {named}\n")
    result = CliRunner().invoke(app, ["validate", str(plan)])
    assert result.exit_code == 1
    assert "is outside the repository" in result.output
    assert "does not exist" not in result.output and "looked for" not in result.output
