"""Consent records (Einwilligung / Schweigepflichtentbindung) and the access policy."""

import logging

from flask import Blueprint

# The app factory imports consent.routes to attach the views: the policy and models stay importable
# on their own, without pulling in the web layer.
bp = Blueprint("consent", __name__, url_prefix="/faelle")
log = logging.getLogger(__name__)
