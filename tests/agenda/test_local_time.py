"""Local time: people read and type the time of the agencies' place (Europe/Berlin, summer time included); the
database, calendar files and the JSON API keep UTC."""

from __future__ import annotations

from datetime import datetime

import icalendar
import pytest

from agenda.models import Conference
from fallkonferenz.config import ConfigError, load_config
from fallkonferenz.extensions import db
from fallkonferenz.localtime import datum, termin, to_local, to_utc, uhrzeit
from fallkonferenz.models import OutboxMessage
from tests.agenda.conftest import conference_form


@pytest.mark.parametrize(
    ("utc", "shown"),
    [
        (datetime(2026, 3, 10, 9, 0), "Di., 10.03.2026 10:00"),  # winter: UTC+1
        (datetime(2026, 7, 5, 8, 0), "So., 05.07.2026 10:00"),  # summer: UTC+2
        (datetime(2026, 10, 25, 23, 30), "Mo., 26.10.2026 00:30"),  # late in the evening UTC: the next day here
    ],
)
def test_a_meeting_time_is_shown_with_its_local_weekday(app, utc, shown):
    with app.app_context():
        assert termin(utc) == shown
        assert termin(None) == "—"


@pytest.mark.parametrize(
    ("utc", "local"),
    [
        (datetime(2027, 1, 14, 8, 0), datetime(2027, 1, 14, 9, 0)),  # winter: UTC+1
        (datetime(2027, 7, 1, 7, 0), datetime(2027, 7, 1, 9, 0)),  # summer: UTC+2
        (datetime(2027, 3, 28, 0, 30), datetime(2027, 3, 28, 1, 30)),  # before the clocks go forward at 2:00
        (datetime(2027, 3, 28, 1, 30), datetime(2027, 3, 28, 3, 30)),  # after
    ],
)
def test_utc_and_local_time_convert_both_ways_across_summer_time(app, utc, local):
    with app.app_context():
        assert to_local(utc) == local
        assert to_utc(local) == utc
        assert datum(utc) == local.strftime("%d.%m.%Y %H:%M") and uhrzeit(utc) == local.strftime("%H:%M")


Y = datetime.now().year + 1  # a summer of the years ahead: new conferences cannot start in the past


def test_a_conference_typed_in_local_time_is_stored_in_utc_and_shown_and_mailed_in_local_time(scene, clients, query):
    ki = clients["KI"]
    form = conference_form(scene, start=f"{Y}-07-01T09:00", end=f"{Y}-07-01T11:30")
    resp = ki.post("/konferenzen/neu", data=form)
    assert resp.status_code == 302
    cid = int(resp.headers["Location"].rsplit("/", 1)[-1])
    stored = query(lambda: (db.session.get(Conference, cid).start, db.session.get(Conference, cid).end), commit=False)
    assert stored == (datetime(Y, 7, 1, 7, 0), datetime(Y, 7, 1, 9, 30))
    page = ki.get(f"/konferenzen/{cid}").get_data(as_text=True)
    assert f"01.07.{Y} 09:00 bis 11:30 Uhr" in page and "UTC" not in page
    assert f'value="{Y}-07-01T09:00"' in ki.get(f"/konferenzen/{cid}/bearbeiten").get_data(as_text=True)
    assert ki.post(f"/konferenzen/{cid}/status", data={"state": "eingeladen"}).status_code == 302
    body, ics = query(lambda: (lambda m: (m.body, m.ics))(db.session.query(OutboxMessage).first()), commit=False)
    assert f"01.07.{Y} 09:00 bis 11:30 Uhr" in body
    event = next(c for c in icalendar.Calendar.from_ical(ics).walk("VEVENT"))
    assert event.decoded("DTSTART").isoformat() == f"{Y}-07-01T07:00:00+00:00"  # calendars keep UTC


def test_the_api_keeps_utc_and_converts_a_given_offset(scene, clients, query):
    ki = clients["KI"]
    naive = ki.api(
        "POST", "/api/v1/conferences", json={"name": "API", "start": f"{Y}-07-02T07:00", "end": f"{Y}-07-02T08:00"}
    )
    offset = ki.api(
        "POST",
        "/api/v1/conferences",
        json={"name": "API mit Zeitzone", "start": f"{Y}-07-02T09:00+02:00", "end": f"{Y}-07-02T10:00+02:00"},
    )
    assert naive.status_code == offset.status_code == 201
    starts = query(
        lambda: [db.session.get(Conference, r.get_json()["id"]).start for r in (naive, offset)], commit=False
    )
    assert starts == [datetime(Y, 7, 2, 7, 0), datetime(Y, 7, 2, 7, 0)]


@pytest.mark.parametrize("name", ["Europe/Musterstadt", "../etc/passwd", ""])
def test_an_unknown_time_zone_refuses_to_start(monkeypatch, name):
    monkeypatch.setenv("FK_TIMEZONE", name)
    with pytest.raises(ConfigError, match="FK_TIMEZONE"):
        load_config()


def test_made_up_dates_fall_on_working_days():
    """The demo's conferences and poll slots: Monday to Friday, never between Christmas Eve and New Year's Day."""
    from datetime import date

    from agenda.demo import meeting_titles
    from fallkonferenz.localtime import working_day

    assert working_day(date(2026, 12, 2)) == date(2026, 12, 2)  # a Wednesday stays
    assert working_day(date(2026, 12, 5)) == date(2026, 12, 7)  # Saturday: the Monday after
    assert working_day(date(2026, 12, 6), -1) == date(2026, 12, 4)  # Sunday, going back: the Friday before
    assert working_day(date(2026, 12, 24)) == date(2027, 1, 4)  # the break, then a weekend
    assert working_day(date(2027, 1, 1), -1) == date(2026, 12, 23)
    # the demo's meetings are named after the months they fall in
    assert meeting_titles(date(2026, 12, 2)) == ("Fallkonferenz Oktober", "Fallkonferenz Dezember")
    assert meeting_titles(date(2027, 3, 10)) == ("Fallkonferenz Januar", "Fallkonferenz März")
