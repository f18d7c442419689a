"""The JSON API: token and session auth, the same policy as the UI, German errors for bad input."""

from __future__ import annotations

import pytest

from consent.models import Consent
from fallkonferenz.auth import service as auth_service
from fallkonferenz.extensions import db
from fallkonferenz.models import Case, Note, User
from tests.factories import PASSWORD, all_categories, make_case, make_consent


@pytest.fixture
def token(world, query):
    return query(
        lambda: auth_service.create_api_token(
            db.session.query(User).filter_by(username=world["KI"]).one(), "Fachverfahren"
        )
    )


@pytest.fixture
def api(app, token):
    client = app.test_client()

    def call(method, url, **kw):
        headers = kw.pop("headers", {}) | {"Authorization": f"Bearer {token}"}
        return client.open(url, method=method, headers=headers, **kw)

    return call


def test_openapi_document_describes_the_api(app):
    doc = app.test_client().get("/api/v1/openapi.json").get_json()
    assert doc["openapi"].startswith("3.")
    assert {"/cases", "/cases/{number}", "/cases/{number}/notes", "/cases/{number}/consents"} <= set(doc["paths"])
    # what a caller meets: an erased case (its lead agency), a refusal by role, a conflict
    assert "410" in doc["paths"]["/cases/{number}/notes"]["post"]["responses"]
    assert {"403", "409"} <= set(doc["paths"]["/cases/{number}/consents/{consentId}/revoke"]["post"]["responses"])
    assert {"403", "409"} <= set(doc["paths"]["/conferences/{conferenceId}/items"]["post"]["responses"])
    assert "X-CSRFToken" in doc["info"]["description"]


def test_token_client_creates_a_case_writes_a_note_and_grants_consent(api, query):
    resp = api("POST", "/api/v1/cases", json={"given_name": "Yonas", "family_name": "Tekle", "fields": ["arbeit"]})
    assert resp.status_code == 201
    number = resp.get_json()["number"]
    assert resp.get_json()["client"]["family_name"] == "Tekle"
    assert (
        api(
            "POST", f"/api/v1/cases/{number}/notes", json={"category": "bildung_arbeit", "text": "Praktikum"}
        ).status_code
        == 201
    )
    goal = api(
        "POST",
        f"/api/v1/cases/{number}/goals",
        json={"title": "Ausbildung", "field": "arbeit", "responsibleAgency": "KI"},
    )
    assert goal.status_code == 201
    patch = api("PATCH", f"/api/v1/cases/{number}/goals/{goal.get_json()['id']}", json={"status": "in_arbeit"})
    assert patch.get_json()["status"] == "in_arbeit"
    consent = {
        "dateTime": "2026-01-10",
        "periodStart": "2026-01-10",
        "periodEnd": "2099-01-10",
        "purpose": "Fallkonferenz",
        "provision": [{"actor": "JC", "class": ["stammdaten", "leistungen"]}],
    }
    unchecked = api("POST", f"/api/v1/cases/{number}/consents", json=consent)
    assert unchecked.status_code == 422 and "verified" in unchecked.get_json()["errors"]  # nobody checked the form
    consent |= {"verified": True, "interpreterUsed": True, "interpreterLanguage": "Tigrinya"}
    created = api("POST", f"/api/v1/cases/{number}/consents", json=consent)
    assert created.status_code == 201
    listed = api("GET", f"/api/v1/cases/{number}/consents").get_json()["items"]
    # the language it was explained in is part of its record, as on the form
    assert listed[0]["verification"] == {"verified": True, "interpreterUsed": True, "interpreterLanguage": "Tigrinya"}
    assert listed[0]["status"] == "active" and listed[0]["provision"] == [
        {"actor": "JC", "class": ["leistungen", "stammdaten"]}
    ]
    revoked = api(
        "POST", f"/api/v1/cases/{number}/consents/{created.get_json()['id']}/revoke", json={"reason": "Widerruf"}
    )
    assert revoked.status_code == 200
    twice = api("POST", f"/api/v1/cases/{number}/consents/{created.get_json()['id']}/revoke", json={})
    assert twice.status_code == 409 and "bereits widerrufen" in twice.get_json()["error"]
    case = api("GET", f"/api/v1/cases/{number}").get_json()
    assert [n["text"] for n in case["notes"]] == ["Praktikum"]


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status"),
    [
        ("POST", "/api/v1/cases", {"data": "{kaputt", "content_type": "application/json"}, 422),
        ("POST", "/api/v1/cases", {"data": "[1, 2]", "content_type": "application/json"}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "", "family_name": "X"}}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A" * 10000, "family_name": "X"}}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": 5, "family_name": "X"}}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "X", "birth_date": "3.4.01"}}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "X", "fields": [["sprache"]]}}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "X", "rechtskreise": [{}]}}, 422),
        # a wrong type is no empty choice
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "X", "fields": {}}}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "X", "rechtskreise": ""}}, 422),
        (
            "POST",
            "/api/v1/cases",
            {"json": {"given_name": "A", "family_name": "X", "interpreter_needed": "false"}},
            422,
        ),
        (
            "POST",
            "/api/v1/cases",
            {"data": '{"a":' * 100000 + "1" + "}" * 100000, "content_type": "application/json"},
            422,
        ),
        ("POST", "/api/v1/cases", {"data": "[" * 100000 + "]" * 100000, "content_type": "application/json"}, 422),
        ("GET", "/api/v1/cases?page=x", {}, 422),
        ("GET", "/api/v1/cases?page=0", {}, 422),
        ("GET", "/api/v1/cases?page=٣", {}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "B", "birth_date": "9999-12-31"}}, 422),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "B", "birth_date": 20040317}}, 422),
        (
            "POST",
            "/api/v1/cases/{number}/notes",
            {"data": '{"category": "leistungen", "text": "ok\\ud800"}', "content_type": "application/json"},
            422,
        ),
        ("POST", "/api/v1/cases/{number}/notes", {"json": {"category": "leistungen", "text": "a\u0000b"}}, 422),
        ("GET", "/api/v1/cases?page=99999999999999999999999", {}, 422),
        ("GET", "/api/v1/cases/99999999999999999999999", {}, 404),
        ("POST", "/api/v1/cases/{number}/notes", {"json": {"category": [], "text": "x"}}, 422),
        ("POST", "/api/v1/cases/{number}/goals", {"json": {"field": [], "title": "x"}}, 422),
        ("POST", "/api/v1/cases/{number}/goals", {"json": {"field": "sprache", "responsibleAgency": {}}}, 422),
        (
            "POST",
            "/api/v1/cases/{number}/goals",
            {"json": {"field": "sprache", "responsibleAgency": "KI", "title": "B1", "dueDate": "2020-01-31"}},
            422,
        ),
        ("PATCH", "/api/v1/cases/{number}/goals/1", {"json": {"status": []}}, 422),
        ("PATCH", "/api/v1/cases/{number}/goals/99999999999999999999999", {"json": {"status": "offen"}}, 404),
        ("POST", "/api/v1/cases/{number}/consents", {"json": {"provision": [], "grantor": {"kind": []}}}, 422),
        ("GET", "/api/v1/cases/FK-1999-9999", {}, 404),
        ("POST", "/api/v1/cases", {"json": {"given_name": "A", "family_name": "B", "differentPerson": "ja"}}, 422),
        ("POST", "/api/v1/cases/{number}/notes/1/withdraw", {"json": {"reason": "keine Lust"}}, 422),
        ("POST", "/api/v1/cases/{number}/notes/1/withdraw", {"json": {"reason": ["fall"]}}, 422),
        ("POST", "/api/v1/cases/{number}/notes/1/withdraw", {"json": {}}, 422),
        ("POST", "/api/v1/cases/{number}/notes/999999/withdraw", {"json": {"reason": "fall"}}, 404),
        ("POST", "/api/v1/cases/FK-1999-9999/notes/1/withdraw", {"json": {"reason": "fall"}}, 404),
        ("GET", "/api/v1/gibtsnicht", {}, 404),
        ("DELETE", "/api/v1/cases", {}, 405),
    ],
)
def test_bad_api_input_gets_a_german_json_error(api, query, world, method, url, kwargs, status):
    number = query(lambda: make_case(db.session.query(User).filter_by(username=world["KI"]).one()).number)
    before = query(lambda: (db.session.query(Case).count(), db.session.query(Note).count()), commit=False)
    resp = api(method, url.format(number=number), **kwargs)
    assert resp.status_code == status
    body = resp.get_json()
    assert isinstance(body["error"], str) and body["error"]
    assert query(lambda: (db.session.query(Case).count(), db.session.query(Note).count()), commit=False) == before


def test_bad_consent_over_the_api(api, query, world):
    number = query(lambda: make_case(db.session.query(User).filter_by(username=world["KI"]).one()).number)
    base = {
        "dateTime": "2026-01-10",
        "periodStart": "2026-01-10",
        "periodEnd": "2099-01-10",
        "purpose": "x",
        "verified": True,
    }
    cases = [
        base | {"provision": "JC"},
        base | {"provision": [{"actor": "XY", "class": ["leistungen"]}]},
        base | {"provision": [{"actor": "JC", "class": ["nix"]}]},
        base | {"periodEnd": "2020-01-01", "provision": [{"actor": "JC", "class": ["leistungen"]}]},
        # "false" as text would have been read as true: the consent recorded as checked by the caller
        base | {"verified": "false", "provision": [{"actor": "JC", "class": ["leistungen"]}]},
        base | {"verified": False, "provision": [{"actor": "JC", "class": ["leistungen"]}]},
        base | {"interpreterUsed": "nein", "provision": [{"actor": "JC", "class": ["leistungen"]}]},
        base
        | {
            "dateTime": "2999-01-01",
            "periodStart": "2999-01-01",
            "provision": [{"actor": "JC", "class": ["leistungen"]}],
        },
        # who gave the consent is a legal fact: not "the client" by default when the field is malformed
        base | {"grantor": 123, "provision": [{"actor": "JC", "class": ["leistungen"]}]},
        base | {"grantor": ["guardian"], "provision": [{"actor": "JC", "class": ["leistungen"]}]},
    ]
    for body in cases:
        resp = api("POST", f"/api/v1/cases/{number}/consents", json=body)
        assert resp.status_code == 422, body
        assert resp.get_json()["errors"]
    assert query(lambda: db.session.query(Consent).count(), commit=False) == 0
    # The refused fields are named as the API names them
    late = base | {"periodEnd": "2020-01-01", "provision": [{"actor": "JC", "class": ["leistungen"]}]}
    assert set(api("POST", f"/api/v1/cases/{number}/consents", json=late).get_json()["errors"]) == {"periodEnd"}
    nobody = base | {"grantor": {"kind": "guardian"}, "provision": [{"actor": "JC", "class": ["leistungen"]}]}
    assert set(api("POST", f"/api/v1/cases/{number}/consents", json=nobody).get_json()["errors"]) == {"grantor.name"}
    goal = {"field": "sprache", "responsibleAgency": "KI", "title": "B1", "dueDate": "2020-01-31"}
    assert set(api("POST", f"/api/v1/cases/{number}/goals", json=goal).get_json()["errors"]) == {"dueDate"}


def test_session_clients_need_the_csrf_header_for_writes(world, client_for):
    client = client_for(world["KI"], PASSWORD)
    payload = {"given_name": "A", "family_name": "B"}
    assert client.http.post("/api/v1/cases", json=payload).status_code == 400
    assert client.api("POST", "/api/v1/cases", json=payload).status_code == 201


def test_a_caller_without_a_login_is_told_so_on_every_method(app, token):
    """Not "the form has expired" (the CSRF answer of a session without its token): no login, 401, whatever the
    method; and the scheme of the header is read in any case."""
    client = app.test_client()
    calls = (("GET", "/api/v1/cases"), ("POST", "/api/v1/cases"), ("DELETE", "/api/v1/conferences/1/items/1"))
    for method, url in calls:
        resp = client.open(url, method=method, json={})
        assert resp.status_code == 401, method
        assert resp.get_json()["error"] == "Bitte melden Sie sich an oder senden Sie ein gültiges Token.", method
    for header in (f"bearer {token}", f"BEARER {token}"):
        assert client.get("/api/v1/cases", headers={"Authorization": header}).status_code == 200
    created = client.post(
        "/api/v1/cases", headers={"Authorization": f"bearer {token}"}, json={"given_name": "A", "family_name": "B"}
    )
    assert created.status_code == 201
    assert client.post("/api/v1/cases", headers={"Authorization": "Bearer "}, json={}).status_code == 401
    # an address without such a method: 405, not a CSRF refusal
    assert client.put("/api/v1/cases", json={}).status_code == 405


def test_revoked_token_stops_working(world, query, app, token):
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/v1/cases", headers=headers).status_code == 200

    def revoke():
        user = db.session.query(User).filter_by(username=world["KI"]).one()
        auth_service.revoke_api_token(user, auth_service.list_api_tokens(user)[0].id)

    query(revoke)
    assert client.get("/api/v1/cases", headers=headers).status_code == 401


def test_token_page_shows_a_new_token_once(world, client_for):
    client = client_for(world["KI"], PASSWORD)
    page = client.post("/zugangstoken", data={"name": "Fachverfahren"}).get_data(as_text=True)
    assert "fk_" in page
    assert "fk_" not in client.get("/zugangstoken").get_data(as_text=True)
    assert client.post("/zugangstoken", data={"name": ""}).status_code == 422
    too_long = client.post("/zugangstoken", data={"name": "Fachverfahren " + "x" * 100})
    assert too_long.status_code == 422 and 'value="Fachverfahren xxx' in too_long.get_data(as_text=True)


def test_revoking_a_token_asks_first_and_says_which_one_went(world, client_for, query):
    client = client_for(world["KI"], PASSWORD)
    client.post("/zugangstoken", data={"name": "Fachverfahren <Jobcenter>"})
    page = client.get("/zugangstoken").get_data(as_text=True)
    assert 'data-confirm="Token „Fachverfahren &lt;Jobcenter&gt;“ widerrufen?' in page

    def first_token_id():
        ki = db.session.query(User).filter_by(username=world["KI"]).one()
        return auth_service.list_api_tokens(ki)[0].id

    token_id = query(first_token_id, commit=False)
    page = client.post(f"/zugangstoken/{token_id}/widerrufen", follow_redirects=True).get_data(as_text=True)
    assert "Das Token „Fachverfahren &lt;Jobcenter&gt;“ wurde widerrufen" in page
    assert "data-confirm" not in page  # nothing left to revoke


def test_a_client_known_already_is_named_before_a_second_case_is_opened(api, query):
    person = {"given_name": "Yonas", "family_name": "Tekle", "birth_date": "2003-05-01"}
    first = api("POST", "/api/v1/cases", json=person)
    assert first.status_code == 201
    again = api("POST", "/api/v1/cases", json=person | {"given_name": "yonas"})
    body = again.get_json()
    assert again.status_code == 409 and "vielleicht schon einen Fall" in body["error"]
    assert [c["number"] for c in body["possibleDuplicates"]] == [first.get_json()["number"]]
    assert query(lambda: db.session.query(Case).count(), commit=False) == 1
    other = api("POST", "/api/v1/cases", json=person | {"birth_date": "2001-01-01"})
    assert other.status_code == 201  # another birth date: someone else
    confirmed = api("POST", "/api/v1/cases", json=person | {"differentPerson": True})
    assert confirmed.status_code == 201 and query(lambda: db.session.query(Case).count(), commit=False) == 3


def test_a_note_is_withdrawn_over_the_api_by_its_agency_only(api, query, world, client_for):
    case = api("POST", "/api/v1/cases", json={"given_name": "Yonas", "family_name": "Tekle"}).get_json()
    note = api("POST", f"/api/v1/cases/{case['number']}/notes", json={"category": "gesundheit", "text": "Befund"})
    url = f"/api/v1/cases/{case['number']}/notes/{note.get_json()['id']}/withdraw"
    # another agency, even one that could see the case, withdraws nothing of KI's
    jc = client_for(world["JC"], PASSWORD)
    assert jc.api("POST", url, json={"reason": "kategorie"}).status_code == 404
    done = api("POST", url, json={"reason": "kategorie"})
    assert done.status_code == 200 and done.get_json()["withdrawReason"] == "kategorie"
    assert done.get_json()["withdrawnAt"]
    assert api("POST", url, json={"reason": "kategorie"}).status_code == 409  # once is enough
    listed = api("GET", f"/api/v1/cases/{case['number']}/notes").get_json()["items"]
    assert [(n["text"], n["withdrawReason"]) for n in listed] == [("", "kategorie")]
    assert query(lambda: db.session.get(Note, note.get_json()["id"]).text_enc, commit=False) == b""


def test_api_input_is_read_as_documented_and_refusals_name_the_api_fields(api):
    """Dates only as JJJJ-MM-TT (not ISO's week or basic forms), each choice once, times with "Z", and a refusal
    keyed by the field names the caller sent."""
    created = api(
        "POST",
        "/api/v1/cases",
        json={"given_name": "Yonas", "family_name": "Tekle"}
        | {
            "fields": ["arbeit"] * 500 + ["sprache", "arbeit"],
            "rechtskreise": ["SGB II", "SGB II"],
        },
    )
    assert created.status_code == 201
    assert created.get_json()["fields"] == ["arbeit", "sprache"] and created.get_json()["rechtskreise"] == ["SGB II"]
    assert created.get_json()["client"]["birth_date"] is None  # not given: null, not ""
    number = created.get_json()["number"]
    for birth in ("2000-W01-1", "20000103", "2000-1-3"):
        resp = api("POST", "/api/v1/cases", json={"given_name": "A", "family_name": "B", "birth_date": birth})
        assert resp.status_code == 422 and "JJJJ-MM-TT" in resp.get_json()["errors"]["birth_date"], birth
    consent = {
        "dateTime": "20260110",
        "periodStart": "2026-01-10",
        "periodEnd": "2026-W52-1",
        "purpose": "Fallkonferenz",
        "provision": [{"actor": "JC", "class": ["stammdaten"]}],
        "grantor": {"kind": 5, "name": "x" * 300},
    }
    refused = api("POST", f"/api/v1/cases/{number}/consents", json=consent)
    assert refused.status_code == 422
    assert {"grantor.kind"} <= set(refused.get_json()["errors"])
    refused = api("POST", f"/api/v1/cases/{number}/consents", json=consent | {"grantor": {"kind": "client"}})
    assert refused.status_code == 422 and "dateTime" in refused.get_json()["errors"]
    refused = api(
        "POST",
        f"/api/v1/cases/{number}/consents",
        json=consent | {"grantor": {"kind": "client"}, "dateTime": "2026-01-10"},
    )
    assert refused.status_code == 422 and "periodEnd" in refused.get_json()["errors"]
    goal = api(
        "POST", f"/api/v1/cases/{number}/goals", json={"title": "x", "field": "familie", "responsibleAgency": "JA"}
    )
    assert goal.status_code == 422 and "responsibleAgency" in goal.get_json()["errors"]
    assert (
        api("POST", f"/api/v1/cases/{number}/notes", json={"category": "stammdaten", "text": "Umzug"}).status_code
        == 201
    )
    (note,) = api("GET", f"/api/v1/cases/{number}/notes").get_json()["items"]
    assert note["createdAt"].endswith("Z") and note["withdrawnAt"] is None


def test_the_lead_agency_changes_master_data_over_the_api(api, world, client_for, query):
    created = api(
        "POST",
        "/api/v1/cases",
        json={"given_name": "Yonas", "family_name": "Tekle", "phone": "0231 1111", "rechtskreise": ["SGB II"]},
    )
    number = created.get_json()["number"]
    url = f"/api/v1/cases/{number}"
    changed = api("PATCH", url, json={"phone": "0231 2222", "residence_status": "Aufenthaltsgestattung"})
    assert changed.status_code == 200, changed.get_json()
    case = changed.get_json()
    assert case["client"]["phone"] == "0231 2222" and case["client"]["family_name"] == "Tekle"  # the rest stays
    assert case["residence"]["status"] == "Aufenthaltsgestattung" and case["rechtskreise"] == ["SGB II"]
    # the name search finds the client under a changed name, and no longer under the old one
    assert api("PATCH", url, json={"family_name": "Tekle-Haile"}).status_code == 200
    assert [r["number"] for r in api("GET", "/api/v1/cases?q=Haile").get_json()["items"]] == [number]
    for body, field in (
        ({"family_name": ""}, "family_name"),
        ({"birth_date": "2999-01-01"}, "birth_date"),
        ({"birth_date": "01.01.2005"}, "birth_date"),
        ({"rechtskreise": ["SGB XII"]}, "rechtskreise"),
        ({"interpreter_needed": "ja"}, "interpreter_needed"),
        ({"phone": "0" * 51}, "phone"),
    ):
        refused = api("PATCH", url, json=body)
        assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {field}, body
    assert api("GET", url).get_json()["client"]["phone"] == "0231 2222"
    # another agency, even one the case is shared with, does not change master data; one without consent finds none
    jc = client_for(world["JC"], PASSWORD)
    assert jc.api("PATCH", url, json={"phone": "0"}).status_code == 404

    def share():
        ki = db.session.query(User).filter_by(username=world["KI"]).one()
        make_consent(db.session.query(Case).filter_by(number=number).one(), ki, all_categories("JC"))

    query(share)
    refused = jc.api("PATCH", url, json={"phone": "0"})
    assert refused.status_code == 403 and "federführende" in refused.get_json()["error"]
    assert api("GET", url).get_json()["client"]["phone"] == "0231 2222"


def test_the_case_list_narrows_as_the_case_overview_does(api):
    def create(family: str, **more) -> str:
        body = {"given_name": "Test", "family_name": family} | more
        return api("POST", "/api/v1/cases", json=body).get_json()["number"]

    work = create("Arbeit", fields=["arbeit"], rechtskreise=["SGB II"])
    school = create("Schule", fields=["schule_ausbildung"], rechtskreise=["SGB VIII"])

    def listed(query: str) -> set[str]:
        answer = api("GET", f"/api/v1/cases?{query}")
        assert answer.status_code == 200, answer.get_json()
        return {row["number"] for row in answer.get_json()["items"]}

    assert listed("field=arbeit") == {work} and listed("rechtskreis=SGB%20VIII") == {school}
    assert listed("leadAgency=KI") >= {work, school} and listed("leadAgency=JC") == set()
    assert listed("field=arbeit&rechtskreis=SGB%20VIII") == set()
    for query, field in (
        ("leadAgency=XY", "leadAgency"),
        ("field=kochen", "field"),
        ("rechtskreis=SGB%20XII", "rechtskreis"),
    ):
        refused = api("GET", f"/api/v1/cases?{query}")
        assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {field}, query
