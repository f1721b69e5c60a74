"""Retention of personal data: the rules per kind of closed record and the erasure marks

``retention_rule`` holds, per kind of closed record (consent withdrawn, application refused or
withdrawn, membership expelled, withdrawn or expired), the months its personal data are kept,
the legal basis and the action (erase or anonymise), seeded with the portal's defaults (every
period is [I]: domain.md sources none). ``erased_at`` marks the applications, register
entries and accounts whose personal fields the nightly retention job has treated; a partial
index holds the closed applications it still has to look at.

Revision ID: 0018_retention
Revises: 0017_signin_codes_and_reveals
Create Date: 2026-12-08 10:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0018_retention"
down_revision = "0017_signin_codes_and_reveals"
branch_labels = None
depends_on = None

KINDS = (
    "consent_withdrawn",
    "application_refused",
    "application_withdrawn",
    "member_expelled",
    "member_withdrawn",
    "member_expired",
)
PENDING = "erased_at IS NULL AND NOT live"
LAW = (
    "Закон РК от 21 мая 2013 года № 94-V «О персональных данных и их защите»: данные хранятся "
    "не дольше, чем требует цель обработки."
)
# The defaults as of this revision (volunteers.retention.DEFAULTS may move on; this stays).
DEFAULTS = (
    (
        "consent_withdrawn",
        1,
        "erase",
        LAW + " Согласие отозвано: обработка прекращается. Срок 1 месяц — по умолчанию "
        "портала, проверить.",
    ),
    (
        "application_refused",
        12,
        "anonymise",
        LAW + " Отказ может быть обжалован (АППК РК): 12 месяцев — по умолчанию портала, "
        "проверить.",
    ),
    (
        "application_withdrawn",
        6,
        "erase",
        LAW + " Заявление отозвано заявителем: 6 месяцев — по умолчанию портала, проверить.",
    ),
    (
        "member_expelled",
        36,
        "anonymise",
        LAW + " Исключение из реестра может быть обжаловано и учитывается при повторном "
        "заявлении: 36 месяцев — по умолчанию портала, проверить.",
    ),
    (
        "member_withdrawn",
        12,
        "anonymise",
        LAW + " Выход из реестра: 12 месяцев — по умолчанию портала, проверить.",
    ),
    (
        "member_expired",
        36,
        "anonymise",
        LAW + " Истёк срок удостоверения: 36 месяцев — по умолчанию портала, проверить.",
    ),
)


def upgrade():
    rule = op.create_table(
        "retention_rule",
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("months", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=10), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_by_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(f"kind IN {KINDS!r}", name=op.f("ck_retention_rule_kind_known")),
        sa.CheckConstraint(
            "action IN ('erase', 'anonymise')", name=op.f("ck_retention_rule_action_known")
        ),
        sa.CheckConstraint(
            "months BETWEEN 0 AND 1200", name=op.f("ck_retention_rule_months_in_range")
        ),
        sa.CheckConstraint(
            "length(legal_basis) > 0", name=op.f("ck_retention_rule_has_legal_basis")
        ),
        sa.ForeignKeyConstraint(
            ["updated_by_id"],
            ["user_account.id"],
            name=op.f("fk_retention_rule_updated_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("kind", name=op.f("pk_retention_rule")),
    )
    op.bulk_insert(
        rule,
        [
            {"kind": kind, "months": months, "action": action, "legal_basis": basis}
            for kind, months, action, basis in DEFAULTS
        ],
    )
    with op.batch_alter_table("application", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
        batch_op.create_index(
            "ix_application_retention_pending",
            ["id"],
            unique=False,
            postgresql_where=sa.text(PENDING),
            sqlite_where=sa.text(PENDING),
        )
    with op.batch_alter_table("member", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))


def _drop_erased_at(table: str) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # A batch copy of a table that others reference fails under foreign keys; SQLite
        # (3.35 and later) drops a column in place.
        op.execute(f"ALTER TABLE {table} DROP COLUMN erased_at")
    else:
        op.drop_column(table, "erased_at")


def downgrade():
    op.drop_index(
        "ix_application_retention_pending",
        table_name="application",
        postgresql_where=sa.text(PENDING),
        sqlite_where=sa.text(PENDING),
    )
    for table in ("user_account", "member", "application"):
        _drop_erased_at(table)
    op.drop_table("retention_rule")
