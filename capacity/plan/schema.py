"""The plan's JSON Schema, for editors (yaml-language-server) and for `capacity schema`.

Generated from the plan model, then rewritten into plain JSON Schema 2020-12 that strict tools
(ajv strict, check-jsonschema) accept and that catches everything it can express:
- name patterns are anchored, and a named entry (sites, clusters, leases...) is checked for its
  name (`propertyNames`) and for its keys and values whatever its name;
- the site union is chosen by `provider` with if/then, not the OpenAPI `discriminator` keyword;
- formats beyond the standard ones become patterns (`ipv4network`);
- dates say to quote them, for YAML 1.1 tools that turn 2027-01-01 into a timestamp;
- a property without a description of its own takes its definition's.
What the schema cannot express (references between entries, the catalog, dates against dates)
is left to `capacity validate`.
"""

from __future__ import annotations

from typing import Any

from capacity.plan.model import Plan

SCHEMA_ID = "https://capacity.dev/schema/capacity-plan.schema.json"
TITLE = "capacity plan (capacity/v1)"
OCTET = r"(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])"
# An IPv4 network in CIDR form, /8 to /32; the host bits are left to `capacity validate`.
IPV4_NETWORK = rf"^({OCTET}\.){{3}}{OCTET}/([89]|[12][0-9]|3[0-2])$"
DATE_NOTE = " Quote it ('2027-01-01'): YAML 1.1 tools read an unquoted date as a timestamp."


def plan_schema() -> dict[str, Any]:
    schema = Plan.model_json_schema(by_alias=True)
    definitions = schema.get("$defs", {})
    rewritten = _rewrite(schema, definitions)
    rewritten.pop("title", None)  # pydantic's "Plan"
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, "title": TITLE, **rewritten}


def _rewrite(node: Any, definitions: dict[str, Any]) -> Any:
    """The schema `node` with every rule of the module docstring applied, depth first."""
    if isinstance(node, list):
        return [_rewrite(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    node = {key: _rewrite(value, definitions) for key, value in node.items()}
    if "pattern" in node and isinstance(node["pattern"], str):
        node["pattern"] = _anchored(node["pattern"])
    if "patternProperties" in node:
        node = _named_entries(node)
    if "discriminator" in node:
        node = _chosen_by_tag(node, definitions)
    if node.get("format") == "ipv4network":
        del node["format"]
        node["pattern"] = IPV4_NETWORK
    if node.get("format") == "date" and DATE_NOTE not in node.get("description", ""):
        node["description"] = node.get("description", "A date, YYYY-MM-DD.") + DATE_NOTE
    if isinstance(node.get("properties"), dict):
        node["properties"] = {name: _described(prop, definitions) for name, prop in node["properties"].items()}
    return node


def _anchored(pattern: str) -> str:
    pattern = pattern.removesuffix(r"\Z")
    return ("" if pattern.startswith("^") else "^") + pattern + ("" if pattern.endswith("$") else "$")


def _named_entries(node: dict[str, Any]) -> dict[str, Any]:
    """{patternProperties: {NAME: X}} -> names checked by propertyNames, every value checked as X.

    With patternProperties alone, an entry whose name does not match is checked by nothing."""
    (pattern, value), *rest = node.pop("patternProperties").items()
    assert not rest, "one name pattern per mapping"
    names = {"type": "string", **node.get("propertyNames", {}), "pattern": _anchored(pattern)}
    return {**node, "propertyNames": names, "additionalProperties": value}


def _chosen_by_tag(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """oneOf + discriminator -> the tag required, one of its values, and if/then per value.

    ajv strict refuses the OpenAPI `discriminator` keyword; if/then gives one branch's errors
    instead of every branch's, as the discriminator would."""
    tag = node.pop("discriminator")["propertyName"]
    choices = {_tag_value(definitions, ref["$ref"], tag): ref["$ref"] for ref in node.pop("oneOf")}
    listed = ", ".join(f"{value} ({ref.rsplit('/', 1)[-1]})" for value, ref in choices.items())
    return {
        **node,
        "type": "object",
        "description": node.get("description", f"Its `{tag}` chooses the keys it takes: {listed}."),
        "required": [tag],
        "properties": {tag: {"enum": list(choices), "description": f"One of {', '.join(choices)}."}},
        "allOf": [{"if": {"properties": {tag: {"const": value}}}, "then": {"$ref": ref}}
                  for value, ref in choices.items()],
    }


def _tag_value(definitions: dict[str, Any], ref: str, tag: str) -> str:
    return str(definitions[ref.rsplit("/", 1)[-1]]["properties"][tag]["const"])


def _described(prop: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    """A property that has no description of its own takes that of the definition it refers to."""
    if "description" in prop or "$ref" not in prop:
        return prop
    described = definitions.get(prop["$ref"].rsplit("/", 1)[-1], {}).get("description")
    return {**prop, "description": described} if described else prop
