"""The error answers every operation of the API documents, met for every operation.

They come before any operation's own work, so one test each asks all documented operations: a write with the
session cookie but without the CSRF token (400), any request of an account that must first choose its own password
(403), a write whose form is no UTF-8 (422). The client checks each answer against the document as it comes; these
tests check that it is the German refusal and that nothing was done.
"""

from __future__ import annotations

import re

import pytest

import agenda.api  # noqa: F401 (adds its operations to the document)
import backlog.api  # noqa: F401 (likewise)
import minutes.api  # noqa: F401 (likewise)
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent
from fallkonferenz.web import MUST_CHANGE_PASSWORD
from tests.contract import PREFIX, operations
from tests.factories import PASSWORD, make_user


def _sample(match: re.Match) -> str:
    """Any value of a path parameter's type: these answers are given before an operation looks at its address."""
    return "FK-2026-0001" if match.group(1) == "number" else "1"


OPERATIONS = sorted((method, PREFIX + re.sub(r"\{(\w+)\}", _sample, template)) for method, template, _ in operations())
WRITES = [(method, path) for method, path in OPERATIONS if method != "GET"]


def _audit_count(query) -> int:
    return query(lambda: db.session.query(AuditEvent).count(), commit=False)


def test_every_operation_is_asked(app):
    # every route of the API is an operation of the document, and so among those asked below
    routes = {
        (method, re.sub(r"<(?:\w+:)?(\w+)>", _sample, rule.rule))
        for rule in app.url_map.iter_rules()
        if rule.rule.startswith(PREFIX + "/") and rule.endpoint != "api.openapi"
        for method in rule.methods - {"HEAD", "OPTIONS"}
    }
    assert routes == set(OPERATIONS)
    assert {"GET", "POST", "PATCH", "PUT", "DELETE"} <= {method for method, _ in OPERATIONS}


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_write_without_the_csrf_token_is_refused(world, client_for, query, method, path):
    client = client_for(world["KI"], PASSWORD)
    before = _audit_count(query)
    resp = client.http.open(path, method=method, json={})  # the session cookie, but no X-CSRFToken
    assert resp.status_code == 400
    assert "Sicherheitstoken" in resp.get_json()["error"]
    assert _audit_count(query) == before  # nothing was done, not even a read logged


@pytest.fixture
def given_password(world, client_for, query):
    """A moderator whose password the administration gave her, logged in: she must choose her own first."""

    def make():
        user = make_user("KI", "moderator", username="ki.neu")
        user.must_change_password = True
        return user.username

    client = client_for(query(make), PASSWORD)
    assert client.csrf  # the page where she chooses it carries the token, so only the password is missing
    return client


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_an_account_with_a_given_password_is_refused(given_password, query, method, path):
    before = _audit_count(query)
    resp = given_password.api(method, path, json={} if method != "GET" else None)
    assert resp.status_code == 403
    assert resp.get_json()["error"] == MUST_CHANGE_PASSWORD
    assert _audit_count(query) == before


@pytest.mark.parametrize(("method", "path"), WRITES)
def test_a_write_whose_form_is_no_utf8_is_refused(world, client_for, query, method, path):
    client = client_for(world["KI"], PASSWORD)
    before = _audit_count(query)
    resp = client.api(method, path, json=None, data=b"text=%FF%FE", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 422
    assert "UTF-8" in resp.get_json()["error"]
    assert _audit_count(query) == before
