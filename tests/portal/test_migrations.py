"""The schema comes only from migrations, and the migrations match the models."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from portal.extensions import db

# Both databases: migrations.
pytestmark = pytest.mark.both_databases


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), db.metadata)
    assert diff == []


def test_downgrade_to_base_and_upgrade_again(app):
    with app.app_context():
        downgrade(revision="base")
        upgrade()
        with db.engine.connect() as conn:
            names = set(db.inspect(conn).get_table_names())
    assert {"user_account", "role_grant", "admin_unit", "audit_event", "job_run"} <= names
