"""Case records: list, search, detail, notes, goals, access report."""

import logging

from flask import Blueprint

bp = Blueprint("cases", __name__, url_prefix="/faelle")
log = logging.getLogger(__name__)

from . import routes  # noqa: E402,F401
