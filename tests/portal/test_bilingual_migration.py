"""Migration 0023: single names fill both languages, numbers lose a typed "№", guards hold."""

from __future__ import annotations

import pytest
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text
from sqlalchemy.exc import DBAPIError

from portal.extensions import db

# Both databases: migrations; the demo's commission, sessions, decisions and payouts.
pytestmark = [pytest.mark.both_databases, pytest.mark.demo_data]


def test_bilingual_records_are_backfilled_from_the_single_values(app):
    with app.app_context():
        db.session.remove()
        downgrade(revision="0022_search_columns")
        with db.engine.begin() as conn:
            columns = {c["name"] for c in inspect(conn).get_columns("commission_session")}
            assert "place" in columns and "place_ru" not in columns
            conn.execute(text("UPDATE commission SET name = 'Көтермелеу комиссиясы'"))
            conn.execute(text("UPDATE commission_member SET position = 'Маман'"))
            conn.execute(text("UPDATE maslikhat_decision SET number = '№ ' || number"))
            conn.execute(text("UPDATE payout SET order_number = '№№' || order_number"))
        upgrade()
        with db.engine.connect() as conn:
            commission = conn.execute(
                text("SELECT name_kk, name_ru, body_kk, body_ru FROM commission")
            ).one()
            positions = set(
                conn.execute(text("SELECT position_kk, position_ru FROM commission_member"))
            )
            places = conn.execute(text("SELECT place_kk, place_ru FROM commission_session")).all()
            numbers = conn.scalars(text("SELECT number FROM maslikhat_decision")).all()
            orders = conn.scalars(
                text("SELECT order_number FROM payout WHERE order_number IS NOT NULL")
            ).all()
            final = conn.scalar(
                text("SELECT id FROM commission_session WHERE status = 'minutes_final'")
            )
    assert commission[:2] == ("Көтермелеу комиссиясы", "Көтермелеу комиссиясы")
    # The akimat named from its unit, in the genitive, for the administrator to correct.
    assert commission[2:] == ("Бұқар жырау ауданының әкімдігі", "Акимат Бухар-Жырауского района")
    assert positions == {("Маман", "Маман")}
    assert places and all(kk == ru and kk for kk, ru in places)
    assert "34/312" in numbers and not [n for n in numbers if "№" in n]
    assert orders and not [n for n in orders if "№" in n]
    # The final minutes' guard covers the renamed and the new place column.
    with app.app_context():
        for column in ("place_kk", "place_ru"):
            with pytest.raises(DBAPIError), db.engine.begin() as conn:
                conn.execute(
                    text(f"UPDATE commission_session SET {column} = 'x' WHERE id = :id"),
                    {"id": final},
                )
