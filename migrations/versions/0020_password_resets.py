"""Password resets: one-time codes by e-mail, and accounts that must choose a new password

``password_reset_request`` holds a reset until its code is entered (code and browser token kept
hashed only, with expiry and an attempt counter, like ``signup_request``); ``user_account``
gains ``must_reset``, set by an administrator's forced reset or by the break-glass command.
The column has a server default, so the previous release keeps inserting accounts.

Revision ID: 0020_password_resets
Revises: 0019_sealed_personal_data
Create Date: 2026-12-06 11:40:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0020_password_resets"
down_revision = "0019_sealed_personal_data"
# Expand only (a column with a default, a new table): the previous release runs on it.
COMPATIBLE_WITH_PREVIOUS = True
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "user_account",
        sa.Column("must_reset", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.create_table(
        "password_reset_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_password_reset_request_attempts_nonneg")),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user_account.id"],
            name=op.f("fk_password_reset_request_user_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_password_reset_request")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_password_reset_request_token_hash")),
    )
    with op.batch_alter_table("password_reset_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_password_reset_request_expires_at"), ["expires_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_password_reset_request_user_id"), ["user_id"], unique=False
        )


def downgrade():
    with op.batch_alter_table("password_reset_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_password_reset_request_user_id"))
        batch_op.drop_index(batch_op.f("ix_password_reset_request_expires_at"))
    op.drop_table("password_reset_request")
    if op.get_bind().dialect.name == "sqlite":
        # A batch copy of a table that others reference fails under foreign keys; SQLite
        # (3.35 and later) drops a column in place.
        op.execute("ALTER TABLE user_account DROP COLUMN must_reset")
    else:
        op.drop_column("user_account", "must_reset")
