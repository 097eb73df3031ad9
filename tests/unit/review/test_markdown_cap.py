"""The diff comment always fits in one GitHub comment (65,536 characters), and says what it left out."""

from __future__ import annotations

import datetime as dt
import re
import sys
from pathlib import Path

import pytest

from capacity.review import markdown as render_diff
from capacity.review.diff import diff_plans
from capacity.plan.loading import load_text

ROOT = Path(__file__).parents[3]
sys.path.insert(0, str(ROOT / "benchmarks"))
from genplan import generate  # noqa: E402


@pytest.fixture(scope="module")
def big_diff():
    """Thousands of changes and risks: every lease repriced down, every tenth cancelled, every cluster grown."""
    base = generate(20, 600, 6000, seed=7)  # genplan keeps leases apart at 10 a cluster
    head = re.sub(r"price_per_gpu_hour: [0-9.]+", "price_per_gpu_hour: 1.00", base)
    head = re.sub(r"(  lease-\d*0:\n(?:    .*\n)+)", "", head)  # leases whose number ends in 0
    head = re.sub(r"nodes: (\d+)", lambda m: f"nodes: {int(m.group(1)) + 1}", head)  # every cluster grows
    a, b = load_text(base, "base.yaml"), load_text(head, "head.yaml")
    return diff_plans(a, b, dt.date(2026, 12, 1), "base.yaml", "head.yaml")


def test_thousands_of_changes_fit_in_one_comment(big_diff):
    assert len(big_diff.changes) > 5000 and len(big_diff.risks) > 5000
    text = render_diff.markdown(big_diff)
    assert len(text) <= 65_536 and len(text.encode("utf-8")) <= 65_536
    lines = text.splitlines()
    assert lines[1].startswith("### Capacity plan `bench`: ")
    note = next(line for line in lines if line.startswith("> **Summarised to fit one GitHub comment"))
    risks_left = re.search(r"([\d,]+) of ([\d,]+) risks", note)
    changes_left = re.search(r"([\d,]+) of ([\d,]+) changes", note)
    assert risks_left and int(risks_left.group(2).replace(",", "")) == len(big_diff.risks)
    assert changes_left and int(changes_left.group(2).replace(",", "")) == len(big_diff.changes)
    # what is listed plus what is left out is everything
    listed_risks = sum(line.startswith(("- \U0001F534", "- \U0001F7E0", "- \U0001F7E1")) for line in lines)
    assert listed_risks + int(risks_left.group(1).replace(",", "")) == len(big_diff.risks)
    listed_changes = sum(line.startswith(("| added |", "| removed |", "| changed |")) for line in lines)
    assert listed_changes + int(changes_left.group(1).replace(",", "")) == len(big_diff.changes)
    assert listed_risks > 50 and listed_changes > 50, "the cap keeps a useful share of each"
    # the table and the structure survive
    assert "| **Total** |" in text
    assert text.count("<details>") == text.count("</details>") == 1
    assert text.count("```mermaid") == text.count("```") // 2


def test_a_smaller_limit_is_kept_too(big_diff):
    for limit in (12_000, 30_000):
        text = render_diff.markdown(big_diff, limit=limit)
        assert len(text.encode("utf-8")) <= limit
        assert "Summarised to fit" in text


def test_small_diffs_are_not_summarised(cli):
    result = cli("diff", "tests/unit/review/plans/base.yaml", "tests/unit/review/plans/no-site.yaml", "--format", "markdown",
                 "--as-of", "2026-11-15")
    assert result.exit_code == 0
    assert "Summarised" not in result.stdout and "more risks" not in result.stdout


def test_plan_text_is_inert_in_markdown():
    """Text from a plan cannot open HTML, mention people, or break the table."""
    hostile = "<img src=x onerror=alert(1)> @org/team | `code` [link](http://x)\nnext"
    out = render_diff.md(hostile)
    assert "<" not in out and ">" not in out and "\n" not in out
    assert "@org" not in out and "| " not in out.replace("\\|", "") and "`" not in out
    assert "](" not in out.replace("\\]", "")


def test_a_crowded_cluster_charts_its_changed_leases_first():
    leases = "".join(f"  l{i}:\n    tenant: t{i % 3}\n    cluster: c\n    gpus: 8\n    start: 2027-01-01\n"
                     f"    end: 2027-06-01\n    price_per_gpu_hour: 2.00\n" for i in range(60))
    base = ("apiVersion: capacity/v1\nkind: CapacityPlan\nmetadata: {name: crowded}\n"
            "sites:\n  s:\n    provider: owned\n    location: here\n    power_mw: 10\n    cost_per_gpu_hour: 1.0\n"
            "    network: {cidr: 10.0.0.0/16}\n"
            "clusters:\n  c: {site: s, instance_type: hgx-h100, nodes: 64}\nleases:\n" + leases)
    l59 = "  l59:\n    tenant: t2\n    cluster: c\n    gpus: 8"
    head = base.replace(l59, l59.replace("gpus: 8", "gpus: 16"))
    d = diff_plans(load_text(base, "a.yaml"), load_text(head, "b.yaml"), dt.date(2026, 12, 1))
    block = render_diff.gantt(d, "c")
    tasks = [line for line in block.splitlines() if re.search(r":\w*,? ?t\d+, ", line)]
    assert len(tasks) == render_diff.MAX_GANTT_LEASES
    assert any(line.strip().startswith("l59 16 GPUs (changed)") for line in tasks), "the changed lease is kept"
    assert "l59 8 GPUs (before)" in block
    assert f"_{60 + 1 - render_diff.MAX_GANTT_LEASES} more leases on `c` not charted._" in block
