"""Presence in an agenda item, as the server relays it.

A browser shares who it is and where its cursor stands as a Yjs awareness update (y-protocols: a count, then per
client its id, a clock and the state as JSON, numbers as lib0 variable-length integers). The server does not pass
on what a browser claims about its person: it reads the update, which must hold exactly the sender's own entry,
puts in the name, agency and colour of the account the socket logged in with, keeps only the cursor, and encodes
it again. So no one can appear under another person's name, or move or remove another person's cursor.
"""

from __future__ import annotations

import json

from fallkonferenz.errors import InvalidInput

MAX_BYTES = 8_000
MALFORMED = "Ungültige Anwesenheitsangabe."


def person(user) -> dict:
    """How a user appears in the presence list and at her cursor."""
    return {"name": user.display_name, "agency": user.agency.code, "color": user.agency.color}


def _read_uint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        if pos >= len(data) or shift > 49:  # lib0 numbers fit in 53 bits
            raise ValueError("truncated number")
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if byte < 0x80:
            return value, pos


def _write_uint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def stamp(update: bytes, who: dict) -> tuple[int, int, bytes]:
    """The Yjs client id and clock of a browser's awareness update, and the update as the others receive it: with
    `who` as its person. A state of `null` (the browser leaves the item) stays `null`."""
    if len(update) > MAX_BYTES:
        raise InvalidInput(f"Die Anwesenheitsangabe ist zu groß (höchstens {MAX_BYTES} Bytes).")
    try:
        count, pos = _read_uint(update, 0)
        client_id, pos = _read_uint(update, pos)
        clock, pos = _read_uint(update, pos)
        length, pos = _read_uint(update, pos)
        if count != 1 or pos + length != len(update):
            raise ValueError("not exactly one entry")
        state = json.loads(update[pos:].decode("utf-8"))
    except (ValueError, RecursionError):
        raise InvalidInput(MALFORMED) from None
    if state is not None:
        cursor = state.get("cursor") if isinstance(state, dict) else False
        if cursor is not None and not isinstance(cursor, dict):
            raise InvalidInput(MALFORMED)
        state = {"user": who, "cursor": cursor}
    return client_id, clock, _encode(client_id, clock, state)


def gone(client_id: int, clock: int) -> bytes:
    """The update that takes a browser's cursor and name out of the others' presence at once (its last clock
    with a `null` state), for a socket the server took out of the item or that went away."""
    return _encode(client_id, clock, None)


def _encode(client_id: int, clock: int, state: dict | None) -> bytes:
    text = json.dumps(state, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    return b"".join(_write_uint(n) for n in (1, client_id, clock, len(text))) + text
