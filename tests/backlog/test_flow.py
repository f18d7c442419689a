"""The whole life of a backlog item at the service level: escalate, join, triage, meeting, recommendation,
implementation; and who learns which cases an item affects."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from backlog import service
from backlog.models import Escalation
from fallkonferenz.errors import Forbidden
from fallkonferenz.extensions import db
from fallkonferenz.mail import recent
from fallkonferenz.models import AuditEvent
from tests.backlog.conftest import CLEAN_INPUT as CLEAN
from tests.backlog.conftest import user


def test_full_flow(bscene, query):
    def run():
        jc = user(bscene.users["JC"])
        escalation = service.escalate(jc, CLEAN, bscene.items["open"])
        assert escalation.state == "eingereicht" and escalation.case_count == 1
        service.join(jc, escalation.id, bscene.items["other"])
        assert escalation.case_count == 2
        chair = user(bscene.steering["KI"])
        service.triage(chair, escalation.id, escalation.version, 1)
        assert escalation.state == "gesichtet"
        assert [e.id for e in service.proposed_agenda(chair, bscene.steering_meeting)] == [escalation.id]
        service.put_on_agenda(chair, bscene.steering_meeting, [escalation.id])
        assert escalation.state == "tagesordnung"
        recommendation = service.adopt(chair, escalation.id, escalation.version, "Zulassungen beantragen.", None)
        assert escalation.state == "empfehlung"
        impls = {i.agency.code: i for i in recommendation.implementations}
        assert set(impls) == {"KI", "JC", "AA", "ABH", "JA"}
        with pytest.raises(Forbidden):
            service.update_implementation(jc, impls["JC"].id, "umgesetzt", "", None)
        service.update_implementation(user(bscene.steering["JC"]), impls["JC"].id, "in_arbeit", "", None)
        assert escalation.state == "umsetzung"
        for code in impls:
            service.update_implementation(user(bscene.steering[code]), impls[code].id, "umgesetzt", "", None)
        assert escalation.state == "umgesetzt"
        # the JC case worker's team sees both cases, ABH sees none, steering members none
        linked = service.linked_cases(jc, escalation.id)
        assert len(linked) == 2
        assert service.linked_cases(user(bscene.users["ABH"]), escalation.id) == []
        assert service.linked_cases(chair, escalation.id) == []
        # showing them is on record with the cases, for their access reports; showing none is nothing to record
        shown = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "backlog.cases")).all()
        assert [(e.actor_id, json.loads(e.detail)["cases"]) for e in shown] == [(jc.id, sorted(i for i, _ in linked))]
        subjects = [m.subject for m in recent() if m.to_user_id == jc.id]
        assert any("umgesetzt" in s for s in subjects)
        return escalation.id

    escalation_id = query(run)
    with_app = query(lambda: db.session.get(Escalation, escalation_id).state, commit=False)
    assert with_app == "umgesetzt"
