"""De-identification guard: find personal data in the text of an escalation before it is saved.

Pure functions. The caller collects the identifiers of the cases the author's agency may see (names, birth dates,
case numbers, addresses, phone numbers); the guard adds generic patterns (dates that may be birth dates, phone
numbers, e-mail addresses, the case-number pattern) and returns every hit with its position, so the form can
highlight it.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date

from markupsafe import Markup, escape

MONTHS = {
    "januar": 1,
    "jänner": 1,
    "februar": 2,
    "märz": 3,
    "maerz": 3,
    "april": 4,
    "mai": 5,
    "juni": 6,
    "juli": 7,
    "august": 8,
    "september": 9,
    "oktober": 10,
    "november": 11,
    "dezember": 12,
}
MIN_NAME_PART = 3  # shorter name parts ("Al", "de") are too common to block on their own

KIND_LABELS = {
    "name": "Name einer Person",
    "birth_date": "Geburtsdatum",
    "date": "Datum, das ein Geburtsdatum sein kann",
    "case_number": "Fallnummer",
    "address": "Anschrift",
    "phone": "Telefonnummer",
    "email": "E-Mail-Adresse",
}


@dataclass
class Identifiers:
    """Personal data of the cases an escalation is linked to, as the author's agency may see them."""

    names: set[str] = field(default_factory=set)
    birth_dates: set[date] = field(default_factory=set)
    case_numbers: set[str] = field(default_factory=set)
    addresses: set[str] = field(default_factory=set)
    phones: set[str] = field(default_factory=set)

    def update(self, other: Identifiers) -> None:
        for name in ("names", "birth_dates", "case_numbers", "addresses", "phones"):
            getattr(self, name).update(getattr(other, name))


@dataclass(frozen=True)
class Hit:
    field: str
    start: int
    end: int
    kind: str
    text: str

    @property
    def label(self) -> str:
        return KIND_LABELS[self.kind]


# -- patterns ----------------------------------------------------------------------------------------------

_SEP = r"[.\-/]"
_NUMERIC_DATE = re.compile(rf"(?<![\d.])(\d{{1,2}})\s?{_SEP}\s?(\d{{1,2}})\s?{_SEP}\s?(\d{{4}}|\d{{2}})(?![\d])")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_WORD_DATE = re.compile(r"(?<!\d)(\d{1,2})\.?\s*(" + "|".join(MONTHS) + r")\s+(\d{4}|\d{2})(?!\d)", re.IGNORECASE)
_BIRTH_WORDS = re.compile(r"\b(geb\.|geboren|geburtsdatum|geburtstag|jahrgang|jg\.)\s*(am|im|ist|:)?\s*", re.IGNORECASE)
_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d)")
_CASE_NUMBER = re.compile(r"\bFK\s?[-–/]?\s?\d{4}\s?[-–/]?\s?\d{1,4}\b", re.IGNORECASE)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w.,])(?:\+|00)?\d[\d ()/\-]{5,}\d(?![\w])")
_STREET = re.compile(
    r"\b[\wÄÖÜäöüß.\-]*(straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee)\s+\d{1,4}\s?[a-zA-Z]?\b",
    re.IGNORECASE,
)
_VARIANTS = {
    "ä": "(?:ä|ae|a)",
    "ö": "(?:ö|oe|o)",
    "ü": "(?:ü|ue|u)",
    "ß": "(?:ß|ss)",
}


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _fold(char: str) -> str:
    """A letter without its accents (é → e); umlauts are handled by _VARIANTS."""
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


def _name_pattern(name: str) -> str:
    """Regex for a name in any capitalisation, with umlaut transcriptions, accents optional, and a genitive s."""
    parts = []
    for char in name.lower():
        if char in _VARIANTS:
            parts.append(_VARIANTS[char])
        elif char.isspace():
            parts.append(r"[\s\-]+")
        elif char == "-":
            parts.append(r"[\s\-]?")
        else:
            folded = _fold(char)
            parts.append(f"(?:{re.escape(char)}|{re.escape(folded)})" if folded and folded != char else re.escape(char))
    return r"(?<!\w)" + "".join(parts) + r"(?:s|'s|’s)?(?!\w)"


def name_variants(names: Iterable[str]) -> set[str]:
    """A name, and each of its parts long enough to identify someone on its own."""
    out = set()
    for raw in names:
        name = " ".join((raw or "").split())
        if len(name) < MIN_NAME_PART:
            continue
        out.add(name)
        for part in re.split(r"[\s\-]+", name):
            if len(part) >= MIN_NAME_PART:
                out.add(part)
    return out


def _year(two_or_four: str) -> list[int]:
    if len(two_or_four) == 4:
        return [int(two_or_four)]
    yy = int(two_or_four)
    return [1900 + yy, 2000 + yy]


def _dates_in(text: str):
    """Every written date: (start, end, candidate dates) for 03.04.2001, 3.4.01, 2001-04-03, 3. April 2001."""
    for m in _NUMERIC_DATE.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        yield m.start(), m.end(), _candidates(day, month, _year(m.group(3)))
    for m in _ISO_DATE.finditer(text):
        yield m.start(), m.end(), _candidates(int(m.group(3)), int(m.group(2)), [int(m.group(1))])
    for m in _WORD_DATE.finditer(text):
        month = MONTHS[m.group(2).lower()]
        yield m.start(), m.end(), _candidates(int(m.group(1)), month, _year(m.group(3)))


def _candidates(day: int, month: int, years: list[int]) -> list[date]:
    out = []
    for year in years:
        try:
            out.append(date(year, month, day))
        except ValueError:
            continue
    return out


def _may_be_birth_date(candidates: list[date], today: date) -> bool:
    """A date 14 to 80 years back could be someone's birthday; recent or future dates are deadlines."""
    return any(today.year - 80 <= d.year <= today.year - 14 for d in candidates)


# -- the check -------------------------------------------------------------------------------------------


def check(texts: dict[str, str], ids: Identifiers, today: date) -> list[Hit]:
    """All hits in the given fields (field name → text), sorted by field and position, overlaps merged."""
    names = sorted(name_variants(ids.names), key=len, reverse=True)
    patterns = [(re.compile(_name_pattern(n), re.IGNORECASE), "name") for n in names]
    patterns += [(re.compile(_name_pattern(a), re.IGNORECASE), "address") for a in _address_parts(ids.addresses)]
    patterns += [
        (re.compile(re.escape(n), re.IGNORECASE), "case_number") for n in {n.upper() for n in ids.case_numbers}
    ]
    patterns += [(_STREET, "address"), (_CASE_NUMBER, "case_number"), (_EMAIL, "email")]
    phones = {_digits(p) for p in ids.phones if len(_digits(p)) >= 6}
    hits: list[Hit] = []
    for name, text in texts.items():
        text = text or ""
        spans = [(m.start(), m.end(), kind) for rx, kind in patterns for m in rx.finditer(text)]
        spans += _date_spans(text, ids.birth_dates, today)
        spans += [(m.start(), m.end(), "phone") for m in _PHONE.finditer(text) if _is_phone(m.group(), phones)]
        hits.extend(_merge([Hit(name, start, end, kind, text[start:end]) for start, end, kind in spans]))
    return hits


def _date_spans(text: str, birth_dates: set[date], today: date) -> list[tuple[int, int, str]]:
    spans = []
    for start, end, candidates in _dates_in(text):
        if birth_dates.intersection(candidates):
            spans.append((start, end, "birth_date"))
        elif _may_be_birth_date(candidates, today) or _after_birth_word(text, start):
            spans.append((start, end, "date"))
    for m in _BIRTH_WORDS.finditer(text):
        year = _YEAR.match(text, m.end())
        if year:
            spans.append((m.start(), year.end(), "date"))
    return spans


def _is_phone(candidate: str, known: set[str]) -> bool:
    """A dialling number (0…, +…, 00…) of seven digits or more, or the tail of a known phone number."""
    digits = _digits(candidate)
    if len(digits) >= 7 and (candidate.lstrip().startswith(("0", "+")) or digits in known):
        return True
    return len(digits) >= 6 and any(p.endswith(digits[-6:]) for p in known)


def _after_birth_word(text: str, start: int) -> bool:
    before = text[max(0, start - 25) : start]
    return bool(_BIRTH_WORDS.search(before))


def _address_parts(addresses: Iterable[str]) -> set[str]:
    """The street and house number of each address ("Hafenstraße 12" of "Hafenstraße 12, 44135 Dortmund")."""
    out = set()
    for address in addresses:
        first = (address or "").split(",")[0].strip()
        if len(first) >= 5:
            out.add(first)
    return out


def _merge(found: list[Hit]) -> list[Hit]:
    """Keep the longest hit where hits overlap; a specific kind wins over a generic one of the same span."""
    out: list[Hit] = []
    for hit in sorted(found, key=lambda h: (h.start, -(h.end - h.start))):
        if out and hit.start < out[-1].end:
            continue
        out.append(hit)
    return out


def highlight(text: str, hits: Iterable[Hit]) -> Markup:
    """The text with each hit wrapped in <mark>, everything else escaped."""
    out, pos = [], 0
    for hit in sorted(hits, key=lambda h: h.start):
        out.append(escape(text[pos : hit.start]))
        out.append(Markup('<mark class="guard-hit" title="{}">{}</mark>').format(hit.label, text[hit.start : hit.end]))
        pos = hit.end
    out.append(escape(text[pos:]))
    return Markup("").join(out)
