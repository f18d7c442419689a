"""Live structured records: once a request that recorded a decision, a task or attendance has committed, the
people in the minutes see it without reloading.

Events go to the rooms of the namespace /minutes, which the minutes page joins per agenda item: only participants
whose agency may see a case item are in its room, and the eviction sweep takes out within a second whoever loses
that right. An event carries only what the minutes and results pages show those people anyway, never a case number
or a client's name. With a message queue (REDIS_URL) the emit reaches the sockets of every process.
"""

from __future__ import annotations

from sqlalchemy import select

from agenda.models import AgendaItem
from fallkonferenz.extensions import db, socketio
from fallkonferenz.web import after_commit

from . import service


def _emit(event: str, data: dict, rooms: list[str]) -> None:
    if not rooms:
        return
    socketio.emit(event, data, to=rooms if len(rooms) > 1 else rooms[0], namespace=service.NAMESPACE)


def _rooms(conference_id: int) -> list[str]:
    """Every item room of a conference: together they hold exactly the participants with its minutes open."""
    item_ids = db.session.scalars(select(AgendaItem.id).where(AgendaItem.conference_id == conference_id))
    return [service.room_of(item_id) for item_id in item_ids]


def record_stored(entry: dict) -> None:
    """A decision or task (an entry of `records`) was recorded or changed: tell its item's room after the commit."""
    room = service.room_of(entry["item"])
    after_commit(lambda: _emit("record", dict(entry), [room]))


def attendance_stored(conference_id: int, attendance: dict[int, str]) -> None:
    """The attendance changed: every item room of the conference hears the whole list once, after the commit.

    Attendance belongs to the conference, not to a case, and every participant sees it on the results page. There
    is no conference room; the item rooms already hold exactly the participants with the minutes open (and no one
    else, see the eviction sweep), and Socket.IO delivers an event sent to several rooms once per socket.
    """
    rooms = _rooms(conference_id)
    data = {
        "conference": conference_id,
        "attendance": [{"user": user_id, "status": status} for user_id, status in attendance.items()],
    }
    after_commit(lambda: _emit("attendance", data, rooms))


def closing_changed(conference_id: int, closed: bool) -> None:
    """The minutes were closed (or opened again): open minutes pages learn it at once, after the commit, and stop
    (or may resume, after a reload) typing, instead of finding out with their next refused keystroke."""
    after_commit(lambda: _emit("closing", {"conference": conference_id, "closed": closed}, _rooms(conference_id)))
