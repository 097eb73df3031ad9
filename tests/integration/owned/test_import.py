"""Importing inventory files: every bad row reported at its line, nothing half-imported."""

from __future__ import annotations

import pytest

from capacity.plan.catalog import load_catalog
from capacity.errors import PlanError
from capacity.inventory import InventoryError, import_file, open_site, prepare_sites, site_nodes
from capacity.plan.inventory_file import read_inventory
from capacity.plan.loading import load_plan

from .conftest import ROOT


def problems_of(path) -> list[str]:
    with pytest.raises(InventoryError) as caught:
        import_file(path, "lab-1")
    assert site_nodes("lab-1") is None, "a failed first import must leave no inventory behind"
    return str(caught.value).splitlines()


def test_csv_defaults_come_from_the_catalog(write_file):
    path = write_file("inv.csv", "serial,rack,model,kw,state\nA1,r1,hgx-h100,,\nA2,r1,dgx-b200,13.5,failed\n")
    rows = read_inventory(path, load_catalog())
    assert [(r.serial, r.gpus, r.kw, r.state, r.line) for r in rows] == [
        ("A1", 8, 10.2, "free", 2), ("A2", 8, 13.5, "failed", 3)]


def test_yaml_inventory(write_file):
    path = write_file("inv.yaml", "nodes:\n  - {serial: B1, rack: r1, model: gb200-nvl72}\n"
                                  "  - serial: B2\n    rack: r2\n    model: hgx-h200\n    kw: 9.5\n")
    rows = read_inventory(path, load_catalog())
    assert [(r.serial, r.rack, r.gpus, r.kw, r.line) for r in rows] == [
        ("B1", "r1", 72, 132.0, 2), ("B2", "r2", 8, 9.5, 3)]


def test_every_bad_row_is_reported_with_its_line(write_file):
    path = write_file("bad.csv", "\n".join([
        "serial,rack,model,gpus,kw,state",
        "OK-1,r1,hgx-h100,8,10.2,free",
        "OK-2,r1,hgx-h10,8,10.2,free",          # unknown model
        "OK-3,r1,hgx-h100,4,10.2,free",          # wrong GPU count
        "OK-1,r2,hgx-h100,8,10.2,free",          # duplicate serial
        "OK-5,r2,hgx-h100,8,-3,free",            # negative kW
        "OK-6,r2,hgx-h100,8,10.2,allocated",     # state not importable
        "OK 7,r2,hgx-h100,8,10.2,free",          # bad serial
        "OK-8,r2,hgx-h100,8",                    # missing cells
    ]) + "\n")
    lines = problems_of(path)
    text = "\n".join(lines)
    assert f"{path}:3:" in text and "unknown system model 'hgx-h10'. Did you mean 'hgx-h100'?" in text
    assert "The catalog's owned models: " in text and "dgx-b200" in text and "gb200-nvl72" in text
    assert f"{path}:4:" in text and "hgx-h100 has 8 GPUs in the catalog, not 4" in text
    assert f"{path}:5:" in text and "serial 'OK-1' repeats line 2" in text
    assert f"{path}:6:" in text and "kw must be a positive number" in text
    assert f"{path}:7:" in text and "not imported" in text
    assert f"{path}:8:" in text and "serial 'OK 7'" in text
    assert f"{path}:9:" in text and "has 4 cells" in text
    assert "Traceback" not in text


def test_header_problems(write_file):
    text = "\n".join(problems_of(write_file("h.csv", "serial,rakc,modle\nA,r1,hgx-h100\n")))
    assert "unknown column 'rakc'. Did you mean 'rack'?" in text
    assert "unknown column 'modle'. Did you mean 'model'?" in text
    assert "lacks the required column 'rack'" in text


def test_yaml_problems_point_at_the_value(write_file):
    path = write_file("bad.yaml", "nodes:\n  - {serial: 0012, rack: r1, model: hgx-h100}\n"
                                  "  - {serial: C2, rack: r1, modle: hgx-h100}\n")
    text = "\n".join(problems_of(path))
    assert f"{path}:3:" in text and "unknown field 'modle'. Did you mean 'model'?" in text
    assert "quote it" in text  # 0012 would silently become 12


@pytest.mark.parametrize("name,text,expected", [
    ("empty.yaml", "", "is empty"),
    ("list.yaml", "- {serial: A}\n", "must be a mapping with a `nodes:` list"),
    ("other.yaml", "racks: []\n", "an inventory holds only `nodes:`"),
    ("tabs.yaml", "nodes:\n\t- {serial: A}\n", "tab"),
    ("empty.csv", "# nothing\n", "has no rows"),
    ("inv.txt", "serial,rack,model\n", "neither .csv nor .yaml"),
    ("bin.csv", "serial,rack,model\n\xff\n", "is not UTF-8"),
])
def test_unreadable_files(write_file, tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_bytes(text.encode("latin-1") if name == "bin.csv" else text.encode())
    message = "\n".join(problems_of(path))
    assert expected in message
    assert str(path) in message


def test_missing_file(tmp_path):
    assert "does not exist" in "\n".join(problems_of(tmp_path / "nope.csv"))


def test_reimport_is_idempotent_and_conflicts_are_refused(write_file):
    first = write_file("a.csv", "serial,rack,model\nA1,r1,hgx-h100\nA2,r1,hgx-h100\n")
    assert import_file(first, "lab-1") == (2, 0)
    more = write_file("b.csv", "serial,rack,model\nA2,r1,hgx-h100\nA3,r2,hgx-h100\n")
    assert import_file(more, "lab-1") == (1, 1)
    clash = write_file("c.csv", "serial,rack,model\nA4,r2,hgx-h100\nA1,r9,hgx-h100\n")
    with pytest.raises(InventoryError, match="serial 'A1' is already in the inventory of site lab-1 as hgx-h100 in rack r1"):
        import_file(clash, "lab-1")
    with open_site("lab-1") as inv:
        assert sorted(n.serial for n in inv.nodes()) == ["A1", "A2", "A3"]  # A4 not added: all or nothing


def test_custom_catalog_models_are_accepted(write_file, tmp_path):
    catalog = write_file("cat.yaml", "instance_types:\n  - {provider: owned, instance_type: mi300x-8, "
                                     "accelerator: MI300X, gpus: 8, gpu_memory_gb: 192, kw_per_node: 11.0}\n")
    inv = write_file("m.csv", "serial,rack,model\nM1,r1,mi300x-8\n")
    with pytest.raises(InventoryError, match="mi300x-8"):
        import_file(inv, "lab-1")
    assert import_file(inv, "lab-1", load_catalog(catalog)) == (1, 0)


def test_prepare_sites_imports_once_relative_to_the_plan(tmp_path):
    plan = ROOT / "stacks" / "quickstart.yaml"
    loaded = load_plan(plan)
    done = prepare_sites(loaded, plan)
    assert len(done) == 1 and "imported 12 nodes" in done[0] and "quickstart-inventory.csv" in done[0]
    assert prepare_sites(loaded, plan) == []  # the inventory exists now: nothing to do
    with open_site("lab-1") as inv:
        nodes = inv.nodes()
    assert len(nodes) == 12 and {n.rack for n in nodes} == {"r01", "r02", "r03"}
    assert {n.state for n in nodes} == {"free"}


def test_prepare_sites_without_inventory_says_how_to_fix(write_file):
    text = (ROOT / "stacks" / "quickstart.yaml").read_text().replace("    inventory: inventory/quickstart-inventory.csv\n", "")
    plan = write_file("plan.yaml", text)
    with pytest.raises(InventoryError, match=r"owned site lab-1 has no inventory yet.*capacity inventory import"):
        prepare_sites(load_plan(plan), plan)


def test_prepare_sites_reports_a_bad_inventory_file(write_file):
    """`validate` (the plan's load) reports it at the plan line; a file spoilt after that, at its own line."""
    bad = "serial,rack,model\nX1,r1,hgx-h1000\n"
    write_file("quickstart-inventory.csv", bad)
    plan = write_file("plan.yaml", (ROOT / "stacks" / "quickstart.yaml").read_text().replace("inventory/quickstart-", "quickstart-"))
    with pytest.raises(PlanError, match=r"plan.yaml:16:16: sites.lab-1.inventory: .*csv:2:7: model"):
        load_plan(plan)
    write_file("quickstart-inventory.csv", (ROOT / "stacks" / "inventory" / "quickstart-inventory.csv").read_text())
    loaded = load_plan(plan)
    write_file("quickstart-inventory.csv", bad)
    with pytest.raises(InventoryError) as caught:
        prepare_sites(loaded, plan)
    assert "quickstart-inventory.csv:2:" in str(caught.value)
    assert site_nodes("lab-1") is None


def test_shipped_inventories_have_spares_for_their_plans():
    """Each plan's clusters fit in its inventories with free nodes left to replace a failed one."""
    for plan_name in ("quickstart.yaml", "owned-large.yaml"):
        plan = ROOT / "stacks" / plan_name
        loaded = load_plan(plan)
        assert len(prepare_sites(loaded, plan)) == len(loaded.plan.sites)
        wanted: dict[tuple[str, str], int] = {}
        for name, cluster in loaded.plan.clusters.items():
            key = (cluster.site, loaded.types[name].instance_type)
            wanted[key] = wanted.get(key, 0) + cluster.nodes
        for (site, model), count in wanted.items():
            with open_site(site) as inv:
                free = [n for n in inv.nodes() if n.model == model and n.state == "free"]
            assert len(free) > count, f"{plan_name}: {site} has {len(free)} free {model} nodes for {count}"


def test_a_thousand_bad_rows_stop_at_a_hundred(write_file):
    rows = "".join(f"S{i},r1,nope\n" for i in range(1000))
    lines = problems_of(write_file("many.csv", "serial,rack,model\n" + rows))
    assert len(lines) == 101 and "stopped after 100 problems" in lines[-1]


def test_serials_are_compared_without_case(write_file):
    with pytest.raises(InventoryError, match="serial .d1. repeats line 2"):
        read_inventory(write_file("twice.csv", "serial,rack,model\nD1,r1,hgx-h100\nd1,r1,hgx-h100\n"), load_catalog())
    assert import_file(write_file("one.csv", "serial,rack,model\nD1,r1,hgx-h100\n"), "lab-1") == (1, 0)
    assert import_file(write_file("lower.csv", "serial,rack,model\nd1,r1,hgx-h100\n"), "lab-1") == (0, 1)
    with pytest.raises(InventoryError, match=r"serial 'd1' is already .* \(listed as 'D1'\)"):
        import_file(write_file("moved.csv", "serial,rack,model\nd1,r9,hgx-h100\n"), "lab-1")
    with open_site("lab-1") as inv:
        assert [n.serial for n in inv.nodes()] == ["D1"]
        before, after = inv.mark("d1", "failed")
        assert (before.serial, after.state) == ("D1", "failed")
