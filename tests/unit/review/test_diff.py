"""`capacity diff` on the plan pairs: golden markdown and JSON, plus the figures and risks that matter.

Goldens live in tests/golden/diff-<pair>.{md,json}. After an intended change of output, rewrite
them with CAPACITY_UPDATE_GOLDEN=1 and read the diff of the goldens before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[3]
GOLDEN = ROOT / "tests" / "golden"
PLANS = "tests/unit/review/plans"
AS_OF = "2026-11-15"
CATALOG = f"{PLANS}/catalog.yaml"  # round prices: p5.48xlarge $56/h, a3-highgpu-8g $88/h
PAIRS = ["growth", "shrink", "reprice", "no-reservation", "no-site", "no-link"]
HOURS = 730


def run_diff(cli, pair: str, fmt: str):
    result = cli("diff", f"{PLANS}/base.yaml", f"{PLANS}/{pair}.yaml", "--format", fmt, "--as-of", AS_OF,
                 "--catalog", CATALOG)
    assert result.exit_code == 0, result.output
    return result.stdout


def diff_json(cli, pair: str) -> dict:
    return json.loads(run_diff(cli, pair, "json"))


def check_golden(name: str, actual: str) -> None:
    path = GOLDEN / name
    if os.environ.get("CAPACITY_UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"{path} is missing; run with CAPACITY_UPDATE_GOLDEN=1 to write it"
    assert actual == path.read_text(encoding="utf-8"), f"{name} differs from its golden"


@pytest.mark.parametrize("pair", PAIRS)
def test_markdown_golden(cli, pair):
    check_golden(f"diff-{pair}.md", run_diff(cli, pair, "markdown"))


@pytest.mark.parametrize("pair", PAIRS)
def test_json_golden(cli, pair):
    check_golden(f"diff-{pair}.json", run_diff(cli, pair, "json"))


@pytest.mark.parametrize("pair", PAIRS)
def test_json_contract(cli, pair):
    """The shape docs/plan-format.md promises to CI."""
    out = diff_json(cli, pair)
    for key in ("gpus", "monthly_cost", "lease_value"):
        assert set(out[key]) == {"base", "head", "delta"}
        assert out[key]["delta"] == pytest.approx(out[key]["head"] - out[key]["base"], abs=0.011)
    assert all(isinstance(out["gpus"][k], int) for k in ("base", "head", "delta"))
    assert out["changes"], "every pair changes something"
    for change in out["changes"]:
        assert change["kind"] in ("added", "removed", "changed")
        assert change["object"] in ("site", "cluster", "lease", "link", "reservation")
        assert isinstance(change["name"], str) and isinstance(change["detail"], str) and change["detail"]
    for risk in out["risks"]:
        assert risk["level"] in ("high", "medium", "low")
        assert isinstance(risk["name"], str) and risk["message"]
        assert risk["objects"]
    # per provider and per site breakdowns add up to the totals
    for key in ("gpus", "monthly_cost", "lease_value"):
        for side in ("base", "head"):
            assert sum(p[key][side] for p in out["providers"].values()) == pytest.approx(out[key][side], abs=0.05)
            assert sum(s[key][side] for s in out["sites"].values()) == pytest.approx(out[key][side], abs=0.05)


def risks(out: dict) -> dict[tuple[str, str], dict]:
    return {(r["kind"], r["name"]): r for r in out["risks"]}


def test_growth(cli):
    out = diff_json(cli, "growth")
    # train-a: 32 -> 96 p5.48xlarge nodes at $56 an hour; serve-g: 4 new a3-highgpu-8g at $88; the new
    # VPN aws-use1 <-> gcp-usc1: an AWS VPN connection at $0.05 an hour and two HA VPN tunnels at $0.05.
    assert out["gpus"] == {"base": 576, "head": 1120, "delta": 544}
    assert out["monthly_cost"]["delta"] == pytest.approx(64 * 56 * HOURS + 4 * 88 * HOURS + (0.05 + 0.10) * HOURS,
                                                         abs=0.01)
    # acme-train-2: 512 GPUs for 183 days at $2.20.
    assert out["lease_value"]["delta"] == pytest.approx(512 * 183 * 24 * 2.20, abs=0.01)
    assert out["headline"].startswith("+512 H100 on aws-use1, +32 H100 on gcp-usc1, +$2.87M/month")
    assert out["headline"].endswith("2 medium risks")
    # acme-train-2 sells at $2.20 GPUs that cost $7.00; train-a's larger reservation costs more before it starts
    assert {(r["kind"], r["name"]) for r in out["risks"]} == {("lease-below-cost", "acme-train-2"),
                                                            ("reservation-paid-early", "train-a")}
    assert out["sites"]["gcp-usc1"]["status"] == "added"
    assert out["providers"]["gcp"]["gpus"] == {"base": 0, "head": 32, "delta": 32}
    kinds = {(c["kind"], c["object"], c["name"]) for c in out["changes"]}
    assert kinds == {("added", "site", "gcp-usc1"), ("added", "link", "aws-use1--gcp-usc1"),
                     ("added", "cluster", "serve-g"), ("changed", "cluster", "train-a"),
                     ("added", "lease", "acme-train-2")}
    train_a = next(c for c in out["changes"] if c["name"] == "train-a")
    assert train_a["fields"] == {"nodes": {"base": 32, "head": 96}}


def test_shrink_under_leases(cli):
    out = diff_json(cli, "shrink")
    found = risks(out)
    # train-a goes 256 -> 64 GPUs while acme-train goes 128 -> 64: HEAD's lease still fits.
    shrunk = found[("capacity-shrunk", "train-a")]
    assert shrunk["level"] == "medium" and "it still fits (at most 64 GPUs at once)" in shrunk["message"]
    assert "lease:acme-train" in shrunk["objects"]
    # infer-d loses 16 GPUs but initech-serve's 96 still fit: a warning, not an alarm.
    assert found[("capacity-shrunk", "infer-d")]["level"] == "medium"
    assert found[("lease-shrunk", "acme-train")]["level"] == "medium"
    assert out["headline"].endswith("3 medium risks")
    assert out["gpus"]["delta"] == -(24 * 8 + 2 * 8)
    # 24 p5.48xlarge nodes at $56 and 2 owned nodes of 8 GPUs at $1.20 per GPU-hour, for 730 hours.
    assert out["monthly_cost"]["delta"] == pytest.approx(-(24 * 56 + 2 * 8 * 1.20) * HOURS)


def test_repricing_shortening_cancelling(cli):
    out = diff_json(cli, "reprice")
    found = risks(out)
    assert found[("lease-repriced", "acme-infer")]["level"] == "medium"  # cheaper: revenue lost
    assert found[("lease-repriced", "initech-serve")]["level"] == "low"  # dearer
    assert found[("lease-shortened", "acme-train")]["level"] == "medium"
    cancelled = found[("lease-cancelled", "globex-burst")]
    assert cancelled["level"] == "medium" and "before it starts" in cancelled["message"]
    # acme-infer: 64 GPUs x 334 days x 24 h x (2.60 - 3.10); initech: 96 x 365 x 24 x 0.25;
    # acme-train: 128 x 61 days x 24 h x 2.40 less; globex-burst: 64 x 28 x 24 x 4.00 gone.
    expected = 64 * 334 * 24 * -0.50 + 96 * 365 * 24 * 0.25 - 128 * 61 * 24 * 2.40 - 64 * 28 * 24 * 4.00
    assert out["lease_value"]["delta"] == pytest.approx(expected, abs=0.01)
    assert out["monthly_cost"]["delta"] == 0


def test_removing_reservations(cli):
    out = diff_json(cli, "no-reservation")
    found = risks(out)
    block = found[("reservation-removed", "burst-a")]
    assert block["level"] == "high" and "cannot be cancelled" in block["message"]
    held = found[("reservation-removed", "train-a")]
    assert held["level"] == "high" and "acme-train" in held["message"]
    assert found[("reservation-shortened", "train-z")]["level"] == "medium"
    changes = {(c["kind"], c["object"], c["name"]) for c in out["changes"]}
    assert changes == {("removed", "reservation", "burst-a"), ("removed", "reservation", "train-a"),
                       ("changed", "reservation", "train-z")}


def test_removing_a_site(cli):
    out = diff_json(cli, "no-site")
    found = risks(out)
    site = found[("site-removed", "azure-eus2")]
    assert site["level"] == "high" and "acme-infer" in site["message"]
    assert found[("capacity-removed", "train-z")]["level"] == "high"
    assert found[("lease-cancelled", "acme-infer")]["level"] == "medium"
    assert out["sites"]["azure-eus2"]["status"] == "removed"
    # train-z: 128 GPUs at its reservation's $8.50 per GPU-hour; the link's AWS VPN connection at $0.05 an hour.
    assert out["monthly_cost"]["delta"] == pytest.approx(-128 * 8.50 * HOURS - 0.05 * HOURS)
    assert out["providers"]["azure"]["gpus"] == {"base": 128, "head": 0, "delta": -128}


def test_removing_a_link_between_sites_serving_one_tenant(cli):
    out = diff_json(cli, "no-link")
    risk, only_path = sorted(out["risks"], key=lambda r: r["kind"])
    assert risk["kind"] == "link-removed" and risk["level"] == "medium"
    assert "acme-corp" in risk["message"] and set(risk["objects"]) >= {"lease:acme-train", "lease:acme-infer"}
    # It was the sites' only path: the clusters' leases beyond it are cut off.
    assert only_path["kind"] == "only-path-removed" and only_path["level"] == "high"
    assert "no path between them" in only_path["message"]
    assert set(only_path["objects"]) >= {"link:aws-use1--azure-eus2", "lease:acme-infer", "lease:acme-train"}
    # The AWS VPN connection's $0.05 an hour is saved.
    assert out["monthly_cost"]["delta"] == pytest.approx(-0.05 * HOURS)


def test_as_of_decides_what_is_at_risk(cli):
    """After every lease has ended, removing the site is still a change but puts no lease at risk."""
    result = cli("diff", f"{PLANS}/base.yaml", f"{PLANS}/no-site.yaml", "--format", "json", "--as-of", "2029-01-01",
                 "--catalog", CATALOG)
    out = json.loads(result.stdout)
    assert {(r["kind"], r["level"]) for r in out["risks"]} == {("site-removed", "medium")}


def test_no_changes(cli):
    out = json.loads(cli("diff", f"{PLANS}/base.yaml", f"{PLANS}/base.yaml", "--format", "json").stdout)
    assert out["changes"] == [] and out["risks"] == [] and out["gpus"]["delta"] == 0
    assert out["headline"] == "No changes to review"


def test_markdown_has_what_a_reviewer_reads(cli):
    text = run_diff(cli, "shrink", "markdown")
    lines = text.splitlines()
    assert lines[0] == "<!-- capacity-diff: tests/unit/review/plans/shrink.yaml -->"
    assert lines[1].startswith("### Capacity plan `review`: -192 H100 on aws-use1")
    assert "| **Total** | 576 \u2192 368 | -208 |" in text
    assert "#### Risks: 3 medium" in text
    assert "<details><summary><b>Changes</b>: 3 changed</summary>" in text
    gantt = text.split("```mermaid\n", 1)[1].split("```", 1)[0]
    assert gantt.startswith("gantt\n") and "dateFormat YYYY-MM-DD" in gantt
    assert "acme-train 128 GPUs (before) :done, t0, 2026-12-01, 2027-06-01" in gantt
    assert "acme-train 64 GPUs (changed) :active, t1, 2026-12-01, 2027-06-01" in gantt


def test_text_format(cli):
    text = run_diff(cli, "no-site", "text")
    assert text.startswith("review: -128 H100 on azure-eus2, -$794K/month")
    assert "HIGH    azure-eus2 (site-removed): site azure-eus2 (azure eastus2) is removed" in text
    assert "  - site azure-eus2: azure eastus2, 10.20.0.0/16" in text


def test_the_example_plan_against_an_edited_copy(cli, tmp_path):
    """Done means: two versions of stacks/example.yaml give a comment with headline, table, risks, gantt."""
    example = (ROOT / "stacks/example.yaml").read_text()
    edited = example.replace("    nodes: 64\n", "    nodes: 128\n", 1).replace("    gpus: 432\n", "    gpus: 360\n", 1)
    assert edited != example
    head = tmp_path / "example.yaml"
    head.write_text(edited)
    result = cli("diff", ROOT / "stacks/example.yaml", head, "--format", "markdown", "--as-of", "2026-11-15")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "+512 H100 on aws-use1" in text.splitlines()[1]
    assert "| **Total** |" in text and "#### Risks:" in text and "```mermaid\ngantt" in text
    assert "umbrella-infer" in text
