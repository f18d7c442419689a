"""Demo backlog for Kreis Musterstadt: structural problems from the case conferences in every state, a working
group with a status report, an adopted recommendation with one agency overdue, and the next Lenkungsgruppe-Sitzung.

Everything a person would do goes through the services, so the de-identification guard checks every text; only
the dates are moved into the past afterwards, as history.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from agenda import service as agenda_service
from agenda.demo import meeting_title, meeting_titles
from agenda.models import AgendaItem, Conference
from fallkonferenz.demo_data import CASES
from fallkonferenz.extensions import db
from fallkonferenz.localtime import at, working_day
from fallkonferenz.models import Case, User

from . import service
from .models import DECIDED_STATES, Escalation

STEERING = {"KI": "lenkung.vorsitz", "JC": "lenkung.jc", "AA": "lenkung.aa", "ABH": "lenkung.abh", "JA": "lenkung.ja"}
WORKERS = {
    "KI": "ki.koordination",
    "JC": "jc.fallmanagement",
    "AA": "aa.beratung",
    "ABH": "abh.sachbearbeitung",
    "JA": "ja.asd",
}

# key: (raised by, from the agenda item of (family name | "Verschiedenes"), days ago, input)
ESCALATIONS = {
    "duldung_kurs": (
        "ABH",
        "Amiri",
        96,
        service.EscalationInput(
            title="Integrationskurs für Geduldete faktisch nicht erreichbar",
            description=(
                "Junge Geduldete mit Arbeitsmarktzugang bekommen keinen Platz im Integrationskurs, weil die Zulassung "
                "durch das BAMF nur auf Antrag und nach freien Plätzen erfolgt. Ohne Sprachkurs scheitert der Übergang "
                "in Ausbildung; in den Fallkonferenzen taucht das Problem fast jeden Monat auf."
            ),
            category="rechtslage",
            rechtskreise=["AufenthG", "SGB II", "SGB III"],
            agencies=["ABH", "JC", "AA", "KI"],
            proposed_solution=(
                "Zulassungsanträge nach § 44 Abs. 4 AufenthG gebündelt stellen; die Ausländerbehörde weist bei jeder "
                "Verlängerung der Duldung auf den Kurs hin."
            ),
        ),
    ),
    "duldung_doppelt": (
        "AA",
        "Amiri",
        90,
        service.EscalationInput(
            title="Kein Sprachkurs bei Duldung",
            description="Geduldete warten monatelang auf einen Kursplatz; die Zulassung ist unklar geregelt.",
            category="angebot_sprache",
            rechtskreise=["AufenthG"],
            agencies=["ABH", "KI"],
        ),
    ),
    "wohnsitzauflage": (
        "AA",
        "Amiri",
        80,
        service.EscalationInput(
            title="Wohnsitzauflage verhindert Ausbildungsplatz im Nachbarkreis",
            description=(
                "Ausbildungsbetriebe im Nachbarkreis sagen zu, die Wohnsitzauflage bindet die Bewerberinnen und "
                "Bewerber aber an den Kreis. Die Aufhebung dauert länger als die Zusage des Betriebs gilt."
            ),
            category="zustaendigkeit",
            rechtskreise=["AufenthG", "SGB III"],
            agencies=["ABH", "AA"],
            proposed_solution="Ein abgestimmtes Eilverfahren zwischen den Ausländerbehörden beider Kreise.",
        ),
    ),
    "kinderbetreuung": (
        "JC",
        "Tesfay",
        64,
        service.EscalationInput(
            title="Keine Kinderbetreuung während des Integrationskurses",
            description=(
                "Junge Mütter können den Integrationskurs nicht besuchen, weil es keine kursbegleitende "
                "Kinderbetreuung gibt und die Kita-Plätze im Kreis ausgelastet sind."
            ),
            category="angebot_kinderbetreuung",
            rechtskreise=["SGB II", "SGB VIII"],
            agencies=["JC", "JA", "KI"],
            proposed_solution="Kurse mit paralleler Kinderbetreuung bei der Volkshochschule einrichten.",
        ),
    ),
    "wartezeiten_abh": (
        "ABH",
        "Amiri",
        55,
        service.EscalationInput(
            title="Lange Wartezeiten auf Termine bei der Ausländerbehörde",
            description=(
                "Termine zur Verlängerung oder Änderung des Aufenthaltstitels sind erst nach mehreren Monaten frei. "
                "Solange fehlt die Erlaubnis zur Beschäftigung; Arbeits- und Ausbildungsangebote verfallen."
            ),
            category="wartezeiten",
            rechtskreise=["AufenthG"],
            agencies=["ABH"],
            proposed_solution="Ein Terminkontingent für Fälle mit Arbeits- oder Ausbildungsangebot.",
        ),
    ),
    "datenaustausch": (
        "JC",
        "Verschiedenes",
        47,
        service.EscalationInput(
            title="Kein geregelter Datenaustausch zwischen Jobcenter und Ausländerbehörde",
            description=(
                "Änderungen des Aufenthaltsstatus erreichen das Jobcenter nur über die Leistungsberechtigten selbst. "
                "Leistungen werden dadurch zu spät angepasst oder eingestellt."
            ),
            category="datenaustausch",
            rechtskreise=["SGB II", "AufenthG"],
            agencies=["JC", "ABH"],
            proposed_solution="Eine gemeinsame Verfahrensabsprache mit Einwilligungsvorlage und festem Meldeweg.",
        ),
    ),
    "mobilitaet": (
        "AA",
        "Amiri",
        30,
        service.EscalationInput(
            title="Kein bezahlbares Ticket zum Ausbildungsbetrieb im ländlichen Raum",
            description=(
                "Ausbildungsplätze in den Gemeinden am Kreisrand sind mit dem Bus nur mit zweimaligem Umsteigen "
                "erreichbar; ein Monatsticket übersteigt die Ausbildungsvergütung im ersten Jahr deutlich."
            ),
            category="angebot_mobilitaet",
            rechtskreise=["SGB II", "SGB III"],
            agencies=["JC", "AA", "KI"],
        ),
    ),
    "anerkennung": (
        "AA",
        "Verschiedenes",
        21,
        service.EscalationInput(
            title="Anerkennung ausländischer Berufsabschlüsse dauert über ein Jahr",
            description=(
                "Anerkennungsverfahren für Berufsabschlüsse dauern oft länger als ein Jahr; in der Zwischenzeit "
                "arbeiten Fachkräfte als Helferinnen und Helfer."
            ),
            category="wartezeiten",
            rechtskreise=["SGB II", "SGB III"],
            agencies=["AA", "JC"],
        ),
    ),
    "uebergang_18": (
        "JA",
        "Tesfay",
        12,
        service.EscalationInput(
            title="Übergang aus der Jugendhilfe mit 18: Zuständigkeit ungeklärt",
            description=(
                "Endet die Hilfe zur Erziehung mit der Volljährigkeit, ist oft ungeklärt, wer die Begleitung in "
                "Ausbildung übernimmt. Zwischen Jugendamt und Jobcenter entstehen Lücken von mehreren Wochen."
            ),
            category="zustaendigkeit",
            rechtskreise=["SGB VIII", "SGB II"],
            agencies=["JA", "JC"],
            proposed_solution="Übergangskonferenz spätestens sechs Monate vor dem Ende der Hilfe.",
        ),
    ),
    "wohnraum": (
        "JC",
        "Verschiedenes",
        70,
        service.EscalationInput(
            title="Fehlender Wohnraum für Auszubildende",
            description="Auszubildende finden nach dem Auszug aus der Gemeinschaftsunterkunft keine Wohnung.",
            category="angebot_wohnen",
            rechtskreise=["SGB II"],
            agencies=["JC", "KI"],
        ),
    ),
    "dolmetschen": (
        "JA",
        "Tesfay",
        120,
        service.EscalationInput(
            title="Dolmetschkosten in Beratungsgesprächen nicht geregelt",
            description=(
                "Für Beratungsgespräche mit Sprachmittlung ist nicht geklärt, welche Stelle die Kosten trägt; "
                "Gespräche werden deshalb verschoben oder ohne Sprachmittlung geführt."
            ),
            category="ressourcen",
            rechtskreise=["SGB II", "SGB III", "SGB VIII"],
            agencies=["JC", "AA", "JA"],
            proposed_solution="Ein gemeinsamer Pool für Sprachmittlung mit fester Kostenteilung.",
        ),
    ),
}

# Further cases the problem also affects: key → [(agency of the case worker, family name)]
JOINS = {
    "duldung_kurs": [("JC", "Tesfay")],
    "kinderbetreuung": [("KI", "Yıldız")],
    "wartezeiten_abh": [("KI", "Yıldız"), ("JC", "Tesfay")],
    "mobilitaet": [("JC", "Tesfay")],
}


def _case_id(family: str) -> int | None:
    seq = next((i for i, spec in enumerate(CASES, start=1) if spec["family_name"] == family), None)
    if seq is None:
        return None
    return db.session.scalar(select(Case.id).where(Case.seq == seq).order_by(Case.year.desc()))


def _items(conference: Conference) -> dict[str, int]:
    """Agenda item id by the family name of its case, and "Verschiedenes" for the general item."""
    by_case = {_case_id(spec["family_name"]): spec["family_name"] for spec in CASES}
    out = {}
    for item in db.session.scalars(select(AgendaItem).where(AgendaItem.conference_id == conference.id)):
        if item.case_id in by_case:
            out[by_case[item.case_id]] = item.id
        elif item.kind == "verschiedenes":
            out["Verschiedenes"] = item.id
    return out


STEERING_SERIES = "Lenkungsgruppe Integration"


def steering_meeting_day(today: date) -> date:
    """The day of the demo's next Lenkungsgruppe-Sitzung: a working day two weeks ahead."""
    return working_day(today + timedelta(days=14))


def seed_backlog(today: date) -> None:
    """Seed the backlog on top of the demo conferences (skipped if they are missing)."""
    users = {u.username: u for u in db.session.scalars(select(User))}
    conference = db.session.scalar(select(Conference).where(Conference.title == meeting_titles(today)[1]))
    if conference is None or any(name not in users for name in [*STEERING.values(), *WORKERS.values()]):
        return
    items = _items(conference)
    worker = {code: users[name] for code, name in WORKERS.items()}
    steer = {code: users[name] for code, name in STEERING.items()}
    chair = steer["KI"]

    made: dict[str, Escalation] = {}
    oldest_first = sorted(ESCALATIONS.items(), key=lambda kv: -kv[1][2])  # references follow the dates
    for key, (code, source, _days, data) in oldest_first:
        if source in items:
            made[key] = service.escalate(worker[code], data, items[source])
    for key, joins in JOINS.items():
        for code, family in joins:
            if key in made and family in items:
                service.join(worker[code], made[key].id, items[family])

    def triage(key: str, priority: int) -> Escalation:
        e = made[key]
        return service.triage(chair, e.id, e.version, priority)

    def move(key: str, state: str, **kw) -> Escalation:
        e = made[key]
        return service.transition(chair, e.id, state, e.version, **kw)

    # Adopted and being implemented: one agency is late.
    triage("duldung_kurs", 1)
    service.merge(
        chair, made["duldung_doppelt"].id, made["duldung_kurs"].id, made["duldung_doppelt"].version, "Doppelmeldung"
    )
    move("duldung_kurs", "tagesordnung")
    e = made["duldung_kurs"]
    rec = service.adopt(
        chair,
        e.id,
        e.version,
        "Jede Stelle prüft bei jungen Geduldeten mit Arbeitsmarktzugang den Kurszugang und stellt den "
        "Zulassungsantrag; die Ausländerbehörde legt der Duldung ein Merkblatt zum Integrationskurs bei.",
        today + timedelta(days=30),
    )
    status = {
        "KI": ("umgesetzt", ""),
        "JC": ("umgesetzt", ""),
        "AA": ("umgesetzt", ""),
        "ABH": ("in_arbeit", "Das Merkblatt ist im Druck."),
        "JA": ("nicht_umsetzbar", "Das Jugendamt stellt keine Zulassungsanträge; es informiert die Vormundschaften."),
    }
    for impl in rec.implementations:
        state, reason = status[impl.agency.code]
        service.update_implementation(steer[impl.agency.code], impl.id, state, reason, impl.version)

    # Adopted and fully implemented.
    triage("dolmetschen", 2)
    move("dolmetschen", "tagesordnung")
    e = made["dolmetschen"]
    done = service.adopt(
        chair,
        e.id,
        e.version,
        "Die Stellen richten einen gemeinsamen Pool für Sprachmittlung ein; die Kosten teilen sie nach Fallzahlen.",
        today + timedelta(days=10),
    )
    for impl in done.implementations:
        service.update_implementation(steer[impl.agency.code], impl.id, "umgesetzt", "", impl.version)

    # A working group on the Wohnsitzauflage, with a first status report.
    group = service.create_group(
        chair,
        service.GroupInput(
            name="Wohnsitzauflage und Ausbildung",
            mandate=(
                "Ein Verfahren mit den Nachbarkreisen abstimmen, mit dem eine Wohnsitzauflage für einen "
                "Ausbildungsplatz innerhalb von zwei Wochen geändert werden kann."
            ),
            lead_id=steer["ABH"].id,
            due_date=today + timedelta(days=45),
            member_ids=[steer["AA"].id, worker["ABH"].id, worker["AA"].id, worker["JC"].id],
        ),
    )
    triage("wohnsitzauflage", 1)
    move("wohnsitzauflage", "tagesordnung")
    move("wohnsitzauflage", "arbeitsgruppe", working_group_id=group.id)
    service.add_report(
        worker["ABH"],
        group.id,
        "Erstes Treffen mit den Ausländerbehörden der beiden Nachbarkreise. Eine Musterabsprache liegt im Entwurf vor; "
        "offen ist, wer die Zustimmung des aufnehmenden Kreises einholt.",
    )

    # Triaged, rejected, and fresh items.
    triage("kinderbetreuung", 1)
    triage("wartezeiten_abh", 2)
    triage("datenaustausch", 2)
    move(  # rejected at first sight: not the steering group's to solve
        "wohnraum",
        "abgelehnt",
        reason="Die Wohnraumversorgung liegt beim Kreissozialamt; das Thema ist an den Sozialausschuss verwiesen.",
    )

    # The next Lenkungsgruppe-Sitzung with two items on its agenda; the others wait in the proposal.
    meeting_day = steering_meeting_day(today)
    meeting = agenda_service.create_conference(
        chair,
        agenda_service.ConferenceInput(
            title=meeting_title(meeting_day, STEERING_SERIES),
            kind="lenkungsgruppe",
            start=at(meeting_day, 10),
            end=at(meeting_day, 12),
            location="Kreishaus Musterstadt, Sitzungssaal",
        ),
        [u.id for code, u in steer.items() if code != "KI"],
    )
    service.put_on_agenda(chair, meeting.id, [made["kinderbetreuung"].id, made["wartezeiten_abh"].id], 20)
    agenda_service.set_state(chair, meeting.id, "eingeladen")

    for key, (_code, _source, days, _data) in ESCALATIONS.items():
        if key in made:
            _backdate(made[key], today, days)
    for key in ("duldung_kurs", "dolmetschen"):
        escalation = made[key]
        recommendation = service.recommendation_of(escalation.id)
        recommendation.adopted_on = escalation.decided_at.date()
        _spread_reports(escalation, recommendation, today)
    # The first recommendation's deadline has passed: the ABH's implementation is overdue.
    service.recommendation_of(made["duldung_kurs"].id).due_date = today - timedelta(days=14)


def _backdate(escalation: Escalation, today: date, days_ago: int) -> None:
    """Spread an item's history over the working days since it was raised (history, so set directly): each step
    in office hours, one after the other."""
    steps = service.history(escalation.id)
    last = max(1, len(steps) - 1)
    moments, previous = [], None
    for index in range(max(1, len(steps))):
        day = today - timedelta(days=days_ago) + timedelta(days=round(days_ago * 0.8 * index / last))
        day = min(working_day(day), today)
        moment = at(day, 9) + timedelta(minutes=(97 * index + 13 * escalation.id) % 420)  # 9:00 to 16:00
        if previous is not None and moment <= previous:
            moment = previous + timedelta(minutes=25)
        moments.append(previous := moment)
    escalation.created_at = moments[0]
    decided = implemented = None
    for step, moment in zip(steps, moments, strict=False):
        step.at = moment
        if step.to_state in DECIDED_STATES and decided is None:
            decided = step.at
        if step.to_state == "umgesetzt":
            implemented = step.at
    escalation.updated_at = moments[-1]
    escalation.decided_at = decided
    escalation.implemented_at = implemented
    db.session.flush()


def _spread_reports(escalation: Escalation, recommendation, today: date) -> None:
    """Each agency reported its implementation on a day of its own (history, so set directly): the first when the
    item went into implementation, the last when it was done (or, still under way, a few days ago), the others on
    working days between."""
    steps = service.history(escalation.id)
    started = next((t.at for t in steps if t.to_state == "umsetzung"), escalation.decided_at)
    reports = sorted(recommendation.implementations, key=lambda i: i.agency_id)  # the order they were reported in
    end = escalation.implemented_at or max(started, at(working_day(today - timedelta(days=3), -1), 14))
    last = max(1, len(reports) - 1)
    for index, impl in enumerate(reports):
        moment = started + (end - started) * index / last
        if 0 < index < last:
            moment = at(working_day(moment.date()), 9) + timedelta(minutes=(71 * index + 13 * impl.agency_id) % 420)
            moment = min(max(moment, started), end)
        impl.updated_at = moment
