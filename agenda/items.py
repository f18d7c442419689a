"""Agenda items (Tagesordnungspunkte) and the consent-aware view of a conference."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import selectinload

from consent.policy import NO_ACCESS, Access, for_viewer, viewer_of
from fallkonferenz import audit, mail
from fallkonferenz.auth.service import agency_codes, user_names
from fallkonferenz.casecrypto import ciphers_for, open_texts
from fallkonferenz.cases.service import agency_access, load_case_for
from fallkonferenz.errors import Conflict, DomainError, Forbidden, InvalidInput, NotFound
from fallkonferenz.extensions import db
from fallkonferenz.models import Agency, Case, User

from .models import HELD_STATES, ITEM_KINDS, AgendaItem, Conference, Decision, Task
from .service import (
    case_data_in,
    check_title,
    load_conference,
    load_moderated,
    overlaps,
    poll_table,
    visible_conference_ids,
)

MAX_ITEMS = 50
MAX_TIME_BOX = 240
MAX_TITLE = 300
CONFIDENTIAL = "vertraulicher Fall"
ERASED_CASE = "gelöschter Fall"  # its key is destroyed: no one reads anything of it any more
# Why a case item is closed to the viewer, as the agenda, the minutes and their exports say it.
NO_CONSENT_NOTE = "Für Ihre Stelle geschlossen (keine Einwilligung)."
ERASED_NOTE = "Der Fall wurde gelöscht; der Inhalt dieses Punktes ist nicht mehr lesbar."
CONFIDENTIAL_LABELS = (CONFIDENTIAL, NO_CONSENT_NOTE)


class NeedsConfirmation(DomainError):
    """Adding this case item closes it to invited agencies; the moderator must confirm."""

    status = 409

    def __init__(self, agencies: list[str]):
        super().__init__(
            "Für diesen Fall fehlt die Einwilligung folgender eingeladener Stellen: " + ", ".join(agencies)
        )
        self.agencies = agencies


@dataclass
class ItemInput:
    title: str
    kind: str
    time_box: int
    case_ref: str | None = None
    presenter_id: int | None = None
    position: int | None = None  # 1-based; None appends


def _check_item(data: ItemInput) -> None:
    errors = {}
    if data.kind not in ITEM_KINDS:
        errors["kind"] = "Unbekannte Art des Tagesordnungspunkts."
    if not isinstance(data.time_box, int) or not 0 < data.time_box <= MAX_TIME_BOX:
        errors["time_box"] = f"Die Zeit muss zwischen 1 und {MAX_TIME_BOX} Minuten liegen."
    if data.kind == "fallbesprechung" and not data.case_ref:
        errors["case"] = "Eine Fallbesprechung braucht eine Fallnummer."
    if data.kind != "fallbesprechung" and not (data.title or "").strip():
        errors["title"] = "Bitte geben Sie einen Titel an."
    if data.kind in ITEM_KINDS and data.kind != "fallbesprechung" and (data.case_ref or "").strip():
        # a general item goes to every participant: it is bound to no case, and what was typed is not dropped
        errors["case"] = (
            "Nur eine Fallbesprechung gehört zu einem Fall. Bitte wählen Sie „Fallbesprechung“ oder lassen Sie "
            "die Fallnummer leer."
        )
    if len(data.title or "") > MAX_TITLE:
        errors["title"] = f"Höchstens {MAX_TITLE} Zeichen."
    if errors:
        raise InvalidInput(errors=errors)


def offered_kinds(conference: Conference) -> list[str]:
    """The kinds a moderator adds by hand: case items in case conferences only; a steering meeting's consultations
    ("beratung") come from the backlog's proposal."""
    if conference.kind == "lenkungsgruppe":
        return ["bericht", "verschiedenes"]
    return ["fallbesprechung", "bericht", "verschiedenes"]


def _check_kind(conference: Conference, kind: str, consultation: bool) -> None:
    if consultation:
        if kind != "beratung":
            raise InvalidInput(errors={"kind": "Ein Thema der Lenkungsgruppe wird als Beratung aufgenommen."})
    elif kind == "fallbesprechung" and conference.kind == "lenkungsgruppe":
        raise InvalidInput(errors={"kind": "Eine Lenkungsgruppe-Sitzung bespricht keine Einzelfälle."})
    elif kind not in offered_kinds(conference):
        raise InvalidInput(
            errors={"kind": "Beratungspunkte kommen aus dem Themenspeicher der Lenkungsgruppe auf die Tagesordnung."}
        )


def _check_presenter(conference: Conference, presenter_id: int | None, closed: list[str]) -> None:
    """Who presents an item takes part in the conference, and for a case item belongs to an agency that may see
    the case: for the others it is a "vertraulicher Fall" without a presenter, so she would never learn of it."""
    if presenter_id is None:
        return
    seat = next((p for p in conference.participants if p.user_id == presenter_id and p.active), None)
    if seat is None:
        raise InvalidInput(errors={"presenter": "Vortragen kann nur, wer an der Konferenz teilnimmt."})
    if seat.user.agency.code in closed:
        raise InvalidInput(
            errors={
                "presenter": f"{seat.user.display_name} ({seat.user.agency.code}) kann diesen Fall nicht sehen: "
                "ohne Einwilligung erscheint ihr oder ihm der Punkt nur als „vertraulicher Fall“. Bitte wählen Sie "
                "jemanden aus einer Stelle, die den Fall sehen darf."
            }
        )


def _check_version(conference: Conference, version: int | None) -> None:
    if version is not None and version != conference.agenda_version:
        raise Conflict(
            "Die Tagesordnung wurde inzwischen geändert. Bitte prüfen Sie die aktuelle Reihenfolge "
            "und versuchen Sie es erneut."
        )


def _check_case_item_title(title: str, actor: User) -> None:
    """A case item's title is shown to the whole case team, which may not know another case named in it; the case's
    own number and name stand beside it anyway, for those who may see them."""
    check_title(
        title,
        actor,
        MAX_TITLE,
        why="Fallnummer und Name zeigt die Tagesordnung selbst, und nur, wem die Einwilligung sie zeigt",
    )


def closed_agencies(conference: Conference, case_id: int) -> list[str]:
    """Invited agencies that may not see the case: the item stays closed to them."""
    agency_ids = {p.user.agency_id for p in conference.participants if p.active}
    table = agency_access([case_id], agency_ids)
    codes = dict(db.session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(agency_ids))).all())
    return sorted(codes[a] for a in agency_ids if not table[(case_id, a)].shared)


def add_item(
    actor: User,
    conference_id: int,
    data: ItemInput,
    *,
    confirmed: bool = False,
    version: int | None = None,
    consultation: bool = False,
):
    """Add a TOP; a case item needs a case the moderator sees (else 404, nothing changes). `consultation` is set
    only by the backlog, which links the new item to its backlog item."""
    conference = load_moderated(actor, conference_id)
    # An item put at the end clashes with no change made meanwhile (two at once both land, one after the other);
    # only a place in the order means something that a newer order may have moved.
    if data.position is not None:
        _check_version(conference, version)
    _check_item(data)
    _check_kind(conference, data.kind, consultation)
    if len(conference.items) >= MAX_ITEMS:
        raise InvalidInput(errors={"items": f"Eine Tagesordnung hat höchstens {MAX_ITEMS} Punkte."})
    title = (data.title or "").strip() or ("Fallbesprechung" if data.kind == "fallbesprechung" else "")
    case = None
    if data.kind == "fallbesprechung":
        try:
            case, access = load_case_for(actor, data.case_ref.strip())
        except NotFound:
            raise NotFound(
                "Fall nicht gefunden.",
                errors={"case": "Diesen Fall gibt es nicht, oder nicht für Ihre Stelle. Bitte Fallnummer prüfen."},
            ) from None
        if not access.shared:
            raise InvalidInput(
                errors={
                    "case": "Für diesen Fall hat Ihre Stelle weder die Federführung noch eine Einwilligung; "
                    "er kann nicht auf die Tagesordnung."
                }
            )
        # Only a client whose name the moderator may see: else a refusal would confirm a guessed name.
        where = f"{conference.title} {conference.location} {conference.video_link}"
        if access.sees_record_field("stammdaten") and case_data_in(where, None, [case.id]):
            raise InvalidInput(
                errors={
                    "case": "Titel, Ort oder Videolink der Konferenz nennen diese Klientin/diesen Klienten; sie gehen "
                    "in die Einladungen. Bitte ändern Sie sie zuerst."
                }
            )
        if any(i.case_id == case.id for i in conference.items):
            raise InvalidInput(errors={"case": "Dieser Fall steht schon auf der Tagesordnung."})
        _check_case_item_title(title, actor)
        closed = closed_agencies(conference, case.id)
        _check_presenter(conference, data.presenter_id, closed)
        if closed and not confirmed:
            raise NeedsConfirmation(closed)
    if case is None:
        check_title(title, actor, MAX_TITLE)
        _check_presenter(conference, data.presenter_id, [])
    position = (
        len(conference.items) + 1 if data.position is None else max(1, min(data.position, len(conference.items) + 1))
    )
    for item in conference.items:
        if item.position >= position:
            item.position += 1
    item = AgendaItem(
        title=title,
        kind=data.kind,
        case_id=case.id if case else None,
        time_box=data.time_box,
        presenter_id=data.presenter_id,
        position=position,
    )
    conference.items.append(item)
    conference.items.sort(key=lambda i: i.position)
    conference.agenda_version += 1
    db.session.flush()
    audit.record(
        "agenda.item_add",
        actor=actor,
        case_id=item.case_id,
        detail={"conference": conference.id, "item": item.id},
    )
    return item


@dataclass
class ItemChange:
    """What an item's edit form changes: its kind and case stay (another case is another item)."""

    title: str
    time_box: int
    presenter_id: int | None = None


def item_to_edit(actor: User, conference_id: int, item_id: int) -> tuple[Conference, AgendaItem]:
    """The item for its edit form: the moderator's, of a conference still being planned, and of a case she still
    sees (else she can only remove it)."""
    conference = load_moderated(actor, conference_id)
    item = next((i for i in conference.items if i.id == item_id), None)
    if item is None:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    if item.case_id is not None:
        try:
            _case, access = load_case_for(actor, item.case_id)
        except DomainError:  # not found for her, or erased
            access = NO_ACCESS
        if not access.shared:
            raise Forbidden(
                "Diesen Fall sieht Ihre Stelle nicht mehr (keine Einwilligung); den Punkt können Sie nur entfernen."
            )
    return conference, item


def edit_item(actor: User, conference_id: int, item_id: int, change: ItemChange, version: int | None) -> list[str]:
    """Change an item's title, time box or presenter under the rules for a new item; a consultation keeps its
    backlog item's title. Returns the fields that changed (none: nothing is recorded, the agenda's version stays)."""
    conference, item = item_to_edit(actor, conference_id, item_id)
    _check_version(conference, version)
    title = change.title.strip() or ("Fallbesprechung" if item.case_id else "")
    if item.kind == "beratung" and title != item.title:
        raise InvalidInput(errors={"title": "Eine Beratung trägt den Titel ihres Themas aus dem Themenspeicher."})
    # the case is bound already (by id): the check asks only whether there is one
    bound = str(item.case_id) if item.case_id is not None else None
    _check_item(ItemInput(title=title, kind=item.kind, time_box=change.time_box, case_ref=bound))
    if item.case_id is not None:
        _check_case_item_title(title, actor)
        _check_presenter(conference, change.presenter_id, closed_agencies(conference, item.case_id))
    else:
        check_title(title, actor, MAX_TITLE)
        _check_presenter(conference, change.presenter_id, [])
    new = {"title": title, "time_box": change.time_box, "presenter_id": change.presenter_id}
    changed = [key for key, value in new.items() if getattr(item, key) != value]
    if changed:
        for key in changed:
            setattr(item, key, new[key])
        conference.agenda_version += 1  # the timetable, a title: the invited are told as of any other change
        audit.record(
            "agenda.item_edit",
            actor=actor,
            case_id=item.case_id,
            detail={"conference": conference.id, "item": item.id, "fields": changed},
        )
    return changed


def remove_item(actor: User, conference_id: int, item_id: int, version: int | None = None) -> None:
    conference = load_moderated(actor, conference_id)
    _check_version(conference, version)
    item = next((i for i in conference.items if i.id == item_id), None)
    if item is None:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    conference.items.remove(item)
    for position, other in enumerate(conference.items, start=1):
        other.position = position
    conference.agenda_version += 1
    audit.record("agenda.item_remove", actor=actor, case_id=item.case_id, detail={"conference": conference.id})


def reorder(actor: User, conference_id: int, ordered_ids: list[int], version: int | None) -> bool:
    """Save a new order; a stale order (someone changed the agenda meanwhile) is refused, nothing lost. Returns
    whether the order changed."""
    return _reorder(actor, load_moderated(actor, conference_id), ordered_ids, version)


def _reorder(actor: User, conference: Conference, ordered_ids: list[int], version: int | None) -> bool:
    _check_version(conference, version)
    current = {i.id: i for i in conference.items}
    if sorted(ordered_ids) != sorted(current):
        raise Conflict("Die Reihenfolge passt nicht zur aktuellen Tagesordnung. Bitte laden Sie die Seite neu.")
    if ordered_ids == [i.id for i in conference.items]:
        return False
    for position, item_id in enumerate(ordered_ids, start=1):
        current[item_id].position = position
    conference.items.sort(key=lambda i: i.position)
    conference.agenda_version += 1
    audit.record("agenda.reorder", actor=actor, detail={"conference": conference.id})
    return True


def reorder_by_positions(actor: User, conference_id: int, positions: dict[int, str], version: int | None) -> bool:
    """The form's way to reorder: a position (as typed) per item id (see `order_from_positions`)."""
    if not all(p.isascii() and p.isdigit() and 1 <= int(p) <= MAX_ITEMS for p in positions.values()):
        raise InvalidInput(errors={"order": f"Bitte nur Positionen von 1 bis {MAX_ITEMS} angeben."})
    conference = load_moderated(actor, conference_id)
    wanted = {item_id: int(p) for item_id, p in positions.items()}
    return _reorder(actor, conference, order_from_positions([i.id for i in conference.items], wanted), version)


def order_from_positions(current_ids: list[int], positions: dict[int, int]) -> list[int]:
    """The order the position fields ask for. An item given another position goes there, and the others keep
    their order around it: TOP 1 set to 2 comes after TOP 2, TOP 3 set to 1 comes before TOP 1. Items whose
    field was left out keep their place."""
    old = {item_id: place for place, item_id in enumerate(current_ids, start=1)}

    def key(item_id: int) -> tuple[int, int, int]:
        new = positions.get(item_id, old[item_id])
        moved = 0 if new < old[item_id] else 2 if new > old[item_id] else 1
        return new, moved, old[item_id]

    return sorted(current_ids, key=key)


def move_item(actor: User, conference_id: int, item_id: int, step: int, version: int | None) -> int:
    """Move one item up (-1) or down (+1): the keyboard-friendly way to reorder. Returns its number now."""
    conference = load_conference(actor, conference_id)
    ids = [i.id for i in conference.items]
    if item_id not in ids:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    index = ids.index(item_id)
    target = index + step
    if 0 <= target < len(ids):
        ids[index], ids[target] = ids[target], ids[index]
    reorder(actor, conference_id, ids, version)
    return ids.index(item_id) + 1


# -- the view -------------------------------------------------------------------------------------------


@dataclass
class FollowUp:
    """Wiedervorlage: what the previous conference on the case left open."""

    conference_title: str
    conference_start: datetime
    decisions: list[str] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)


@dataclass
class ItemView:
    id: int
    number: str
    kind: str
    starts: datetime
    ends: datetime
    time_box: int
    title: str
    confidential: bool
    case_id: int | None = None  # only where the viewer may see the case, as its number
    case_number: str | None = None
    client_name: str | None = None
    presenter: str | None = None
    closed_for: list[str] = field(default_factory=list)
    follow_up: FollowUp | None = None
    closed_note: str = ""  # for a confidential item: why


@dataclass
class ConferenceView:
    conference: Conference
    is_moderator: bool
    items: list[ItemView]
    overrun_minutes: int
    participants: list
    poll: dict
    warnings: list[str]
    failed_mail: list
    my_response: str | None

    def case_ids(self) -> list[int]:
        """The cases of the items this viewer sees in full."""
        return [item.case_id for item in self.items if item.case_id is not None]


def conference_view(actor: User, conference_id: int) -> ConferenceView:
    """The conference as this user may see it: a case item in full only where the policy allows."""
    conference = load_conference(actor, conference_id)
    viewer = viewer_of(actor)
    is_moderator = conference.moderator_id == actor.id
    case_ids = [i.case_id for i in conference.items if i.case_id]
    agency_ids = {p.user.agency_id for p in conference.participants if p.active} | {actor.agency_id}
    table = agency_access(case_ids, agency_ids)
    mine = {cid: for_viewer(viewer, table.get((cid, actor.agency_id), NO_ACCESS)) for cid in case_ids}
    open_ids = [cid for cid in case_ids if mine[cid].shared]
    numbers, names, erased = _case_labels(case_ids, mine, actor)
    follow_ups = _follow_ups(conference, open_ids)
    presenters = user_names({i.presenter_id for i in conference.items})
    codes = agency_codes()
    items, clock = [], conference.start
    for index, item in enumerate(conference.items, start=1):
        ends = clock + timedelta(minutes=item.time_box)
        confidential = bool(item.case_id) and not mine[item.case_id].shared
        closed_title, closed_note = (ERASED_CASE, ERASED_NOTE) if item.case_id in erased else CONFIDENTIAL_LABELS
        view = ItemView(
            id=item.id,
            number=f"TOP {index}",
            kind=item.kind,
            starts=clock,
            ends=ends,
            time_box=item.time_box,
            title=closed_title if confidential else item.title,
            confidential=confidential,
            presenter=None if confidential else presenters.get(item.presenter_id),
            closed_note=closed_note if confidential else "",
        )
        if item.case_id and not confidential:
            view.case_id = item.case_id
            view.case_number, view.client_name = numbers.get(item.case_id), names.get(item.case_id)
            view.follow_up = follow_ups.get(item.case_id)
            if is_moderator:
                view.closed_for = sorted(codes[a] for a in agency_ids if not table[(item.case_id, a)].shared)
        items.append(view)
        clock = ends
    overrun = max(0, int((clock - conference.end).total_seconds() // 60))
    me = next((p for p in conference.participants if p.user_id == actor.id and p.active), None)
    audit.record(
        "agenda.read",
        actor=actor,
        categories=["stammdaten"] if names else [],
        purpose="Tagesordnung",
        detail={"conference": conference.id},
        case_ids=open_ids,
    )
    return ConferenceView(
        conference=conference,
        is_moderator=is_moderator,
        items=items,
        overrun_minutes=overrun,
        participants=conference.participants,
        poll=poll_table(conference) if conference.poll else {},
        warnings=overlaps(actor, conference) if is_moderator and conference.state in ("geplant", "eingeladen") else [],
        failed_mail=mail.failures(f"conference:{conference.id}") if is_moderator else [],
        my_response=me.response if me else None,
    )


# The agenda's statements, built once: building them costs more than running them.
_CASE_LABELS = select(
    Case.id, Case.number, Case.given_name_enc, Case.family_name_enc, Case.erased_at.is_not(None).label("erased")
).where(Case.id.in_(bindparam("ids", expanding=True)))
_EARLIER_ITEMS = (
    select(AgendaItem.id, AgendaItem.case_id, Conference.title, Conference.start)
    .join(Conference, Conference.id == AgendaItem.conference_id)
    .where(
        AgendaItem.case_id.in_(bindparam("case_ids", expanding=True)),
        Conference.start < bindparam("start"),
        # Only a meeting that took place has minutes: a planned one before this would hide the last real one.
        Conference.state.in_(HELD_STATES),
        Conference.id != bindparam("conference_id"),
    )
    .order_by(Conference.start.desc())
)
_EARLIER_DECISIONS = (
    select(Decision).where(Decision.agenda_item_id.in_(bindparam("item_ids", expanding=True))).order_by(Decision.id)
)
_EARLIER_OPEN_TASKS = (
    select(Task)
    .where(Task.agenda_item_id.in_(bindparam("item_ids", expanding=True)), Task.status == "offen")
    .order_by(Task.due_date)
)


def _case_labels(case_ids, access: dict[int, Access], actor) -> tuple[dict[int, str], dict[int, str], set[int]]:
    """Number and name of each case the actor may see; of the others only whether they were erased."""
    if not case_ids:
        return {}, {}, set()
    rows = db.session.execute(_CASE_LABELS, {"ids": list(case_ids)}).all()
    erased = {r.id for r in rows if r.erased}
    rows = [r for r in rows if access[r.id].shared]
    ciphers = ciphers_for([r.id for r in rows]) if rows else {}
    numbers, names = {}, {}
    for r in rows:
        numbers[r.id] = r.number
        if access[r.id].sees_record_field("stammdaten") and r.id in ciphers:
            cipher = ciphers[r.id]
            given = cipher.read("cases", r.id, "given_name", r.given_name_enc, actor) or ""
            family = cipher.read("cases", r.id, "family_name", r.family_name_enc, actor) or ""
            names[r.id] = f"{given} {family}".strip()
    return numbers, names, erased


def _follow_ups(conference: Conference, case_ids) -> dict[int, FollowUp]:
    """The previous conference's decisions and still-open tasks for each case (three queries, and one for the
    keys of their texts)."""
    if not case_ids:
        return {}
    params = {"case_ids": list(case_ids), "start": conference.start, "conference_id": conference.id}
    earlier = db.session.execute(_EARLIER_ITEMS, params).all()
    latest: dict[int, tuple] = {}
    for item_id, case_id, title, start in earlier:
        latest.setdefault(case_id, (item_id, title, start))
    if not latest:
        return {}
    item_ids = [v[0] for v in latest.values()]
    decisions = db.session.scalars(_EARLIER_DECISIONS, {"item_ids": item_ids}).all()
    tasks = db.session.scalars(_EARLIER_OPEN_TASKS, {"item_ids": item_ids}).all()
    open_texts([*decisions, *tasks])
    out = {case_id: FollowUp(title, start) for case_id, (_, title, start) in latest.items()}
    by_item = {item_id: case_id for case_id, (item_id, _, _) in latest.items()}
    for decision in decisions:
        out[by_item[decision.agenda_item_id]].decisions.append(decision.text)
    for task in tasks:
        out[by_item[task.agenda_item_id]].tasks.append(task)
    return out


def blank_case_items(case_id: int) -> None:
    """An erased case: the title its agenda items were given is free text about it, and goes too."""
    db.session.execute(update(AgendaItem).where(AgendaItem.case_id == case_id).values(title=""))


def case_conferences(actor: User, case_ref) -> tuple[Case, list[tuple[Conference, bool]] | None]:
    """The conferences that discussed a case the actor may see; each marked whether she may open it. None for an
    agency outside the case team (it sees the case through its own old entries only): on those conferences'
    agendas the case is "vertraulicher Fall" for it, and the list would tell it which item that is."""
    case, access = load_case_for(actor, case_ref)
    if not access.shared:
        return case, None
    rows = db.session.scalars(
        select(Conference)
        .join(AgendaItem, AgendaItem.conference_id == Conference.id)
        .where(AgendaItem.case_id == case.id)
        .options(selectinload(Conference.poll))  # a date still being polled is shown as such
        .order_by(Conference.start.desc())
    ).all()
    visible = visible_conference_ids(actor, [c.id for c in rows])
    audit.record("case.conferences", actor=actor, case_id=case.id, purpose="Konferenzen zum Fall")
    return case, [(c, c.id in visible) for c in rows]
