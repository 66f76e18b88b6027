"""Backups: ``engage backup`` / ``engage restore`` with a verified manifest, and the
erasure ledger that keeps erased members erased after a restore (docs/security.md
F6, D5)."""
