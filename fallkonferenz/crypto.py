"""Field encryption: per-case data keys (AES-GCM) wrapped by a rotatable master key."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import threading
import time
import unicodedata
from collections import OrderedDict
from functools import cached_property
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT = b"\x01"
AEAD_CACHE_SIZE = 20_000
NONCE_BYTES = 12
URL_PAD = 64  # bytes: a hidden text is padded to a multiple of this
STAMP_BYTES = 8  # a hidden text's time of issue, seconds since the epoch
CLOCK_SKEW = 60  # seconds a time of issue may lie ahead (another server process's clock)


class DecryptionError(Exception):
    """Ciphertext failed authentication: tampered, moved or under an unknown key."""


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _derive(key: bytes, label: bytes) -> bytes:
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=label).derive(key)


class Keyring:
    """Master keys by version plus the blind-index key; reloads its file on an unknown version."""

    def __init__(self, *, master_key: str | None = None, path: str | None = None):
        self._lock = threading.Lock()
        # Unwrapped data keys by (case, wrapped bytes): a re-wrap or a shredded key never hits a stale entry.
        self._aeads: OrderedDict[tuple[int, bytes], AESGCM] = OrderedDict()
        self.path = Path(path) if path else None
        self.from_env = bool(master_key)
        if master_key:
            raw = base64.b64decode(master_key)
            if len(raw) != 32:
                raise ValueError("FK_MASTER_KEY must be 32 bytes, base64-encoded.")
            self.keys = {1: raw}
            self.current = 1
            self.index_key = _derive(raw, b"fallkonferenz blind index")
        else:
            self._load()

    def _load(self) -> None:
        assert self.path is not None
        if not self.path.exists():
            self.path.parent.mkdir(parents=True, exist_ok=True)
            data = {"current": 1, "keys": {"1": _b64(os.urandom(32))}, "index_key": _b64(os.urandom(32))}
            self._write(data)
        data = json.loads(self.path.read_text())
        self.keys = {int(v): base64.b64decode(k) for v, k in data["keys"].items()}
        self.current = int(data["current"])
        self.index_key = base64.b64decode(data["index_key"])

    def _write(self, data: dict) -> None:
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(data, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, self.path)

    def master(self, version: int) -> bytes:
        """Return the master key of a version, re-reading the key file once if unknown."""
        if version not in self.keys and self.path is not None:
            with self._lock:
                self._load()
        try:
            return self.keys[version]
        except KeyError:
            raise DecryptionError(f"unknown master key version {version}") from None

    def add_version(self) -> int:
        """Add a new master key and make it current; old versions stay readable."""
        if self.from_env or self.path is None:
            raise RuntimeError("Key rotation needs a keyring file (FK_KEYRING_FILE).")
        with self._lock:
            self._load()
            version = max(self.keys) + 1
            data = {
                "current": version,
                "keys": {str(v): _b64(k) for v, k in self.keys.items()} | {str(version): _b64(os.urandom(32))},
                "index_key": _b64(self.index_key),
            }
            self._write(data)
            self._load()
        return version

    def drop_versions_except(self, keep: int) -> None:
        """Forget retired master keys once nothing is wrapped under them."""
        with self._lock:
            self._load()
            data = {
                "current": self.current,
                "keys": {str(keep): _b64(self.keys[keep])},
                "index_key": _b64(self.index_key),
            }
            self._write(data)
            self._load()

    def seal(self, data: bytes) -> str:
        """A keyed SHA-256 (HMAC) of data, hex: proves the data unchanged to whoever holds the key, and lets no one
        without it test a guess of what the data says (a plain hash of frozen minutes would let an agency confirm
        the text of an item closed to it). Its key comes from the blind-index key, so it outlives key rotation."""
        key = _derive(self.index_key, b"fallkonferenz seal")
        return hmac.new(key, data, hashlib.sha256).hexdigest()

    def hide(self, text: str, bound_to: str, issued: float | None = None) -> str:
        """Text for an address (a search for a client's name) that no browser history, bookmark or log shows and
        only the holder of `bound_to` (a login session's secret) can have read back: AES-GCM, URL-safe base64.
        It carries the time it was made (`issued`, default now), so that `unhide` can let it expire."""
        stamp = int(time.time() if issued is None else issued)
        data = stamp.to_bytes(STAMP_BYTES, "big") + text.encode()
        data += b"\0" * (-len(data) % URL_PAD)  # the token's length tells the text's only to a block
        nonce = os.urandom(NONCE_BYTES)
        sealed = self._url_key.encrypt(nonce, data, bound_to.encode())
        return base64.urlsafe_b64encode(nonce + sealed).decode().rstrip("=")

    def unhide(self, token: str, bound_to: str, max_age: float, now: float | None = None) -> str | None:
        """The text of `hide`, or None for a token of another session, a changed one, no token at all, or one made
        more than `max_age` seconds ago (or ahead of `now`: a clock set back does not lengthen its life)."""
        now = time.time() if now is None else now
        try:
            raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
            data = self._url_key.decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], bound_to.encode())
            text = data[STAMP_BYTES:].rstrip(b"\0").decode()
        except (ValueError, InvalidTag, UnicodeDecodeError):
            return None
        issued = int.from_bytes(data[:STAMP_BYTES], "big")
        if len(data) < STAMP_BYTES or not now - max_age <= issued <= now + CLOCK_SKEW:
            return None
        return text

    @cached_property
    def _url_key(self) -> AESGCM:
        return AESGCM(_derive(self.index_key, b"fallkonferenz url"))  # the index key outlives key rotation

    # data keys -------------------------------------------------------------
    def new_data_key(self) -> bytes:
        return AESGCM.generate_key(bit_length=256)

    def wrap(self, data_key: bytes, case_id: int, version: int | None = None) -> tuple[bytes, int]:
        """Wrap a case's data key under a master key version (default: current)."""
        version = version or self.current
        nonce = os.urandom(NONCE_BYTES)
        ad = f"casekey:{case_id}:{version}".encode()
        return nonce + AESGCM(self.master(version)).encrypt(nonce, data_key, ad), version

    def unwrap(self, wrapped: bytes, case_id: int, version: int) -> bytes:
        ad = f"casekey:{case_id}:{version}".encode()
        try:
            return AESGCM(self.master(version)).decrypt(wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], ad)
        except (InvalidTag, ValueError) as exc:
            raise DecryptionError("case key does not authenticate") from exc

    def data_key(self, wrapped: bytes, case_id: int, version: int) -> AESGCM:
        """Return a ready cipher for a wrapped case key, unwrapping it once per process."""
        cache_key = (case_id, wrapped)
        aead = self._aeads.get(cache_key)
        if aead is None:
            aead = AESGCM(self.unwrap(wrapped, case_id, version))
            self._aeads[cache_key] = aead
            if len(self._aeads) > AEAD_CACHE_SIZE:
                self._aeads.popitem(last=False)
        return aead

    def forget(self, case_id: int) -> None:
        """Drop the unwrapped data keys of a case from this process (its key was destroyed)."""
        with self._lock:
            for cache_key in [k for k in self._aeads if k[0] == case_id]:
                del self._aeads[cache_key]

    # blind index -----------------------------------------------------------
    def blind_tokens(self, text: str, *, prefixes: bool = True) -> set[bytes]:
        """Keyed tokens for each name word (and its prefixes of 3+ letters)."""
        tokens = set()
        for word in normalize_name(text).split():
            forms = {word[:n] for n in range(3, len(word) + 1)} if prefixes else {word}
            forms.add(word)
            for form in forms:
                tokens.add(hmac.new(self.index_key, form.encode(), hashlib.sha256).digest()[:16])
        return tokens


def normalize_name(text: str) -> str:
    """Case- and accent-insensitive form of a name for the blind index."""
    # Dotless ı (Turkish) has no decomposition; fold it so YILDIZ finds Yıldız.
    decomposed = unicodedata.normalize("NFKD", text.casefold().replace("ı", "i"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c if c.isalnum() else " " for c in plain)


def associated_data(table: str, record_id: int, field: str, key_version: int) -> bytes:
    """Bind a ciphertext to its record, field and key version."""
    return f"{table}:{record_id}:{field}:{key_version}".encode()


def encrypt_field(aead: AESGCM, plaintext: bytes, ad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT + nonce + aead.encrypt(nonce, plaintext, ad)


def decrypt_field(aead: AESGCM, blob: bytes, ad: bytes) -> bytes:
    if not blob or blob[:1] != FORMAT:
        raise DecryptionError("unknown ciphertext format")
    try:
        return aead.decrypt(blob[1 : 1 + NONCE_BYTES], blob[1 + NONCE_BYTES :], ad)
    except (InvalidTag, ValueError) as exc:
        raise DecryptionError("ciphertext does not authenticate") from exc
