"""`capacity report`: figures checked against ones computed by hand, and the HTML file with its charts.

plans/base.yaml with the test catalog (p5.48xlarge at $56 a node-hour, so $7 a GPU-hour) over
January 2027 (31 days, 744 hours):

| cluster | GPUs | price / GPU-h | available GPU-h | leased GPU-h | revenue |
| train-a | 256 | 7.00 catalog | 256 x 744 | acme-train 128 x 744 | x 2.40 |
| burst-a | 64 | 7.00 catalog | 64 x 672 (capacity block from Jan 4) | globex-burst 64 x 672 | x 4.00 |
| train-z | 128 | 8.50 reservation | 128 x 744 | acme-infer 64 x 744 | x 3.10 |
| infer-d | 128 | 1.20 owned site | 128 x 744 | initech-serve 96 x 744 | x 2.75 |
"""

from __future__ import annotations

import json
from html.parser import HTMLParser

import pytest

PLAN = "tests/unit/review/plans/base.yaml"
CATALOG = "tests/unit/review/plans/catalog.yaml"
JANUARY = ["--from", "2027-01-01", "--to", "2027-02-01"]


def report(cli, *args: str):
    result = cli("report", PLAN, "--catalog", CATALOG, *args)
    assert result.exit_code == 0, result.output
    return result.stdout


@pytest.fixture
def january(cli) -> dict:
    return json.loads(report(cli, "--format", "json", *JANUARY))


def test_cluster_figures_by_hand(january):
    c = january["clusters"]
    assert c["train-a"]["monthly_cost"] == pytest.approx(256 * 7.00 * 730)
    assert c["train-a"]["price_source"] == "catalog"
    assert c["train-a"]["available_gpu_hours"] == 256 * 744
    assert c["train-a"]["leased_gpu_hours"] == 128 * 744
    assert c["train-a"]["utilisation"] == pytest.approx(0.5)
    assert c["train-a"]["revenue"] == pytest.approx(128 * 744 * 2.40)
    assert c["train-a"]["cost"] == pytest.approx(256 * 744 * 7.00)
    assert c["train-a"]["margin"] == pytest.approx(128 * 744 * 2.40 - 256 * 744 * 7.00)
    # a capacity block has its GPUs only from its start, 2027-01-04: 28 days
    assert c["burst-a"]["available_gpu_hours"] == 64 * 672
    assert c["burst-a"]["utilisation"] == pytest.approx(1.0)
    assert c["burst-a"]["cost"] == pytest.approx(64 * 672 * 7.00)
    assert c["burst-a"]["revenue"] == pytest.approx(64 * 672 * 4.00)
    # the reservation's own price beats the catalog's
    assert c["train-z"]["price_per_gpu_hour"] == 8.50 and c["train-z"]["price_source"] == "reservation"
    assert c["train-z"]["monthly_cost"] == pytest.approx(128 * 8.50 * 730)
    assert c["train-z"]["revenue"] == pytest.approx(64 * 744 * 3.10)
    # the owned site's cost per GPU-hour
    assert c["infer-d"]["price_source"] == "owned site"
    assert c["infer-d"]["monthly_cost"] == pytest.approx(128 * 1.20 * 730)
    assert c["infer-d"]["utilisation"] == pytest.approx(0.75)
    assert c["infer-d"]["cost"] == pytest.approx(128 * 744 * 1.20)


def test_lease_values_over_whole_terms(january):
    # lease value does not depend on the window: GPUs x hours x price over each whole term
    acme_train = 128 * 182 * 24 * 2.40
    globex = 64 * 28 * 24 * 4.00
    acme_infer = 64 * 334 * 24 * 3.10
    initech, hooli = 96 * 365 * 24 * 2.75, 32 * 151 * 24 * 2.50
    assert january["sites"]["aws-use1"]["lease_value"] == pytest.approx(acme_train + globex)
    assert january["providers"]["azure"]["lease_value"] == pytest.approx(acme_infer)
    assert january["clusters"]["infer-d"]["lease_value"] == pytest.approx(initech + hooli)
    assert january["lease_value"] == pytest.approx(acme_train + globex + acme_infer + initech + hooli)


def test_totals_by_hand(january):
    available = 256 * 744 + 64 * 672 + 128 * 744 + 128 * 744
    leased = 128 * 744 + 64 * 672 + 64 * 744 + 96 * 744
    revenue = 128 * 744 * 2.40 + 64 * 672 * 4.00 + 64 * 744 * 3.10 + 96 * 744 * 2.75
    cost = (256 * 744 + 64 * 672) * 7.00 + 128 * 744 * 8.50 + 128 * 744 * 1.20
    assert january["window"] == {"from": "2027-01-01", "to": "2027-02-01", "hours": 744}
    assert january["gpus"] == 576
    # GPUs, and the AWS end of the aws-use1 <-> azure-eus2 VPN at $0.05 an hour (Azure's is in its gateway).
    assert january["monthly_cost"] == pytest.approx((320 * 7.00 + 128 * 8.50 + 128 * 1.20 + 0.05) * 730)
    assert january["available_gpu_hours"] == available and january["leased_gpu_hours"] == leased
    assert january["utilisation"] == pytest.approx(leased / available, abs=1e-6)
    assert january["revenue"] == pytest.approx(revenue) and january["cost"] == pytest.approx(cost)
    assert january["margin"] == pytest.approx(revenue - cost)
    assert january["providers"]["aws"]["gpus"] == 320 and january["sites"]["dallas-1"]["gpus"] == 128


def test_leased_gpus_over_time(january):
    assert january["clusters"]["burst-a"]["leased_gpus"] == [
        {"from": "2027-01-01", "until": "2027-01-04", "gpus": 0},
        {"from": "2027-01-04", "until": "2027-02-01", "gpus": 64},
    ]
    # across the plan: acme-train 128 + acme-infer 64 + initech 96 from Jan 1, globex 64 more from Jan 4
    assert [step["gpus"] for step in january["leased_gpus"]] == [288, 352]
    assert january["months"] == [{"month": "2027-01", "capacity": 576, "leased_peak": 352, "internal_peak": 0,
                                  "utilisation": pytest.approx(january["utilisation"], abs=1e-6)}]


def test_default_window_spans_the_leases(cli):
    out = json.loads(report(cli, "--format", "json"))
    assert out["window"]["from"] == "2026-01-01" and out["window"]["to"] == "2027-12-01"  # hooli-old .. acme-infer
    assert out["revenue"] == pytest.approx(out["lease_value"])  # every lease lies inside it


def test_text_and_markdown(cli):
    text = report(cli, *JANUARY)
    assert text.startswith("review: 576 GPUs in 3 sites and 4 clusters")
    assert "    burst-a" in text and "100.0%" in text
    md = report(cli, "--format", "markdown", *JANUARY)
    assert "| **Total** | 576 | $2,541,604 |" in md  # $2,541,568 of GPUs and $36.50 of VPN
    assert "| 2027-01 | 576 | 352 | 0 | 60.7% |" in md


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_html_is_one_self_contained_file_with_charts(cli, tmp_path):
    path = tmp_path / "report.html"
    result = cli("report", PLAN, "--catalog", CATALOG, "--format", "html", "--output", path, *JANUARY)
    assert result.exit_code == 0, result.output
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    parser = _Tags()
    parser.feed(page)
    parser.close()
    names = [tag for tag, _ in parser.tags]
    assert names.count("svg") == 1 + 4 + 1, "one chart for the plan, one per cluster, the sites and links"
    # a band per tenant on the plan's chart (3 lease in January), per lease on a cluster's (4); a capacity line each
    assert names.count("polygon") == 3 + 4 and names.count("polyline") == 5
    assert {"acme-train \u00b7 acme-corp", "globex", "initech-serve \u00b7 initech"} <= set(parser.text)
    assert "script" not in names and "link" not in names and "img" not in names and "iframe" not in names
    for _, attrs in parser.tags:  # nothing fetched from elsewhere
        for key, value in attrs.items():
            assert key not in ("src", "href") and "://" not in (value or "") or value == "http://www.w3.org/2000/svg"
    assert "train-a on aws-use1: 256 H100 GPUs, utilisation 50.0%" in "".join(parser.text)
    # the capacity block's window is drawn
    assert any(tag == "rect" and attrs.get("class") == "res" for tag, attrs in parser.tags)


def test_html_escapes_plan_text():
    from capacity.review.economics import Steps, Window
    from capacity.review.report import chart
    import datetime as dt

    svg = chart("<script>alert(1)</script>", Steps((dt.date(2027, 1, 1),), (8,)), [],
                Window(dt.date(2027, 1, 1), dt.date(2027, 3, 1)))
    assert "<script>" not in svg and "&lt;script&gt;" in svg


def test_empty_window_is_a_usage_error(cli):
    result = cli("report", PLAN, "--from", "2027-02-01", "--to", "2027-01-01")
    assert result.exit_code == 2
    assert "--to must be after --from" in result.output
