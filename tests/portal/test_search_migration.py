"""Migration 0022 gives the rows already there their search keys, and takes the columns back."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from portal.extensions import db

# Both databases: migrations.
pytestmark = pytest.mark.both_databases


def test_search_columns_are_backfilled_for_rows_written_before(app):
    with app.app_context():
        db.session.remove()
        downgrade(revision="0021_schema_release")
        with db.engine.begin() as conn:
            assert "search_name" not in {c["name"] for c in inspect(conn).get_columns("member")}
            conn.execute(
                text("UPDATE user_account SET full_name = :name WHERE email = :email"),
                {"name": "ӘБІЛҚАСЫМОВА Гүлмира", "email": "volunteer@demo.kz"},
            )
            conn.execute(
                text("UPDATE user_account SET erased_at = CURRENT_TIMESTAMP WHERE email = :e"),
                {"e": "member@demo.kz"},
            )
        upgrade()
        with db.engine.connect() as conn:
            keys = dict(conn.execute(text("SELECT email, search_name FROM user_account")).all())
            place = conn.scalar(text("SELECT search_name FROM admin_unit WHERE kato = '111000000'"))
    assert keys["volunteer@demo.kz"] == "абилкасымова гулмира"
    assert keys["coordinator@demo.kz"] == "ерлан жумабеков"
    assert keys["member@demo.kz"] == ""  # erased: nothing to find it by
    assert None not in keys.values()
    assert "кокшетау" in place.split()  # Көкшетау / Кокшетау, the two names' key
