"""The moderator changes an agenda item's title, time box or presenter in place, under the rules for a new item."""

from __future__ import annotations

import pytest

from agenda.models import AgendaItem, Conference
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent
from tests.agenda.conftest import user
from tests.agenda.test_conferences import _add
from tests.factories import make_case


@pytest.fixture
def agenda(scene, clients, planned, query):
    """A case item (open case: JC and AA see it, ABH does not) and a general item."""
    ki = clients["KI"]
    assert _add(ki, planned, case=scene.open_case, title="Ausbildungsplatz", confirm="1").status_code == 302
    assert _add(ki, planned, kind="bericht", title="Bericht der Koordination", time_box="10").status_code == 302
    ids = query(lambda: [i.id for i in db.session.get(Conference, planned).items], commit=False)
    return {"case_item": ids[0], "general": ids[1]}


def _item(query, item_id):
    return query(
        lambda: (lambda i: (i.title, i.time_box, i.presenter_id))(db.session.get(AgendaItem, item_id)), commit=False
    )


def _version(query, planned):
    return query(lambda: db.session.get(Conference, planned).agenda_version, commit=False)


def test_the_moderator_changes_an_item_in_place_and_keeps_its_place(scene, clients, planned, agenda, query):
    ki = clients["KI"]
    url = f"/konferenzen/{planned}/top/{agenda['case_item']}/bearbeiten"
    assert url in ki.get(f"/konferenzen/{planned}").get_data(as_text=True)
    form = ki.get(url).get_data(as_text=True)
    assert 'value="Ausbildungsplatz"' in form and scene.open_case in form
    before = _version(query, planned)
    data = {
        "title": "Ausbildungsplatz im Handwerk",
        "time_box": "35",
        "presenter": str(scene.ids["JC"]),
        "version": str(before),
    }
    resp = ki.post(url, data=data, follow_redirects=True)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200 and "Der Tagesordnungspunkt wurde geändert." in page
    assert _item(query, agenda["case_item"]) == ("Ausbildungsplatz im Handwerk", 35, scene.ids["JC"])
    assert "TOP 1 – Ausbildungsplatz im Handwerk" in page  # still the first item, the timetable follows the new time
    assert _version(query, planned) == before + 1
    detail = query(lambda: db.session.query(AuditEvent).filter_by(action="agenda.item_edit").one().detail, commit=False)
    assert '"fields":["title","time_box","presenter_id"]' in detail
    # the same form again changes nothing, and says so
    again = ki.post(url, data=data | {"version": str(before + 1)}, follow_redirects=True)
    assert "Keine Änderung." in again.get_data(as_text=True) and _version(query, planned) == before + 1


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"time_box": "0"}, "time_box", "zwischen 1 und 240 Minuten"),
        ({"time_box": "viele"}, "time_box", ""),
        ({"title": "x" * 301}, "title", "Höchstens 300 Zeichen."),
        ({"presenter": "ABH"}, "presenter", "kann diesen Fall nicht sehen"),
        ({"presenter": "999999"}, "presenter", ""),
    ],
)
def test_a_refused_case_item_change_keeps_the_input_and_changes_nothing(
    scene, clients, planned, agenda, query, change, field, message
):
    url = f"/konferenzen/{planned}/top/{agenda['case_item']}/bearbeiten"
    before = _item(query, agenda["case_item"])
    data = {"title": "Neuer Titel", "time_box": "20", "presenter": "0", "version": str(_version(query, planned))}
    data |= change
    if data["presenter"] == "ABH":
        data["presenter"] = str(scene.ids["ABH"])
    resp = clients["KI"].post(url, data=data)
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body and f'id="{field}-error"' in body
    if "title" not in change:
        assert 'value="Neuer Titel"' in body
    assert _item(query, agenda["case_item"]) == before


def test_a_general_item_names_no_case_and_needs_a_title(scene, clients, planned, agenda, query):
    url = f"/konferenzen/{planned}/top/{agenda['general']}/bearbeiten"
    data = {"time_box": "10", "presenter": "0", "version": str(_version(query, planned))}
    named = clients["KI"].post(url, data=data | {"title": f"Bericht zu {scene.open_case}"})
    assert named.status_code == 422 and "Fallnummer" in named.get_data(as_text=True)
    empty = clients["KI"].post(url, data=data | {"title": "  "})
    assert empty.status_code == 422 and "Bitte geben Sie einen Titel an." in empty.get_data(as_text=True)
    assert _item(query, agenda["general"])[0] == "Bericht der Koordination"


def test_a_stale_page_is_refused_with_what_was_typed_kept(scene, clients, planned, agenda, query):
    ki = clients["KI"]
    stale = _version(query, planned)
    moved = _add(ki, planned, kind="verschiedenes", title="Verschiedenes", position="1", version=str(stale))
    assert moved.status_code == 302  # a colleague's tab: the agenda is newer than the page below
    resp = ki.post(
        f"/konferenzen/{planned}/top/{agenda['general']}/bearbeiten",
        data={"title": "Bericht, gekürzt", "time_box": "5", "presenter": "0", "version": str(stale)},
    )
    body = resp.get_data(as_text=True)
    assert resp.status_code == 409 and "inzwischen geändert" in body and 'value="Bericht, gekürzt"' in body
    assert _item(query, agenda["general"])[0] == "Bericht der Koordination"
    bad = ki.post(
        f"/konferenzen/{planned}/top/{agenda['general']}/bearbeiten",
        data={"title": "x", "time_box": "5", "presenter": "0", "version": "abc"},
    )
    assert bad.status_code == 422 and "Bitte laden Sie sie neu." in bad.get_data(as_text=True)


def test_only_the_moderator_edits_and_only_items_she_may_see(scene, clients, planned, agenda, query):
    url = f"/konferenzen/{planned}/top/{agenda['case_item']}/bearbeiten"
    assert clients["JC"].get(url).status_code == 403
    assert clients["JC"].post(url, data={"title": "x", "time_box": "5", "presenter": "0"}).status_code == 403
    assert clients["JA"].get(url).status_code == 404  # not invited: the conference does not exist for her
    assert clients["KI"].get(f"/konferenzen/{planned}/top/999999/bearbeiten").status_code == 404

    # a case the moderator's agency no longer sees: the item can only be removed
    def foreign_item():
        other = make_case(user(scene.users["JC"]), given="Omar", family="Nassir")
        conference = db.session.get(Conference, planned)
        item = AgendaItem(
            title="Fallbesprechung",
            kind="fallbesprechung",
            case_id=other.id,
            time_box=10,
            position=len(conference.items) + 1,
        )
        conference.items.append(item)
        db.session.flush()
        return item.id

    hidden = query(foreign_item)
    page = clients["KI"].get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert f"/top/{hidden}/bearbeiten" not in page
    refused = clients["KI"].get(f"/konferenzen/{planned}/top/{hidden}/bearbeiten")
    assert refused.status_code == 403 and "nur entfernen" in refused.get_data(as_text=True)
    assert "Nassir" not in refused.get_data(as_text=True)
    # an ended conference is not changed any more
    cancel = {"state": "abgesagt", "reason": "Ausfall"}
    assert clients["KI"].post(f"/konferenzen/{planned}/status", data=cancel).status_code == 302
    assert clients["KI"].get(url).status_code == 409


def test_the_api_changes_an_item_in_part_and_refuses_in_german(scene, clients, planned, agenda, query):
    ki = clients["KI"]
    url = f"/api/v1/conferences/{planned}/items/{agenda['general']}"
    version = _version(query, planned)
    resp = ki.api("PATCH", url, json={"timeBox": 25, "agendaVersion": version})
    assert resp.status_code == 200 and resp.get_json() == {"changed": ["time_box"], "agendaVersion": version + 1}
    assert _item(query, agenda["general"]) == ("Bericht der Koordination", 25, None)
    stale = ki.api("PATCH", url, json={"name": "Neu", "agendaVersion": version})
    assert stale.status_code == 409 and "inzwischen geändert" in stale.get_json()["error"]
    assert ki.api("PATCH", url, json={"name": "Neu"}).get_json()["errors"] == {
        "agendaVersion": "Bitte die agendaVersion der Tagesordnung mitsenden."
    }
    bad = ki.api("PATCH", url, json={"timeBox": "viel", "agendaVersion": version + 1})
    assert bad.status_code == 422 and "timeBox" in bad.get_json()["errors"]
    named = ki.api("PATCH", url, json={"name": scene.open_case, "agendaVersion": version + 1})
    assert named.status_code == 422 and "name" in named.get_json()["errors"]
    assert _item(query, agenda["general"])[0] == "Bericht der Koordination"
    assert clients["JC"].api("PATCH", url, json={"timeBox": 5, "agendaVersion": version + 1}).status_code == 403
    gone = ki.api("PATCH", f"/api/v1/conferences/{planned}/items/999999", json={"agendaVersion": version + 1})
    assert gone.status_code == 404 and "nicht gefunden" in gone.get_json()["error"]
