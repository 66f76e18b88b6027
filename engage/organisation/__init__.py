"""Who runs this Engage: its identity, privacy notice and accessibility statement."""
