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
            # the errors an operation can give, documented exactly: a write can lack its CSRF token (400) and send
            # a form that is no UTF-8 (422); a read only answers 422 where it takes a query parameter; 404 where the
            # address names something, or where the summary says which part of the body does
            names = [p["$ref"].rpartition("/")[2] for p in operation.get("parameters", [])]
            queried = any(doc["components"]["parameters"][name]["in"] == "query" for name in names)
            errors = {"401", "403"} | ({"400", "422"} if method != "get" else {"422"} if queried else set())
            errors |= {"404"} if "{" in path or "404" in operation["summary"] else set()
            assert {s for s in operation["responses"] if s in ("400", "401", "403", "404", "422")} == errors, (
                method,
                path,
            )


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
