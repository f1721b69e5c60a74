"""Imports every model module so the metadata is complete (for Alembic and tests)."""

from core import accounts, audit, jobruns, places  # noqa: F401
