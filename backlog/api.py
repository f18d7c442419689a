"""JSON API of the backlog (/api/v1/backlog) and the read-only OParl 1.1 view of the steering layer."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("backlog_api", __name__)
oparl_bp = Blueprint("oparl", __name__)
