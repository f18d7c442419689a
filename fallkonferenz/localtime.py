"""Local time. The database, the audit log, calendar files and the JSON API keep UTC; people read and type the time
of the place the agencies work in (`FK_TIMEZONE`, by default Europe/Berlin, summer time included)."""

from __future__ import annotations

import functools
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import current_app


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def zone() -> ZoneInfo:
    return _zone(current_app.config["TIMEZONE"])


def to_local(value: datetime) -> datetime:
    """A naive UTC time as the naive local time of the same moment."""
    return value.replace(tzinfo=UTC).astimezone(zone()).replace(tzinfo=None)


def to_utc(value: datetime) -> datetime:
    """A naive local time as naive UTC. A time that occurs twice (the hour summer time ends) is taken as the
    first; one that does not occur (the hour it begins) as the same clock time before the change."""
    return value.replace(tzinfo=zone()).astimezone(UTC).replace(tzinfo=None)


def local_date(value: datetime) -> date:
    """The calendar day a (naive UTC) moment falls on where the agencies are: a consent valid until the 30th
    grants until midnight local time, not until 23:00 or 22:00 of it."""
    return to_local(value).date()


def today() -> date:
    """Today's date where the agencies are (a task due "today" is not yet overdue at 00:30 local time)."""
    return local_date(datetime.now(UTC).replace(tzinfo=None))


def at(day: date, hour: int) -> datetime:
    """The (naive UTC) moment of `hour` o'clock local time on `day`."""
    return to_utc(datetime.combine(day, time(hour, 0)))


def working_day(day: date, step: int = 1) -> date:
    """`day`, or the nearest day after it (`step` 1) or before it (-1) on which agencies meet: Monday to Friday,
    not between Christmas Eve and New Year's Day. For dates made up (demo conferences, a poll's slots)."""
    while day.weekday() >= 5 or (day.month, day.day) >= (12, 24) or (day.month, day.day) == (1, 1):
        day += timedelta(days=step)
    return day


def datum(value) -> str:
    """A date, or a UTC time in local time, written the German way; an ISO date as text (a decrypted field) too."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, datetime):
        return to_local(value).strftime("%d.%m.%Y %H:%M")
    return value.strftime("%d.%m.%Y")


def uhrzeit(value: datetime | None) -> str:
    """The local clock time (HH:MM) of a UTC time."""
    return "—" if value is None else to_local(value).strftime("%H:%M")


def tag(value: datetime | date | None) -> str:
    """The local date of a UTC time (or a date), written the German way."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        value = to_local(value)
    return value.strftime("%d.%m.%Y")


WEEKDAYS = ("Mo.", "Di.", "Mi.", "Do.", "Fr.", "Sa.", "So.")  # fixed: no locale of the machine decides


def termin(value: datetime | None) -> str:
    """When a meeting takes place, with the weekday, as people weigh a date against their week: "Di., 10.03.2026
    10:00" (local time)."""
    return "—" if value is None else f"{WEEKDAYS[local_date(value).weekday()]}, {datum(value)}"


def register(app) -> None:
    """Give the templates the filters (the configuration has checked the time zone)."""
    for f in (datum, termin, uhrzeit, tag, local_date):
        app.add_template_filter(f)
    app.add_template_global(today)
