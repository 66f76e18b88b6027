"""Load and fault tests (docs/security.md F1–F5), marked slow."""
