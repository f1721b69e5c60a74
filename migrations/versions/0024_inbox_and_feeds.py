"""Inbox, calendar feeds, self-entered IBAN

``notification`` becomes an inbox (``read_at``), gains an SMS channel with its own state
(``sms_*``) and an e-mail state ``no_address`` for people without an e-mail (their messages
used to be addressed to "None"). ``calendar_feed`` holds each member's secret calendar link,
hashed; ``payout_account`` the IBAN an account holder entered for reward payouts, sealed.
Existing messages keep their state; one to no address that is still pending becomes
``no_address``, so no delivery tries to mail it.

Revision ID: 0024_inbox_and_feeds
Revises: 0023_bilingual_records
Create Date: 2026-12-06 13:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0024_inbox_and_feeds"
down_revision = "0023_bilingual_records"
branch_labels = None
depends_on = None

OLD_STATUSES = "status IN ('pending', 'sent', 'failed', 'kept')"
NEW_STATUSES = "status IN ('pending', 'sent', 'failed', 'kept', 'no_address')"
SMS_STATUSES = "sms_status IS NULL OR sms_status IN ('pending', 'sent', 'failed', 'off')"


def upgrade():
    # Nothing references notification: SQLite rebuilds it without switching foreign keys off.
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.add_column(sa.Column("read_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("sms_status", sa.String(length=10), nullable=True))
        batch_op.add_column(
            sa.Column("sms_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(sa.Column("sms_id", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("sms_error", sa.Text(), nullable=True))
        batch_op.add_column(sa.Column("sms_sent_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.drop_constraint(op.f("ck_notification_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_status_known"), NEW_STATUSES)
        batch_op.create_check_constraint(op.f("ck_notification_sms_status_known"), SMS_STATUSES)
        batch_op.create_check_constraint(
            op.f("ck_notification_sms_attempts_nonneg"), "sms_attempts >= 0"
        )
        batch_op.create_index("ix_notification_inbox", ["user_id", "read_at"], unique=False)
    op.execute(
        "UPDATE notification SET status = 'no_address'"
        " WHERE status = 'pending' AND (email IS NULL OR email = '')"
    )
    op.create_table(
        "calendar_feed",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["member_id"], ["member.id"], name=op.f("fk_calendar_feed_member_id_member")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_calendar_feed")),
        sa.UniqueConstraint("member_id", name=op.f("uq_calendar_feed_member_id")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_calendar_feed_token_hash")),
    )
    op.create_table(
        "payout_account",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("iban", sa.String(length=120), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user_account.id"], name=op.f("fk_payout_account_user_id_user_account")
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_payout_account")),
    )


def downgrade():
    op.drop_table("payout_account")
    op.drop_table("calendar_feed")
    op.execute("UPDATE notification SET status = 'kept' WHERE status = 'no_address'")
    with op.batch_alter_table("notification", schema=None) as batch_op:
        batch_op.drop_index("ix_notification_inbox")
        batch_op.drop_constraint(op.f("ck_notification_sms_attempts_nonneg"), type_="check")
        batch_op.drop_constraint(op.f("ck_notification_sms_status_known"), type_="check")
        batch_op.drop_constraint(op.f("ck_notification_status_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_notification_status_known"), OLD_STATUSES)
        batch_op.drop_column("sms_sent_at")
        batch_op.drop_column("sms_error")
        batch_op.drop_column("sms_id")
        batch_op.drop_column("sms_attempts")
        batch_op.drop_column("sms_status")
        batch_op.drop_column("read_at")
