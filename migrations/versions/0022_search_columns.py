"""Search columns: the search key of the names of applications, members, accounts and places

SQLite folds the case of ASCII letters only, so a search for "иванов" found no "Иванов".
``search_name`` holds the name's key made in Python (core.search_text: NFKC, casefold, ё → е,
Kazakh letters folded to their Russian look-alikes), for the record and the query alike. Every
row present is given its key here, with the same function the models use; an erased row gets
"" (nothing to find). On PostgreSQL the key has a trigram index (pg_trgm), which serves a word
beginning anywhere in it. A nullable column and indexes: the previous release runs on it, and
the rows it writes meanwhile (key NULL) are found by their name as typed (search_text.matches).

Revision ID: 0022_search_columns
Revises: 0021_schema_release
Create Date: 2026-12-06 13:10:00

"""

import sqlalchemy as sa
from alembic import op

from core.search_text import search_key

# revision identifiers, used by Alembic.
revision = "0022_search_columns"
down_revision = "0021_schema_release"
branch_labels = None
depends_on = None

COMPATIBLE_WITH_PREVIOUS = True

TABLES = ("application", "member", "user_account", "admin_unit")
BATCH = 1000


# What each table's key is made of: its person's name (nothing once erased), or a place's
# two names.
SOURCES = {
    "application": "full_name, erased_at",
    "member": "full_name, erased_at",
    "user_account": "full_name, erased_at",
    "admin_unit": "name_kk || ' ' || name_ru, NULL",
}


def _backfill(table: str) -> None:
    """Give every row of ``table`` its key, in batches by id."""
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                f"SELECT id, {SOURCES[table]} FROM {table} "  # noqa: S608
                f"WHERE id > :last ORDER BY id LIMIT {BATCH}"
            ),
            {"last": last},
        ).all()
        if not rows:
            return
        conn.execute(
            sa.text(f"UPDATE {table} SET search_name = :key WHERE id = :row_id"),  # noqa: S608
            [
                {"key": "" if erased_at is not None else search_key(name), "row_id": row_id}
                for row_id, name, erased_at in rows
            ],
        )
        last = rows[-1][0]


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        # Trigrams: a word may begin anywhere in the key (``LIKE '% word%'``), which a b-tree
        # cannot serve. A trusted extension of the standard distribution, like btree_gist (0006).
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for table in TABLES:
        op.add_column(table, sa.Column("search_name", sa.String(length=400), nullable=True))
        _backfill(table)
        op.create_index(
            f"ix_{table}_search_name",
            table,
            ["search_name"],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        )


def downgrade():
    # pg_trgm stays: an extension is the database's, and dropping it costs nothing to keep.
    sqlite = op.get_bind().dialect.name == "sqlite"
    for table in reversed(TABLES):
        op.drop_index(f"ix_{table}_search_name", table_name=table)
        if sqlite:
            # A batch copy of a table that others reference fails under foreign keys; SQLite
            # (3.35 and later) drops a column in place (as in 0020).
            op.execute(f"ALTER TABLE {table} DROP COLUMN search_name")
        else:
            op.drop_column(table, "search_name")
