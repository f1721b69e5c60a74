"""Sign-up codes and one-time reveal tokens, both kept server-side

``signup_request`` holds a sign-up until the one-time code sent to the address is entered (the
code and the browser's token are kept hashed only; expiry and an attempt counter bound
guessing). ``reveal_token`` holds each granted reveal of a full IIN or IBAN; showing it is a
guarded ``UPDATE … WHERE used_at IS NULL``, so a replayed cookie reveals nothing more.

Revision ID: 0017_signin_codes_and_reveals
Revises: 0016_candidate_points_index
Create Date: 2026-12-08 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0017_signin_codes_and_reveals"
down_revision = "0016_candidate_points_index"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "signup_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("phone", sa.String(length=120), nullable=True),  # sealed (core.sealing)
        sa.Column("full_name", sa.String(length=200), nullable=False),
        sa.Column("preferred_language", sa.String(length=2), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "email IS NOT NULL OR phone IS NOT NULL", name=op.f("ck_signup_request_has_login")
        ),
        sa.CheckConstraint("attempts >= 0", name=op.f("ck_signup_request_attempts_nonneg")),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["admin_unit.id"], name=op.f("fk_signup_request_unit_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_signup_request")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_signup_request_token_hash")),
    )
    with op.batch_alter_table("signup_request", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_signup_request_expires_at"), ["expires_at"], unique=False
        )

    op.create_table(
        "reveal_token",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("object_type", sa.String(length=20), nullable=False),
        sa.Column("object_id", sa.Integer(), nullable=False),
        sa.Column("field", sa.String(length=10), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_reveal_token_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reveal_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_reveal_token_token_hash")),
    )
    with op.batch_alter_table("reveal_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_reveal_token_user_id"), ["user_id"], unique=False)


def downgrade():
    with op.batch_alter_table("reveal_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reveal_token_user_id"))
    op.drop_table("reveal_token")
    with op.batch_alter_table("signup_request", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_signup_request_expires_at"))
    op.drop_table("signup_request")
