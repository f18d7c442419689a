"""The de-identification guard: every identifying text of the corpus is refused with the right passage marked,
every clean one passes, both in the pure check and when a case worker escalates; and the guard uses only the
personal data that the author's agency may see."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from agenda import items as agenda_items
from backlog import guard, service
from backlog.models import Escalation
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent
from tests.backlog.conftest import user
from tests.backlog.corpus import CLEAN, EXTRA_PERSONS, IDENTIFYING, PERSONS, SCENE_PERSONS, Sample
from tests.factories import all_categories, make_case, make_consent

TODAY = date.today()


def identifiers(*keys: str) -> guard.Identifiers:
    ids = guard.Identifiers()
    for key in keys or PERSONS:
        person = PERSONS[key]
        ids.names |= person.names
        ids.birth_dates.add(person.birth_date)
        ids.addresses.add(person.address)
        ids.phones.add(person.phone)
        ids.case_numbers.add(person.number)
    return ids


def found(hits) -> tuple[tuple[str, str, str], ...]:
    return tuple((h.field, h.kind, h.text) for h in hits)


def test_corpus_size():
    assert len(IDENTIFYING) >= 20 and len(CLEAN) >= 20
    assert len({s.id for s in IDENTIFYING + CLEAN}) == len(IDENTIFYING) + len(CLEAN)
    assert all(s.hits and s.person for s in IDENTIFYING)
    assert not any(s.hits or s.person for s in CLEAN)


# -- the pure check ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("sample", IDENTIFYING, ids=lambda s: s.id)
def test_identifying_text_is_blocked_at_the_right_place(sample: Sample):
    hits = guard.check(sample.texts(), identifiers(), TODAY)
    assert found(hits) == sample.hits
    for hit in hits:  # the span is where the form will mark it
        assert sample.texts()[hit.field][hit.start : hit.end] == hit.text
        assert hit.label == guard.KIND_LABELS[hit.kind]


@pytest.mark.parametrize("sample", CLEAN, ids=lambda s: s.id)
def test_clean_text_passes(sample: Sample):
    assert found(guard.check(sample.texts(), identifiers(), TODAY)) == ()


def test_without_case_data_only_the_generic_patterns_apply():
    text = (
        "Amal Haddad, geb. 22.06.2006, Hafenstraße 7, Tel. 0231 998877, amal@example.org, "
        f"{PERSONS['open'].number}, Am Markt 3"
    )
    kinds = [h.kind for h in guard.check({"description": text}, guard.Identifiers(), TODAY)]
    assert kinds == ["date", "address", "phone", "email", "case_number"]


def test_a_person_addressed_as_such_is_found_without_knowing_the_name():
    """The steering group sees no client's data, and a case worker none of the cases closed to her agency: a name
    after "Frau" or "Herr" is found all the same. "Frau" as a plain noun, and a role after it, pass."""
    texts = {
        "a": "Wie bei Frau Amina Yusuf auch.",
        "b": "Termine für Herrn Dr. Sohrab Amiri priorisieren.",
        "c": "Frau T. aus Talhausen, alleinerziehend mit Tochter.",
        "d": "Die ABH hat Herr Okonkwo schon zweimal vertröstet.",
        # an article of another phrase, before a comma or a full stop, does not make "Frau" a plain noun
        "e": "Die Mutter, Frau Yusuf, bekommt keinen Kitaplatz.",
        "f": "Sein Vater, Herr Amiri, wartet. Der Kurs. Frau Haddad auch.",
        "g": "Wie bei FRAU YUSUF.",
    }
    assert found(guard.check(texts, guard.Identifiers(), TODAY)) == (
        ("a", "name", "Amina"),
        ("b", "name", "Sohrab"),
        ("c", "name", "T"),
        ("d", "name", "Okonkwo"),
        ("e", "name", "Yusuf"),
        ("f", "name", "Amiri"),
        ("f", "name", "Haddad"),
        ("g", "name", "YUSUF"),
    )
    clean = {
        "a": "Eine junge Frau Anfang 20 wartet seit Monaten auf einen Kursplatz.",
        "b": "Wenn die Frau Kinder unter drei Jahren betreut, fehlt die Kinderbetreuung im Kurs.",
        "c": "Frau Ministerin hat eine Prüfung zugesagt; Herr Landrat ebenso.",
        "d": "Frauen und Männer, Herren wie Damen: alle warten. Herr und Frau sind keine Namen.",
        "e": "Einer alleinerziehenden Frau Unterstützung anzubieten, scheitert an der Fahrtzeit.",
    }
    assert found(guard.check(clean, guard.Identifiers(), TODAY)) == ()


def test_a_name_hidden_by_invisible_or_decomposed_characters_is_found_in_the_original_text():
    text = "Frau O\u0308ztu\u0308rk wartet; Herr Rah\u00adimi auch."
    hits = guard.check({"description": text}, identifiers(), TODAY)
    assert [h.text for h in hits] == ["O\u0308ztu\u0308rk", "Rah\u00adimi"]
    assert all(text[h.start : h.end] == h.text for h in hits)


def test_a_name_written_with_turkish_or_accented_letters_is_found():
    ids = guard.Identifiers(names={"Ibrahim Jose Yilmaz"})
    hits = guard.check({"title": "İbrahim, José und YILMAZ"}, ids, TODAY)
    assert [h.text for h in hits] == ["İbrahim", "José", "YILMAZ"]


def test_name_particles_never_block_on_their_own_and_short_full_names_still_do():
    assert guard.name_variants(["Leon von der Heyde", "von der Heyde"]) == {
        "Leon von der Heyde",
        "von der Heyde",
        "Leon",
        "Heyde",
    }
    assert guard.name_variants(["Li Na", "Al", "von der"]) == {"Li Na"}
    assert found(guard.check({"title": "Termin mit Li Na"}, guard.Identifiers(names={"Li Na"}), TODAY)) == (
        ("title", "name", "Li Na"),
    )


def test_a_name_that_is_also_a_word_counts_only_capitalised_inside_a_sentence():
    ids = guard.Identifiers(names={"Nur", "Klein"})
    text = "Nur wenige Kurse. Der Bedarf ist nicht klein, nur für Nur und Frau Klein fehlt ein Platz.\n- Klein: offen"
    assert [h.text for h in guard.check({"description": text}, ids, TODAY)] == ["Nur", "Klein"]


def test_house_numbers_not_distances_or_places_on_a_list():
    def kinds(text):
        return [h.kind for h in guard.check({"description": text}, guard.Identifiers(), TODAY)]

    for street in ("Bahnhofstr.12", "Lange Straße 3a", "Kirchweg 45", "Rathausplatz 1, Musterstadt"):
        assert kinds(street) == ["address"], street
    for words in (
        "Arbeitsweg 45 Minuten",
        "Platz 3 der Liste",
        "Ausbildungsplatz 2027",
        "Kitaplatz 3 Monate",
        "Ring 5",
    ):
        assert kinds(words) == [], words


def test_an_address_without_a_house_number_blocks_nothing():
    ids = guard.Identifiers(addresses={"ohne festen Wohnsitz", "Gemeinschaftsunterkunft, 12345 Musterstadt"})
    text = "Junge Menschen ohne festen Wohnsitz und in der Gemeinschaftsunterkunft bekommen keine Post."
    assert found(guard.check({"description": text}, ids, TODAY)) == ()


def test_dates_that_cannot_be_a_birthday_pass_unless_they_follow_a_birth_word():
    ids = guard.Identifiers()
    assert found(guard.check({"t": f"bis 31.12.{TODAY.year + 1} und seit 01.01.{TODAY.year - 2}"}, ids, TODAY)) == ()
    assert found(guard.check({"t": "Gesetz vom 30.07.2004"}, ids, TODAY)) == ()
    assert found(guard.check({"t": "eingereist am 30.07.2004"}, ids, TODAY)) == (("t", "date", "30.07.2004"),)
    assert found(guard.check({"t": f"geboren am 01.02.{TODAY.year - 1}"}, ids, TODAY)) == (
        ("t", "date", f"01.02.{TODAY.year - 1}"),
    )
    assert found(guard.check({"t": "2005 geboren, Jahrgang 2006"}, ids, TODAY)) == (
        ("t", "date", "2005 geboren"),
        ("t", "date", "Jahrgang 2006"),
    )
    # a known birth date is blocked whatever the words before it
    known = guard.Identifiers(birth_dates={date(2004, 3, 17)})
    assert found(guard.check({"t": "seit dem 17.03.2004"}, known, TODAY)) == (("t", "birth_date", "17.03.2004"),)
    # a date written with dashes is a date, not a phone number
    assert found(guard.check({"t": f"bis 01-08-{TODAY.year + 1}"}, ids, TODAY)) == ()


def test_highlight_marks_the_hits_and_escapes_the_rest():
    text = "<b>Amal</b> wartet"
    hits = guard.check({"description": text}, identifiers("open"), TODAY)
    html = str(guard.highlight(text, hits))
    assert html == ('&lt;b&gt;<mark class="guard-hit" title="Name einer Person">Amal</mark>&lt;/b&gt; wartet')


def test_fifty_names_in_a_long_text():
    names = {f"Vorname{i} Familienname{i}" for i in range(50)}
    ids = guard.Identifiers(names=names, case_numbers={f"FK-2026-{i:04d}" for i in range(50)})
    text = (CLEAN[0].description + " ") * 8 + "Familienname17s Antrag"
    hits = guard.check({"description": text[-2000:]}, ids, TODAY)
    assert found(hits) == (("description", "name", "Familienname17s"),)


# -- through the service -------------------------------------------------------------------------------------


@pytest.fixture
def corpus_scene(bscene, query):
    """The backlog scene plus the corpus' other persons as cases on the first conference (JC and AA consent)."""

    def build():
        ki = user(bscene.users["KI"])
        items = dict(bscene.items)
        for key in EXTRA_PERSONS:
            person = PERSONS[key]
            case = make_case(
                ki,
                given=person.given,
                family=person.family,
                birth_date=person.birth_date,
                address=person.address,
                phone=person.phone,
            )
            assert case.number == person.number
            make_consent(case, ki, all_categories("JC", "AA"))
            data = agenda_items.ItemInput(title="", kind="fallbesprechung", time_box=20, case_ref=case.number)
            items[key] = agenda_items.add_item(ki, bscene.conference, data, confirmed=True).id
        return items

    assert bscene.numbers == {key: PERSONS[key].number for key in SCENE_PERSONS}
    return bscene, query(build)


def _input(sample: Sample) -> service.EscalationInput:
    return service.EscalationInput(
        title=sample.title,
        description=sample.description,
        category=sample.category,
        rechtskreise=["AufenthG"],
        agencies=["ABH"],
        proposed_solution=sample.proposed_solution,
    )


def _count() -> int:
    return db.session.scalar(select(func.count()).select_from(Escalation))


def test_escalating_an_identifying_text_saves_nothing(corpus_scene, query):
    scene, items = corpus_scene

    def run():
        aa = user(scene.users["AA"])
        missed = []
        for sample in IDENTIFYING:
            before = _count()
            try:
                service.escalate(aa, _input(sample), items[sample.person])
            except service.IdentifyingText as exc:
                assert set(sample.hits) <= set(found(exc.hits)), sample.id
                assert set(exc.errors) == {field for field, _, _ in sample.hits}
            else:
                missed.append(sample.id)
            assert _count() == before, sample.id
        return missed

    assert query(run) == []
    assert query(_count) == 0


def test_escalating_a_clean_text_saves_it(corpus_scene, query):
    scene, items = corpus_scene

    def run():
        aa = user(scene.users["AA"])
        refused = {}
        for sample in CLEAN:
            before = _count()
            try:
                escalation = service.escalate(aa, _input(sample), items["open"])
            except service.IdentifyingText as exc:
                refused[sample.id] = found(exc.hits)
                continue
            assert _count() == before + 1
            assert (escalation.title, escalation.case_count) == (sample.title, 1)
        return refused

    assert query(run) == {}
    assert query(_count) == len(CLEAN)


NAMES_SENAIT = service.EscalationInput(
    title="Kinderbetreuung während des Sprachkurses",
    description="Senait Tesfay wartet auf einen Kitaplatz, der Kurs hat keine Kinderbetreuung.",
    category="angebot_kinderbetreuung",
)


def test_a_client_the_authors_agency_may_not_see_does_not_block_it(bscene, query):
    """JC has no consent for the "closed" case: its client's name is unknown to the JC and must stay so."""

    def run():
        aa, jc = user(bscene.users["AA"]), user(bscene.users["JC"])
        with pytest.raises(service.IdentifyingText) as refused:
            service.escalate(aa, NAMES_SENAIT, bscene.items["open"])
        assert found(refused.value.hits) == (("description", "name", "Senait Tesfay"),)
        escalation = service.escalate(jc, NAMES_SENAIT, bscene.items["open"])
        assert escalation.id and escalation.case_count == 1
        guarded = db.session.scalars(
            select(AuditEvent.case_id).where(AuditEvent.action == "backlog.guard", AuditEvent.actor_id == jc.id)
        ).all()
        assert bscene.cases["closed"] not in guarded and bscene.cases["open"] in guarded
        # the generic patterns still apply to the JC: the client's phone number is a phone number
        phone = service.EscalationInput(
            title="Erreichbarkeit", description="Rückruf unter 0231 998877 erbeten.", category="datenaustausch"
        )
        with pytest.raises(service.IdentifyingText) as generic:
            service.escalate(jc, phone, bscene.items["open"])
        assert found(generic.value.hits) == (("description", "phone", "0231 998877"),)

    query(run)


def test_an_agency_without_consent_for_any_case_is_held_to_the_generic_patterns(bscene, query):
    """The ABH sees none of the conference's cases: client names pass, a case number does not."""

    def run():
        abh = user(bscene.users["ABH"])
        names = service.EscalationInput(
            title="Wartezeit Aufenthaltserlaubnis",
            description="Amal Haddad und Ahmad Rahimi warten seit 10 Wochen.",
            category="wartezeiten",
        )
        escalation = service.escalate(abh, names, bscene.general_item)
        assert escalation.case_count == 0
        number = service.EscalationInput(
            title="Wartezeit Aufenthaltserlaubnis",
            description=f"Wie bei {bscene.numbers['open']} dauert die Verlängerung 10 Wochen.",
            category="wartezeiten",
        )
        before = _count()
        with pytest.raises(service.IdentifyingText) as refused:
            service.escalate(abh, number, bscene.general_item)
        assert found(refused.value.hits) == (("description", "case_number", bscene.numbers["open"]),)
        assert _count() == before

    query(run)


@pytest.mark.parametrize("dash", ["\u2011", "\u2013", "\u2014", " ", "/", ""])
def test_a_case_number_with_a_typographic_dash_is_still_one(dash):
    """Word processors and phones put non-breaking hyphens and dashes in; a number written so is still a number."""
    text = f"Wie in {PERSONS['open'].number.replace('-', dash)} besprochen"
    assert [h.kind for h in guard.check({"description": text}, guard.Identifiers(), TODAY)] == ["case_number"]
