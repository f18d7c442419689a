"""Kennzahlen dashboard and the CSV/PDF exports of the backlog.

Every export holds what the backlog pages show every logged-in user: de-identified texts and counts. Which cases
an item affects never leaves through here, only `case_count`.
"""

from __future__ import annotations

from flask import current_app, g, render_template, request

from fallkonferenz import audit
from fallkonferenz.localtime import local_date
from fallkonferenz.web import attachment, csv_document

from . import bp, charts, service, stats
from .models import CATEGORIES, PRIORITIES, STATES


def render_pdf(template: str, **context) -> bytes:
    """A PDF from a print template, by WeasyPrint; everything it needs is in the page (no fetches)."""
    from weasyprint import HTML  # imported on use: it loads system libraries

    return HTML(string=render_template(template, **context)).write_pdf()


MIMETYPES = {"csv": "text/csv", "pdf": "application/pdf"}


def _exported(body, what: str, kind: str):
    """The file `<what>-<day>.<kind>`, and like every export an audit event (what and in which format; the backlog
    holds no case data)."""
    audit.record("backlog.export", actor=g.user, detail={"file": what, "format": kind})
    return attachment(body, MIMETYPES[kind], f"{what}-{_stamp()}.{kind}")


def _stamp() -> str:
    return service.now().strftime("%Y-%m-%d")


def _filter_labels(f: service.BacklogFilter) -> list[str]:
    labels = []
    if f.category in CATEGORIES:
        labels.append(f"Kategorie: {CATEGORIES[f.category]}")
    if f.state in STATES:
        labels.append(f"Status: {STATES[f.state]}")
    elif f.open_only:
        labels.append("nur offene Einträge")
    if f.agency:
        labels.append(f"Stelle: {f.agency}")
    if f.text:
        labels.append(f"Suchbegriff: {f.text}")
    return labels


# -- the backlog -------------------------------------------------------------------------------------------

BACKLOG_HEADER = [
    "Nr.",
    "Titel",
    "Kategorie",
    "Status",
    "Priorität",
    "Betroffene Fälle",
    "Rechtskreise",
    "Beteiligte Stellen",
    "Arbeitsgruppe",
    "Gemeldet am",
    "Zuletzt geändert",
    "Entschieden am",
    "Empfehlung beschlossen am",
    "Umsetzungsfrist",
    "Umgesetzt am",
    "Beschreibung",
    "Lösungsvorschlag",
    "Begründung des Status",
]


def _backlog_row(row: stats.ExportRow) -> list:
    e = row.item
    return [
        e.reference,
        e.title,
        CATEGORIES.get(e.category, e.category),
        STATES.get(e.state, e.state),
        PRIORITIES.get(e.priority, "") if e.priority else "",
        e.case_count,
        ", ".join(e.rechtskreis_list),
        ", ".join(e.agency_list),
        row.working_group or "",
        local_date(e.created_at),  # the day where the agencies are, as the pages show it
        e.updated_at,
        local_date(e.decided_at) if e.decided_at else None,
        row.adopted_on,
        row.due_date,
        local_date(e.implemented_at) if e.implemented_at else None,
        e.description,
        e.proposed_solution,
        e.state_reason,
    ]


@bp.get("/lenkungsgruppe/themen.csv")
def themen_csv():
    f = stats.parse_filter(request.args)
    rows = stats.export_rows(g.user, f)
    body = csv_document(BACKLOG_HEADER, (_backlog_row(r) for r in rows))
    return _exported(body, "themenspeicher", "csv")


@bp.get("/lenkungsgruppe/themen.pdf")
def themen_pdf():
    f = stats.parse_filter(request.args)
    rows = stats.export_rows(g.user, f, limit=current_app.config["BACKLOG_PDF_MAX_ITEMS"])
    pdf = render_pdf(
        "backlog/print_themen.html",
        rows=rows,
        total=service.count_items(f),
        filters=_filter_labels(f),
        generated_at=service.now(),
        CATEGORY_LABELS=CATEGORIES,
        STATE_LABELS=STATES,
        PRIORITY_LABELS=PRIORITIES,
    )
    return _exported(pdf, "themenspeicher", "pdf")


# -- Kennzahlen ----------------------------------------------------------------------------------------------


def _page_context() -> dict:
    fig = stats.figures(g.user)
    return {
        "fig": fig,
        "charts": stats.kept("fk_backlog_charts", fig, lambda: charts.dashboard(fig)),  # drawn once per figures
        "number": charts.number,
        "CATEGORY_LABELS": CATEGORIES,
        "STATE_LABELS": STATES,
        "PHASES": stats.PHASES,
    }


@bp.get("/lenkungsgruppe/kennzahlen")
def kennzahlen():
    return render_template("backlog/kennzahlen.html", **_page_context())


def _days(value: float | None) -> str:
    return "" if value is None else charts.number(round(value, 1))


def kennzahlen_rows(fig: stats.Figures) -> list[list]:
    """The dashboard in long form: one figure a row (Kennzahl; Gruppe; Merkmal; Wert)."""
    rows: list[list] = [
        ["Stand", "erstellt am", "Datum, Uhrzeit", service.now()],
        ["Überblick", "alle Einträge", "Anzahl", fig.total],
        ["Überblick", "offene Einträge", "Anzahl", fig.open],
        ["Überblick", "betroffene Fälle", "Summe", fig.cases],
        ["Überblick", "offene Umsetzungen", "Anzahl", fig.open_implementations],
        ["Dauer bis zur Entscheidung", "Median", "Tage", _days(fig.median_days_to_decision)],
        ["Dauer bis zur Entscheidung", "entschiedene Einträge", "Anzahl", len(fig.days_to_decision)],
        ["Dauer bis zur Umsetzung", "Median", "Tage", _days(fig.median_days_to_implementation)],
        ["Dauer bis zur Umsetzung", "umgesetzte Einträge", "Anzahl", len(fig.days_to_implementation)],
    ]
    for category, label in CATEGORIES.items():
        for state, state_label in STATES.items():
            rows.append(
                [
                    "Einträge nach Kategorie und Status",
                    label,
                    state_label,
                    fig.by_category_state[category].get(state, 0),
                ]
            )
    for category, label in CATEGORIES.items():
        rows.append(["Betroffene Fälle je Kategorie", label, "alle Einträge", fig.cases_by_category.get(category, 0)])
        rows.append(
            ["Betroffene Fälle je Kategorie", label, "offene Einträge", fig.open_cases_by_category.get(category, 0)]
        )
    rows += [["Alter der offenen Einträge", label, "Anzahl", n] for label, n in fig.ages]
    for a in fig.implementations:
        rows += [
            ["Umsetzungen je Stelle", a.code, "offen", a.open],
            ["Umsetzungen je Stelle", a.code, "davon in Arbeit", a.in_progress],
            ["Umsetzungen je Stelle", a.code, "davon überfällig", a.overdue],
            ["Umsetzungen je Stelle", a.code, "erledigt", a.done],
        ]
    return rows


@bp.get("/lenkungsgruppe/kennzahlen.csv")
def kennzahlen_csv():
    body = csv_document(["Kennzahl", "Gruppe", "Merkmal", "Wert"], kennzahlen_rows(stats.figures(g.user)))
    return _exported(body, "kennzahlen", "csv")


@bp.get("/lenkungsgruppe/kennzahlen.pdf")
def kennzahlen_pdf():
    pdf = render_pdf("backlog/print_kennzahlen.html", **_page_context())
    return _exported(pdf, "kennzahlen", "pdf")
