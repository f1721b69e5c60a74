"""job runs started by the schedule carry their unique slot

Revision ID: 0005_job_schedule
Revises: 0004_budget
Create Date: 2026-11-22 01:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0005_job_schedule"
down_revision = "0004_budget"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("job_run") as batch:
        batch.add_column(sa.Column("schedule_slot", sa.String(length=80), nullable=True))
        batch.create_unique_constraint(op.f("uq_job_run_schedule_slot"), ["schedule_slot"])


def downgrade():
    with op.batch_alter_table("job_run") as batch:
        batch.drop_constraint(op.f("uq_job_run_schedule_slot"), type_="unique")
        batch.drop_column("schedule_slot")
