"""Shape validation for consent and revocation input."""

from __future__ import annotations

from flask_wtf.file import FileField
from wtforms import BooleanField, SelectField, StringField, TextAreaField

from fallkonferenz.forms import Form, GermanDateField, max_len, required, required_input
from fallkonferenz.vocab import GRANTOR_KINDS


class ConsentForm(Form):
    grantor_kind = SelectField("Erteilt durch", choices=list(GRANTOR_KINDS.items()), validators=[required()])
    grantor_name = StringField("Name der erteilenden Person", validators=[max_len(200)])
    signed_on = GermanDateField("Unterschrieben am", validators=[required_input()])
    valid_from = GermanDateField("Gültig ab", validators=[required_input()])
    valid_until = GermanDateField("Gültig bis", validators=[required_input()])
    purpose = StringField(
        "Zweck",
        validators=[required(), max_len(300)],
        default="Abstimmung des Integrationsplans in der Fallkonferenz",
    )
    interpreter_used = BooleanField("Mit Dolmetscher/in erläutert")
    interpreter_language = StringField("Sprache der Erläuterung", validators=[max_len(100)])
    verified = BooleanField("Ich habe die unterschriebene Einwilligung geprüft")
    document = FileField("Unterschriebenes Formular (PDF, PNG oder JPEG, höchstens 10 MB)")


class RevokeForm(Form):
    reason = TextAreaField("Grund des Widerrufs (freiwillig)", validators=[max_len(2000)])
