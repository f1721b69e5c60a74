"""Commission rules as data, declared conflicts of interest, the annual cap as policy data

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


def upgrade():
    pass


def downgrade():
    pass
