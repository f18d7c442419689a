"""Shape validation for the backlog's forms: types and lengths at the edge; the service checks the rules."""

from __future__ import annotations

from wtforms import SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from fallkonferenz.forms import Form, GermanDateField, GermanParseError, MultiCheckboxField, max_len, optional
from fallkonferenz.forms import GermanIntegerField as IntegerField
from fallkonferenz.vocab import RECHTSKREISE

from .models import CATEGORIES, GROUP_STATUS, IMPLEMENTATION_STATUS, PRIORITIES
from .service import OUTCOMES

PICK = "Bitte wählen Sie einen Eintrag aus der Liste."


def int_or_none(value) -> int | None:
    if value in (None, ""):
        return None
    return int(value)


class IdSelectField(GermanParseError, SelectField):
    """A select of ids (empty allowed); the service checks that the id exists and fits."""

    parse_error = PICK

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int_or_none, validate_choice=False, **kwargs)


class CodeSelectField(SelectField):
    """A select of codes; an unknown code is left to the service, which answers in German."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, validate_choice=False, **kwargs)


class IdCheckboxField(GermanParseError, MultiCheckboxField):
    """Checkboxes of ids; whether each id exists and fits is the service's question."""

    parse_error = "Unbekannte Auswahl."

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, coerce=int, **kwargs)

    def pre_validate(self, form):
        pass


STALE_FORM = "Das Formular ist unvollständig. Bitte laden Sie die Seite neu."


def version_field():
    """The version of the item the form was rendered from (optimistic locking)."""
    return IntegerField("Version", validators=[InputRequired(message=STALE_FORM)])


class EscalationForm(Form):
    """A structural problem, written without personal data."""

    title = StringField("Titel", validators=[max_len(200)])
    description = TextAreaField("Beschreibung des Problems", validators=[max_len(10000)])
    category = CodeSelectField("Kategorie", choices=[("", "— bitte wählen —"), *CATEGORIES.items()])
    rechtskreise = MultiCheckboxField("Betroffene Rechtskreise", choices=list(RECHTSKREISE.items()))
    agencies = MultiCheckboxField("Betroffene Stellen")
    proposed_solution = TextAreaField("Lösungsvorschlag (optional)", validators=[max_len(5000)])
    version = IntegerField("Version", validators=[optional()])

    def with_agencies(self, agencies) -> EscalationForm:
        self.agencies.choices = [(a.code, f"{a.code} – {a.name}") for a in agencies]
        return self


class TriageForm(Form):
    priority = IdSelectField("Priorität", choices=[("", "— bitte wählen —"), *PRIORITIES.items()])
    category = CodeSelectField("Kategorie", choices=list(CATEGORIES.items()))
    version = version_field()


class MoveForm(Form):
    to_state = CodeSelectField("Neuer Status")
    reason = TextAreaField("Begründung", validators=[max_len(5000)])
    working_group = IdSelectField("Arbeitsgruppe (bei „in der Arbeitsgruppe“)")
    version = version_field()


class MergeForm(Form):
    into = IdSelectField("Aufgehen in")
    reason = TextAreaField("Begründung (optional)", validators=[max_len(5000)])
    version = version_field()


class RecommendationForm(Form):
    text = TextAreaField("Text der Empfehlung", validators=[max_len(10000)])
    due_date = GermanDateField("Umsetzungsfrist", validators=[optional()])
    agencies = IdCheckboxField("Umsetzende Stellen")
    version = version_field()


class ImplementationForm(Form):
    status = CodeSelectField("Stand", choices=list(IMPLEMENTATION_STATUS.items()))
    reason = TextAreaField("Begründung", validators=[max_len(5000)])
    version = version_field()


class DecisionForm(Form):
    outcome = CodeSelectField("Beschluss", choices=list(OUTCOMES.items()))
    text = TextAreaField("Beschlusstext", validators=[max_len(5000)])
    working_group = IdSelectField("Arbeitsgruppe")
    due_date = GermanDateField("Umsetzungsfrist", validators=[optional()])
    agencies = IdCheckboxField("Umsetzende Stellen (keine Auswahl: alle)")
    version = version_field()


class AgendaProposalForm(Form):
    escalation = IdCheckboxField("Einträge")
    time_box = IntegerField("Zeit je Punkt (Minuten)", default=15, validators=[optional()])


class JoinForm(Form):
    """ "Betrifft uns auch": the agenda item whose case is added."""

    item_id = IntegerField("Tagesordnungspunkt", validators=[InputRequired(message=STALE_FORM)])


class GroupForm(Form):
    name = StringField("Name", validators=[max_len(200)])
    mandate = TextAreaField("Auftrag", validators=[max_len(5000)])
    lead = IdSelectField("Leitung")
    due_date = GermanDateField("Bericht bis", validators=[optional()])
    members = IdCheckboxField("Mitglieder")

    def with_people(self, people) -> GroupForm:
        choices = [(u.id, f"{u.agency.code} – {u.display_name}") for u in people]
        self.lead.choices = [("", "—"), *choices]
        self.members.choices = choices
        return self


class ReportForm(Form):
    text = TextAreaField("Statusbericht", validators=[max_len(10000)])


class GroupStatusForm(Form):
    status = CodeSelectField("Status", choices=list(GROUP_STATUS.items()))
