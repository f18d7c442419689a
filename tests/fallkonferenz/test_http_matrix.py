"""HTTP authorisation matrix: every demo user × every demo case × page, notes, API, consents, search.

Expectations come from the demo data spec itself, not from the policy code under test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from markupsafe import escape

from consent.models import Consent
from fallkonferenz import demo
from fallkonferenz.demo_data import CASES
from fallkonferenz.extensions import db
from fallkonferenz.models import Case
from tests.conftest import wipe

pytestmark = pytest.mark.shared_demo

ACTIVE_KINDS = {"full", "partial_no_health", "expiring_soon"}
CASE_USERS = {
    "KI": "ki.koordination",
    "JC": "jc.fallmanagement",
    "AA": "aa.beratung",
    "ABH": "abh.sachbearbeitung",
    "JA": "ja.asd",
}
OTHER_USERS = ["lenkung.vorsitz", "dsb", "admin"]


@dataclass
class Seeded:
    numbers: list[str]
    consent_ids: dict[str, int]

    def __iter__(self):
        return iter(self.numbers)


@pytest.fixture(scope="module")
def seeded(app):
    wipe(app)
    with app.app_context():
        demo.seed()
        db.session.commit()
        numbers = [c.number for c in db.session.query(Case).order_by(Case.seq)]
        consent_ids = dict(db.session.query(Case.number, Consent.id).join(Consent, Consent.case_id == Case.id))
    yield Seeded(numbers, consent_ids)
    wipe(app)


def shows(name: str, body: str) -> bool:
    """The name as a word: a three-letter family name ("Bah") also turns up by chance in CSRF tokens and nonces."""
    return re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", body) is not None


def granted(spec: dict, code: str, category: str) -> bool:
    consent = spec["consent"]
    if consent["kind"] not in ACTIVE_KINDS or code not in consent["agencies"]:
        return False
    return not (consent["kind"] == "partial_no_health" and category == "gesundheit")


def sees_master(spec, code) -> bool:
    return code == spec["lead_agency"] or granted(spec, code, "stammdaten")


def case_exists_for(spec, code) -> bool:
    wrote = any(n["agency"] == code for n in spec["notes"])
    return (
        code == spec["lead_agency"]
        or wrote
        or any(
            granted(spec, code, c)
            for c in ("stammdaten", "aufenthalt", "bildung_arbeit", "leistungen", "gesundheit", "familie")
        )
    )


def sees_note(spec, code, note) -> bool:
    lead_master = code == spec["lead_agency"] and note["category"] == "stammdaten"
    return note["agency"] == code or lead_master or granted(spec, code, note["category"])


@pytest.mark.parametrize("code", list(CASE_USERS))
def test_case_workers_see_exactly_what_consent_grants(seeded, client_for, code):
    client = client_for(CASE_USERS[code])
    for spec, number in zip(CASES, seeded, strict=True):
        page = client.get(f"/faelle/{number}")
        api = client.get(f"/api/v1/cases/{number}")
        notes_api = client.get(f"/api/v1/cases/{number}/notes")
        consents = client.get(f"/faelle/{number}/einwilligungen")
        if not case_exists_for(spec, code):
            for resp in (page, api, notes_api, consents):
                assert resp.status_code == 404, (code, number, resp.request.path)
                assert not shows(spec["family_name"], resp.get_data(as_text=True))
            continue
        assert page.status_code == api.status_code == notes_api.status_code == consents.status_code == 200
        html = page.get_data(as_text=True)
        body = api.get_data(as_text=True) + notes_api.get_data(as_text=True)
        assert shows(spec["family_name"], html) is sees_master(spec, code), (code, number)
        if not sees_master(spec, code):
            assert not shows(spec["family_name"], consents.get_data(as_text=True))
        assert shows(spec["family_name"], body) is sees_master(spec, code), (code, number)
        assert (spec["address"] in html) is sees_master(spec, code)
        for note in spec["notes"]:
            visible = sees_note(spec, code, note)
            assert (str(escape(note["text"])) in html) is visible, (code, number, note["category"])
            assert (note["text"] in body) is visible, (code, number, note["category"])


@pytest.mark.parametrize("code", list(CASE_USERS))
def test_lists_counts_and_search_only_show_permitted_cases(seeded, client_for, code):
    client = client_for(CASE_USERS[code])
    listing = client.get("/faelle/").get_data(as_text=True)
    api = client.get("/api/v1/cases").get_json()
    expected = {n for spec, n in zip(CASES, seeded, strict=True) if case_exists_for(spec, code)}
    assert {item["number"] for item in api["items"]} == expected
    assert api["total"] == len(expected)
    for spec, number in zip(CASES, seeded, strict=True):
        assert (number in listing) is (number in expected)
        assert shows(spec["family_name"], listing) is (case_exists_for(spec, code) and sees_master(spec, code))
        found = client.get("/api/v1/cases", query_string={"q": spec["family_name"].upper()}).get_json()
        assert (number in {i["number"] for i in found["items"]}) is sees_master(spec, code), (code, number)


@pytest.mark.parametrize("username", OTHER_USERS)
def test_steering_dpo_and_admin_never_see_case_content(seeded, client_for, username):
    client = client_for(username)
    assert client.get("/api/v1/cases").get_json()["total"] == 0
    listing = client.get("/faelle/").get_data(as_text=True)
    for spec, number in zip(CASES, seeded, strict=True):
        assert number not in listing
        assert not shows(spec["family_name"], listing)
        for url in (
            f"/faelle/{number}",
            f"/api/v1/cases/{number}",
            f"/faelle/{number}/einwilligungen",
            f"/faelle/{number}/zugriffe",
        ):
            assert client.get(url).status_code == 404, (username, url)


def test_consent_form_download_only_for_those_who_see_master_data(seeded, client_for):
    """The signed form carries the name: lead agency and Stammdaten grantees only; others 404."""
    for code, username in CASE_USERS.items():
        client = client_for(username)
        for spec, number in zip(CASES, seeded, strict=True):
            if spec["consent"]["kind"] == "none":
                continue
            resp = client.get(f"/faelle/{number}/einwilligungen/{seeded.consent_ids[number]}/dokument")
            if sees_master(spec, code):
                assert resp.status_code == 200, (code, number)
                assert resp.headers["Content-Disposition"].startswith("attachment")
                assert resp.mimetype == "application/pdf"
                assert resp.data.startswith(b"%PDF")
            else:
                assert resp.status_code == 404, (code, number)


ALL_USERS = [*CASE_USERS.values(), *OTHER_USERS]


@pytest.mark.parametrize("username", ALL_USERS)
def test_demo_conferences_show_case_items_only_as_far_as_consent_reaches(seeded, client_for, app, username):
    """Pages, API and calendar files of every demo conference, for every demo user."""
    from agenda.models import Conference, Participant
    from fallkonferenz.models import User

    with app.app_context():
        me = db.session.query(User).filter_by(username=username).one()
        code = me.agency.code
        conferences = [
            (c.id, c.moderator_id == me.id or any(p.user_id == me.id for p in c.participants))
            for c in db.session.query(Conference).join(Participant, isouter=True).distinct()
        ]
    client = client_for(username)
    for cid, invited in conferences:
        page = client.get(f"/konferenzen/{cid}")
        api = client.get(f"/api/v1/conferences/{cid}")
        ics = client.get(f"/konferenzen/{cid}/einladung.ics")
        if not invited:
            assert page.status_code == api.status_code == ics.status_code == 404, (username, cid)
            continue
        texts = (page.get_data(as_text=True), api.get_data(as_text=True))
        for spec, number in zip(CASES, seeded, strict=True):
            may_see = username in CASE_USERS.values() and case_exists_for(spec, code)
            names = may_see and sees_master(spec, code)
            for text in texts:
                if not may_see:
                    assert number not in text, (username, cid, number)
                if not names:
                    assert not shows(spec["family_name"], text), (username, cid, number)
            assert number not in ics.get_data(as_text=True) and not shows(
                spec["family_name"], ics.get_data(as_text=True)
            )


def test_no_demo_mail_names_a_case_or_client(seeded, app):
    from fallkonferenz.models import OutboxMessage

    with app.app_context():
        mails = [f"{m.subject}\n{m.body}\n{m.ics or ''}" for m in db.session.query(OutboxMessage)]
    assert mails
    for text in mails:
        for spec, number in zip(CASES, seeded, strict=True):
            assert number not in text and not shows(spec["family_name"], text) and spec["given_name"] not in text
