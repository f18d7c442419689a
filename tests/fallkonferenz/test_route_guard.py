"""Protect by default: every rule needs a login unless it is on the public allow-list."""

from __future__ import annotations

import re

import pytest

from fallkonferenz.web import PUBLIC_ENDPOINTS
from tests.factories import PASSWORD

SAMPLES = {"kind": "decision", "code": "JC"}  # arguments that are neither ids nor case numbers


def _sample_url(rule) -> str:
    url = rule.rule
    for arg in rule.arguments:
        sample = SAMPLES.get(arg, "1" if "id" in arg else "FK-2026-0001")
        url = re.sub(rf"<(?:[a-z]+(?:\([^)]*\))?:)?{arg}>", sample, url)
    return url


def test_every_route_is_protected_or_explicitly_public(app):
    client = app.test_client()
    checked = 0
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            resp = client.open(_sample_url(rule), method=method, headers={"Authorization": ""})
            # Unsafe methods without a session fail CSRF (400) before anything else; reads redirect or 401.
            assert resp.status_code in (302, 401, 400), (rule.rule, method, resp.status_code)
            if resp.status_code == 302:
                assert "/anmelden" in resp.headers["Location"]
            checked += 1
    assert checked > 20


def test_public_allow_list_is_small_and_known():
    # The calendar feed is authenticated by its own revocable token in the URL.
    assert {"auth.login", "static", "health", "api.openapi", "agenda.feed"} == PUBLIC_ENDPOINTS


def test_api_without_credentials_gets_json_401(app):
    resp = app.test_client().get("/api/v1/cases")
    assert resp.status_code == 401
    assert "melden sie sich an" in resp.get_json()["error"].lower()


def test_api_with_a_revoked_or_unknown_token_gets_401(app):
    resp = app.test_client().get("/api/v1/cases", headers={"Authorization": "Bearer fk_unbekannt"})
    assert resp.status_code == 401


HUGE = "99999999999999999999999"  # beyond the database's 64-bit integers


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"/faelle/{HUGE}", 404),
        (f"/konferenzen/{HUGE}", 404),
        (f"/lenkungsgruppe/themen/{HUGE}", 404),
        (f"/oparl/v1/paper/{HUGE}", 404),
        (f"/faelle/?seite={HUGE}", 422),
        ("/oparl/v1/papers?modified_since=0001-01-01T00:00:00%2B01:00", 422),
        ("/oparl/v1/papers?modified_since=9999-12-31T23:59:59-05:00", 422),
        # no case number, so no case, on every database (PostgreSQL's driver refuses a NUL byte in a text)
        ("/faelle/FK-2026-0001%00", 404),
        ("/api/v1/cases/FK-2026-0001%00", 404),
        ("/api/v1/cases/%00/notes", 404),
        ("/faelle/%E2%80%AE", 404),
    ],
)
def test_numbers_and_dates_out_of_range_get_a_german_4xx(world, client_for, url, status):
    resp = client_for(world["KI"], PASSWORD).get(url)
    assert resp.status_code == status, resp.get_data(as_text=True)[:300]
    assert "Traceback" not in resp.get_data(as_text=True)


def test_pages_link_an_icon_that_anyone_can_load(app):
    client = app.test_client()
    page = client.get("/anmelden").get_data(as_text=True)
    href = page.split('<link rel="icon" href="', 1)[1].split('"', 1)[0]
    with client.get(href) as icon:  # a static file is streamed: close it
        assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"


@pytest.mark.parametrize(
    ("target", "safe"),
    [
        ("/faelle/", True),
        ("/?aufgaben=meine", True),
        ("//evil.example", False),
        ("/\\evil.example", False),
        ("/%5Cevil.example", True),  # stays a path: the browser does not decode it into a host
        ("https://evil.example/", False),
        ("/\tevil", False),
        ("faelle", False),
        ("", False),
    ],
)
def test_a_way_back_stays_on_the_site(target, safe):
    from fallkonferenz.web import is_safe_next

    assert is_safe_next(target) is safe
