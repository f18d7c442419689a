"""Escalations and the Lenkungsgruppe backlog: de-identified structural problems, working groups,
recommendations and their implementation by each member agency."""

import logging

from flask import Blueprint

# Views are attached by the app factory (backlog.routes), like the agenda package.
bp = Blueprint("backlog", __name__)
log = logging.getLogger(__name__)
