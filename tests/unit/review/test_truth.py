"""Reviews that tell the whole truth: internal use, every risk kind from a plan pair made for it,
risks quoting HEAD's figures, and plan text made inert in every output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from capacity.review.diff import RISK_KINDS

PLANS = Path(__file__).parent / "plans"
CATALOG = PLANS / "catalog.yaml"  # p5.48xlarge $56 a node-hour: $7.00 a GPU-hour
AS_OF = "2026-10-15"


def base() -> dict:
    return yaml.safe_load((PLANS / "base.yaml").read_text())


def write(tmp_path: Path, name: str, plan: dict) -> Path:
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(plan, sort_keys=False))
    return path


def diff(cli, tmp_path: Path, head: dict, fmt: str = "json", before: dict | None = None):
    result = cli("diff", write(tmp_path, "base", before or base()), write(tmp_path, "head", head),
                 "--format", fmt, "--as-of", AS_OF, "--catalog", CATALOG)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout) if fmt == "json" else result.stdout


def risks(out: dict, kind: str) -> list[dict]:
    return [r for r in out["risks"] if r["kind"] == kind]


# ------------------------------------------------------------------ internal use, by hand

INTERNAL = """
apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: lab}
sites:
  dallas-1: {provider: owned, location: "Dallas, TX", power_mw: 20, cost_per_gpu_hour: 1.20,
             network: {cidr: 10.40.0.0/16}}
clusters:
  infer-d: {site: dallas-1, instance_type: hgx-h100, nodes: 16}
leases:
  research:
    tenant: lab-research
    cluster: infer-d
    gpus: 64
    start: 2027-01-20
    end: 2027-03-10
    internal: true
    isolation: shared-quota
  initech:
    tenant: initech
    cluster: infer-d
    gpus: 32
    start: 2027-02-15
    end: 2027-04-01
    price_per_gpu_hour: 2.75
"""


def test_internal_use_by_hand_across_month_boundaries(cli, tmp_path):
    plan = tmp_path / "lab.yaml"
    plan.write_text(INTERNAL)
    result = cli("report", plan, "--catalog", CATALOG, "--format", "json", "--from", "2027-01-15", "--to", "2027-03-15")
    assert result.exit_code == 0, result.output
    out = json.loads(result.stdout)
    days = 17 + 28 + 14  # Jan 15-31, February, Mar 1-14
    available = 128 * days * 24
    internal = 64 * (12 + 28 + 9) * 24  # Jan 20-31, February, Mar 1-9
    leased = 32 * (14 + 14) * 24  # Feb 15-28, Mar 1-14
    assert (out["available_gpu_hours"], out["internal_gpu_hours"], out["leased_gpu_hours"]) == (available, internal, leased)
    assert out["idle_gpu_hours"] == available - internal - leased == 84_480
    assert out["utilisation"] == pytest.approx((internal + leased) / available)
    assert out["revenue"] == pytest.approx(leased * 2.75)  # internal use earns nothing
    assert out["lease_value"] == pytest.approx(32 * 45 * 24 * 2.75)  # only the sold lease has a value
    assert out["cost"] == pytest.approx(available * 1.20)
    january, february, march = out["months"]
    assert january["internal_peak"] == 64 and january["leased_peak"] == 0
    assert january["utilisation"] == pytest.approx(64 * 12 * 24 / (128 * 17 * 24))
    assert february["utilisation"] == pytest.approx((64 * 28 + 32 * 14) * 24 / (128 * 28 * 24))
    assert march["utilisation"] == pytest.approx((64 * 9 + 32 * 14) * 24 / (128 * 14 * 24))
    text = cli("report", plan, "--catalog", CATALOG, "--from", "2027-01-15", "--to", "2027-03-15").stdout
    assert "75,264 in internal use, 21,504 leased and 84,480 idle" in text


def test_internal_lease_has_no_price_and_a_sold_one_needs_one(cli, tmp_path):
    priced = tmp_path / "priced.yaml"
    priced.write_text(INTERNAL.replace("internal: true", "internal: true\n    price_per_gpu_hour: 1.0"))
    result = cli("validate", priced, "--catalog", CATALOG)
    assert result.exit_code == 1 and "an internal lease has no price. To fix:" in result.output
    unpriced = tmp_path / "unpriced.yaml"
    unpriced.write_text(INTERNAL.replace("    price_per_gpu_hour: 2.75\n", ""))
    result = cli("validate", unpriced, "--catalog", CATALOG)
    assert result.exit_code == 1 and "leases.initech" in result.output and "needs `price_per_gpu_hour`" in result.output


def test_diff_carries_internal_beside_leased(cli, tmp_path):
    head = base()
    head["leases"]["lab-train"] = {"tenant": "lab", "cluster": "train-a", "gpus": 64, "start": "2027-01-01",
                                   "end": "2027-02-01", "internal": True, "isolation": "shared-quota"}
    out = diff(cli, tmp_path, head)
    assert out["internal_gpu_hours"] == {"base": 0, "head": 64 * 31 * 24, "delta": 64 * 31 * 24}
    assert out["leased_gpu_hours"]["delta"] == 0 and out["lease_value"]["delta"] == 0
    assert out["providers"]["aws"]["internal_gpu_hours"]["head"] == 64 * 31 * 24
    assert "internal 0 GPU-h -> 47.6K GPU-h" in diff(cli, tmp_path, head, "text")


# ------------------------------------------------------------------ each risk kind from its own pair


def test_lease_below_cost_names_the_lease_and_both_prices(cli, tmp_path):
    head = base()
    head["leases"]["acme-train"]["price_per_gpu_hour"] = 2.00
    head["leases"]["acme-cheap"] = {"tenant": "acme-corp", "cluster": "train-z", "gpus": 16, "start": "2027-01-01",
                                    "end": "2027-02-01", "price_per_gpu_hour": 5.00, "isolation": "shared-quota"}
    found = {r["name"]: r for r in risks(diff(cli, tmp_path, head), "lease-below-cost")}
    assert set(found) == {"acme-train", "acme-cheap"}
    assert "lease acme-train (acme-corp) pays $2.00 per GPU-hour on cluster train-a, whose GPUs cost $7.00" \
        in found["acme-train"]["message"]
    # the reservation's committed price, not the catalog's ($12.00)
    assert "pays $5.00" in found["acme-cheap"]["message"] and "cost $8.50 (reservation price)" in found["acme-cheap"]["message"]
    assert f"${(8.50 - 5.00) * 16 * 31 * 24:,.0f} lost" in found["acme-cheap"]["message"]
    assert not risks(diff(cli, tmp_path, base()), "lease-below-cost")  # an old underpriced lease is not news


def test_reservation_money_spent_before_start(cli, tmp_path):
    head = base()
    head["clusters"]["train-a"]["reservation"]["lead_days"] = 30
    head["clusters"]["burst-a"]["reservation"]["lead_days"] = 14
    found = {r["name"]: r for r in risks(diff(cli, tmp_path, head), "reservation-paid-early")}
    assert found["train-a"]["level"] == "medium"
    assert f"${256 * 30 * 24 * 7.00:,.0f} is billed before its start" in found["train-a"]["message"]
    assert "bought on 2026-11-01, 30 days before its start on 2026-12-01" in found["train-a"]["message"]
    assert found["burst-a"]["level"] == "low"
    assert f"paid whole then: ${64 * 28 * 24 * 7.00:,.0f}" in found["burst-a"]["message"]
    purchases = {p["cluster"]: p for p in diff(cli, tmp_path, head)["purchases"]}
    assert purchases["burst-a"]["buy_day"] == "2026-12-21" and purchases["burst-a"]["state"] == "scheduled"


def test_reservation_ending_under_a_lease(cli, tmp_path):
    head = base()
    head["clusters"]["train-z"]["reservation"]["end"] = "2027-06-01"
    (risk,) = risks(diff(cli, tmp_path, head), "reservation-ends-under-lease")
    assert risk["level"] == "medium" and risk["name"] == "train-z"
    assert "ends on 2027-06-01, but 1 lease on it (acme-infer) run until 2027-12-01" in risk["message"]


def test_stack_renamed(cli, tmp_path):
    head = base()
    head["metadata"]["name"] = "review-2"
    out = diff(cli, tmp_path, head)
    (risk,) = risks(out, "stack-renamed")
    assert risk["level"] == "high"
    assert "new stack review-2" in risk["message"] and "old stack review keeps running and billing" in risk["message"]
    assert out["counts"]["changes"]["changed"] == 1 and not out["headline"].startswith("No changes")


def test_shrink_quotes_head_figures(cli, tmp_path):
    """The cluster goes 256 -> 96 GPUs while its lease goes 128 -> 80: HEAD's 80 is the figure."""
    head = base()
    head["clusters"]["train-a"]["nodes"] = 12
    head["leases"]["acme-train"]["gpus"] = 80
    (risk,) = risks(diff(cli, tmp_path, head), "capacity-shrunk")
    assert risk["message"] == ("cluster train-a shrinks from 256 to 96 GPUs under 1 active or future lease; "
                               "it still fits (at most 80 GPUs at once).")


def test_internal_use_cancelled(cli, tmp_path):
    before = base()
    before["leases"]["lab-train"] = {"tenant": "lab", "cluster": "train-a", "gpus": 64, "start": "2027-01-01",
                                     "end": "2027-02-01", "internal": True, "isolation": "shared-quota"}
    (risk,) = risks(diff(cli, tmp_path, base(), before=before), "internal-use-cancelled")
    assert risk["level"] == "low" and f"{64 * 31 * 24:,} GPU-hours" in risk["message"]


def test_every_risk_kind_is_documented():
    docs = (Path(__file__).parents[3] / "docs" / "plan-format.md").read_text()
    assert [kind for kind in RISK_KINDS if f"`{kind}`" not in docs] == []


# ------------------------------------------------------------------ hostile text made inert

HOSTILE = "Dallas\\e[2J\\rFORGED\\u202eX\\x85"


def test_control_characters_escaped_in_text_markdown_and_html(cli, tmp_path):
    head = base()
    plan_text = yaml.safe_dump(head, sort_keys=False).replace("location: Dallas, TX", f'location: "{HOSTILE}"')
    path = tmp_path / "hostile.yaml"
    path.write_text(plan_text)
    base_path = write(tmp_path, "base", base())
    outputs = [cli("diff", base_path, path, "--as-of", AS_OF, "--catalog", CATALOG, "-f", fmt).stdout
               for fmt in ("text", "markdown")]
    outputs += [cli("report", path, "--catalog", CATALOG, "-f", fmt).stdout for fmt in ("text", "markdown", "html")]
    assert "\\x1b[2J\\x0dFORGED\\u202eX\\x85" in outputs[0]
    assert "\\x1b\\[2J\\x0dFORGED\\u202eX\\x85" in outputs[1]  # and `[` escaped for Markdown
    assert "\\x1b[2J" in outputs[4] or "Dallas" not in outputs[4]
    for out in outputs:
        assert not {"\x1b", "\r", "\u202e", "\x85"} & set(out), out
    lines = outputs[0].splitlines()
    assert not any(line.startswith("FORGED") for line in lines)


def test_control_characters_escaped_in_error_messages(cli, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text((PLANS / "base.yaml").read_text().replace("  aws-use1:\n", '  "aws\\e[2J\\u202e":\n', 1))
    result = cli("validate", path, "--catalog", CATALOG)
    assert result.exit_code == 1
    assert "\\x1b[2J\\u202e" in result.output and not {"\x1b", "\u202e"} & set(result.output)


def test_gantt_axis_fits_a_short_block_and_marks_the_as_of_day(cli, tmp_path):
    head = base()
    head["clusters"]["burst-a"]["nodes"] = 4
    head["leases"]["globex-burst"]["gpus"] = 32
    result = cli("diff", write(tmp_path, "base", base()), write(tmp_path, "head", head), "--format", "markdown",
                 "--as-of", "2027-01-10", "--catalog", CATALOG)
    gantt = result.stdout.split("**`burst-a`** (changed)", 1)[1].split("```", 2)[1]
    assert "axisFormat %b %d" in gantt and "tickInterval 1week" in gantt  # 28 days: weeks, not months
    assert "todayMarker off" in gantt and "2027-01-10 :milestone, m0, 2027-01-10, 0d" in gantt
    assert "capacity-block :r0, 2027-01-04, 2027-02-01" in gantt


def test_negative_margin_is_marked(cli, tmp_path):
    plan = tmp_path / "lab.yaml"
    plan.write_text(INTERNAL)
    window = ["--from", "2027-01-15", "--to", "2027-03-15"]
    margin = 32 * 28 * 24 * 2.75 - 128 * 59 * 24 * 1.20  # -$158,362
    md = cli("report", plan, "--catalog", CATALOG, "-f", "markdown", *window).stdout
    assert f"**-${-margin:,.0f}** \u25bc" in md
    page = cli("report", plan, "--catalog", CATALOG, "-f", "html", *window).stdout
    assert f'<td class="n neg" title="negative margin">\u25bc -${-margin:,.0f}</td>' in page
    # The headline keeps sold leases apart from internal use, which is a cost, never a loss (issue 19).
    headline = cli("report", plan, "--catalog", CATALOG, *window).stdout
    sold = 32 * 28 * 24 * (2.75 - 1.20)  # revenue less the cost of the sold GPUs: $33,331
    assert f"Sold leases: revenue $59.1K, cost of their GPUs $25.8K, margin ${sold / 1000:.1f}K." in headline
    assert "Internal use (the company's own work): cost" in headline and "(a loss)" not in headline
