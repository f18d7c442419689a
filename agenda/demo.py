"""Demo conferences for Kreis Musterstadt: one past with decisions and tasks, one upcoming, one in a date poll."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from fallkonferenz.casecrypto import seal_text
from fallkonferenz.demo_data import CASES
from fallkonferenz.extensions import db
from fallkonferenz.localtime import at, working_day
from fallkonferenz.models import Case, User

from . import items, service
from .models import AgendaItem, Conference, Decision, Participant, Task

MONTHS = [
    "Januar",
    "Februar",
    "März",
    "April",
    "Mai",
    "Juni",
    "Juli",
    "August",
    "September",
    "Oktober",
    "November",
    "Dezember",
]
# Demo cases (by family name) on the agendas; the KI coordination sees each of them.
PAST_CASES = ("Amiri", "Tesfay")
UPCOMING_CASES = ("Amiri", "Tesfay", "Rahimi", "Yıldız")
CASE_WORKERS = ("jc.fallmanagement", "aa.beratung", "abh.sachbearbeitung", "ja.asd")
# What the October conference decided on each case, and who took on which task (days from today until due): each
# task with an agency of the case's team, which the case's consent lets see it.
PAST_RECORDS = {
    "Amiri": (
        "Federführung bleibt beim KI; die ABH meldet das Ergebnis der Passbeschaffung an alle Stellen.",
        [
            ("abh.sachbearbeitung", "Vorsprache beim Generalkonsulat vorbereiten und Ergebnis melden", 5),
            ("aa.beratung", "Klärung der Zugangsmöglichkeit zum Berufssprachkurs", 12),
        ],
    ),
    "Tesfay": (
        "Federführung bleibt beim JC; Kursbeginn mit Kinderbetreuung im Februar anstreben.",
        [
            ("ja.asd", "Platz in der Kindertagespflege prüfen und dem Jobcenter melden", -3),
            ("jc.fallmanagement", "Bescheid über die Fahrtkosten zum Integrationskurs erteilen", 9),
        ],
    ),
}


def meeting_days(today: date) -> tuple[date, date]:
    """The days of the demo's held case conference (about six weeks ago) and of its next one (in a week)."""
    return working_day(today - timedelta(days=45), -1), working_day(today + timedelta(days=7))


def meeting_title(day: date, series: str = "Fallkonferenz") -> str:
    """A conference's title after its month, as a coordinator names it: "Fallkonferenz Oktober"."""
    return f"{series} {MONTHS[day.month - 1]}"


def meeting_titles(today: date) -> tuple[str, str]:
    """The titles of the held and of the next demo conference (for the demos that build on them)."""
    held_on, next_on = meeting_days(today)
    return meeting_title(held_on), meeting_title(next_on)


def _case(family: str) -> Case | None:
    numbers = {spec["family_name"]: f"{i}" for i, spec in enumerate(CASES, start=1)}
    if family not in numbers:
        return None
    return db.session.scalar(select(Case).where(Case.seq == int(numbers[family])).order_by(Case.year.desc()))


def seed_conferences(today: date) -> None:
    """Seed through the services where a person would act, directly where it is history."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    ki = users["ki.koordination"]
    workers = [users[name] for name in CASE_WORKERS]

    # History: last conference's decisions and open tasks come back as Wiedervorlage.
    held_on, next_meeting = meeting_days(today)
    past_start = at(held_on, 9)
    past = Conference(
        title=meeting_title(held_on),
        start=past_start,
        end=past_start + timedelta(hours=3),
        location="Kreishaus Musterstadt, Raum 2.14",
        moderator_id=ki.id,
        state="beendet",
        participants=[Participant(user_id=u.id, response="zusage") for u in [ki, *workers]],
    )
    db.session.add(past)
    db.session.flush()
    for position, family in enumerate(PAST_CASES, start=1):
        case = _case(family)
        if case is None:
            continue
        item = AgendaItem(
            title="Fallbesprechung", kind="fallbesprechung", case_id=case.id, time_box=30, position=position
        )
        past.items.append(item)
        db.session.flush()
        decided, tasks = PAST_RECORDS[family]
        # case data, sealed under the case key as the minutes store it (each text set as its record is added)
        decision = Decision(agenda_item_id=item.id, case_id=case.id)
        db.session.add(decision)
        seal_text(decision, decided)
        for username, description, days in tasks:
            task = Task(
                agenda_item_id=item.id,
                case_id=case.id,
                responsible_agency_id=users[username].agency_id,
                responsible_user_id=users[username].id,
                due_date=today + timedelta(days=days),  # one overdue: "Meine Aufgaben" shows how that looks
            )
            db.session.add(task)
            seal_text(task, description)

    # Next month's case conference, invited, with case items and a general item.
    upcoming = service.create_conference(
        ki,
        service.ConferenceInput(
            title=meeting_title(next_meeting),
            kind="fallkonferenz",
            start=at(next_meeting, 9),
            end=at(next_meeting, 12),
            location="Kreishaus Musterstadt, Raum 2.14",
            video_link="https://video.kreis-musterstadt.example/fallkonferenz",
        ),
        [u.id for u in workers],
    )
    for family in UPCOMING_CASES:
        case = _case(family)
        if case is not None:
            items.add_item(
                ki, upcoming.id, items.ItemInput("Fallbesprechung", "fallbesprechung", 25, case.number), confirmed=True
            )
    items.add_item(ki, upcoming.id, items.ItemInput("Bericht aus der Lenkungsgruppe", "bericht", 15))
    items.add_item(ki, upcoming.id, items.ItemInput("Verschiedenes", "verschiedenes", 10))
    service.set_state(ki, upcoming.id, "eingeladen")

    # A transition conference still looking for a date: three working days about three weeks ahead.
    slots = [working_day(today + timedelta(days=20))]
    for _ in range(2):
        slots.append(working_day(slots[-1] + timedelta(days=1)))
    planned = service.create_conference(
        ki,
        service.ConferenceInput(
            title="Übergangskonferenz Jugendhilfe",
            kind="uebergangskonferenz",
            start=at(slots[1], 13),
            end=at(slots[1], 15),
            location="Jugendamt, Besprechungsraum 1",
        ),
        [users["ja.asd"].id, users["jc.fallmanagement"].id],
    )
    service.create_poll(
        ki,
        planned.id,
        [(at(day, 13), at(day, 15)) for day in slots],
    )
