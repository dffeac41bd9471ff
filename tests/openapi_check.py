"""Check API responses against the OpenAPI schema drf-spectacular generates from the views.

    from tests.openapi_check import assert_response_matches_schema
    assert_response_matches_schema(response, "/api/participants/{did}/")

The schema is OpenAPI 3.0 (`nullable`), converted here to JSON Schema for `jsonschema`.
"""

from __future__ import annotations

import functools
import json
import re

import jsonschema
from drf_spectacular.generators import SchemaGenerator


@functools.cache
def openapi_schema() -> dict:
    return SchemaGenerator().get_schema(request=None, public=True)


def _to_json_schema(node):
    if isinstance(node, list):
        return [_to_json_schema(n) for n in node]
    if not isinstance(node, dict):
        return node
    node = {k: _to_json_schema(v) for k, v in node.items()}
    if node.pop("nullable", False):
        if "type" in node:
            types = node["type"] if isinstance(node["type"], list) else [node["type"]]
            node["type"] = [*types, "null"]
            if "enum" in node and None not in node["enum"]:
                node["enum"] = [*node["enum"], None]
        else:
            node = {"anyOf": [node, {"type": "null"}]}
    return node


def _path_template(schema: dict, path: str) -> str:
    if path in schema["paths"]:
        return path
    for template in schema["paths"]:
        pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "[^?]+", re.escape(template)) + "$"
        if re.match(pattern, path):
            return template
    raise AssertionError(f"{path} is not in the OpenAPI schema")


def response_schema(path: str, method: str, status: int, media_type: str | None = None) -> dict:
    schema = openapi_schema()
    operation = schema["paths"][_path_template(schema, path)][method.lower()]
    responses = operation["responses"]
    assert str(status) in responses, f"{method} {path}: status {status} is not documented"
    content = responses[str(status)].get("content", {})
    if media_type is not None:
        body = content.get(media_type)
        assert body is not None, f"{method} {path} {status}: {media_type} is not documented"
    else:
        body = content.get("application/json") or next(iter(content.values()), None)
    assert body is not None, f"{method} {path} {status}: no documented body"
    return {**_to_json_schema(body["schema"]), "components": _to_json_schema(schema["components"])}


def assert_response_matches_schema(
    response, path: str | None = None, method: str = "GET", media_type: str | None = None
):
    """Validate the response body against the documented body for its path, method and status
    (and `media_type`, for operations documenting several representations)."""
    path = path or response.wsgi_request.path
    validator = jsonschema.Draft202012Validator(
        response_schema(path, method, response.status_code, media_type)
    )
    body = json.loads(response.content)
    errors = sorted(validator.iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "\n".join(f"{list(e.path)}: {e.message}" for e in errors)
