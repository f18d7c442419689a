"""Live minutes over Socket.IO, decisions, tasks, approval (planned; see the issue tracker)."""
