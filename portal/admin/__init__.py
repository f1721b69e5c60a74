"""Administration: users, role grants per jurisdiction, the audit chain."""
