"""Budget integrity: guarded verification of maslikhat decisions

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


def upgrade():
    pass


def downgrade():
    pass
