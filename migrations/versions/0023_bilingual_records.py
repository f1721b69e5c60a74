"""Bilingual records: the commission's and its akimat's names, positions and meeting places in
kk and ru; document numbers stored without the "№" sign

Every official document is wholly in one language, so what it prints is kept in both: the
commission's name (``name`` becomes ``name_kk``, with ``name_ru``), the issuing akimat as its
letterhead names it (``body_kk``/``body_ru``, new), the members' positions and the sessions'
places. The single value a record had is copied into both columns; an akimat's name is made
from its unit's names (core.bilingual.akimat_names), for the administrator to correct on the
commission's page. The final
minutes' guard (0007) is written again over the renamed and new place columns. Numbers of
akimat acts, maslikhat decisions and payment orders lose any "№" the user typed (documents
print exactly one).

Revision ID: 0023_bilingual_records
Revises: 0022_search_columns
Create Date: 2026-12-06 13:10:00

"""

import sqlalchemy as sa
from alembic import op

from core.bilingual import akimat_names
from core.doc_numbers import without_sign

# revision identifiers, used by Alembic.
revision = "0023_bilingual_records"
down_revision = "0022_search_columns"
branch_labels = None
depends_on = None

# (table, the old single column, its Kazakh name, its new Russian column)
RENAMED = (
    ("commission", "name", "name_kk", "name_ru"),
    ("commission_member", "position", "position_kk", "position_ru"),
    ("commission_session", "place", "place_kk", "place_ru"),
)
NUMBERS = (
    ("commission_session", "act_number"),
    ("maslikhat_decision", "number"),
    ("payout", "order_number"),
)


def _frozen(place: tuple[str, ...]) -> tuple[str, ...]:
    return (
        "minutes_kk",
        "minutes_ru",
        "minutes_hash",
        "minutes_final_at",
        "held_on",
        *place,
        "status",
    )


def _guard_statements(dialect: str, place: tuple[str, ...]) -> list[str]:
    """0007's guard of final minutes, over the given place columns."""
    if dialect == "postgresql":
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _frozen(place))
        return [
            """CREATE OR REPLACE FUNCTION minutes_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'commission sessions are never deleted'
              USING ERRCODE = 'check_violation';
          END IF;
          IF OLD.status = 'minutes_final' AND ("""
            + changed
            + """) THEN
            RAISE EXCEPTION 'the minutes of session % are final', OLD.id
              USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$"""
        ]
    changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _frozen(place))
    return [
        "DROP TRIGGER IF EXISTS minutes_frozen",
        "CREATE TRIGGER minutes_frozen BEFORE UPDATE ON commission_session"
        f" WHEN OLD.status = 'minutes_final' AND ({changed})"
        " BEGIN SELECT RAISE(ABORT, 'the minutes are final'); END",
    ]


def _normalise_numbers() -> None:
    conn = op.get_bind()
    for table, column in NUMBERS:
        rows = conn.execute(
            sa.text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")  # noqa: S608
        ).all()
        changes = [
            {"number": without_sign(value), "row_id": row_id}
            for row_id, value in rows
            if without_sign(value) and without_sign(value) != value
        ]
        if changes:
            conn.execute(
                sa.text(f"UPDATE {table} SET {column} = :number WHERE id = :row_id"),  # noqa: S608
                changes,
            )


def _bodies() -> None:
    """Name each commission's akimat from its unit, as a start the administrator corrects."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.text(
            "SELECT commission.id, admin_unit.name_kk, admin_unit.name_ru FROM commission"
            " JOIN admin_unit ON admin_unit.id = commission.unit_id"
        )
    ).all()
    bodies = []
    for row_id, unit_kk, unit_ru in rows:
        body_kk, body_ru = akimat_names(unit_kk, unit_ru)
        bodies.append({"kk": body_kk, "ru": body_ru, "row_id": row_id})
    if bodies:
        conn.execute(
            sa.text("UPDATE commission SET body_kk = :kk, body_ru = :ru WHERE id = :row_id"),
            bodies,
        )


def upgrade():
    dialect = op.get_bind().dialect.name
    for table, old, kk, ru in RENAMED:
        # Both databases rename a column in place (SQLite rewrites its triggers with it): no
        # copy of the table, whose rows other tables reference.
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {kk}")
        op.add_column(
            table, sa.Column(ru, sa.String(length=300), nullable=False, server_default="")
        )
        op.execute(f"UPDATE {table} SET {ru} = {kk}")  # noqa: S608
    for column in ("body_kk", "body_ru"):
        op.add_column(
            "commission",
            sa.Column(column, sa.String(length=300), nullable=False, server_default=""),
        )
    _bodies()
    for statement in _guard_statements(dialect, ("place_kk", "place_ru")):
        op.execute(statement)
    _normalise_numbers()


def downgrade():
    dialect = op.get_bind().dialect.name
    # The guard first: it must not name a column that is about to go.
    for statement in _guard_statements(dialect, ("place_kk",)):
        op.execute(statement)
    for column in ("body_ru", "body_kk"):
        op.execute(f"ALTER TABLE commission DROP COLUMN {column}")
    for table, old, kk, ru in RENAMED:
        op.execute(f"ALTER TABLE {table} DROP COLUMN {ru}")
        op.execute(f"ALTER TABLE {table} RENAME COLUMN {kk} TO {old}")
    # The numbers keep their normal form: the earlier code printed them as stored.
