"""`capacity stacks` and `stacks rm` through the real engine: stacks and status count resources the
same way; a stack left empty by a preview or a failed first up is listed and removed; one that
holds resources is refused unless --force, and nothing in its state is lost."""

from __future__ import annotations

import json


def _listed(capacity) -> dict[str, int]:
    return {s["name"]: s["resources"] for s in json.loads(capacity("stacks", "--format", "json").stdout)["stacks"]}


def test_stacks_and_status_count_the_same_resources(capacity, quickstart):
    capacity("up", quickstart, "--yes")
    status = json.loads(capacity("status", quickstart, "--format", "json").stdout)
    assert _listed(capacity) == {"quickstart": status["resources"]}
    # what capacity made: site, cluster and its nodes, leases and their pools (not Pulumi's own plumbing)
    assert status["resources"] == 7
    assert capacity("stacks").stdout.split()[:3] == ["quickstart", "7", "resources"]

    refused = capacity("stacks", "rm", "quickstart", expect=1)
    assert "holds 7 resources" in refused.output and "capacity destroy --stack quickstart" in refused.output
    assert json.loads(capacity("status", quickstart, "--format", "json").stdout) == status  # nothing lost

    capacity("destroy", "--stack", "quickstart", "--yes", "--allow-destroy")  # its lease is in force
    assert _listed(capacity) == {"quickstart": 0}
    capacity("stacks", "rm", "quickstart")
    assert "No stacks" in capacity("stacks").output


def test_a_stack_left_empty_by_a_preview_is_listed_and_removed(capacity, quickstart):
    capacity("preview", quickstart)
    assert _listed(capacity) == {"quickstart": 0}
    assert capacity("stacks").stdout.split()[:3] == ["quickstart", "0", "resources"]
    removed = capacity("stacks", "rm", "quickstart")
    assert "Removed stack 'quickstart'" in removed.output
    assert _listed(capacity) == {}
    missing = capacity("stacks", "rm", "quickstart", expect=1)
    assert "does not exist" in missing.output


def test_a_stack_left_by_a_failed_first_up_is_removed(capacity, quickstart, monkeypatch):
    from capacity.components import program

    def broken(*_args, **_kwargs):
        raise RuntimeError("the program failed before registering anything")

    monkeypatch.setattr(program, "build", broken)
    capacity("up", quickstart, "--yes", expect=1)
    assert _listed(capacity) == {"quickstart": 0}
    capacity("stacks", "rm", "quickstart")
    assert _listed(capacity) == {}


def test_force_removes_a_stack_with_resources_only_when_confirmed(capacity, quickstart):
    capacity("up", quickstart, "--yes")
    unconfirmed = capacity("stacks", "rm", "quickstart", "--force", expect=1)  # no terminal to ask on
    assert "--yes" in unconfirmed.output
    assert _listed(capacity) == {"quickstart": 7}
    capacity("stacks", "rm", "quickstart", "--force", "--yes")
    assert _listed(capacity) == {}
