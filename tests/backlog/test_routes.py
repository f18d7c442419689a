"""The backlog through the browser's eyes: escalating from a conference, the guard's answer, who sees which case,
steering forms with their conflicts, working groups, steering meetings and the dashboard panel."""

from __future__ import annotations

import re
from dataclasses import asdict, replace
from datetime import date, timedelta

import pytest
from markupsafe import escape
from sqlalchemy import func, select

from agenda.models import Conference
from backlog import service
from backlog.models import Escalation, EscalationCase, Implementation, WorkingGroup
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, OutboxMessage, utcnow
from tests.backlog.conftest import CLEAN_INPUT, user
from tests.conftest import counting, page_text, said

CLEAN = asdict(CLEAN_INPUT)  # form fields are named like the service input


def escalate_url(bscene, item: str = "open", conference: int | None = None) -> str:
    item_id = bscene.general_item if item == "general" else bscene.items[item]
    return f"/konferenzen/{conference or bscene.conference}/top/{item_id}/eskalieren"


def body(resp) -> str:
    return resp.get_data(as_text=True)


def count_escalations(query) -> int:
    return query(lambda: db.session.scalar(select(func.count()).select_from(Escalation)), commit=False)


def escalation(query, escalation_id: int) -> Escalation:
    def load():
        e = db.session.get(Escalation, escalation_id)
        db.session.expunge(e)
        return e

    return query(load, commit=False)


def raise_item(bscene, bclients, **changes) -> int:
    resp = bclients["JC"].post(escalate_url(bscene), data=CLEAN | changes)
    assert resp.status_code == 302, body(resp)[:2000]
    return int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def version_of(query, escalation_id: int) -> int:
    return escalation(query, escalation_id).version


# -- pages for every role ------------------------------------------------------------------------------------


def test_backlog_pages_render_for_every_role(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    group_id = query(
        lambda: service.create_group(user(bscene.steering["KI"]), service.GroupInput(name="AG Sprache")).id
    )
    for name, client in bclients.items():
        for url in (
            "/lenkungsgruppe/themen",
            f"/lenkungsgruppe/themen/{escalation_id}",
            "/lenkungsgruppe/arbeitsgruppen",
            f"/lenkungsgruppe/arbeitsgruppen/{group_id}",
            "/",
        ):
            resp = client.get(url)
            assert resp.status_code == 200, (name, url)
        assert 'href="/lenkungsgruppe/themen"' in body(client.get("/")), name
    for code in ("KI", "JC", "AA", "ABH"):
        assert bclients[code].get(escalate_url(bscene, "general")).status_code == 200
    meeting = bclients["LG-KI"].get(f"/konferenzen/{bscene.steering_meeting}")
    assert meeting.status_code == 200 and "Vorschlag für die Tagesordnung" in body(meeting)
    assert bclients["LG-KI"].get("/lenkungsgruppe/arbeitsgruppen/neu").status_code == 200
    assert bclients["LG-KI"].get(f"/lenkungsgruppe/themen/{escalation_id}/bearbeiten").status_code == 200
    assert bclients["AA"].get(f"/lenkungsgruppe/themen/{escalation_id}/bearbeiten").status_code == 403
    assert bclients["JC"].get("/lenkungsgruppe/arbeitsgruppen/neu").status_code == 403


def test_escalate_links_only_on_items_the_user_can_see(bscene, bclients):
    links = re.compile(rf"/konferenzen/{bscene.conference}/top/(\d+)/eskalieren")
    jc = {int(i) for i in links.findall(body(bclients["JC"].get(f"/konferenzen/{bscene.conference}")))}
    assert jc == {bscene.items["open"], bscene.general_item}  # "closed" is a vertraulicher Fall for the JC
    abh = {int(i) for i in links.findall(body(bclients["ABH"].get(f"/konferenzen/{bscene.conference}")))}
    assert abh == {bscene.general_item}
    minutes = body(bclients["AA"].get(f"/konferenzen/{bscene.conference}/protokoll"))
    assert {int(i) for i in links.findall(minutes)} == {
        bscene.items["open"],
        bscene.items["closed"],
        bscene.general_item,
    }
    assert bclients["ABH"].get(escalate_url(bscene, "open")).status_code == 404
    assert bclients["LG-JC"].get(escalate_url(bscene, "general")).status_code == 403
    assert "eskalieren" not in body(bclients["LG-KI"].get(f"/konferenzen/{bscene.steering_meeting}"))


# -- escalating and the guard ----------------------------------------------------------------------------------


def test_clean_escalation_is_saved_with_one_case(bscene, bclients, query):
    resp = bclients["JC"].post(escalate_url(bscene), data=CLEAN)
    assert resp.status_code == 302
    page = bclients["JC"].get(resp.headers["Location"])
    assert "an die Lenkungsgruppe gemeldet" in body(page)
    assert "betroffene Fälle: 1" in body(page) and CLEAN["title"] in body(page)
    (saved,) = query(lambda: db.session.scalars(select(Escalation)).all(), commit=False)
    assert saved.case_count == 1 and saved.state == "eingereicht" and saved.agencies == "JC,ABH"


@pytest.mark.parametrize(
    ("field", "text", "hit"),
    [
        ("description", "Bei Frau haddad scheitert der Kurs an der Zulassung.", "haddad"),
        ("title", "HADDAD wartet auf den Integrationskurs", "HADDAD"),
        ("description", "Die Klientin (geb. 03.04.2001) wartet seit Monaten.", "03.04.2001"),
        ("description", "Der junge Mann (3.4.01) hat keinen Kursplatz.", "3.4.01"),
        ("description", "Geburtstag 17.3.04, seitdem kein Kurs.", "17.3.04"),
        ("proposed_solution", "Siehe Fall {number} in der letzten Konferenz.", "{number}"),
        ("description", "Rückfragen an amal.h@example.org bitte.", "amal.h@example.org"),
    ],
)
def test_identifying_text_is_refused_marked_and_kept(bscene, bclients, query, field, text, hit):
    text, hit = (s.replace("{number}", bscene.numbers["open"]) for s in (text, hit))
    resp = bclients["JC"].post(escalate_url(bscene), data=CLEAN | {field: text})
    page = body(resp)
    assert resp.status_code == 422
    assert re.search(rf'<mark class="guard-hit" title="[^"]+">{re.escape(hit)}</mark>', page)
    assert "personenbezogene Daten" in page or "entfernen" in page
    for name in ("title", "description", "proposed_solution"):  # every input is still there
        assert str(escape((CLEAN | {field: text})[name])) in page
    assert re.search(r'<input checked[^>]*name="rechtskreise"[^>]*value="AufenthG"', page)
    assert re.search(r'<option selected value="rechtslage">', page)
    assert count_escalations(query) == 0


def test_a_reported_item_says_what_happens_next_and_who_is_told(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    page = said(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert "Wie es weitergeht: Die Lenkungsgruppe sichtet neu gemeldete Themen und legt ihre Priorität fest." in page
    assert "unterstützt hat, erhält bei jeder Änderung des Status eine E-Mail." in page
    bclients["LG-KI"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/sichten", data={"priority": 1, "category": "rechtslage", "version": 1}
    )
    page = said(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert "Wie es weitergeht: Das Thema wartet auf einen Platz auf der Tagesordnung" in page


def test_empty_title_is_refused_and_nothing_saved(bscene, bclients, query):
    resp = bclients["JC"].post(escalate_url(bscene), data=CLEAN | {"title": "  "})
    assert resp.status_code == 422 and "Bitte geben Sie einen Titel an." in body(resp)
    assert CLEAN["description"] in body(resp)
    assert count_escalations(query) == 0


def test_escalation_from_a_general_item_links_no_case(bscene, bclients, query):
    resp = bclients["ABH"].post(escalate_url(bscene, "general"), data=CLEAN)
    assert resp.status_code == 302
    (saved,) = query(lambda: db.session.scalars(select(Escalation)).all(), commit=False)
    assert saved.case_count == 0


# -- who learns which case ----------------------------------------------------------------------------------------


def test_linked_case_number_only_for_the_cases_teams(bscene, bclients):
    escalation_id = raise_item(bscene, bclients)
    number = bscene.numbers["open"]
    for name in ("JC", "AA", "KI"):  # consent for JC and AA; the KI leads the case
        page = body(bclients[name].get(f"/lenkungsgruppe/themen/{escalation_id}"))
        assert "Ihre verknüpften Fälle" in page and number in page, name
    for name in ("ABH", "JA", "LG-KI", "LG-JC", "LG-AA", "LG-ABH", "LG-JA"):
        client = bclients[name]
        for url in (f"/lenkungsgruppe/themen/{escalation_id}", "/lenkungsgruppe/themen", "/"):
            page = body(client.get(url))
            assert number not in page and "Haddad" not in page and "Amal" not in page, (name, url)
        assert "betroffene Fälle: 1" in body(client.get(f"/lenkungsgruppe/themen/{escalation_id}"))


def test_betrifft_uns_auch_from_the_other_conference_raises_the_case_count(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    conference_page = body(bclients["JC"].get(f"/konferenzen/{bscene.other_conference}"))
    assert "Betrifft uns auch" in conference_page and "Im Themenspeicher suchen" in conference_page
    found = body(bclients["JC"].get("/lenkungsgruppe/themen?offen=1&q=duldung+INTEGRATIONSKURS"))
    assert f'/lenkungsgruppe/themen/{escalation_id}"' in found
    resp = bclients["JC"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/betrifft-uns-auch", data={"item_id": bscene.items["other"]}
    )
    assert resp.status_code == 302
    assert escalation(query, escalation_id).case_count == 2
    # the AA adds the case only it may see
    resp = bclients["AA"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/betrifft-uns-auch", data={"item_id": bscene.items["closed"]}
    )
    assert resp.status_code == 302
    assert escalation(query, escalation_id).case_count == 3
    jc_page = body(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert bscene.numbers["other"] in jc_page and bscene.numbers["closed"] not in jc_page
    assert "betroffene Fälle: 3" in jc_page
    again = bclients["JC"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/betrifft-uns-auch", data={"item_id": bscene.items["other"]}
    )
    assert again.status_code == 422 and "schon verknüpft" in body(again)
    assert escalation(query, escalation_id).case_count == 3


def test_a_refused_betrifft_uns_auch_says_why_and_keeps_the_guards_audit_record(bscene, bclients, query):
    """The text names the client of the case to be added: nothing is linked, the audited look-up stays. (ABH
    raised it: it has no consent for Rahimi's case, so his bare name – without "Herr", which any guard catches –
    meant nothing to its guard.)"""
    raised = bclients["ABH"].post(
        escalate_url(bscene, "general"),
        data=CLEAN | {"description": "Rahimi wartet seit 9 Wochen auf die Beschäftigungserlaubnis."},
    )
    assert raised.status_code == 302, body(raised)[:2000]
    escalation_id = int(raised.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    resp = bclients["AA"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/betrifft-uns-auch", data={"item_id": bscene.items["other"]}
    )
    assert resp.status_code == 422 and "nicht verknüpft" in body(resp)
    assert "„Rahimi“ entfernen" in body(resp)  # her own case's client: she may see what matched
    assert escalation(query, escalation_id).case_count == 0
    guarded = query(
        lambda: db.session.scalars(
            select(AuditEvent.case_id).where(
                AuditEvent.action == "backlog.guard", AuditEvent.actor_id == bscene.ids[bscene.users["AA"]]
            )
        ).all(),
        commit=False,
    )
    assert guarded == [bscene.cases["other"]]


# -- steering forms ---------------------------------------------------------------------------------------------


def test_triage_by_a_case_worker_is_forbidden(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    version = version_of(query, escalation_id)
    resp = bclients["JC"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/sichten",
        data={"priority": 1, "category": "rechtslage", "version": version},
    )
    assert resp.status_code == 403
    assert escalation(query, escalation_id).priority is None
    assert "Sichten" not in body(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))


def test_skipping_states_is_a_conflict_with_a_message(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    version = version_of(query, escalation_id)
    resp = bclients["LG-KI"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/status",
        data={"to_state": "umsetzung", "reason": "schnell", "version": version},
    )
    assert resp.status_code == 409
    assert "geht es nicht direkt" in body(resp)
    after = escalation(query, escalation_id)
    assert after.state == "eingereicht" and after.version == version  # the refused step left no trace


def test_only_the_states_that_close_an_item_ask_before_they_are_set(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)

    def on_the_agenda():
        chair = user(bscene.steering["KI"])
        service.transition(chair, service.triage(chair, escalation_id, None, 1).id, "tagesordnung", None)

    query(on_the_agenda)
    page = body(bclients["LG-KI"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    form = page.split('id="move-to"', 1)[1].split("</select>", 1)[0]
    options = dict(re.findall(r'<option value="(\w+)"([^>]*)>', form))
    assert {"arbeitsgruppe", "abgelehnt"} <= set(options)
    for state, attributes in options.items():
        asks = "data-confirm=" in attributes
        assert asks == (state in {"abgelehnt", "umgesetzt", "zusammengefuehrt"}), state
    assert "abgelehnt“ setzen? Damit ist das Thema abgeschlossen" in options["abgelehnt"]


def test_stale_version_is_a_conflict_and_changes_nothing(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    seen = version_of(query, escalation_id)
    first = bclients["LG-JC"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/sichten",
        data={"priority": 2, "category": "rechtslage", "version": seen},
    )
    assert first.status_code == 302
    stale = bclients["LG-KI"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/sichten",
        data={"priority": 1, "category": "wartezeiten", "version": seen},
    )
    page = body(stale)
    assert stale.status_code == 409 and "inzwischen" in page
    assert re.search(r'<option value="wartezeiten" selected>', page)  # the input is kept
    after = escalation(query, escalation_id)
    assert (after.priority, after.category, after.version) == (2, "rechtslage", seen + 1)
    text = bclients["LG-KI"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/bearbeiten",
        data=CLEAN | {"title": "Neuer Titel der Lenkungsgruppe", "version": seen},
    )
    assert text.status_code == 409 and "Neuer Titel der Lenkungsgruppe" in body(text)
    assert escalation(query, escalation_id).title == CLEAN["title"]


def test_merge_into_itself_is_refused(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    version = version_of(query, escalation_id)
    resp = bclients["LG-KI"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/zusammenfuehren",
        data={"into": escalation_id, "reason": "Duplikat", "version": version},
    )
    assert resp.status_code == 422 and "nicht mit sich selbst" in body(resp)
    assert escalation(query, escalation_id).state == "eingereicht"


def test_merge_carries_the_cases_over(bscene, bclients, query):
    first = raise_item(bscene, bclients)
    second = raise_item(bscene, bclients, title="Kein Kurs mit Duldung")
    resp = bclients["LG-KI"].post(
        f"/lenkungsgruppe/themen/{second}/zusammenfuehren",
        data={"into": first, "reason": "Doppelmeldung", "version": version_of(query, second)},
    )
    assert resp.status_code == 302
    assert escalation(query, second).state == "zusammengefuehrt"
    assert escalation(query, first).case_count == 1  # the same case twice counts once


def _recommended(bscene, bclients, query) -> tuple[int, dict[str, int]]:
    escalation_id = raise_item(bscene, bclients)

    def run():
        chair = user(bscene.steering["KI"])
        e = service.triage(chair, escalation_id, None, 1)
        service.transition(chair, e.id, "tagesordnung", None)
        rec = service.adopt(chair, e.id, None, "Zulassungen beantragen.", utcnow().date() + timedelta(days=30))
        return {i.agency.code: i.id for i in rec.implementations}

    return escalation_id, query(run)


def test_implementation_is_reported_by_that_agencys_steering_member_only(bscene, bclients, query):
    escalation_id, impls = _recommended(bscene, bclients, query)
    page = body(bclients["LG-ABH"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert f"/lenkungsgruppe/umsetzung/{impls['ABH']}" in page
    assert f"/lenkungsgruppe/umsetzung/{impls['JC']}" not in page
    data = {"status": "umgesetzt", "reason": "", "version": 1}
    assert bclients["LG-JC"].post(f"/lenkungsgruppe/umsetzung/{impls['ABH']}", data=data).status_code == 403
    assert bclients["ABH"].post(f"/lenkungsgruppe/umsetzung/{impls['ABH']}", data=data).status_code == 403
    status = query(lambda: db.session.get(Implementation, impls["ABH"]).status, commit=False)
    assert status == "offen"
    no_reason = bclients["LG-ABH"].post(
        f"/lenkungsgruppe/umsetzung/{impls['ABH']}", data={"status": "nicht_umsetzbar", "reason": "", "version": 1}
    )
    assert no_reason.status_code == 422 and "begründen" in body(no_reason)
    assert bclients["LG-ABH"].post(f"/lenkungsgruppe/umsetzung/{impls['ABH']}", data=data).status_code == 302
    assert escalation(query, escalation_id).state == "umsetzung"
    stale = bclients["LG-ABH"].post(f"/lenkungsgruppe/umsetzung/{impls['ABH']}", data=data)
    assert stale.status_code == 409


def test_the_last_implementation_report_says_it_closes_the_item_and_says_so_after(bscene, bclients, query):
    escalation_id, impls = _recommended(bscene, bclients, query)
    address = f"/lenkungsgruppe/themen/{escalation_id}"
    reference = query(lambda: db.session.get(Escalation, escalation_id).reference, commit=False)
    question = f'data-confirm="Mit dieser Meldung hat {reference} den Status „umgesetzt“ und ist abgeschlossen;'
    last = "JC"
    # the page says what comes next, and which agencies it waits for
    page = said(bclients["JC"].get(address))
    codes = ", ".join(impls)
    assert (
        f"Wie es weitergeht: Jede beteiligte Stelle meldet, wie weit sie die Empfehlung umsetzt. Noch offen: {codes}."
        in page
    )
    for code, impl_id in impls.items():
        page = body(bclients[f"LG-{code}"].get(address))
        # only the report that would end the item warns, and then only on the choices that are done
        assert question not in page and "Alle anderen Stellen haben ihren Stand gemeldet" not in page, code
        if code == last:
            continue
        data = {"status": "umgesetzt", "reason": "", "version": 1}
        sent = bclients[f"LG-{code}"].post(f"/lenkungsgruppe/umsetzung/{impl_id}", data=data, follow_redirects=True)
        assert "Der Stand der Umsetzung wurde gespeichert." in body(sent) and "abgeschlossen." not in body(sent)
    page = body(bclients[f"LG-{last}"].get(address))
    assert (
        f"Mit „umgesetzt“ oder „nicht umsetzbar“ hat {reference} den Status „umgesetzt“ und ist abgeschlossen." in page
    )
    assert f"Noch offen: {last}." in said(bclients[f"LG-{last}"].get(address))
    assert page.count(question) == 2  # umgesetzt and nicht umsetzbar; offen and in Arbeit end nothing
    assert re.search(r'<option value="in_arbeit" (selected)?>', page)
    assert escalation(query, escalation_id).state == "umsetzung"
    data = {"status": "nicht_umsetzbar", "reason": "Keine Stellen im Haushalt.", "version": 1}
    sent = bclients[f"LG-{last}"].post(f"/lenkungsgruppe/umsetzung/{impls[last]}", data=data, follow_redirects=True)
    closed = f"Damit haben alle Stellen gemeldet: {reference} hat jetzt den Status „umgesetzt“ und ist abgeschlossen."
    assert closed in body(sent)
    assert escalation(query, escalation_id).state == "umgesetzt"
    assert "Stand der Umsetzung für" not in body(sent)  # nobody reports on a closed item
    assert "Wie es weitergeht" not in body(sent)  # nothing comes next


def test_overdue_implementation_is_highlighted(bscene, bclients, query):
    escalation_id, _impls = _recommended(bscene, bclients, query)

    def overdue():
        service.recommendation_of(escalation_id).due_date = utcnow().date() - timedelta(days=1)

    query(overdue)
    page = body(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert page.count("(überfällig)") == 5 and 'class="warn"' in page


def test_adopting_a_recommendation_through_the_form(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    client = bclients["LG-KI"]
    url = f"/lenkungsgruppe/themen/{escalation_id}"
    assert (
        client.post(f"{url}/sichten", data={"priority": 1, "category": "rechtslage", "version": 1}).status_code == 302
    )
    agencies = query(lambda: [a.id for a in service.member_agencies() if a.code in ("JC", "ABH")], commit=False)
    early = client.post(
        f"{url}/empfehlung", data={"text": "Zulassungen beantragen.", "agencies": agencies, "version": 2}
    )
    assert early.status_code == 409  # not yet on the agenda
    assert client.post(f"{url}/status", data={"to_state": "tagesordnung", "version": 2}).status_code == 302
    # every agency unticked is no choice of all of them: refused, with the text kept
    none = client.post(f"{url}/empfehlung", data={"text": "Zulassungen beantragen.", "version": 3})
    assert none.status_code == 422 and "mindestens eine Stelle" in body(none)
    assert "Zulassungen beantragen.</textarea>" in body(none)
    assert escalation(query, escalation_id).state == "tagesordnung"
    resp = client.post(
        f"{url}/empfehlung",
        data={"text": "Zulassungen beantragen.", "due_date": "2999-01-01", "agencies": agencies, "version": 3},
    )
    assert resp.status_code == 302
    assert escalation(query, escalation_id).state == "empfehlung"
    page = body(client.get(url))
    assert "Umsetzung je Stelle" in page and "01.01.2999" in page


# -- working groups ------------------------------------------------------------------------------------------------


def test_working_group_is_set_up_reports_and_takes_items(bscene, bclients, query):
    member, lead = bscene.ids[bscene.users["AA"]], bscene.ids[bscene.steering["ABH"]]
    resp = bclients["LG-KI"].post(
        "/lenkungsgruppe/arbeitsgruppen/neu",
        data={"name": "AG Wohnsitzauflage", "mandate": "Eilverfahren abstimmen", "lead": lead, "members": [member]},
    )
    assert resp.status_code == 302
    group_id = int(resp.headers["Location"].rsplit("/", 1)[1])
    page = body(bclients["JC"].get(f"/lenkungsgruppe/arbeitsgruppen/{group_id}"))
    assert "AG Wohnsitzauflage" in page and "Agentur für Arbeit" in page and "Ausländerbehörde" in page
    report = f"/lenkungsgruppe/arbeitsgruppen/{group_id}/bericht"
    assert bclients["JC"].post(report, data={"text": "Erstes Treffen."}).status_code == 403
    leak = bclients["AA"].post(report, data={"text": "Bitte an a.h@example.org schreiben."})
    assert leak.status_code == 422 and '<mark class="guard-hit"' in body(leak) and "Bitte an" in body(leak)
    assert bclients["AA"].post(report, data={"text": "Erstes Treffen; Entwurf liegt vor."}).status_code == 302
    assert "Entwurf liegt vor" in body(bclients["ABH"].get(f"/lenkungsgruppe/arbeitsgruppen/{group_id}"))

    escalation_id = raise_item(bscene, bclients)
    client = bclients["LG-KI"]
    url = f"/lenkungsgruppe/themen/{escalation_id}"
    client.post(f"{url}/sichten", data={"priority": 1, "category": "rechtslage", "version": 1})
    client.post(f"{url}/status", data={"to_state": "tagesordnung", "version": 2})
    no_group = client.post(f"{url}/status", data={"to_state": "arbeitsgruppe", "version": 3})
    assert no_group.status_code == 422 and "aktive Arbeitsgruppe" in body(no_group)
    ok = client.post(f"{url}/status", data={"to_state": "arbeitsgruppe", "working_group": group_id, "version": 3})
    assert ok.status_code == 302
    assert escalation(query, escalation_id).working_group_id == group_id
    assert escalation_id and CLEAN["title"] in body(client.get(f"/lenkungsgruppe/arbeitsgruppen/{group_id}"))
    closed = client.post(f"/lenkungsgruppe/arbeitsgruppen/{group_id}/status", data={"status": "abgeschlossen"})
    assert closed.status_code == 302
    assert (
        bclients["JC"].post(f"/lenkungsgruppe/arbeitsgruppen/{group_id}/status", data={"status": "aktiv"}).status_code
        == 403
    )


# -- steering meetings -------------------------------------------------------------------------------------------


def test_steering_meeting_takes_proposed_items_and_decides(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    chair = bclients["LG-KI"]
    chair.post(
        f"/lenkungsgruppe/themen/{escalation_id}/sichten", data={"priority": 1, "category": "rechtslage", "version": 1}
    )
    meeting = f"/konferenzen/{bscene.steering_meeting}"
    page = body(chair.get(meeting))
    assert f'name="escalation" value="{escalation_id}"' in page
    assert "Vorschlag für die Tagesordnung" not in body(bclients["LG-JC"].get(meeting))  # the moderator's section
    resp = chair.post(f"{meeting}/themen", data={"escalation": [escalation_id], "time_box": 20})
    assert resp.status_code == 302
    assert escalation(query, escalation_id).state == "tagesordnung"
    page = body(bclients["LG-JC"].get(meeting))
    (item_id,) = query(lambda: list(service.consultations_of(bscene.steering_meeting)), commit=False)
    assert (
        f"/lenkungsgruppe/themen/{escalation_id}" in page
        and "sobald die Sitzung läuft" in page
        and bscene.numbers["open"] not in page
    )
    # before the meeting has begun, nothing is decided in it
    early = bclients["LG-JC"].post(
        f"{meeting}/top/{item_id}/beschluss",
        data={"outcome": "abgelehnt", "text": "Vorab abgelehnt.", "version": version_of(query, escalation_id)},
    )
    assert early.status_code == 409 and "sobald die Sitzung" in body(early)
    assert escalation(query, escalation_id).state == "tagesordnung"
    for state in ("eingeladen", "laeuft"):
        assert chair.post(f"{meeting}/status", data={"state": state}).status_code == 302
    stale = bclients["LG-JC"].post(
        f"{meeting}/top/{item_id}/beschluss",
        data={"outcome": "abgelehnt", "text": "Nicht zuständig, sagt die Runde.", "version": 1},
    )
    page = body(stale)
    assert stale.status_code == 409 and "inzwischen" in page
    assert "Nicht zuständig, sagt die Runde.</textarea>" in page
    assert re.search(r'<option value="abgelehnt" data-confirm="[^"]*" selected>', page)
    assert escalation(query, escalation_id).state == "tagesordnung"
    # the form chooses nothing by itself, asks before what cannot be taken back, and a choice left out is refused
    page = body(bclients["LG-JC"].get(meeting))
    reference = query(lambda: db.session.get(Escalation, escalation_id).reference, commit=False)
    first = r'<option value="">— bitte wählen —</option>\s*<option value="empfehlung" data-confirm="Für '
    assert re.search(first + re.escape(reference), page)
    assert f'<option value="abgelehnt" data-confirm="{reference} ablehnen? Damit ist das Thema abgeschlossen;' in page
    assert '<option value="vertagt" >' in page and '<option value="arbeitsgruppe" >' in page
    unchosen = bclients["LG-JC"].post(
        f"{meeting}/top/{item_id}/beschluss",
        data={"outcome": "", "text": "Noch offen.", "version": version_of(query, escalation_id)},
    )
    assert unchosen.status_code == 422 and "Bitte wählen Sie, was beschlossen wurde." in body(unchosen)
    assert "Noch offen.</textarea>" in body(unchosen) and escalation(query, escalation_id).state == "tagesordnung"
    decided = bclients["LG-JC"].post(
        f"{meeting}/top/{item_id}/beschluss",
        data={
            "outcome": "empfehlung",
            "text": "Zulassungen gebündelt beantragen.",
            "version": version_of(query, escalation_id),
            "agencies": query(lambda: [a.id for a in service.member_agencies()], commit=False),
        },
    )
    assert decided.status_code == 302
    after = escalation(query, escalation_id)
    assert after.state == "empfehlung"
    records = body(bclients["LG-JC"].get(f"{meeting}/protokoll/ergebnisse"))
    assert "Zulassungen gebündelt beantragen." in records and "Nicht zuständig" not in records
    assert (
        bclients["JC"]
        .post(f"{meeting}/top/{item_id}/beschluss", data={"outcome": "abgelehnt", "text": "x", "version": 5})
        .status_code
        == 403
    )
    assert chair.post(f"/konferenzen/{bscene.conference}/themen", data={"escalation": [escalation_id]}).status_code in (
        403,
        404,
    )


# -- dashboard and list ------------------------------------------------------------------------------------------


def test_dashboard_shows_my_escalations_with_their_state(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    reference = escalation(query, escalation_id).reference
    page = body(bclients["JC"].get("/"))
    assert "Meine Strukturprobleme" in page and reference in page and "eingereicht" in page
    assert reference not in body(bclients["AA"].get("/"))
    bclients["AA"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/betrifft-uns-auch", data={"item_id": bscene.items["closed"]}
    )
    assert reference in body(bclients["AA"].get("/"))


def test_list_filters_sorts_and_pages(bscene, bclients, query):
    first = raise_item(bscene, bclients)
    raise_item(bscene, bclients, title="Wartezeiten bei der Ausländerbehörde", category="wartezeiten", agencies=["ABH"])
    client = bclients["AA"]
    only_jc = body(client.get("/lenkungsgruppe/themen?behoerde=JC"))
    assert CLEAN["title"] in only_jc and "Wartezeiten bei der" not in only_jc
    waits = body(client.get("/lenkungsgruppe/themen?kategorie=wartezeiten&sortierung=faelle&offen=1"))
    assert "Wartezeiten bei der" in waits and CLEAN["title"] not in waits
    odd = client.get("/lenkungsgruppe/themen?kategorie=quatsch&status=x&behoerde=%25&sortierung=y&seite=-3")
    page = body(odd)
    assert odd.status_code == 200
    assert "Unbekannte Kategorie" in page and "Unbekannter Status" in page and "Unbekannte Stelle" in page
    assert "Ungültige Seitenzahl" in page and CLEAN["title"] in page
    assert "Keine Einträge" in body(client.get("/lenkungsgruppe/themen?status=umgesetzt"))
    assert f'/lenkungsgruppe/themen/{first}"' in body(client.get("/lenkungsgruppe/themen?seite=1"))


def test_list_issues_a_constant_number_of_queries(app, bscene, bclients, query):
    def grow(n: int, start: int):
        jc = user(bscene.users["JC"])
        for i in range(start, start + n):
            e = service.escalate(
                jc,
                service.EscalationInput(title=f"Thema {i}", description="Beschreibung", category="ressourcen"),
                bscene.general_item,
            )
            if i % 2:
                service.triage(user(bscene.steering["KI"]), e.id, None, 1 + i % 3)

    url = "/lenkungsgruppe/themen?sortierung=faelle"
    query(grow, 3, 0)
    bclients["AA"].get(url)
    with counting(app) as small:
        assert bclients["AA"].get(url).status_code == 200
    query(grow, 45, 3)
    with counting(app) as large:
        assert bclients["AA"].get(url).status_code == 200
    assert len(large) == len(small)


def test_an_items_meetings_link_only_for_those_who_may_open_them(bscene, bclients, query):
    """Everyone reads the backlog; the steering meeting's page opens only to its moderator and participants, so
    the others read its title and date without a link that would end in "nicht gefunden"."""

    def put_on_agenda():
        chair = user(bscene.steering["KI"])
        escalation = service.escalate(user(bscene.users["JC"]), CLEAN_INPUT, bscene.items["open"])
        service.triage(chair, escalation.id, escalation.version, 1)
        service.put_on_agenda(chair, bscene.steering_meeting, [escalation.id])
        return escalation.id

    escalation_id = query(put_on_agenda)
    link = f'href="/konferenzen/{bscene.steering_meeting}#top-'
    chair_page = body(bclients["LG-KI"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert "Beratung in der Lenkungsgruppe" in chair_page and link in chair_page
    worker_page = body(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert "Beratung in der Lenkungsgruppe" in worker_page and link not in worker_page
    assert bclients["JC"].get(f"/konferenzen/{bscene.steering_meeting}").status_code == 404


def test_an_agency_outside_the_case_team_neither_links_the_case_nor_learns_its_links(bscene, bclients, query):
    """JC once wrote a note in the closed case (AA's consent only), so the case is visible to JC through its own
    entries; on the agenda it is still "vertraulicher Fall" for JC: linking it, or asking whether it is linked,
    is a 404 like any item JC may not see."""
    from fallkonferenz.cases.service import import_note
    from fallkonferenz.models import Case

    def setup():
        import_note(db.session.get(Case, bscene.cases["closed"]), user(bscene.users["JC"]), "leistungen", "Alt.")
        linked = service.escalate(user(bscene.users["AA"]), CLEAN_INPUT, bscene.items["closed"])
        other = service.escalate(user(bscene.users["KI"]), CLEAN_INPUT, bscene.items["open"])
        return linked.id, other.id

    linked, other = query(setup)
    links = query(lambda: db.session.scalar(select(func.count()).select_from(EscalationCase)), commit=False)
    jc = bclients["JC"]
    for escalation_id in (linked, other):  # already linked, or not: the same answer
        page = jc.post(
            f"/lenkungsgruppe/themen/{escalation_id}/betrifft-uns-auch", data={"item_id": bscene.items["closed"]}
        )
        assert page.status_code == 404, escalation_id
        api = jc.api("POST", f"/api/v1/backlog/{escalation_id}/cases", json={"agendaItem": bscene.items["closed"]})
        assert api.status_code == 404, escalation_id
    assert query(lambda: db.session.scalar(select(func.count()).select_from(EscalationCase)), commit=False) == links


def test_a_confidential_item_answers_alike_whether_or_not_the_agency_wrote_in_its_case(bscene, bclients, query):
    """JC's answer for a "vertraulicher Fall" must not change once JC has an old note in that case: else the
    difference tells JC that the item is one of the cases it wrote in."""
    from fallkonferenz.cases.service import import_note
    from fallkonferenz.models import Case

    jc = bclients["JC"]
    body_ = {"agendaItem": bscene.items["closed"], "title": "x", "description": "y", "category": "rechtslage"}
    pages = (f"/konferenzen/{bscene.conference}/top/{bscene.items['closed']}/eskalieren",)

    def answers():
        api = jc.api("POST", "/api/v1/backlog", json=body_)
        return [(api.status_code, api.get_json()["error"])] + [
            (r.status_code, page_text(r)) for r in (jc.get(p) for p in pages)
        ]

    before = answers()
    query(
        lambda: import_note(
            db.session.get(Case, bscene.cases["closed"]), user(bscene.users["JC"]), "leistungen", "Alt."
        )
    )
    assert answers() == before
    assert before[0] == (404, "Tagesordnungspunkt nicht gefunden.") and before[1][0] == 404


def test_an_agenda_item_of_someone_elses_conference_answers_as_one_that_does_not_exist(bscene, bclients, query):
    """Escalating from, or linking, an item id: one answer for an item that does not exist and for one of a
    conference the user does not take part in, so item and conference ids do not leak."""
    ja = bclients["JA"]  # not invited to the scene's conferences
    body_ = {"agendaItem": bscene.items["open"], "title": "x", "description": "y", "category": "rechtslage"}
    other = ja.api("POST", "/api/v1/backlog", json=body_)
    missing = ja.api("POST", "/api/v1/backlog", json=body_ | {"agendaItem": 999999})
    assert other.status_code == missing.status_code == 404
    assert other.get_json()["error"] == missing.get_json()["error"] == "Tagesordnungspunkt nicht gefunden."


def test_a_steering_members_start_page_shows_triage_and_her_agencys_implementations(bscene, bclients, query):
    def run():
        chair = user(bscene.steering["KI"])
        adopted = service.escalate(user(bscene.users["JC"]), CLEAN_INPUT, bscene.items["open"])
        service.escalate(user(bscene.users["AA"]), CLEAN_INPUT, bscene.items["closed"])  # stays "eingereicht"
        service.triage(chair, adopted.id, adopted.version, 1)
        service.put_on_agenda(chair, bscene.steering_meeting, [adopted.id])
        service.adopt(chair, adopted.id, adopted.version, "Kursplätze melden.", utcnow().date() + timedelta(days=30))
        return adopted.reference

    reference = query(run)
    home = body(bclients["LG-JC"].get("/"))
    assert "1 gemeldetes Strukturproblem wartet auf Sichtung" in home
    assert "Offene Umsetzungen Ihrer Stelle" in home and reference in home
    assert "Meine nächsten Konferenzen" in home  # the steering meetings


def test_the_refusal_names_every_hit_of_a_field(bscene, bclients):
    """A name and an e-mail address in one description: the message lists both, not only the first."""
    text = "Frau Haddad wartet; Rückfragen an amal.h@example.org bitte."
    page = body(bclients["JC"].post(escalate_url(bscene), data=CLEAN | {"description": text}))
    message = next(line for line in page.splitlines() if "entfernen." in line)
    assert "„Haddad“" in message and "„amal.h@example.org“" in message
    assert "Beschreibung des Problems: Name einer Person" in message  # the field's label, once


def test_betrifft_uns_auch_from_the_items_own_page_offers_only_the_teams_cases(bscene, bclients, query):
    """A case worker reading a backlog item links a case of her conferences right there. JC is on both case
    conferences: the case closed to JC never appears; a case already linked is not offered again."""
    escalation_id = query(lambda: service.escalate(user(bscene.users["AA"]), CLEAN_INPUT, bscene.items["closed"]).id)
    page = f"/lenkungsgruppe/themen/{escalation_id}"
    jc = bclients["JC"]
    body = jc.get(page).get_data(as_text=True)
    assert "Betrifft uns auch" in body
    offered = re.findall(r'<option value="(\d+)">(FK-[^<]*)</option>', body)
    assert {int(v) for v, _ in offered} == {bscene.items["open"], bscene.items["other"]}
    assert bscene.numbers["closed"] not in body
    assert any("TOP 1 in „Fallkonferenz Nord“" in label for _, label in offered)
    resp = jc.post(f"{page}/betrifft-uns-auch", data={"item_id": bscene.items["open"]})
    assert resp.status_code == 302
    count = query(lambda: db.session.get(Escalation, escalation_id).case_count, commit=False)
    assert count == 2
    after = jc.get(page).get_data(as_text=True)
    assert f'<option value="{bscene.items["open"]}">' not in after
    assert f'<option value="{bscene.items["other"]}">' in after
    # Steering members and agencies without a case conference get no such form.
    assert "Fall aus Ihren Konferenzen" not in bclients["LG-KI"].get(page).get_data(as_text=True)
    assert "Fall aus Ihren Konferenzen" not in bclients["JA"].get(page).get_data(as_text=True)


def test_the_backlog_search_finds_every_word_in_any_text_whatever_its_case(bscene, bclients, query):
    """From the conference page's "Betrifft uns auch" the reader searches the open items: all words must stand in
    the number, title, description or proposed solution, in any case, umlauts too; % and _ are no wildcards."""

    def run():
        worker = user(bscene.users["JC"])
        first = service.escalate(worker, CLEAN_INPUT, bscene.items["open"])
        other = service.escalate(
            worker,
            replace(
                CLEAN_INPUT,
                title="Übergang Schule – Ausbildung ohne Begleitung",
                description="Es fehlt eine Begleitung beim Übergang; 100_% der Plätze sind belegt.",
                category="angebot_sprache",
                proposed_solution="",
            ),
            bscene.items["open"],
        )
        return first.reference, other.reference

    first, other = query(run)
    client = bclients["AA"]

    def found(q: str, **args) -> set[str]:
        page = body(client.get("/lenkungsgruppe/themen", query_string={"q": q, **args}))
        return {ref for ref in (first, other) if ref in page}

    assert found("duldung") == {first}
    assert found("ÜBERGANG begleitung") == {other}  # words in title and description, umlaut in any case
    assert found("übergang duldung") == set()  # every word must stand
    assert found("44 abs") == {first}  # the proposed solution
    assert found(other) == {other}  # the number
    assert found("100_%") == {other} and found("1%0") == set() and found("_") == {other}
    assert found("„Duldung“, Integrationskurs;") == {first}  # quotes and commas are no part of a word
    assert found("Uebergang") == {other} and found("UEBERGANG schule") == {other}  # umlaut written out
    assert found("regelmäßig") == {first} and found("regelmaessig") == {first}  # ß and ä either way
    assert found("Ü\u0308bergang".replace("Ü", "U")) == {other}  # "Ü" typed as U and a combining diaeresis
    eight = "integrationskurs duldung nicht erreichbar junge menschen erhalten keinen"
    assert found(f"{eight} platz") == {first}
    assert found(f"{eight} wohnsitzauflage") == set()  # every word counts, also after the eighth
    assert found(" , ") == {first, other}  # no word: all (open) items
    assert found("", kategorie="rechtslage") == {first}
    assert found("begleitung", kategorie="rechtslage") == set()
    long = client.get("/lenkungsgruppe/themen", query_string={"q": "duldung " + "x" * 200})
    assert long.status_code == 200 and "wurde gekürzt" in body(long)
    odd = client.get("/lenkungsgruppe/themen", query_string={"q": "dul\x00dung\x07 \ufffd"})
    assert odd.status_code == 200 and "Unzulässige Zeichen im Suchbegriff wurden entfernt." in body(odd)
    assert 'value="dul dung"' in body(odd)
    # the exports and the API take the same filter; the API refuses what the list corrects
    csv = body(client.get("/lenkungsgruppe/themen.csv", query_string={"q": "übergang"}))
    assert other in csv and first not in csv
    api = client.get("/api/v1/backlog", query_string={"q": "Duldung"}).get_json()
    assert [e["reference"] for e in api["items"]] == [first]
    refused = client.get("/api/v1/backlog", query_string={"q": "x" * 101})
    assert refused.status_code == 422 and refused.get_json()["errors"]["q"] == "Höchstens 100 Zeichen."
    refused = client.get("/api/v1/backlog", query_string={"q": "duldung\x00"})
    assert refused.status_code == 422 and "unzulässige Zeichen" in refused.get_json()["errors"]["q"]


def test_betrifft_uns_auch_on_the_conference_page_searches_the_open_items(bscene, bclients, query):
    """The search from a conference's page hands the conference to the item's page, which offers its cases first,
    also when the conference is more than a year old (the item's page alone offers the last year's)."""
    page = body(bclients["AA"].get(f"/konferenzen/{bscene.conference}"))
    section = page[page.index('id="betrifft-h"') : page.index("</section>", page.index('id="betrifft-h"'))]
    assert 'action="/lenkungsgruppe/themen"' in section and 'name="offen" value="1"' in section
    assert f'name="konferenz" value="{bscene.conference}"' in section
    assert 'name="q"' in section and 'name="kategorie"' in section
    assert "<option" in section and "/lenkungsgruppe/themen/" not in section  # categories to choose, no items

    escalation_id = raise_item(bscene, bclients)

    def age():
        old = db.session.get(Conference, bscene.other_conference)
        old.start -= timedelta(days=400)
        old.end -= timedelta(days=400)

    query(age)
    jc = bclients["JC"]
    item_page = f"/lenkungsgruppe/themen/{escalation_id}"
    assert f'<option value="{bscene.items["other"]}">' not in body(jc.get(item_page))
    listed = body(jc.get("/lenkungsgruppe/themen", query_string={"offen": "1", "konferenz": bscene.other_conference}))
    assert f'href="{item_page}?konferenz={bscene.other_conference}#faelle"' in listed
    assert f'<input type="hidden" name="konferenz" value="{bscene.other_conference}">' in listed  # kept on refining
    offered = body(jc.get(f"{item_page}?konferenz={bscene.other_conference}"))
    assert re.search(rf'<select id="link-item"[^>]*>\s*<option value="{bscene.items["other"]}">', offered)  # first
    # a conference without her seat offers nothing of it; junk is ignored
    assert "Fall aus Ihren Konferenzen" not in body(
        bclients["LG-JC"].get(f"{item_page}?konferenz={bscene.other_conference}")
    )
    assert jc.get(f"{item_page}?konferenz=abc").status_code == 200
    assert jc.get("/lenkungsgruppe/themen?konferenz=99999999999999").status_code == 200


def test_a_form_with_an_empty_title_also_marks_the_guards_hits(bscene, bclients, query):
    """Both in one round: the missing title and the client's name in the description."""
    resp = bclients["JC"].post(
        escalate_url(bscene), data=CLEAN | {"title": "", "description": "Frau Haddad wartet auf den Kurs."}
    )
    page = body(resp)
    assert resp.status_code == 422 and "Bitte geben Sie einen Titel an." in page
    assert re.search(r'<mark class="guard-hit" title="[^"]+">Haddad</mark>', page)
    assert count_escalations(query) == 0


def test_the_reporter_corrects_her_report_until_the_steering_group_has_looked_at_it(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)
    url = f"/lenkungsgruppe/themen/{escalation_id}/bearbeiten"
    assert "Meldung berichtigen" in body(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert ": Meldung berichtigen</h1>" in body(bclients["JC"].get(url))
    seen = version_of(query, escalation_id)
    # the guard checks the new words against the linked case as it checked the first ones
    named = bclients["JC"].post(
        url, data=CLEAN | {"description": "Bei Herrn HADDAD fehlt die Zulassung.", "version": seen}
    )
    assert named.status_code == 422 and re.search(r'<mark class="guard-hit" title="[^"]+">HADDAD</mark>', body(named))
    assert "Bei Herrn HADDAD fehlt die Zulassung." in body(named)  # the input is kept
    assert escalation(query, escalation_id).description == CLEAN["description"]
    fixed = bclients["JC"].post(
        url, data=CLEAN | {"title": "Integrationskurs bei Duldung: keine Zulassung", "version": seen}
    )
    assert fixed.status_code == 302
    assert escalation(query, escalation_id).title == "Integrationskurs bei Duldung: keine Zulassung"
    history = body(bclients["LG-KI"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert "eingereicht (unverändert)" in history and "Text berichtigt (Meldung)" in history  # a trace, for all
    # nobody else of her agency, and no other case worker, rewords it
    for other in ("AA", "KI"):
        assert "Meldung berichtigen" not in body(bclients[other].get(f"/lenkungsgruppe/themen/{escalation_id}"))
        refused = bclients[other].post(url, data=CLEAN | {"title": "Fremd", "version": seen + 1})
        assert refused.status_code == 403
    # once the steering group has looked at it, its wording is the group's
    triaged = bclients["LG-KI"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/sichten", data={"priority": 2, "version": seen + 1}
    )
    assert triaged.status_code == 302
    late = bclients["JC"].post(url, data=CLEAN | {"title": "Zu spät", "version": seen + 1})
    assert late.status_code == 409 and "ihren Text ändert jetzt die Lenkungsgruppe" in body(late)
    assert "Zu spät" in body(late)  # what she typed is still there
    assert bclients["JC"].get(url).status_code == 403
    assert "Meldung berichtigen" not in body(bclients["JC"].get(f"/lenkungsgruppe/themen/{escalation_id}"))
    assert escalation(query, escalation_id).title == "Integrationskurs bei Duldung: keine Zulassung"
    assert bclients["LG-KI"].get(url).status_code == 200  # the group still can


def test_a_correction_is_checked_against_every_case_of_the_agenda_it_came_from(bscene, bclients, query):
    """Raised from one case item, the first words were checked against all cases of that conference; so are the
    corrected ones – here another spelling of the name of the agenda's other case, which AA may see."""
    resp = bclients["AA"].post(escalate_url(bscene), data=CLEAN)
    assert resp.status_code == 302
    escalation_id = int(resp.headers["Location"].rstrip("/").rsplit("/", 1)[1])
    url = f"/lenkungsgruppe/themen/{escalation_id}/bearbeiten"
    named = bclients["AA"].post(
        url, data=CLEAN | {"description": "Senayt wartet seit Monaten auf den Kurs.", "version": 1}
    )
    assert named.status_code == 422
    assert re.search(r'<mark class="guard-hit" title="[^"]+">Senayt</mark>', body(named))
    assert escalation(query, escalation_id).description == CLEAN["description"]


def test_an_item_filed_just_after_local_midnight_is_from_today(bscene, bclients, query):
    """The list's age counts local days, as its date does: filed at 00:00:01 in Germany is 23:00:01 UTC the day
    before, and still "heute"."""
    from datetime import datetime, time

    from fallkonferenz.localtime import to_utc

    escalation_id = raise_item(bscene, bclients)

    def backdate():
        filed = to_utc(datetime.combine(service.today(), time(0, 0, 1)))
        db.session.get(Escalation, escalation_id).created_at = filed
        return filed.date(), service.today()

    utc_day, local_day = query(backdate)
    assert utc_day < local_day  # the moment lies on the day before in UTC: the case the list used to get wrong
    page = body(bclients["JC"].get("/lenkungsgruppe/themen"))
    row = re.search(rf'/lenkungsgruppe/themen/{escalation_id}".*?</tr>', page, re.S).group(0)
    assert "(heute)" in row and "(gestern)" not in row


def test_a_working_group_is_changed_and_its_new_members_are_told(bscene, bclients, query):
    """A report date extended, a member who left, one who joins, the lead handed on: the steering group changes
    the group; the overdue mark goes with the old date, and who joins learns the mandate by e-mail."""
    aa, ja = bscene.ids[bscene.users["AA"]], bscene.ids[bscene.users["JA"]]
    lead = bscene.ids[bscene.steering["ABH"]]
    chair = bclients["LG-KI"]
    created = chair.post(
        "/lenkungsgruppe/arbeitsgruppen/neu",
        data={"name": "AG Kita", "mandate": "Plätze für Kursteilnehmende", "lead": lead, "members": [aa]},
    )
    group_id = int(created.headers["Location"].rsplit("/", 1)[1])
    url, edit = f"/lenkungsgruppe/arbeitsgruppen/{group_id}", f"/lenkungsgruppe/arbeitsgruppen/{group_id}/bearbeiten"

    def welcomed(user_id: int) -> int:
        subject = "Lenkungsgruppe: Arbeitsgruppe „AG Kita“"
        return query(
            lambda: db.session.query(OutboxMessage).filter_by(to_user_id=user_id, subject=subject).count(),
            commit=False,
        )

    assert welcomed(aa) == 1 and welcomed(lead) == 1
    # the date passed: overdue on the group's page until it is extended
    today = query(service.today, commit=False)
    passed = today - timedelta(days=3)
    query(lambda: setattr(db.session.get(WorkingGroup, group_id), "due_date", passed))
    assert "überfällig" in body(chair.get(url)) and edit in body(chair.get(url))
    assert edit not in body(bclients["JC"].get(url))
    assert bclients["JC"].get(edit).status_code == 403 and bclients["AA"].post(edit, data={}).status_code == 403
    form = body(chair.get(edit))
    assert 'value="AG Kita"' in form and "Plätze für Kursteilnehmende</textarea>" in form
    # a date already passed may stay; a new one lies ahead
    keep = {"name": "AG Kita", "mandate": "Plätze für Kursteilnehmende", "lead": lead, "due_date": passed.isoformat()}
    assert chair.post(edit, data=keep | {"members": [aa]}).status_code == 302
    earlier = (passed - timedelta(days=1)).isoformat()
    refused = chair.post(edit, data=keep | {"due_date": earlier, "members": [aa]})
    assert refused.status_code == 422 and "Vergangenheit" in body(refused)
    named = chair.post(edit, data=keep | {"mandate": "Wie bei Frau Haddad, Tel. 0171 2345678", "members": [aa]})
    assert named.status_code == 422 and '<mark class="guard-hit"' in body(named)
    later = (today + timedelta(days=60)).isoformat()
    changed = chair.post(edit, data=keep | {"due_date": later, "lead": aa, "members": [ja]})
    assert changed.status_code == 302
    page = body(chair.get(url))
    assert "überfällig" not in page and date.fromisoformat(later).strftime("%d.%m.%Y") in page

    def seats():
        group = db.session.get(WorkingGroup, group_id)
        return group.lead_id, {m.user_id: m.role for m in group.members}

    assert query(seats, commit=False) == (aa, {aa: "leitung", ja: "mitglied"})
    assert welcomed(ja) == 1 and welcomed(aa) == 1  # AA stayed: no second welcome
    event = query(
        lambda: (
            db.session.query(AuditEvent)
            .filter_by(action="backlog.group_edit")
            .order_by(AuditEvent.id.desc())
            .first()
            .detail
        ),
        commit=False,
    )
    assert f'"added":[{ja}]' in event and f'"removed":[{lead}]' in event


def test_the_members_hear_of_an_item_handed_to_their_group(bscene, query):
    def run():
        chair = user(bscene.steering["KI"])
        aa = user(bscene.users["AA"])
        group = service.create_group(chair, service.GroupInput(name="AG Sprache", member_ids=[aa.id]))
        escalation = service.escalate(user(bscene.users["JC"]), CLEAN_INPUT, bscene.items["open"])
        service.triage(chair, escalation.id, None, 1)
        service.transition(chair, escalation.id, "tagesordnung", None)
        service.transition(chair, escalation.id, "arbeitsgruppe", None, working_group_id=group.id, reason="Bis März.")
        subject = f"Lenkungsgruppe: {escalation.reference} an „AG Sprache“"
        mails = db.session.query(OutboxMessage).filter_by(subject=subject).all()
        assert [m.to_user_id for m in mails] == [aa.id]
        assert "Auftrag der Lenkungsgruppe: Bis März." in mails[0].body and escalation.title in mails[0].body

    query(run, commit=False)


def test_the_case_page_names_the_structural_problems_of_its_case_to_its_team(bscene, bclients, query):
    escalation_id = raise_item(bscene, bclients)  # from the open case's item (consent for JC and AA)
    reference = escalation(query, escalation_id).reference
    open_case, other_case = f"/faelle/{bscene.numbers['open']}", f"/faelle/{bscene.numbers['other']}"
    for code in ("KI", "JC", "AA"):  # the lead agency and the agencies the consent shares the case with
        page = body(bclients[code].get(open_case))
        assert 'id="strukturprobleme"' in page and f"/lenkungsgruppe/themen/{escalation_id}" in page, code
        assert reference in page
    assert bclients["ABH"].get(open_case).status_code == 404  # no consent: not even the case
    # a case without a link shows no such section
    assert 'id="strukturprobleme"' not in body(bclients["JC"].get(other_case))
    # "betrifft uns auch" links the other case: its page names the item from then on
    joined = bclients["JC"].post(
        f"/lenkungsgruppe/themen/{escalation_id}/betrifft-uns-auch", data={"item_id": bscene.items["other"]}
    )
    assert joined.status_code == 302
    assert reference in body(bclients["JC"].get(other_case))
