"""Shared kernel: database base, errors, jurisdictions, accounts, audit chain (no Flask)."""
