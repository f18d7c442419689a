"""Structured records of the minutes (attendance, decisions, tasks) and the approval that freezes them."""

from __future__ import annotations

import base64
import hmac
import html
import json
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import nh3
from sqlalchemy import bindparam, delete, select

from agenda.models import AgendaItem, Conference, Decision, Task
from agenda.service import (
    case_data_in,
    check_no_case_data,
    conference_url,
    load_conference,
    set_state,
    takes_part,
    visible_conference_ids,
)
from consent.policy import Access
from fallkonferenz import audit, mail
from fallkonferenz.auth.service import user_names
from fallkonferenz.casecrypto import ERASED, UNREADABLE, keyring, open_texts, seal_text
from fallkonferenz.cases.service import agency_access, agency_shares, shared_with, shares_case
from fallkonferenz.crypto import DecryptionError
from fallkonferenz.errors import Conflict, Forbidden, InvalidInput, NotFound
from fallkonferenz.extensions import db
from fallkonferenz.localtime import tag, today
from fallkonferenz.models import Agency, AuditEvent, Case, User, utcnow

from . import live, service
from .models import Addendum, ApprovalStep, Attendance, MinutesApproval, MinutesClosure, MinutesSnapshot

ATTENDANCE = {"anwesend": "anwesend", "entschuldigt": "entschuldigt", "abwesend": "abwesend"}
APPROVAL = {"genehmigt": "genehmigt", "einspruch": "Einspruch"}
# The steps of the approval, as its history names them (ApprovalStep.kind).
APPROVAL_STEPS = {
    "abgeschlossen": "Protokoll abgeschlossen und zur Genehmigung gegeben",
    "genehmigt": "genehmigt",
    "einspruch": "Einspruch",
    "wieder_geoeffnet": "Protokoll wieder zur Bearbeitung geöffnet",
    "endgueltig": "Protokoll endgültig: alle Stellen haben genehmigt",
}
ALLOWED_TAGS = {"p", "ul", "li", "strong", "em", "br"}


def render_light_markdown(text: str) -> str:
    """Plain text with light Markdown (paragraphs, '- ' lists, **bold**, *italic*), sanitized."""
    blocks, out = re.split(r"\n\s*\n", text.strip()), []
    for block in blocks:
        lines = block.splitlines()
        if lines and all(line.lstrip().startswith(("- ", "* ")) for line in lines):
            out.append("<ul>" + "".join(f"<li>{_inline(line.lstrip()[2:])}</li>" for line in lines) + "</ul>")
        elif block.strip():
            out.append("<p>" + "<br>".join(_inline(line) for line in lines) + "</p>")
    return nh3.clean("".join(out), tags=ALLOWED_TAGS, attributes={})


def _inline(line: str) -> str:
    escaped = html.escape(line, quote=False)
    escaped = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", escaped)
    return re.sub(r"(?<!\*)\*(?!\*)(.+?)(?<!\*)\*(?!\*)", r"<em>\1</em>", escaped)


def closure(conference_id: int) -> MinutesClosure | None:
    return db.session.get(MinutesClosure, conference_id)


def _moderated(actor: User, conference_id: int) -> Conference:
    conference = load_conference(actor, conference_id)
    if conference.moderator_id != actor.id:
        raise Forbidden("Das kann nur die Moderation.")
    return conference


def _open_seat(actor: User, item_id: int) -> service.Seat:
    place = service.seat(actor, item_id)
    if service.is_closed(place.conference):
        raise service.MinutesClosed()
    return place


# -- attendance, decisions, tasks -----------------------------------------------------------------------


def set_attendances(actor: User, conference_id: int, statuses: dict[int, str]) -> int:
    """Record several participants' attendance (an empty status: not recorded yet) and announce it once.

    The conference is checked once and the existing rows read in one query, whatever the number of participants.
    """
    chosen = {user_id: status for user_id, status in statuses.items() if status}
    if not chosen:
        return 0
    conference = _moderated(actor, conference_id)
    if service.is_closed(conference):
        raise service.MinutesClosed()
    participants = {p.user_id for p in conference.participants}
    for user_id, status in chosen.items():
        if status not in ATTENDANCE:
            raise InvalidInput(errors={"status": "Bitte anwesend, entschuldigt oder abwesend wählen."})
        if user_id not in participants:
            raise NotFound("Teilnehmer/in nicht gefunden.")
    rows = {
        a.user_id: a
        for a in db.session.scalars(
            select(Attendance).where(Attendance.conference_id == conference_id, Attendance.user_id.in_(chosen))
        )
    }
    for user_id, status in chosen.items():
        if user_id in rows:
            rows[user_id].status = status
        else:
            db.session.add(Attendance(conference_id=conference_id, user_id=user_id, status=status))
        audit.record("minutes.attendance", actor=actor, detail={"conference": conference_id, "user": user_id})
    db.session.flush()
    live.attendance_stored(conference_id, attendance_of(conference_id))
    return len(chosen)


def add_decision(actor: User, item_id: int, text: str) -> Decision:
    place = _open_seat(actor, item_id)
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise InvalidInput(errors={"decision": "Bitte den Beschluss eingeben (höchstens 5000 Zeichen)."})
    if place.item.case_id is None:
        _check_read_by_all("decision", "Ein Beschluss zu einem allgemeinen Punkt", text, actor, "ihn")
    decision = Decision(agenda_item_id=item_id, case_id=place.item.case_id, created_by_id=actor.id)
    db.session.add(decision)
    seal_text(decision, text)
    audit.record("minutes.decision", actor=actor, case_id=place.item.case_id, detail={"item": item_id})
    live.record_stored(decision_entry(decision))
    return decision


def task_agencies(items, agencies: list[Agency]) -> dict[int, list[Agency]]:
    """For each case item shown: the agencies a task on it may go to, those of the case team (a task is case data:
    any other would never see it). A general item (not in the result) takes any agency. One query."""
    case_of = {item.id: item.case_id for item in items if item.case_id}
    if not case_of:
        return {}
    table = agency_access(set(case_of.values()), [a.id for a in agencies])
    return {item_id: [a for a in agencies if table[(case_id, a.id)].shared] for item_id, case_id in case_of.items()}


def add_task(
    actor: User, item_id: int, description: str, agency_code: str, user_id: int | None, due: date | None
) -> Task:
    place = _open_seat(actor, item_id)
    description = (description or "").strip()
    errors = {}
    if not description or len(description) > 2000:
        errors["task"] = "Bitte beschreiben Sie die Aufgabe (höchstens 2000 Zeichen)."
    elif place.item.case_id is None:
        try:
            _check_read_by_all("task", "Eine Aufgabe zu einem allgemeinen Punkt", description, actor, "sie")
        except InvalidInput as exc:
            errors |= exc.errors
    if due is not None and due < today():
        errors["due"] = PAST_DUE
    case_id = place.item.case_id
    agency, person = _responsible(agency_code, user_id, case_id, errors)
    if errors:
        raise InvalidInput(errors=errors)
    task = Task(
        agenda_item_id=item_id,
        case_id=case_id,
        responsible_agency_id=agency.id,
        responsible_user_id=person.id if person else None,
        due_date=due,
    )
    db.session.add(task)
    seal_text(task, description)
    audit.record("minutes.task", actor=actor, case_id=place.item.case_id, detail={"item": item_id, "task": task.id})
    live.record_stored(task_entry(task))
    return task


PAST_DUE = "Das Fälligkeitsdatum darf nicht in der Vergangenheit liegen."


def _responsible(
    agency_code: str, user_id: int | None, case_id: int | None, errors: dict, current: int | None = None
) -> tuple:
    """The agency (by code) and person (optional) a task goes to; the problems are added to `errors`. A deactivated
    agency takes no task, but keeps the one it has (`current`: its agency's id)."""
    agency = db.session.scalar(select(Agency).where(Agency.code == (agency_code or "").upper()))
    if agency is None:
        errors["agency"] = "Unbekannte Stelle."
    elif not agency.active and agency.id != current:
        errors["agency"] = f"{agency.code} ist deaktiviert und übernimmt keine Aufgaben."
    person = db.session.get(User, user_id) if user_id else None
    if user_id and (person is None or agency is None or person.agency_id != agency.id or not person.active):
        errors["person"] = "Die verantwortliche Person muss zur gewählten Stelle gehören."
    if agency is not None and case_id and not agency_shares(agency.id, case_id):
        # a case task is case data: an agency outside the case team would never see it in its task list
        errors["agency"] = (
            f"{agency.code} hat für diesen Fall keine Einwilligung und sähe die Aufgabe nicht. "
            "Bitte eine Stelle des Fallteams wählen."
        )
    return agency, person


def _open_task_for(actor: User, task_id: int) -> tuple[Task, Conference]:
    task, conference = _task_for(actor, task_id)
    if task.status == "erledigt":
        raise Conflict("Die Aufgabe ist erledigt. Öffnen Sie sie wieder, um sie zu ändern.")
    return task, conference


def change_task(actor: User, task_id: int, agency_code: str, user_id: int | None, due: date | None) -> list[str]:
    """Give an open task to another agency or person, or another due date (a deadline extended): the same people
    as may tick it off, at any time until it is done. What it says stays as recorded. Returns the fields that
    changed (none: nothing is recorded)."""
    task, _conference = _open_task_for(actor, task_id)
    errors = {}
    if due is not None and due != task.due_date and due < today():
        errors["due"] = PAST_DUE  # a date already passed may stay, a new one lies ahead
    agency, person = _responsible(agency_code, user_id, task.case_id, errors, task.responsible_agency_id)
    if errors:
        raise InvalidInput(errors=errors)
    new = {"responsible_agency_id": agency.id, "responsible_user_id": person.id if person else None, "due_date": due}
    changed = [key for key, value in new.items() if getattr(task, key) != value]
    if changed:
        for key in changed:
            setattr(task, key, new[key])
        audit.record("task.update", actor=actor, case_id=task.case_id, detail={"task": task.id, "fields": changed})
        live.record_stored(task_entry(task))
    return changed


def task_to_change(actor: User, task_id: int) -> tuple[Task, Conference]:
    """The task for its change form (its text opened for the actor), by the rules of `change_task`."""
    task, conference = _open_task_for(actor, task_id)
    if task.case_id:  # a case's task is case data: its form is a read, on record like the case page
        audit.record("case.read", actor=actor, case_id=task.case_id, purpose="Aufgabe ändern", detail={"task": task.id})
    return task, conference


RECORD_KINDS = {"decision": Decision, "task": Task}


def withdraw_record(actor: User, kind: str, record_id: int) -> int:
    """Take back a decision or task recorded by mistake (a typo, the wrong item, twice), while the minutes are
    open: the moderator, who corrects the minutes (after an objection, say). The record goes; the audit log keeps
    that it was there. Returns its item."""
    model = RECORD_KINDS.get(kind)
    row = db.session.get(model, record_id) if model else None
    if row is None:
        raise NotFound("Eintrag nicht gefunden.")
    place = _open_seat(actor, row.agenda_item_id)  # a participant who may see the item; the minutes still open
    if actor.id != place.conference.moderator_id:
        raise Forbidden("Beschlüsse und Aufgaben zieht die Moderation zurück.")
    item_id = row.agenda_item_id
    db.session.delete(row)
    audit.record(
        "minutes.withdraw",
        actor=actor,
        case_id=place.item.case_id,
        detail={"item": item_id, "kind": kind, "record": record_id},
    )
    live.record_stored({"item": item_id, "kind": kind, "id": record_id, "withdrawn": True})
    return item_id


def complete_task(actor: User, task_id: int) -> Task:
    """Mark a task done: its agency or the conference's moderator; a case task needs sight of the case."""
    return _set_task_status(actor, task_id, "erledigt")


def reopen_task(actor: User, task_id: int) -> Task:
    """Open a task marked done by mistake (or that came back): the same people as may tick it off."""
    return _set_task_status(actor, task_id, "offen")


def _task_for(actor: User, task_id: int) -> tuple[Task, Conference]:
    """A task the actor may change (its agency, or the conference's moderator; a case task needs sight of the
    case), its text opened; anyone else finds none."""
    task = db.session.get(Task, task_id)
    if task is None:
        raise NotFound("Aufgabe nicht gefunden.")
    item = db.session.get(AgendaItem, task.agenda_item_id)
    conference = db.session.get(Conference, item.conference_id)
    if actor.agency_id != task.responsible_agency_id and actor.id != conference.moderator_id:
        raise NotFound("Aufgabe nicht gefunden.")
    if task.case_id and not shares_case(actor, task.case_id):
        raise NotFound("Aufgabe nicht gefunden.")
    open_texts([task], actor)
    return task, conference


def _set_task_status(actor: User, task_id: int, status: str) -> Task:
    task, _conference = _task_for(actor, task_id)
    if task.status != status:
        task.status, task.done_at = status, utcnow() if status == "erledigt" else None
        action = "task.done" if status == "erledigt" else "task.reopen"
        audit.record(action, actor=actor, case_id=task.case_id, detail={"task": task.id})
        live.record_stored(task_entry(task))
    return task


@dataclass
class TaskRow:
    task: Task
    overdue: bool
    case_number: str | None
    conference: Conference | None = None  # where the task was set
    opens: bool = False  # whether the actor takes part in it: only then is it named (a conference exists for its
    # moderator and participants only; a colleague's task for the whole agency does not open it)
    responsible: str = ""  # "Sie", a colleague's name, or "ganze Stelle"


def awaiting_approval(actor: User) -> list[Conference]:
    """Closed minutes, not yet final, of conferences the actor takes part in, that her agency has neither approved
    nor objected to: one query."""
    voted = select(MinutesApproval.conference_id).where(MinutesApproval.agency_id == actor.agency_id)
    return list(
        db.session.scalars(
            select(Conference)
            .join(MinutesClosure, MinutesClosure.conference_id == Conference.id)
            .where(takes_part(actor.id), MinutesClosure.final_at.is_(None), Conference.id.not_in(voted))
            .order_by(Conference.start)
        )
    )


RECENTLY_DONE = timedelta(days=1)  # how long a task ticked off stays on the dashboard, to be opened again


def my_tasks(actor: User, *, only_mine: bool = False) -> list[TaskRow]:
    """Tasks of the actor or her agency: the open ones, overdue first, then those ticked off in the last day (so a
    click by mistake can be taken back); a case task only while the case is shared with her agency. `only_mine`
    leaves out the tasks given to a colleague by name (those of the whole agency stay)."""
    whose = (Task.responsible_user_id == actor.id) | (Task.responsible_agency_id == actor.agency_id)
    if only_mine:
        whose = (Task.responsible_user_id == actor.id) | (
            (Task.responsible_agency_id == actor.agency_id) & Task.responsible_user_id.is_(None)
        )
    tasks = db.session.scalars(
        select(Task)
        .where((Task.status == "offen") | (Task.done_at >= utcnow() - RECENTLY_DONE), whose)
        .order_by(Task.due_date)
    ).all()
    case_ids = {t.case_id for t in tasks if t.case_id}
    table = agency_access(case_ids, [actor.agency_id])
    tasks = [t for t in tasks if not t.case_id or shared_with(actor, t.case_id, table)]
    open_texts(tasks, actor)
    numbers = (
        dict(db.session.execute(select(Case.id, Case.number).where(Case.id.in_(case_ids))).all()) if case_ids else {}
    )
    item_ids = {t.agenda_item_id for t in tasks}
    where = (
        dict(
            db.session.execute(
                select(AgendaItem.id, Conference)
                .join(Conference, Conference.id == AgendaItem.conference_id)
                .where(AgendaItem.id.in_(item_ids))
            ).all()
        )
        if item_ids
        else {}
    )
    opens = visible_conference_ids(actor, {c.id for c in where.values()}) if where else set()
    names = user_names({t.responsible_user_id for t in tasks if t.responsible_user_id != actor.id})
    day = today()
    rows = []
    for t in tasks:
        conference = where.get(t.agenda_item_id)
        visible = conference is not None and conference.id in opens
        responsible = "Sie" if t.responsible_user_id == actor.id else names.get(t.responsible_user_id) or "ganze Stelle"
        rows.append(TaskRow(t, t.overdue_on(day), numbers.get(t.case_id), conference, visible, responsible))
    rows.sort(key=lambda r: (r.task.status != "offen", not r.overdue, r.task.due_date or date.max))
    shown = [r.task.case_id for r in rows if r.task.case_id]
    if shown:  # a task of a case is case data
        audit.record("task.list", actor=actor, purpose="Meine Aufgaben", case_ids=shown)
    return rows


# -- closing, approval, addenda -------------------------------------------------------------------------


def close_minutes(actor: User, conference_id: int) -> MinutesClosure:
    """Freeze the text of every item (rendered, sanitized, hashed); from now on the agencies approve."""
    conference = _moderated(actor, conference_id)
    if closure(conference_id) is not None:
        raise Conflict("Das Protokoll ist bereits abgeschlossen.")
    if not conference.held:
        raise Conflict("Ein Protokoll wird während oder nach der Konferenz abgeschlossen.")
    # A new round: objections to an earlier closing were shown while the text was corrected; they are answered now.
    db.session.execute(delete(MinutesApproval).where(MinutesApproval.conference_id == conference_id))
    texts = service.texts_of(item.id for item in conference.items)
    _check_general_texts(conference, texts)
    body = _freeze(conference_id, texts)
    row = MinutesClosure(
        conference_id=conference_id,
        closed_by_id=actor.id,
        frozen=body,
        sha256=keyring().seal(body.encode()),  # keyed: see Keyring.seal
    )
    db.session.add(row)
    db.session.flush()
    _step(conference_id, "abgeschlossen", actor.id, sha256=row.sha256)
    audit.record("minutes.close", actor=actor, detail={"conference": conference_id, "sha256": row.sha256})
    live.closing_changed(conference_id, closed=True)
    _ask_for_approval(conference, actor)
    if conference.state == "laeuft":  # the minutes are closed after the meeting: it has ended
        set_state(actor, conference_id, "beendet")
    return row


def _freeze(conference_id: int, texts: dict[int, str]) -> str:
    """The frozen minutes as stored: item id -> its text and the text rendered; a case item's entry sealed under
    the case key (bound to conference and item), so that destroying the key erases it here too."""
    ciphers = service.item_ciphers(texts)
    frozen = {}
    for item_id, text in texts.items():
        entry = {"text": text, "html": render_light_markdown(text)}
        cipher = ciphers.get(item_id)
        if cipher is not None and cipher.erased:
            entry = {"erased": True}  # the case was erased: nothing of it is frozen
        elif cipher is not None and cipher.key is None:
            raise service.Unsealable()  # freezing now would lose the text for good
        elif cipher is not None:
            raw = json.dumps(entry, ensure_ascii=False).encode()
            sealed = cipher.encrypt(*_frozen_field(conference_id, item_id), raw)
            entry = {"sealed": base64.b64encode(sealed).decode()}
        frozen[str(item_id)] = entry
    return json.dumps(frozen, sort_keys=True, ensure_ascii=False)


def _frozen_field(conference_id: int, item_id) -> tuple[str, str, str]:
    """Where a case item's frozen entry is bound to: table, record (conference and item), field."""
    return "minutes_closures", f"{conference_id}/{item_id}", "frozen"


def _open_frozen(cipher, conference_id: int, item_id, entry: dict) -> dict:
    """A sealed frozen entry opened: its text and rendering. Raises DecryptionError (logged and audited unless
    the case is erased) and ValueError for an entry that is not base64."""
    blob = base64.b64decode(entry["sealed"])
    return json.loads(cipher.read_bytes(*_frozen_field(conference_id, item_id), blob))


def frozen_entries(closure: MinutesClosure, item_ids) -> dict[int, dict]:
    """The frozen text and rendering of these items (the reader may see them), opened where sealed; an entry that
    does not decrypt reads as unreadable (logged and audited)."""
    stored = json.loads(closure.frozen)
    wanted = [i for i in item_ids if str(i) in stored]
    ciphers = service.item_ciphers(i for i in wanted if "sealed" in stored[str(i)])
    out = {}
    for item_id in wanted:
        entry = stored[str(item_id)]
        if entry.get("erased"):
            entry = {"text": ERASED, "html": html.escape(ERASED)}
        elif "sealed" in entry:
            try:
                entry = _open_frozen(ciphers[item_id], closure.conference_id, item_id, entry)
            except DecryptionError:
                marker = ERASED if ciphers[item_id].erased else UNREADABLE
                entry = {"text": marker, "html": html.escape(marker)}
        out[item_id] = entry
    return out


# The states of a closure's check, as the results page and the data-protection officer read them.
SEAL_INTACT = "Prüfsumme geprüft: Der abgeschlossene Text ist unverändert."
SEAL_BROKEN = "Der gespeicherte Text stimmt nicht mit der Prüfsumme überein (nach dem Abschluss geändert)."
SEAL_REPLACED = (
    "Der gespeicherte Text ist nicht die zuletzt abgeschlossene Fassung: Seine Prüfsumme ist nicht die, die beim "
    "letzten Abschluss festgehalten wurde."
)
SEAL_UNCHECKABLE = (
    "Die Prüfsumme ist nicht mehr prüfbar: Das Protokoll wurde vor der Verschlüsselung abgeschlossen, "
    "und ein Fall darin ist gelöscht."
)


@dataclass(frozen=True)
class SealCheck:
    intact: bool | None  # None: can no longer be checked
    text: str


INTACT, BROKEN = SealCheck(True, SEAL_INTACT), SealCheck(False, SEAL_BROKEN)


def check_closure(row: MinutesClosure, recorded: str | None = None) -> SealCheck:
    """Is the frozen text what was hashed when the minutes were closed, and is that hash the one `recorded` at the
    last closing (so that an earlier round's text, or another conference's, put in its place is found too)?
    Minutes closed since the minutes are sealed are hashed over the stored text; those closed before (migration
    0011) over the text before their case items were sealed, rebuilt here from the opened entries. Nothing of the
    text leaves this function."""
    if recorded is not None and not hmac.compare_digest(recorded, row.sha256):
        return SealCheck(False, SEAL_REPLACED)
    if not row.hashed_plain:
        return INTACT if hmac.compare_digest(keyring().seal(row.frozen.encode()), row.sha256) else BROKEN
    try:
        return _check_plain(row)
    except (ValueError, TypeError, KeyError, AttributeError):  # not the JSON the closing wrote: changed
        return BROKEN


def _check_plain(row: MinutesClosure) -> SealCheck:
    stored = json.loads(row.frozen)
    sealed = {key: int(key) for key, entry in stored.items() if isinstance(entry, dict) and "sealed" in entry}
    if any(str(item_id) != key for key, item_id in sealed.items()):
        return BROKEN  # the closing writes item ids as plain numbers
    ciphers = service.item_ciphers(sealed.values())
    plain, gone = dict(stored), False
    for key, item_id in sealed.items():
        cipher = ciphers.get(item_id)
        if cipher is None:  # the item is gone or no longer a case item: the text was changed
            return BROKEN
        try:
            plain[key] = _open_frozen(cipher, row.conference_id, item_id, stored[key])
        except DecryptionError:
            if not cipher.erased:
                return BROKEN
            gone = True  # the others are still opened: one that was changed is reported as such
    if gone:
        return SealCheck(None, SEAL_UNCHECKABLE)
    body = json.dumps(plain, sort_keys=True, ensure_ascii=False)
    return INTACT if hmac.compare_digest(keyring().seal(body.encode()), row.sha256) else BROKEN


def seal_of(row: MinutesClosure) -> SealCheck:
    """The check the results page shows: against the hash the last closing recorded in the approval steps."""
    recorded = db.session.scalar(
        select(ApprovalStep.sha256)
        .where(ApprovalStep.conference_id == row.conference_id, ApprovalStep.kind == "abgeschlossen")
        .order_by(ApprovalStep.id.desc())
        .limit(1)
    )
    return check_closure(row, recorded)


def closure_findings() -> list[audit.Finding]:
    """Every closed minutes' check that did not come out intact, for the audit check, against the hash that the
    last closing wrote into the chained audit log (no text, only the conference's id and title, which hold no case
    data)."""
    recorded: dict[int, str] = {}
    for (detail,) in db.session.execute(
        select(AuditEvent.detail).where(AuditEvent.action == "minutes.close").order_by(AuditEvent.id)
    ):
        try:
            closing = json.loads(detail)
            recorded[int(closing["conference"])] = str(closing["sha256"])
        except (ValueError, TypeError, KeyError):
            continue  # the chain check reports a changed event
    findings = []
    rows = db.session.execute(
        select(MinutesClosure, Conference.title).join(Conference, Conference.id == MinutesClosure.conference_id)
    ).all()
    for row, title in rows:
        check = check_closure(row, recorded.get(row.conference_id))
        if not check.intact:
            subject = f"Protokoll der Konferenz {row.conference_id} („{title}“)"
            findings.append(audit.Finding(0, check.text, subject=subject))
    return findings


def _ask_for_approval(conference: Conference, actor: User) -> None:
    """Every participant learns by e-mail that the minutes wait for her agency's decision."""
    _tell(
        conference,
        [p.user for p in conference.participants if p.active and p.user_id != actor.id],
        "Protokoll zur Genehmigung",
        f"die Moderation hat das Protokoll der Konferenz „{conference.title}“ vom {tag(conference.start)} "
        "abgeschlossen. Bitte genehmigen Sie es für Ihre Stelle oder erheben Sie Einspruch (eine Entscheidung je "
        "Stelle):",
    )


def _tell(conference: Conference, users, subject: str, text: str) -> None:
    """An e-mail about the minutes to these users (active accounts): the conference's title and date, what
    happened and the link to the results page, no case data (the title is checked for it when the conference is
    planned; objection reasons when they are given)."""
    url = f"{conference_url(conference)}/protokoll/ergebnisse#genehmigung"
    body = f"Guten Tag,\n\n{text}\n\n  {url}\n"
    for user in users:
        if user.active:
            mail.enqueue(
                user,
                f"{subject}: {conference.title} ({tag(conference.start)})",
                body,
                topic=f"conference:{conference.id}",
            )


def general_item_hint(item_id: int, user_id: int) -> str:
    """For the live minutes: what the writer is told while a general item's text names a case (see
    `_check_general_texts`, which refuses to close such minutes), or "" when it names none or is a case item."""
    item = db.session.get(AgendaItem, item_id)
    user = db.session.get(User, user_id)
    if item is None or item.case_id is not None or user is None:
        return ""
    found = case_data_in(service.text_of(item_id), user)
    if not found:
        return ""
    return (
        f"Hinweis: Dieser allgemeine Punkt darf {found} enthalten. Alle Teilnehmenden lesen ihn, auch Stellen ohne "
        "Einwilligung für einen Fall. Bitte entfernen; sonst kann das Protokoll nicht abgeschlossen werden."
    )


def case_data_for_all(conference: Conference, text: str) -> str | None:
    """What a general item's text names of a case (see `case_data_in`), or None. Every participant reads it, and
    it is frozen into every agency's export: so it may name no case number, no client of the conference's cases,
    and no client that any participating agency knows, whoever wrote it (a Jobcenter's client named by the
    Jobcenter reaches the Ausländerbehörde all the same). Looked at as one participant of each agency and role."""
    if found := case_data_in(text, None, [item.case_id for item in conference.items if item.case_id]):
        return found
    readers = {(u.agency_id, u.role): u for u in [conference.moderator, *(p.user for p in conference.participants)]}
    for reader in readers.values():
        if found := case_data_in(text, reader):
            return found
    return None


def _check_general_texts(conference: Conference, texts: dict[int, str]) -> None:
    """Found before closing, each general item that names a case (see `case_data_for_all`) is named, so the
    moderator can correct it."""
    errors = {}
    for number, item in enumerate(conference.items, start=1):  # numbered as the agenda shows them
        if item.case_id is None:
            found = case_data_for_all(conference, texts.get(item.id, ""))
            if found:
                errors[f"top-{item.id}"] = (
                    f"TOP {number} ({item.title}) darf {found} enthalten: alle Teilnehmenden lesen ihn, auch "
                    "Stellen ohne Einwilligung für einen Fall. Bitte den Text im Protokoll korrigieren."
                )
    if errors:
        raise InvalidInput("Das Protokoll kann so noch nicht abgeschlossen werden.", errors=errors)


def reopen_minutes(actor: User, conference_id: int) -> None:
    """The moderator opens closed minutes again for corrections, after an objection say. Approvals given lapse (the
    text they approved will change); objections stay on the page with their reasons until the minutes are closed
    again, which starts a new round. Final minutes are never reopened: they take only addenda."""
    _moderated(actor, conference_id)
    row = closure(conference_id)
    if row is None:
        raise Conflict("Das Protokoll ist nicht abgeschlossen.")
    if row.final_at is not None:
        raise Conflict("Ein endgültiges Protokoll wird nicht wieder geöffnet; möglich ist nur ein Nachtrag.")
    db.session.execute(
        delete(MinutesApproval).where(
            MinutesApproval.conference_id == conference_id, MinutesApproval.decision == "genehmigt"
        )
    )
    db.session.delete(row)
    _step(conference_id, "wieder_geoeffnet", actor.id, sha256=row.sha256)
    audit.record("minutes.reopen", actor=actor, detail={"conference": conference_id, "sha256": row.sha256})
    live.closing_changed(conference_id, closed=False)


def _step(conference_id: int, kind: str, user_id: int | None, **data) -> None:
    db.session.add(ApprovalStep(conference_id=conference_id, kind=kind, user_id=user_id, **data))


@dataclass
class StepRow:
    """A step of the approval as its history shows it."""

    at: datetime
    label: str
    agency: str
    person: str
    reason: str
    sha256: str


def approval_history(conference_id: int) -> list[StepRow]:
    """Every step of the approval, oldest first, with agency and person (one query). Read by the participants,
    like the objections' reasons, which are checked for case data when given."""
    rows = db.session.execute(
        select(ApprovalStep, Agency.code, User.display_name)
        .outerjoin(Agency, Agency.id == ApprovalStep.agency_id)
        .outerjoin(User, User.id == ApprovalStep.user_id)
        .where(ApprovalStep.conference_id == conference_id)
        .order_by(ApprovalStep.id)
    ).all()
    return [
        StepRow(s.at, APPROVAL_STEPS.get(s.kind, s.kind), code or "", name or "", s.reason, s.sha256)
        for s, code, name in rows
    ]


def participating_agencies(conference: Conference) -> set[int]:
    return {p.user.agency_id for p in conference.participants if p.active}


def approve(actor: User, conference_id: int, decision: str, reason: str = "") -> MinutesApproval:
    """A participating agency approves or objects (with a reason); all approved makes the minutes final."""
    conference = load_conference(actor, conference_id)
    # Locked: of two agencies whose approvals complete the minutes at the same moment, one sees the other's.
    row = db.session.get(MinutesClosure, conference_id, with_for_update=True)
    if row is None:
        raise Conflict("Das Protokoll ist noch nicht abgeschlossen.")
    if row.final_at is not None:
        raise Conflict("Das Protokoll ist bereits endgültig; möglich ist nur noch ein Nachtrag.")
    if actor.agency_id not in participating_agencies(conference):
        raise Forbidden("Nur teilnehmende Stellen genehmigen das Protokoll.")
    if decision not in APPROVAL:
        raise InvalidInput(errors={"decision": "Bitte genehmigen oder Einspruch erheben."})
    reason = (reason or "").strip()
    if decision == "einspruch" and not reason:
        raise InvalidInput(errors={"reason": "Ein Einspruch braucht eine Begründung."})
    if len(reason) > 5000:  # refused with the text kept, not cut off unseen
        raise InvalidInput(errors={"reason": "Höchstens 5000 Zeichen."})
    _check_read_by_all("reason", "Die Begründung", reason, actor, "sie")
    vote = db.session.get(MinutesApproval, (conference_id, actor.agency_id))
    if vote is not None and (vote.decision, vote.reason) == (decision, reason):
        return vote  # saved again unchanged: nothing happened that the history would name
    if vote is None:
        vote = MinutesApproval(conference_id=conference_id, agency_id=actor.agency_id, decision=decision)
        db.session.add(vote)
    vote.decision, vote.reason, vote.user_id, vote.at = decision, reason, actor.id, utcnow()
    _step(conference_id, decision, actor.id, agency_id=actor.agency_id, reason=reason)
    db.session.flush()
    approved = {
        a.agency_id
        for a in db.session.scalars(select(MinutesApproval).where(MinutesApproval.conference_id == conference_id))
        if a.decision == "genehmigt"
    }
    if participating_agencies(conference) <= approved:
        row.final_at = utcnow()
        _step(conference_id, "endgueltig", None, sha256=row.sha256)  # all agencies did it, not the last one
        _tell(
            conference,
            [p.user for p in conference.participants if p.active],
            "Protokoll endgültig",
            f"alle Stellen haben das Protokoll der Konferenz „{conference.title}“ vom {tag(conference.start)} "
            "genehmigt. Es ist jetzt endgültig; Änderungen sind nur noch als Nachtrag möglich:",
        )
    elif decision == "einspruch":  # the moderator corrects the minutes: she must not find it by chance
        _tell(
            conference,
            [conference.moderator],
            "Einspruch gegen das Protokoll",
            f"{actor.display_name} ({actor.agency.code}) hat Einspruch gegen das Protokoll der Konferenz "
            f"„{conference.title}“ vom {tag(conference.start)} erhoben. Begründung: {reason}\n\nSie können das "
            "Protokoll wieder öffnen und korrigieren:",
        )
    audit.record("minutes.approval", actor=actor, detail={"conference": conference_id, "decision": decision})
    return vote


def _check_read_by_all(field: str, label: str, text: str, actor: User, it: str) -> None:
    """Addenda, objection reasons and general items' records are read by every participant, also by agencies
    without consent for the conference's cases: like a conference's title, they name no case number and no client."""
    check_no_case_data(
        field, label, text, actor, f"alle Teilnehmenden lesen {it}, auch Stellen ohne Einwilligung für einen Fall"
    )


def add_addendum(actor: User, conference_id: int, text: str) -> Addendum:
    load_conference(actor, conference_id)
    row = closure(conference_id)
    if row is None or row.final_at is None:
        raise Conflict("Nachträge gibt es erst zu einem endgültigen Protokoll.")
    text = (text or "").strip()
    if not text or len(text) > 5000:
        raise InvalidInput(errors={"addendum": "Bitte den Nachtrag eingeben (höchstens 5000 Zeichen)."})
    _check_read_by_all("addendum", "Der Nachtrag", text, actor, "ihn")
    addendum = Addendum(conference_id=conference_id, text=text, user_id=actor.id)
    db.session.add(addendum)
    db.session.flush()
    audit.record("minutes.addendum", actor=actor, detail={"conference": conference_id})
    return addendum


def conference_of(item_id: int) -> int:
    """The conference of an agenda item; an item that does not exist (any more: removed meanwhile) is a 404."""
    conference_id = db.session.scalar(select(AgendaItem.conference_id).where(AgendaItem.id == item_id))
    if conference_id is None:
        raise NotFound("Tagesordnungspunkt nicht gefunden.")
    return conference_id


def decisions_for(item_ids) -> dict[int, list[Decision]]:
    """The decisions of these items (which the caller has checked the reader may see), texts decrypted."""
    return _by_item(item_ids, Decision)


def tasks_for(item_ids) -> dict[int, list[Task]]:
    """The tasks of these items (which the caller has checked the reader may see), descriptions decrypted."""
    return _by_item(item_ids, Task)


def _by_item(item_ids, model) -> dict[int, list]:
    out: dict[int, list] = {i: [] for i in item_ids}
    if item_ids:
        rows = db.session.scalars(select(model).where(model.agenda_item_id.in_(item_ids)).order_by(model.id))
        for row in open_texts(rows):
            out[row.agenda_item_id].append(row)
    return out


# -- entries: what the minutes page, the results page and the live events show of a decision or task ----------


def decision_entry(decision: Decision) -> dict:
    """A decision as the pages show it and the item's room receives it: its text, nothing of the case."""
    return {"item": decision.agenda_item_id, "kind": "decision", "id": decision.id, "text": decision.text}


def task_entries(tasks) -> list[dict]:
    """Tasks as the pages show them: description, responsible agency and person, due date, status."""
    tasks = list(tasks)
    person_ids = {t.responsible_user_id for t in tasks if t.responsible_user_id}
    agency_ids = {t.responsible_agency_id for t in tasks}
    names = (
        dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(person_ids))).all())
        if person_ids
        else {}
    )
    codes = (
        dict(db.session.execute(select(Agency.id, Agency.code).where(Agency.id.in_(agency_ids))).all())
        if agency_ids
        else {}
    )
    day = today()
    return [
        {
            "item": t.agenda_item_id,
            "kind": "task",
            "id": t.id,
            "text": t.description,
            "agency": codes.get(t.responsible_agency_id, ""),
            "person": names.get(t.responsible_user_id),
            "due": t.due_date.strftime("%d.%m.%Y") if t.due_date else None,
            "status": t.status,
            "done": t.status == "erledigt",
            "overdue": t.overdue_on(day),
        }
        for t in tasks
    ]


def task_entry(task: Task) -> dict:
    return task_entries([task])[0]


def decision_entries(item_ids) -> dict[int, list[dict]]:
    return {i: [decision_entry(d) for d in rows] for i, rows in decisions_for(item_ids).items()}


def task_entries_for(item_ids) -> dict[int, list[dict]]:
    by_item = tasks_for(item_ids)
    entries = task_entries(t for rows in by_item.values() for t in rows)
    out: dict[int, list[dict]] = {i: [] for i in by_item}
    for entry in entries:
        out[entry["item"]].append(entry)
    return out


@dataclass
class CaseRecords:
    """What the conferences decided and assigned about one case, the newest first: rows with the
    conference's id, title and start, and the decision, or the task as the pages show it."""

    decisions: list
    tasks: list[tuple[object, dict]]
    more_decisions: bool = False  # more than CASE_RECORDS_SHOWN: all are in each conference's results
    more_tasks: bool = False


CASE_RECORDS_SHOWN = 30  # decisions, and tasks, on the case page


_CONFERENCE_OF_ITEM = (Conference.id.label("conference_id"), Conference.title, Conference.start)
# Built once, with the case as a bound parameter (building a statement costs more than running one this small).
_CASE_DECISIONS = (
    select(*_CONFERENCE_OF_ITEM, Decision)
    .join(AgendaItem, AgendaItem.conference_id == Conference.id)
    .join(Decision, Decision.agenda_item_id == AgendaItem.id)
    .where(Decision.case_id == bindparam("case_id"))
    .order_by(Conference.start.desc(), Decision.id.desc())  # the newest first, also within a conference
    .limit(CASE_RECORDS_SHOWN + 1)
)
_CASE_TASKS = (
    select(*_CONFERENCE_OF_ITEM, Task)
    .join(AgendaItem, AgendaItem.conference_id == Conference.id)
    .join(Task, Task.agenda_item_id == AgendaItem.id)
    .where(Task.case_id == bindparam("case_id"))
    .order_by(Task.status.desc(), Conference.start.desc(), Task.id.desc())  # "offen" first, then the newest
    .limit(CASE_RECORDS_SHOWN + 1)
)


def case_records(case_id: int, access: Access) -> CaseRecords | None:
    """The decisions and tasks recorded on the case's agenda items, in any conference (two queries, two more for
    the tasks' people and agencies if there are tasks); None unless the case is shared with the viewer's agency
    (`access`, from loading the case): they are case data of the case team."""
    if not access.shared:
        return None
    decisions = db.session.execute(_CASE_DECISIONS, {"case_id": case_id}).all()
    tasks = db.session.execute(_CASE_TASKS, {"case_id": case_id}).all()
    more = len(decisions) > CASE_RECORDS_SHOWN, len(tasks) > CASE_RECORDS_SHOWN
    decisions, tasks = decisions[:CASE_RECORDS_SHOWN], tasks[:CASE_RECORDS_SHOWN]
    open_texts([row.Decision for row in decisions] + [row.Task for row in tasks])
    entries = task_entries(row.Task for row in tasks)
    return CaseRecords(decisions, list(zip(tasks, entries, strict=True)), *more)


def item_entries(item_id: int) -> list[dict]:
    """One item's decisions and tasks as entries: what a (re)joining minutes page may have missed meanwhile."""
    return decision_entries([item_id])[item_id] + task_entries_for([item_id])[item_id]


def attendance_of(conference_id: int) -> dict[int, str]:
    rows = db.session.scalars(select(Attendance).where(Attendance.conference_id == conference_id))
    return {a.user_id: a.status for a in rows}


def approvals_of(conference_id: int) -> dict[int, MinutesApproval]:
    rows = db.session.scalars(select(MinutesApproval).where(MinutesApproval.conference_id == conference_id))
    return {a.agency_id: a for a in rows}


def addenda_of(conference_id: int) -> list[Addendum]:
    return db.session.scalars(
        select(Addendum).where(Addendum.conference_id == conference_id).order_by(Addendum.id)
    ).all()


def versions(item_ids) -> dict[int, list[tuple]]:
    """Earlier states of each item (its snapshots): when, and who had written up to then."""
    out: dict[int, list[tuple]] = {i: [] for i in item_ids}
    if not item_ids:
        return out
    snaps = db.session.scalars(
        select(MinutesSnapshot).where(MinutesSnapshot.agenda_item_id.in_(item_ids)).order_by(MinutesSnapshot.id)
    ).all()
    ids = {int(a) for s in snaps for a in s.authors.split(",") if a}
    names = dict(db.session.execute(select(User.id, User.display_name).where(User.id.in_(ids))).all()) if ids else {}
    for snap in snaps:
        authors = [names.get(int(a), "?") for a in snap.authors.split(",") if a]
        out[snap.agenda_item_id].append((snap.created_at, ", ".join(authors)))
    return out


def approval_rows(participants, approvals: dict) -> list[tuple[str, str, str]]:
    """(agency code, decision, reason) of every participating agency, by code; "offen" where none was given."""
    agencies = {p.user.agency.id: p.user.agency.code for p in participants if p.active}
    rows = []
    for agency_id, code in sorted(agencies.items(), key=lambda a: a[1]):
        vote = approvals.get(agency_id)
        rows.append((code, APPROVAL[vote.decision] if vote else "offen", vote.reason if vote else ""))
    return rows
