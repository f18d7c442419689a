"""De-identification guard: find personal data in the text of an escalation before it is saved.

Pure functions. The caller collects the identifiers of the cases the author's agency may see (names, birth dates,
case numbers, addresses, phone numbers); the guard adds generic patterns (dates that may be birth dates, phone
numbers, e-mail addresses, street addresses, the case-number pattern) and returns every hit with its position, so
the form can highlight it.

Names are found in any capitalisation, with umlauts written out (ü/ue), accents and the Turkish dotless i optional,
and with a genitive s. Another transcription of the same name from Arabic, Dari, Pashto, Tigrinya or Kurdish
("Ahmed" for "Ahmad", "Muhammed" for "Mohammed", "Jussuf" for "Yusuf", "Hasan" for "Hassan") counts where it is
capitalised, as names are (at a sentence start only from five letters: "Man kann …"), and differs in one vowel at
most (so "Hessen" stays a Land, not a "Hassan"). Name particles ("von", "der", "bin") never count as a name on their
own; a name part that is also a German word written in lower case ("Nur", "Klein") counts only where it is
capitalised inside a sentence.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import lru_cache

from markupsafe import Markup, escape

from fallkonferenz.vocab import CASE_NUMBER_RE

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
MONTH_ABBREVIATIONS = {
    "jan": 1,
    "feb": 2,
    "mär": 3,
    "mrz": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "okt": 10,
    "nov": 11,
    "dez": 12,
}
MIN_NAME_PART = 3  # shorter name parts ("Al", "de") are too common to block on their own

# Parts of a name that identify nobody on their own (and would block every German text: "von", "der", "bin").
PARTICLES = frozenset(
    {"von", "vom", "van", "der", "den", "dem", "des", "die", "das", "zu", "zum", "zur", "und", "ter", "ten"}
    | {"bin", "ibn", "bint", "abu", "abd", "dos", "del", "della", "mac"}
)
# Name parts that are also German words written in lower case: a name only where capitalised inside a sentence.
COMMON_WORDS = frozenset(
    {"nur", "man", "gut", "alt", "neu", "lang", "kurz", "klein", "jung", "groß", "gross", "weiß", "weiss"}
    | {"schwarz", "braun", "rosa", "frei", "stark", "hell", "wild", "fromm", "kühn", "froh", "ernst", "ehrlich"}
    | {"selig", "lustig", "fröhlich", "freundlich", "fein", "still", "munter", "bald", "sehr", "ganz", "mehr"}
)

KIND_LABELS = {
    "name": "Name einer Person",
    "birth_date": "Geburtsdatum",
    "date": "Datum, das ein Geburtsdatum sein kann",
    "case_number": "Fallnummer",
    "address": "Anschrift",
    "phone": "Telefonnummer",
    "email": "E-Mail-Adresse",
}
# Where hits of two kinds cover the same span, the more specific one is reported.
_RANK = {"birth_date": 0, "case_number": 1, "email": 2, "address": 3, "phone": 4, "name": 5, "date": 6}


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


# -- generic patterns ----------------------------------------------------------------------------------------

_SEP = r"[.\-/]"
_NUMERIC_DATE = re.compile(rf"(?<![\d.])(\d{{1,2}})\s?{_SEP}\s?(\d{{1,2}})\s?{_SEP}\s?(\d{{4}}|\d{{2}})(?![\d])")
_ISO_DATE = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_MONTH_WORDS = "|".join(sorted([*MONTHS, *MONTH_ABBREVIATIONS], key=len, reverse=True))
_WORD_DATE = re.compile(
    rf"(?<!\d)(\d{{1,2}})\.?\s*({_MONTH_WORDS})\b\.?\s*(\d{{4}}|\d{{2}})(?!\d)",
    re.IGNORECASE,
)
_BIRTH_WORDS = re.compile(
    rf"\b(geb\.|geboren|geburtsdatum|geburtstag|jahrgang|jg\.)\s*(am|im|ist|:)?\s*(?:(?:{_MONTH_WORDS})\.?\s+)?",
    re.IGNORECASE,
)
_YEAR = re.compile(r"(?<!\d)(19|20)\d{2}(?!\d|[-./]\d)")
_YEAR_BORN = re.compile(r"(?<![\d.])(?:19|20)\d{2}\s+geb(?:oren\b|\.)", re.IGNORECASE)
# Words before a date that make it a deadline, a validity or the date of a law rather than a birthday.
_NOT_BIRTH_BEFORE = re.compile(
    r"\b(?:seit|ab|bis|vom|zum|stand|fassung|stichtag|frist|gültig|befristet|datiert|erlassen)"
    r"(?:\s+(?:dem|den|der|zum))?\s*$",
    re.IGNORECASE,
)
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_PHONE = re.compile(r"(?<![\w.,])(?:\+|00)?\d[\d ()/\-]{4,}\d(?![\w])")
_STREET_SUFFIX = r"(?:straße|strasse|str\.|str|weg|allee|platz|gasse|ring|damm|ufer|chaussee|pfad|stieg|steig)"
# A house number, unless the number is a distance, a duration, a count or an amount ("Fahrweg 45 Minuten").
_HOUSE_NUMBER = (
    r"\d{1,3}(?![\d.,]\d)(?:\s?[a-z](?!\w))?(?!\w)"
    r"(?!\s*(?:%|€|km\b|m\b|min\b|minuten|std\b|stunden|h\b|tage|wochen|monat|jahr|prozent|euro|plätze|kinder"
    r"|personen|fälle|familien|mal\b|x\b|von\b|bis\b|der\b|des\b))"
)
# "Hafenstraße 7", "Kirchweg 4", and a street of two words: "Lange Straße 3a", "Kölner Str. 12".
_STREET = re.compile(
    rf"(?<!\w)(?:[\wÄÖÜäöüß\-]+{_STREET_SUFFIX}|(?-i:[A-ZÄÖÜ])[\wÄÖÜäöüß\-]*\s+(?:straße|strasse|str\.|allee|gasse))"
    rf"(?:\s+|(?<=\.)){_HOUSE_NUMBER}",
    re.IGNORECASE,
)

# A person addressed as such: "Frau Yusuf", "Herrn Dr. Amiri", "Frau T." – whoever it is, the guard need not know
# the name (a client of a case the author's agency may not see, or of none in the system). Only the word after the
# form of address is marked. "Frau" is also a plain noun ("eine junge Frau Anfang 20"): right after an article or
# another determiner (with at most one word between, in the same phrase: no punctuation), the capitalised word that
# follows is a noun, not a name. That leaves one reading unchecked: a relative "die" ("…, die Frau Okonkwo kennt").
_ADDRESSED = re.compile(
    r"(?<![\wÄÖÜäöüß])(?i:herrn?|frau|hr\.|fr\.)\s+(?:(?i:dr)\.\s*)?(?P<name>[A-ZÄÖÜ][\wÄÖÜäöüß\-]*)"
)
_DETERMINER = re.compile(
    r"d(?:ie|er|en|em|es)|[kmds]?ein(?:e[rnms]?)?|ihr(?:e[rnms]?)?|unser(?:e[rnms]?)?|eu(?:er|re[rnms]?)"
    r"|(?:dies|jed|jen|welch|manch|solch|all)e[rnms]?|beide[rnm]?",
    re.IGNORECASE,
)
_WORDS_BEFORE = re.compile(r"(?:([\wÄÖÜäöüß]+)[ \t]+)?([\wÄÖÜäöüß]+)[ \t]+$")  # the phrase's last two words
# Titles and offices after "Frau"/"Herr", which name a role, not a person.
ROLES = frozenset(
    {"Ministerin", "Minister", "Bürgermeisterin", "Bürgermeister", "Oberbürgermeisterin", "Oberbürgermeister"}
    | {"Landrätin", "Landrat", "Präsidentin", "Präsident", "Kollegin", "Kollege", "Doktor", "Professorin"}
    | {"Professor", "Direktorin", "Direktor", "Vorsitzende", "Vorsitzender", "Dezernentin", "Dezernent"}
)


def _addressed(text: str) -> list[tuple[int, int, str]]:
    """Names after a form of address, unless "Frau"/"Herr" is a noun there or a role follows."""
    spans = []
    for m in _ADDRESSED.finditer(text):
        if m.group("name") in ROLES:
            continue
        before = _WORDS_BEFORE.search(text[max(0, m.start() - 60) : m.start()])
        words = [w for w in (before.groups() if before else ()) if w]
        if any(_DETERMINER.fullmatch(w) for w in words):
            continue
        spans.append((m.start("name"), m.end("name"), "name"))
    return spans


# Letters a transcription may replace: written-out umlauts, accents, the Turkish dotless i.
_VARIANTS = {
    "ä": "(?:ä|ae|a)",
    "ö": "(?:ö|oe|o)",
    "ü": "(?:ü|ue|u)",
    "ß": "(?:ß|ss)",
    "ae": "(?:ae|ä)",
    "oe": "(?:oe|ö)",
    "ue": "(?:ue|ü)",
    "ss": "(?:ss|ß)",
}
_ACCENTED = {
    "a": "aàáâãå",
    "c": "cçč",
    "e": "eéèêë",
    "g": "gğ",
    "i": "iíìîïı",
    "n": "nñ",
    "o": "oóòôõø",
    "s": "sşš",
    "u": "uúùû",
    "z": "zž",
}
# Characters that Word and browsers paste into text without showing them: a name must not hide behind them.
_INVISIBLE = frozenset("\u00ad\u200b\u200c\u200d\u2060\ufeff")


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def _fold(char: str) -> str:
    """A letter without its accents (é → e, ı → i); umlauts are handled by _VARIANTS."""
    if char == "ı":
        return "i"
    return "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))


def _letters(name: str) -> str:
    """Regex for the letters of a name (no boundaries): umlauts written out, accents optional, flexible spacing."""
    name = unicodedata.normalize("NFC", name).lower()
    parts, i = [], 0
    while i < len(name):
        pair = name[i : i + 2]
        if pair in _VARIANTS:
            parts.append(_VARIANTS[pair])
            i += 2
            continue
        char = name[i]
        i += 1
        if unicodedata.combining(char):
            continue  # "İ".lower() is i + a combining dot
        if char in _VARIANTS:
            parts.append(_VARIANTS[char])
        elif char.isspace():
            parts.append(r"[\s\-]+")
        elif char == "-":
            parts.append(r"[\s\-]?")
        elif char in "'’`´":
            parts.append(r"['’`´]?")
        else:
            base = _fold(char) or char
            chars = sorted({char, base, *_ACCENTED.get(base, "")})
            parts.append(re.escape(char) if len(chars) == 1 else "[" + "".join(re.escape(c) for c in chars) + "]")
    return "".join(parts)


def _parts(name: str) -> list[str]:
    return [p for p in re.split(r"[\s\-]+", name) if p]


def name_variants(names: Iterable[str]) -> set[str]:
    """A name, and each of its parts long enough to identify someone on its own (never a particle like "von")."""
    out = set()
    for raw in names:
        name = " ".join((raw or "").split())
        parts = _parts(name)
        if len(name) >= MIN_NAME_PART and any(p.lower() not in PARTICLES for p in parts):
            out.add(name)
        out.update(p for p in parts if len(p) >= MIN_NAME_PART and p.lower() not in PARTICLES)
    return out


def _is_common_word(variant: str) -> bool:
    return " " not in variant and "-" not in variant and variant.lower() in COMMON_WORDS


def _capitalised(word: str) -> str:
    """Case-sensitive regex for a word with a capital first letter ("Nur", "Gross"/"Groß")."""
    first = _letters(word[:1]).upper()
    for digraph in ("AE", "OE", "UE", "SS"):
        first = first.replace(digraph, digraph.capitalize())
    return first + _letters(word[1:])


# Transcriptions of one name differ in its vowels, doubled consonants and a few digraphs. Longest unit first.
_VOWEL_A = "[aeäàáâãåéèêë]"
_VOWEL_U = "(?:ou|oo|[ouúùûóòô])"
_VOWEL_I = "(?:ee|ie|[iíìîïıy])"
_SPELLING_UNITS = (
    ("dsch", "(?:dsch|dj|j)"),
    ("sch", "(?:sch|sh)"),
    ("sh", "(?:sh|sch)"),
    ("kh", "(?:kh|ch)"),
    ("ch", "(?:ch|kh)"),
    ("dj", "(?:dj|dsch|j)"),
    ("ou", _VOWEL_U),
    ("oo", _VOWEL_U),
    ("ee", _VOWEL_I),
    ("ie", _VOWEL_I),
)
MIN_SPELLING_PART = 4  # "Ali" would also be "Ely", "Olli" …: shorter parts only as written
MIN_OPENING_SPELLING = 5  # at a sentence start, "Man" (for a "Mann") is the pronoun; "Ahmed" is still a name


def _spelling(word: str) -> str | None:
    """Regex for other transcriptions of a one-word name part ("Ahmad" → also Ahmed, Achmad; "Yusuf" → Jussuf).

    None for a part too short or with characters other than letters, which are matched only as written.
    """
    word = "".join(_fold(c) for c in unicodedata.normalize("NFC", word).lower())
    if len(word) < MIN_SPELLING_PART or not word.isalpha() or not word.isascii():
        return None
    parts, i = [], 0
    while i < len(word):
        unit = next((u for u, _ in _SPELLING_UNITS if word.startswith(u, i)), None)
        if unit:
            parts.append(dict(_SPELLING_UNITS)[unit])
            i += len(unit)
            continue
        char = word[i]
        if char in "ae":
            parts.append(_VOWEL_A)
        elif char in "ou":
            parts.append(_VOWEL_U)
        elif char in "jy" and i == 0:
            parts.append("[jy]")
        elif char in "iy":
            parts.append(_VOWEL_I)
        else:
            parts.append(re.escape(char) + "{1,2}")  # a doubled consonant is written single and vice versa
        while i + 1 < len(word) and word[i + 1] == char and char not in "aeiouy":
            i += 1
        i += 1
    return "".join(parts)


_VOWEL_GROUP = re.compile(r"[aeiouy]+")


def _vowel_groups(word: str) -> list[str]:
    word = "".join(_fold(c) for c in word.lower())
    return _VOWEL_GROUP.findall(word[1:] if word[:1] in "jy" else word)


def _is_spelling_of(found: str, names: Iterable[str]) -> bool:
    """Whether a capitalised match is another transcription of one of these names, differing in one vowel at most."""
    mine = _vowel_groups(found)
    for name in names:
        rx = _spelling(name)
        theirs = _vowel_groups(name)
        if (
            rx
            and len(mine) == len(theirs)
            and re.fullmatch(rx, found, re.IGNORECASE)
            and sum(a != b for a, b in zip(mine, theirs, strict=True)) <= 1
        ):
            return True
    return False


def _street_letters(address: str) -> str:
    """Regex for a street and house number: "Hafenstraße 7" also as "Hafenstr. 7", "HAFENSTRASSE 7", "Hafenstr.7"."""
    street, number = _HOUSE.match(address).groups()
    suffix = re.search(r"(?i)(straße|strasse|str\.?)$", street)
    if suffix:
        head = street[: suffix.start()]
        street_rx = _letters(head) + r"[\s\-]?(?:straße|strasse|str\.?)" if head else r"(?:straße|strasse|str\.?)"
    else:
        street_rx = _letters(street)
    digits = re.match(r"\d+", number).group()
    return street_rx + r"\s*" + re.escape(digits) + r"(?:\s?[a-z])?"


@lru_cache(maxsize=64)
def _known_pattern(
    names: tuple[str, ...], common: tuple[str, ...], addresses: tuple[str, ...], numbers: tuple[str, ...]
):
    """One compiled alternation for all known names, addresses and case numbers (longest first), then the other
    transcriptions of the names (checked for a capital letter after matching)."""
    groups = []
    if numbers:
        groups.append("(?P<case_number>" + "|".join(numbers) + ")")
    if addresses:
        groups.append("(?P<address>" + "|".join(_street_letters(a) for a in addresses) + ")")
    if names:
        groups.append("(?P<name>" + "|".join(_letters(n) for n in names) + ")")
    if common:
        # Case-sensitive: "Nur" the name, not "nur" the word (the sentence start is checked after matching).
        groups.append("(?P<common>" + "|".join(f"(?-i:{_capitalised(w)})" for w in common) + ")")
    spellings = sorted({rx for n in names if (rx := _spelling(n))}, key=len, reverse=True)
    if spellings:
        groups.append("(?P<spelling>" + "|".join(spellings) + ")")
    if not groups:
        return None
    return re.compile(r"(?<!\w)(?:" + "|".join(groups) + r")(?:s|'s|’s)?(?!\w)", re.IGNORECASE)


def _number_patterns(numbers: Iterable[str]) -> tuple[str, ...]:
    """Known case numbers, also lowercase, with spaces, without leading zeros, or without the FK prefix."""
    out = set()
    for number in numbers:
        match = re.fullmatch(r"\s*([A-Za-z]+)[-–/ ]?(\d{4})[-–/ ]?(\d+)\s*", number or "")
        if not match:
            if number and number.strip():
                out.add(re.escape(number.strip()))
            continue
        prefix, year, seq = match.groups()
        sep = r"\s?[-–/]?\s?"
        out.add(f"{re.escape(prefix)}{sep}{year}{sep}0*{int(seq)}(?!\\d)")
        out.add(f"(?<![\\d-]){year}\\s?[-–/]\\s?{seq}(?!\\d)")
    return tuple(sorted(out, key=len, reverse=True))


_HOUSE = re.compile(r"^(.*?\w)\s*(\d{1,4}\s?[a-zA-Z]?)$")


def _address_parts(addresses: Iterable[str]) -> set[str]:
    """The street and house number of each address ("Hafenstraße 12" of "Hafenstraße 12, 44135 Dortmund").

    An address without a house number ("ohne festen Wohnsitz", "Gemeinschaftsunterkunft") identifies nobody by its
    words, which an escalation may well use.
    """
    out = set()
    for address in addresses:
        first = " ".join((address or "").split(",")[0].split())
        if _HOUSE.match(first):
            out.add(first)
    return out


# -- dates and phone numbers ----------------------------------------------------------------------------------


def _year(two_or_four: str) -> list[int]:
    if len(two_or_four) == 4:
        return [int(two_or_four)]
    yy = int(two_or_four)
    return [1900 + yy, 2000 + yy]


def _month(word: str) -> int:
    word = word.lower()
    return MONTHS.get(word) or MONTH_ABBREVIATIONS[word]


def _dates_in(text: str):
    """Every written date: (start, end, candidate dates) for 03.04.2001, 3.4.01, 2001-04-03, 3. April 2001."""
    for m in _NUMERIC_DATE.finditer(text):
        day, month = int(m.group(1)), int(m.group(2))
        yield m.start(), m.end(), _candidates(day, month, _year(m.group(3)))
    for m in _ISO_DATE.finditer(text):
        yield m.start(), m.end(), _candidates(int(m.group(3)), int(m.group(2)), [int(m.group(1))])
    for m in _WORD_DATE.finditer(text):
        yield m.start(), m.end(), _candidates(int(m.group(1)), _month(m.group(2)), _year(m.group(3)))


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


def _date_spans(text: str, birth_dates: set[date], today: date) -> list[tuple[int, int, str]]:
    spans = []
    for start, end, candidates in _dates_in(text):
        if not candidates:
            continue
        if birth_dates.intersection(candidates):
            spans.append((start, end, "birth_date"))
        elif _after_birth_word(text, start) or (_may_be_birth_date(candidates, today) and not _deadline(text, start)):
            spans.append((start, end, "date"))
    for m in _BIRTH_WORDS.finditer(text):
        year = _YEAR.match(text, m.end())
        if year:
            spans.append((m.start(), year.end(), "date"))
    spans += [(m.start(), m.end(), "date") for m in _YEAR_BORN.finditer(text)]
    return spans


def _deadline(text: str, start: int) -> bool:
    """A date after "seit", "bis", "vom", "in der Fassung" … is a deadline or the date of a law."""
    return bool(_NOT_BIRTH_BEFORE.search(text[max(0, start - 30) : start]))


def _after_birth_word(text: str, start: int) -> bool:
    before = text[max(0, start - 25) : start]
    return bool(_BIRTH_WORDS.search(before))


def _is_phone(candidate: str, known: set[str]) -> bool:
    """A dialling number (0…, +…, 00…) of seven digits or more, or the tail of a known phone number."""
    stripped = candidate.strip()
    if _NUMERIC_DATE.fullmatch(stripped) or _ISO_DATE.fullmatch(stripped):
        return False
    digits = _digits(candidate)
    if len(digits) >= 7 and (stripped.startswith(("0", "+")) or digits in known):
        return True
    return len(digits) >= 6 and any(p.endswith(digits[-6:]) for p in known)


def _sentence_start(text: str, start: int) -> bool:
    """True where a word begins a sentence, a line or a list entry (so its capital letter says nothing)."""
    before = text[:start].rstrip(" \t\"'„“”‚‘’»«([")
    return not before or before[-1] in ".!?:;\n\r-–—•*"


# -- the check -------------------------------------------------------------------------------------------


def _normalised(text: str) -> tuple[str, list[int], list[int]]:
    """The text in NFC without invisible characters, and for each of its characters the original span."""
    if unicodedata.is_normalized("NFC", text) and not _INVISIBLE.intersection(text):
        return text, [], []
    out, starts, ends = [], [], []
    i = 0
    while i < len(text):
        j = i + 1
        while j < len(text) and unicodedata.combining(text[j]):
            j += 1
        chunk = unicodedata.normalize("NFC", "".join(c for c in text[i:j] if c not in _INVISIBLE))
        for char in chunk:
            out.append(char)
            starts.append(i)
            ends.append(j)
        i = j
    return "".join(out), starts, ends


def check(texts: dict[str, str], ids: Identifiers, today: date) -> list[Hit]:
    """All hits in the given fields (field name → text), sorted by field and position, overlaps merged."""
    variants = sorted(name_variants(ids.names), key=lambda n: (-len(n), n))
    known = _known_pattern(
        tuple(n for n in variants if not _is_common_word(n)),
        tuple(n for n in variants if _is_common_word(n)),
        tuple(sorted(_address_parts(ids.addresses), key=lambda a: (-len(a), a))),
        _number_patterns(ids.case_numbers),
    )
    phones = {_digits(p) for p in ids.phones if len(_digits(p)) >= 6}
    hits: list[Hit] = []
    for name, original in texts.items():
        original = original or ""
        text, starts, ends = _normalised(original)
        spans = []
        if known is not None:
            for m in known.finditer(text):
                kind = m.lastgroup
                if kind == "common":
                    if _sentence_start(text, m.start()):
                        continue
                    kind = "name"
                elif kind == "spelling":
                    word = m.group("spelling")
                    opening = _sentence_start(text, m.start()) and len(word) < MIN_OPENING_SPELLING
                    if not word[0].isupper() or opening or not _is_spelling_of(word, variants):
                        continue
                    kind = "name"
                spans.append((m.start(), m.end(), kind))
        spans += _addressed(text)
        spans += [(m.start(), m.end(), "address") for m in _STREET.finditer(text)]
        spans += [(m.start(), m.end(), "case_number") for m in CASE_NUMBER_RE.finditer(text)]
        spans += [(m.start(), m.end(), "email") for m in _EMAIL.finditer(text)]
        spans += _date_spans(text, ids.birth_dates, today)
        spans += [(m.start(), m.end(), "phone") for m in _PHONE.finditer(text) if _is_phone(m.group(), phones)]
        if starts:
            spans = [(starts[s], ends[e - 1], kind) for s, e, kind in spans]
        hits.extend(_merge([Hit(name, s, e, kind, original[s:e]) for s, e, kind in spans]))
    return hits


def _merge(found: list[Hit]) -> list[Hit]:
    """Keep the longest hit where hits overlap; a specific kind wins over a generic one of the same span."""
    out: list[Hit] = []
    for hit in sorted(found, key=lambda h: (h.start, -(h.end - h.start), _RANK[h.kind])):
        if out and hit.start < out[-1].end:
            continue
        out.append(hit)
    return out


def highlight(text: str, hits: Iterable[Hit]) -> Markup:
    """The text with each hit wrapped in <mark>, everything else escaped."""
    out, pos = [], 0
    for hit in sorted(hits, key=lambda h: h.start):
        if hit.start < pos:
            continue
        out.append(escape(text[pos : hit.start]))
        out.append(Markup('<mark class="guard-hit" title="{}">{}</mark>').format(hit.label, text[hit.start : hit.end]))
        pos = hit.end
    out.append(escape(text[pos:]))
    return Markup("").join(out)
