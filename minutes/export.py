"""Exports of the minutes: each agency's copy holds only the items it may see."""

from __future__ import annotations

import json

from agenda import items as agenda_items
from fallkonferenz import audit
from fallkonferenz.models import User

from . import records, service


def markdown(actor: User, conference_id: int) -> str:
    """Markdown of the minutes (the frozen text once closed), closed items only as a line without content."""
    view = agenda_items.conference_view(actor, conference_id)
    c = view.conference
    closure = records.closure(conference_id)
    frozen = json.loads(closure.frozen) if closure else {}
    visible = [i.id for i in view.items if not i.confidential]
    decisions, tasks = records.decisions_for(visible), records.tasks_for(visible)
    lines = [
        f"# Protokoll: {c.title}",
        "",
        f"{c.start:%d.%m.%Y %H:%M}–{c.end:%H:%M} Uhr (UTC), {c.location}".rstrip(", "),
    ]
    if closure:
        state = "endgültig" if closure.final_at else "abgeschlossen, Genehmigung läuft"
        lines += ["", f"Stand: {state} (SHA-256 {closure.sha256})"]
    for item in view.items:
        lines += ["", f"## {item.number} – {item.title}"]
        if item.confidential:
            lines.append("Für Ihre Stelle geschlossen (keine Einwilligung).")
            continue
        if item.case_number:
            lines.append(f"Fall {item.case_number}" + (f" – {item.client_name}" if item.client_name else ""))
        text = frozen[str(item.id)]["text"] if str(item.id) in frozen else service.text_of(item.id)
        lines += ["", text or "(kein Text)"]
        for d in decisions[item.id]:
            lines.append(f"- **Beschluss:** {d.text}")
        for t in tasks[item.id]:
            due = f", bis {t.due_date:%d.%m.%Y}" if t.due_date else ""
            lines.append(f"- **Aufgabe** ({t.responsible_agency.code}{due}, {t.status}): {t.description}")
    for a in records.addenda_of(conference_id) if closure else []:
        lines += ["", f"**Nachtrag vom {a.at:%d.%m.%Y}:** {a.text}"]
    audit.record("minutes.export", actor=actor, detail={"conference": conference_id, "format": "md", "items": visible})
    return "\n".join(lines) + "\n"
