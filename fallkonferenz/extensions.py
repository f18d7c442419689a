"""Flask extensions, created unbound and bound in create_app()."""

from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from sqlalchemy import MetaData, and_, func, or_

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


def contains_words(columns, text: str, max_words: int = 8):
    """A condition: every word of `text` stands in one of `columns`, whatever its case, umlauts included
    (SQLite's lower() knows only ASCII, so each SQLite connection gets a Unicode `fk_lower` when it opens)."""
    lower = func.fk_lower if db.engine.dialect.name == "sqlite" else func.lower
    words = text.lower().split()[:max_words]
    return and_(*(or_(*(lower(c).like(f"%{escape_like(word)}%", escape="\\") for c in columns)) for word in words))
