"""The lease guard judges by what is real, through `capacity` and the real engine: the real date
whatever --on says, the GPUs the inventory recorded whatever the catalog says; `stacks rm --force`
then `inventory audit --fix` leaves a lease's nodes alone; preview says up's refusal on stdout
and exits 1; `.capacity/` keeps itself out of git."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
from collections import Counter

import yaml

from capacity.inventory import Inventory
from tests.integration.engine.conftest import edit_plan


def _nodes(state) -> Counter:
    with Inventory(state / "inventory" / "lab-1.db", "lab-1") as inv:
        return Counter((n.allocation, n.pool) for n in inv.nodes())


def test_on_never_takes_a_lease_in_force_today(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    before = _nodes(state)
    later_day, earlier_day = dt.date.today() + dt.timedelta(days=400), dt.date.today() - dt.timedelta(days=60)
    later = capacity("up", quickstart, "--yes", "--on", later_day, expect=1)  # every lease ended by then
    assert "delete in-force lease 'acme-pilot'" in later.output and "--allow-destroy" in later.output
    earlier = capacity("up", quickstart, "--yes", "--on", earlier_day, expect=1)  # acme-pilot not started then
    assert "release in-force lease 'acme-pilot'" in earlier.output
    assert _nodes(state) == before
    preview = capacity("preview", quickstart, "--on", later_day, expect=1)
    assert "delete in-force lease 'acme-pilot'" in preview.stdout


def test_a_catalog_edit_cannot_shrink_a_lease(capacity, quickstart, state):
    inventory = quickstart.parent / "inventory" / "quickstart-inventory.csv"
    rows = [line.split(",") for line in inventory.read_text().splitlines() if not line.startswith("#")]
    inventory.write_text("".join(",".join(row[:3]) + "\n" for row in rows))  # GPUs from the catalog
    capacity("up", quickstart, "--yes")
    before = _nodes(state)
    assert before[("quickstart/train", "quickstart/acme-pilot")] == 2
    (quickstart.parent / "bigger.yaml").write_text(yaml.safe_dump({"instance_types": [{
        "provider": "owned", "instance_type": "hgx-h100", "accelerator": "H100", "gpus": 16, "gpu_memory_gb": 80,
        "price_per_hour": None, "regions": [], "kw_per_node": 10.2}]}))
    edit_plan(quickstart, lambda data: data["metadata"].update(catalog="bigger.yaml"))
    refused = capacity("up", quickstart, "--yes", expect=1)
    assert "shrink in-force lease 'acme-pilot' from 16 to 8 GPUs" in refused.output
    assert _nodes(state) == before


def test_stacks_rm_force_then_audit_fix_leaves_the_lease_pool(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    removed = capacity("stacks", "rm", "quickstart", "--force", "--yes")
    assert "lease pool quickstart/acme-pilot still holds 2 nodes" in removed.output
    assert "--allow-destroy" in removed.output
    fixed = capacity("inventory", "audit", "--fix", expect=1)
    assert "left: site lab-1: left lease pool quickstart/acme-pilot (2 nodes)" in fixed.stdout
    assert _nodes(state)[("quickstart/train", "quickstart/acme-pilot")] == 2
    capacity("inventory", "audit", "--fix", "--allow-destroy")
    assert set(_nodes(state)) == {(None, None)}


def test_preview_says_the_result_on_stdout_and_exits_1_where_up_would_be_refused(capacity, quickstart, state):
    shown = capacity("preview", quickstart)
    assert "quickstart:" in shown.stdout and "create" in shown.stdout
    capacity("up", quickstart, "--yes")
    assert "quickstart: no changes." in capacity("preview", quickstart).stdout
    edit_plan(quickstart, lambda data: data["leases"].pop("acme-pilot"))
    up = capacity("up", quickstart, "--yes", expect=1)
    preview = capacity("preview", quickstart, expect=1)
    assert "delete in-force lease 'acme-pilot'" in preview.stdout
    refusal = up.output[up.output.index("This up would"):].strip()
    assert refusal.splitlines()[0] in preview.stdout and refusal.splitlines()[0] in preview.output
    detailed = capacity("preview", quickstart, "--detailed-exitcode", expect=1)
    assert "This up would" in detailed.output
    as_json = json.loads(capacity("preview", quickstart, "--format", "json", expect=1).stdout)
    assert as_json["refused"]["takings"] and "acme-pilot" in as_json["refused"]["message"]


def test_git_add_all_after_up_takes_nothing_of_the_state(capacity, quickstart, state, monkeypatch):
    work = state.parent
    subprocess.run(["git", "init", "-q"], cwd=work, check=True)
    monkeypatch.delenv("PULUMI_CONFIG_PASSPHRASE")  # so capacity writes .capacity/passphrase
    capacity("up", quickstart, "--yes")
    assert (state / "passphrase").is_file() and (state / ".gitignore").read_text().strip().endswith("*")
    assert state.stat().st_mode & 0o077 == 0 and (state / "passphrase").stat().st_mode & 0o077 == 0
    subprocess.run(["git", "add", "-A"], cwd=work, check=True)
    staged = subprocess.run(["git", "diff", "--cached", "--name-only"], cwd=work, capture_output=True, text=True,
                            check=True).stdout.split()
    assert not [path for path in staged if path.startswith(".capacity")]


def test_a_refused_up_claims_no_node(capacity, quickstart, state):
    capacity("up", quickstart, "--yes")
    before = _nodes(state)

    def grow_and_drop(data):
        data["clusters"]["train"]["nodes"] = 10
        data["leases"].pop("acme-pilot")

    edit_plan(quickstart, grow_and_drop)
    assert "delete in-force lease 'acme-pilot'" in capacity("up", quickstart, "--yes", expect=1).output
    assert _nodes(state) == before  # the two more nodes the plan wants were not claimed
