"""Shape validation for conference, poll and agenda input."""

from __future__ import annotations

from wtforms import DateTimeLocalField, SelectField, StringField, TextAreaField
from wtforms.validators import NumberRange

from fallkonferenz.forms import Form, GermanParseError, MultiCheckboxField, max_len, optional, required, required_input
from fallkonferenz.forms import GermanIntegerField as IntegerField
from fallkonferenz.localtime import to_local, to_utc

from .items import MAX_TITLE
from .models import ITEM_KINDS, KINDS

DT_FORMATS = ["%Y-%m-%dT%H:%M", "%d.%m.%Y %H:%M"]
DT_ERROR = "Bitte Datum und Uhrzeit angeben (TT.MM.JJJJ HH:MM)."


class GermanDateTimeField(GermanParseError, DateTimeLocalField):
    """datetime-local input in local time with a German parse error; `data` is naive UTC, as stored."""

    parse_error = DT_ERROR

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, format=DT_FORMATS, **kwargs)

    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        if self.data is not None:
            self.data = to_utc(self.data)

    def _value(self):
        if self.raw_data:
            return " ".join(self.raw_data)
        return to_local(self.data).strftime(self.format[0]) if self.data else ""


class ConferenceForm(Form):
    title = StringField("Titel", validators=[required(), max_len(200)])
    kind = SelectField("Art", choices=list(KINDS.items()), validators=[required()])
    start = GermanDateTimeField("Beginn", validators=[required_input()])
    end = GermanDateTimeField("Ende", validators=[required_input()])
    location = StringField("Ort", validators=[max_len(300)])
    video_link = StringField("Videolink", validators=[max_len(500)])
    participants = MultiCheckboxField("Teilnehmende", coerce=int)


class PollForm(Form):
    """Up to eight slot rows; empty rows are ignored."""


for _i in range(8):
    setattr(PollForm, f"start{_i}", GermanDateTimeField(f"Termin {_i + 1}: Beginn", validators=[optional()]))
    setattr(PollForm, f"end{_i}", GermanDateTimeField(f"Termin {_i + 1}: Ende", validators=[optional()]))


class ItemForm(Form):
    kind = SelectField("Art", choices=list(ITEM_KINDS.items()), validators=[required()])
    case = StringField("Fallnummer (bei Fallbesprechung)", validators=[max_len(20)])
    title = StringField("Titel", validators=[max_len(MAX_TITLE)])
    time_box = IntegerField(
        "Zeit (Minuten)",
        default=15,
        validators=[
            required_input(),
            NumberRange(min=1, max=240, message="Die Zeit muss zwischen 1 und 240 Minuten liegen."),
        ],
    )
    presenter = SelectField("Vortragende Person", coerce=int, validators=[optional()])
    position = IntegerField("An Position (leer: ans Ende)", validators=[optional()])


class ItemEditForm(Form):
    """An item's title, time box and presenter; its kind and case stay (another case is another item)."""

    title = ItemForm.title
    time_box = ItemForm.time_box
    presenter = ItemForm.presenter


class CancelForm(Form):
    reason = TextAreaField("Grund der Absage", validators=[required(), max_len(1000)])
