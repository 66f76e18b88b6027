"""PPI membership: the public join, confirm, manage, withdraw; staff manage members."""
