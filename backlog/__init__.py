"""Escalations and the Lenkungsgruppe backlog (planned; see the issue tracker)."""
