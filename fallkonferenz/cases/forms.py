"""Shape validation for case, note and goal input."""

from __future__ import annotations

from wtforms import BooleanField, SelectField, StringField, TextAreaField
from wtforms.validators import ValidationError

from ..forms import Form, MultiCheckboxField, max_len, optional, required
from ..forms import GermanDateField as DateField
from ..localtime import today
from ..vocab import CATEGORIES, FIELDS, GOAL_STATUS, RECHTSKREISE


class CaseForm(Form):
    given_name = StringField("Vorname", validators=[required(), max_len(200)])
    family_name = StringField("Familienname", validators=[required(), max_len(200)])
    birth_date = DateField("Geburtsdatum", validators=[optional()])
    nationality = StringField("Staatsangehörigkeit", validators=[max_len(100)])
    languages = StringField("Sprachen", validators=[max_len(300)])
    interpreter_needed = BooleanField("Dolmetscher/in erforderlich")
    address = StringField("Anschrift", validators=[max_len(300)])
    phone = StringField("Telefon", validators=[max_len(50)])
    residence_status = StringField("Aufenthaltsstatus", validators=[max_len(200)])
    residence_valid_until = DateField("Aufenthaltstitel gültig bis", validators=[optional()])
    rechtskreise = MultiCheckboxField("Rechtskreise", choices=list(RECHTSKREISE.items()))
    fields = MultiCheckboxField("Handlungsfelder", choices=list(FIELDS.items()))

    def validate_birth_date(self, field):
        if field.data and field.data > today():
            raise ValidationError("Das Geburtsdatum darf nicht in der Zukunft liegen.")


class NoteForm(Form):
    # No preset: the category decides which agencies read the note, so it is chosen every time.
    category = SelectField(
        "Datenkategorie", choices=[("", "– bitte wählen –"), *CATEGORIES.items()], validators=[required()]
    )
    text = TextAreaField("Vermerk", validators=[required(), max_len(10000)])


class GoalForm(Form):
    title = StringField("Ziel", validators=[required(), max_len(500)])
    field = SelectField("Handlungsfeld", choices=list(FIELDS.items()), validators=[required()])
    responsible_agency_id = SelectField("Verantwortliche Stelle", coerce=int, validators=[required()])
    due_date = DateField("Zieldatum", validators=[optional()])
    status = SelectField("Status", choices=list(GOAL_STATUS.items()), default="offen")


class GoalStatusForm(Form):
    status = SelectField("Status", choices=list(GOAL_STATUS.items()), validators=[required()])
