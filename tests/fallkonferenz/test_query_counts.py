"""The case list and the case page issue a constant number of SQL statements, whatever the data size."""

from __future__ import annotations

import re

from sqlalchemy import event

from fallkonferenz.cases import service as case_service
from fallkonferenz.extensions import db
from fallkonferenz.models import User
from tests.conftest import counting
from tests.factories import PASSWORD, all_categories, make_case, make_consent


def _grow(world, n_cases: int, n_notes: int, first: int = 0):
    ki = db.session.query(User).filter_by(username=world["KI"]).one()
    jc = db.session.query(User).filter_by(username=world["JC"]).one()
    numbers = []
    for i in range(first, first + n_cases):
        case = make_case(ki, family=f"Familie{i}")
        make_consent(case, ki, all_categories("JC", "AA"))
        for j in range(n_notes):
            case_service.add_note(jc if j % 2 else ki, case.id, "leistungen", f"Vermerk {j}")
            case_service.add_goal(
                ki, case.id, {"title": f"Ziel {j}", "field": "arbeit", "responsible_agency_id": ki.agency_id}
            )
        numbers.append(case.number)
    return numbers


def _measure(app, client, urls):
    out = []
    for url in urls:
        with counting(app) as statements:
            assert client.get(url).status_code == 200
        out.append(len(statements))
    return out


def _sent(app, client, urls) -> tuple:
    """The engine, and the statements with their parameters that these pages sent (each must answer 200)."""
    with app.app_context():
        engine = db.engine
    sent = []

    def keep(conn, cursor, statement, parameters, context, executemany):
        sent.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", keep)
    try:
        for url in urls:
            assert client.get(url).status_code == 200, url
    finally:
        event.remove(engine, "before_cursor_execute", keep)
    return engine, sent


def test_case_list_and_case_page_queries_do_not_grow_with_rows(app, world, query, client_for):
    numbers = query(_grow, world, 3, 1)
    client = client_for(world["JC"], PASSWORD)
    small = _measure(app, client, ["/faelle/", f"/faelle/{numbers[0]}", "/faelle/?q=familie1", "/api/v1/cases"])
    numbers += query(_grow, world, 60, 4, first=3)
    client.get("/faelle/")  # the session's once-a-minute touch must not skew the count
    large = _measure(app, client, ["/faelle/", f"/faelle/{numbers[-1]}", "/faelle/?q=familie61", "/api/v1/cases"])
    assert small == large
    # the case page: 16 since it looks up when the consent ends, 17 since it names the case's structural problems
    assert max(large) <= 17


def test_the_case_list_checks_consent_from_the_cases_not_from_all_grants_of_the_agency(app, world, query, client_for):
    """For an agency that sees cases by consent, the visibility check must start at the listed case's consents.
    Started at the index of all grants of the agency, it read every one of them for every case: with 5,000
    consents the list took 150 ms and a name search a second (see bench/README.md)."""
    query(_grow, world, 3, 1)
    # the API also counts them
    engine, sent = _sent(app, client_for(world["JC"], PASSWORD), ("/faelle/", "/faelle/?q=familie1", "/api/v1/cases"))
    checks = [(s, p) for s, p in sent if "consent_grants" in s and "cases" in s]
    assert len(checks) == 4
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":  # tables this small are read whole unless the planner must use indexes
            conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        plans = [" ".join(str(r) for r in conn.exec_driver_sql(explain + s, p)) for s, p in checks]
    assert all("consent_grants_agency_category" not in plan for plan in plans), plans
    assert all(re.search(r"consent_id ?= ?", plan) for plan in plans), plans  # grants found by their consent
    # PostgreSQL answers the checks case by case, not by hashing all grants and notes of the agency first.
    assert all("hashed SubPlan" not in plan for plan in plans), plans


def test_the_open_cases_list_takes_its_page_from_the_case_numbers_not_from_the_closing_dates(
    app, world, query, client_for
):
    """Nearly every case is open. Started at the index of closing dates, the list read and sorted every open case
    for each page: on 10,000 cases the list fell from some 160 to 25 requests per second (bench/README.md)."""
    query(_grow, world, 3, 1)
    engine, sent = _sent(app, client_for(world["KI"], PASSWORD), ("/faelle/",))
    (listing,) = [(s, p) for s, p in sent if s.lstrip().startswith("SELECT cases.id, cases.number") and "LIMIT" in s]
    assert "closed_on" in listing[0]  # the list does ask for open cases only
    explain = "EXPLAIN QUERY PLAN " if engine.dialect.name == "sqlite" else "EXPLAIN "
    with engine.connect() as conn:
        plan = " ".join(str(r) for r in conn.exec_driver_sql(explain + listing[0], listing[1]))
    assert "ix_cases_closed_on" not in plan, plan
