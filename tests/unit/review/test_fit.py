"""`capacity fit` on the hand-computed plan (plans/fit/hand.yaml): fits, refusals, growth, blocks, ranking.

big: 128 GPUs, 112 free (the internal lease) except 48 from 2027-03-01 to 2027-04-15 (acme);
mix: 32 GPUs, one dedicated node and 12 shared GPUs held, so 12 GPUs or 1 whole node free;
blk: 16 GPUs inside its capacity block 2027-02-01..2027-02-15 only; lab (owned): 32 free,
3 spare nodes in the inventory and power for 5 more.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest

from capacity.plan.catalog import shipped
from capacity.plan.loading import load_plan
from capacity.providers import spec
from capacity.review.fit import Demand, Option, fit, rank
from capacity.review.fit_new import block_days, capacity_block, nothing_fits
from capacity.review.timeline import leases_by_cluster

HAND = Path(__file__).parent / "plans" / "fit" / "hand.yaml"
D = dt.date.fromisoformat
AS_OF = D("2026-12-01")


@pytest.fixture(scope="module")
def hand():
    return load_plan(HAND)


def demand(gpus, start, end, **extra) -> Demand:
    return Demand(gpus, D(start), D(end), accelerator=extra.pop("accelerator", "H100"), as_of=AS_OF, **extra)


def existing(result) -> list[str]:
    return [o.cluster for o in result.options if o.kind == "existing"]


def why(result, cluster) -> str:
    return next(r.why for r in result.refused if r.cluster == cluster)


# ------------------------------------------------------------------ fits at every instant, or not by one day


def test_a_fit_ending_the_day_a_lease_starts_holds(hand):
    result = fit(hand, demand(64, "2027-01-01", "2027-03-01"))  # 8 nodes; big has 14 free until 03-01
    assert existing(result) == ["big"]


def test_one_day_too_late_at_the_end_is_refused(hand):
    result = fit(hand, demand(64, "2027-01-01", "2027-03-02"))
    assert "big" not in existing(result)
    assert why(result, "big") == "free 48 of 64 from 2027-03-01 to 2027-03-02"


def test_one_day_too_early_at_the_start_is_refused(hand):
    assert existing(fit(hand, demand(64, "2027-04-15", "2027-05-01"))) == ["big"]
    result = fit(hand, demand(64, "2027-04-14", "2027-05-01"))
    assert "big" not in existing(result)
    assert why(result, "big") == "free 48 of 64 from 2027-04-14 to 2027-04-15"


def test_an_internal_lease_takes_capacity(hand):
    assert "big" in existing(fit(hand, demand(112, "2027-01-01", "2027-02-01")))
    assert why(fit(hand, demand(120, "2027-01-01", "2027-02-01")), "big") == \
        "free 112 of 120 from 2027-01-01 to 2027-02-01"


# ------------------------------------------------------------------ whole nodes, shared beside dedicated


def test_dedicated_takes_whole_nodes_and_shared_gpus_fill_nodes(hand):
    assert "mix" in existing(fit(hand, demand(8, "2027-01-01", "2027-02-01")))
    assert why(fit(hand, demand(16, "2027-01-01", "2027-02-01")), "mix") == \
        "free 8 of 16 from 2027-01-01 to 2027-02-01"


def test_a_shared_quota_demand_beside_dedicated_leases_counts_gpus(hand):
    assert "mix" in existing(fit(hand, demand(12, "2027-01-01", "2027-02-01", isolation="shared-quota")))
    assert why(fit(hand, demand(13, "2027-01-01", "2027-02-01", isolation="shared-quota")), "mix") == \
        "free 12 of 13 from 2027-01-01 to 2027-02-01"


def test_dedicated_gpus_that_are_not_whole_nodes_are_refused_with_the_reason(hand):
    result = fit(hand, demand(12, "2027-01-01", "2027-02-01"))
    assert existing(result) == []
    assert "whole nodes of 8 GPUs; 12 is not" in why(result, "big")
    assert all(o.instance_type == "p5.4xlarge" for o in result.options)  # 1-GPU nodes: 12 of them


# ------------------------------------------------------------------ capacity blocks in the plan


def test_a_capacity_block_that_ends_inside_the_demand_never_fits(hand):
    assert "blk" in existing(fit(hand, demand(16, "2027-02-01", "2027-02-15")))
    for start, end in (("2027-02-01", "2027-02-16"), ("2027-01-31", "2027-02-15")):
        result = fit(hand, demand(16, start, end))
        assert "blk" not in [o.cluster for o in result.options]  # neither as it is nor grown
    assert why(fit(hand, demand(16, "2027-02-01", "2027-02-20")), "blk") == \
        "free 0 of 16 from 2027-02-15 to 2027-02-20 (its capacity block runs 2027-02-01 to 2027-02-15)"


# ------------------------------------------------------------------ growth


def test_owned_growth_within_inventory_and_power(hand):
    result = fit(hand, demand(56, "2027-01-01", "2027-02-01", sites=frozenset({"dc-1"})))
    (grow,) = result.options
    assert (grow.kind, grow.cluster, grow.added_nodes, grow.nodes) == ("grow", "lab", 3, 7)
    assert grow.cost == 3 * 8 * 1.25 * 24 * 31  # the added GPUs at the site's cost, over the window
    assert grow.covers == (D("2027-01-01"), D("2027-02-01"))


def test_owned_growth_limited_by_inventory(hand):
    result = fit(hand, demand(64, "2027-01-01", "2027-02-01", sites=frozenset({"dc-1"})))
    assert result.options == []
    assert why(result, "lab") == ("free 32 of 64 from 2027-01-01 to 2027-02-01; growing it needs 4 more nodes; "
                                  "site dc-1 has 3 spare hgx-h100 in its inventory and power for 5 more "
                                  "(59.2 kW free)")


def test_owned_growth_limited_by_power(tmp_path):
    plan = tmp_path / "hand.yaml"
    plan.write_text(HAND.read_text().replace("power_mw: 0.1 ", "power_mw: 0.065"))  # 24.2 kW free: 2 nodes
    (tmp_path / "nodes.csv").write_bytes(HAND.with_name("nodes.csv").read_bytes())
    result = fit(load_plan(plan), demand(56, "2027-01-01", "2027-02-01", sites=frozenset({"dc-1"})))
    assert result.options == []
    assert "3 spare hgx-h100 in its inventory and power for 2 more (24.2 kW free)" in why(result, "lab")


def test_a_cloud_cluster_grows_by_the_nodes_short_at_its_worst_instant(hand):
    result = fit(hand, demand(64, "2027-01-01", "2027-03-02", providers=frozenset({"aws"})))
    grow = next(o for o in result.options if o.kind == "grow" and o.cluster == "big")
    assert grow.added_nodes == 2  # 6 nodes free on 2027-03-01, 8 wanted
    price = shipped().lookup("aws", "p5.48xlarge").price_per_hour
    assert grow.cost == pytest.approx(2 * price * 24 * 60)  # 2027-01-01..2027-03-02: 60 days
    assert any("keeps the added nodes after 2027-03-02" in note for note in grow.notes)


# ------------------------------------------------------------------ new capacity: capacity-block rules


@pytest.mark.parametrize("days,length", [(0, 1), (1, 1), (14, 14), (15, 21), (21, 21), (100, 105), (182, 182),
                                         (183, None)])
def test_capacity_block_lengths(days, length):
    assert block_days(spec("aws"), days) == length


def test_capacity_blocks_hold_1_to_64_instances_and_are_bought_at_most_8_weeks_ahead():
    aws = spec("aws")
    start, end = D("2027-03-01"), D("2027-03-11")
    held, buy_from, notes = capacity_block(aws, 64, start, end, as_of=D("2026-12-01"))
    assert (held.start, held.end, buy_from) == (start, end, D("2027-01-04"))  # 56 days before
    assert held.lead_days == 56  # so the deploy buys it that day
    assert notes[0] == "can be bought from 2027-01-04 (56 days ahead at most)"
    assert capacity_block(aws, 65, start, end, D("2026-12-01")) is None
    assert capacity_block(aws, 1, start, end, D("2027-02-01"))[2][0].startswith("can be bought now")
    assert capacity_block(aws, 1, start, end, D("2027-03-02")) is None  # cannot start in the past
    assert capacity_block(spec("azure"), 1, start, end, D("2026-12-01")) is None


def test_a_new_block_covers_whole_weeks_and_says_so(hand):
    result = fit(hand, demand(64, "2027-01-01", "2027-02-15", providers=frozenset({"aws"})))  # 45 days
    block = next(o for o in result.options if o.reservation and o.reservation["kind"] == "capacity-block"
                 and o.instance_type == "p5.48xlarge")
    assert block.reservation == {"kind": "capacity-block", "start": "2027-01-01", "end": "2027-02-19",
                                 "price_per_gpu_hour": None, "buy_from": "2026-11-06", "lead_days": 31}
    # bought at once (the 8 weeks ahead began before --as-of): 31 days before it starts
    assert block.covers == (D("2027-01-01"), D("2027-02-19"))
    price = shipped().lookup("aws", "p5.48xlarge").price_per_hour
    assert block.cost == pytest.approx(8 * price * 24 * 49)


# ------------------------------------------------------------------ ranking


def test_ranking_by_margin_with_a_price_and_by_cost_without(hand):
    priced = fit(hand, demand(8, "2027-01-01", "2027-02-01", price=3.0))
    unpriced = fit(hand, demand(8, "2027-01-01", "2027-02-01"))
    assert [o.rank for o in priced.options] == list(range(1, len(priced.options) + 1))
    margins = [o.margin for o in priced.options]
    assert margins == sorted(margins, reverse=True)
    costs = [o.cost for o in unpriced.options]
    assert costs == sorted(costs)
    # free GPUs the plan pays for come first, cheapest; ties by name
    assert [(o.kind, o.cluster) for o in unpriced.options[:3]] == [("existing", "big"), ("existing", "lab"),
                                                                   ("existing", "mix")]
    assert priced.options[0].revenue == 8 * 24 * 31 * 3.0 == priced.options[0].margin
    assert unpriced.options[0].revenue is None and unpriced.options[0].margin is None


def test_ties_go_to_fewer_changes_then_name():
    day = D("2027-01-01")
    base = dict(site="s", provider="aws", instance_type="t", nodes=1, gpus=8, revenue=100.0, covers=(day, day))
    options = [Option("new", cluster="a", cost=10.0, changes=3, **base),
               Option("new", cluster="b", cost=10.0, changes=2, **base),
               Option("grow", cluster="a", cost=10.0, changes=2, **base),
               Option("new", cluster="c", cost=None, changes=1, **base),
               Option("new", cluster="d", cost=5.0, changes=3, **base)]
    for by_margin in (True, False):
        ranked = rank(options, by_margin)
        assert [(o.cluster, o.changes) for o in ranked] == [("d", 3), ("a", 2), ("b", 2), ("a", 3), ("c", 1)]
    assert [o.rank for o in ranked] == [1, 2, 3, 4, 5]


# ------------------------------------------------------------------ when nothing fits


def test_nothing_fits_says_so_and_the_largest_share(hand):
    result = fit(hand, Demand(96, D("2027-03-01"), D("2027-04-01"), instance_type="hgx-h100", as_of=AS_OF))
    assert result.options == []
    assert result.instead == {"nearest_window": None, "largest_share": {"cluster": "lab", "gpus": 32}}


def test_the_nearest_window_is_the_first_later_one_of_the_same_length(hand):
    found = nothing_fits(hand, demand(96, "2027-03-01", "2027-04-01"), leases_by_cluster(hand))
    # 12 nodes: big has 6 free until 04-15, then 14
    assert found == {"nearest_window": {"cluster": "big", "start": "2027-04-15", "end": "2027-05-16"},
                     "largest_share": {"cluster": "big", "gpus": 48}}


def test_the_demand_as_json():
    d = dataclasses.replace(demand(8, "2027-01-01", "2027-01-02", price=2.0, tenant="acme"))
    assert d.as_json() == {"gpus": 8, "accelerator": "H100", "instance_type": None, "start": "2027-01-01",
                           "end": "2027-01-02", "hours": 24, "price_per_gpu_hour": 2.0, "isolation": "dedicated-nodes",
                           "tenant": "acme", "sites": [], "providers": [], "as_of": "2026-12-01"}
