"""Survey results, exports and imports of other tools' responses."""
