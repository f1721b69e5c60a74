"""Budget integrity: guarded verification of maslikhat decisions

A maslikhat decision gets a status (entered → verified) with CHECK constraints of its legal
values and of its agreement with the verification record; existing decisions are backfilled
from ``verified_at``.

Revision ID: 0013_budget_integrity
Revises: 0012_workflow_guards
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013_budget_integrity'
down_revision = '0012_workflow_guards'
branch_labels = None
depends_on = None

VERIFICATION_RECORDED = (
    "(status = 'entered' AND verified_by_id IS NULL AND verified_at IS NULL)"
    " OR (status = 'verified' AND verified_by_id IS NOT NULL AND verified_at IS NOT NULL)"
)


def _foreign_keys(state):
    """Turn SQLite's foreign keys off while a table is rebuilt, and back on (SQLite only).

    SQLite changes a table's constraints by copying it to a new table and dropping the old
    one; with foreign keys on, the drop fails while other tables (amendment) reference its
    rows. SQLite's own procedure is to turn them off around the copy, which only takes effect
    outside a transaction; the copy keeps every id, so every reference stays valid.
    """
    bind = op.get_bind()
    if bind.dialect.name != 'sqlite':
        return
    raw = bind.connection.dbapi_connection
    was_open = raw.in_transaction
    if was_open:
        raw.execute('COMMIT')
    raw.execute(f'PRAGMA foreign_keys = {state}')
    if was_open:
        raw.execute('BEGIN IMMEDIATE')


def upgrade():
    _foreign_keys('OFF')
    with op.batch_alter_table('maslikhat_decision', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('status', sa.String(length=10), nullable=False, server_default='entered')
        )
    # A decision with a verification time has had its amendments applied: it is verified
    # (verify_decision always set the time and the verifier together).
    op.execute("UPDATE maslikhat_decision SET status = 'verified' WHERE verified_at IS NOT NULL")
    with op.batch_alter_table('maslikhat_decision', schema=None) as batch_op:
        batch_op.alter_column('status', server_default=None)
        batch_op.create_check_constraint(
            op.f('ck_maslikhat_decision_status_known'), "status IN ('entered', 'verified')"
        )
        batch_op.create_check_constraint(
            op.f('ck_maslikhat_decision_verification_recorded'), VERIFICATION_RECORDED
        )
    _foreign_keys('ON')


def downgrade():
    _foreign_keys('OFF')
    with op.batch_alter_table('maslikhat_decision', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_maslikhat_decision_verification_recorded'), type_='check'
        )
        batch_op.drop_constraint(op.f('ck_maslikhat_decision_status_known'), type_='check')
        batch_op.drop_column('status')
    _foreign_keys('ON')
