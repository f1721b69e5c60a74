"""Payouts: gross, tax withheld and net; tax rates per reward form

Revision ID: 0015_payout_gross_net
Revises: 0014_commission_rules
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0015_payout_gross_net'
down_revision = '0014_commission_rules'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
