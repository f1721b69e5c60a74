"""Schema release: which code may serve this schema, for rolling upgrades

``schema_release`` lists the migration heads whose code may run on the database as it is: the
current revision and, behind it, those reached through expand-only migrations (see
``portal/releases.py``). ``migrations/env.py`` rewrites it after every upgrade and downgrade;
``/readyz`` of a process one release behind reads it. A new table: the previous release never
sees it, so this migration is itself an expand step.

Revision ID: 0021_schema_release
Revises: 0020_password_resets
Create Date: 2026-12-06 11:45:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0021_schema_release"
down_revision = "0020_password_resets"
branch_labels = None
depends_on = None

COMPATIBLE_WITH_PREVIOUS = True


def upgrade():
    op.create_table(
        "schema_release",
        sa.Column("revision", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("revision", name=op.f("pk_schema_release")),
    )


def downgrade():
    op.drop_table("schema_release")
