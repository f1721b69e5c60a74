"""Payouts: gross, tax withheld and net; tax rates per reward form

A payout records the gross amount that leaves the line (``amount_tiyn`` renamed), the tax
withheld from it and the net paid, with a CHECK that gross = withheld + net; existing payouts
had nothing withheld. Tax rates per jurisdiction, reward form and date get a table. A payout
keeps its form's idempotency key and the fingerprint of what the form asked for. A trigger
refuses a payment, a hand-over or a failure recorded before final minutes and the act.

Revision ID: 0015_payout_gross_net
Revises: 0014_commission_rules
Create Date: 2026-12-06 05:30:00

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "0015_payout_gross_net"
down_revision = "0014_commission_rules"
branch_labels = None
depends_on = None

GROSS_IS_WITHHELD_PLUS_NET = (
    "withheld_tiyn >= 0 AND net_tiyn >= 0 AND gross_tiyn = withheld_tiyn + net_tiyn"
)
LIVE_ITEM = "status IN ('pending', 'paid', 'handed_over', 'voided')"

# The legal order of a reward, kept by the database whatever writes the row (the domain checks
# it first, to say what comes first): money or evidence of a payment only for an item whose
# session has final minutes and a recorded akimat act. A void needs neither: the commission's
# decision may be given up before the act is signed. The check reads the session in the same
# statement as the INSERT; final minutes never change (0007) and an act only sits on final
# minutes (0014), so no later write can make a recorded payout illegal.
_ORDER_KEPT = (
    "EXISTS (SELECT 1 FROM agenda_item i JOIN commission_session s ON s.id = i.session_id"
    " WHERE i.id = NEW.item_id AND s.status = 'minutes_final' AND s.act_number IS NOT NULL)"
)
_NEEDS_ORDER = "NEW.status IN ('paid', 'handed_over', 'failed')"
TRIGGERS = {
    "postgresql": [
        f"""CREATE FUNCTION payout_legal_order() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
          IF {_NEEDS_ORDER} AND NOT {_ORDER_KEPT} THEN
            RAISE EXCEPTION 'payout of item % before final minutes and the akimat act',
              NEW.item_id USING ERRCODE = 'check_violation';
          END IF;
          RETURN NEW;
        END $$""",
        "CREATE TRIGGER payout_legal_order BEFORE INSERT OR UPDATE OF status, item_id ON payout"
        " FOR EACH ROW EXECUTE FUNCTION payout_legal_order()",
    ],
    "sqlite": [
        "CREATE TRIGGER payout_legal_order BEFORE INSERT ON payout"
        f" WHEN {_NEEDS_ORDER} AND NOT {_ORDER_KEPT}"
        " BEGIN SELECT RAISE(ABORT, 'payout before final minutes and the akimat act'); END",
        "CREATE TRIGGER payout_legal_order_update BEFORE UPDATE OF status, item_id ON payout"
        f" WHEN {_NEEDS_ORDER} AND NOT {_ORDER_KEPT}"
        " BEGIN SELECT RAISE(ABORT, 'payout before final minutes and the akimat act'); END",
    ],
}


def _drop_triggers():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS payout_legal_order ON payout")
        op.execute("DROP FUNCTION IF EXISTS payout_legal_order()")
    else:
        op.execute("DROP TRIGGER IF EXISTS payout_legal_order")
        op.execute("DROP TRIGGER IF EXISTS payout_legal_order_update")


def upgrade():
    op.create_table(
        "payout_tax_rate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("form", sa.String(length=14), nullable=False),
        sa.Column("effective_from", sa.Date(), nullable=False),
        sa.Column("rate_bp", sa.Integer(), nullable=False),
        sa.Column("exempt_tiyn", sa.BigInteger(), nullable=False),
        sa.Column("legal_basis", sa.Text(), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "form IN ('valuable_gift', 'cash')", name=op.f("ck_payout_tax_rate_form_known")
        ),
        sa.CheckConstraint(
            "rate_bp >= 0 AND rate_bp <= 10000", name=op.f("ck_payout_tax_rate_rate_in_range")
        ),
        sa.CheckConstraint("exempt_tiyn >= 0", name=op.f("ck_payout_tax_rate_exempt_nonneg")),
        sa.CheckConstraint(
            "length(legal_basis) > 0", name=op.f("ck_payout_tax_rate_has_legal_basis")
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["user_account.id"],
            name=op.f("fk_payout_tax_rate_entered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["admin_unit.id"], name=op.f("fk_payout_tax_rate_unit_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payout_tax_rate")),
        sa.UniqueConstraint("unit_id", "form", "effective_from", name="once_per_day"),
    )
    with op.batch_alter_table("payout_tax_rate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_payout_tax_rate_unit_id"), ["unit_id"], unique=False)

    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_payout_amount_nonneg"), type_="check")
        batch_op.alter_column(
            "amount_tiyn", new_column_name="gross_tiyn", existing_type=sa.BigInteger()
        )
        batch_op.add_column(
            sa.Column("withheld_tiyn", sa.BigInteger(), nullable=False, server_default="0")
        )
        batch_op.add_column(sa.Column("net_tiyn", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("tax_rate_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("idempotency_key", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("request_hash", sa.String(length=64), nullable=True))
    # Nothing was withheld before: every existing payout's net is its gross.
    op.execute("UPDATE payout SET net_tiyn = gross_tiyn")
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.alter_column("withheld_tiyn", server_default=None, existing_type=sa.BigInteger())
        batch_op.alter_column("net_tiyn", nullable=False, existing_type=sa.BigInteger())
        batch_op.create_check_constraint(
            op.f("ck_payout_gross_is_withheld_plus_net"), GROSS_IS_WITHHELD_PLUS_NET
        )
        batch_op.create_unique_constraint(
            batch_op.f("uq_payout_idempotency_key"), ["idempotency_key"]
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_payout_tax_rate_id_payout_tax_rate"),
            "payout_tax_rate",
            ["tax_rate_id"],
            ["id"],
        )
        # A table SQLite rebuilds keeps its partial unique index only if it is named again.
        batch_op.drop_index(
            "uq_payout_live_item",
            postgresql_where=sa.text(LIVE_ITEM),
            sqlite_where=sa.text(LIVE_ITEM),
        )
        batch_op.create_index(
            "uq_payout_live_item",
            ["item_id"],
            unique=True,
            postgresql_where=sa.text(LIVE_ITEM),
            sqlite_where=sa.text(LIVE_ITEM),
        )
    # After the rebuild: SQLite drops a rebuilt table's triggers.
    for statement in TRIGGERS[op.get_bind().dialect.name]:
        op.execute(statement)


def downgrade():
    _drop_triggers()
    with op.batch_alter_table("payout", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_payout_tax_rate_id_payout_tax_rate"), type_="foreignkey"
        )
        batch_op.drop_constraint(batch_op.f("uq_payout_idempotency_key"), type_="unique")
        batch_op.drop_constraint(op.f("ck_payout_gross_is_withheld_plus_net"), type_="check")
        batch_op.drop_column("request_hash")
        batch_op.drop_column("idempotency_key")
        batch_op.drop_column("tax_rate_id")
        batch_op.drop_column("net_tiyn")
        batch_op.drop_column("withheld_tiyn")
        batch_op.alter_column(
            "gross_tiyn", new_column_name="amount_tiyn", existing_type=sa.BigInteger()
        )
        batch_op.create_check_constraint(op.f("ck_payout_amount_nonneg"), "amount_tiyn >= 0")
        batch_op.drop_index(
            "uq_payout_live_item",
            postgresql_where=sa.text(LIVE_ITEM),
            sqlite_where=sa.text(LIVE_ITEM),
        )
        batch_op.create_index(
            "uq_payout_live_item",
            ["item_id"],
            unique=True,
            postgresql_where=sa.text(LIVE_ITEM),
            sqlite_where=sa.text(LIVE_ITEM),
        )
    with op.batch_alter_table("payout_tax_rate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_payout_tax_rate_unit_id"))
    op.drop_table("payout_tax_rate")
