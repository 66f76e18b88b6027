"""Load and fault tests (SECURITY.md F1–F5), marked slow."""
