"""Every bad input of the conferences issue: a German 4xx, nothing stored, nothing lost."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from agenda.models import AgendaItem, Conference, DatePoll
from fallkonferenz.extensions import db
from fallkonferenz.models import OutboxMessage, utcnow
from tests.agenda.conftest import conference_form, slot, user
from tests.factories import make_case, make_consent


def _count(query, model):
    return query(lambda: db.session.query(model).count(), commit=False)


def _fmt(dt):
    return dt.strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize(
    ("over", "message"),
    [
        ("end_before_start", "Das Ende muss nach dem Beginn liegen."),
        ("too_long", "höchstens 12 Stunden"),
        ("past", "nicht in der Vergangenheit"),
        ("bad_date", "Bitte Datum und Uhrzeit angeben"),
        ("case_number_in_title", "keine Fallnummer"),
        ("case_number_with_typographic_hyphens", "keine Fallnummer"),
        ("case_number_with_spaces", "keine Fallnummer"),
        ("client_name_in_title", "keinen Namen einer Klientin/eines Klienten"),
        ("far_future", "höchstens 5 Jahre in der Zukunft"),
        ("empty_title", "Dieses Feld ist erforderlich."),
        ("bad_link", "https://"),
    ],
)
def test_bad_conference_input(scene, clients, query, over, message):
    start = (utcnow() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    changes = {
        "end_before_start": {"start": _fmt(start), "end": _fmt(start - timedelta(hours=1))},
        "too_long": {"start": _fmt(start), "end": _fmt(start + timedelta(hours=12, minutes=1))},
        "past": {"start": _fmt(start - timedelta(days=5)), "end": _fmt(start - timedelta(days=5, hours=-1))},
        "bad_date": {"start": "morgen früh"},
        "case_number_in_title": {"title": f"Fallkonferenz {scene.open_case}"},
        # as a word processor or a phone writes it: non-breaking hyphens, en dashes
        "case_number_with_typographic_hyphens": {"title": f"Fallkonferenz {scene.open_case.replace('-', chr(0x2011))}"},
        "case_number_with_spaces": {"title": f"Fallkonferenz zu {scene.open_case.replace('-', ' – ')}"},
        # no agenda item yet: the names of every case the moderator may list are checked
        "client_name_in_title": {"title": "Fallkonferenz tesfay"},
        "far_future": {
            "start": _fmt(start.replace(year=start.year + 6)),
            "end": _fmt(start.replace(year=start.year + 6, hour=11)),
        },
        "empty_title": {"title": ""},
        "bad_link": {"video_link": "javascript:alert(1)"},
    }[over]
    resp = clients["KI"].post("/konferenzen/neu", data=conference_form(scene, **changes))
    assert resp.status_code == 422
    body = resp.get_data(as_text=True)
    assert message in body
    assert 'value="Kreishaus, Raum 2.14"' in body  # what was typed comes back
    assert _count(query, Conference) == 0


def test_every_field_with_a_problem_is_named_in_one_round(scene, clients, query):
    start = (utcnow() + timedelta(days=2)).replace(hour=10, minute=0, second=0, microsecond=0)
    form = conference_form(
        scene,
        title=f"Fallkonferenz {scene.open_case}",
        start=_fmt(start),
        end=_fmt(start - timedelta(hours=1)),
        video_link="ftp://video",
    )
    body = clients["KI"].post("/konferenzen/neu", data=form).get_data(as_text=True)
    for message in ("keine Fallnummer", "Das Ende muss nach dem Beginn liegen.", "muss mit https:// beginnen"):
        assert message in body, message
    assert _count(query, Conference) == 0


def test_place_and_cancellation_reason_name_no_client(scene, clients, planned, query):
    """Place and reason go into e-mails and calendar files to every participant, as the title does."""
    ki = clients["KI"]
    resp = ki.post("/konferenzen/neu", data=conference_form(scene, location="Hausbesuch bei Familie Haddad"))
    assert resp.status_code == 422 and "Der Ort darf keinen Namen" in resp.get_data(as_text=True)
    assert "Hausbesuch bei Familie Haddad" in resp.get_data(as_text=True)  # kept in the form
    ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
    mails = _count(query, OutboxMessage)
    for reason in (f"{scene.open_case} verzogen", "Frau Tesfay ist verzogen"):
        resp = ki.post(f"/konferenzen/{planned}/status", data={"state": "abgesagt", "reason": reason})
        assert resp.status_code == 422 and "Der Grund darf" in resp.get_data(as_text=True), reason
        assert f'value="{reason}"' in resp.get_data(as_text=True)  # kept, beside the refusal
    assert query(lambda: db.session.get(Conference, planned).state, commit=False) == "eingeladen"
    assert _count(query, OutboxMessage) == mails


def test_a_case_item_whose_client_the_title_names_is_refused(scene, clients, query, world):
    """A title written before the case was known to the moderator is checked again when the case is added."""
    ki = clients["KI"]
    resp = ki.post("/konferenzen/neu", data=conference_form(scene, title="Treffen wegen Okafor"))
    assert resp.status_code == 302
    conference_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    number = query(lambda: make_case(user(world["KI"]), given="Grace", family="Okafor").number)
    resp = ki.post(
        f"/konferenzen/{conference_id}/top", data={"kind": "fallbesprechung", "case": number, "time_box": "15"}
    )
    assert resp.status_code == 422
    assert "Titel, Ort oder Videolink der Konferenz nennen diese Klientin" in resp.get_data(as_text=True)
    assert _count(query, AgendaItem) == 0


def test_adding_a_case_whose_names_are_hidden_does_not_confirm_a_guessed_name(scene, clients, query, world):
    """The moderator's agency has a consent for Bildung/Arbeit only: the check must not tell her the client's name."""

    def setup():
        jc = user(world["JC"])
        case = make_case(jc, given="Karim", family="Haddadi")
        make_consent(case, jc, [("KI", "bildung_arbeit")])
        return case.number

    number = query(setup)
    ki = clients["KI"]
    answers = []
    for guess in ("Schmidt", "Haddadi", "Karim"):
        resp = ki.post("/konferenzen/neu", data=conference_form(scene, title=f"Austausch {guess}"))
        conference_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
        item = {"kind": "fallbesprechung", "case": number, "time_box": "15", "confirm": "1"}
        answers.append(ki.post(f"/konferenzen/{conference_id}/top", data=item).status_code)
    assert answers == [302, 302, 302]
    assert _count(query, AgendaItem) == 3


def test_data_protection_and_administration_are_never_participants(scene, clients, planned, query):
    """They read no minutes and take no tasks: the server refuses them, whatever the people picker offers."""
    from agenda.models import Participant
    from tests.factories import make_user

    def setup():
        return [make_user("KI", role).id for role in ("dpo", "admin", "steering")]

    dpo, admin, steering = query(setup)
    before = _count(query, Participant)
    for ids, message in (
        ([dpo, admin], "Datenschutz und Administration nehmen nicht an Konferenzen teil: admin KI, dpo KI."),
        ([steering], "Mitglieder der Lenkungsgruppe nehmen nur an Lenkungsgruppe-Sitzungen teil: steering KI."),
    ):
        resp = clients["KI"].post(f"/konferenzen/{planned}/teilnehmende", data={"user": [str(i) for i in ids]})
        assert resp.status_code == 422 and message in resp.get_data(as_text=True)
    assert _count(query, Participant) == before
    # The picker offers none of them for a case conference.
    page = clients["KI"].get(f"/konferenzen/{planned}").get_data(as_text=True)
    assert all(f'id="user-{i}"' not in page for i in (dpo, admin, steering))


def test_a_refused_invitation_comes_back_on_the_conference_page_with_the_ticks_kept(scene, clients, planned, query):
    from agenda.models import Participant
    from tests.factories import make_user

    before = _count(query, Participant)
    nobody = clients["KI"].post(f"/konferenzen/{planned}/teilnehmende", data={})
    page = nobody.get_data(as_text=True)
    assert nobody.status_code == 422 and "Bitte wählen Sie mindestens eine Person." in page
    assert "Tagesordnung" in page and 'id="invite-error"' in page  # the conference page, not a bare error page
    ja, dpo = scene.ids["JA"], query(lambda: make_user("JA", "dpo").id)
    mixed = clients["KI"].post(f"/konferenzen/{planned}/teilnehmende", data={"user": [str(ja), str(dpo)]})
    page = mixed.get_data(as_text=True)
    assert mixed.status_code == 422 and f'id="user-{ja}" checked' in page
    assert _count(query, Participant) == before


def test_only_moderators_plan(scene, clients, query):
    assert clients["JC"].post("/konferenzen/neu", data=conference_form(scene)).status_code == 403
    assert _count(query, Conference) == 0


@pytest.mark.parametrize("time_box", ["0", "-5", "241", "zehn"])
def test_time_box_out_of_range(scene, clients, planned, query, time_box):
    resp = clients["KI"].post(
        f"/konferenzen/{planned}/top", data={"kind": "bericht", "title": "Bericht", "time_box": time_box}
    )
    assert resp.status_code == 422
    assert "Minuten" in resp.get_data(as_text=True) or "ganze Zahl" in resp.get_data(as_text=True)
    assert _count(query, AgendaItem) == 0


def test_at_most_fifty_items(scene, clients, planned, query):
    def fill():
        conference = db.session.get(Conference, planned)
        conference.items = [
            AgendaItem(title=f"Punkt {i}", kind="bericht", time_box=1, position=i + 1) for i in range(50)
        ]

    query(fill)
    resp = clients["KI"].post(
        f"/konferenzen/{planned}/top", data={"kind": "bericht", "title": "Einer zu viel", "time_box": "5"}
    )
    assert resp.status_code == 422 and "höchstens 50 Punkte" in resp.get_data(as_text=True)
    assert _count(query, AgendaItem) == 50


def test_poll_with_one_slot_is_refused(scene, clients, planned, query):
    start, end = slot(3)
    resp = clients["KI"].post(f"/konferenzen/{planned}/umfrage", data={"start0": start, "end0": end})
    assert resp.status_code == 422 and "2 bis 8 Termine" in resp.get_data(as_text=True)
    assert _count(query, DatePoll) == 0


def test_poll_with_nine_slots_is_refused(scene, planned, query):
    """The form offers eight rows; the service itself refuses a ninth, whoever calls it."""
    from agenda import service
    from fallkonferenz.errors import InvalidInput
    from tests.agenda.conftest import user

    def nine():
        slots = [(utcnow() + timedelta(days=3 + i), utcnow() + timedelta(days=3 + i, hours=1)) for i in range(9)]
        service.create_poll(user(scene.users["KI"]), planned, slots)

    with pytest.raises(InvalidInput) as caught:
        query(nine)
    assert "2 bis 8" in caught.value.errors["slots"]
    assert _count(query, DatePoll) == 0


def test_poll_slot_in_the_past_or_half_filled(scene, clients, planned, query):
    start, end = slot(3)
    past = _fmt(utcnow() - timedelta(days=2))
    resp = clients["KI"].post(
        f"/konferenzen/{planned}/umfrage", data={"start0": start, "end0": end, "start1": past, "end1": end}
    )
    assert resp.status_code == 422
    resp = clients["KI"].post(f"/konferenzen/{planned}/umfrage", data={"start0": start, "end0": end, "start1": start})
    assert resp.status_code == 422 and "Termin 2: Ende: Bitte Beginn und Ende angeben." in resp.get_data(as_text=True)
    assert _count(query, DatePoll) == 0


def test_a_refused_poll_comes_back_with_what_was_typed_and_the_field_marked(scene, clients, planned, query):
    start, end = slot(3)
    start2, _ = slot(4)
    resp = clients["KI"].post(
        f"/konferenzen/{planned}/umfrage", data={"start0": start, "end0": end, "start1": start2, "end1": start}
    )
    assert resp.status_code == 422
    page = resp.get_data(as_text=True)
    assert "Das Ende muss nach dem Beginn liegen." in page
    assert f'value="{start}"' in page and f'value="{start2}"' in page  # nothing typed is lost
    assert '<p class="error" id="end1-error">' in page  # the field is marked
    assert _count(query, DatePoll) == 0


def test_bad_state_transition_and_cancel_without_reason(scene, clients, planned, query):
    ki = clients["KI"]
    assert ki.post(f"/konferenzen/{planned}/status", data={"state": "beendet"}).status_code == 409
    empty = ki.post(f"/konferenzen/{planned}/status", data={"state": "abgesagt", "reason": ""})
    page = empty.get_data(as_text=True)
    # said at the top of the long page as well, with a link to the field, not only beside the field at its end
    assert empty.status_code == 422 and page.index("Die Konferenz wurde nicht abgesagt") < page.index("Tagesordnung")
    assert '<a href="#reason">Grund der Absage:' in page
    assert ki.post(f"/konferenzen/{planned}/status", data={"state": "unsinn"}).status_code == 409
    assert query(lambda: db.session.get(Conference, planned).state, commit=False) == "geplant"


def test_unreachable_mail_server_keeps_the_conference_shows_the_failure_and_retries(
    scene, clients, planned, query, app
):
    app.config.update(MAIL_BACKEND="smtp", MAIL_HOST="127.0.0.1", MAIL_PORT=9, MAIL_TLS="none", MAIL_TIMEOUT=2)
    try:
        resp = clients["KI"].post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
        assert resp.status_code == 302
        assert query(lambda: db.session.get(Conference, planned).state, commit=False) == "eingeladen"
        from fallkonferenz import mail

        delivered, failed = query(mail.deliver_pending)
        assert delivered == 0 and failed == 4
        page = clients["KI"].get(f"/konferenzen/{planned}").get_data(as_text=True)
        assert "E-Mails konnten nicht zugestellt werden" in page and "erneut versucht" in page
        rows = query(lambda: [(m.status, m.attempts) for m in db.session.query(OutboxMessage)], commit=False)
        assert rows == [("fehlgeschlagen", 1)] * 4
        # Not due again before the back-off has passed; after it, retried (and failing again, still kept).
        assert query(mail.deliver_pending) == (0, 0)
        later = utcnow() + timedelta(minutes=5)
        assert query(lambda: mail.deliver_pending(now=later)) == (0, 4)
        assert query(lambda: {m.attempts for m in db.session.query(OutboxMessage)}, commit=False) == {2}
        result = app.test_cli_runner().invoke(args=["mail", "send"])
        assert result.exit_code == 0 and "0 zugestellt" in result.output
    finally:
        app.config.update(MAIL_BACKEND="outbox")


def test_answering_a_poll_with_unknown_slots_or_answers(scene, clients, planned, query):
    start, end = slot(3)
    start2, end2 = slot(4)
    clients["KI"].post(
        f"/konferenzen/{planned}/umfrage", data={"start0": start, "end0": end, "start1": start2, "end1": end2}
    )
    slot_id = query(lambda: db.session.get(Conference, planned).poll.slots[0].id, commit=False)
    assert (
        clients["JC"].post(f"/konferenzen/{planned}/umfrage/antwort", data={f"slot-{slot_id}": "immer"}).status_code
        == 422
    )
    assert clients["JC"].post(f"/konferenzen/{planned}/umfrage/antwort", data={"slot-999999": "ja"}).status_code == 422
    assert clients["KI"].post(f"/konferenzen/{planned}/umfrage/999999/festlegen").status_code == 404


def test_steering_members_are_not_invited_to_case_conferences(scene, clients, query):
    from tests.factories import make_user

    steering_id = query(lambda: make_user("JC", "steering").id)
    before = _count(query, Conference)
    resp = clients["KI"].post("/konferenzen/neu", data=conference_form(scene) | {"participants": [str(steering_id)]})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and "nur an Lenkungsgruppe-Sitzungen" in body
    assert _count(query, Conference) == before
    steering_meeting = conference_form(scene, kind="lenkungsgruppe") | {"participants": [str(steering_id)]}
    assert clients["KI"].post("/konferenzen/neu", data=steering_meeting).status_code == 302


def test_a_case_conference_does_not_become_a_steering_meeting(scene, clients, planned, query):
    resp = clients["KI"].post(f"/konferenzen/{planned}/bearbeiten", data=conference_form(scene, kind="lenkungsgruppe"))
    assert resp.status_code == 422 and "tauschen die Art nicht" in resp.get_data(as_text=True)
    assert query(lambda: db.session.get(Conference, planned).kind, commit=False) == "fallkonferenz"


def test_digits_that_are_not_ascii_are_refused_not_a_500(scene, clients, planned, query):
    """ "²" passes str.isdigit() but not int(): each form and query that takes an id answers 4xx or ignores it."""
    ki, jc = clients["KI"], clients["JC"]
    ki.post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
    for client, path, data in (
        (ki, f"/konferenzen/{planned}/teilnehmende", {"user": "²"}),
        (jc, f"/konferenzen/{planned}/antwort", {"response": "vertretung", "substitute": "²"}),
        (jc, f"/konferenzen/{planned}/umfrage/antwort", {"slot-²": "ja"}),
        (ki, f"/konferenzen/{planned}/reihenfolge", {"pos-²": "1", "version": "0"}),
        (ki, f"/konferenzen/{planned}/protokoll/anwesenheit", {"user-²": "anwesend"}),
    ):
        resp = client.post(path, data=data)
        assert resp.status_code < 500, (path, resp.status_code)
    for path in ("/api/v1/backlog?page=²", "/oparl/v1/papers?page=²", "/oparl/v1/organization/ag-²"):
        resp = ki.get(path)
        assert 400 <= resp.status_code < 500, (path, resp.status_code)
    assert query(lambda: db.session.get(Conference, planned).state, commit=False) == "eingeladen"


def test_the_video_link_names_no_client(scene, clients, planned, query):
    """The video link goes into every e-mail and calendar file, as the place does."""
    ki = clients["KI"]
    for link in (f"https://meet.example.org/{scene.open_case}", "https://meet.example.org/haddad-termin"):
        resp = ki.post("/konferenzen/neu", data=conference_form(scene, video_link=link))
        assert resp.status_code == 422 and "Der Videolink darf" in resp.get_data(as_text=True), link
    assert _count(query, Conference) == 1  # only the planned one


def test_an_agency_outside_the_case_team_sees_neither_its_conferences_nor_others_grants(scene, clients, query, world):
    """JA wrote a note in the closed case once, so it sees that case through its own entry; the conferences
    that discussed the case, and whom else the client's consent names, are for the case team."""
    from fallkonferenz.cases.service import import_note
    from fallkonferenz.models import Case

    ki = clients["KI"]
    resp = ki.post("/konferenzen/neu", data=conference_form(scene, title="Fallkonferenz Nord"))
    conference_id = int(resp.headers["Location"].rsplit("/", 1)[-1])
    assert ki.post(
        f"/konferenzen/{conference_id}/top",
        data={"kind": "fallbesprechung", "case": scene.closed_case, "time_box": "15", "confirm": "1"},
    ).status_code in (302, 409)

    def old_note():
        case = db.session.query(Case).filter_by(number=scene.closed_case).one()
        import_note(case, user(world["JA"]), "familie", "Vor der Einwilligung notiert.")

    query(old_note)
    ja = clients["JA"]
    own = ja.get(f"/faelle/{scene.closed_case}")
    assert own.status_code == 200  # its own note
    assert "Beschlüsse und Aufgaben aus Konferenzen" not in own.get_data(as_text=True)
    page = ja.get(f"/faelle/{scene.closed_case}/konferenzen").get_data(as_text=True)
    assert "Fallkonferenz Nord" not in page and "sieht das Fallteam" in page
    assert "Fallkonferenz Nord" in ki.get(f"/faelle/{scene.closed_case}/konferenzen").get_data(as_text=True)
    consents = ja.get(f"/faelle/{scene.closed_case}/einwilligungen").get_data(as_text=True)
    assert '<th scope="row">AA</th>' not in consents
    assert '<th scope="row">AA</th>' in ki.get(f"/faelle/{scene.closed_case}/einwilligungen").get_data(as_text=True)


def test_garbage_in_hidden_fields_is_refused_not_replaced(scene, clients, planned, query):
    """A version, a direction or an action that no page sends is a 4xx: not "no version" (which would skip the
    check for a stale page), not "down", not "new link"."""
    ki = clients["KI"]
    base = {"kind": "bericht", "title": "Bericht", "time_box": "10", "presenter": "0"}
    assert ki.post(f"/konferenzen/{planned}/top", data=base | {"version": "0"}).status_code == 302
    item_id = query(lambda: db.session.query(AgendaItem.id).scalar(), commit=False)
    for version in ("abc", "١", "-1", "1" * 20):
        resp = ki.post(f"/konferenzen/{planned}/top/{item_id}/entfernen", data={"version": version})
        assert resp.status_code == 422 and "Bitte laden Sie sie neu." in resp.get_data(as_text=True), version
    moved = ki.post(f"/konferenzen/{planned}/top/{item_id}/verschieben", data={"richtung": "seitwaerts"})
    assert moved.status_code == 422 and "Unbekannte Richtung" in moved.get_data(as_text=True)
    assert _count(query, AgendaItem) == 1
    calendar = ki.post("/kalender", data={"action": "widerrufenX"})
    assert calendar.status_code == 422 and "Unbekannte Aktion" in calendar.get_data(as_text=True)
    # Digits of other scripts are no ids and no numbers here.
    assert ki.get(f"/konferenzen/{''.join(chr(0x0660 + int(d)) for d in str(planned))}").status_code == 404
    arabic = ki.post(f"/konferenzen/{planned}/top", data=base | {"time_box": "٣٠", "title": "Zweiter Bericht"})
    assert arabic.status_code == 422 and 'value="Zweiter Bericht"' in arabic.get_data(as_text=True)
    assert _count(query, AgendaItem) == 1


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("title", "Sitzung\r\nBcc: evil@example.org", "Der Titel darf keine Zeilenumbrüche"),
        ("location", "Raum 1\nX-Header: 1", "Der Ort darf keine Zeilenumbrüche"),
        ("kind", "geheim", "Bitte wählen Sie einen Eintrag aus der Liste."),
        ("participants", ["abc"], "Unbekannte Auswahl."),
    ],
)
def test_conference_form_refuses_header_breaks_and_unknown_choices_in_german(
    scene, clients, query, field, value, message
):
    resp = clients["KI"].post("/konferenzen/neu", data=conference_form(scene) | {field: value})
    body = resp.get_data(as_text=True)
    assert resp.status_code == 422 and message in body
    assert "Not a valid" not in body and "Invalid" not in body
    assert _count(query, Conference) == 0


def test_the_api_refuses_wrong_types_instead_of_storing_their_text(scene, clients, query):
    ki = clients["KI"]
    start, end = (f"{s}:00" for s in slot(3))
    good = {"name": "Fallkonferenz API", "start": start, "end": end, "location": "Raum 1"}
    for over in (
        {"name": None},
        {"name": ["Sitzung"]},
        {"location": {"a": 1}},
        {"start": 20270212},
        {"participants": "2,3"},
        {"participants": ["2"]},
        {"name": "ok\ud800"},
        {"location": "Raum\x001"},
    ):
        raw = json.dumps(good | over)  # ASCII-escaped: "\ud800" travels as the escape a client would send
        resp = ki.api("POST", "/api/v1/conferences", data=raw, content_type="application/json")
        assert resp.status_code == 422 and resp.get_json()["error"], over
    assert _count(query, Conference) == 0
    assert ki.api("POST", "/api/v1/conferences", json=good).status_code == 201


def test_one_message_the_mail_library_refuses_does_not_hold_up_the_others(scene, clients, planned, query, app):
    """Older data may hold a subject with a line break (titles refuse them now): that message fails on its own."""
    from fallkonferenz import mail

    app.config.update(MAIL_BACKEND="smtp", MAIL_HOST="127.0.0.1", MAIL_PORT=9, MAIL_TLS="none", MAIL_TIMEOUT=2)
    sent, original = [], mail._send
    try:
        clients["KI"].post(f"/konferenzen/{planned}/status", data={"state": "eingeladen"})
        assert query(mail.deliver_pending) == (0, 4)  # the server is down: all four wait
        first = query(lambda: db.session.query(OutboxMessage.id).order_by(OutboxMessage.id).limit(1).scalar())
        query(lambda: setattr(db.session.get(OutboxMessage, first), "subject", "Einladung\r\nBcc: evil@example.org"))
        mail._send = sent.append  # the server is back
        assert query(lambda: mail.deliver_pending(now=utcnow() + timedelta(minutes=5))) == (3, 1)
    finally:
        mail._send = original
        app.config.update(MAIL_BACKEND="outbox")
    bad = query(lambda: db.session.get(OutboxMessage, first), commit=False)
    assert bad.status == "fehlgeschlagen" and "linefeed" in bad.last_error
    assert len(sent) == 3 and all("evil" not in str(m) for m in sent)


def test_a_presenter_takes_part_and_may_see_the_case_item(scene, clients, planned, query):
    """Tesfay's case is closed to JC: a JC presenter would see only "vertraulicher Fall" and never learn of it."""
    ki = clients["KI"]
    item = {"kind": "fallbesprechung", "case": scene.closed_case, "time_box": "15", "confirm": "1"}
    closed = ki.post(f"/konferenzen/{planned}/top", data=item | {"presenter": str(scene.ids["JC"])})
    body = closed.get_data(as_text=True)
    assert closed.status_code == 422 and "(JC) kann diesen Fall nicht sehen" in body
    outsider = ki.post(f"/konferenzen/{planned}/top", data=item | {"presenter": str(scene.ids["JA"])})
    assert outsider.status_code == 422 and "Vortragen kann nur, wer an der Konferenz teilnimmt." in (
        outsider.get_data(as_text=True)
    )
    general = {"kind": "bericht", "title": "Bericht JA", "time_box": "10", "presenter": str(scene.ids["JA"])}
    assert ki.post(f"/konferenzen/{planned}/top", data=general).status_code == 422
    assert _count(query, AgendaItem) == 0
    assert ki.post(f"/konferenzen/{planned}/top", data=item | {"presenter": str(scene.ids["AA"])}).status_code == 302
    assert query(lambda: db.session.query(AgendaItem).one().presenter_id, commit=False) == scene.ids["AA"]


def test_an_item_title_may_be_as_long_as_its_field_allows(scene, clients, planned, query):
    ki = clients["KI"]
    form = {"kind": "bericht", "time_box": "10", "presenter": "0"}
    assert ki.post(f"/konferenzen/{planned}/top", data=form | {"title": "B" * 250}).status_code == 302
    too_long = ki.post(f"/konferenzen/{planned}/top", data=form | {"title": "B" * 301})
    assert too_long.status_code == 422 and "300 Zeichen" in too_long.get_data(as_text=True)
    assert query(lambda: [len(i.title) for i in db.session.query(AgendaItem)], commit=False) == [250]


def test_reloading_a_forms_address_leads_to_its_page_not_to_an_error(scene, clients, planned):
    """After a refused form the address bar shows the form's address; opening it again is a GET."""
    ki = clients["KI"]
    resp = ki.get(f"/konferenzen/{planned}/top")
    assert resp.status_code == 302 and resp.headers["Location"] == f"/konferenzen/{planned}"
    page = ki.get(resp.headers["Location"]).get_data(as_text=True)
    assert "nimmt nur abgeschickte Formulare an" in page
    # a line break in the path cannot go into a redirect: the nearest page without one, never a 500
    crafted = ki.get("/faelle/X%0D%0ASet-Cookie:%20a=b/einwilligungen/1/widerruf")
    assert crafted.status_code < 500 and "Set-Cookie" not in crafted.headers.get("Location", "")
    # an API client gets its 405 as before
    api = ki.get(f"/api/v1/conferences/{planned}/items")
    assert api.status_code == 405 and api.get_json()["error"]
