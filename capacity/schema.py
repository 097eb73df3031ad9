"""The plan's JSON Schema, for editors (yaml-language-server) and for `capacity schema`."""

from __future__ import annotations

from capacity.model import Plan

SCHEMA_ID = "https://capacity.dev/schema/capacity-plan.schema.json"


def plan_schema() -> dict:
    schema = Plan.model_json_schema(by_alias=True)
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID,
            "title": "capacity plan (capacity/v1)", **schema}
