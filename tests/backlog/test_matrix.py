"""Authorisation matrix of the backlog over the demo data: every demo user × every backlog page, export, API and
OParl answer, and every backlog notification.

Which cases an item affects is shown only on the item itself (page and API) and only to users whose agency may
list the case; every other answer carries no case number and no client name at all. Expectations for who may
list a case come from the demo data spec (as in the case matrix), not from the policy under test.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from backlog.models import Escalation, EscalationCase
from fallkonferenz import demo
from fallkonferenz.demo_data import CASES
from fallkonferenz.extensions import db
from fallkonferenz.models import Case, OutboxMessage
from tests.conftest import wipe
from tests.fallkonferenz.test_http_matrix import CASE_USERS, case_exists_for

pytestmark = pytest.mark.shared_demo

STEERING_USERS = ["lenkung.vorsitz", "lenkung.jc", "lenkung.aa", "lenkung.abh", "lenkung.ja"]
ALL_USERS = [*CASE_USERS.values(), *STEERING_USERS, "dsb", "admin"]
CODE_OF = {username: code for code, username in CASE_USERS.items()}
SPEC_BY_FAMILY = {spec["family_name"]: spec for spec in CASES}


@pytest.fixture(scope="module")
def demo_backlog(app):
    wipe(app)
    with app.app_context():
        demo.seed()
        db.session.commit()
        cases = {c.id: (c.number, c.family_name) for c in _cases()}
        links: dict[int, list[int]] = {}
        for escalation_id, case_id in db.session.execute(select(EscalationCase.escalation_id, EscalationCase.case_id)):
            links.setdefault(escalation_id, []).append(case_id)
        escalations = list(db.session.scalars(select(Escalation.id).order_by(Escalation.id)))
    yield cases, links, escalations
    wipe(app)


def _cases():
    """Case id, number and the client's family name (decrypted through the demo spec order, not the policy)."""
    numbers = db.session.execute(select(Case.id, Case.number).order_by(Case.seq)).all()
    for (case_id, number), spec in zip(numbers, CASES, strict=True):
        yield type("C", (), {"id": case_id, "number": number, "family_name": spec["family_name"]})


def _secrets(cases) -> list[str]:
    return [text for number, family in cases.values() for text in (number, family)]


def _leaks(body: str, secrets: list[str]) -> list[str]:
    """Secrets that stand in the body as words: a short family name such as "Bah" also turns up inside random
    form tokens now and then, which names nobody."""
    return [s for s in secrets if re.search(rf"(?<!\w){re.escape(s)}(?!\w)", body)]


def _split_offer(body: str) -> tuple[str, str]:
    """The page without its "Betrifft uns auch" form, and that form."""
    if 'id="link-item"' not in body:
        return body, ""
    start = body.index('id="betrifft-h"')
    end = body.index("</form>", start)
    return body[:start] + body[end:], body[start:end]


def _may_list(username: str, family: str) -> bool:
    code = CODE_OF.get(username)
    return code is not None and case_exists_for(SPEC_BY_FAMILY[family], code)


def test_the_demo_backlog_links_cases_across_agencies(demo_backlog):
    cases, links, escalations = demo_backlog
    assert len(escalations) >= 10
    assert sum(len(v) for v in links.values()) >= 5
    families = {cases[c][1] for ids in links.values() for c in ids}
    # the matrix is only worth something if some linked cases are closed to some agencies
    assert any(not _may_list(u, f) for u in CASE_USERS.values() for f in families)
    assert any(_may_list(u, f) for u in CASE_USERS.values() for f in families)


@pytest.mark.parametrize("username", ALL_USERS)
def test_lists_dashboard_exports_and_oparl_never_name_a_case(demo_backlog, client_for, username):
    cases, _links, escalations = demo_backlog
    client = client_for(username)
    secrets = _secrets(cases)
    urls = [
        "/lenkungsgruppe/themen",
        "/lenkungsgruppe/themen?sortierung=faelle",
        "/lenkungsgruppe/themen?offen=1&behoerde=JC",
        "/lenkungsgruppe/kennzahlen",
        "/lenkungsgruppe/themen.csv",
        "/lenkungsgruppe/kennzahlen.csv",
        "/lenkungsgruppe/arbeitsgruppen",
        "/api/v1/backlog",
        "/oparl/v1/papers",
        "/oparl/v1/meetings",
        "/oparl/v1/organizations",
        "/oparl/v1/consultations",
    ] + [f"/oparl/v1/paper/{e}" for e in escalations]
    for url in urls:
        resp = client.get(url)
        assert resp.status_code == 200, (url, resp.status_code)
        assert _leaks(resp.get_data(as_text=True), secrets) == [], url


@pytest.mark.parametrize("username", ALL_USERS)
def test_an_items_cases_show_only_to_their_teams(demo_backlog, client_for, username):
    cases, links, escalations = demo_backlog
    client = client_for(username)
    secrets = _secrets(cases)
    for escalation_id in escalations:
        linked = links.get(escalation_id, [])
        expected = {cases[c][0] for c in linked if _may_list(username, cases[c][1])}
        family_of = dict(cases.values())
        for url in (f"/lenkungsgruppe/themen/{escalation_id}", f"/api/v1/backlog/{escalation_id}"):
            resp = client.get(url)
            assert resp.status_code == 200, (url, resp.status_code)
            body, offer = _split_offer(resp.get_data(as_text=True))
            # "Betrifft uns auch" offers cases of the user's own conferences: her agency's, and none linked yet
            offered = {s for s in _leaks(offer, secrets) if s.startswith("FK-")}
            assert all(_may_list(username, family_of[n]) for n in offered), (url, offered)
            assert not offered & expected, (url, offered & expected)
            shown = set(_leaks(body, secrets))
            numbers = {s for s in shown if s.startswith("FK-")}
            assert numbers == expected, (url, numbers, expected)
            # names are never shown, not even to the team: the item is about the structure, not the person
            assert shown - numbers == set(), (url, shown - numbers)
        api = client.get(f"/api/v1/backlog/{escalation_id}").get_json()
        assert api["caseCount"] == len(linked)
        assert {c["number"] for c in api["linkedCases"]} == expected


def test_no_backlog_notification_names_a_case(demo_backlog, app):
    cases, _links, _escalations = demo_backlog
    with app.app_context():
        mails = db.session.scalars(select(OutboxMessage).where(OutboxMessage.topic.like("escalation:%"))).all()
        assert mails, "the demo's transitions notify the submitters"
        for mail in mails:
            assert _leaks(f"{mail.subject}\n{mail.body}", _secrets(cases)) == [], mail.subject
