"""The JSON API and the offline patrol app

New tables: ``api_token`` (personal and service access tokens, only the secret's SHA-256 kept)
with ``api_token_grant`` (the roles and units a token may use), ``api_idempotency`` (the first
answer to each POST sent with an Idempotency-Key, per account) and ``attendance_setting`` (how
old a check-in tapped offline may be, per jurisdiction). ``signup`` gains
``checked_in_offline`` and ``checked_out_offline`` (false for every existing row).

Downgrade drops them; tokens stop working and offline marks are lost with the columns.

Revision ID: 0026_api_and_offline
Revises: 0025_hearings_and_complaints
Create Date: 2026-12-06 19:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0026_api_and_offline"
down_revision = "0025_hearings_and_complaints"
branch_labels = None
depends_on = None

# Expand only: new tables and columns with defaults; the previous release runs on it.
COMPATIBLE_WITH_PREVIOUS = True


def upgrade():
    op.create_table(
        "api_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by_id", sa.Integer(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_api_token_expires_after_creation")
        ),
        sa.CheckConstraint(
            "revoked_at IS NULL OR revoked_by_id IS NOT NULL",
            name=op.f("ck_api_token_revoker_known"),
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"], ["user_account.id"], name=op.f("fk_api_token_created_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["revoked_by_id"], ["user_account.id"], name=op.f("fk_api_token_revoked_by_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_token_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_api_token_secret_hash")),
    )
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_user_id"), ["user_id"], unique=False)

    op.create_table(
        "api_token_grant",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["token_id"], ["api_token.id"], name=op.f("fk_api_token_grant_token_id_api_token")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["admin_unit.id"], name=op.f("fk_api_token_grant_unit_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_token_grant")),
        sa.UniqueConstraint("token_id", "role", "unit_id", name="uq_api_token_grant"),
    )
    with op.batch_alter_table("api_token_grant", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_api_token_grant_token_id"), ["token_id"], unique=False)

    op.create_table(
        "api_idempotency",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("content_type", sa.String(length=100), nullable=True),
        sa.Column("response_body", sa.Text(), nullable=True),
        sa.Column("location", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_api_idempotency_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_idempotency")),
        sa.UniqueConstraint("user_id", "key", name="uq_api_idempotency_key"),
    )
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.create_index("ix_api_idempotency_created", ["created_at"], unique=False)

    op.create_table(
        "attendance_setting",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("offline_limit_minutes", sa.Integer(), nullable=False),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "offline_limit_minutes BETWEEN 0 AND 4320",
            name=op.f("ck_attendance_setting_offline_limit"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["admin_unit.id"], name=op.f("fk_attendance_setting_unit_id_admin_unit")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_attendance_setting_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_attendance_setting")),
    )

    # Plain ALTER TABLE: a batch copy of ``signup`` fails on SQLite (rows reference it).
    for column in ("checked_in_offline", "checked_out_offline"):
        op.add_column(
            "signup",
            sa.Column(column, sa.Boolean(), server_default=sa.text("false"), nullable=False),
        )


def downgrade():
    # SQLite drops a column in place since 3.35.
    op.drop_column("signup", "checked_out_offline")
    op.drop_column("signup", "checked_in_offline")
    op.drop_table("attendance_setting")
    with op.batch_alter_table("api_idempotency", schema=None) as batch_op:
        batch_op.drop_index("ix_api_idempotency_created")
    op.drop_table("api_idempotency")
    with op.batch_alter_table("api_token_grant", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_grant_token_id"))
    op.drop_table("api_token_grant")
    with op.batch_alter_table("api_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_token_user_id"))
    op.drop_table("api_token")
