"""Login, logout, server-side sessions, personal access tokens and user administration."""

import logging

from flask import Blueprint

bp = Blueprint("auth", __name__)
log = logging.getLogger(__name__)

from . import routes  # noqa: E402,F401
