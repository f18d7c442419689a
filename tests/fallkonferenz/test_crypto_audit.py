"""Field encryption, tamper detection, key rotation and the hash-chained audit log."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from agenda.demo import PAST_RECORDS
from fallkonferenz import audit, demo
from fallkonferenz.casecrypto import UNREADABLE, keyring, rewrap_batch
from fallkonferenz.cases import service as case_service
from fallkonferenz.demo_data import CASES
from fallkonferenz.extensions import db
from fallkonferenz.models import AuditEvent, Case, CaseKey, Note
from minutes.demo import TEXTS as MINUTES_TEXTS
from tests.factories import make_case, make_world


def test_database_file_holds_no_plaintext_personal_data(app, query):
    """Search the stored rows, and on SQLite the database file, for names, birth dates, addresses, notes.

    Every value that is not ciphertext is searched for every needle, as a whole word. The raw file (everything
    that reached the disk, freed pages included) is searched for the needles of five bytes or more: shorter ones,
    such as the family name "Bah", turn up by chance in a few megabytes of random ciphertext.
    """
    query(demo.seed)
    needles = []
    for spec in CASES:
        needles += [spec["given_name"], spec["family_name"], spec["birth_date"], spec["address"], spec["phone"]]
        needles += [n["text"][:40] for n in spec["notes"]]
    # the minutes of case items: their text (in the Yjs update log), decisions and tasks
    needles += [text[:40] for text in MINUTES_TEXTS.values()]
    for decision, tasks in PAST_RECORDS.values():
        needles += [decision[:40], *(description[:40] for _, description, _ in tasks)]
    with app.app_context():
        values = [
            value
            for table in db.metadata.sorted_tables
            for row in db.session.execute(select(table))
            for value in row
            if value is not None
        ]
        plain = "\n".join(str(value) for value in values if not isinstance(value, bytes))
        stored = b"\n".join(value for value in values if isinstance(value, bytes))
        assert b"\x01" in stored, "the dump holds the stored ciphertext and updates"
        raw = b""
        if db.engine.dialect.name == "sqlite":
            base = Path(db.engine.url.database)
            raw = b"".join(p.read_bytes() for p in (base, base.with_name(base.name + "-wal")) if p.exists())
    assert "Kommunales Integrationszentrum" in plain, "the dump holds the stored rows"
    leaked = [n for n in needles if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", plain)]
    leaked += [n for n in needles if len(n.encode()) >= 5 and (n.encode() in raw or n.encode("utf-16-le") in raw)]
    leaked += [n for n in needles if len(n.encode()) >= 10 and n.encode() in stored]
    assert not leaked


def test_flipped_byte_fails_closed_and_is_logged(app, ctx):
    users = make_world()
    case = make_case(users["KI"], family="Tesfay")
    note = case_service.add_note(users["KI"], case.id, "familie", "Kinderbetreuung ab März zugesagt.")
    db.session.commit()
    blob = bytearray(note.text_enc)
    blob[-5] ^= 0x01
    db.session.execute(update(Note).where(Note.id == note.id).values(text_enc=bytes(blob)))
    db.session.commit()
    view = case_service.get_case(users["KI"], case.id)
    assert [n.text for n in view.notes] == [UNREADABLE]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "crypto.failure")) is not None


def test_ciphertext_cannot_be_moved_to_another_record(app, ctx):
    users = make_world()
    a = make_case(users["KI"], family="Amiri")
    b = make_case(users["KI"], family="Haddad")
    db.session.commit()
    # Same case key would not help either: the record id is part of the associated data.
    db.session.execute(update(Case).where(Case.id == b.id).values(family_name_enc=a.family_name_enc))
    db.session.commit()
    view = case_service.get_case(users["KI"], b.id)
    assert view.master["family_name"] == UNREADABLE


def test_key_rotation_rewraps_every_case_key_and_data_stays_readable(app, ctx):
    users = make_world()
    cases = [make_case(users["KI"], family=f"Familie{i}") for i in range(3)]
    db.session.commit()
    ring = keyring()
    old_version = ring.current
    new_version = ring.add_version()
    while rewrap_batch(new_version, batch=2):
        db.session.commit()
    versions = set(db.session.scalars(select(CaseKey.master_version)))
    assert versions == {new_version} and new_version == old_version + 1
    ring.drop_versions_except(new_version)
    assert json.loads(Path(ring.path).read_text())["keys"].keys() == {str(new_version)}
    for i, case in enumerate(cases):
        assert case_service.get_case(users["KI"], case.id).master["family_name"] == f"Familie{i}"


def test_cli_rotate_and_audit_verify(app, ctx):
    users = make_world()
    make_case(users["KI"])
    db.session.commit()
    runner = app.test_cli_runner()
    result = runner.invoke(args=["keys", "rotate"])
    assert result.exit_code == 0 and "neu verpackt" in result.output
    result = runner.invoke(args=["audit", "verify"])
    assert result.exit_code == 0 and "unverändert" in result.output


def _chain(ctx_users, n=6):
    make_case(ctx_users["KI"])
    for i in range(n):
        audit.record("test.event", detail={"i": i})
    db.session.commit()


def test_untouched_chain_verifies(app, ctx):
    _chain(make_world())
    assert audit.verify() == []


def test_edited_audit_row_is_detected(app, ctx):
    _chain(make_world())
    target = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).offset(2).limit(1))
    db.session.execute(update(AuditEvent).where(AuditEvent.id == target).values(action="case.read"))
    db.session.commit()
    findings = audit.verify()
    assert [f.event_id for f in findings] == [target]
    assert "geändert" in findings[0].problem


def test_deleted_audit_row_is_detected(app, ctx):
    _chain(make_world())
    target = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).offset(3).limit(1))
    db.session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == target))
    db.session.commit()
    findings = audit.verify()
    assert findings and findings[0].event_id == target + 1 and "fehlen" in findings[0].problem


def test_deleted_tail_is_detected(app, ctx):
    _chain(make_world())
    last = db.session.scalar(select(AuditEvent.id).order_by(AuditEvent.id.desc()).limit(1))
    db.session.execute(AuditEvent.__table__.delete().where(AuditEvent.id == last))
    db.session.commit()
    assert any("Ende der Kette" in f.problem for f in audit.verify())


def test_inserted_audit_row_is_detected(app, ctx):
    _chain(make_world())
    table = AuditEvent.__table__
    rows = db.session.execute(select(table.c.id, table.c.hash, table.c.created_at).order_by(table.c.id)).all()
    victim_id, prev_hash, created = rows[-3].id, rows[-4].hash, rows[-3].created_at
    # Forge a row between two others: shift the later ids up and slot a new one in.
    for row in reversed(rows[-3:]):
        db.session.execute(table.update().where(table.c.id == row.id).values(id=row.id + 1))
    db.session.execute(
        table.insert().values(
            id=victim_id,
            created_at=created,
            action="case.read",
            categories="",
            purpose="",
            detail="{}",
            prev_hash=prev_hash,
            hash="f" * 64,
        )
    )
    db.session.commit()
    findings = audit.verify()
    assert {f.event_id for f in findings} >= {victim_id, victim_id + 1}


def test_cli_verify_names_the_tampered_row(app, ctx):
    _chain(make_world())
    db.session.execute(update(AuditEvent).where(AuditEvent.id == 2).values(purpose="x"))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["audit", "verify"])
    assert result.exit_code == 1 and "Eintrag 2" in result.output


def test_audit_events_hold_no_plaintext(app, ctx):
    users = make_world()
    case = make_case(users["KI"], given="Senait", family="Tesfay")
    case_service.add_note(users["KI"], case.id, "gesundheit", "Therapieplatz gefunden")
    case_service.get_case(users["KI"], case.id)
    case_service.list_cases(users["KI"], query="Tesfay")
    db.session.commit()
    dump = " ".join(f"{e.action} {e.categories} {e.purpose} {e.detail}" for e in db.session.scalars(select(AuditEvent)))
    for needle in ("Senait", "Tesfay", "Therapieplatz", "2004-03-17"):
        assert needle not in dump
    actions = set(db.session.scalars(select(AuditEvent.action)))
    assert {"case.create", "note.create", "case.read", "case.list"} <= actions


@pytest.mark.parametrize("bad_key", ["", "zu-kurz"])
def test_invalid_master_key_is_refused(bad_key):
    from fallkonferenz.crypto import Keyring

    with pytest.raises(ValueError):
        Keyring(master_key=bad_key or "AAAA")
