"""Socket.IO namespace /minutes: thin handlers over the minutes service; the server names every room."""

from __future__ import annotations

import functools
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit

import redis
import socketio as socketio_server
from flask import current_app, g, request, session
from flask_socketio import Namespace, join_room, leave_room
from sqlalchemy import select

from agenda.items import CONFIDENTIAL, ERASED_CASE, ERASED_NOTE
from consent.policy import Viewer, next_revocation, viewer_of
from fallkonferenz import audit, epoch
from fallkonferenz.auth import service as auth_service
from fallkonferenz.cases import service as case_service
from fallkonferenz.errors import DomainError, InvalidInput, TooManyAttempts, db_id
from fallkonferenz.extensions import db, socketio
from fallkonferenz.localtime import local_date
from fallkonferenz.models import User
from fallkonferenz.web import after_commit, run_after_commit

from . import presence, records, service

NAMESPACE = service.NAMESPACE
SWEEP_SECONDS = 0.4
RATE_PER_SECOND = 60  # sustained updates per socket; a burst of RATE_BURST is allowed
RATE_BURST = 120
COUNT_EVERY = 50
CLAIM_RENEWAL = 3600  # seconds after which a presence id's hold in Redis is renewed on its next use
NAME_CHECK_PAUSE = 1.5  # seconds of no typing in a general item before its text is checked for client names
EVICTED = (
    "Sie haben keinen Zugriff mehr auf diesen Tagesordnungspunkt "
    "(Einwilligung widerrufen oder abgelaufen, oder Sie nehmen nicht mehr teil)."
)


# A notice between server processes that access may have changed; it travels the message queue like an emit but
# no socket ever joins its room, so no browser receives it.
ACCESS_CHANGED = "fk-access-changed"
ACCESS_ROOM = "fk-access"


class AccessNoticeRedisManager(socketio_server.RedisManager):
    """The Redis message queue of several server processes, which also carries "access changed" notices.

    A process reads the queue in order, on one thread: the notice that a write request published after its commit
    is handled (an eviction pass) before any broadcast published after it, so an update typed right after a
    revocation is not delivered to the evicted on another process either. Without the notice that process would
    evict on its next sweep, and deliver what came before.
    """

    on_access_changed = None  # set by the app: runs one eviction pass of this process

    def _handle_emit(self, message):
        if message.get("event") == ACCESS_CHANGED:
            if self.on_access_changed is not None:
                self.on_access_changed()
            return
        super()._handle_emit(message)


class _Bucket:
    """A token bucket per socket, locked: with long polling, a socket's events can arrive on several threads."""

    def __init__(self):
        self.tokens, self.at = float(RATE_BURST), time.monotonic()
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            now = time.monotonic()
            self.tokens = min(RATE_BURST, self.tokens + (now - self.at) * RATE_PER_SECOND)
            self.at = now
            if self.tokens < 1:
                return False
            self.tokens -= 1
            return True


EDIT_AUDIT_EVERY = 600.0  # seconds: how often a socket's typing in one item is in the audit log again


def boundary(handler):
    """One transaction per event: commit before the acknowledgement, then broadcast; errors become German acks."""

    @functools.wraps(handler)
    def run(self, *args):
        _drop_routing_exception()
        g.broadcasts = []
        try:
            result = handler(self, *args)
            db.session.commit()
        except DomainError as exc:
            _end_refused(exc)
            return {"ok": False, "status": exc.status, "error": exc.message}
        except Exception:
            db.session.rollback()
            current_app.logger.exception("minutes event failed")
            return {
                "ok": False,
                "status": 500,
                "error": "Die Änderung konnte nicht gespeichert werden. Bitte erneut senden.",
            }
        run_after_commit()
        for event, data, room, skip in g.broadcasts:
            try:
                socketio.emit(event, data, to=room, skip_sid=skip, namespace=self.namespace)
            except Exception:  # stored already: the others catch up on their next join
                current_app.logger.exception("minutes broadcast failed")
        return result

    return run


def _drop_routing_exception() -> None:
    """Let the event's request context be freed as soon as the event ends.

    Each event runs in a request context over the connection's environ, whose path (/socket.io/) is no route of
    the app: Flask keeps the NotFound in `request.routing_exception`, and its traceback holds the context, a
    reference cycle. Left alone, each event's context, request and traceback frames wait for the cyclic garbage
    collector, which then runs every few updates and pauses delivery (a full collection for tens of ms).
    """
    request.routing_exception = None


def _end_refused(exc: DomainError) -> None:
    """A refusal stores nothing; only the audit record of a refused seat stays (and if that commit fails, the
    refusal still stands)."""
    if exc.keeps_audit:
        try:
            db.session.commit()
            return
        except Exception:
            current_app.logger.exception("audit of a refused minutes event not stored")
    db.session.rollback()


class MinutesNamespace(Namespace):
    """Per socket: the user, the session it belongs to, the items it joined, and its rate bucket."""

    def __init__(self, namespace=NAMESPACE):
        super().__init__(namespace)
        self.lock = threading.Lock()
        self.users: dict[str, Viewer] = {}  # who each socket connected as; every update re-checks it in SQL
        self.people: dict[str, dict] = {}  # how each socket's person appears in presence (name, agency, colour)
        self.client_ids: dict[int, Cursor] = {}  # Yjs client id in presence → who uses it, where, its last clock
        self.sessions: dict[str, str] = {}
        self.joined: dict[str, set[int]] = {}
        self.buckets: dict[str, _Bucket] = {}
        self.compacting: set[int] = set()
        self.stored: dict[int, int] = {}
        self.name_checks: dict[int, tuple[float, str]] = {}  # general item -> (check when, socket that typed last)
        self.hinted: set[tuple[str, int]] = set()  # (socket, item) that were told their text names a client
        self.edits_noted: dict[tuple[str, int], float] = {}  # (socket, item) -> when its editing was last audited
        self.sweeper = None
        self.checked: dict[str, set[int]] = {}  # the eviction sweep's own: items found allowed per socket
        self.checked_at: tuple | None = None  # (access epoch, day) of that finding
        self.recheck_at = None  # when a revocation dated ahead takes effect: then everything is checked again
        self.check_lock = threading.Lock()  # one pass at a time: the sweep's, or one after a write request
        self.shared_owners: SharedCursorOwners | None = None  # with several processes: who owns which client id

    def warm_up(self) -> None:
        """Before the first client: what a join runs, prepared (see `service.warm_up`)."""
        service.warm_up(records.item_entries)

    # -- connection ---------------------------------------------------------------------------------

    def on_connect(self, auth=None):
        _drop_routing_exception()
        if not _same_origin():
            raise ConnectionRefusedError("Verbindung nur von der Fallkonferenz-Seite selbst.")
        token = session.get("sid")
        user = auth_service.user_for_session(token)
        db.session.commit()
        if user is None:
            raise ConnectionRefusedError("Bitte melden Sie sich an.")
        if user.must_change_password:  # as every page but "Mein Konto": not before she has chosen her own
            raise ConnectionRefusedError("Bitte wählen Sie zuerst unter „Mein Konto“ ein eigenes Passwort.")
        with self.lock:
            self.users[request.sid] = viewer_of(user)
            self.people[request.sid] = presence.person(user)
            self.sessions[request.sid] = auth_service.token_hash(token)
            self.joined[request.sid] = set()
            self.buckets[request.sid] = _Bucket()
            if self.sweeper is None:
                self.sweeper = socketio.start_background_task(self._sweep, current_app._get_current_object())

    def on_disconnect(self, reason=None):
        _drop_routing_exception()
        if socketio.server.manager.is_connected(request.sid, self.namespace):
            return  # an event a client named "disconnect": a real disconnect is under way, and no longer connected
        with self.lock:
            for mapping in (self.users, self.people, self.sessions, self.joined, self.buckets):
                mapping.pop(request.sid, None)
            self.hinted = {(sid, item) for sid, item in self.hinted if sid != request.sid}
            self.edits_noted = {key: at for key, at in self.edits_noted.items() if key[0] != request.sid}
        self._presence_gone(request.sid)

    def _actor(self) -> User:
        viewer = self.users.get(request.sid)
        user = db.session.get(User, viewer.user_id) if viewer else None
        if user is None or not user.active or user.must_change_password:
            raise service.SignedOut()
        return user

    # -- events -------------------------------------------------------------------------------------

    @boundary
    def on_join(self, data=None):
        item_id, state = _field(data, "item", int), _field(data, "sv", bytes, optional=True)
        item, diff, server_state = service.join(self._actor(), item_id, state)
        join_room(service.room_for(item))
        with self.lock:
            self.joined.setdefault(request.sid, set()).add(item.id)
        # The item's decisions and tasks come along: a page that was offline catches up on what it missed.
        entries = records.item_entries(item.id)
        return {"ok": True, "item": item.id, "update": diff, "sv": server_state, "records": entries}

    @boundary
    def on_leave(self, data=None):
        item_id = _field(data, "item", int)
        with self.lock:
            self.joined.get(request.sid, set()).discard(item_id)
        leave_room(service.room_of(item_id))
        return {"ok": True}

    @boundary
    def on_update(self, data=None):
        item_id = _field(data, "item", int)
        if item_id not in self.joined.get(request.sid, set()):
            raise DomainError("Bitte öffnen Sie den Tagesordnungspunkt zuerst.")
        if not self.buckets[request.sid].take():
            raise TooManyAttempts("Zu viele Änderungen in kurzer Zeit; bitte langsamer senden.")
        update_id, update = _field(data, "id", str), _field(data, "update", bytes)
        item_id, new = service.apply_update(self.users[request.sid], item_id, update_id, update)
        counted = new and self._count_new(item_id) % COUNT_EVERY == 0
        if counted and service.pending_count(item_id) >= service.COMPACT_AFTER:
            self._compact_soon(item_id)
        if new:
            g.broadcasts.append(
                (
                    "update",
                    {"item": item_id, "id": update_id, "update": update},
                    service.room_of(item_id),
                    request.sid,
                )
            )
            self._check_names_soon(item_id, request.sid)
            self._note_edit(item_id)
        return {"ok": True, "id": update_id}

    def _note_edit(self, item_id: int) -> None:
        """A socket's first stored edit of an item, and one every EDIT_AUDIT_EVERY seconds after, goes into the
        audit log, in the edit's transaction; marked as done once that has committed."""
        key, now = (request.sid, item_id), time.monotonic()
        last = self.edits_noted.get(key)
        if last is not None and now - last < EDIT_AUDIT_EVERY:
            return
        service.note_edit(self.users[request.sid], item_id)
        after_commit(lambda: self.edits_noted.__setitem__(key, now))

    @boundary
    def on_awareness(self, data=None):
        item_id, state = _field(data, "item", int), _field(data, "state", bytes)
        client_id, clock, state = presence.stamp(state, self.people.get(request.sid, {}))
        with self.lock:
            if item_id not in self.joined.get(request.sid, set()):
                raise DomainError("Anwesenheit kann nur im geöffneten Tagesordnungspunkt geteilt werden.")
            user_id = self.users[request.sid].user_id
            # A socket shows one cursor per item, under the Yjs client id it used there first; an id belongs to the
            # account that used it first. No one moves or removes another person's cursor.
            mine = next(
                (c for c, cursor in self.client_ids.items() if cursor.sid == request.sid and cursor.item_id == item_id),
                None,
            )
            owner = self.client_ids.get(client_id)
            if (mine is not None and mine != client_id) or (owner is not None and owner.user_id != user_id):
                raise InvalidInput(presence.MALFORMED)
            now = time.monotonic()
            # With several processes, Redis decides who used an id first, everywhere: asked for an id new here, and
            # again now and then to keep it (its claim there expires unless renewed).
            ask = self.shared_owners is not None and (owner is None or now - owner.claimed > CLAIM_RENEWAL)
            if not ask:
                claimed = owner.claimed if owner else now
                self.client_ids[client_id] = Cursor(user_id, request.sid, item_id, clock, claimed)
        if ask:
            if not self.shared_owners.claim(client_id, user_id):
                raise InvalidInput(presence.MALFORMED)
            with self.lock:
                still = item_id in self.joined.get(request.sid, set())  # not taken out of the item meanwhile
                if still:
                    self.client_ids[client_id] = Cursor(user_id, request.sid, item_id, clock, now)
            if not still:
                self.shared_owners.release([(client_id, user_id)])
                raise DomainError("Anwesenheit kann nur im geöffneten Tagesordnungspunkt geteilt werden.")
        g.broadcasts.append(("awareness", {"item": item_id, "state": state}, service.room_of(item_id), request.sid))
        return {"ok": True}

    def _check_names_soon(self, item_id: int, sid: str) -> None:
        """A general item's text goes to every participant, also to agencies without consent for a case. Once the
        typing in it pauses, its text is checked for case numbers and for names of clients whose master data the
        last writer's agency sees (no others: the hint must not confirm a guessed name); the writer's socket gets a
        hint, and the hint goes away when the text is clean again. Closing the minutes refuses such a text anyway;
        the hint comes while the writer still remembers what she typed. Off the update's path: the check runs in
        the background, once per pause."""
        with self.lock:
            scheduled = item_id in self.name_checks
            self.name_checks[item_id] = (time.monotonic() + NAME_CHECK_PAUSE, sid)
        if not scheduled:
            socketio.start_background_task(self._check_names, current_app._get_current_object(), item_id)

    def _check_names(self, app, item_id: int) -> None:
        while True:
            with self.lock:
                at, sid = self.name_checks[item_id]
                if at <= time.monotonic():
                    del self.name_checks[item_id]
                    viewer = self.users.get(sid)
                    break
            socketio.sleep(at - time.monotonic())
        if viewer is None:
            return
        with app.app_context():
            try:
                text = records.general_item_hint(item_id, viewer.user_id)
            except Exception:
                app.logger.exception("name check of a general item failed")
                return
            finally:
                db.session.remove()
        with self.lock:
            if not text and (sid, item_id) not in self.hinted:
                return  # clean, and nothing to take back
            if text:
                self.hinted.add((sid, item_id))
            else:
                self.hinted.discard((sid, item_id))
        socketio.emit("hint", {"item": item_id, "text": text}, to=sid, namespace=self.namespace)

    def _count_new(self, item_id: int) -> int:
        """Updates this process stored per item; the log is counted only every COUNT_EVERY of them."""
        with self.lock:
            self.stored[item_id] = self.stored.get(item_id, 0) + 1
            return self.stored[item_id]

    def _compact_soon(self, item_id: int) -> None:
        """Fold the log in the background, one compaction per item at a time; editors go on meanwhile."""
        with self.lock:
            if item_id in self.compacting:
                return
            self.compacting.add(item_id)
        app = current_app._get_current_object()

        def run():
            try:
                with app.app_context():
                    service.compact(item_id)
                    db.session.commit()
            except Exception:
                app.logger.exception("minutes compaction failed")
            finally:
                with self.lock:
                    self.compacting.discard(item_id)

        socketio.start_background_task(run)

    # -- eviction -----------------------------------------------------------------------------------

    def _sweep(self, app):
        """Every few hundred milliseconds, re-check the joined items; evict at once what is no longer allowed."""
        while True:
            socketio.sleep(SWEEP_SECONDS)
            if self.joined:
                self.check_in(app)

    def after_write(self) -> None:
        """After a write request's commit: evict here at once, and tell the other processes to do the same."""
        self.check_now()
        if isinstance(socketio.server.manager, AccessNoticeRedisManager):
            socketio.emit(ACCESS_CHANGED, {}, to=ACCESS_ROOM, namespace=self.namespace)

    def check_in(self, app) -> None:
        """One eviction pass from outside a request: the sweep's, or on another process's notice (then on the
        queue's thread, before its next message)."""
        with app.app_context():
            try:
                self.check_now()
            finally:
                db.session.remove()

    def check_now(self) -> None:
        """One eviction pass, now (in an app context). After every write request of this process too: a consent
        revoked here evicts before its page answers, so no update typed right after reaches the evicted. A change
        made in another process (or by hand in SQL) waits for the sweep, at most SWEEP_SECONDS."""
        with self.lock:
            snapshot = {
                sid: (_user_id(self.users.get(sid)), self.sessions.get(sid), set(items))
                for sid, items in self.joined.items()
            }
        if not snapshot:
            return
        with self.check_lock:
            try:
                self._check(snapshot)
            except Exception:
                current_app.logger.exception("minutes eviction pass failed")
            finally:
                db.session.rollback()

    def _check(self, snapshot):
        """One read-only pass (no write lock, so editors are never held up), then act and audit.

        What was checked at the current access epoch on the current day stays allowed until one of them moves (or
        a revocation dated ahead of this process's clock takes effect, or a session would idle out): then
        everything is checked again, in a constant number of queries. Otherwise only sockets and items opened
        since the last pass are, so a quiet meeting costs one small read per pass. The epoch is read in the pass's
        own transaction, before the policy: a change committed after that read raises it again for the next pass.
        """
        db.session.connection(execution_options={"fk_read_only": True})
        now = case_service.now()
        mark = (epoch.ACCESS.current(), local_date(now))
        if mark[0] is None or mark != self.checked_at or (self.recheck_at is not None and now >= self.recheck_at):
            self.checked = {}
            self.recheck_at = db.session.scalar(next_revocation(now))
        self.checked_at = mark
        self.checked = {
            sid: self.checked[sid] & items for sid, (_u, _s, items) in snapshot.items() if sid in self.checked
        }
        todo = {
            sid: (user_id, session_hash, items - self.checked.get(sid, set()))
            for sid, (user_id, session_hash, items) in snapshot.items()
            if sid not in self.checked or items - self.checked[sid]
        }
        if not todo:
            db.session.rollback()
            return
        user_ids = {user_id for user_id, _session, _items in todo.values() if user_id}
        users = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(user_ids), User.active.is_(True)))}
        hashes = {session for _user, session, _items in todo.values() if session}
        sessions = self._live_sessions(hashes, now)
        gone, pairs = [], set()
        for sid, (user_id, session_hash, items) in todo.items():
            if user_id not in users or session_hash not in sessions:
                gone.append(sid)  # logged out, deactivated or session expired: the socket goes too
            else:
                pairs.update((user_id, item_id) for item_id in items)
        allowed = service.allowed_seats(users, pairs)
        evictions = [
            (sid, user_id, item_id)
            for sid, (user_id, _session, items) in todo.items()
            if sid not in gone
            for item_id in items
            if (user_id, item_id) not in allowed
        ]
        cases = service.item_cases({item_id for _sid, _user_id, item_id in evictions}) if evictions else {}
        db.session.rollback()
        for sid, (user_id, _session, items) in todo.items():
            if sid not in gone:
                self.checked.setdefault(sid, set()).update(i for i in items if (user_id, i) in allowed)
        for sid in gone:
            self.disconnect(sid)
        for sid, _user_id, item_id in evictions:
            self._evict(sid, item_id, erased=cases.get(item_id, service.NO_CASE)[1])
        if evictions:
            for _sid, user_id, item_id in evictions:
                audit.record(
                    "minutes.evicted",
                    actor=db.session.get(User, user_id),
                    case_id=cases.get(item_id, service.NO_CASE)[0],
                    detail={"item": item_id},
                )
            db.session.commit()

    def _live_sessions(self, hashes: set[str], now) -> set[str]:
        """Those of the sessions that are still open: not ended, not idle for longer than a page view allows.

        Typing in the minutes is no page view: a session idle for that long ends its sockets as it ends its pages.
        A pass that found it open checks everything again when it would idle out (`recheck_at`); by then a page
        view may have kept it open, and the pass finds so.
        """
        live = auth_service.open_sessions(hashes, now)
        if live:
            self.recheck_at = min(filter(None, (self.recheck_at, *live.values())))
        return set(live)

    def _evict(self, sid: str, item_id: int, erased: bool = False) -> None:
        """Take the socket out of the item's room and tell it why, with the title the page now gives the item."""
        with self.lock:
            self.joined.get(sid, set()).discard(item_id)
        socketio.server.leave_room(sid, service.room_of(item_id), namespace=self.namespace)
        why = {"reason": ERASED_NOTE, "title": ERASED_CASE} if erased else {"reason": EVICTED, "title": CONFIDENTIAL}
        socketio.emit("evicted", {"item": item_id, **why}, to=sid, namespace=self.namespace)
        self._presence_gone(sid, item_id)

    def _presence_gone(self, sid: str, item_id: int | None = None) -> None:
        """A socket left an item (taken out, or gone altogether with `item_id` None): its name and cursor leave
        the others' presence now, not when their browsers give up waiting for it (30 s)."""
        with self.lock:
            gone = [(c, cursor) for c, cursor in self.client_ids.items() if cursor.sid == sid]
            gone = [(c, cursor) for c, cursor in gone if item_id is None or cursor.item_id == item_id]
            for client_id, _ in gone:
                del self.client_ids[client_id]
        if gone and self.shared_owners is not None:
            self.shared_owners.release([(client_id, cursor.user_id) for client_id, cursor in gone])
        for client_id, cursor in gone:
            state = presence.gone(client_id, cursor.clock)
            room = service.room_of(cursor.item_id)
            socketio.emit("awareness", {"item": cursor.item_id, "state": state}, to=room, namespace=self.namespace)


class SharedCursorOwners:
    """Which account first used a Yjs client id in presence, for every server process sharing a Redis: a socket on
    one process must not move or remove the cursor of a person on another. An id lives in the browser's page, so
    it is released when its socket leaves the item; one left behind by a killed process expires after a day."""

    PREFIX = "fk:presence-owner:"
    LIFETIME = 24 * 3600
    UNAVAILABLE = "Die Anwesenheit kann gerade nicht geteilt werden; bitte später erneut."

    def __init__(self, url: str):
        self.redis = redis.Redis.from_url(url)

    def claim(self, client_id: int, user_id: int) -> bool:
        """Take the id for this account, or renew this account's hold on it, unless another account holds it."""
        key = f"{self.PREFIX}{client_id}"
        try:
            for _ in range(2):  # a second try only when the holder's key expired in between
                if self.redis.set(key, user_id, nx=True, ex=self.LIFETIME):
                    return True
                holder = self.redis.get(key)
                if holder is not None:
                    mine = int(holder) == user_id
                    if mine:
                        self.redis.expire(key, self.LIFETIME)
                    return mine
        except redis.RedisError:
            raise DomainError(self.UNAVAILABLE) from None
        return False

    # Delete a key only while it still names the account that lets it go (one step, in Redis).
    _RELEASE = "for i, key in ipairs(KEYS) do if redis.call('get', key) == ARGV[i] then redis.call('del', key) end end"

    def release(self, held: list[tuple[int, int]]) -> None:
        """Let go of (client id, account) pairs; an id another account holds by now stays its own."""
        try:
            self.redis.eval(self._RELEASE, len(held), *(f"{self.PREFIX}{c}" for c, _ in held), *(u for _, u in held))
        except redis.RedisError:  # the socket is gone all the same; its ids expire by themselves
            current_app.logger.warning("presence ids not released in Redis")


@dataclass
class Cursor:
    """Where a Yjs client id of presence is used: by whom, on which socket, in which item, and its last clock."""

    user_id: int
    sid: str
    item_id: int
    clock: int
    claimed: float = 0.0  # when its hold in Redis was last taken or renewed (monotonic), with several processes


def _user_id(viewer: Viewer | None) -> int | None:
    return viewer.user_id if viewer else None


def _same_origin() -> bool:
    origin = request.headers.get("Origin")
    if not origin:
        return False
    own = urlsplit(request.host_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (own.scheme, own.netloc)


def _field(data, name: str, kind, optional: bool = False):
    if not isinstance(data, dict):
        raise DomainError("Ungültige Nachricht.")
    value = data.get(name)
    if value is None and optional:
        return None
    if kind is bytes and isinstance(value, bytearray):
        value = bytes(value)
    if not isinstance(value, kind) or isinstance(value, bool) or (kind is int and db_id(value) is None):
        raise DomainError(f"Ungültige Nachricht: „{name}“ fehlt oder hat die falsche Form.")
    return value
