"""Conferences, participants, agenda items, scheduling and calendar (ICS) export."""

import logging

from flask import Blueprint

# Views are attached by the app factory (agenda.routes, agenda.api), like the consent package.
bp = Blueprint("agenda", __name__)
log = logging.getLogger(__name__)
