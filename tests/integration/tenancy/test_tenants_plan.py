"""`tenants:` in the plan: leases name a tenant of it, groups are the tenant's own, every mistake
at its line with a fix."""

from __future__ import annotations

import pytest

from capacity.errors import PlanError
from capacity.plan.loading import load_text

PLAN = """apiVersion: capacity/v1
kind: CapacityPlan
metadata: {name: tenants}
sites:
  lab: {provider: owned, location: Austin, power_mw: 2, cost_per_gpu_hour: 1.0, network: {cidr: 10.60.0.0/16}}
clusters:
  train: {site: lab, instance_type: hgx-h100, nodes: 4}
tenants:
  acme-corp:
    groups: ["oidc:acme-ml"]
    contact: ops@acme.example
  globex: {groups: ["oidc:globex"]}
leases:
  one:
    tenant: acme-corp
    cluster: train
    gpus: 8
    start: 2027-01-01
    end: 2027-04-01
    price_per_gpu_hour: 2.5
"""


def problems(text: str) -> list:
    with pytest.raises(PlanError) as raised:
        load_text(text, "plan.yaml")
    return raised.value.problems


def test_tenants_are_read():
    plan = load_text(PLAN, "plan.yaml").plan
    assert plan.tenants["acme-corp"].groups == ["oidc:acme-ml"]
    assert plan.tenants["acme-corp"].contact == "ops@acme.example"
    assert plan.tenants["globex"].contact is None


def test_without_tenants_any_tenant_name_goes():
    text = PLAN.replace('tenants:\n  acme-corp:\n    groups: ["oidc:acme-ml"]\n    contact: ops@acme.example\n'
                        '  globex: {groups: ["oidc:globex"]}\n', "")
    assert load_text(text, "plan.yaml").plan.tenants is None


def test_a_lease_of_an_unknown_tenant_is_reported_with_a_suggestion():
    [problem] = problems(PLAN.replace("    tenant: acme-corp", "    tenant: acme-crop"))
    assert problem.path == "leases.one.tenant" and problem.line == 15
    assert "tenant 'acme-crop' is not defined in `tenants`" in problem.message
    assert "Did you mean 'acme-corp'?" in problem.message


@pytest.mark.parametrize("groups, words", [
    ('["system:authenticated"]', ["Kubernetes system group", "To fix"]),
    ('["oidc:acme-ml"]', ["also a group of tenant 'acme-corp'", "To fix"]),
])
def test_groups_that_would_open_a_namespace_to_others_are_refused(groups, words):
    [problem] = problems(PLAN.replace('{groups: ["oidc:globex"]}', f"{{groups: {groups}}}"))
    assert problem.path == "tenants.globex.groups[0]" and problem.line == 12
    assert all(word in problem.message for word in words), problem.message


@pytest.mark.parametrize("groups", ["[]", '["has space"]', '[""]', "oidc:x"])
def test_malformed_groups_are_reported_at_their_line(groups):
    found = problems(PLAN.replace('{groups: ["oidc:globex"]}', f"{{groups: {groups}}}"))
    assert found and all(p.path.startswith("tenants.globex.groups") and p.line == 12 for p in found)


def test_a_broken_tenant_does_not_also_report_its_leases():
    text = PLAN.replace('  globex: {groups: ["oidc:globex"]}', '  globex: {groups: ["oidc:globex"], mail: x}') \
        .replace("    tenant: acme-corp", "    tenant: globex")
    [problem] = problems(text)
    assert problem.path == "tenants.globex.mail"
