"""Commission rules as data, declared conflicts of interest, the annual cap as policy data

The commission gets its rules of procedure (whether the secretary votes, who stands in for an
absent chair); the reward policy the legal basis of its annual cap; a session's act and signed
scan may only sit on final minutes; only an approved agenda item holds a commitment and a
nomination is approved at most once; members' declared conflicts of interest get a table.

Revision ID: 0014_commission_rules
Revises: 0013_budget_integrity
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_commission_rules'
down_revision = '0013_budget_integrity'
branch_labels = None
depends_on = None

ACT_ON_FINAL_MINUTES = (
    "(act_number IS NULL AND act_date IS NULL) OR (status = 'minutes_final'"
    " AND act_number IS NOT NULL AND act_date IS NOT NULL)"
)
SCAN_ON_FINAL_MINUTES = "scan_file_id IS NULL OR status = 'minutes_final'"

# SQLite rebuilds a table altered in batch and drops its triggers: 0007's guards of final
# minutes are put back afterwards, as 0007 wrote them.
_FROZEN = ("minutes_kk", "minutes_ru", "minutes_hash", "minutes_final_at", "held_on", "place", "status")
SQLITE_TRIGGERS = [
    "CREATE TRIGGER minutes_frozen BEFORE UPDATE ON commission_session"
    " WHEN OLD.status = 'minutes_final' AND ("
    + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FROZEN)
    + ") BEGIN SELECT RAISE(ABORT, 'the minutes are final'); END",
    "CREATE TRIGGER commission_session_no_delete BEFORE DELETE ON commission_session"
    " BEGIN SELECT RAISE(ABORT, 'commission sessions are never deleted'); END",
]


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _restore_sqlite_triggers() -> None:
    if _sqlite():
        op.execute("DROP TRIGGER IF EXISTS minutes_frozen")
        op.execute("DROP TRIGGER IF EXISTS commission_session_no_delete")
        for statement in SQLITE_TRIGGERS:
            op.execute(statement)


def upgrade():
    with op.batch_alter_table('commission', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('secretary_votes', sa.Boolean(), nullable=False, server_default=sa.true())
        )
        batch_op.add_column(
            sa.Column(
                'chair_stand_in', sa.String(length=15), nullable=False,
                server_default='deputy_chair',
            )
        )
        batch_op.create_check_constraint(
            op.f('ck_commission_stand_in_known'), "chair_stand_in IN ('deputy_chair', 'nobody')"
        )
    with op.batch_alter_table('reward_policy', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('annual_cap_basis', sa.String(length=300), nullable=False, server_default='')
        )
    with op.batch_alter_table('commission_session', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_commission_session_act_on_final_minutes'), ACT_ON_FINAL_MINUTES
        )
        batch_op.create_check_constraint(
            op.f('ck_commission_session_scan_on_final_minutes'), SCAN_ON_FINAL_MINUTES
        )
    _restore_sqlite_triggers()
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.create_check_constraint(
            op.f('ck_agenda_item_commitment_only_approved'),
            "ledger_entry_id IS NULL OR outcome = 'approved'",
        )
        batch_op.create_index(
            'uq_agenda_item_approved_nomination',
            ['nomination_id'],
            unique=True,
            postgresql_where=sa.text("outcome = 'approved'"),
            sqlite_where=sa.text("outcome = 'approved'"),
        )
    op.create_table('conflict_declaration',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('commission_member_id', sa.Integer(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('declared_by_id', sa.Integer(), nullable=False),
    sa.Column('at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('length(reason) > 0', name=op.f('ck_conflict_declaration_has_reason')),
    sa.ForeignKeyConstraint(['commission_member_id'], ['commission_member.id'], name=op.f('fk_conflict_declaration_commission_member_id_commission_member')),
    sa.ForeignKeyConstraint(['declared_by_id'], ['user_account.id'], name=op.f('fk_conflict_declaration_declared_by_id_user_account')),
    sa.ForeignKeyConstraint(['item_id'], ['agenda_item.id'], name=op.f('fk_conflict_declaration_item_id_agenda_item')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_conflict_declaration')),
    sa.UniqueConstraint('item_id', 'commission_member_id', name='once_per_item')
    )
    with op.batch_alter_table('conflict_declaration', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_conflict_declaration_item_id'), ['item_id'], unique=False)


def downgrade():
    with op.batch_alter_table('conflict_declaration', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_conflict_declaration_item_id'))
    op.drop_table('conflict_declaration')
    with op.batch_alter_table('agenda_item', schema=None) as batch_op:
        batch_op.drop_index(
            'uq_agenda_item_approved_nomination',
            postgresql_where=sa.text("outcome = 'approved'"),
            sqlite_where=sa.text("outcome = 'approved'"),
        )
        batch_op.drop_constraint(op.f('ck_agenda_item_commitment_only_approved'), type_='check')
    with op.batch_alter_table('commission_session', schema=None) as batch_op:
        batch_op.drop_constraint(
            op.f('ck_commission_session_scan_on_final_minutes'), type_='check'
        )
        batch_op.drop_constraint(op.f('ck_commission_session_act_on_final_minutes'), type_='check')
    _restore_sqlite_triggers()
    with op.batch_alter_table('reward_policy', schema=None) as batch_op:
        batch_op.drop_column('annual_cap_basis')
    with op.batch_alter_table('commission', schema=None) as batch_op:
        batch_op.drop_constraint(op.f('ck_commission_stand_in_known'), type_='check')
        batch_op.drop_column('chair_stand_in')
        batch_op.drop_column('secretary_votes')
