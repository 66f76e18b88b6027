"""Communication action plan: objectives, channels, actions and their deliveries."""
