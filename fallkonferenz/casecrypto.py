"""Per-case field encryption on top of the keyring; failures fail closed and are audited."""

from __future__ import annotations

from collections.abc import Iterable

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import current_app
from sqlalchemy import bindparam, select
from sqlalchemy.orm.attributes import set_committed_value

from . import audit
from .crypto import DecryptionError, Keyring, associated_data, decrypt_field, encrypt_field
from .extensions import db
from .models import CaseKey

UNREADABLE = "⚠ Inhalt nicht lesbar (Integritätsprüfung fehlgeschlagen)"
ERASED = "(gelöscht)"


def keyring() -> Keyring:
    return current_app.extensions["fk_keyring"]


class CaseCipher:
    """Encrypts and decrypts the fields of one case with its data key."""

    def __init__(self, case_id: int, key: AESGCM | None, key_version: int, erased: bool = False):
        self.case_id = case_id
        self.key = key  # None once the key is destroyed (crypto-shredding) or unreadable
        self.key_version = key_version
        self.erased = erased  # the key was destroyed on purpose: nothing decrypts, and that is no failure

    def encrypt(self, table: str, record_id: int, field: str, value: str | bytes | None) -> bytes | None:
        if value is None:
            return None
        if self.key is None:
            raise DecryptionError("case key destroyed")
        raw = value.encode() if isinstance(value, str) else value
        return encrypt_field(self.key, raw, associated_data(table, record_id, field, self.key_version))

    def decrypt_bytes(self, table: str, record_id: int, field: str, blob: bytes | None) -> bytes | None:
        if blob is None:
            return None
        if self.key is None:
            raise DecryptionError("case key destroyed")
        return decrypt_field(self.key, blob, associated_data(table, record_id, field, self.key_version))

    def read(self, table: str, record_id: int, field: str, blob: bytes | None, actor=None) -> str | None:
        """Decrypt a text field; on failure log it and return a visible marker, never garbage."""
        try:
            raw = self.read_bytes(table, record_id, field, blob, actor)
        except DecryptionError:
            return ERASED if self.erased else UNREADABLE
        return None if raw is None else raw.decode()

    def read_bytes(self, table: str, record_id, field: str, blob: bytes | None, actor=None) -> bytes | None:
        """Decrypt a field; a failure is logged and audited, then raised (the caller decides what to show)."""
        try:
            return self.decrypt_bytes(table, record_id, field, blob)
        except DecryptionError:
            if self.erased:
                raise
            audit.record(
                "crypto.failure",
                actor=actor,
                case_id=self.case_id,
                detail={"table": table, "record": record_id, "field": field},
            )
            current_app.logger.warning("decryption failed: %s %s %s", table, record_id, field)
            raise


def create_case_key(case_id: int) -> CaseCipher:
    """Make and store a fresh data key for a new case."""
    ring = keyring()
    key = ring.new_data_key()
    wrapped, version = ring.wrap(key, case_id)
    db.session.add(CaseKey(case_id=case_id, wrapped=wrapped, master_version=version, key_version=1))
    return CaseCipher(case_id, AESGCM(key), 1)


_CASE_KEYS = select(CaseKey.case_id, CaseKey.wrapped, CaseKey.master_version, CaseKey.key_version).where(
    CaseKey.case_id.in_(bindparam("ids", expanding=True))
)


def ciphers_for(case_ids: Iterable[int]) -> dict[int, CaseCipher]:
    """Unwrap the data keys of several cases with one query."""
    ids = list(set(case_ids))
    if not ids:
        return {}
    return {row[0]: case_cipher(*row) for row in db.session.execute(_CASE_KEYS, {"ids": ids})}


def case_cipher(case_id: int, wrapped: bytes | None, master_version: int, key_version: int) -> CaseCipher:
    """The cipher of a case from its key row (as `_CASE_KEYS` reads it); a destroyed key gives an erased one, a
    key that does not unwrap an unreadable one (audited)."""
    key = None
    if wrapped is not None:
        try:
            key = keyring().data_key(wrapped, case_id, master_version)
        except DecryptionError:
            audit.record("crypto.failure", case_id=case_id, detail={"table": "case_keys"})
    return CaseCipher(case_id, key, key_version, erased=wrapped is None)


def seal_text(record, text: str) -> None:
    """Set the text of a decision or task (the model's `sealed_field`) and flush the record. A record of no case
    keeps it in plain text: every participant reads it. A case's record keeps it under the case's data key: its
    `sealed` column holds the ciphertext and the text column "" in the database, so destroying the key erases the
    text too; in memory the text column holds the text, as if loaded so (`open_texts`). The id, which the
    associated data names, comes from the flush."""
    setattr(record, record.sealed_field, "" if record.case_id else text)
    db.session.flush()
    if not record.case_id:
        return
    cipher = ciphers_for([record.case_id])[record.case_id]
    record.sealed = cipher.encrypt(record.__tablename__, record.id, record.sealed_field, text)
    set_committed_value(record, record.sealed_field, text)


def open_texts(records: Iterable, actor=None) -> list:
    """Decrypt the sealed texts of these records (see `seal_text`), of any models, with one query for their keys;
    a text that does not decrypt shows the UNREADABLE marker. Records of no case keep their plain text."""
    records = list(records)
    sealed = [r for r in records if r.sealed is not None]
    ciphers = ciphers_for(r.case_id for r in sealed)
    for record in sealed:
        cipher, field = ciphers.get(record.case_id), record.sealed_field
        text = cipher.read(record.__tablename__, record.id, field, record.sealed, actor) if cipher else UNREADABLE
        set_committed_value(record, field, text)
    return records


def rewrap_batch(new_version: int, batch: int = 500) -> int:
    """Re-wrap up to `batch` case keys still under an older master version; return how many."""
    ring = keyring()
    rows = db.session.scalars(
        select(CaseKey).where(CaseKey.master_version != new_version, CaseKey.wrapped.is_not(None)).limit(batch)
    ).all()
    for row in rows:
        key = ring.unwrap(row.wrapped, row.case_id, row.master_version)
        row.wrapped, row.master_version = ring.wrap(key, row.case_id, new_version)
    db.session.flush()
    return len(rows)
