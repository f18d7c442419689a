"""The rules of the backlog service: the state flow, who may do what, parallel edits, merging, implementation,
"betrifft uns auch", input checks, and what the supporters' e-mails may say."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from agenda import items as agenda_items
from agenda import service as agenda_service
from agenda.models import Decision
from backlog import service
from backlog.models import STATES, Escalation, EscalationCase, Implementation, Supporter, transitions_from
from fallkonferenz.errors import Conflict, Forbidden, InvalidInput, NotFound
from fallkonferenz.extensions import db
from fallkonferenz.mail import recent
from fallkonferenz.models import AuditEvent, OutboxMessage, utcnow
from tests.backlog.conftest import CLEAN_INPUT, user
from tests.backlog.corpus import PERSONS, SCENE_PERSONS

TEXT = CLEAN_INPUT
CLIENT_WORDS = [w for key in SCENE_PERSONS for w in (PERSONS[key].given, PERSONS[key].family)]


def _input(**changes) -> service.EscalationInput:
    return service.EscalationInput(**(vars(TEXT) | changes))


def _raise(scene, code: str = "JC", item: str = "open", data: service.EscalationInput = TEXT) -> Escalation:
    return service.escalate(user(scene.users[code]), data, scene.items[item])


def _chair(scene):
    return user(scene.steering["KI"])


def _group(scene):
    chair = _chair(scene)
    data = service.GroupInput(name="AG Sprachkurse", mandate="Zugang zu Kursen klären", lead_id=chair.id)
    return service.create_group(chair, data)


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def bring_to(scene, escalation: Escalation, state: str) -> None:
    """Move an item along the legal path to `state`."""
    chair = _chair(scene)
    if state == "eingereicht":
        return
    service.triage(chair, escalation.id, escalation.version, 2)
    if state == "abgelehnt":
        service.transition(chair, escalation.id, "abgelehnt", escalation.version, reason="Kein Strukturproblem.")
    if state == "zusammengefuehrt":
        survivor = _raise(scene, "AA")
        service.merge(chair, escalation.id, survivor.id, escalation.version, "")
    if state in ("gesichtet", "abgelehnt", "zusammengefuehrt"):
        return
    service.put_on_agenda(chair, scene.steering_meeting, [escalation.id])
    if state == "arbeitsgruppe":
        group = _group(scene)
        service.transition(chair, escalation.id, "arbeitsgruppe", escalation.version, working_group_id=group.id)
    if state in ("tagesordnung", "arbeitsgruppe"):
        return
    recommendation = service.adopt(chair, escalation.id, escalation.version, "Zulassungen regelmäßig beantragen.", None)
    if state == "empfehlung":
        return
    impls = recommendation.implementations
    service.update_implementation(user(scene.steering[impls[0].agency.code]), impls[0].id, "in_arbeit", "", None)
    if state == "umsetzung":
        return
    for impl in impls:
        service.update_implementation(user(scene.steering[impl.agency.code]), impl.id, "umgesetzt", "", None)
    assert escalation.state == state == "umgesetzt"


# -- the state flow --------------------------------------------------------------------------------------------

ILLEGAL = [
    ("eingereicht", "tagesordnung"),
    ("eingereicht", "arbeitsgruppe"),
    ("eingereicht", "empfehlung"),
    ("eingereicht", "umsetzung"),
    ("eingereicht", "umgesetzt"),
    ("gesichtet", "eingereicht"),
    ("gesichtet", "arbeitsgruppe"),
    ("gesichtet", "empfehlung"),
    ("gesichtet", "umsetzung"),
    ("gesichtet", "umgesetzt"),
    ("tagesordnung", "gesichtet"),
    ("tagesordnung", "umsetzung"),
    ("tagesordnung", "umgesetzt"),
    ("arbeitsgruppe", "umsetzung"),
    ("arbeitsgruppe", "umgesetzt"),
    ("empfehlung", "tagesordnung"),
    ("empfehlung", "arbeitsgruppe"),
    ("empfehlung", "umgesetzt"),
    ("umsetzung", "gesichtet"),
    ("umsetzung", "empfehlung"),
    ("umgesetzt", "umsetzung"),
    ("umgesetzt", "abgelehnt"),
    ("umgesetzt", "zusammengefuehrt"),
    ("abgelehnt", "gesichtet"),
    ("abgelehnt", "tagesordnung"),
    ("abgelehnt", "arbeitsgruppe"),
    ("abgelehnt", "empfehlung"),
    ("abgelehnt", "zusammengefuehrt"),
    ("zusammengefuehrt", "gesichtet"),
    ("zusammengefuehrt", "abgelehnt"),
    ("zusammengefuehrt", "empfehlung"),
    ("zusammengefuehrt", "zusammengefuehrt"),
]


def _attempt(scene, escalation_id: int, to_state: str) -> None:
    """Try a step the way the steering group would: recommendation and merge have their own operations."""
    chair = _chair(scene)
    escalation = db.session.get(Escalation, escalation_id)
    if to_state == "empfehlung":
        service.adopt(chair, escalation_id, escalation.version, "Zulassungen regelmäßig beantragen.", None)
    elif to_state == "zusammengefuehrt":
        survivor = _raise(scene, "AA")
        service.merge(chair, escalation_id, survivor.id, escalation.version, "Dublette")
    else:
        group = _group(scene) if to_state == "arbeitsgruppe" else None
        service.transition(
            chair, escalation_id, to_state, escalation.version, reason="Begründung", working_group_id=group and group.id
        )


@pytest.mark.parametrize(("from_state", "to_state"), ILLEGAL, ids=[f"{a}-{b}" for a, b in ILLEGAL])
def test_a_step_out_of_the_flow_is_refused_and_changes_nothing(bscene, query, from_state, to_state):
    assert to_state not in transitions_from(from_state)

    def setup():
        escalation = _raise(bscene)
        bring_to(bscene, escalation, from_state)
        return escalation.id, escalation.version, len(service.history(escalation.id))

    escalation_id, version, steps = query(setup)
    with pytest.raises(service.InvalidTransition) as refused:
        query(_attempt, bscene, escalation_id, to_state)
    assert refused.value.status == 409 and refused.value.message

    def after():
        escalation = db.session.get(Escalation, escalation_id)
        return escalation.state, escalation.version, len(service.history(escalation_id))

    assert query(after, commit=False) == (from_state, version, steps)


def test_only_triaged_items_and_working_group_reports_go_on_the_agenda(bscene, query):
    def run():
        escalation = _raise(bscene)
        with pytest.raises(service.InvalidTransition):
            service.put_on_agenda(_chair(bscene), bscene.steering_meeting, [escalation.id])

    query(run, commit=False)


def test_a_closed_item_is_not_triaged_again(bscene, query):
    def run():
        escalation = _raise(bscene)
        bring_to(bscene, escalation, "abgelehnt")
        with pytest.raises(service.InvalidTransition):
            service.triage(_chair(bscene), escalation.id, escalation.version, 1)

    query(run, commit=False)


def test_the_status_form_leaves_gesichtet_to_triage_while_an_item_has_no_priority(bscene, query, bclients):
    """A bare status change to "gesichtet" left the item "gesichtet" beside "Priorität: noch nicht gesichtet";
    the page offers "Sichten" for that, which sets the priority (the API refuses the bare change too)."""
    escalation_id = query(lambda: _raise(bscene).id)
    chair = bclients["LG-KI"]

    def status_choices() -> str:
        page = chair.get(f"/lenkungsgruppe/themen/{escalation_id}").get_data(as_text=True)
        return page.split('name="to_state"', 1)[1].split("</select>", 1)[0]

    assert 'value="gesichtet"' not in status_choices() and 'value="abgelehnt"' in status_choices()


def _new_mails(after_id: int) -> list[OutboxMessage]:
    return db.session.scalars(select(OutboxMessage).where(OutboxMessage.id > after_id)).all()


def _last_mail_id() -> int:
    return db.session.scalar(select(func.max(OutboxMessage.id))) or 0


def test_each_step_records_who_and_when_and_tells_every_supporter(bscene, query):
    def run():
        jc, aa = user(bscene.users["JC"]), user(bscene.users["AA"])
        chair, member = _chair(bscene), user(bscene.steering["JC"])
        escalation = _raise(bscene)
        service.join(aa, escalation.id, bscene.items["closed"])  # "betrifft uns auch" makes AA a supporter
        group = _group(bscene)
        eid = escalation.id
        seen = {"transition": service.history(eid)[-1], "mail": _last_mail_id()}
        assert (seen["transition"].to_state, seen["transition"].actor_id) == ("eingereicht", jc.id)

        def took(state, actor):
            """The item is in `state`; the history says who moved it when; each supporter got one e-mail."""
            assert escalation.state == state
            record, previous = service.history(eid)[-1], seen["transition"]
            assert (record.from_state, record.to_state, record.actor_id) == (previous.to_state, state, actor.id)
            assert record.at is not None and record.at >= previous.at
            # (the implementing agencies and a working group's members get mails of their own, tested below)
            news = f"Lenkungsgruppe: {escalation.reference} – "
            mails = [m for m in _new_mails(seen["mail"]) if m.subject.startswith(news)]
            assert sorted(m.to_user_id for m in mails) == sorted([jc.id, aa.id]), state
            for mail in mails:
                assert escalation.reference in mail.subject and STATES[state] in mail.subject
                assert escalation.reference in mail.body and escalation.title in mail.body
                assert STATES[state] in mail.body
                for words in (mail.subject, mail.body):
                    assert not re.search(r"FK[-\s]?\d{4}", words, re.IGNORECASE)
                    assert not [w for w in CLIENT_WORDS if w.lower() in words.lower()]
            seen.update(transition=record, mail=_last_mail_id())

        service.triage(chair, eid, escalation.version, 1)
        took("gesichtet", chair)
        service.put_on_agenda(chair, bscene.steering_meeting, [eid])
        took("tagesordnung", chair)
        service.transition(member, eid, "arbeitsgruppe", escalation.version, working_group_id=group.id)
        took("arbeitsgruppe", member)
        service.transition(member, eid, "tagesordnung", escalation.version)  # the group reports back
        took("tagesordnung", member)
        recommendation = service.adopt(chair, eid, escalation.version, "Zulassungen beantragen.", None)
        took("empfehlung", chair)
        impls = sorted(recommendation.implementations, key=lambda i: i.agency.code)
        reporters = [user(bscene.steering[i.agency.code]) for i in impls]
        service.update_implementation(reporters[0], impls[0].id, "in_arbeit", "", None)
        took("umsetzung", reporters[0])
        for reporter, impl in zip(reporters, impls, strict=True):
            service.update_implementation(reporter, impl.id, "umgesetzt", "", None)
        took("umgesetzt", reporters[-1])
        assert [t.to_state for t in service.history(eid)] == [
            "eingereicht",
            "gesichtet",
            "tagesordnung",
            "arbeitsgruppe",
            "tagesordnung",
            "empfehlung",
            "umsetzung",
            "umgesetzt",
        ]
        assert escalation.decided_at is not None and escalation.implemented_at is not None

    query(run)


def test_rejecting_needs_a_reason_which_the_supporters_read(bscene, query):
    def run():
        escalation = _raise(bscene)
        bring_to(bscene, escalation, "gesichtet")
        chair = _chair(bscene)
        with pytest.raises(InvalidInput) as missing:
            service.transition(chair, escalation.id, "abgelehnt", escalation.version, reason="  ")
        assert "reason" in missing.value.errors
        last_mail = _last_mail_id()
        service.transition(chair, escalation.id, "abgelehnt", escalation.version, reason="Bundesrecht, kein Spielraum.")
        assert service.history(escalation.id)[-1].reason == "Bundesrecht, kein Spielraum."
        (mail,) = _new_mails(last_mail)
        assert "Begründung: Bundesrecht, kein Spielraum." in mail.body

    query(run)


def test_only_the_steering_group_moves_items(bscene, query):
    def run():
        escalation = _raise(bscene)
        jc = user(bscene.users["JC"])
        with pytest.raises(Forbidden):
            service.triage(jc, escalation.id, escalation.version, 1)
        with pytest.raises(Forbidden):
            service.transition(jc, escalation.id, "abgelehnt", escalation.version, reason="x")

    query(run, commit=False)


# -- parallel edits ------------------------------------------------------------------------------------------


def test_two_steering_members_with_the_same_version_the_second_gets_a_conflict(bscene, query):
    def setup():
        escalation = _raise(bscene)
        return escalation.id, escalation.version

    escalation_id, version = query(setup)
    query(lambda: service.triage(user(bscene.steering["JC"]), escalation_id, version, 1))
    with pytest.raises(Conflict) as conflict:
        query(lambda: service.triage(user(bscene.steering["AA"]), escalation_id, version, 3, "wartezeiten"))
    assert "steering JC" in conflict.value.message and "nicht gespeichert" in conflict.value.message

    def after():
        escalation = db.session.get(Escalation, escalation_id)
        return escalation.priority, escalation.category, escalation.state, escalation.version

    assert query(after, commit=False) == (1, "rechtslage", "gesichtet", version + 1)


def test_two_writers_at_the_same_moment_the_database_lets_only_one_through(bscene, query):
    """The other writer saves between this writer's read and write: the version check in SQL stops the second."""

    def run():
        escalation = _raise(bscene)
        version = escalation.version
        # the other request's change, straight in the table: this session still holds the version it read
        db.session.execute(
            update(Escalation)
            .where(Escalation.id == escalation.id)
            .values(version=version + 1, priority=1)
            .execution_options(synchronize_session=False)
        )
        assert escalation.version == version
        with pytest.raises(Conflict):
            service.triage(_chair(bscene), escalation.id, version, 3)
        db.session.refresh(escalation)
        assert (escalation.priority, escalation.version, escalation.state) == (1, version + 1, "eingereicht")

    query(run, commit=False)


# -- merging ---------------------------------------------------------------------------------------------------


def test_an_item_is_not_merged_into_itself(bscene, query):
    def run():
        escalation = _raise(bscene)
        with pytest.raises(InvalidInput) as refused:
            service.merge(_chair(bscene), escalation.id, escalation.id, escalation.version, "Dublette")
        assert "merge_into" in refused.value.errors
        with pytest.raises(InvalidInput) as missing:
            service.merge(_chair(bscene), escalation.id, None, escalation.version, "Dublette")
        assert "merge_into" in missing.value.errors

    query(run, commit=False)


@pytest.mark.parametrize("state", ["empfehlung", "umsetzung"])
def test_an_item_with_an_adopted_recommendation_is_not_merged_away_but_takes_a_duplicate(bscene, query, state):
    """Each agency's implementation is tracked on the item that has the recommendation: merging it into a new one
    would lose that. A duplicate is merged into it instead."""

    def run():
        adopted = _raise(bscene)
        bring_to(bscene, adopted, state)
        duplicate = _raise(bscene, "AA")
        with pytest.raises(service.InvalidTransition) as refused:
            service.merge(_chair(bscene), adopted.id, duplicate.id, adopted.version, "Dublette")
        assert "Führen Sie stattdessen das Duplikat in diesen Eintrag zusammen" in refused.value.message
        assert adopted.state == state and adopted.merged_into_id is None
        assert "zusammengefuehrt" not in transitions_from(state)
        service.merge(_chair(bscene), duplicate.id, adopted.id, duplicate.version, "Dublette")
        assert duplicate.state == "zusammengefuehrt" and duplicate.merged_into_id == adopted.id

    query(run, commit=False)


def test_merging_carries_cases_and_supporters_over_once(bscene, query):
    def run():
        jc, aa = user(bscene.users["JC"]), user(bscene.users["AA"])
        duplicate = _raise(bscene, "JC", "open", _input(agencies=["JC", "ABH"], rechtskreise=["SGB II"]))
        service.join(aa, duplicate.id, bscene.items["closed"])  # + case "closed", supporters JC and AA
        survivor = _raise(bscene, "AA", "open", _input(agencies=["AA"], rechtskreise=["SGB III"]))
        assert (duplicate.case_count, survivor.case_count) == (2, 1)
        before = survivor.version
        service.merge(_chair(bscene), duplicate.id, survivor.id, duplicate.version, "Dieselbe Wartezeit")

        assert duplicate.state == "zusammengefuehrt" and duplicate.merged_into_id == survivor.id
        assert duplicate.state_reason == f"zusammengeführt mit {survivor.reference}: Dieselbe Wartezeit"
        assert service.history(duplicate.id)[-1].to_state == "zusammengefuehrt"
        # the survivor says what it took in, and now names the duplicate's agencies and Rechtskreise too
        assert duplicate.reference in service.history(survivor.id)[-1].reason and survivor.version == before + 1
        assert survivor.agency_list == ["AA", "JC", "ABH"] and survivor.rechtskreis_list == ["SGB III", "SGB II"]
        linked = db.session.scalars(
            select(EscalationCase.case_id).where(EscalationCase.escalation_id == survivor.id)
        ).all()
        assert sorted(linked) == sorted([bscene.cases["open"], bscene.cases["closed"]])
        assert (survivor.case_count, duplicate.case_count) == (2, 0)
        supporters = db.session.scalars(select(Supporter.user_id).where(Supporter.escalation_id == survivor.id)).all()
        assert sorted(supporters) == sorted([jc.id, aa.id])
        # each team still sees only its own cases of the surviving item
        assert [n for _, n in service.linked_cases(aa, survivor.id)] == sorted(
            [bscene.numbers["open"], bscene.numbers["closed"]]
        )
        assert [n for _, n in service.linked_cases(jc, survivor.id)] == [bscene.numbers["open"]]

        third = _raise(bscene, "JC", "open")
        with pytest.raises(InvalidInput) as refused:
            service.merge(_chair(bscene), third.id, duplicate.id, third.version, "Dublette")
        assert "merge_into" in refused.value.errors
        assert third.state == "eingereicht" and third.merged_into_id is None

    query(run)


# -- implementation ------------------------------------------------------------------------------------------


@pytest.fixture
def adopted(bscene, query):
    """An item with an adopted recommendation: agency code → implementation id."""

    def build():
        escalation = _raise(bscene)
        bring_to(bscene, escalation, "empfehlung")
        return escalation.id, {i.agency.code: i.id for i in service.recommendation_of(escalation.id).implementations}

    return query(build)


@pytest.mark.parametrize("who", ["case worker JC", "steering AA"])
def test_only_the_agencys_steering_member_reports_its_implementation(bscene, query, adopted, who):
    _, impls = adopted
    role, code = who.split()[-2], who.split()[-1]
    actor = bscene.steering[code] if role == "steering" else bscene.users[code]
    with pytest.raises(Forbidden):
        query(lambda: service.update_implementation(user(actor), impls["JC"], "umgesetzt", "", None))
    assert query(lambda: db.session.get(Implementation, impls["JC"]).status, commit=False) == "offen"


def test_not_feasible_needs_a_reason(bscene, query, adopted):
    escalation_id, impls = adopted
    member = bscene.steering["JC"]
    with pytest.raises(InvalidInput) as missing:
        query(lambda: service.update_implementation(user(member), impls["JC"], "nicht_umsetzbar", " ", None))
    assert "reason" in missing.value.errors
    with pytest.raises(InvalidInput) as unknown:
        query(lambda: service.update_implementation(user(member), impls["JC"], "vielleicht", "", None))
    assert "status" in unknown.value.errors

    def report():
        impl = service.update_implementation(user(member), impls["JC"], "nicht_umsetzbar", "Keine Stellen.", 1)
        return impl.status, impl.reason, impl.version, db.session.get(Escalation, escalation_id).state

    assert query(report) == ("nicht_umsetzbar", "Keine Stellen.", 2, "umsetzung")
    with pytest.raises(Conflict):
        query(lambda: service.update_implementation(user(member), impls["JC"], "in_arbeit", "", 1))


# -- raising and joining ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "changes"),
    [
        ("title", {"title": "   "}),
        ("title", {"title": "x" * 201}),
        ("description", {"description": ""}),
        ("category", {"category": "sonstiges"}),
        ("agencies", {"agencies": ["JC", "BAMF"]}),
        ("rechtskreise", {"rechtskreise": ["SGB XIV"]}),
    ],
    ids=["leerer-titel", "langer-titel", "leere-beschreibung", "kategorie", "behoerde", "rechtskreis"],
)
def test_bad_input_is_refused_with_the_field_named(bscene, query, field, changes):
    def run():
        before = _count(Escalation)
        with pytest.raises(InvalidInput) as refused:
            _raise(bscene, data=_input(**changes))
        assert field in refused.value.errors and refused.value.errors[field]
        assert _count(Escalation) == before

    query(run, commit=False)


def test_escalating_from_a_conference_the_actor_is_not_part_of_is_not_found(bscene, query):
    def run():
        ja = user(bscene.users["JA"])  # not invited to either conference
        for item in (bscene.items["open"], bscene.general_item):
            with pytest.raises(NotFound):
                service.escalate(ja, TEXT, item)
        with pytest.raises(NotFound):
            service.escalate(user(bscene.users["JC"]), TEXT, 987654)
        assert _count(Escalation) == 0

    query(run, commit=False)


def test_escalating_from_a_confidential_case_is_not_found(bscene, query):
    """The JC has no consent for the "closed" case: on the agenda it is a "vertraulicher Fall"."""

    def run():
        with pytest.raises(NotFound):
            service.escalate(user(bscene.users["JC"]), TEXT, bscene.items["closed"])
        assert _count(Escalation) == 0
        with pytest.raises(Forbidden):  # steering members do not discuss cases
            service.escalate(user(bscene.steering["JC"]), TEXT, bscene.items["open"])

    query(run, commit=False)


def test_joining_twice_for_the_same_case_is_refused(bscene, query):
    def run():
        escalation = _raise(bscene, "JC", "open")
        for code in ("JC", "AA"):
            with pytest.raises(InvalidInput):
                service.join(user(bscene.users[code]), escalation.id, bscene.items["open"])
        assert escalation.case_count == 1
        assert _count(EscalationCase) == 1

    query(run, commit=False)


def test_joining_is_refused_when_the_text_names_the_client_of_the_new_case(bscene, query):
    """Ahmad Rahimi is discussed on the second conference only, and ABH has no consent for his case: the text
    passed when ABH raised it from a general item, not when AA, who sees him, joins with his case."""

    def run():
        text = _input(description="Rahimi wartet seit 9 Wochen auf die Beschäftigungserlaubnis.")
        escalation = service.escalate(user(bscene.users["ABH"]), text, bscene.general_item)
        supporters = service.supporter_count(escalation.id)
        with pytest.raises(service.IdentifyingText) as refused:
            service.join(user(bscene.users["AA"]), escalation.id, bscene.items["other"])
        assert [(h.field, h.kind, h.text) for h in refused.value.hits] == [("description", "name", "Rahimi")]
        assert "nicht verknüpft" in refused.value.message
        assert escalation.case_count == 0 and _count(EscalationCase) == 0
        assert service.supporter_count(escalation.id) == supporters

    query(run, commit=False)


def test_a_client_the_author_sees_is_found_also_when_his_case_is_on_no_agenda_of_the_conference(bscene, query):
    """Rahimi's case is on the second conference only; KI leads it and JC has his consent: from the first
    conference's general item neither may name him. ABH, without consent, is not told that he exists."""

    def run():
        text = _input(description="Wie bei RAHIMI fehlt ein Kursplatz in Wohnortnähe.")
        for code in ("KI", "JC"):
            with pytest.raises(service.IdentifyingText) as refused:
                service.escalate(user(bscene.users[code]), text, bscene.general_item)
            assert [(h.kind, h.text) for h in refused.value.hits] == [("name", "RAHIMI")], code
        assert _count(Escalation) == 0
        # Addressed as "Herr", any name is refused, a client's or an invented one alike: that tells ABH nothing
        for name in ("RAHIMI", "Karimow"):
            addressed = _input(description=f"Wie bei Herrn {name} fehlt ein Kursplatz in Wohnortnähe.")
            with pytest.raises(service.IdentifyingText) as refused:
                service.escalate(user(bscene.users["ABH"]), addressed, bscene.general_item)
            assert [(h.kind, h.text) for h in refused.value.hits] == [("name", name)]
        assert service.escalate(user(bscene.users["ABH"]), text, bscene.general_item).case_count == 0

    query(run, commit=False)


def test_joining_a_closed_item_is_refused(bscene, query):
    def run():
        escalation = _raise(bscene, "JC", "open")
        bring_to(bscene, escalation, "abgelehnt")
        with pytest.raises(InvalidInput):
            service.join(user(bscene.users["AA"]), escalation.id, bscene.items["closed"])
        assert escalation.case_count == 1

    query(run, commit=False)


# -- steering meetings ------------------------------------------------------------------------------------------


def test_a_steering_meeting_holds_no_case_items(bscene, query):
    def run():
        data = agenda_items.ItemInput(title="", kind="fallbesprechung", time_box=20, case_ref=bscene.numbers["open"])
        with pytest.raises(InvalidInput) as refused:
            agenda_items.add_item(_chair(bscene), bscene.steering_meeting, data, confirmed=True)
        assert "kind" in refused.value.errors

    query(run, commit=False)


def test_a_steering_member_plans_steering_meetings_but_no_case_conferences(bscene, query):
    def run():
        member = user(bscene.steering["JC"])
        start = (utcnow() + timedelta(days=10)).replace(hour=9, minute=0, second=0, microsecond=0)

        def data(kind):
            return agenda_service.ConferenceInput(
                title="Sitzung", kind=kind, start=start, end=start + timedelta(hours=2)
            )

        assert agenda_service.create_conference(member, data("lenkungsgruppe")).kind == "lenkungsgruppe"
        for kind in ("fallkonferenz", "uebergangskonferenz"):
            with pytest.raises(Forbidden):
                agenda_service.create_conference(member, data(kind))

    query(run, commit=False)


def test_a_reason_with_personal_data_is_refused_and_not_mailed(bscene, query):
    def run():
        e = _raise(bscene)
        bring_to(bscene, e, "gesichtet")
        before = _last_mail_id()
        with pytest.raises(service.IdentifyingText) as refused:
            service.transition(_chair(bscene), e.id, "abgelehnt", e.version, reason=f"siehe {bscene.numbers['open']}")
        assert set(refused.value.errors) == {"reason"} and _new_mails(before) == []
        assert e.state == "gesichtet"

    query(run, commit=False)


def test_the_conflict_names_who_really_changed_it(bscene, query):
    eid, v = query(lambda: (lambda e: (e.id, e.version))(_raise(bscene)))
    query(lambda: service.triage(user(bscene.steering["JC"]), eid, v, 2))
    query(lambda: service.triage(user(bscene.steering["AA"]), eid, v + 1, 1))  # priority only: no state change
    with pytest.raises(Conflict) as conflict:
        query(lambda: service.triage(_chair(bscene), eid, v + 1, 3))
    assert "steering JC" not in conflict.value.message
    assert query(lambda: db.session.get(Escalation, eid).priority, commit=False) == 1


def test_a_state_change_through_implementation_invalidates_open_forms(bscene, query, adopted):
    eid, impls = adopted
    v = query(lambda: db.session.get(Escalation, eid).version, commit=False)
    query(lambda: service.update_implementation(user(bscene.steering["JC"]), impls["JC"], "in_arbeit", "", None))
    with pytest.raises(Conflict):
        query(lambda: service.transition(_chair(bscene), eid, "abgelehnt", v, reason="Kein Bedarf."))
    assert query(lambda: db.session.get(Escalation, eid).state, commit=False) == "umsetzung"


def test_a_refused_merge_moves_no_case_link(bscene, query):
    """A merge whose reason the guard refuses writes nothing, even if the request commits afterwards."""
    source, target, version = query(
        lambda: (lambda a, b: (a.id, b.id, a.version))(_raise(bscene), _raise(bscene, "AA", "other"))
    )

    def refused():
        with pytest.raises(service.IdentifyingText):
            service.merge(_chair(bscene), source, target, version, f"doppelt, siehe {bscene.numbers['open']}")

    query(refused)  # committed like a request that shows the form again

    def state():
        fresh = db.session.get(Escalation, source)
        links = db.session.scalar(
            select(func.count()).select_from(EscalationCase).where(EscalationCase.escalation_id == source)
        )
        return fresh.version, fresh.state, links

    assert query(state, commit=False) == (version, "eingereicht", 1)


def test_the_default_order_puts_what_needs_the_steering_group_first(bscene, query):
    """Open before closed; among the open ones those nobody has triaged yet, then by priority."""

    def run():
        rejected, triaged, fresh = (_raise(bscene) for _ in range(3))
        bring_to(bscene, rejected, "abgelehnt")  # priority 2 from triage, then closed
        service.triage(_chair(bscene), triaged.id, triaged.version, 3)
        order = [e.id for e in db.session.scalars(service.backlog_query(service.BacklogFilter()))]
        return order, [fresh.id, triaged.id, rejected.id]

    order, expected = query(run)
    assert order == expected


def test_an_item_comes_back_to_the_agenda_once_its_working_group_has_reported(bscene, query):
    """Just handed to a group it has nothing to report: the proposal offers it only after a status report."""
    from tests.backlog.conftest import _conference

    def run():
        chair = _chair(bscene)
        escalation = _raise(bscene)
        bring_to(bscene, escalation, "arbeitsgruppe")
        next_meeting = _conference(chair, "Lenkungsgruppe Februar", "lenkungsgruppe", [])
        assert escalation.id not in [e.id for e in service.proposed_agenda(chair, next_meeting)]
        service.add_report(chair, escalation.working_group_id, "Erste Gespräche mit den Kursträgern geführt.")
        assert escalation.id in [e.id for e in service.proposed_agenda(chair, next_meeting)]

    query(run, commit=False)


def test_the_steering_group_hears_of_a_new_item_without_its_case(bscene, query):
    def run():
        escalation = _raise(bscene, "JC", "open")
        mails = [m for m in recent() if m.subject == f"Lenkungsgruppe: neues Strukturproblem {escalation.reference}"]
        steering = {user(name).id for name in bscene.steering.values()}
        assert {m.to_user_id for m in mails} == steering
        for m in mails:
            assert escalation.title in m.body and f"/lenkungsgruppe/themen/{escalation.id}" in m.body
            for secret in (bscene.numbers["open"], "Haddad", "Amal"):
                assert secret not in m.body and secret not in m.subject

    query(run, commit=False)


def test_umgesetzt_is_offered_only_once_every_agency_has_reported(bscene, query, adopted):
    escalation_id, impls = adopted

    def offered():
        return service.plain_moves(db.session.get(Escalation, escalation_id))

    assert "umgesetzt" not in query(offered, commit=False)
    for code, impl in impls.items():
        query(
            lambda code=code, impl=impl: service.update_implementation(
                user(bscene.steering[code]), impl, "umgesetzt", "", None
            )
        )
    # the last report moves it to "umgesetzt" by itself: nothing left to offer
    assert query(lambda: db.session.get(Escalation, escalation_id).state, commit=False) == "umgesetzt"


def test_many_clients_whose_names_begin_like_common_words_do_not_crowd_out_the_named_one(bscene, query):
    """The blind index holds name prefixes: "den" finds every "Deniz". Those words find nobody, and the longest
    word ranks first, so Rahimi (not on this conference's agenda) is still found among the KI's 25 Deniz."""
    from tests.factories import make_case

    def run():
        ki = user(bscene.users["KI"])
        for n in range(25):
            make_case(ki, given="Deniz", family=f"Yilmaz{n}")
        text = _input(description="Herr Rahimi hat den Bescheid nicht.")
        with pytest.raises(service.IdentifyingText) as refused:
            service.escalate(ki, text, bscene.general_item)
        assert [(h.kind, h.text) for h in refused.value.hits] == [("name", "Rahimi")]

    query(run, commit=False)


def test_a_merge_reason_as_long_as_the_form_allows_is_taken(bscene, query):
    """The survivor's reference goes in front of the reason: that must not push an allowed reason over the limit."""

    def run():
        chair = _chair(bscene)
        duplicate, survivor = _raise(bscene, "JC"), _raise(bscene, "AA")
        with pytest.raises(InvalidInput):
            service.merge(chair, duplicate.id, survivor.id, duplicate.version, "x" * 5001)
        service.merge(chair, duplicate.id, survivor.id, duplicate.version, "x" * 5000)
        assert duplicate.state == "zusammengefuehrt" and duplicate.state_reason.endswith("x" * 5000)

    query(run, commit=False)


# -- an item that left its meeting comes back ------------------------------------------------------------------


def _meeting_item(chair, meeting_id: int, escalation_id: int) -> int:
    return next(i for i, e in service.consultations_of(meeting_id).items() if e.id == escalation_id)


def _decide(chair, meeting_id: int, escalation: Escalation, outcome: str, text: str, **more) -> None:
    item_id = _meeting_item(chair, meeting_id, escalation.id)
    data = service.DecisionInput(outcome=outcome, text=text, version=escalation.version, **more)
    service.decide(chair, meeting_id, item_id, data)


def _tabled(scene, held: bool = False) -> tuple:
    """The chair, and a new item (raised by the JC case worker) on the steering meeting's agenda; `held`: the
    meeting runs."""
    chair, escalation = _chair(scene), _raise(scene)
    bring_to(scene, escalation, "tagesordnung")
    if held:
        for state in ("eingeladen", "laeuft"):
            agenda_service.set_state(chair, scene.steering_meeting, state)
    return chair, escalation


def test_an_item_whose_consultation_was_removed_comes_back_to_the_proposal(bscene, query):
    """Its agenda item taken off (or its meeting cancelled), an item "auf der Tagesordnung" would otherwise wait
    for good: no meeting offers it, none takes it."""
    from tests.backlog.conftest import _conference

    def run():
        chair, escalation = _tabled(bscene)
        later = _conference(chair, "Lenkungsgruppe April", "lenkungsgruppe", [])
        # while it stands on a meeting still to come, it is not offered twice
        assert escalation.id not in [e.id for e in service.proposed_agenda(chair, later)]
        with pytest.raises(service.InvalidTransition, match="Tagesordnung einer anderen Sitzung"):
            service.put_on_agenda(chair, later, [escalation.id])
        item_id = _meeting_item(chair, bscene.steering_meeting, escalation.id)
        agenda_items.remove_item(chair, bscene.steering_meeting, item_id)
        assert escalation.id in [e.id for e in service.proposed_agenda(chair, later)]
        before = len(service.history(escalation.id))
        service.put_on_agenda(chair, later, [escalation.id])
        db.session.refresh(escalation)
        assert escalation.state == "tagesordnung"
        assert list(service.consultations_of(later).values()) == [escalation]
        note = service.history(escalation.id)[-1]
        assert len(service.history(escalation.id)) == before + 1
        assert (note.from_state, note.to_state) == ("tagesordnung", "tagesordnung")
        assert note.reason == "erneut auf die Tagesordnung gesetzt: Lenkungsgruppe April"

    query(run, commit=False)


def test_a_cancelled_meeting_releases_its_items(bscene, query):
    from tests.backlog.conftest import _conference

    def run():
        chair, escalation = _tabled(bscene)
        agenda_service.set_state(chair, bscene.steering_meeting, "abgesagt", reason="Krankheit")
        later = _conference(chair, "Lenkungsgruppe Juni", "lenkungsgruppe", [])
        assert escalation.id in [e.id for e in service.proposed_agenda(chair, later)]
        assert service.put_on_agenda(chair, later, [escalation.id]) == [escalation]

    query(run, commit=False)


def test_a_deferred_item_is_on_its_history_reaches_its_supporters_and_returns(bscene, query):
    from tests.backlog.conftest import _conference

    def run():
        chair, escalation = _tabled(bscene, held=True)  # raised by the JC case worker, who supports it
        _decide(chair, bscene.steering_meeting, escalation, "vertagt", "Stellungnahme des Landes abwarten.")
        assert escalation.state == "tagesordnung"
        assert service.history(escalation.id)[-1].reason == "vertagt: Stellungnahme des Landes abwarten."
        jc = user(bscene.users["JC"]).id
        mail = next(m for m in recent() if m.to_user_id == jc and escalation.reference in m.subject)
        assert "vertagt: Stellungnahme des Landes abwarten." in mail.body
        later = _conference(chair, "Lenkungsgruppe August", "lenkungsgruppe", [])
        assert escalation.id not in [e.id for e in service.proposed_agenda(chair, later)]  # the meeting still runs
        agenda_service.set_state(chair, bscene.steering_meeting, "beendet")
        assert escalation.id in [e.id for e in service.proposed_agenda(chair, later)]

    query(run, commit=False)


def test_a_deferral_or_hand_over_naming_a_client_is_refused_before_anything_is_written(bscene, query):
    def run():
        chair, escalation = _tabled(bscene, held=True)
        group = _group(bscene)
        item_id = _meeting_item(chair, bscene.steering_meeting, escalation.id)
        decisions = _count(Decision)
        for outcome in ("vertagt", "arbeitsgruppe"):
            data = service.DecisionInput(
                outcome=outcome,
                text="Rückruf der Familie unter 0171 2345678 abwarten.",
                version=escalation.version,
                working_group_id=group.id,
            )
            with pytest.raises(service.IdentifyingText):
                service.decide(chair, bscene.steering_meeting, item_id, data)
        assert escalation.state == "tagesordnung" and service.history(escalation.id)[-1].to_state == "tagesordnung"
        assert _count(Decision) == decisions

    query(run, commit=False)


def test_a_hand_over_to_a_working_group_keeps_the_decision_on_the_item(bscene, query):
    def run():
        chair, escalation = _tabled(bscene, held=True)
        group = _group(bscene)
        text = "Die AG klärt mit den Kursträgern, welche Zulassung fehlt."
        _decide(chair, bscene.steering_meeting, escalation, "arbeitsgruppe", text, working_group_id=group.id)
        assert escalation.state == "arbeitsgruppe"
        assert service.history(escalation.id)[-1].reason == text
        # handed over, it is no longer on the agenda: it is not deferred there either
        with pytest.raises(service.InvalidTransition, match="vertagt wird ein Thema"):
            _decide(chair, bscene.steering_meeting, escalation, "vertagt", "Später.")
        assert service.history(escalation.id)[-1].reason == text

    query(run, commit=False)


def test_the_implementing_agencies_hear_of_a_recommendation(bscene, query):
    def run():
        chair, escalation = _tabled(bscene)
        chosen = [a for a in service.member_agencies() if a.code in ("JC", "ABH")]
        due = service.today() + timedelta(days=60)
        service.adopt(chair, escalation.id, escalation.version, "Zulassungen bündeln.", due, [a.id for a in chosen])
        subject = f"Lenkungsgruppe: Empfehlung zu {escalation.reference} umsetzen"
        mails = [m for m in recent() if m.subject == subject]
        assert {m.to_user_id for m in mails} == {user(bscene.steering[c]).id for c in ("JC", "ABH")}
        assert all("Zulassungen bündeln." in m.body and service.datum(due) in m.body for m in mails)

    query(run, commit=False)


def test_a_published_text_naming_a_linked_client_alerts_the_steering_group(bscene, query):
    """The ABH case worker's guard could not know the JC's client; when the JC worker's "betrifft uns auch" finds
    the name, the link is refused and the steering members, who edit texts, hear of it without the name."""

    def run():
        data = _input(description="Seit dem Umzug von Amal wartet die Anmeldung.")
        escalation = service.escalate(user(bscene.users["ABH"]), data, bscene.general_item)
        jc = user(bscene.users["JC"])
        with pytest.raises(service.IdentifyingText, match="Lenkungsgruppe ist benachrichtigt"):
            service.join(jc, escalation.id, bscene.items["open"])
        with pytest.raises(service.IdentifyingText):  # a second try: no second mail for the same text
            service.join(jc, escalation.id, bscene.items["open"])
        subject = f"Lenkungsgruppe: {escalation.reference} bitte überarbeiten"
        mails = [m for m in recent() if m.subject == subject]
        assert sorted(m.to_user_id for m in mails) == sorted(user(n).id for n in bscene.steering.values())
        assert all("Amal" not in m.body and "Haddad" not in m.body for m in mails)
        flagged = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "backlog.flagged")).all()
        assert len(flagged) == 2 and escalation.case_count == 0

    query(run, commit=False)
