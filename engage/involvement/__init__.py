"""Involvement: meetings, focus groups, reference groups and events for members."""
