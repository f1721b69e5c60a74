"""Dashboard: contributions by id with their kind, points and member

The deputies' dashboard sums, by contribution kind, the contributions behind a jurisdiction's
approved rewards: some 10,000 looked up by id for a region of 50,000 members. With this index
PostgreSQL reads them from the index alone (108-116 ms); without it, at the default
random_page_cost, it scanned the whole contribution table, a million rows (216-380 ms).

Revision ID: 0029_contribution_backing
Revises: 0028_member_name_index
Create Date: 2026-12-07 06:00:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0029_contribution_backing"
down_revision = "0028_member_name_index"
branch_labels = None
depends_on = None

# Expand only: an index; the previous release runs on it.
COMPATIBLE_WITH_PREVIOUS = True


def upgrade():
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.create_index(
            "ix_contribution_backing",
            ["id"],
            unique=False,
            postgresql_include=["kind", "points", "member_id"],
        )


def downgrade():
    with op.batch_alter_table("contribution", schema=None) as batch_op:
        batch_op.drop_index("ix_contribution_backing")
