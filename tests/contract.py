"""The API's answers held to its OpenAPI document.

The test app's client checks every answer under /api/v1 against the operation the document describes for it: the
status code must be one the operation lists, and the JSON body must match the schema of that response (JSON Schema
2020-12, as OpenAPI 3.1 uses it; formats such as `date` checked too). So every API test is also a test of the
document, and a field added to an answer without its description, or a status code nobody documented, fails the
test that meets it, not an agency's client later.
"""

from __future__ import annotations

import re
from functools import cache

from flask.testing import FlaskClient
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from fallkonferenz.openapi import OPENAPI

PREFIX = "/api/v1"
DOCUMENT = "urn:fallkonferenz:openapi"
UNCHECKED = {f"{PREFIX}/openapi.json"}  # the document itself


# (method, path template, status) of every answer checked in this test run, for the coverage report at its end.
MET: set[tuple[str, str, str]] = set()


@cache
def _operations() -> list[tuple[re.Pattern, str, str, dict]]:
    found = []
    for template, methods in OPENAPI["paths"].items():
        # a parameter is one path segment: /backlog/implementations/7 is not /backlog/{escalationId}
        segments = re.split(r"\{[^}]+\}", PREFIX + template)
        pattern = re.compile("[^/]+".join(re.escape(part) for part in segments) + "$")
        for method, operation in methods.items():
            found.append((pattern, method.upper(), template, operation))
    # a literal segment before a parameter, as the app's routes match: /backlog/groups is not /backlog/{escalationId}
    return sorted(found, key=lambda row: row[2].count("{"))


def _match(method: str, path: str) -> tuple[str, dict] | None:
    """The documented operation of a request: its path template and its description."""
    for pattern, m, template, operation in _operations():
        if m == method and pattern.match(path):
            return template, operation
    return None


def operation_for(method: str, path: str) -> dict | None:
    found = _match(method, path)
    return found[1] if found else None


def _body_schema(operation: dict) -> str | None:
    """The name of the schema an operation's request body follows; None if it takes no body."""
    body = operation.get("requestBody")
    return body["content"]["application/json"]["schema"]["$ref"].rpartition("/")[2] if body else None


def operations() -> list[tuple[str, str, str | None]]:
    """(method, path template, the request body's schema name or None) of every documented operation but the
    document itself."""
    return [
        (method, template, _body_schema(op)) for _, method, template, op in _operations() if template != "/openapi.json"
    ]


def case_operations() -> list[tuple[str, str, str | None]]:
    """The same of every documented operation on one case."""
    return [found for found in operations() if "{number}" in found[1]]


def unmet() -> list[str]:
    """The documented answers (operation and status) that no request of this run met."""
    return [
        f"{method} {PREFIX}{template} {status}"
        for _, method, template, operation in _operations()
        for status in operation["responses"]
        if (method, template, status) not in MET and template != "/openapi.json"
    ]


def _resolve(node: dict) -> dict:
    while "$ref" in node:
        target = OPENAPI
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


@cache
def _validator(pointer: str) -> Draft202012Validator:
    """A validator for the schema at `pointer` in the document, its references resolved within the document."""
    registry = Registry().with_resource(DOCUMENT, Resource.from_contents(OPENAPI, default_specification=DRAFT202012))
    return Draft202012Validator(
        {"$ref": f"{DOCUMENT}#{pointer}"}, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER
    )


def problems(method: str, path: str, status: int, body) -> list[str]:
    """What is wrong with this answer by the document; [] when it is as described."""
    if not path.startswith(PREFIX + "/") or path in UNCHECKED:
        return []
    operation = operation_for(method, path)
    if operation is None:
        # An address the API does not have (a test probing one): an error, never data.
        if status < 400:
            return [f"{method} {path}: answered {status}, but the OpenAPI document has no such operation"]
        return [] if isinstance(body, dict) and isinstance(body.get("error"), str) else [f"{path}: no German error"]
    response = operation["responses"].get(str(status))
    if response is None:
        return [f"{method} {path}: status {status} is not in the OpenAPI document ({sorted(operation['responses'])})"]
    response = _resolve(response)
    schema = response["content"]["application/json"]["schema"]
    if "$ref" not in schema:
        return [f"{method} {path}: the {status} answer has no named schema"]
    pointer = schema["$ref"][1:]
    return [
        f"{method} {path} {status}: {'/'.join(map(str, e.absolute_path)) or '(answer)'}: {e.message}"
        for e in _validator(pointer).iter_errors(body)
    ]


class ContractClient(FlaskClient):
    """Flask's test client, checking each API answer against the OpenAPI document as it comes."""

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        request = response.request
        if request.path.startswith(PREFIX + "/"):
            if (met := _match(request.method, request.path)) is not None:
                MET.add((request.method, met[0], str(response.status_code)))
            body = response.get_json(silent=True)
            found = problems(request.method, request.path, response.status_code, body)
            assert not found, "The answer does not match the OpenAPI document:\n" + "\n".join(found)
        return response
