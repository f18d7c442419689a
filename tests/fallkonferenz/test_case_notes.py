"""The notes of a long case: 50 to a page, the newest first, narrowed to a category; only the page is opened."""

from __future__ import annotations

import re

import pytest

from fallkonferenz.cases import service
from fallkonferenz.extensions import db
from fallkonferenz.models import User
from tests.factories import PASSWORD, make_case, make_consent


@pytest.fixture
def long_case(world, query, client_for, monkeypatch):
    """A KI case with 7 notes (5 Leistungen, 2 Gesundheit), shared with JC for Leistungen; 3 notes to a page."""
    monkeypatch.setattr(service, "NOTES_PAGE", 3)

    def build():
        ki = User.query.filter_by(username=world["KI"]).one()
        case = make_case(ki)
        make_consent(case, ki, [("JC", "leistungen"), ("JC", "stammdaten")])
        for n in range(7):
            category = "gesundheit" if n in (1, 4) else "leistungen"
            service.add_note(ki, case.number, category, f"Vermerk {n}")
        return case.number

    number = query(build)
    return number, client_for(world["KI"], PASSWORD), client_for(world["JC"], PASSWORD)


def _notes(page: str) -> list[str]:
    return re.findall(r'<p class="note-text">(Vermerk \d)</p>', page)


def test_the_notes_go_on_in_pages_newest_first(long_case):
    number, ki, _ = long_case
    first = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert _notes(first) == ["Vermerk 6", "Vermerk 5", "Vermerk 4"]
    assert "Vermerke 1–3." in first and f"/faelle/{number}?vermerke=2#vermerke-liste" in first
    third = ki.get(f"/faelle/{number}?vermerke=3").get_data(as_text=True)
    assert _notes(third) == ["Vermerk 0"] and "Ältere Vermerke" not in third and "Neuere Vermerke" in third


def test_the_notes_narrow_to_a_category_counted_as_the_agency_sees_them(long_case):
    number, ki, jc = long_case
    page = ki.get(f"/faelle/{number}").get_data(as_text=True)
    assert "alle (7)" in page and "Gesundheit (Art. 9 DSGVO) (2)" in page and "Leistungen (5)" in page
    health = ki.get(f"/faelle/{number}?kategorie=gesundheit").get_data(as_text=True)
    assert _notes(health) == ["Vermerk 4", "Vermerk 1"] and "Vermerke 1–" not in health
    # JC sees the Leistungen only: no count of what it may not see, no choice with one category
    jc_page = jc.get(f"/faelle/{number}").get_data(as_text=True)
    assert "Gesundheit (Art. 9 DSGVO) (" not in jc_page and "alle (5)" not in jc_page
    assert "Vermerk 4" not in jc.get(f"/faelle/{number}?kategorie=gesundheit").get_data(as_text=True)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ("?vermerke=0", "Ungültige Seitenzahl der Vermerke"),
        ("?vermerke=abc", "Ungültige Seitenzahl der Vermerke"),
        ("?vermerke=9", "Seite 9 der Vermerke gibt es nicht."),
        ("?kategorie=%3Cb%3E", "Diese Kategorie gibt es nicht"),
    ],
)
def test_a_bad_notes_address_gets_a_german_400_and_the_first_page(long_case, args, message):
    number, ki, _ = long_case
    resp = ki.get(f"/faelle/{number}{args}")
    body = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in body and "<b>" not in body
    if "9" not in args:
        assert _notes(body) == ["Vermerk 6", "Vermerk 5", "Vermerk 4"]


def test_a_note_withdrawn_on_a_later_page_leads_back_there(long_case, query):
    number, ki, _ = long_case
    note_id = query(
        lambda: db.session.execute(db.text("SELECT min(id) FROM notes")).scalar(), commit=False
    )  # "Vermerk 0", on page 3
    assert 'name="vermerke" value="3"' in ki.get(f"/faelle/{number}?vermerke=3").get_data(as_text=True)
    resp = ki.post(f"/faelle/{number}/vermerke/{note_id}/zurueckziehen", data={"reason": "fall", "vermerke": "3"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith(f"?vermerke=3#vermerk-{note_id}")


def test_the_api_pages_and_narrows_the_notes_as_the_page_does(long_case):
    number, ki, jc = long_case
    url = f"/api/v1/cases/{number}/notes"

    def texts(answer) -> list[str]:
        return [n["text"] for n in answer["items"]]

    first = ki.api("GET", url).get_json()
    assert texts(first) == ["Vermerk 6", "Vermerk 5", "Vermerk 4"] and first["hasNext"] is True
    assert first["page"] == 1 and first["counts"] == {"gesundheit": 2, "leistungen": 5}
    last = ki.api("GET", f"{url}?page=3").get_json()
    assert texts(last) == ["Vermerk 0"] and last["hasNext"] is False
    health = ki.api("GET", f"{url}?category=gesundheit").get_json()
    assert texts(health) == ["Vermerk 4", "Vermerk 1"] and health["hasNext"] is False
    # JC's consent covers Leistungen: neither the health notes nor their number reach it
    shared = jc.api("GET", f"{url}?page=2").get_json()
    assert shared["counts"] == {"leistungen": 5} and texts(shared) == ["Vermerk 2", "Vermerk 0"]
    assert jc.api("GET", f"{url}?category=gesundheit").get_json()["items"] == []
    for bad, field in (("page=0", "page"), ("page=zwei", "page"), ("category=geheim", "category")):
        refused = ki.api("GET", f"{url}?{bad}")
        assert refused.status_code == 422 and set(refused.get_json()["errors"]) == {field}, bad
