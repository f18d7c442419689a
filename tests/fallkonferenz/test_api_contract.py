"""The OpenAPI document describes every answer, and the check that holds the API to it (tests/contract.py) works."""

from __future__ import annotations

from jsonschema import Draft202012Validator

from tests.contract import operation_for, problems

CASE_ROW = {
    "id": 1,
    "number": "FK-2026-0001",
    "leadAgency": "KI",
    "access": {"visibleCategories": ["stammdaten"], "hiddenCategories": [], "lead": True},
    "closedOn": None,
}


def test_every_schema_of_the_document_is_valid_json_schema(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    for schema in doc["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)  # raises, naming the fault, if it is not
    # every operation names the schema of its answer and documents its errors
    for path, methods in doc["paths"].items():
        for method, operation in methods.items():
            ok = next(status for status in operation["responses"] if status.startswith("2"))
            schema = operation["responses"][ok]["content"]["application/json"]["schema"]
            assert schema["$ref"].removeprefix("#/components/schemas/") in doc["components"]["schemas"], (method, path)
            # a read sends no CSRF token (no 400); a list without a path parameter has nothing to miss (no 404)
            errors = {"401", "403", "422"} | ({"400"} if method != "get" else set())
            errors |= {"404"} if method != "get" or "{" in path else set()
            assert errors <= set(operation["responses"]), (method, path)
            assert method != "get" or "400" not in operation["responses"], path


def test_the_check_finds_an_undocumented_field_a_wrong_type_and_an_undocumented_status(app):
    page = {"total": 1, "page": 1, "hasNext": False, "items": [CASE_ROW]}
    assert problems("GET", "/api/v1/cases", 200, page) == []
    leaked = problems("GET", "/api/v1/cases", 200, page | {"items": [CASE_ROW | {"birthDate": "2001-04-03"}]})
    assert len(leaked) == 1 and "birthDate" in leaked[0] and "items/0" in leaked[0]
    wrong = problems("GET", "/api/v1/cases", 200, page | {"total": "eins"})
    assert len(wrong) == 1 and "total" in wrong[0]
    bad_day = problems("GET", "/api/v1/cases", 200, page | {"items": [CASE_ROW | {"closedOn": "31.12.2026"}]})
    assert len(bad_day) == 1 and "closedOn" in bad_day[0]
    assert "status 418" in problems("GET", "/api/v1/cases", 418, {"error": "?"})[0]
    # an address the API does not have: only a German error passes, never data
    assert problems("GET", "/api/v1/nirgends", 404, {"error": "Nicht gefunden."}) == []
    assert problems("GET", "/api/v1/nirgends", 200, {"items": []})


def test_a_parameter_is_one_path_segment(app):
    app.test_client()  # the blueprints have added their paths to the document
    assert operation_for("PATCH", "/api/v1/backlog/implementations/7")["summary"].startswith("Stand der Umsetzung")
    assert operation_for("GET", "/api/v1/backlog/7")["summary"].startswith("Eintrag")
    assert operation_for("GET", "/api/v1/backlog/implementations/7") is None
    assert operation_for("POST", "/api/v1/cases/FK-2026-0001/notes/3/withdraw") is not None
