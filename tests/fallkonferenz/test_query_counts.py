"""The case list and the case page issue a constant number of SQL statements, whatever the data size."""

from __future__ import annotations

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


def test_case_list_and_case_page_queries_do_not_grow_with_rows(app, world, query, client_for):
    numbers = query(_grow, world, 3, 1)
    client = client_for(world["JC"], PASSWORD)
    small = _measure(app, client, ["/faelle/", f"/faelle/{numbers[0]}", "/faelle/?q=familie1", "/api/v1/cases"])
    numbers += query(_grow, world, 60, 4, first=3)
    client.get("/faelle/")  # the session's once-a-minute touch must not skew the count
    large = _measure(app, client, ["/faelle/", f"/faelle/{numbers[-1]}", "/faelle/?q=familie61", "/api/v1/cases"])
    assert small == large
    assert max(large) <= 15
