"""Shared form helpers: German messages and the multi-checkbox field."""

from __future__ import annotations

from contextlib import suppress
from dataclasses import dataclass, field
from datetime import date, datetime

from flask import request
from flask_wtf import FlaskForm
from wtforms import DateField, IntegerField, SelectMultipleField, widgets
from wtforms.i18n import get_translations
from wtforms.validators import DataRequired, InputRequired, Length, Optional, ValidationError

REQUIRED = "Dieses Feld ist erforderlich."
CHOOSE = "Bitte wählen Sie einen Eintrag aus der Liste."


class GermanMessages:
    """WTForms' own messages in German: its bundled translation, with clearer words for a wrong choice."""

    OWN = {
        "Not a valid choice.": CHOOSE,
        "Invalid Choice: could not coerce.": CHOOSE,
        "Invalid choice(s): one or more data inputs could not be coerced.": "Unbekannte Auswahl.",
        "This field is required.": REQUIRED,
    }

    def __init__(self):
        self.bundled = get_translations(["de_DE", "de"])

    def gettext(self, string):
        return self.OWN.get(string) or self.bundled.gettext(string)

    def ngettext(self, singular, plural, n):
        return self.bundled.ngettext(singular, plural, n)


class Form(FlaskForm):
    """The base of every form here: CSRF from Flask-WTF, messages in German."""

    class Meta:
        def get_translations(self, form):
            return _MESSAGES


_MESSAGES = GermanMessages()


def required():
    return DataRequired(message=REQUIRED)


def required_input():
    """Required without discarding a parse error (DataRequired would replace it)."""
    return InputRequired(message=REQUIRED)


def max_len(n: int):
    return Length(max=n, message=f"Höchstens {n} Zeichen.")


def optional():
    return Optional()


class MultiCheckboxField(SelectMultipleField):
    widget = widgets.ListWidget(prefix_label=False)
    option_widget = widgets.CheckboxInput()

    def pre_validate(self, form):
        valid = {str(v) for v, _ in self.choices}
        for value in self.data or []:
            if str(value) not in valid:
                raise ValidationError("Unbekannte Auswahl.")


def form_errors(form) -> dict[str, str]:
    """Flatten WTForms errors into field → first German message."""
    return {name: msgs[0] for name, msgs in form.errors.items() if msgs}


def refused(form, errors: dict[str, str]):
    """Put a service's refusal on the form's fields, so the page shows it where the input was; returns the form."""
    for name, message in errors.items():
        target = form._fields.get(name)
        if target is not None:
            target.errors = [*target.errors, message]
        else:
            form.form_errors.append(message)
    return form


class GermanParseError:
    """Mixin: replace a field's English parse error by a German one (set `parse_error`)."""

    parse_error = "Ungültige Eingabe."

    def process_formdata(self, valuelist):
        # Numbers, ids and dates are ASCII: int() and strptime() would also take other scripts' digits ("٣").
        if any(isinstance(v, str) and not v.isascii() for v in valuelist):
            self.data = None
            raise ValueError(self.parse_error)
        try:
            super().process_formdata(valuelist)
        except ValueError:
            self.data = None
            raise ValueError(self.parse_error) from None


DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y")  # what a date input sends, and what people type
DATE_ERROR = "Bitte ein gültiges Datum angeben (TT.MM.JJJJ)."


def page_number(raw: str, maximum: int = 99999) -> int | None:
    """A list's page number as the address gives it (ASCII digits, 1 to `maximum`); None for anything else."""
    return int(raw) if raw.isascii() and raw.isdigit() and 0 < int(raw) <= maximum else None


def parse_date(text: str) -> date | None:
    """A date typed into a form outside WTForms (a query string, a form of the live minutes): ISO or TT.MM.JJJJ,
    None for nothing; a ValueError with the German message otherwise."""
    text = (text or "").strip()
    if not text:
        return None
    if text.isascii():
        for fmt in DATE_FORMATS:
            with suppress(ValueError):
                return datetime.strptime(text, fmt).date()
    raise ValueError(DATE_ERROR)


class GermanDateField(GermanParseError, DateField):
    """A date field that accepts ISO (date inputs) and TT.MM.JJJJ, with a German error."""

    parse_error = DATE_ERROR

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=list(DATE_FORMATS), **kwargs)


class GermanIntegerField(GermanParseError, IntegerField):
    """A whole-number field with a German parse error."""

    parse_error = "Bitte eine ganze Zahl angeben."


@dataclass
class Kept:
    """The input of the form that failed, to fill it in again (with the item's current version)."""

    form: str = ""
    values: dict = field(default_factory=dict)
    lists: dict = field(default_factory=dict)

    def get(self, form: str, name: str, default=""):
        return self.values.get(name, default) if form == self.form else default

    def getlist(self, form: str, name: str, default=()):
        return self.lists.get(name, list(default)) if form == self.form else list(default)


def kept_input(form: str) -> Kept:
    """What the request's form sent, to show it again after a refusal."""
    values = {k: v for k, v in request.form.items() if k != "csrf_token"}
    lists = {k: request.form.getlist(k) for k in request.form}
    return Kept(form, values, lists)
