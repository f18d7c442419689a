"""Fixed vocabularies: data categories, Handlungsfelder, Rechtskreise, roles (codes → German labels)."""

import re

CATEGORIES = {
    "stammdaten": "Stammdaten",
    "aufenthalt": "Aufenthalt",
    "bildung_arbeit": "Bildung/Arbeit",
    "leistungen": "Leistungen",
    "gesundheit": "Gesundheit (Art. 9 DSGVO)",
    "familie": "Familie",
}

FIELDS = {
    "sprache": "Sprache",
    "schule_ausbildung": "Schule/Ausbildung",
    "arbeit": "Arbeit",
    "wohnen": "Wohnen",
    "gesundheit": "Gesundheit",
    "familie": "Familie/Kinderbetreuung",
    "aufenthalt": "Aufenthalt",
    "mobilitaet": "Mobilität",
}

# Which data category a goal of a Handlungsfeld belongs to.
FIELD_CATEGORY = {
    "sprache": "bildung_arbeit",
    "schule_ausbildung": "bildung_arbeit",
    "arbeit": "bildung_arbeit",
    "wohnen": "leistungen",
    "gesundheit": "gesundheit",
    "familie": "familie",
    "aufenthalt": "aufenthalt",
    "mobilitaet": "leistungen",
}

RECHTSKREISE = {
    "SGB II": "SGB II (Jobcenter)",
    "SGB III": "SGB III (Agentur für Arbeit)",
    "SGB VIII": "SGB VIII (Jugendhilfe)",
    "AufenthG": "AufenthG (Aufenthaltsrecht)",
    "AsylbLG": "AsylbLG",
}

# Why a note was withdrawn by its agency: fixed words, so that the trace it leaves holds no personal data.
NOTE_WITHDRAW_REASONS = {
    "kategorie": "unter der falschen Datenkategorie erfasst",
    "fall": "im falschen Fall erfasst",
    "inhalt": "inhaltlich unzutreffend",
    "doppelt": "doppelt erfasst",
}
GOAL_STATUS = {"offen": "offen", "in_arbeit": "in Arbeit", "erreicht": "erreicht", "verworfen": "verworfen"}

ROLES = {
    "case_worker": "Fallbearbeitung",
    "moderator": "Moderation",
    "steering": "Lenkungsgruppe",
    "dpo": "Datenschutzbeauftragte/r",
    "admin": "Administration",
}

# Roles whose holders work with case content; all others never see it.
CASE_ROLES = frozenset({"case_worker", "moderator"})

GRANTOR_KINDS = {"client": "Klient/in selbst", "guardian": "Vormund / gesetzliche Vertretung"}

# A case number (FK-<year>-<4 digits>) as people write it, in any text that must name none: also with spaces, a
# slash, an en or em dash or a non-breaking hyphen (word processors and phones put those in), or run together,
# and cut short ("FK 2026/12").
CASE_NUMBER_RE = re.compile(
    r"\bFK\s?[-\u2010-\u2015\u2212/]?\s?\d{4}\s?[-\u2010-\u2015\u2212/]?\s?\d{1,4}\b", re.IGNORECASE
)
