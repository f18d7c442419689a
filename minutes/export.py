"""Exports of the minutes, Markdown and PDF from one view: each agency's copy holds only the items it may see."""

from __future__ import annotations

from dataclasses import dataclass, field

from flask import render_template

from agenda import items as agenda_items
from fallkonferenz import audit
from fallkonferenz.localtime import datum, tag, uhrzeit
from fallkonferenz.models import User

from . import records, service


@dataclass
class ExportItem:
    view: agenda_items.ItemView
    text: str = ""
    html: str = ""
    decisions: list = field(default_factory=list)
    tasks: list = field(default_factory=list)


WITHHELD = (
    "(Text zurückgehalten: er nennt Daten eines Falls, liest sich aber in jedem Exemplar. Die Moderation "
    "korrigiert ihn vor dem Abschluss des Protokolls.)"
)


def _naming_a_case(view: agenda_items.ConferenceView, texts: dict[int, str]) -> set[int]:
    """General items of open minutes whose text names a case (`records.case_data_for_all`): every agency's copy
    would carry it, also of agencies without consent. Closing refuses such minutes; until then an export leaves the
    text out, for every reader alike, so the reader learns nothing about which case."""
    general = [i.id for i in view.items if not i.confidential and i.case_id is None and i.id in texts]
    return {i for i in general if records.case_data_for_all(view.conference, texts[i])}


def export_view(actor: User, conference_id: int, fmt: str) -> dict:
    """What the reader may take home: the frozen text once closed, closed items without any content."""
    view = agenda_items.conference_view(actor, conference_id)
    closure = records.closure(conference_id)
    visible = [i.id for i in view.items if not i.confidential]
    frozen = records.frozen_entries(closure, visible) if closure else {}
    decisions, tasks = records.decisions_for(visible), records.tasks_for(visible)
    current = service.texts_of(i for i in visible if i not in frozen)
    naming = _naming_a_case(view, current) if closure is None else set()
    out = []
    for item in view.items:
        row = ExportItem(item)
        if not item.confidential:
            stored = frozen.get(item.id)
            row.text = WITHHELD if item.id in naming else stored["text"] if stored else current[item.id]
            row.html = stored["html"] if stored else records.render_light_markdown(row.text)
            row.decisions, row.tasks = decisions[item.id], tasks[item.id]
        out.append(row)
    audit.record(
        "minutes.export",
        actor=actor,
        detail={"conference": conference_id, "format": fmt, "items": visible},
        case_ids=view.case_ids(),
    )
    return {
        "c": view.conference,
        "closure": closure,
        "items": out,
        "addenda": records.addenda_of(conference_id) if closure else [],
        "attendance": records.attendance_of(conference_id),
        "participants": [p for p in view.participants if p.active],
        "approvals": records.approval_rows(view.participants, records.approvals_of(conference_id)) if closure else [],
    }


def _inert(text: str) -> str:
    """Markdown keeps the participants' own markup, but no HTML: a viewer that renders HTML shows it as text."""
    return (text or "").replace("<", "&lt;")


DRAFT = "Entwurf – noch nicht abgeschlossen und nicht genehmigt; der Text kann sich noch ändern."


def markdown(actor: User, conference_id: int) -> str:
    """The minutes as Markdown."""
    data = export_view(actor, conference_id, "md")
    c, closure = data["c"], data["closure"]
    lines = [
        f"# Protokoll: {_inert(c.title)}",
        "",
        _inert(f"{datum(c.start)}–{uhrzeit(c.end)} Uhr, {c.location}".rstrip(", ")),
    ]
    if closure:
        state = "endgültig" if closure.final_at else "abgeschlossen, Genehmigung läuft"
        lines += ["", f"Stand: {state} (Prüfsumme HMAC-SHA-256 {closure.sha256})"]
    else:
        lines += ["", f"Stand: {DRAFT}"]
    lines += ["", "## Anwesenheit", ""]
    for p in data["participants"]:
        status = data["attendance"].get(p.user_id, "nicht erfasst")
        lines.append(f"- {_inert(p.user.display_name)} ({p.user.agency.code}): {status}")
    for row in data["items"]:
        item = row.view
        lines += ["", f"## {item.number} – {_inert(item.title)}"]
        if item.confidential:
            lines.append(item.closed_note)
            continue
        if item.case_number:
            lines.append(f"Fall {item.case_number}" + (f" – {_inert(item.client_name)}" if item.client_name else ""))
        lines += ["", _inert(row.text) or "(kein Text)"]
        lines += [f"- **Beschluss:** {_inert(d.text)}" for d in row.decisions]
        for t in row.tasks:
            due = f", bis {t.due_date:%d.%m.%Y}" if t.due_date else ""
            lines.append(f"- **Aufgabe** ({t.responsible_agency.code}{due}, {t.status}): {_inert(t.description)}")
    if data["approvals"]:
        lines += ["", "## Genehmigung", ""]
        lines += [
            f"- {code}: {decision}" + (f" – {_inert(reason)}" if reason else "")
            for code, decision, reason in data["approvals"]
        ]
    for a in data["addenda"]:
        by = f", {_inert(a.author.display_name)} ({a.author.agency.code})" if a.author else ""
        lines += ["", f"**Nachtrag vom {tag(a.at)}{by}:** {_inert(a.text)}"]
    return "\n".join(lines) + "\n"


def pdf(actor: User, conference_id: int) -> bytes:
    """The minutes as PDF, rendered by WeasyPrint from the print template."""
    from weasyprint import HTML  # imported on use: it loads system libraries

    document = render_template("minutes/export.html", DRAFT=DRAFT, **export_view(actor, conference_id, "pdf"))
    return HTML(string=document).write_pdf()
