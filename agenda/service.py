"""Conference operations: planning, date polls, invitations, responses, reminders, calendar feed."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, bindparam, or_, select, union
from sqlalchemy.orm import selectinload

from consent.policy import may_manage_users, may_plan_conferences, may_see_conference, viewer_of
from fallkonferenz import audit, mail
from fallkonferenz.auth.service import user_names
from fallkonferenz.casecrypto import keyring
from fallkonferenz.cases.service import clients_named_in
from fallkonferenz.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound, db_id
from fallkonferenz.extensions import db
from fallkonferenz.localtime import datum, local_date, termin, today, uhrzeit
from fallkonferenz.models import CaseNameToken, User, utcnow
from fallkonferenz.vocab import CASE_NUMBER_RE, CASE_ROLES

from . import calendar
from .models import (
    KINDS,
    OPEN_STATES,
    OVER_STATES,
    POLL_ANSWERS,
    RESPONSES,
    STATES,
    CalendarToken,
    Conference,
    DatePoll,
    Participant,
    PollAnswer,
    PollSlot,
    has_begun,
)

MAX_HOURS = 12
MAX_YEARS_AHEAD = 5  # a date further ahead is a typing error (and would overflow the timetable)


class InvalidTransition(DomainError):
    status = 409
    message = "Dieser Statuswechsel ist nicht möglich."


@dataclass
class ConferenceInput:
    title: str
    kind: str
    start: datetime
    end: datetime
    location: str = ""
    video_link: str = ""


def now() -> datetime:
    return utcnow()


def conference_url(conference: Conference) -> str:
    return f"{current_app.config['BASE_URL'].rstrip('/')}/konferenzen/{conference.id}"


# -- loading and checks ----------------------------------------------------------------------------------


def load_conference(actor: User, conference_id: int) -> Conference:
    """The conference if the actor may see it; 404 otherwise, so its existence does not leak."""
    conference = db.session.get(Conference, conference_id)
    if conference is None:
        raise NotFound("Konferenz nicht gefunden.")
    ids = [p.user_id for p in conference.participants if p.active]  # a replaced person no longer takes part
    if not may_see_conference(viewer_of(actor), conference.moderator_id, ids):
        raise NotFound("Konferenz nicht gefunden.")
    return conference


def load_moderated(actor: User, conference_id: int) -> Conference:
    """The conference if the actor moderates it; participants get 403, everyone else 404."""
    conference = load_conference(actor, conference_id)
    if conference.moderator_id != actor.id:
        raise Forbidden("Nur die Moderation kann die Konferenz ändern.")
    return _not_over(conference, " und kann nicht mehr geändert werden")


def _not_over(conference: Conference, why: str = "") -> Conference:
    if conference.state in OVER_STATES:
        raise Conflict(f"Die Konferenz ist beendet oder abgesagt{why}.")
    return conference


def check_times(start: datetime, end: datetime, *, new: bool, field: str = "start", end_field: str = "end") -> None:
    errors = {}
    if end <= start:
        errors[end_field] = "Das Ende muss nach dem Beginn liegen."
    elif end - start > timedelta(hours=MAX_HOURS):
        errors[end_field] = f"Eine Konferenz dauert höchstens {MAX_HOURS} Stunden."
    if new and has_begun(start):
        errors[field] = "Der Beginn darf nicht in der Vergangenheit liegen."
    elif start.year > now().year + MAX_YEARS_AHEAD:
        errors[field] = f"Der Beginn darf höchstens {MAX_YEARS_AHEAD} Jahre in der Zukunft liegen."
    if errors:
        raise InvalidInput(errors=errors)


def case_data_in(text: str, actor: User | None, case_ids=()) -> str | None:
    """What the text names of a case, as the object of "darf … nicht enthalten", or None.

    For text that goes to every participant in e-mails and calendar files (a conference's title and place, the
    reason of a cancellation, a general item's title): no case number, and no client name of a case whose master
    data the author's agency sees (the lead agency, or a consent for Stammdaten). Names of other cases are not
    looked at, the conference's own included: a refusal would tell her that such a client exists. Without an
    author (a check the system makes), the names of the given cases."""
    if CASE_NUMBER_RE.search(text or ""):
        return "keine Fallnummer"
    if actor is not None:
        hit = clients_named_in(text, actor, limit=1)
    else:
        tokens = list(keyring().blind_tokens(text or "", prefixes=False))
        hit = tokens and db.session.scalar(
            select(CaseNameToken.case_id)
            .where(CaseNameToken.token.in_(tokens), CaseNameToken.case_id.in_(list(case_ids)))
            .limit(1)
        )
    return "keinen Namen einer Klientin/eines Klienten" if hit else None


def check_no_case_data(
    field: str, label: str, text: str, actor: User, why: str = "er steht in E-Mails und Kalendern"
) -> None:
    """Refuse the author's text if it names a case (see `case_data_in`), saying what the field is and why."""
    found = case_data_in(text, actor)
    if found:
        raise InvalidInput(errors={field: f"{label} darf {found} enthalten ({why})."})


def check_one_line(field: str, label: str, text: str) -> None:
    """Text that becomes an e-mail subject or a calendar line: no line breaks, no control characters (a line
    break in a header would stop the mail, or add headers)."""
    if text and not text.isprintable():
        raise InvalidInput(errors={field: f"{label} darf keine Zeilenumbrüche oder Steuerzeichen enthalten."})


def check_title(title: str, actor: User, limit: int = 200, why: str = "er steht in E-Mails und Kalendern") -> str:
    """Conference titles (and general items' titles) go into e-mails and calendars: no case numbers, no client
    names."""
    title = (title or "").strip()
    if not title:
        raise InvalidInput(errors={"title": "Bitte geben Sie einen Titel an."})
    if len(title) > limit:
        raise InvalidInput(errors={"title": f"Höchstens {limit} Zeichen."})
    check_one_line("title", "Der Titel", title)
    check_no_case_data("title", "Der Titel", title, actor, why)
    return title


def _check_input(data: ConferenceInput, actor: User, *, new: bool) -> None:
    """Every field's check, and a refusal that names the problems of all fields at once (one round of
    corrections, not one per field)."""

    def kind():
        if data.kind not in KINDS:
            raise InvalidInput(errors={"kind": "Unbekannte Art der Konferenz."})

    def location():
        if len(data.location) > 300:
            raise InvalidInput(errors={"location": "Der Ort ist zu lang (höchstens 300 Zeichen)."})
        check_one_line("location", "Der Ort", data.location)
        check_no_case_data("location", "Der Ort", data.location, actor)

    def video_link():
        if len(data.video_link) > 500:
            raise InvalidInput(errors={"video_link": "Der Videolink ist zu lang (höchstens 500 Zeichen)."})
        check_one_line("video_link", "Der Videolink", data.video_link)
        if data.video_link and not data.video_link.startswith(("https://", "http://")):
            raise InvalidInput(errors={"video_link": "Der Videolink muss mit https:// beginnen."})
        check_no_case_data("video_link", "Der Videolink", data.video_link, actor)

    def title():
        check_title(data.title, actor)

    def times():
        check_times(data.start, data.end, new=new)

    errors: dict[str, str] = {}
    for check in (kind, title, times, location, video_link):
        errors |= _refusals(check)
    if errors:
        raise InvalidInput(errors=errors)


def _refusals(check) -> dict[str, str]:
    """The errors a check refuses with (none if it passes)."""
    try:
        check()
    except InvalidInput as exc:
        return exc.errors or {"": exc.message}
    return {}


def may_take_part(user: User, kind: str) -> bool:
    """Case workers and moderators take part in every kind of conference, steering members in Lenkungsgruppe-
    Sitzungen only. The data-protection officer and the administrators never: they read no minutes, approve
    none and take no tasks."""
    if user.role == "steering":
        return kind == "lenkungsgruppe"
    return user.role in CASE_ROLES


def invitable(conference: Conference, people) -> list[User]:
    """Of these active accounts, who can still be invited: may take part in this kind of conference and is not
    taking part already."""
    present = {p.user_id for p in conference.participants}
    return [u for u in people if u.id not in present and may_take_part(u, conference.kind)]


def substitutes(actor: User, conference: Conference, people) -> list[User]:
    """Of these active accounts, who can stand in for the actor: an invitable colleague of her agency."""
    return [u for u in invitable(conference, people) if u.agency_id == actor.agency_id]


def _active_users(user_ids, kind: str) -> list[User]:
    ids = {int(i) for i in user_ids}
    users = db.session.scalars(select(User).where(User.id.in_(ids))).all() if ids else []
    found = {u.id for u in users}
    if found != ids:
        raise InvalidInput(errors={"participants": "Unbekannte Person in der Teilnehmerliste."})
    inactive = [u.display_name for u in users if not u.active or not u.agency.active]
    if inactive:
        raise InvalidInput(
            errors={"participants": "Deaktiviertes Konto kann nicht eingeladen werden: " + ", ".join(inactive)}
        )
    barred = sorted((u for u in users if not may_take_part(u, kind)), key=lambda u: u.display_name)
    if barred:
        why = []
        if steering := ", ".join(u.display_name for u in barred if u.role == "steering"):
            why.append(f"Mitglieder der Lenkungsgruppe nehmen nur an Lenkungsgruppe-Sitzungen teil: {steering}.")
        if others := ", ".join(u.display_name for u in barred if u.role != "steering"):
            why.append(f"Datenschutz und Administration nehmen nicht an Konferenzen teil: {others}.")
        raise InvalidInput(errors={"participants": " ".join(why)})
    return list(users)


# -- conferences ----------------------------------------------------------------------------------------


def create_conference(actor: User, data: ConferenceInput, participant_ids=()) -> Conference:
    """Plan a conference; the moderator takes part, the others are invited later (or through a poll)."""
    if not may_plan_conferences(viewer_of(actor), data.kind):
        raise Forbidden("Konferenzen plant die Moderation; die Lenkungsgruppe plant nur ihre eigenen Sitzungen.")
    _check_input(data, actor, new=True)
    conference = Conference(
        title=data.title.strip(),
        kind=data.kind,
        start=data.start,
        end=data.end,
        location=data.location.strip(),
        video_link=data.video_link.strip(),
        moderator_id=actor.id,
    )
    users = _active_users(set(participant_ids) | {actor.id}, data.kind)  # before anything is added
    db.session.add(conference)
    # the moderator's own seat is taken: she planned it (she answers otherwise, or hands the conference over)
    conference.participants = [
        Participant(user_id=u.id, response="zusage" if u.id == actor.id else "offen") for u in users
    ]
    db.session.flush()
    audit.record("conference.create", actor=actor, detail={"conference": conference.id})
    return conference


def update_conference(actor: User, conference_id: int, data: ConferenceInput) -> Conference:
    """Change title, time or place; invited people get an update with the same UID and a higher SEQUENCE."""
    conference = load_moderated(actor, conference_id)
    _check_input(data, actor, new=data.start != conference.start)
    if (conference.kind == "lenkungsgruppe") != (data.kind == "lenkungsgruppe"):
        # A steering meeting holds no case data, a case conference no backlog items: the kind stays on its side.
        raise InvalidInput(
            errors={"kind": "Eine Lenkungsgruppe-Sitzung und eine Fallkonferenz tauschen die Art nicht."}
        )
    conference.title, conference.kind = data.title.strip(), data.kind
    conference.start, conference.end = data.start, data.end
    conference.location, conference.video_link = data.location.strip(), data.video_link.strip()
    conference.updated_at = now()
    conference.ical_sequence += 1  # also unsent: a calendar file or feed may have the earlier version
    if conference.state == "eingeladen":
        _notify(conference, active_participants(conference), "Geändert")
        conference.agenda_announced_version = conference.agenda_version  # the mail names the agenda as it is
    audit.record("conference.update", actor=actor, detail={"conference": conference.id})
    return conference


def active_participants(conference: Conference) -> list[User]:
    return [p.user for p in conference.participants if p.active]


def set_state(actor: User, conference_id: int, state: str, reason: str = "") -> Conference:
    """Move the meeting state along geplant → eingeladen → läuft → beendet, or cancel it."""
    conference = load_conference(actor, conference_id)
    if conference.moderator_id != actor.id:
        raise Forbidden("Nur die Moderation kann den Status ändern.")
    if state not in STATES or not conference.can_move_to(state):
        raise InvalidTransition(f"Von „{STATES[conference.state]}“ geht es nicht nach „{STATES.get(state, state)}“.")
    if state == "abgesagt":
        reason = (reason or "").strip()
        if not reason or len(reason) > 1000:
            raise InvalidInput(
                errors={"reason": "Bitte geben Sie einen Grund für die Absage an (höchstens 1000 Zeichen)."}
            )
        check_no_case_data("reason", "Der Grund", reason, actor)
        conference.cancel_reason = reason
        if conference.state == "eingeladen":
            _notify(conference, active_participants(conference), "Abgesagt", method="CANCEL")
        elif conference.polling:  # those asked for their dates would wait for a date that never comes
            _notify(conference, [u for u in active_participants(conference) if u.id != actor.id], "Abgesagt", ics=False)
    if state == "eingeladen" and conference.polling:
        raise Conflict("Die Terminumfrage läuft noch: mit dem Festlegen eines Termins werden alle eingeladen.")
    conference.state = state
    if state == "eingeladen":
        _invite(conference, active_participants(conference))  # in the new state: its calendar files are firm
        conference.agenda_announced_version = conference.agenda_version
    conference.updated_at = now()
    audit.record("conference.state", actor=actor, detail={"conference": conference.id, "state": state})
    return conference


def _invite(conference: Conference, users: list[User]) -> None:
    stamp = now()
    for p in conference.participants:
        if p.user_id in {u.id for u in users}:
            p.invited_at = stamp
    _notify(conference, users, "Einladung")


def announce_agenda(actor: User, conference_id: int) -> int:
    """Tell the invited people that the agenda changed since they heard of it last; returns how many were told.

    The e-mail says that it changed and how many items it has, as every conference e-mail does: never which
    cases. The moderator, who changed it, is not told."""
    conference = load_moderated(actor, conference_id)
    if conference.state != "eingeladen":
        raise Conflict(
            "Benachrichtigen lässt sich erst nach der Einladung: bis dahin erfahren die Teilnehmenden "
            "die Tagesordnung mit ihr."
        )
    if not conference.agenda_changed_since_notice:
        raise Conflict("Die Teilnehmenden kennen die Tagesordnung schon so, wie sie jetzt ist.")
    users = [u for u in active_participants(conference) if u.id != actor.id]
    sent = _notify(conference, users, "Tagesordnung", ics=False)
    conference.agenda_announced_version = conference.agenda_version
    audit.record(
        "conference.agenda_notice",
        actor=actor,
        detail={"conference": conference.id, "agenda_version": conference.agenda_version, "to": [u.id for u in users]},
    )
    return sent


def add_participants(actor: User, conference_id: int, user_ids) -> list[str]:
    """Invite more people; returns overlap warnings the moderator may read."""
    conference = load_moderated(actor, conference_id)
    present = {p.user_id for p in conference.participants}
    users = [u for u in _active_users(user_ids, conference.kind) if u.id not in present]
    for user in users:
        conference.participants.append(Participant(user_id=user.id))
    db.session.flush()
    if conference.state == "eingeladen" and users:
        _invite(conference, users)
    audit.record(
        "conference.participants", actor=actor, detail={"conference": conference.id, "added": [u.id for u in users]}
    )
    return overlaps(actor, conference, [u.id for u in users])


def successors(conference: Conference, people) -> list[User]:
    """Of these active accounts, who can take the moderation over: a colleague of the moderator's agency who may
    plan this kind of conference, and has not handed her seat to someone else."""
    replaced = {p.user_id for p in conference.participants if not p.active}
    return [
        u
        for u in people
        if u.id != conference.moderator_id
        and u.id not in replaced
        and u.agency_id == conference.moderator.agency_id
        and u.active
        and u.agency.active
        and may_plan_conferences(viewer_of(u), conference.kind)
    ]


def hand_over(actor: User, conference_id: int, successor_id: int | None) -> User:
    """The moderation passes to a colleague (illness, holiday, a move): by the moderator herself, or by the
    administration when she cannot. The successor takes part from now on (invited, if the others are); the
    previous moderator stays a participant. Both learn of it by e-mail."""
    if may_manage_users(viewer_of(actor)):  # the administration sees titles and times, never the agenda
        conference = db.session.get(Conference, conference_id)
        if conference is None:
            raise NotFound("Konferenz nicht gefunden.")
        _not_over(conference, " und kann nicht mehr geändert werden")
    else:
        conference = load_moderated(actor, conference_id)
    successor = db.session.get(User, successor_id) if db_id(successor_id) else None
    if successor is None or not successors(conference, [successor]):
        raise InvalidInput(
            errors={
                "successor": "Übergeben wird an eine Kollegin oder einen Kollegen derselben Stelle, die oder der "
                "Konferenzen moderieren darf."
            }
        )
    previous = conference.moderator
    seat = next((p for p in conference.participants if p.user_id == successor.id), None)
    if seat is None:
        seat = Participant(user_id=successor.id)
        conference.participants.append(seat)
        db.session.flush()
        if conference.state in ("eingeladen", "laeuft"):
            _invite(conference, [successor])
    seat.response, seat.responded_at = "zusage", now()  # who moderates takes part
    conference.moderator = successor
    _notify(conference, [successor], "Moderation übernommen", ics=False)
    if previous.may_log_in:  # an account already deactivated (she left) gets no mail
        _notify(conference, [previous], "Moderation übergeben", ics=False)
    audit.record(
        "conference.handover",
        actor=actor,
        detail={"conference": conference.id, "from": previous.id, "to": successor.id},
    )
    return successor


def open_moderated(user_id: int) -> list[Conference]:
    """The conferences a person moderates that are not over: what a deactivation would leave without a lead."""
    return db.session.scalars(
        select(Conference)
        .where(Conference.moderator_id == user_id, Conference.state.in_(OPEN_STATES))
        .order_by(Conference.start)
    ).all()


def remove_participant(actor: User, conference_id: int, user_id: int) -> None:
    conference = load_moderated(actor, conference_id)
    row = next((p for p in conference.participants if p.user_id == user_id), None)
    if row is None or user_id == conference.moderator_id:
        raise NotFound("Teilnehmer/in nicht gefunden.")
    if conference.state == "eingeladen" and row.active:
        _notify(conference, [row.user], "Ausgeladen", method="CANCEL")
    conference.participants.remove(row)
    audit.record("conference.participants", actor=actor, detail={"conference": conference.id, "removed": user_id})


# Built once (they run on every conference page): building them costs more than running them.
_OVERLAPPING = (
    select(Participant.user_id, Conference)
    .join(Conference, Conference.id == Participant.conference_id)
    .where(
        Participant.user_id.in_(bindparam("user_ids", expanding=True)),
        Participant.response.notin_(("absage", "vertretung")),
        Conference.id != bindparam("conference_id"),
        Conference.state.notin_(OVER_STATES),
        and_(Conference.start < bindparam("end"), Conference.end > bindparam("start")),
    )
)


def seats_of(user_id):
    """The ids of the conferences a user takes part in (invited, and not replaced by a colleague), as a subquery;
    `user_id` may be a bound parameter."""
    return select(Participant.conference_id).where(Participant.user_id == user_id, Participant.active)


def takes_part(user_id):
    """SQL condition on Conference: the user moderates it or has a seat in it (see `seats_of`)."""
    return or_(Conference.moderator_id == user_id, Conference.id.in_(seats_of(user_id)))


_VISIBLE_CONFERENCES = union(
    seats_of(bindparam("user_id")).where(Participant.conference_id.in_(bindparam("ids", expanding=True))),
    select(Conference.id).where(
        Conference.moderator_id == bindparam("user_id"), Conference.id.in_(bindparam("ids", expanding=True))
    ),
)


def overlaps(actor: User, conference: Conference, user_ids=None) -> list[str]:
    """Warnings for participants booked into another conference at the same time."""
    ids = list(user_ids if user_ids is not None else [p.user_id for p in conference.participants if p.active])
    if not ids:
        return []
    params = {"user_ids": ids, "conference_id": conference.id, "start": conference.start, "end": conference.end}
    rows = db.session.execute(_OVERLAPPING, params).all()
    if not rows:
        return []
    names = user_names(ids)
    seen = visible_conference_ids(actor, [c.id for _, c in rows])
    out = []
    for user_id, other in rows:
        if other.id in seen:
            when = f"{datum(other.start)}–{uhrzeit(other.end)}"
            out.append(f"{names[user_id]} ist zur gleichen Zeit in „{other.title}“ ({when}) eingeplant.")
        else:
            out.append(f"{names[user_id]} hat zur gleichen Zeit bereits einen anderen Termin.")
    return out


def visible_conference_ids(actor: User, ids) -> set[int]:
    return set(db.session.scalars(_VISIBLE_CONFERENCES, {"user_id": actor.id, "ids": list(ids)}))


# -- responses ------------------------------------------------------------------------------------------


def respond(actor: User, conference_id: int, response: str, substitute_id: int | None = None) -> Participant:
    """Zusage, Absage or Vertretung (a colleague of the same agency takes the seat)."""
    conference = _not_over(load_conference(actor, conference_id))
    row = next((p for p in conference.participants if p.user_id == actor.id and p.active), None)
    if row is None:
        raise NotFound("Sie sind zu dieser Konferenz nicht eingeladen.")
    if conference.polling:
        raise Conflict(
            "Der Termin steht noch nicht fest: bitte antworten Sie in der Terminumfrage. Zu- oder absagen können "
            "Sie, sobald die Moderation den Termin festgelegt hat."
        )
    if response not in RESPONSES or response == "offen":
        raise InvalidInput(errors={"response": "Bitte wählen Sie, ob Sie teilnehmen (Zusage oder Absage)."})
    if response == "vertretung" and actor.id == conference.moderator_id:
        raise InvalidInput(
            errors={
                "response": "Die Moderation lässt sich nicht vertreten: sie leitet die Konferenz und schließt das "
                "Protokoll ab. Bitte sagen Sie zu oder ab."
            }
        )
    if response == "vertretung":
        if not substitute_id:
            raise InvalidInput(errors={"substitute": "Bitte wählen Sie, wer Sie vertritt."})
        substitute = db.session.get(User, substitute_id) if db_id(substitute_id) else None
        if substitute is None or substitute.agency_id != actor.agency_id or substitute.id == actor.id:
            raise InvalidInput(
                errors={"substitute": "Die Vertretung muss eine Kollegin/ein Kollege Ihrer Stelle sein."}
            )
        _active_users([substitute.id], conference.kind)
        if any(p.user_id == substitute.id for p in conference.participants):
            raise InvalidInput(errors={"substitute": "Diese Person nimmt bereits teil."})
        conference.participants.append(Participant(user_id=substitute.id, substitute_for_id=actor.id))
        row.represented_by_id = substitute.id
        db.session.flush()
        if conference.state == "eingeladen":
            _invite(conference, [substitute])
            # The seat is the colleague's now: the conference leaves the actor's calendar as it leaves her lists
            # (`_notify` makes the cancellation a new version of the event).
            _notify(conference, [actor], "Vertreten", method="CANCEL")
    row.response, row.responded_at = response, now()
    audit.record("conference.response", actor=actor, detail={"conference": conference.id, "response": response})
    return row


# -- date poll ------------------------------------------------------------------------------------------


def create_poll(actor: User, conference_id: int, slots: list[tuple[datetime, datetime]]) -> DatePoll:
    """Propose 2–8 slots; every participant is asked by e-mail."""
    conference = load_moderated(actor, conference_id)
    if conference.state != "geplant":
        raise Conflict("Eine Terminumfrage ist nur vor der Einladung möglich.")
    if conference.poll is not None:
        raise Conflict("Für diese Konferenz gibt es schon eine Terminumfrage.")
    if not 2 <= len(slots) <= 8:
        raise InvalidInput(errors={"slots": "Bitte schlagen Sie 2 bis 8 Termine vor."})
    for i, (start, end) in enumerate(slots):
        check_times(start, end, new=True, field=f"start{i}", end_field=f"end{i}")
    conference.poll = DatePoll(slots=[PollSlot(start=s, end=e) for s, e in slots])
    db.session.flush()
    _notify(conference, [u for u in active_participants(conference) if u.id != actor.id], "Terminumfrage", ics=False)
    audit.record("poll.create", actor=actor, detail={"conference": conference.id, "slots": len(slots)})
    return conference.poll


def end_poll(actor: User, conference_id: int) -> None:
    """End a poll without fixing a slot (none suits, or the slots have passed): its slots and answers go, and the
    conference is planned again – with a new poll or a date the moderator sets herself."""
    conference = load_moderated(actor, conference_id)
    if not conference.polling:
        raise Conflict("Für diese Konferenz läuft keine Terminumfrage.")
    slots = len(conference.poll.slots)
    conference.poll = None  # the relationship deletes the orphan, its slots and their answers with it
    db.session.flush()
    _notify(conference, [u for u in active_participants(conference) if u.id != actor.id], "Umfrage beendet", ics=False)
    audit.record("poll.end", actor=actor, detail={"conference": conference.id, "slots": slots})


def answer_poll(actor: User, conference_id: int, answers: dict[int, str]) -> None:
    """Answer ja / vielleicht / nein per slot; changeable until a slot is fixed (and while the conference is not
    cancelled)."""
    conference = _not_over(load_conference(actor, conference_id))
    poll = conference.poll
    if poll is None or not any(p.user_id == actor.id and p.active for p in conference.participants):
        raise NotFound("Terminumfrage nicht gefunden.")
    if poll.fixed_slot_id is not None:
        raise Conflict("Der Termin steht bereits fest; Antworten sind nicht mehr möglich.")
    slot_ids = {s.id for s in poll.slots}
    if not answers or set(answers) - slot_ids or set(answers.values()) - set(POLL_ANSWERS):
        raise InvalidInput(
            errors={"answers": "Bitte beantworten Sie die vorgeschlagenen Termine mit ja, vielleicht oder nein."}
        )
    for slot_id, answer in answers.items():
        row = db.session.get(PollAnswer, (slot_id, actor.id))
        if row is None:
            db.session.add(PollAnswer(slot_id=slot_id, user_id=actor.id, answer=answer))
        else:
            row.answer, row.updated_at = answer, now()
    audit.record("poll.answer", actor=actor, detail={"conference": conference.id})


def poll_table(conference: Conference) -> dict:
    """Answers per slot and participant: the moderator's table, and each participant's own answers in her form."""
    poll = conference.poll
    if poll is None:
        return {}
    slot_ids = [s.id for s in poll.slots]
    answers = {
        (a.slot_id, a.user_id): a.answer
        for a in db.session.scalars(select(PollAnswer).where(PollAnswer.slot_id.in_(slot_ids)))
    }
    people = [p.user for p in conference.participants if p.active]
    yes = {s.id: sum(1 for u in people if answers.get((s.id, u.id)) == "ja") for s in poll.slots}
    return {"slots": poll.slots, "people": people, "answers": answers, "yes": yes}


def fix_slot(actor: User, conference_id: int, slot_id: int) -> Conference:
    """Fix the date: the conference takes the slot's time and everyone is invited."""
    conference = load_moderated(actor, conference_id)
    poll = conference.poll
    if poll is None:
        raise NotFound("Terminumfrage nicht gefunden.")
    if poll.fixed_slot_id is not None:
        raise Conflict("Der Termin wurde bereits festgelegt.")
    slot = next((s for s in poll.slots if s.id == slot_id), None)
    if slot is None:
        raise NotFound("Termin nicht gefunden.")
    check_times(slot.start, slot.end, new=True)
    poll.fixed_slot_id, poll.fixed_at = slot.id, now()
    conference.start, conference.end = slot.start, slot.end
    conference.ical_sequence += 1  # a new version of the placeholder a calendar may hold (file or feed)
    # Who said "ja" to this slot has accepted, who said "nein" has declined; "vielleicht" still needs an answer.
    said = {a.user_id: a.answer for a in slot.answers}
    for p in conference.participants:
        if p.active and p.response == "offen" and said.get(p.user_id) in ("ja", "nein"):
            p.response, p.responded_at = ("zusage" if said[p.user_id] == "ja" else "absage"), now()
    audit.record("poll.fix", actor=actor, detail={"conference": conference.id, "slot": slot.id})
    return set_state(actor, conference.id, "eingeladen")


# -- lists ----------------------------------------------------------------------------------------------


PAST_PAGE = 50  # past conferences per page of the list


def _mine(actor: User):
    """The actor's conferences (moderated or taken part in), and the condition for those still ahead."""
    stmt = (
        select(Conference)
        .where(takes_part(actor.id))
        .options(selectinload(Conference.poll))  # the lists say whether the date is still being polled
    )
    # a conference ended early (its end time still ahead) is past already
    return stmt, (Conference.end >= now()) & (Conference.state != "beendet")


def my_conferences(actor: User) -> tuple[list[Conference], list[Conference]]:
    """Upcoming conferences the actor moderates or takes part in, and the latest PAST_PAGE past ones."""
    return upcoming_conferences(actor), past_conferences(actor)[0]


def upcoming_conferences(actor: User) -> list[Conference]:
    stmt, ahead = _mine(actor)
    return list(db.session.scalars(stmt.where(ahead).order_by(Conference.start)).all())


def past_conferences(actor: User, page: int = 1) -> tuple[list[Conference], bool]:
    """One page of the actor's past conferences, the latest first, and whether older ones follow."""
    stmt, ahead = _mine(actor)
    rows = db.session.scalars(
        stmt.where(~ahead).order_by(Conference.start.desc()).limit(PAST_PAGE + 1).offset((page - 1) * PAST_PAGE)
    ).all()
    return list(rows[:PAST_PAGE]), len(rows) > PAST_PAGE


def awaiting_answer(actor: User) -> tuple[list[Conference], list[Conference]]:
    """What waits for the actor's answer, in two queries: invitations she has neither accepted nor declined, and
    date polls of planned conferences she has not answered yet."""
    invitations = db.session.scalars(
        select(Conference)
        .join(Participant, Participant.conference_id == Conference.id)
        .where(
            Participant.user_id == actor.id,
            Participant.response == "offen",
            Conference.state == "eingeladen",
            Conference.end >= now(),
            Conference.moderator_id != actor.id,  # she has planned it; nobody waits for her answer
        )
        .order_by(Conference.start)
    ).all()
    answered = (
        select(PollSlot.poll_id)
        .join(PollAnswer, PollAnswer.slot_id == PollSlot.id)
        .where(PollAnswer.user_id == actor.id)
    )
    polls = db.session.scalars(
        select(Conference)
        .join(DatePoll, DatePoll.conference_id == Conference.id)
        .where(
            Conference.id.in_(seats_of(actor.id)),
            Conference.moderator_id != actor.id,  # she asked; the poll's answers are the others'
            Conference.state == "geplant",
            DatePoll.fixed_slot_id.is_(None),
            DatePoll.id.not_in(answered),
        )
        .order_by(Conference.start)
    ).all()
    return list(invitations), list(polls)


# -- mail and calendar ----------------------------------------------------------------------------------

SUBJECTS = {
    "Einladung": "Einladung: {title}",
    "Geändert": "Geändert: {title}",
    "Tagesordnung": "Tagesordnung geändert: {title}",
    "Abgesagt": "Abgesagt: {title}",
    "Ausgeladen": "Ausgeladen: {title}",
    "Vertreten": "Vertretung bestätigt: {title}",
    "Terminumfrage": "Terminumfrage: {title}",
    "Umfrage beendet": "Terminumfrage beendet: {title}",
    "Moderation übernommen": "Sie moderieren jetzt: {title}",
    "Moderation übergeben": "Moderation übergeben: {title}",
    "Erinnerung": "Erinnerung: {title} ({when})",
}


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def _reminder_day(conference: Conference) -> str:
    """ "heute" or "morgen", in local time: a reminder goes out up to 24 hours ahead, so also on the same day."""
    return "heute" if local_date(conference.start) == today() else "morgen"


def mail_text(conference: Conference, kind: str, user: User) -> str:
    """The body of a conference e-mail: time, place, link, counts – never a case number, name or detail."""
    cases = sum(1 for i in conference.items if i.case_id)
    own = user.id == conference.moderator_id
    lines = [
        f"Guten Tag {user.display_name},",
        "",
        {
            "Einladung": "die Einladungen zu Ihrer Konferenz sind verschickt:"
            if own
            else "Sie sind zu folgender Konferenz eingeladen:",
            "Geändert": "die folgende Konferenz wurde geändert:",
            "Tagesordnung": "die Tagesordnung der folgenden Konferenz wurde geändert. Bitte sehen Sie sie vor der "
            "Konferenz noch einmal an:",
            "Abgesagt": f"die folgende Konferenz wurde abgesagt. Grund: {conference.cancel_reason}",
            "Ausgeladen": "Sie nehmen an der folgenden Konferenz nicht mehr teil:",
            "Vertreten": "eine Kollegin oder ein Kollege Ihrer Stelle vertritt Sie bei der folgenden Konferenz; "
            "Sie nehmen nicht mehr teil:",
            "Terminumfrage": "für die folgende Konferenz wird ein Termin gesucht. Bitte geben Sie an, wann Sie können:",
            "Moderation übernommen": "Sie moderieren jetzt die folgende Konferenz. Sie planen die Tagesordnung, "
            "leiten die Konferenz und schließen das Protokoll ab:",
            "Moderation übergeben": f"die Moderation der folgenden Konferenz liegt jetzt bei "
            f"{conference.moderator.display_name}. Sie nehmen weiter teil:",
            "Umfrage beendet": "die Terminumfrage der folgenden Konferenz ist beendet, ohne dass ein Termin "
            "festgelegt wurde. Ihre Antworten sind verworfen; den Termin erfahren Sie mit einer neuen Nachricht:",
            "Erinnerung": f"wir erinnern Sie an die Konferenz {_reminder_day(conference)}:",
        }[kind],
        "",
        f"  {conference.title} ({KINDS[conference.kind]})",
    ]
    if kind == "Umfrage beendet":  # the conference's time is a placeholder that nobody agreed to
        lines.append("  Termin: steht noch nicht fest")
    elif conference.polling:  # the time is a placeholder until a slot is fixed: the slots are what counts
        lines.append("  Vorgeschlagene Termine:")
        lines += [f"    {termin(slot.start)} bis {uhrzeit(slot.end)} Uhr" for slot in conference.poll.slots]
    else:
        lines.append(f"  {termin(conference.start)} bis {uhrzeit(conference.end)} Uhr")
    if conference.location:
        lines.append(f"  Ort: {conference.location}")
    if conference.video_link:
        lines.append(f"  Video: {conference.video_link}")
    if conference.items:
        lines.append(
            f"  Tagesordnung: {_count(len(conference.items), 'Punkt', 'Punkte')}, davon "
            f"{_count(cases, 'Fallbesprechung', 'Fallbesprechungen')}"
        )
    else:
        lines.append("  Tagesordnung: noch keine Punkte")
    lines += [
        "",
        f"{'Terminumfrage' if conference.polling else 'Tagesordnung, Zu- oder Absage'}: {conference_url(conference)}",
        "(Falldaten sehen Sie nur nach Anmeldung und nur mit Einwilligung.)",
    ]
    return "\n".join(lines)


def _notify(
    conference: Conference,
    users: list[User],
    kind: str,
    method: str = "REQUEST",
    ics: bool = True,
    dedupe: str | None = None,
) -> int:
    """Queue one e-mail per user; returns how many were new (a dedupe key makes repeats no-ops).

    Every cancellation is a new version of the event: calendars ignore one with an old SEQUENCE."""
    if method == "CANCEL":
        conference.ical_sequence += 1
    attendees = active_participants(conference)
    ics_text = calendar.invitation(conference, attendees, conference_url(conference), method) if ics else None
    subject = SUBJECTS[kind].format(title=conference.title, when=_reminder_day(conference))
    sent = 0
    for user in users:
        sent += (
            mail.enqueue(
                user,
                subject,
                mail_text(conference, kind, user),
                ics=ics_text,
                ics_method=method if ics else None,
                topic=f"conference:{conference.id}",
                dedupe_key=f"{dedupe}:{user.id}" if dedupe else None,
            )
            is not None
        )
    return sent


def send_reminders(at: datetime | None = None) -> int:
    """Remind participants 24 hours ahead; idempotent, so cron may run it as often as it likes."""
    at = at or now()
    due = db.session.scalars(
        select(Conference).where(
            Conference.state == "eingeladen", Conference.start > at, Conference.start <= at + timedelta(hours=24)
        )
    ).all()
    sent = 0
    for conference in due:
        users = [p.user for p in conference.participants if p.active and p.response != "absage"]
        key = f"reminder:{conference.id}:{conference.start:%Y%m%d%H%M}"
        sent += _notify(conference, users, "Erinnerung", dedupe=key)
    return sent


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_calendar_token(actor: User) -> str:
    """A new private feed URL secret; the previous one stops working."""
    for row in db.session.scalars(
        select(CalendarToken).where(CalendarToken.user_id == actor.id, CalendarToken.revoked_at.is_(None))
    ):
        row.revoked_at = now()
    token = secrets.token_urlsafe(32)
    db.session.add(CalendarToken(user_id=actor.id, token_hash=_token_hash(token)))
    audit.record("calendar.token", actor=actor)
    return token


def revoke_calendar_token(actor: User, user: User | None = None) -> None:
    """The feed address stops working: the actor's own, or (`user`) an account's, by the administration."""
    user = user or actor
    if user.id != actor.id and not may_manage_users(viewer_of(actor)):
        raise NotFound()
    for row in db.session.scalars(
        select(CalendarToken).where(CalendarToken.user_id == user.id, CalendarToken.revoked_at.is_(None))
    ):
        row.revoked_at = now()
    audit.record("calendar.token_revoke", actor=actor, detail={"user": user.id})


def calendar_token_since(user: User) -> datetime | None:
    """Since when the user's feed address works; None if she has none."""
    stmt = select(CalendarToken.created_at).where(CalendarToken.user_id == user.id, CalendarToken.revoked_at.is_(None))
    return db.session.scalar(stmt)


def has_calendar_token(actor: User) -> bool:
    return calendar_token_since(actor) is not None


def calendar_feed(token: str) -> str:
    """The feed of the token's owner; an unknown or revoked token is a 404."""
    row = db.session.scalar(select(CalendarToken).where(CalendarToken.token_hash == _token_hash(token or "")))
    if row is None or row.revoked_at is not None or not row.user.active or not row.user.agency.active:
        raise NotFound("Kalender nicht gefunden.")
    upcoming, past = my_conferences(row.user)
    declined = set(
        db.session.scalars(
            select(Participant.conference_id).where(
                Participant.user_id == row.user_id, Participant.response == "absage"
            )
        )
    )
    audit.record("calendar.feed", actor=row.user)
    # a declined meeting is no appointment of hers: it leaves her calendar (the conference list still shows it)
    return calendar.feed([c for c in upcoming + past[:20] if c.id not in declined], conference_url)
