"""Staff accounts: users, roles, passwords, sessions and set-password links."""
