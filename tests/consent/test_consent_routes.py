"""Recording, revoking and downloading consents over HTTP, including every bad input."""

from __future__ import annotations

import io
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from werkzeug.datastructures import FileStorage, MultiDict
from werkzeug.test import encode_multipart

from consent.models import Consent
from fallkonferenz.demo import signed_form_pdf
from fallkonferenz.extensions import db
from fallkonferenz.localtime import today
from fallkonferenz.models import AuditEvent, utcnow
from tests.conftest import page_text
from tests.factories import PASSWORD, make_case


def _d(days: int) -> str:
    return (utcnow().date() + timedelta(days=days)).isoformat()


@pytest.fixture
def setup(app, world, query, client_for):
    from fallkonferenz.models import User

    number = query(lambda: make_case(db.session.query(User).filter_by(username=world["KI"]).one()).number)
    ki = client_for(world["KI"], PASSWORD)
    jc = client_for(world["JC"], PASSWORD)
    return number, ki, jc


def _form(**over):
    data = {
        "grantor_kind": "client",
        "grantor_name": "",
        "signed_on": _d(-1),
        "valid_from": _d(-1),
        "valid_until": _d(180),
        "purpose": "Fallkonferenz",
        "grant": ["JC:leistungen", "JC:stammdaten"],
        "verified": "y",
    }
    data.update(over)
    return data


def _count(query, model):
    return query(lambda: db.session.query(model).count(), commit=False)


def test_grant_then_revoke_takes_effect_on_the_next_request(setup, query):
    number, ki, jc = setup
    assert jc.get(f"/faelle/{number}").status_code == 404
    resp = ki.post(f"/faelle/{number}/einwilligungen", data=_form())
    assert resp.status_code == 302
    page = jc.get(f"/faelle/{number}")
    assert page.status_code == 200 and "Haddad" in page.get_data(as_text=True)
    assert "Keine Einwilligung für:" in page.get_data(as_text=True)
    assert "Die geltende Einwilligung gibt JC diese Kategorien nicht frei." in page.get_data(as_text=True)
    # the lead agency's notice is about other agencies' notes, not about its own record
    lead = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert "Vermerke anderer Stellen ausgeblendet:" in lead and "Keine Einwilligung für:" not in lead
    assert "Keine gültige Einwilligung." not in lead  # it is shared
    consent_id = query(lambda: db.session.query(Consent.id).scalar(), commit=False)
    resp = ki.post(f"/faelle/{number}/einwilligungen/{consent_id}/widerruf", data={"reason": "Klient widerruft"})
    assert resp.status_code == 302
    assert jc.get(f"/faelle/{number}").status_code == 404
    # the lead agency reads that the case is shared with nobody now, and since when
    lead = ki.get(f"/faelle/{number}").get_data(as_text=True)
    today = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y")  # the day where the agencies are
    assert "Keine gültige Einwilligung." in lead and f"Die Einwilligung wurde am {today} widerrufen." in lead

    # with a note of its own JC keeps the case in sight, and reads why the rest is hidden
    def own_note():
        from fallkonferenz.cases.service import import_note
        from fallkonferenz.models import Case, User

        case = db.session.query(Case).filter_by(number=number).one()
        import_note(case, db.session.query(User).filter_by(agency_id=case_agency("JC")).first(), "leistungen", "x")

    def case_agency(code):
        from fallkonferenz.models import Agency

        return db.session.query(Agency.id).filter_by(code=code).scalar()

    query(own_note)
    page = jc.get(f"/faelle/{number}").get_data(as_text=True)
    today = datetime.now(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y")  # the day where the agencies are
    assert f"Die Einwilligung für JC wurde am {today} widerrufen." in page
    history = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    assert "widerrufen" in history and "Klient widerruft" in history
    actions = query(lambda: [e.action for e in db.session.query(AuditEvent)], commit=False)
    assert "consent.grant" in actions and "consent.revoke" in actions
    # A new version that names only AA is no revocation of JC's: the page says what happened
    assert ki.post(f"/faelle/{number}/einwilligungen", data=_form(grant=["JC:leistungen"])).status_code == 302
    assert ki.post(f"/faelle/{number}/einwilligungen", data=_form(grant=["AA:leistungen"])).status_code == 302
    page = jc.get(f"/faelle/{number}").get_data(as_text=True)
    assert f"Die Einwilligung gibt JC seit {today} keine Kategorien mehr frei." in page
    assert "widerrufen." not in page
    history = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    assert re.search(r"Version 2 –\s*ersetzt durch eine neuere Version", history)  # not "widerrufen"
    assert re.search(r"Version 1 –\s*widerrufen", history)  # that one the client did revoke
    assert "Ersetzt am" in history


def test_a_new_version_supersedes_the_old_and_history_keeps_both(setup, query):
    number, ki, jc = setup
    ki.post(f"/faelle/{number}/einwilligungen", data=_form())
    ki.post(f"/faelle/{number}/einwilligungen", data=_form(grant=["AA:bildung_arbeit"]))
    assert jc.get(f"/faelle/{number}").status_code == 404
    versions = query(
        lambda: [(c.version, c.revoked_at is None) for c in db.session.query(Consent).order_by(Consent.version)],
        commit=False,
    )
    assert versions == [(1, False), (2, True)]
    page = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    assert "Version 1" in page and "Version 2" in page and "Ersetzt durch Version 2" in page


def test_the_form_for_a_new_version_starts_from_the_grants_in_force(setup, query):
    """Replacing a consent to add one category must not silently drop the others: the form is pre-ticked."""
    number, ki, _jc = setup
    empty = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    assert "checked" not in empty.split('class="grant-matrix"', 1)[1].split("</fieldset>", 1)[0]
    ki.post(f"/faelle/{number}/einwilligungen", data=_form())
    page = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    matrix = page.split('class="grant-matrix"', 1)[1].split("</fieldset>", 1)[0]
    assert 'value="JC:leistungen" id="grant-JC-leistungen" checked' in matrix
    assert 'value="JC:stammdaten" id="grant-JC-stammdaten" checked' in matrix
    assert matrix.count(" checked") == 2
    assert "Vorausgewählt sind die Freigaben der gültigen Version 1" in page


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ({"signed_on": _d(3)}, "Unterschriftsdatum darf nicht in der Zukunft"),
        ({"valid_until": _d(-30)}, "„Gültig bis“ muss nach „Gültig ab“"),
        ({"grant": ["XY:leistungen"]}, "Unbekannte Stelle: XY"),
        ({"grant": ["JC:geheimdienst"]}, "Unbekannte Datenkategorie: geheimdienst"),
        ({"grant": []}, "mindestens eine Stelle"),
        ({"purpose": ""}, "Dieses Feld ist erforderlich."),
        ({"signed_on": "31.02.2026"}, "gültiges Datum"),
        ({"grantor_kind": "guardian", "grantor_name": ""}, "gesetzliche Vertretung"),
        ({"purpose": "x" * 10000}, "Höchstens 300 Zeichen"),
        ({"valid_until": "9999-12-31"}, "spätestens 31.12.2099"),  # the day after it is no date: pages broke
        ({"grantor_kind": "someone"}, "Bitte wählen Sie einen Eintrag aus der Liste."),
        ({"signed_on": "٢٠٢٦-01-05"}, "gültiges Datum"),
    ],
)
def test_bad_consent_input_is_refused_in_german_and_stores_nothing(setup, query, over, message):
    number, ki, _jc = setup
    before = _count(query, Consent)
    resp = ki.post(f"/faelle/{number}/einwilligungen", data=_form(**over))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert message in body
    assert _count(query, Consent) == before
    # What was typed comes back, so nothing is lost.
    if over.get("purpose", "").startswith("x"):
        assert "x" * 100 in body


def test_signed_form_is_checked_by_content_stored_encrypted_and_downloaded(setup, query):
    number, ki, jc = setup
    pdf = signed_form_pdf("Einwilligung")
    data = _form(document=(io.BytesIO(pdf), "einwilligung.pdf"))
    assert ki.post(f"/faelle/{number}/einwilligungen", data=data, content_type="multipart/form-data").status_code == 302
    stored = query(lambda: db.session.query(Consent).one().document.content_enc, commit=False)
    assert pdf not in stored and b"Einwilligung" not in stored
    cid = query(lambda: db.session.query(Consent.id).scalar(), commit=False)
    resp = ki.get(f"/faelle/{number}/einwilligungen/{cid}/dokument")
    assert resp.status_code == 200 and resp.data == pdf
    assert resp.headers["Content-Disposition"].startswith("attachment")
    assert resp.headers["Content-Security-Policy"] == "sandbox"
    # JC has Stammdaten through the consent and may download; AA has nothing: 404.
    assert jc.get(f"/faelle/{number}/einwilligungen/{cid}/dokument").status_code == 200


def test_a_refused_form_asks_for_the_file_again(setup, query):
    """A browser does not send a chosen file again with the corrected form: the page says so, naming the file."""
    number, ki, _jc = setup
    pdf = signed_form_pdf("Einwilligung")
    data = _form(purpose="", document=(io.BytesIO(pdf), "unterschrift.pdf"))
    resp = ki.post(f"/faelle/{number}/einwilligungen", data=data, content_type="multipart/form-data")
    page = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "Die Datei „unterschrift.pdf“ wurde noch nicht gespeichert" in page
    assert _count(query, Consent) == 0


def test_upload_with_a_pdf_name_but_other_content_is_refused(setup, query):
    number, ki, _jc = setup
    data = _form(document=(io.BytesIO(b"<script>alert(1)</script>" * 10), "einwilligung.pdf"))
    resp = ki.post(f"/faelle/{number}/einwilligungen", data=data, content_type="multipart/form-data")
    assert resp.status_code == 422
    assert "kein PDF, PNG oder JPEG" in resp.get_data(as_text=True)
    assert _count(query, Consent) == 0


@pytest.mark.parametrize("size", [10 * 1024 * 1024 + 1, 11 * 1024 * 1024])
def test_upload_too_large_gets_413_in_german(setup, query, size):
    number, ki, _jc = setup
    content = b"%PDF-1.4\n" + b"0" * (size - 9)
    document = FileStorage(io.BytesIO(content), filename="gross.pdf", content_type="application/pdf")
    data = MultiDict(_form(document=document, csrf_token=ki.csrf))
    data.setlist("grant", _form()["grant"])
    # Encoded in memory: the test client would otherwise spool it to a file it never closes.
    boundary, body = encode_multipart(data)
    resp = ki.http.post(
        f"/faelle/{number}/einwilligungen", data=body, content_type=f"multipart/form-data; boundary={boundary}"
    )
    assert resp.status_code == 413
    assert "zu groß" in resp.get_data(as_text=True)
    assert _count(query, Consent) == 0


def test_only_the_lead_agency_records_consent(setup, query):
    number, ki, jc = setup
    ki.post(f"/faelle/{number}/einwilligungen", data=_form())
    resp = jc.post(f"/faelle/{number}/einwilligungen", data=_form(grant=["JC:gesundheit"]))
    assert resp.status_code == 403
    assert _count(query, Consent) == 1


def test_revoke_needs_no_reason_and_revoking_twice_is_refused(setup, query):
    """A client owes no reason for withdrawing her consent (Art. 7 Abs. 3 DSGVO): a Widerruf without one is taken
    at once; a note of the reason may be kept, within its limit."""
    number, ki, jc = setup
    ki.post(f"/faelle/{number}/einwilligungen", data=_form())
    ki.post(f"/faelle/{number}/einwilligungen", data=_form())  # a second version: it replaces the first
    first, cid = query(lambda: [c for (c,) in db.session.query(Consent.id).order_by(Consent.id)], commit=False)
    page = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    assert "Grund des Widerrufs (freiwillig)" in page and "braucht keine Begründung" in page
    too_long = "Die Klientin hat am Telefon widerrufen. " * 60
    resp = ki.post(f"/faelle/{number}/einwilligungen/{cid}/widerruf", data={"reason": too_long})
    page = resp.get_data(as_text=True)
    # The history page again, the message at the reason field of that version, what she typed kept.
    assert resp.status_code == 422 and "Der Widerruf wurde nicht gespeichert" in page and too_long in page
    assert jc.get(f"/faelle/{number}").status_code == 200
    # Any agency that sees the case can record the client's Widerruf, and it needs no reason.
    assert jc.post(f"/faelle/{number}/einwilligungen/{cid}/widerruf", data={"reason": "   "}).status_code == 302
    revoked = query(lambda: db.session.get(Consent, cid), commit=False)
    assert revoked.revoked_at is not None and revoked.revoke_reason == ""
    assert jc.get(f"/faelle/{number}").status_code == 404  # JC sees the case no more
    assert ki.post(f"/faelle/{number}/einwilligungen/{cid}/widerruf", data={"reason": "nochmal"}).status_code == 409
    history = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    assert "Ersetzt durch Version 2" in history and first != cid


def test_consent_of_another_case_cannot_be_revoked_through_this_one(setup, query, world):
    number, ki, _jc = setup
    ki.post(f"/faelle/{number}/einwilligungen", data=_form())
    cid = query(lambda: db.session.query(Consent.id).scalar(), commit=False)
    from fallkonferenz.models import User

    other = query(
        lambda: make_case(db.session.query(User).filter_by(username=world["KI"]).one(), family="Other").number
    )
    assert ki.post(f"/faelle/{other}/einwilligungen/{cid}/widerruf", data={"reason": "x"}).status_code == 404


def test_expiring_consents_show_on_the_dashboard(setup, query):
    number, ki, _jc = setup
    ki.post(f"/faelle/{number}/einwilligungen", data=_form(valid_until=_d(10)))
    page = ki.get("/").get_data(as_text=True)
    assert number in page and "nächsten 30 Tagen" in page
    # the list shows a case's consent: on record, and in the case's access report
    from fallkonferenz.models import AuditEvent, Case

    case_id = query(lambda: db.session.query(Case.id).filter_by(number=number).scalar(), commit=False)
    event = query(
        lambda: (
            db.session.query(AuditEvent.detail)
            .filter_by(action="consent.expiring")
            .order_by(AuditEvent.id.desc())
            .first()
        ),
        commit=False,
    )
    assert event is not None and f'"cases":[{case_id}]' in event[0]
    assert "Ablaufende Einwilligungen gelesen" in ki.get(f"/faelle/{number}/zugriffe").get_data(as_text=True)


def test_a_consent_that_ends_soon_says_so_on_the_case_and_in_its_history(setup, query):
    number, ki, jc = setup
    day = query(today, commit=False)
    assert "einwilligung-endet" not in ki.get(f"/faelle/{number}").get_data(as_text=True)  # no consent at all
    ki.post(f"/faelle/{number}/einwilligungen", data=_form(valid_until=(day + timedelta(days=31)).isoformat()))
    for client in (ki, jc):  # a month and a day ahead: nothing to say yet
        assert "einwilligung-endet" not in client.get(f"/faelle/{number}").get_data(as_text=True)
    assert "endet am" not in ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)

    for ahead, when in ((30, "in 30 Tagen"), (1, "morgen"), (0, "heute")):
        until = day + timedelta(days=ahead)
        sent = ki.post(f"/faelle/{number}/einwilligungen", data=_form(valid_until=until.isoformat()))
        assert sent.status_code == 302, ahead
        lead = ki.get(f"/faelle/{number}").get_data(as_text=True)
        assert f"<strong>Die Einwilligung endet {when}</strong> (gültig bis {until.strftime('%d.%m.%Y')})" in lead
        assert "Neue Einwilligung erfassen" in lead
        shared = jc.get(f"/faelle/{number}").get_data(as_text=True)
        assert f"<strong>Die Einwilligung für JC endet {when}</strong>" in shared
        assert "Eine neue Einwilligung erfasst die federführende Stelle\n  (KI)" in shared
        history = ki.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
        assert f'gültig – <strong class="overdue">endet am {until.strftime("%d.%m.%Y")}</strong>' in history
    # a revoked consent shares nothing: there is no end to announce, only the notice of the revocation; JC still
    # sees the case through its own note, but not when a consent it no longer has would have ended
    assert (
        jc.post(f"/faelle/{number}/vermerke", data={"category": "leistungen", "text": "Antrag da"}).status_code == 302
    )
    cid = query(lambda: db.session.query(Consent.id).order_by(Consent.id.desc()).limit(1).scalar(), commit=False)
    ki.post(f"/faelle/{number}/einwilligungen/{cid}/widerruf", data={"reason": "Widerruf"})
    assert "einwilligung-endet" not in ki.get(f"/faelle/{number}").get_data(as_text=True)
    seen_by_jc = jc.get(f"/faelle/{number}")
    assert seen_by_jc.status_code == 200 and "Antrag da" in seen_by_jc.get_data(as_text=True)
    assert "einwilligung-endet" not in seen_by_jc.get_data(as_text=True)
    # a new version for AA alone, ending tomorrow: told to AA and to the lead agency, not to JC
    until = (day + timedelta(days=1)).isoformat()
    assert (
        ki.post(f"/faelle/{number}/einwilligungen", data=_form(valid_until=until, grant=["AA:leistungen"])).status_code
        == 302
    )
    assert "Die Einwilligung endet morgen" in ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert "einwilligung-endet" not in jc.get(f"/faelle/{number}").get_data(as_text=True)


def test_an_agency_outside_the_case_team_cannot_revoke_what_it_cannot_see(setup, query, client_for, world):
    number, ki, jc = setup
    ki.post(f"/faelle/{number}/einwilligungen", data=_form())
    first = query(lambda: db.session.query(Consent.id).scalar(), commit=False)
    assert (
        jc.post(f"/faelle/{number}/vermerke", data={"category": "leistungen", "text": "JC war hier"}).status_code == 302
    )
    ki.post(f"/faelle/{number}/einwilligungen/{first}/widerruf", data={"reason": "Widerruf beim KI"})
    # JC now sees the case only through its own note; a new version shares it with AA alone.
    ki.post(f"/faelle/{number}/einwilligungen", data=_form(grant=["AA:leistungen"]))
    second = query(lambda: db.session.query(Consent.id).order_by(Consent.id.desc()).limit(1).scalar(), commit=False)
    assert jc.get(f"/faelle/{number}").status_code == 200

    unknown = jc.post(f"/faelle/{number}/einwilligungen/999999/widerruf", data={"reason": "x"})
    for cid in (first, second):
        resp = jc.post(f"/faelle/{number}/einwilligungen/{cid}/widerruf", data={"reason": "x"})
        assert resp.status_code == 404 and page_text(resp) == page_text(unknown)
    api = jc.api("POST", f"/api/v1/cases/{number}/consents/{second}/revoke", json={"reason": "x"})
    assert api.status_code == 404 and api.get_json()["error"] == "Einwilligung nicht gefunden."
    assert query(lambda: db.session.get(Consent, second).revoked_at, commit=False) is None
    assert client_for(world["AA"], PASSWORD).get(f"/faelle/{number}").status_code == 200

    history = jc.get(f"/faelle/{number}/einwilligungen").get_data(as_text=True)
    assert "Sofort widerrufen" not in history and "Widerruf beim KI" not in history


def test_a_refused_consent_form_names_every_problem_at_once(setup, query):
    """A date the form cannot read, and what only the service checks, come back in one round."""
    number, ki, _jc = setup
    data = _form(signed_on="31.02.2026", grantor_kind="guardian", grantor_name="", verified="")
    page = ki.post(f"/faelle/{number}/einwilligungen", data=data).get_data(as_text=True)
    assert "Bitte ein gültiges Datum angeben (TT.MM.JJJJ)." in page  # the form's own
    assert "Bitte nennen Sie die gesetzliche Vertretung." in page  # the service's, found in the same round
    assert "die unterschriebene Erklärung geprüft ist" in page
    assert _count(query, Consent) == 0
