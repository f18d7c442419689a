"""Live minutes: co-editing per agenda item over Socket.IO, with a durable update log."""

import logging

log = logging.getLogger(__name__)
