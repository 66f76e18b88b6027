"""The read-only JSON API under /api/v1, with per-user bearer tokens."""
