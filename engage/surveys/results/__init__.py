"""Survey results: pages, reports and exports, and imports of other tools' responses."""
