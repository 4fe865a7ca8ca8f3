"""Every list and every free string of every JSON request body has a maximum in the published schema, so no
field can hold more than a border document ever needs (the body limit caps the whole request besides)."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

DECIMALS = {"gross_mass_kg", "amount", "sampling_rate"}
"""Decimals, bounded by their digits (`max_digits`) when validated: the schema shows them as plain strings."""

BOUNDED = ("maxLength", "enum", "const", "format", "pattern")


def unbounded(document: dict[str, Any]) -> list[str]:
    components = document["components"]["schemas"]

    def resolve(schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            schema = components[schema["$ref"].rsplit("/", 1)[-1]]
        return schema

    found: list[str] = []

    def walk(schema: dict[str, Any], path: str, name: str) -> None:
        schema = resolve(schema)
        for alternative in (*schema.get("anyOf", ()), *schema.get("oneOf", ()), *schema.get("allOf", ())):
            walk(alternative, path, name)
        kind = schema.get("type")
        if kind == "string" and name not in DECIMALS and not any(key in schema for key in BOUNDED):
            found.append(path)
        if kind == "array":
            if "maxItems" not in schema:
                found.append(f"{path}[]")
            walk(schema.get("items", {}), f"{path}[]", name)
        for field, value in schema.get("properties", {}).items():
            walk(value, f"{path}.{field}", field)

    for route, operations in document["paths"].items():
        for method, operation in operations.items():
            content = operation.get("requestBody", {}).get("content", {})
            if "application/json" in content:
                walk(content["application/json"].get("schema", {}), f"{method.upper()} {route}", "")
    return found


def test_every_list_and_string_of_a_json_body_has_a_maximum(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    bodies = sum("requestBody" in op for ops in document["paths"].values() for op in ops.values())
    assert bodies > 20
    assert unbounded(document) == []


def test_an_unbounded_field_would_be_found() -> None:
    document = {
        "components": {"schemas": {"In": {"properties": {"notes": {"type": "array", "items": {"type": "string"}}}}}},
        "paths": {
            "/x": {
                "post": {
                    "requestBody": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/In"}}}}
                }
            }
        },
    }
    assert unbounded(document) == ["POST /x.notes[]", "POST /x.notes[]"]
