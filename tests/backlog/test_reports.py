"""The Kennzahlen dashboard and the CSV/PDF exports: figures that follow the items, labelled charts, CSV safe
for German Excel, every matching item, and never a case number or client name."""

from __future__ import annotations

import csv
import io
import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import text, update

from backlog import service, stats
from backlog.models import Escalation, Recommendation
from fallkonferenz import epoch
from fallkonferenz.extensions import db
from fallkonferenz.models import utcnow
from fallkonferenz.web import csv_cell
from tests.backlog.conftest import user
from tests.conftest import counting

NAMES = ("Amal", "Haddad", "Senait", "Tesfay", "Ahmad", "Rahimi")
SVG = "{http://www.w3.org/2000/svg}"


def escalation_input(title: str, category: str = "rechtslage") -> service.EscalationInput:
    return service.EscalationInput(
        title=title,
        description="Für junge Menschen mit Duldung fehlt eine Zulassung zum Integrationskurs.",
        category=category,
        rechtskreise=["AufenthG", "SGB II"],
        agencies=["JC", "ABH"],
        proposed_solution="Zulassungen regelmäßig beantragen.",
    )


def raise_items(bscene, query, *titles, category="rechtslage", join_other=False) -> list[int]:
    """JC raises each title from the "open" case item; optionally AA adds the "other" case to each."""

    def run():
        jc, aa = user(bscene.users["JC"]), user(bscene.users["AA"])
        ids = []
        for title in titles:
            escalation = service.escalate(jc, escalation_input(title, category), bscene.items["open"])
            if join_other:
                service.join(aa, escalation.id, bscene.items["other"])
            ids.append(escalation.id)
        return ids

    return query(run)


def adopt(bscene, query, escalation_id: int, overdue: bool = False) -> dict[str, int]:
    """Triage, put on the steering meeting and adopt; returns implementation ids by agency code."""

    def run():
        chair = user(bscene.steering["KI"])
        escalation = db.session.get(Escalation, escalation_id)
        service.triage(chair, escalation.id, escalation.version, 1)
        service.put_on_agenda(chair, bscene.steering_meeting, [escalation.id])
        recommendation = service.adopt(
            chair,
            escalation.id,
            escalation.version,
            "Zulassungen beantragen.",
            None,
            conference_id=bscene.steering_meeting,
        )
        if overdue:  # the deadline has passed since the meeting
            db.session.execute(
                update(Recommendation)
                .where(Recommendation.id == recommendation.id)
                .values(due_date=utcnow().date() - timedelta(days=3))
            )
        return {i.agency.code: i.id for i in recommendation.implementations}

    return query(run)


def implement(bscene, query, impls: dict[str, int], codes, status="umgesetzt"):
    def run():
        for code in codes:
            service.update_implementation(user(bscene.steering[code]), impls[code], status, "", None)

    query(run)


def figures(bscene, query) -> stats.Figures:
    return query(lambda: stats.figures(user(bscene.users["JC"])), commit=False)


def assert_no_case_data(body: str, bscene, where: str):
    for number in bscene.numbers.values():
        assert number not in body, (where, number)
    for name in NAMES:
        assert name not in body, (where, name)


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF")
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def read_csv(resp) -> list[list[str]]:
    text = resp.data.decode("utf-8")
    assert text.startswith("\ufeff"), "German Excel needs the BOM to read UTF-8"
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


# -- Kennzahlen ------------------------------------------------------------------------------------------------


def test_figures_follow_the_items_through_adoption_and_implementation(bscene, bclients, query):
    first, second = raise_items(bscene, query, "Integrationskurs mit Duldung nicht erreichbar", "Kurse fehlen")
    raise_items(bscene, query, "Wartezeiten bei Terminen", category="wartezeiten", join_other=True)
    fig = figures(bscene, query)
    assert (fig.total, fig.open, fig.cases) == (3, 3, 4)
    assert fig.by_category_state["rechtslage"] == {"eingereicht": 2}
    assert fig.cases_by_category["wartezeiten"] == 2
    assert fig.ages[0] == ("unter 30 Tage", 3)
    assert fig.median_days_to_decision is None and fig.implementations == []

    impls = adopt(bscene, query, first, overdue=True)
    fig = figures(bscene, query)
    assert fig.by_category_state["rechtslage"] == {"eingereicht": 1, "empfehlung": 1}
    assert len(fig.days_to_decision) == 1 and fig.median_days_to_decision is not None
    by_agency = {a.code: a for a in fig.implementations}
    assert set(by_agency) == set(impls)
    assert all(a.open == 1 and a.overdue == 1 for a in by_agency.values())

    implement(bscene, query, impls, ["JC"], status="in_arbeit")
    implement(bscene, query, impls, ["AA"])
    fig = figures(bscene, query)
    assert fig.by_category_state["rechtslage"] == {"eingereicht": 1, "umsetzung": 1}
    by_agency = {a.code: a for a in fig.implementations}
    assert (by_agency["JC"].open, by_agency["JC"].in_progress, by_agency["JC"].overdue) == (1, 1, 1)
    assert (by_agency["AA"].open, by_agency["AA"].done, by_agency["AA"].overdue) == (0, 1, 0)

    implement(bscene, query, impls, [c for c in impls if c != "AA"])
    fig = figures(bscene, query)
    assert fig.by_category_state["rechtslage"] == {"eingereicht": 1, "umgesetzt": 1}
    assert fig.open == 2 and fig.open_implementations == 0 and fig.overdue_implementations == 0
    assert len(fig.days_to_implementation) == 1

    # the page shows the same: 3 items, 2 open, and the Umsetzung row of the table
    html = bclients["ABH"].get("/lenkungsgruppe/kennzahlen").get_data(as_text=True)
    kpi = dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))
    assert kpi["Einträge insgesamt"] == "3" and kpi["davon offen"] == "2"
    assert kpi["Median bis zur Umsetzung"].endswith("Tage")
    assert second  # still open, still counted


def _svgs(html: str) -> list[ET.Element]:
    """The inline charts as XML (our own page, so the plain parser is fine)."""
    return [ET.fromstring(m) for m in re.findall(r"<svg .*?</svg>", html, re.S)]  # noqa: S314


def test_charts_are_labelled_images_followed_by_tables(bscene, bclients, query):
    raise_items(bscene, query, "Integrationskurs mit Duldung nicht erreichbar", "Kurse fehlen")
    impls = adopt(bscene, query, raise_items(bscene, query, "Kinderbetreuung fehlt", category="angebot_sprache")[0])
    implement(bscene, query, impls, ["JC"], status="in_arbeit")
    resp = bclients["JC"].get("/lenkungsgruppe/kennzahlen")
    assert resp.status_code == 200
    html = resp.get_data(as_text=True)
    assert "style=" not in html, "the CSP forbids inline styles"
    charts = _svgs(html)
    assert len(charts) == 4
    for svg in charts:
        assert svg.get("role") == "img"
        title_id, desc_id = svg.get("aria-labelledby").split()
        assert svg.find(f"{SVG}title").get("id") == title_id and svg.find(f"{SVG}title").text
        assert svg.find(f"{SVG}desc").get("id") == desc_id and svg.find(f"{SVG}desc").text
        texts = [t.text for t in svg.iter(f"{SVG}text")]
        assert texts[0] == svg.find(f"{SVG}title").text, "the title is visible in the chart"
        assert any(t and t.startswith("Anzahl") for t in texts), "x axis label"
    states = charts[0]
    texts = [t.text for t in states.iter(f"{SVG}text")]
    assert "Rechtslage" in texts and "Kategorie" in texts
    assert "2" in texts and "1" in texts, "the values are written on the bars"
    assert "Rechtslage: 2 (eingereicht/gesichtet 2);" in states.find(f"{SVG}desc").text
    # each chart is followed by its data table, with header cells for rows and columns
    for section in re.findall(r"<section.*?</section>", html, re.S)[1:]:
        assert section.index("</svg>") < section.index("<table")
        assert '<th scope="row">' in section and '<th scope="col"' in section


def _bulk(query, n: int, start: int):
    """n items straight into the table, as years of escalations would leave them."""

    def run():
        agency_id = user("abh.steering").agency_id
        now = utcnow()
        for i in range(start, start + n):
            db.session.add(
                Escalation(
                    reference=f"LG-1999-{i:03d}",
                    year=1999,
                    seq=i,
                    title=f"Thema {i}",
                    description="Beschreibung",
                    category=["rechtslage", "wartezeiten", "ressourcen"][i % 3],
                    state=["eingereicht", "tagesordnung", "umgesetzt", "empfehlung"][i % 4],
                    case_count=i % 5,
                    created_agency_id=agency_id,
                    created_at=now - timedelta(days=i * 7),
                    decided_at=now - timedelta(days=i) if i % 4 in (2, 3) else None,
                    implemented_at=now if i % 4 == 2 else None,
                )
            )

    query(run)


def test_dashboard_queries_do_not_grow_with_the_backlog(app, bscene, bclients, query):
    client = bclients["LG-JC"]
    _bulk(query, 4, 1)
    with counting(app) as small:
        assert client.get("/lenkungsgruppe/kennzahlen").status_code == 200
    _bulk(query, 120, 5)
    with counting(app) as large:
        assert client.get("/lenkungsgruppe/kennzahlen").status_code == 200
    assert len(large) == len(small)
    assert figures(bscene, query).total == 124


def test_dashboard_figures_are_kept_until_a_change_of_what_they_count(app, bscene, bclients, query):
    """The aggregates run once; later views read the backlog epoch only. Any change of an item, a recommendation,
    an implementation or an agency, made by a service or by hand in SQL, is on the next view."""
    first, _second = raise_items(bscene, query, "Integrationskurs mit Duldung nicht erreichbar", "Kurse fehlen")
    client = bclients["LG-JC"]

    def kpi() -> dict[str, str]:
        html = client.get("/lenkungsgruppe/kennzahlen").get_data(as_text=True)
        return dict(re.findall(r"<dt>([^<]+)</dt><dd>([^<]+)</dd>", html))

    with counting(app) as counted:
        assert kpi()["davon offen"] == "2"
    with counting(app) as kept:
        assert kpi()["davon offen"] == "2"
    assert len(kept) < len(counted) - 3  # the four aggregates are not sent again
    assert not any("GROUP BY" in sql for sql in kept)

    by_hand = "UPDATE escalations SET state = 'abgelehnt', state_reason = 'erledigt' WHERE id = :id"
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(by_hand), {"id": first})
    assert kpi()["davon offen"] == "1"

    impls = adopt(bscene, query, _second, overdue=True)
    assert kpi()["offene Umsetzungen"] == str(len(impls))
    implement(bscene, query, impls, list(impls))
    assert kpi()["offene Umsetzungen"] == "0"
    query(lambda: db.session.execute(update(Recommendation).values(due_date=None)))
    assert figures(bscene, query).overdue_implementations == 0


def test_each_counted_table_raises_the_backlog_epoch(app, bscene, query):
    adopt(bscene, query, raise_items(bscene, query, "Kurse fehlen")[0])  # a row in each of the tables
    before = query(epoch.BACKLOG.current, commit=False)
    assert before is not None
    for table in epoch.BACKLOG.watched:
        with app.app_context(), db.engine.begin() as connection:
            connection.execute(text(f"UPDATE {table} SET id = id WHERE id = (SELECT min(id) FROM {table})"))  # noqa: S608
        now = query(epoch.BACKLOG.current, commit=False)
        assert now is not None and now > before, table
        before = now


# -- CSV -----------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cell_neutralises_every_formula_start(start):
    assert csv_cell(f"{start}SUMME(A1:A9)") == f"'{start}SUMME(A1:A9)"
    assert csv_cell(f"Text {start} mitten") == f"Text {start} mitten"
    for blank in (" ", "\u00a0", "\n", "  \t"):  # behind blanks a spreadsheet may still read a formula
        if not start.isspace():
            assert csv_cell(f"{blank}{start}1+1") == f"'{blank}{start}1+1"


FORMULA_TITLES = {
    "=": "=1+1 Wartezeiten bei der Ausländerbehörde",
    "+": "+ Kinderbetreuung während des Kurses fehlt",
    "-": "-Fahrtkosten zum Berufskolleg fehlen",
    "@": "@Jobcenter Datenaustausch fehlt",
}


def test_backlog_csv_escapes_titles_that_start_a_formula(bscene, bclients, query):
    raise_items(bscene, query, *FORMULA_TITLES.values())
    resp = bclients["AA"].get("/lenkungsgruppe/themen.csv")
    assert resp.status_code == 200
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    assert resp.mimetype == "text/csv"
    rows = read_csv(resp)
    header = rows[0]
    assert header[:6] == ["Nr.", "Titel", "Kategorie", "Status", "Priorität", "Betroffene Fälle"]
    titles = {r[header.index("Titel")] for r in rows[1:]}
    assert titles == {"'" + t for t in FORMULA_TITLES.values()}
    assert {r[header.index("Kategorie")] for r in rows[1:]} == {"Rechtslage"}
    assert {r[header.index("Betroffene Fälle")] for r in rows[1:]} == {"1"}


def test_every_backlog_export_is_on_record(bscene, bclients, query):
    """Like every export, the backlog's and the figures' are in the audit log: who, which file, which format."""
    from fallkonferenz.models import AuditEvent

    def exports():
        rows = db.session.query(AuditEvent.actor_id, AuditEvent.detail).filter(AuditEvent.action == "backlog.export")
        return [(actor, detail) for actor, detail in rows.order_by(AuditEvent.id)]

    before = len(query(exports, commit=False))
    for path in ("themen.csv", "themen.pdf", "kennzahlen.csv", "kennzahlen.pdf"):
        assert bclients["LG-KI"].get(f"/lenkungsgruppe/{path}").status_code == 200, path
    steering = query(lambda: user(bscene.steering["KI"]).id, commit=False)
    assert query(exports, commit=False)[before:] == [
        (steering, '{"file":"themenspeicher","format":"csv"}'),
        (steering, '{"file":"themenspeicher","format":"pdf"}'),
        (steering, '{"file":"kennzahlen","format":"csv"}'),
        (steering, '{"file":"kennzahlen","format":"pdf"}'),
    ]


def test_backlog_exports_list_every_matching_item_with_the_lists_filters(bscene, bclients, query):
    _bulk(query, 75, 1)  # more than one page of the list (50)
    rows = read_csv(bclients["JC"].get("/lenkungsgruppe/themen.csv"))
    assert len(rows) == 1 + 75
    only = read_csv(bclients["JC"].get("/lenkungsgruppe/themen.csv?kategorie=wartezeiten&offen=1"))
    header = only[0]
    assert len(only) - 1 == sum(1 for i in range(1, 76) if i % 3 == 1 and i % 4 != 2)
    assert {r[header.index("Kategorie")] for r in only[1:]} == {"Verfahrensdauer/Wartezeiten"}
    state = read_csv(bclients["JC"].get("/lenkungsgruppe/themen.csv?status=umgesetzt&sortierung=faelle"))
    counts = [int(r[header.index("Betroffene Fälle")]) for r in state[1:]]
    assert {r[header.index("Status")] for r in state[1:]} == {"umgesetzt"}
    assert counts == sorted(counts, reverse=True)
    # an unknown filter value is dropped, as the list drops it
    assert len(read_csv(bclients["JC"].get("/lenkungsgruppe/themen.csv?kategorie=unbekannt"))) == 1 + 75
    text = pdf_text(bclients["JC"].get("/lenkungsgruppe/themen.pdf?status=umgesetzt").data)
    assert "Kategorie" in text and "LG-1999-" in text
    expected = {f"LG-1999-{i:03d}" for i in range(1, 76) if i % 4 == 2}
    assert set(re.findall(r"LG-1999-\d{3}", text)) == expected


def test_kennzahlen_csv_holds_the_dashboard_figures(bscene, bclients, query):
    raise_items(bscene, query, "Wartezeiten bei Terminen", category="wartezeiten", join_other=True)
    rows = read_csv(bclients["JA"].get("/lenkungsgruppe/kennzahlen.csv"))
    assert rows[0] == ["Kennzahl", "Gruppe", "Merkmal", "Wert"]
    table = {(r[0], r[1], r[2]): r[3] for r in rows[1:]}
    assert table[("Überblick", "alle Einträge", "Anzahl")] == "1"
    assert table[("Einträge nach Kategorie und Status", "Verfahrensdauer/Wartezeiten", "eingereicht")] == "1"
    assert table[("Betroffene Fälle je Kategorie", "Verfahrensdauer/Wartezeiten", "alle Einträge")] == "2"
    assert table[("Alter der offenen Einträge", "unter 30 Tage", "Anzahl")] == "1"
    assert table[("Überblick", "offene Umsetzungen", "Anzahl")] == "0"  # as the page and the PDF show it
    assert re.fullmatch(r"\d\d\.\d\d\.\d{4} \d\d:\d\d", table[("Stand", "erstellt am", "Datum, Uhrzeit")])


def test_exports_and_dashboard_never_name_the_cases_for_any_role(bscene, bclients, query):
    first, _second = raise_items(bscene, query, "Integrationskurs nicht erreichbar", "Kurse fehlen", join_other=True)
    adopt(bscene, query, first)
    for who, client in bclients.items():
        for url in ("/lenkungsgruppe/kennzahlen", "/lenkungsgruppe/themen.csv", "/lenkungsgruppe/kennzahlen.csv"):
            resp = client.get(url)
            assert resp.status_code == 200, (who, url)
            assert_no_case_data(resp.get_data(as_text=True), bscene, f"{who} {url}")
        for url in ("/lenkungsgruppe/themen.pdf", "/lenkungsgruppe/kennzahlen.pdf"):
            resp = client.get(url)
            assert resp.status_code == 200, (who, url)
            assert resp.headers["Content-Disposition"].endswith('.pdf"')
            text = pdf_text(resp.data)
            assert "Lenkungsgruppe" in text
            assert_no_case_data(text, bscene, f"{who} {url}")
            assert_no_case_data(resp.data.decode("latin-1"), bscene, f"{who} {url} (raw)")


def test_dashboard_and_exports_need_a_login(bscene, client_for):
    anonymous = client_for()
    for url in (
        "/lenkungsgruppe/kennzahlen",
        "/lenkungsgruppe/kennzahlen.csv",
        "/lenkungsgruppe/kennzahlen.pdf",
        "/lenkungsgruppe/themen.csv",
        "/lenkungsgruppe/themen.pdf",
    ):
        resp = anonymous.get(url)
        assert resp.status_code == 302 and "/anmelden" in resp.headers["Location"], url


def test_the_backlog_pdf_is_capped_and_says_so_while_the_csv_holds_everything(app, bscene, bclients, query):
    _bulk(query, 12, 1)
    limit = app.config["BACKLOG_PDF_MAX_ITEMS"]
    app.config["BACKLOG_PDF_MAX_ITEMS"] = 5  # the configured cap, lowered for a quick test
    try:
        text = pdf_text(bclients["JC"].get("/lenkungsgruppe/themen.pdf?sortierung=alter").data)
    finally:
        app.config["BACKLOG_PDF_MAX_ITEMS"] = limit
    assert "ersten 5 von 12 Einträgen" in " ".join(text.split())
    assert len(set(re.findall(r"LG-1999-\d{3}", text))) == 5
    assert len(read_csv(bclients["JC"].get("/lenkungsgruppe/themen.csv"))) == 1 + 12
