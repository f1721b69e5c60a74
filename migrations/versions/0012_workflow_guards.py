"""Workflow guards: status CHECK constraints of the volunteer, inquiry and initiative workflows

Revision ID: 0012_workflow_guards
Revises: 0011_mfa
Create Date: 2026-12-06 05:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_workflow_guards'
down_revision = '0011_mfa'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
