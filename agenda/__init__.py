"""Conferences, participants, agenda items, scheduling and calendar files (planned; see the issue tracker)."""
