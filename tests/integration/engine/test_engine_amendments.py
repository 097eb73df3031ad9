"""A lease amendment through `capacity up --on` and the real engine, on the owned quickstart (issue
19): a dedicated lease's pool takes the amendment's nodes on its day, not a day before; an amendment
that takes nodes back from a lease in force is refused without --allow-destroy, like any shrink."""

from __future__ import annotations

import datetime as dt

from capacity.inventory import open_site

from .conftest import edit_plan


def pool_nodes() -> int:
    with open_site("lab-1") as inv:
        return sum(1 for n in inv.nodes() if n.pool == "quickstart/acme-pilot")


def amend(*amendments: tuple[dt.date, int]):
    def change(data):
        data["leases"]["acme-pilot"]["amendments"] = [{"from": day, "gpus": gpus} for day, gpus in amendments]
    return change


def test_a_pool_follows_its_amendment_on_the_day(capacity, quickstart, state):
    grow = dt.date.today() + dt.timedelta(days=10)  # acme-pilot (16 GPUs, 2 nodes) runs from 30 days ago
    edit_plan(quickstart, amend((grow, 24)))
    for day, nodes in ((grow - dt.timedelta(days=1), 2), (grow, 3), (grow + dt.timedelta(days=1), 3)):
        capacity("up", quickstart, "--yes", "--on", day)
        assert pool_nodes() == nodes, day

    shrink = grow + dt.timedelta(days=2)
    edit_plan(quickstart, amend((grow, 24), (shrink, 8)))
    refused = capacity("up", quickstart, "--yes", "--on", shrink, expect=1)
    assert "shrink in-force lease 'acme-pilot' from 24 to 8 GPUs" in refused.output
    assert pool_nodes() == 3
    capacity("up", quickstart, "--yes", "--on", shrink, "--allow-destroy")
    assert pool_nodes() == 1
    capacity("destroy", quickstart, "--yes", "--allow-destroy")
