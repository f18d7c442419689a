"""Consent records (Einwilligung / Schweigepflichtentbindung) and the access policy."""

import logging

from flask import Blueprint

bp = Blueprint("consent", __name__, url_prefix="/faelle")
log = logging.getLogger(__name__)


def _load_routes():
    from . import routes  # noqa: F401


_load_routes()
