"""Hostile input on every page, form and API operation: never a 500.

Each issue names its own bad inputs, and their tests check the German message. This test asks the rest of the
space: every address of the web interface, as every kind of demo user, at addresses that exist in the demo data,
with every field name the app reads set to one value that a form does not expect (too long, out of range, a date
that does not exist, markup, a formula, control characters, the wrong type, a forged file). Whatever the answer is,
it must not be a server error or a traceback; with TESTING on, an unhandled exception reaches the test as such.
Every API operation that takes a body gets each of its properties set to a value of the wrong kind, and bodies
that are no object; the test client holds each answer to the OpenAPI document besides.
"""

from __future__ import annotations

import importlib
import io
import re
from pathlib import Path

import pytest
from sqlalchemy import text
from wtforms import FileField
from wtforms.fields.core import UnboundField

from fallkonferenz import demo
from fallkonferenz.auth import service as auth_service
from fallkonferenz.extensions import db
from fallkonferenz.models import User
from fallkonferenz.openapi import OPENAPI
from tests.conftest import wipe
from tests.contract import PREFIX, operations

pytestmark = pytest.mark.shared_demo

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("fallkonferenz", "consent", "agenda", "minutes", "backlog")

# The order matters: the administration last, as its forms can lock others out (deactivate, reset a password).
USERS = ("dsb", "jc.fallmanagement", "lenkung.vorsitz", "ki.koordination", "admin")

# Not asked as forms: logging in and out (the run needs its sessions; the login's bad input and throttling have
# tests of their own), the calendar feed (its own tests of bad tokens), static files and the health check (they
# read no input). The API is asked below, with JSON bodies.
SKIPPED = {"auth.logout", "auth.login", "agenda.feed", "static", "health"}

VALUES = {
    "leer": "",
    "Leerzeichen": "   ",
    "sehr lang": "x" * 10_001,  # beyond every field, the longest takes 10,000
    "negativ": "-1",
    "null": "0",
    "riesig": "99999999999999999999999",
    "Bruch": "1.5",
    "kein Tag (ISO)": "2026-02-30",
    "kein Tag (deutsch)": "31.02.2026",
    "keine Uhrzeit": "2026-12-31T25:61",
    "Markup": "<script>alert(1)</script>",
    "Formel": '=HYPERLINK("http://x")',
    "Steuerzeichen": "\u202e\ufeff\x1b[31m\x7f",
    "Emoji": "🙂" * 50,
    "NaN": "NaN",
    "Stellenkürzel": "KI",
    "Fallnummer": "FK-2026-0001",
}
# A read's query string: the values that parsers of numbers, dates and choices meet.
QUERY_VALUES = ("sehr lang", "negativ", "riesig", "kein Tag (ISO)", "Markup", "Steuerzeichen")

# Addresses that exist: per set of path arguments, rows of the demo data (the first and the last).
ROWS = {
    ("conference_id", "item_id"): "SELECT conference_id, id FROM agenda_items ORDER BY id",
    ("conference_id", "slot_id"): "SELECT p.conference_id, s.id FROM poll_slots s JOIN date_polls p "
    "ON p.id = s.poll_id ORDER BY s.id",
    ("conference_id", "user_id"): "SELECT conference_id, user_id FROM participants ORDER BY id",
    ("consent_id", "number"): "SELECT x.id, c.number FROM consents x JOIN cases c ON c.id = x.case_id ORDER BY x.id",
    ("note_id", "number"): "SELECT n.id, c.number FROM notes n JOIN cases c ON c.id = n.case_id ORDER BY n.id",
    ("goal_id", "number"): "SELECT g.id, c.number FROM goals g JOIN cases c ON c.id = g.case_id ORDER BY g.id",
    ("number",): "SELECT number FROM cases ORDER BY id",
    ("conference_id",): "SELECT id FROM conferences ORDER BY id",
    ("item_id",): "SELECT id FROM agenda_items ORDER BY id",
    ("task_id",): "SELECT id FROM tasks ORDER BY id",
    ("escalation_id",): "SELECT id FROM escalations ORDER BY id",
    ("group_id",): "SELECT id FROM working_groups ORDER BY id",
    ("impl_id",): "SELECT id FROM implementations ORDER BY id",
    ("user_id",): "SELECT id FROM users ORDER BY id",
    ("token_id",): "SELECT id FROM api_tokens ORDER BY id",
    ("token_id", "user_id"): "SELECT id, user_id FROM api_tokens ORDER BY id",
    ("code",): "SELECT code FROM agencies ORDER BY id",
    ("message_id",): "SELECT id FROM outbox_messages ORDER BY id",
    ("kind", "record_id"): "SELECT 'decision', id FROM decisions UNION ALL SELECT 'task', id FROM tasks ORDER BY 2",
    ("agenda_item_id",): "SELECT id FROM agenda_items ORDER BY id",
    ("consultation_id",): "SELECT id FROM consultations ORDER BY id",
    ("membership_id",): "SELECT id FROM working_group_members ORDER BY id",
    ("key",): "SELECT 'stelle-' || code FROM agencies UNION SELECT 'ag-' || id FROM working_groups ORDER BY 1",
}


def _form_fields() -> tuple[set[str], set[str]]:
    """The names of every field of the app's WTForms forms, and of those that take a file."""
    names, files = set(), set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("forms.py"):
            module = importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
            for attr in vars(module).values():
                if not isinstance(attr, type):
                    continue
                for name, field in vars(attr).items():
                    if isinstance(field, UnboundField):
                        names.add(name)
                        if issubclass(field.field_class, FileField):
                            files.add(name)
    return names, files


READ = re.compile(r'request\.(?:form|args|files)(?:\.get(?:list)?\(|\[)\s*"([^"]+)"')
PAGE_ARG = re.compile(r'\bpage_arg\(\s*"([^"]+)"')  # a list's page arguments: "page" unless named


TEMPLATES = [path.read_text() for path in (ROOT / "templates").rglob("*.html")]


def _read_names() -> set[str]:
    """The names the views read from a request themselves, and those of the templates' hand-written fields."""
    names = {"page"}  # page_arg's own default
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            source = path.read_text()
            names |= set(READ.findall(source)) | set(PAGE_ARG.findall(source))
    for template in TEMPLATES:
        names |= set(re.findall(r'\bname="([A-Za-z_][\w-]*)"', template))
    return names


FORM_FIELDS, FILE_FIELDS = _form_fields()
NAMES = sorted((FORM_FIELDS | _read_names()) - {"csrf_token"} - FILE_FIELDS)

# Fields named after a record ("slot-12": the answer for poll slot 12; "pos-7": item 7's place; "user-3": person 3's
# attendance), with the column of ROWS whose ids they take; the views find them by their prefix.
NUMBERED = {"slot-": "slot_id", "pos-": "item_id", "user-": "user_id"}
NUMBERED_IN_TEMPLATES = re.compile(r'\bname="([A-Za-z_]\w*-)\{\{')

# Fields that guard a form's own reading: a stale agenda version is refused before anything else is read, and a
# sealed search text stands in for the plain one. They get only some of the values, so that the rest reach the
# fields behind them.
GUARDS = {"version", "suche"}
GUARDED = ("riesig", "Markup")


def _numbered_in_templates() -> set[str]:
    return {prefix for template in TEMPLATES for prefix in NUMBERED_IN_TEMPLATES.findall(template)}


@pytest.fixture(scope="module")
def rows(app):
    """The demo data, and per set of path arguments its rows (the first and the last are asked)."""
    wipe(app)
    with app.app_context():
        demo.seed()
        for username in USERS:  # the demo has no access tokens: one each, for the page that revokes them
            auth_service.create_api_token(db.session.query(User).filter_by(username=username).one(), "Fachverfahren")
        db.session.commit()
        found = {args: db.session.execute(text(sql)).all() for args, sql in ROWS.items()}
    yield found
    wipe(app)


def _at(rows, template: str, names: dict[str, str], placeholder: str) -> list[str]:
    """The address `template` at the first and the last row for its arguments: `names` maps each argument as the
    template writes it to its column in ROWS, `placeholder` is the pattern of one argument in the template."""
    columns = tuple(sorted(names.values()))
    picks = [rows[columns][0], rows[columns][-1]] if columns else [()]
    found = []
    for pick in dict.fromkeys(picks):  # once if they are one
        values = dict(zip(columns, pick, strict=True))
        address = template
        for written, column in names.items():
            address = re.sub(placeholder.format(re.escape(written)), str(values[column]), address)
        found.append(address)
    return found


@pytest.fixture(scope="module")
def addresses(app, rows):
    """(method, address) of every address of the web interface and the open data at rows of the demo data."""
    return [
        (method, address)
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in SKIPPED and not rule.rule.startswith("/api/")
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"})
        for address in _at(rows, rule.rule, {a: a for a in rule.arguments}, r"<(?:\w+:)?{}>")
    ]


@pytest.fixture(scope="module")
def names(rows) -> list[str]:
    """Every field name the app reads, the numbered ones at the ids of the demo data."""
    numbered = [
        prefix + str(row[key.index(column)])
        for prefix, column in NUMBERED.items()
        for key, found in rows.items()
        if column in key
        for row in found
    ]
    return NAMES + sorted(set(numbered))


def _ask(client, method: str, address: str, label: str, names: list[str]) -> tuple[int | None, str]:
    """One hostile request: the status and, for a server error, what went wrong."""
    value = VALUES[label]
    asked = names if label in GUARDED else [name for name in names if name not in GUARDS]
    try:
        if method == "GET":
            resp = client.get(address, query_string=dict.fromkeys(asked, value))
        else:
            data = {name: [value, value] if label == "Stellenkürzel" else value for name in asked}
            if label == "leer":  # with a forged scan in every file field: not a PDF, not an image
                data |= {name: (io.BytesIO(b"%PDF-1.7\n\x00\xff" * 64), "scan.pdf") for name in FILE_FIELDS}
            resp = client.post(address, data=data)
    except Exception as exc:  # noqa: BLE001 (every unhandled error is the finding)
        return None, f"{type(exc).__name__}: {exc}"[:300]
    body = resp.get_data(as_text=True) if resp.mimetype in ("text/html", "application/json") else ""
    return resp.status_code, "Traceback" if "Traceback (most recent call last)" in body else ""


def test_the_field_names_come_from_the_app():
    # forms, hand-read fields and template fields: a field that is added is asked with the rest
    assert {"text", "reason", "category", "title", "due"} <= set(NAMES)
    assert FILE_FIELDS, "the consent form's scan is a file field"
    assert _numbered_in_templates() == set(NUMBERED), "a numbered field needs its ids in NUMBERED"
    assert set(NAMES) >= GUARDS and set(GUARDED) <= set(VALUES) and set(GUARDED) & set(QUERY_VALUES)


# A JSON body's values of the wrong kind: every property of an operation's body set to one of them.
JSON_VALUES = {
    "sehr lang": "x" * 10_001,
    "leer": "",
    "negativ": -1,
    "riesig": 2**70,
    "Bruch": 1.5,
    "null": None,
    "Wahrheitswert": True,
    "Liste": ["KI", "KI"],
    "Objekt": {"id": 1},
    "kein Tag": "2026-02-30",
    "Markup": "<script>alert(1)</script>",
    "Nullbyte": "a\x00b",
}
# How the API names an address's arguments, as columns of ROWS.
API_ARGS = {
    "number": "number",
    "noteId": "note_id",
    "goalId": "goal_id",
    "consentId": "consent_id",
    "escalationId": "escalation_id",
    "implementationId": "impl_id",
    "conferenceId": "conference_id",
    "itemId": "item_id",
    "slotId": "slot_id",
    "taskId": "task_id",
    "groupId": "group_id",
}


def _api_bodies() -> list[tuple[str, str, list[str]]]:
    """(method, path template, the body's property names) of every documented operation that takes a body."""
    schemas = OPENAPI["components"]["schemas"]
    return [(method, template, list(schemas[body]["properties"])) for method, template, body in operations() if body]


@pytest.mark.parametrize("username", ("ki.koordination", "lenkung.vorsitz", "jc.fallmanagement"))
def test_no_operation_of_the_api_answers_a_hostile_body_with_a_server_error(app, rows, client_for, username):
    # the client checks each answer against the document: a status it does not name fails as surely as a 500
    client = client_for(username)
    statuses = []
    for method, template, properties in _api_bodies():
        names = {n: API_ARGS[n] for n in re.findall(r"\{(\w+)\}", template)}
        for path in _at(rows, PREFIX + template, names, r"\{{{}\}}"):
            for body in [*(dict.fromkeys(properties, v) for v in JSON_VALUES.values()), [None], "{"]:
                resp = client.api(method, path, json=body)  # the last two: no object at all
                assert resp.status_code < 500, (method, path, body, resp.get_json())
                statuses.append(resp.status_code)
    assert {"/cases", "/backlog", "/conferences", "/tasks/{taskId}"} <= {template for _, template, _ in _api_bodies()}
    assert 422 in statuses  # the bodies reached the operations, which read them and refused


@pytest.mark.parametrize("username", USERS)
def test_no_address_answers_hostile_input_with_a_server_error(addresses, names, client_for, username):
    assert all(any(name.startswith(prefix) for name in names) for prefix in NUMBERED)  # at ids of the demo data
    client = client_for(username)
    statuses, problems = [], []
    for method, address in addresses:
        for label in QUERY_VALUES if method == "GET" else VALUES:
            status, problem = _ask(client, method, address, label, names)
            statuses.append(status)
            if status is None or status >= 500 or problem:
                problems.append(f"{method} {address} [{label}]: {status} {problem}")
    assert not problems, f"{len(problems)} of {len(statuses)} requests failed:\n" + "\n".join(problems[:30])
    # the run reached the views: some input was taken or refused in a form, not only turned away at the door
    assert any(s in (200, 302, 303) for s in statuses) and any(s in (400, 409, 422) for s in statuses)
