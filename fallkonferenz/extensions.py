"""Flask extensions, created unbound and bound in create_app()."""

import re

from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, and_, func, literal, or_, true

naming = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

db = SQLAlchemy(metadata=MetaData(naming_convention=naming))
migrate = Migrate()
csrf = CSRFProtect()
socketio = SocketIO()


def escape_like(text: str) -> str:
    """Text matched literally by LIKE … ESCAPE '\\' (a user's % or _ is no wildcard)."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# Where a search's words part: spaces, commas, semicolons; quotes and punctuation around a word are no part of it
# (a hyphen or slash inside one is: "LG-2026-004", "SGB II/III").
_WORD_BREAKS = re.compile(r"[\s,;]+")
_AROUND_WORDS = ".:!?\"'„“”‚‘’»«()[]{}<>"


def words_of(text: str) -> list[str]:
    """The words of a search text, as `contains_words` looks for them."""
    return [w for w in (part.strip(_AROUND_WORDS) for part in _WORD_BREAKS.split(text)) if w]


# Umlauts and ß as people write them without a German keyboard ("Uebergang", "Strasse"): both sides are folded.
_FOLDS = (("ä", "ae"), ("ö", "oe"), ("ü", "ue"), ("Ä", "ae"), ("Ö", "oe"), ("Ü", "ue"), ("ß", "ss"))


def _folded(expr):
    """`expr` lowered (on SQLite by the Unicode `fk_lower` each connection gets when it opens: its own lower()
    knows only ASCII) and with umlauts and ß written out; the capitals too, where PostgreSQL's locale does not
    lower them."""
    lower = func.fk_lower if db.engine.dialect.name == "sqlite" else func.lower
    expr = lower(expr)
    for umlaut, written in _FOLDS:
        expr = func.replace(expr, umlaut, written)
    return expr


def contains_words(columns, text: str):
    """A condition: every word of `text` stands in one of `columns`, whatever its case and however its umlauts are
    written ("Übergang", "uebergang"). Both sides are folded by the database, so the two always agree."""
    return and_(
        true(),  # no words: no condition
        *(
            or_(*(_folded(c).like(_folded(literal(f"%{escape_like(word)}%")), escape="\\") for c in columns))
            for word in words_of(text)
        ),
    )
