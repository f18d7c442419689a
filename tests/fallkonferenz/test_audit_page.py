"""The data-protection officer's audit page: what each event did, the record of the chain checks, the export."""

from __future__ import annotations

import csv
import io

import pytest

from fallkonferenz import views
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, User
from tests.conftest import CSRF_RE
from tests.factories import PASSWORD, make_case, make_user


@pytest.fixture
def office(app, world, query, client_for):
    """The world, an admin and a data-protection officer, each logged in; one case of JC's."""

    def setup():
        make_user("KI", "admin", "ki.admin")
        make_user("KI", "dpo", "ki.dsb")
        make_case(User.query.filter_by(username=world["JC"]).one())

    query(setup)
    return {
        "admin": client_for("ki.admin", PASSWORD),
        "dsb": client_for("ki.dsb", PASSWORD),
        "jc": client_for(world["JC"], PASSWORD),
    }


def _rows(page: str) -> list[str]:
    tbody = page.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return tbody.split("<tr>")[1:]


def _actions(query) -> list[str]:
    return query(lambda: [e.action for e in db.session.query(AuditEvent).order_by(AuditEvent.id)], commit=False)


def test_each_event_says_what_it_did_a_deactivation_apart_from_an_edit(office, world, query, client_for):
    jc_id = query(lambda: User.query.filter_by(username=world["JC"]).one().id, commit=False)
    assert office["admin"].post(f"/verwaltung/benutzer/{jc_id}/aktiv", data={"active": "0"}).status_code == 302
    assert office["admin"].post(f"/verwaltung/benutzer/{jc_id}/aktiv", data={"active": "1"}).status_code == 302
    assert _actions(query)[-2:] == ["user.deactivate", "user.activate"]
    anonymous = client_for().http  # a failed login: where it came from is what the officer looks for
    token = CSRF_RE.search(anonymous.get("/anmelden").get_data(as_text=True)).group(1)
    wrong = {"username": world["JC"], "password": "falsch-falsch-falsch", "csrf_token": token}
    assert anonymous.post("/anmelden", data=wrong).status_code == 401
    page = office["dsb"].get("/protokollierung", query_string={"aktion": "user"}).get_data(as_text=True)
    rows = _rows(page)
    assert '<th scope="col">Einzelheiten</th>' in page
    assert any("Konto deaktiviert" in r and f"Konto {world['JC']}" in r for r in rows)
    assert any("Konto aktiviert" in r for r in rows)
    failed = _rows(office["dsb"].get("/protokollierung?aktion=auth.login_failed").get_data(as_text=True))
    assert failed and '<td class="text detail">Adresse: 127.0.0.1' in failed[0]


def test_the_chain_check_is_on_record_and_its_findings_link_to_their_entries(office, query):
    dsb = office["dsb"]
    assert "Die Kette wurde noch nie geprüft." in dsb.get("/protokollierung").get_data(as_text=True)
    assert "vollständig und unverändert" in dsb.get("/protokollierung?pruefen=1").get_data(as_text=True)
    page = dsb.get("/protokollierung").get_data(as_text=True)
    assert "Zuletzt geprüft am" in page and "von ki.dsb: ohne Befund." in page
    assert "audit.verify" in _actions(query)
    query(lambda: db.session.execute(AuditEvent.__table__.update().where(AuditEvent.id == 3).values(purpose="x")))
    checked = dsb.get("/protokollierung?pruefen=1").get_data(as_text=True)
    assert '<a href="/protokollierung?vor=4">Eintrag 3</a>' in checked
    assert "<strong>1 Befund</strong>" in dsb.get("/protokollierung").get_data(as_text=True)
    # the entry is the first one of the page the link opens, and the page leads back to the newest
    linked = dsb.get("/protokollierung?vor=4").get_data(as_text=True)
    assert _rows(linked)[0].startswith("<td>3</td>") and "Zu den neuesten Einträgen" in linked


def _csv(resp) -> list[list[str]]:
    return list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff")), delimiter=";"))


def test_the_officer_exports_what_her_filter_finds_and_the_export_is_on_record(office, world, query):
    dsb = office["dsb"]
    page = dsb.get("/protokollierung?aktion=case").get_data(as_text=True)
    assert 'href="/protokollierung/export.csv?aktion=case"' in page
    resp = dsb.get("/protokollierung/export.csv?aktion=case")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="protokollierung-')
    table = _csv(resp)
    assert table[0] == views.AUDIT_EXPORT_HEADER
    assert table[1:] and all(row[5].startswith("case.") for row in table[1:])
    created = next(row for row in table[1:] if row[5] == "case.create")
    assert created[2] == world["JC"] and created[3] == "JC" and created[6].startswith("FK-")
    # ids and metadata, as on the page: no client name leaves through the export
    assert "Haddad" not in resp.get_data(as_text=True) and "Amal" not in resp.get_data(as_text=True)
    exported = query(lambda: db.session.query(AuditEvent).filter_by(action="audit.export").one().detail, commit=False)
    assert '"aktion":"case"' in exported and f'"listed":{len(table) - 1}' in exported


def test_a_bad_or_too_wide_export_gets_a_german_4xx(office, monkeypatch):
    dsb = office["dsb"]
    resp = dsb.get("/protokollierung/export.csv?von=31.02.2026")
    assert resp.status_code == 422 and "Traceback" not in resp.get_data(as_text=True)
    resp = dsb.get("/protokollierung/export.csv?fall=FK-1999-0001")
    assert resp.status_code == 422 and "Diese Fallnummer gibt es nicht." in resp.get_data(as_text=True)
    monkeypatch.setattr(views, "AUDIT_EXPORT_MAX", 3)
    resp = dsb.get("/protokollierung/export.csv")
    assert resp.status_code == 422 and "mehr als 3 Einträge; bitte grenzen Sie ihn ein" in resp.get_data(as_text=True)


@pytest.mark.parametrize("who", ["admin", "jc"])
def test_only_the_officer_reads_or_exports_the_log(office, who):
    assert office[who].get("/protokollierung").status_code == 404
    assert office[who].get("/protokollierung/export.csv").status_code == 404
