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


@pytest.mark.demo_data
def test_sealing_migration_converts_an_installation_with_data_both_ways(app):
    """An installation upgraded to 0019 has its clear personal data sealed, nothing lost."""
    from sqlalchemy import select, text

    from core.sealing import blind_index
    from incentives.models import Payout
    from volunteers.models import Application, Member

    with app.app_context():
        before = {
            "iins": sorted(db.session.scalars(select(Member.iin))),
            "phones": sorted(p or "" for p in db.session.scalars(select(Application.phone))),
            "ibans": sorted(i or "" for i in db.session.scalars(select(Payout.iban))),
        }
        db.session.remove()
        downgrade(revision="0018_retention")
        with db.engine.connect() as conn:
            clear = sorted(conn.scalars(text("SELECT iin FROM member")))
        assert clear == before["iins"]  # opened back into the clear columns
        upgrade()
        with db.engine.connect() as conn:
            stored = conn.execute(text("SELECT iin, iin_index FROM member")).all()
        assert all(s.iin.startswith("s1.") for s in stored)
        after_iins = sorted(db.session.scalars(select(Member.iin)))
        assert after_iins == before["iins"]
        assert {s.iin_index for s in stored} == {blind_index(i, "iin") for i in after_iins}
        phones = sorted(p or "" for p in db.session.scalars(select(Application.phone)))
        assert phones == before["phones"]
        assert sorted(i or "" for i in db.session.scalars(select(Payout.iban))) == before["ibans"]
        db.session.remove()
