"""Personal-data breach register: deadlines for the internal report and the ICO."""
