"""Personal data sealed at rest: IINs, phones, e-mails and addresses of applications, IINs of
the register, account phones, TOTP secrets, payout IBANs and stored files

Each value is encrypted with AES-GCM under PORTAL_DATA_KEYS (core.sealing). What SQL compares
(an IIN for duplicates, recusal and the annual cap; a phone for sign-in) gets a blind index
column: an HMAC under PORTAL_INDEX_KEY. The rows are converted here, in batches, with the keys
the app was started with.

Revision ID: 0019_sealed_personal_data
Revises: 0018_retention
Create Date: 2026-12-06 11:00:00

"""

import contextlib

import sqlalchemy as sa
from alembic import op

from core.sealing import keyring

# revision identifiers, used by Alembic.
revision = "0019_sealed_personal_data"
down_revision = "0018_retention"
branch_labels = None
depends_on = None

BATCH = 1000
# (table, column, purpose, wider length, blind-index column or None)
TEXT_COLUMNS = (
    ("application", "iin", "iin", 120, "iin_index"),
    ("application", "phone", "phone", 120, None),
    ("application", "email", "email", 440, None),
    ("application", "address", "address", 1200, None),
    ("member", "iin", "iin", 120, "iin_index"),
    ("user_account", "phone", "phone", 120, "phone_index"),
    ("totp_factor", "secret", "totp", 140, None),
    ("payout", "iban", "iban", 120, None),
)
OLD_LENGTHS = {
    ("application", "iin"): 12,
    ("application", "phone"): 16,
    ("application", "email"): 254,
    ("application", "address"): 400,
    ("member", "iin"): 12,
    ("user_account", "phone"): 16,
    ("totp_factor", "secret"): 64,
    ("payout", "iban"): 34,
}
KEYS = {"totp_factor": "user_id"}


@contextlib.contextmanager
def _batch(table: str):
    """``batch_alter_table``, keeping the table's triggers: SQLite's copy-and-move drops them
    with the old table (the workflow guards and the payouts' legal order live in triggers)."""
    conn = op.get_bind()
    triggers = []
    sqlite = conn.dialect.name == "sqlite"
    if sqlite:
        # As in 0013: SQLite rebuilds the table by copying it and dropping the old one, which
        # fails while other tables reference its rows; its own procedure is to turn foreign
        # keys off around the copy (only possible outside a transaction). Ids are kept.
        _foreign_keys(conn, "OFF")
        triggers = (
            conn.execute(
                sa.text("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"),
                {"t": table},
            )
            .scalars()
            .all()
        )
    with op.batch_alter_table(table) as batch:
        yield batch
    for sql in triggers:
        name = sql.split()[2]
        conn.execute(sa.text(f"DROP TRIGGER IF EXISTS {name}"))
        conn.execute(sa.text(sql))
    if sqlite:
        _foreign_keys(conn, "ON")


def _foreign_keys(conn, state: str) -> None:
    raw = conn.connection.dbapi_connection
    was_open = raw.in_transaction
    if was_open:
        raw.execute("COMMIT")
    raw.execute(f"PRAGMA foreign_keys = {state}")
    if was_open:
        raw.execute("BEGIN IMMEDIATE")


def _convert(table: str, column: str, change) -> None:
    """Rewrite every non-NULL value of ``table.column`` (and its index) in batches."""
    conn = op.get_bind()
    key = KEYS.get(table, "id")
    last = None
    while True:
        query = f"SELECT {key}, {column} FROM {table} WHERE {column} IS NOT NULL"  # noqa: S608
        params = {}
        if last is not None:
            query += f" AND {key} > :last"
            params["last"] = last
        rows = conn.execute(sa.text(f"{query} ORDER BY {key} LIMIT {BATCH}"), params).all()
        if not rows:
            return
        for row_id, value in rows:
            sets = change(value)
            assignments = ", ".join(f"{name} = :{name}" for name in sets)
            conn.execute(
                sa.text(f"UPDATE {table} SET {assignments} WHERE {key} = :row_id"),  # noqa: S608
                {**sets, "row_id": row_id},
            )
        last = rows[-1][0]


def _convert_files(change) -> None:
    conn = op.get_bind()
    last = 0
    while True:
        rows = conn.execute(
            sa.text("SELECT id, content FROM stored_file WHERE id > :last ORDER BY id LIMIT 100"),
            {"last": last},
        ).all()
        if not rows:
            return
        for row_id, content in rows:
            conn.execute(
                sa.text("UPDATE stored_file SET content = :content WHERE id = :row_id"),
                {"content": change(bytes(content)), "row_id": row_id},
            )
        last = rows[-1][0]


def upgrade():
    ring = keyring()
    for table, column, _purpose, length, index in TEXT_COLUMNS:
        with _batch(table) as batch:
            if (table, column) == ("application", "iin"):
                batch.drop_constraint(op.f("ck_application_iin_twelve"), type_="check")
            batch.alter_column(column, type_=sa.String(length=length))
            if index:
                batch.add_column(sa.Column(index, sa.String(length=64), nullable=True))
    for table, column, purpose, _length, index in TEXT_COLUMNS:

        def seal(value, purpose=purpose, column=column, index=index):
            sets = {column: ring.seal(value, purpose)}
            if index:
                sets[index] = ring.blind(value, purpose)
            return sets

        _convert(table, column, seal)
    _convert_files(lambda content: ring.seal(content, "file").encode("ascii"))

    with _batch("application") as batch:
        batch.drop_index("uq_application_live_iin_kind")
        batch.drop_index("ix_application_iin")
        batch.create_check_constraint("iin_index_length", "length(iin_index) = 64")
        batch.alter_column("iin_index", nullable=False)
        batch.create_index("ix_application_iin_index", ["iin_index"], unique=False)
        batch.create_index(
            "uq_application_live_iin_kind",
            ["iin_index", "kind"],
            unique=True,
            postgresql_where=sa.text("live"),
            sqlite_where=sa.text("live"),
        )
    with _batch("member") as batch:
        batch.drop_index("ix_member_iin")
        batch.alter_column("iin_index", nullable=False)
        batch.create_index("ix_member_iin_index", ["iin_index"], unique=False)
    with _batch("user_account") as batch:
        batch.drop_constraint("uq_user_account_phone", type_="unique")
        batch.create_unique_constraint("uq_user_account_phone_index", ["phone_index"])


def downgrade():
    ring = keyring()
    with _batch("user_account") as batch:
        batch.drop_constraint("uq_user_account_phone_index", type_="unique")
    with _batch("member") as batch:
        batch.drop_index("ix_member_iin_index")
    with _batch("application") as batch:
        batch.drop_index("uq_application_live_iin_kind")
        batch.drop_index("ix_application_iin_index")
        batch.drop_constraint(op.f("ck_application_iin_index_length"), type_="check")
    for table, column, purpose, _length, _index in TEXT_COLUMNS:
        _convert(
            table,
            column,
            lambda value, purpose=purpose, column=column: {column: ring.open(value, purpose)},
        )
    _convert_files(lambda content: ring.open_bytes(content.decode("ascii"), "file"))
    for table, column, _purpose, _length, index in TEXT_COLUMNS:
        with _batch(table) as batch:
            if index:
                batch.drop_column(index)
            batch.alter_column(column, type_=sa.String(length=OLD_LENGTHS[(table, column)]))
    with _batch("application") as batch:
        batch.create_check_constraint("iin_twelve", "length(iin) = 12")
        batch.create_index("ix_application_iin", ["iin"], unique=False)
        batch.create_index(
            "uq_application_live_iin_kind",
            ["iin", "kind"],
            unique=True,
            postgresql_where=sa.text("live"),
            sqlite_where=sa.text("live"),
        )
    with _batch("member") as batch:
        batch.create_index("ix_member_iin", ["iin"], unique=False)
    with _batch("user_account") as batch:
        batch.create_unique_constraint("uq_user_account_phone", ["phone"])
