"""Money over time (issue 19), figures computed by hand at every edge: a day before, on and after
each reservation date, amendment and month. The plan: one AWS cluster of 2 nodes (16 GPUs) at the
review catalog's $7.00 per GPU-hour on demand, reserved 2026-12-15 to 2027-01-15 at $5.00 (bought
on its start: lead_days 0); a lease of 8 GPUs at $9.00 from 2026-12-15 to 2027-02-01, amended
from 2027-01-10 to 16 GPUs at $10.00.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import icalendar  # the test extra's RFC 5545 parser: reads our ics back
import pytest

from capacity.deploy.guard import plan_facts, takings
from capacity.errors import PlanError
from capacity.plan.loading import load_text
from capacity.review import calendar as cal
from capacity.review import cash, costs, economics
from capacity.review.diff import diff_plans
from capacity.review.quotas import peak_quotas

CATALOG = Path(__file__).parent / "plans" / "catalog.yaml"
D = dt.date.fromisoformat
DAY = 24 * 16  # GPU-hours of the whole cluster in a day

PLAN = """\
apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: money}
sites:
  use1: {provider: aws, region: us-east-1, network: {cidr: 10.0.0.0/16}}
clusters:
  c:
    site: use1
    instance_type: p5.48xlarge
    nodes: 2
    orchestrator: kubernetes
    reservation: {kind: capacity-reservation, start: 2026-12-15, end: 2027-01-15, price_per_gpu_hour: 5.00, lead_days: 0}
leases:
  l:
    tenant: acme
    cluster: c
    gpus: 8
    start: 2026-12-15
    end: 2027-02-01
    price_per_gpu_hour: 9.00
LEASE_EXTRA
"""
AMENDED = "    amendments: [{from: 2027-01-10, gpus: 16, price_per_gpu_hour: 10.00}]"


def load(extra: str = AMENDED, plan: str = PLAN):
    return load_text(plan.replace("LEASE_EXTRA", extra), "money.yaml", CATALOG)


@pytest.mark.parametrize("day, price", [
    ("2026-12-14", 7.0), ("2026-12-15", 5.0), ("2026-12-16", 5.0),  # the reservation's start
    ("2027-01-14", 5.0), ("2027-01-15", 7.0), ("2027-01-16", 7.0),  # its end: on demand after it
])
def test_a_cluster_costs_its_reservation_price_only_inside_the_window(day, price):
    loaded = load()
    assert costs.cluster_cost(loaded, "c", D(day), D(day) + dt.timedelta(days=1)) == DAY * price


def test_a_window_before_the_reservation_is_charged_on_demand():
    loaded = load()
    november = economics.book(loaded, economics.Window(D("2026-11-01"), D("2026-12-01")))
    assert november.total.usage.cost == 30 * DAY * 7.0 == 80_640
    december = costs.cluster_cost(loaded, "c", D("2026-12-01"), D("2027-01-01"))
    assert december == 14 * DAY * 7.0 + 17 * DAY * 5.0 == 70_272


def test_a_capacity_block_costs_only_inside_its_block():
    plan = PLAN.replace("{kind: capacity-reservation, start: 2026-12-15, end: 2027-01-15, price_per_gpu_hour: 5.00, "
                        "lead_days: 0}", "{kind: capacity-block, start: 2026-12-14, end: 2026-12-21}")
    loaded = load("", plan.replace("start: 2026-12-15\n    end: 2027-02-01", "start: 2026-12-14\n    end: 2026-12-21"))
    assert costs.cluster_cost(loaded, "c", D("2026-12-01"), D("2027-01-01")) == 7 * DAY * 7.0
    assert costs.cluster_cost(loaded, "c", D("2026-12-13"), D("2026-12-14")) == 0
    table = cash.paid(loaded, economics.Window(D("2026-12-01"), D("2027-01-01")))
    assert table.providers["aws"] == [7 * DAY * 7.0]  # paid whole on its buy day, 2026-12-07


@pytest.mark.parametrize("day, gpus, price", [
    ("2027-01-09", 8, 9.0), ("2027-01-10", 16, 10.0), ("2027-01-11", 16, 10.0)])
def test_an_amendment_takes_effect_on_its_day(day, gpus, price):
    lease = load().plan.leases["l"]
    assert (lease.gpus_on(D(day)), lease.price_on(D(day))) == (gpus, price)


def test_lease_value_is_piecewise():
    lease = load().plan.leases["l"]
    assert economics.lease_value(lease) == 8 * 26 * 24 * 9.0 + 16 * 22 * 24 * 10.0 == 129_408
    window = economics.Window(D("2027-01-09"), D("2027-01-12"))  # a day before, on and after
    figures = economics.book(load(), window).total.usage
    assert figures.revenue == 8 * 24 * 9.0 + 2 * 16 * 24 * 10.0
    assert figures.leased_gpu_hours == 8 * 24 + 2 * 16 * 24
    assert figures.sold_cost == 8 * 24 * 5.0 + 2 * 16 * 24 * 5.0  # the reservation's price: inside its window


def test_cash_against_accrual_on_the_same_plan():
    loaded = load()
    window = economics.Window(D("2026-12-01"), D("2027-02-01"))
    accrual, paid = cash.accrued(loaded, window), cash.paid(loaded, window)
    december, january = 70_272, 14 * DAY * 5.0 + 17 * DAY * 7.0
    assert accrual.providers["aws"] == [december, january]
    assert paid.providers["aws"] == [30 * DAY * 7.0, december]  # November's bill in December, in arrears
    assert accrual.revenue == [8 * 17 * 24 * 9.0, 8 * 9 * 24 * 9.0 + 16 * 22 * 24 * 10.0]
    assert paid.revenue == [0.0, 8 * 17 * 24 * 9.0]  # December's invoice, paid in January


def test_amendments_are_checked_at_each_instant():
    with pytest.raises(PlanError, match="24 GPUs from 2027-01-10 is more than cluster 'c' has"):
        load("    amendments: [{from: 2027-01-10, gpus: 24}]")
    with pytest.raises(PlanError, match="whole nodes of 8 GPUs; 12 from 2027-01-10 is not"):
        load("    amendments: [{from: 2027-01-10, gpus: 12}]")
    with pytest.raises(PlanError, match="not inside the lease"):
        load("    amendments: [{from: 2027-02-01, gpus: 16}]")
    other = ("  m: {tenant: b, cluster: c, gpus: 8, start: 2027-01-01, end: END, price_per_gpu_hour: 9.0}\n")
    load(AMENDED + "\n" + other.replace("END", "2027-01-10"))  # ends the day the amendment grows l: fits
    with pytest.raises(PlanError, match=r"leases.l.amendments\[0\].gpus: on 2027-01-10 the leases on cluster .c. hold 24"):
        load(AMENDED + "\n" + other.replace("END", "2027-01-11"))


def test_an_added_amendment_is_valued_from_its_date_only():
    base = load("    amendments: [{from: 2027-01-10, price_per_gpu_hour: 9.0}]".replace("9.0}", "9.5}"))
    head = load("    amendments: [{from: 2027-01-20, gpus: 16}, {from: 2027-01-25, gpus: 8}]")
    found = {r.kind: r for r in diff_plans(base, head, D("2026-12-20")).risks}
    assert "amendment-removed" in found
    grow = load(AMENDED)
    shrink = load("    amendments: [{from: 2027-01-10, gpus: 8, price_per_gpu_hour: 8.0}]")
    risks = {r.kind: r for r in diff_plans(grow, shrink, D("2026-12-20")).risks}
    lost = 16 * 22 * 24 * 10.0 - 8 * 22 * 24 * 8.0
    assert risks["amendment-shrinks-lease"].amount == -lost
    assert risks["amendment-reprices-lease"].level == "medium"
    backdated = {r.kind: r for r in diff_plans(grow, shrink, D("2027-01-10")).risks}
    assert backdated["amendment-shrinks-lease"].level == "high"


def test_the_quota_follows_amendments():
    loaded = load()
    assert peak_quotas(loaded, D("2026-12-20")) == {("acme", "c"): 16}
    shrunk = load("    amendments: [{from: 2027-01-10, gpus: 8}]".replace("gpus: 8", "price_per_gpu_hour: 1.0"))
    assert peak_quotas(shrunk, D("2027-01-10")) == {("acme", "c"): 8}


def test_the_guard_refuses_an_amendment_that_shrinks_a_lease_in_force():
    grown = plan_facts(load(), D("2027-01-12"))
    kept = load()
    shrinking = load("    amendments: [{from: 2027-01-10, gpus: 16}, {from: 2027-01-11, gpus: 8}]")
    assert takings(grown, plan_facts(kept, D("2027-01-12")), D("2027-01-12")) == []
    lines = takings(grown, plan_facts(shrinking, D("2027-01-12")), D("2027-01-12"))
    assert lines == ["shrink in-force lease 'l' from 16 to 8 GPUs"]
    # Before the amendment's day the lease holds 8, and planning 8 takes nothing.
    assert takings(plan_facts(load(), D("2027-01-09")), plan_facts(shrinking, D("2027-01-09")), D("2027-01-09")) == []


def test_calendar_order_and_ics_parsed_back(cli, tmp_path):
    found = cal.events(load())
    assert [(str(e.date), e.kind) for e in found] == [
        ("2026-12-15", "reservation-bought"), ("2026-12-15", "reservation-starts"), ("2026-12-15", "lease-starts"),
        ("2027-01-10", "lease-amended"), ("2027-01-15", "reservation-ends"), ("2027-02-01", "lease-ends")]
    parsed = icalendar.Calendar.from_ical(cal.ics(found, "money"))
    events = parsed.walk("VEVENT")
    assert [e.decoded("DTSTART") for e in events] == [e.date for e in found]
    assert str(events[3]["SUMMARY"]) == "lease-amended: l"
    assert "8 GPUs at $9.00/GPU-h -> 16 GPUs at $10.00/GPU-h" in str(events[3]["DESCRIPTION"])
    plan = tmp_path / "money.yaml"
    plan.write_text(PLAN.replace("LEASE_EXTRA", AMENDED))
    out = cli("calendar", plan, "--catalog", CATALOG, "-f", "json", "--kind", "reservation", "--from", "2026-12-16")
    assert out.exit_code == 0, out.output
    assert [e["kind"] for e in json.loads(out.stdout)["events"]] == ["reservation-ends"]
    assert cli("calendar", plan, "--kind", "nosuch").exit_code == 2
    text = cli("calendar", plan, "--catalog", CATALOG, "--to", "2027-01-11").stdout.splitlines()
    assert [line.split()[1] for line in text] == ["reservation-bought", "reservation-starts", "lease-starts",
                                                  "lease-amended"]
    md = cli("calendar", plan, "--catalog", CATALOG, "-f", "markdown", "--kind", "lease-amended").stdout
    assert md.splitlines()[2].startswith("| 2027-01-10 | lease-amended | `l` | use1 / c |")
    written = tmp_path / "plan.ics"
    assert cli("calendar", plan, "--catalog", CATALOG, "-f", "ics", "-o", written).exit_code == 0
    assert b"\r\nEND:VCALENDAR\r\n" in written.read_bytes()  # RFC 5545 lines end in CRLF


def test_validate_warns_apart_from_errors(cli, tmp_path):
    plan = tmp_path / "money.yaml"
    plan.write_text(PLAN.replace("LEASE_EXTRA", AMENDED).replace("price_per_gpu_hour: 9.00", "price_per_gpu_hour: 4.00"))
    out = cli("validate", plan, "--catalog", CATALOG, "-f", "json")
    assert out.exit_code == 0
    data = json.loads(out.stdout)
    assert data["valid"] and data["errors"] == []
    paths = sorted(w["path"] for w in data["warnings"])
    assert paths == ["leases.l.end", "leases.l.price_per_gpu_hour"]  # past the reservation's end; below cost
    assert cli("validate", plan, "--catalog", CATALOG, "--strict").exit_code == 1


def test_report_basis_cash_and_money_as_numbers(cli, tmp_path):
    plan = tmp_path / "money.yaml"
    plan.write_text(PLAN.replace("LEASE_EXTRA", AMENDED))
    out = cli("report", plan, "--catalog", CATALOG, "-f", "json", "--basis", "cash", "--from", "2026-12-01",
              "--to", "2027-02-01")
    data = json.loads(out.stdout)
    assert data["by_month"]["providers"]["aws"] == [80_640.0, 70_272.0]
    assert data["sold_cost"] + data["internal_cost"] + data["idle_cost"] == pytest.approx(data["cost"])
    text = cli("report", plan, "--catalog", CATALOG, "--basis", "cash").stdout
    assert "Paid to each provider by month" in text and "Sold leases: revenue" in text


@pytest.mark.parametrize("start, end, paid", [
    ("2026-11-30", "2026-12-01", 0.0),  # the day before November's bill
    ("2026-12-01", "2026-12-02", 30 * DAY * 7.0),  # on it: November on demand, in arrears
    ("2026-12-02", "2026-12-03", 0.0),  # the day after
    ("2027-01-01", "2027-01-02", 70_272.0),  # December's bill: on demand to the 15th, then reserved
])
def test_bills_fall_on_the_first_of_the_next_month(start, end, paid):
    table = cash.paid(load(), economics.Window(D(start), D(end)))
    assert table.providers["aws"] == [paid]


@pytest.mark.parametrize("idle_days, warned", [(30, False), (31, True)])
def test_a_reservation_idle_over_30_days_is_a_warning(idle_days, warned):
    start = D("2026-12-15") + dt.timedelta(days=idle_days)  # the lease starts that long after the reservation
    lease = f"    start: {start}\n    end: 2027-02-01"
    plan = PLAN.replace("    start: 2026-12-15\n    end: 2027-02-01", lease)
    loaded = load("", plan)
    from capacity.review.warnings import plan_warnings

    paths = [w.path for w in plan_warnings(loaded)]
    assert ("clusters.c.reservation" in paths) == warned


def test_report_tables_by_month_in_markdown_and_html(cli, tmp_path):
    plan = tmp_path / "money.yaml"
    plan.write_text(PLAN.replace("LEASE_EXTRA", AMENDED))
    window = ["--from", "2026-12-01", "--to", "2027-02-01"]
    md = cli("report", plan, "--catalog", CATALOG, "-f", "markdown", "--basis", "cash", *window).stdout
    assert "| Provider | 2026-12 | 2027-01 |" in md and "| aws | $80,640 | $70,272 |" in md
    page = cli("report", plan, "--catalog", CATALOG, "-f", "html", *window).stdout
    assert "Cost by provider and month (accrual" in page and '<td class="n">$70,272</td>' in page
