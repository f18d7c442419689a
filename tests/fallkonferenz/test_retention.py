"""Retention: the lead agency closes a case, the retention period runs, and the case is erased by destroying its
data key (crypto-shredding): nothing of it can be read again, by anyone, and it is gone from every list."""

from __future__ import annotations

import json
import re
import threading
from datetime import timedelta

import pytest
from pycrdt import Doc, Text
from sqlalchemy import select

from agenda import items
from agenda import service as agenda_service
from agenda.models import AgendaItem
from consent.models import Consent
from fallkonferenz.casecrypto import ciphers_for
from fallkonferenz.cases import retention
from fallkonferenz.cases import service as case_service
from fallkonferenz.errors import Conflict, DomainError, InvalidInput
from fallkonferenz.extensions import db
from fallkonferenz.localtime import today
from fallkonferenz.models import AuditEvent, Case, CaseKey, CaseNameToken, Goal
from minutes import records, service
from minutes.models import MinutesClosure
from tests.agenda import conftest as agenda_scene
from tests.agenda.conftest import user
from tests.contract import case_operations
from tests.factories import make_consent

# the conference scene's fixtures: two cases of KI (one with consent for JC and AA), a planned conference
scene, clients, planned = agenda_scene.scene, agenda_scene.clients, agenda_scene.planned


def _case(number: str) -> Case:
    return db.session.scalar(select(Case).where(Case.number == number))


# A valid body for each operation on a case that takes one, by its schema's name in the OpenAPI document.
VALID_BODIES = {
    "NoteInput": {"category": "stammdaten", "text": "Termin vereinbart."},
    "CaseChange": {"phone": "0231 2222"},
    "NoteWithdraw": {"reason": "inhalt"},
    "GoalInput": {"title": "Ausbildung", "field": "arbeit", "responsibleAgency": "KI"},
    "GoalChange": {"status": "in_arbeit"},
    "ConsentInput": {
        "dateTime": "2026-01-10",
        "periodStart": "2026-01-10",
        "periodEnd": "2099-01-10",
        "purpose": "Fallkonferenz",
        "provision": [{"actor": "JC", "class": ["stammdaten"]}],
        "verified": True,
    },
    "Revoke": {"reason": "Widerruf"},
}


def test_the_lead_agency_closes_and_reopens_a_case_and_nobody_else_can(scene, clients, query):
    number, ki, day = scene.open_case, clients["KI"], query(today, commit=False)
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert "Fall abschließen" in page and "Aufbewahrungsfrist von 3 Jahren" in page
    # JC sees the case by consent, but only the lead agency closes it; ABH does not see it at all
    assert "Fall abschließen" not in clients["JC"].get(f"/faelle/{number}").get_data(as_text=True)
    forbidden = clients["JC"].post(f"/faelle/{number}/abschliessen")
    assert forbidden.status_code == 403 and "Nur die federführende Stelle" in forbidden.get_data(as_text=True)
    assert clients["ABH"].post(f"/faelle/{number}/abschliessen").status_code == 404
    assert query(lambda: _case(number).closed_on, commit=False) is None

    done = ki.post(f"/faelle/{number}/abschliessen")
    assert done.status_code == 302
    erasure = (day + timedelta(days=1095)).strftime("%d.%m.%Y")
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert f"Abgeschlossen am {day.strftime('%d.%m.%Y')}" in page and f"Am {erasure} endet" in page
    assert "Fall wieder öffnen" in page
    # the case list says so too, to every agency that lists the case, when it shows closed cases
    for code in ("KI", "JC"):
        listing = clients[code].get("/faelle/?stand=alle").get_data(as_text=True)
        assert f"abgeschlossen am {day.strftime('%d.%m.%Y')}" in listing
    listed = {c["number"]: c["closedOn"] for c in ki.api("GET", "/api/v1/cases").get_json()["items"]}
    assert listed == {number: day.isoformat(), scene.closed_case: None}
    twice = ki.post(f"/faelle/{number}/abschliessen")
    assert twice.status_code == 409 and "bereits seit dem" in twice.get_data(as_text=True)
    # the API tells the same
    body = ki.api("GET", f"/api/v1/cases/{number}").get_json()
    assert body["closedOn"] == day.isoformat() and body["erasureOn"] == (day + timedelta(days=1095)).isoformat()
    assert ki.api("POST", f"/api/v1/cases/{number}/close").status_code == 409

    assert ki.post(f"/faelle/{number}/wieder-oeffnen").status_code == 302
    assert query(lambda: _case(number).closed_on, commit=False) is None
    again = ki.post(f"/faelle/{number}/wieder-oeffnen")
    assert again.status_code == 409 and "nicht abgeschlossen" in again.get_data(as_text=True)
    assert clients["JC"].api("POST", f"/api/v1/cases/{number}/close").status_code == 403
    assert ki.api("POST", f"/api/v1/cases/{number}/close").get_json()["closedOn"] == day.isoformat()
    # reopened over the API as on the page: by the lead agency only, and only a closed case
    assert clients["JC"].api("POST", f"/api/v1/cases/{number}/reopen").status_code == 403
    reopened = ki.api("POST", f"/api/v1/cases/{number}/reopen")
    assert reopened.status_code == 200 and reopened.get_json()["closedOn"] is None
    not_closed = ki.api("POST", f"/api/v1/cases/{number}/reopen")
    assert not_closed.status_code == 409 and "nicht abgeschlossen" in not_closed.get_json()["error"]
    actions = query(
        lambda: [
            e.action
            for e in db.session.scalars(select(AuditEvent).where(AuditEvent.action.in_(["case.close", "case.reopen"])))
        ],
        commit=False,
    )
    assert actions == ["case.close", "case.reopen", "case.close", "case.reopen"]


def _listed(client, address: str) -> list[str]:
    return re.findall(r'class="case-number">(FK-\d{4}-\d{4})<', client.get(address).get_data(as_text=True))


def test_the_case_list_shows_open_cases_and_closed_ones_on_request(scene, clients, query):
    number, other, ki = scene.open_case, scene.closed_case, clients["KI"]
    assert ki.post(f"/faelle/{number}/abschliessen").status_code == 302

    # the everyday list: the open cases, and a word that the closed ones are left out, with the way to them
    page = ki.get("/faelle/").get_data(as_text=True)
    assert _listed(ki, "/faelle/") == [other]
    assert "Abgeschlossene Fälle sind ausgeblendet." in page
    assert 'href="/faelle/?stelle=&amp;feld=&amp;rechtskreis=&amp;stand=alle"' in page
    assert '<option value="offen" selected>offene Fälle</option>' in page
    assert _listed(ki, "/faelle/?stand=abgeschlossen") == [number]
    assert sorted(_listed(ki, "/faelle/?stand=alle")) == sorted([number, other])
    assert "ausgeblendet" not in ki.get("/faelle/?stand=alle").get_data(as_text=True)
    # a search for the client's name finds the closed case only when closed cases are asked for
    assert _listed(ki, "/faelle/?q=Haddad") == []
    assert _listed(ki, "/faelle/?q=Haddad&stand=abgeschlossen") == [number]
    # the search form carries the choice into the address it sends to
    sent = ki.post("/faelle/suche", data={"q": "Haddad", "stand": "abgeschlossen"})
    assert sent.status_code == 303 and "stand=abgeschlossen" in sent.headers["Location"]
    assert _listed(ki, sent.headers["Location"]) == [number]
    everyday = ki.post("/faelle/suche", data={"q": "Haddad", "stand": "offen"})
    assert everyday.status_code == 303 and "stand" not in everyday.headers["Location"]  # the default stays out
    # the stand narrows what the consent lets an agency list: JC (consent) sees the closed case among the closed
    # ones; ABH (no consent, nothing written) lists nothing, whichever stand it asks for
    assert _listed(clients["JC"], "/faelle/?stand=abgeschlossen") == [number]
    assert _listed(clients["ABH"], "/faelle/?stand=alle") == []

    # an unknown choice: said so in German, the open cases are shown, nothing is lost
    for bad in ("geschlossen", "ALLE", "<b>x</b>", "x" * 500):
        answer = ki.get("/faelle/", query_string={"stand": bad})
        body = answer.get_data(as_text=True)
        assert answer.status_code == 400 and "Diese Auswahl des Stands gibt es nicht." in body, bad
        assert "<b>x</b>" not in body and _listed(ki, "/faelle/") == [other]

    # the API: both without `state`, one of them with it, a German message for anything else
    def api_numbers(state=None):
        answer = ki.api("GET", "/api/v1/cases" + (f"?state={state}" if state is not None else ""))
        assert answer.status_code == 200, answer.get_json()
        return sorted(c["number"] for c in answer.get_json()["items"])

    assert api_numbers() == sorted([number, other]) == api_numbers("")
    assert api_numbers("closed") == [number] and api_numbers("open") == [other]
    refused = ki.api("GET", "/api/v1/cases?state=offen")
    assert refused.status_code == 422 and "closed" in refused.get_json()["errors"]["state"]
    assert [c["number"] for c in clients["ABH"].api("GET", "/api/v1/cases?state=closed").get_json()["items"]] == []


def test_a_closing_without_its_form_token_is_refused(scene, clients, query):
    ki = clients["KI"]
    resp = ki.http.post(f"/faelle/{scene.open_case}/abschliessen")  # no CSRF token
    assert resp.status_code == 400
    assert query(lambda: _case(scene.open_case).closed_on, commit=False) is None


def _erasure_scene(scene, planned):
    """The open case on an agenda, with minutes text, a decision and a task; then the case is erased."""
    ki = user(scene.users["KI"])
    item = items.add_item(
        ki, planned, items.ItemInput("Kita-Platz und Kurs", "fallbesprechung", 20, scene.open_case), confirmed=True
    )
    case = db.session.scalar(select(Case).where(Case.number == scene.open_case))
    case_service.add_goal(
        ki, case.id, {"title": "Frau Haddad: B2-Kurs", "field": "sprache", "responsible_agency_id": ki.agency_id}
    )
    agenda_service.set_state(ki, planned, "eingeladen")
    agenda_service.set_state(ki, planned, "laeuft")
    doc = Doc()
    doc.get("text", type=Text).insert(0, "Frau Haddad hat den B1-Kurs bestanden.")
    service.apply_update(ki, item.id, "u1", doc.get_update())
    records.add_decision(ki, item.id, "Sprachkurs B2 beantragen")
    records.add_task(ki, item.id, "Kita-Platz klären", "JC", None, None)
    soon = today() + timedelta(days=10)  # on the lead agency's dashboard until the case is erased
    make_consent(db.session.scalar(select(Case).where(Case.number == scene.open_case)), ki, [("JA", "familie")])
    db.session.flush()
    for consent in db.session.scalars(select(Consent)):
        consent.valid_until = soon
    return item.id


def test_erasing_destroys_the_key_and_the_case_is_gone_for_everyone(scene, clients, planned, query):
    number = scene.open_case
    item_id = query(_erasure_scene, scene, planned)
    case_id = query(lambda: _case(number).id, commit=False)
    stored = query(lambda: (_case(number).given_name_enc,), commit=False)

    def close_long_ago():
        _case(number).closed_on = today() - timedelta(days=1096)
        _case(scene.closed_case).closed_on = today() - timedelta(days=1094)  # not yet due

    query(close_long_ago)
    assert number in clients["KI"].get("/").get_data(as_text=True).split('id="ablauf"')[1].split("</section>")[0]
    due = query(lambda: [c.number for c in retention.due_for_erasure()], commit=False)
    assert due == [number]
    assert query(lambda: retention.erase_if_due(case_id, "Aufbewahrungsfrist abgelaufen").number) == number

    def after():
        key = db.session.get(CaseKey, case_id)
        case = db.session.get(Case, case_id)
        tokens = db.session.scalar(select(db.func.count()).where(CaseNameToken.case_id == case_id))
        return key.wrapped, key.destroyed_at, case.given_name_enc, case.nationality, tokens

    wrapped, destroyed_at, name, nationality, tokens = query(after, commit=False)
    assert wrapped is None and destroyed_at is not None and name is None and nationality == "" and tokens == 0

    # free text about the client outside the sealed fields goes too: goal titles, the agenda item's title, the
    # consent's purpose
    def plain_texts():
        goals = db.session.scalars(select(Goal.title).where(Goal.case_id == case_id)).all()
        titles = db.session.scalars(select(AgendaItem.title).where(AgendaItem.case_id == case_id)).all()
        purposes = db.session.scalars(select(Consent.purpose).where(Consent.case_id == case_id)).all()
        return set(goals) | set(titles) | set(purposes)

    assert query(plain_texts, commit=False) == {""}
    # the key is gone: what was sealed under it (here the old name, from a backup, say) opens no more
    cipher = query(lambda: ciphers_for([case_id])[case_id], commit=False)
    assert cipher.key is None and cipher.erased
    assert query(lambda: cipher.read("cases", case_id, "given_name", stored[0]), commit=False) == "(gelöscht)"

    # the lead agency is told it was erased; nobody else learns that it existed
    gone = clients["KI"].get(f"/faelle/{number}")
    assert gone.status_code == 410 and "gelöscht" in gone.get_data(as_text=True)
    assert clients["KI"].api("GET", f"/api/v1/cases/{number}").status_code == 410
    # so does every operation of the API on the case, reading or writing: 410 for the lead agency, 404 for the rest
    for method, template, schema in case_operations():
        url = "/api/v1" + re.sub(r"\{[a-zA-Z]+\}", "1", template.replace("{number}", number))
        body = VALID_BODIES[schema] if schema else None
        assert clients["KI"].api(method, url, json=body).status_code == 410, (method, url)
        assert clients["JC"].api(method, url, json=body).status_code == 404, (method, url)
    for code in ("JC", "AA"):
        assert clients[code].get(f"/faelle/{number}").status_code == 404
        assert number not in clients[code].get("/faelle/").get_data(as_text=True)
    for code in ("KI", "JC"):
        listing = clients[code].get("/faelle/?q=Haddad").get_data(as_text=True)
        assert number not in listing and "Keine Fälle gefunden" in listing
    dashboard = clients["KI"].get("/").get_data(as_text=True)
    assert number not in dashboard and scene.closed_case in dashboard  # the other case's consent ends soon too
    # its agenda item is closed to everyone and says why, the minutes of it too; its task is off every list
    for code in ("KI", "JC"):
        agenda = clients[code].get(f"/konferenzen/{planned}").get_data(as_text=True)
        assert number not in agenda and "– gelöschter Fall" in agenda
        minutes = clients[code].get(f"/konferenzen/{planned}/protokoll").get_data(as_text=True)
        assert "Der Fall wurde gelöscht; der Inhalt dieses Punktes ist nicht mehr lesbar." in minutes
        exported = clients[code].get(f"/konferenzen/{planned}/protokoll.md").get_data(as_text=True)
        assert "gelöschter Fall" in exported and number not in exported
    assert "Kita-Platz klären" not in clients["JC"].get("/").get_data(as_text=True)
    with pytest.raises(service.SeatRefused):
        query(lambda: service.join(user(scene.users["KI"]), item_id, None))
    # what the minutes stored of it cannot be read back, and reading it is no integrity failure
    assert query(lambda: service.text_of(item_id), commit=False) == ""
    (decision,) = query(lambda: records.decisions_for([item_id])[item_id], commit=False)
    assert decision.text == "(gelöscht)"
    failures = query(
        lambda: db.session.scalar(select(db.func.count()).where(AuditEvent.action == "crypto.failure")), commit=False
    )
    assert failures == 0
    events = query(
        lambda: db.session.execute(
            select(AuditEvent.case_id, AuditEvent.detail).where(AuditEvent.action == "case.erase")
        ).all(),
        commit=False,
    )
    assert [(c, "Aufbewahrungsfrist" in d, "Haddad" in d) for c, d in events] == [(case_id, True, False)]
    # erasing twice is refused; the case not yet due is kept
    with pytest.raises(Conflict, match="bereits gelöscht"):
        query(lambda: retention.erase_case(case_id, "nochmal"))
    assert query(lambda: _case(scene.closed_case).erased_at, commit=False) is None


def test_the_erasure_commands_erase_what_is_due_once_and_refuse_bad_input(app, scene, query):
    def close(number, days_ago):
        _case(number).closed_on = today() - timedelta(days=days_ago)

    query(close, scene.open_case, 1100)
    query(close, scene.closed_case, 10)
    runner = app.test_cli_runner()
    dry = runner.invoke(args=["cases", "erase-due", "--dry-run"])
    assert dry.exit_code == 0 and f"{scene.open_case}: abgeschlossen am" in dry.output
    assert query(lambda: _case(scene.open_case).erased_at, commit=False) is None
    first = runner.invoke(args=["cases", "erase-due"])
    assert first.exit_code == 0 and f"{scene.open_case}: gelöscht" in first.output
    assert scene.closed_case not in first.output
    second = runner.invoke(args=["cases", "erase-due"])  # from cron, daily: nothing twice
    assert second.exit_code == 0 and "Keine Fälle zur Löschung fällig" in second.output

    # one case at once, e.g. on a request under Art. 17 GDPR: a reason, a confirmation, a known case
    assert runner.invoke(args=["cases", "erase", scene.closed_case, "--reason", "  ", "--yes"]).exit_code != 0
    named = runner.invoke(args=["cases", "erase", scene.closed_case, "--reason", "Antrag Frau Tesfay", "--yes"])
    assert named.exit_code != 0 and "ohne Namen" in named.output
    unknown = runner.invoke(args=["cases", "erase", "FK-1999-0001", "--reason", "Antrag", "--yes"])
    assert unknown.exit_code != 0 and "nicht gefunden" in unknown.output
    declined = runner.invoke(args=["cases", "erase", scene.closed_case, "--reason", "Antrag Art. 17"], input="n\n")
    assert declined.exit_code != 0
    assert query(lambda: _case(scene.closed_case).erased_at, commit=False) is None
    done = runner.invoke(args=["cases", "erase", scene.closed_case.lower(), "--reason", "Antrag Art. 17"], input="y\n")
    assert done.exit_code == 0, done.output
    assert query(lambda: _case(scene.closed_case).erased_at, commit=False) is not None
    again = runner.invoke(args=["cases", "erase", scene.closed_case, "--reason", "Antrag Art. 17", "--yes"])
    assert again.exit_code != 0 and "bereits gelöscht" in again.output


def test_minutes_with_an_erased_case_item_can_still_be_closed_and_show_it_as_erased(scene, clients, planned, query):
    """The frozen minutes keep nothing of the erased case, and closing is not refused because of it (nor does the
    refusal tell anyone the case existed)."""
    item_id = query(_erasure_scene, scene, planned)
    case_id = query(lambda: _case(scene.open_case).id, commit=False)
    query(lambda: retention.erase_case(case_id, "Löschantrag nach Art. 17 DSGVO"))
    closed = clients["KI"].post(f"/konferenzen/{planned}/protokoll/abschliessen")
    assert closed.status_code == 302, closed.get_data(as_text=True)[:500]
    frozen = query(lambda: db.session.get(MinutesClosure, planned), commit=False)
    assert json.loads(frozen.frozen)[str(item_id)] == {"erased": True} and "Haddad" not in frozen.frozen
    assert query(lambda: records.frozen_entries(frozen, [item_id])[item_id]["text"], commit=False) == "(gelöscht)"


def test_minutes_whose_case_key_does_not_open_are_not_frozen_as_erased(scene, clients, planned, query):
    """A damaged key is no erasure: closing is refused (the text would be lost for good), and the minutes stay open
    until the key is repaired."""
    item_id = query(_erasure_scene, scene, planned)
    case_id = query(lambda: _case(scene.open_case).id, commit=False)
    good = query(lambda: db.session.get(CaseKey, case_id).wrapped, commit=False)
    query(lambda: setattr(db.session.get(CaseKey, case_id), "wrapped", b"\x00" * len(good)))
    refused = clients["KI"].post(f"/konferenzen/{planned}/protokoll/abschliessen")
    assert refused.status_code == 409 and "nicht versiegeln" in refused.get_data(as_text=True)
    assert query(lambda: db.session.get(MinutesClosure, planned), commit=False) is None
    query(lambda: setattr(db.session.get(CaseKey, case_id), "wrapped", good))
    service.CACHE.docs.clear()
    assert query(lambda: service.text_of(item_id), commit=False).startswith("Frau Haddad")


def test_a_case_reopened_after_it_was_found_due_is_not_erased(scene, query):
    case_id = query(lambda: _case(scene.open_case).id, commit=False)

    def close_long_ago():
        _case(scene.open_case).closed_on = today() - timedelta(days=2000)

    query(close_long_ago)
    assert [c.id for c in query(retention.due_for_erasure, commit=False)] == [case_id]
    query(lambda: setattr(_case(scene.open_case), "closed_on", None))  # reopened meanwhile
    assert query(lambda: retention.erase_if_due(case_id, "Aufbewahrungsfrist abgelaufen")) is None
    assert query(lambda: db.session.get(CaseKey, case_id).wrapped, commit=False) is not None


@pytest.mark.parametrize(
    "reason",
    ["Löschantrag von Amal Haddad", "Antrag vom 17.03.2004", "Antrag zu FK-2026-0001", "", "x" * 201],
)
def test_an_erasure_reason_that_names_the_client_or_is_empty_is_refused(scene, query, reason):
    """The reason stays in the audit log for good: no name, no birth date, no case number."""
    case_id = query(lambda: _case(scene.open_case).id, commit=False)
    with pytest.raises(InvalidInput):
        query(lambda: retention.erase_case(case_id, reason))
    assert query(lambda: _case(scene.open_case).erased_at, commit=False) is None


def test_an_erasure_reason_with_a_word_that_only_begins_a_name_is_taken(scene, query):
    """The client is Amal Haddad: "Ama" begins her name but is none of its words."""
    case_id = query(lambda: _case(scene.open_case).id, commit=False)
    query(lambda: retention.erase_case(case_id, "Antrag Ama-Beratung, Art. 17 DSGVO"))
    assert query(lambda: _case(scene.open_case).erased_at, commit=False) is not None


def test_an_edit_that_meets_an_erasure_writes_nothing_into_the_erased_case(app, scene, query):
    """The lead agency saves master data while the case is being erased: the edit waits for the erasure and is
    refused, so no name goes back into the index of an erased case (both databases; on SQLite the edit cannot
    even begin before the erasure commits)."""
    case_id = query(lambda: _case(scene.open_case).id, commit=False)
    data = {
        "given_name": "Amal",
        "family_name": "Haddad-Neu",
        "birth_date": None,
        "address": "",
        "phone": "",
        "nationality": "syrisch",
        "languages": "",
        "residence_status": "",
        "fields": [],
        "rechtskreise": [],
    }
    outcome: list = []

    def edit():
        with app.app_context():
            try:
                case_service.update_case(user(scene.users["KI"]), scene.open_case, data)
                db.session.commit()
                outcome.append("saved")
            except DomainError as exc:
                db.session.rollback()
                outcome.append(exc.status)

    with app.app_context():
        retention.erase_case(case_id, "Löschantrag nach Art. 17 DSGVO")  # not committed yet: the row is held
        editor = threading.Thread(target=edit)
        editor.start()
        editor.join(0.5)
        db.session.commit()
    editor.join(10)
    assert outcome in ([404], [410])
    tokens = query(
        lambda: db.session.scalar(select(db.func.count()).where(CaseNameToken.case_id == case_id)), commit=False
    )
    assert tokens == 0 and query(lambda: _case(scene.open_case).given_name_enc, commit=False) is None
