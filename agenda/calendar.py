"""iCalendar files (RFC 5545) for invitations, updates, cancellations and the private feed."""

from __future__ import annotations

from datetime import UTC, datetime

from icalendar import Calendar, Event, vCalAddress, vText

from fallkonferenz.models import User

from .models import Conference

PRODID = "-//Fallkonferenz//Fallkonferenz//DE"


def _utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=UTC)


def _address(user: User) -> vCalAddress:
    address = vCalAddress(f"mailto:{user.email or user.username + '@invalid'}")
    address.params["CN"] = vText(user.display_name)
    return address


def _event(conference: Conference, attendees: list[User], url: str, *, cancelled: bool = False) -> Event:
    """One VEVENT: title, time, place and link only – never a case number, name or case detail."""
    event = Event()
    event.add("uid", conference.ical_uid)
    event.add("sequence", conference.ical_sequence)
    event.add("dtstamp", datetime.now(UTC))
    event.add("dtstart", _utc(conference.start))
    event.add("dtend", _utc(conference.end))
    event.add("summary", conference.title)
    place = ", ".join(p for p in (conference.location, conference.video_link) if p)
    if place:
        event.add("location", place)
    event.add("url", url)
    # While a date poll runs, or before the invitations, the time is a placeholder: a calendar shows it as such.
    tentative = conference.polling or conference.state == "geplant"
    note = "Der Termin steht noch nicht fest (Terminumfrage läuft). " if conference.polling else ""
    event.add("description", f"{note}Tagesordnung und Unterlagen in Fallkonferenz: {url}")
    event.add("status", "CANCELLED" if cancelled else "TENTATIVE" if tentative else "CONFIRMED")
    event.add("organizer", _address(conference.moderator))
    for user in attendees:
        event.add("attendee", _address(user))
    return event


def invitation(conference: Conference, attendees: list[User], url: str, method: str = "REQUEST") -> str:
    """A calendar file for an invitation or update (REQUEST) or a cancellation (CANCEL); the UID stays."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add_component(_event(conference, attendees, url, cancelled=method == "CANCEL"))
    return cal.to_ical().decode()


def feed(conferences: list[Conference], url_for_conference) -> str:
    """A user's subscription feed of her conferences."""
    cal = Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    cal.add("x-wr-calname", "Fallkonferenz")
    for conference in conferences:
        cal.add_component(
            _event(conference, [], url_for_conference(conference), cancelled=conference.state == "abgesagt")
        )
    return cal.to_ical().decode()
