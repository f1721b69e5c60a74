"""Workflow guards: constraints of the volunteer, inquiry and sober-settlement workflows

Every status column already carries the CHECK of its legal values; this adds those of the
status histories (member and sober declaration) and the legal order of an application as
constraints: a petition or a registration only after a passed police check, a refusal only
by the check, and a refused or withdrawn application no longer live; a decided initiative
names its decision time.

On SQLite a CHECK can only be added by copying the table; ``application`` and
``sober_initiative`` are referenced by other tables' foreign keys, so dropping the old copy
fails once they hold rows: there the same conditions are enforced by triggers.

Revision ID: 0012_workflow_guards
Revises: 0011_mfa
Create Date: 2026-12-06 05:30:00

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "0012_workflow_guards"
down_revision = "0011_mfa"
branch_labels = None
depends_on = None

MEMBER_STATUSES = "('active', 'suspended', 'expelled', 'withdrawn', 'expired')"
DECLARATION_STATUSES = "('declared', 'confirmed', 'revoked')"

# {r} is the row: "" in a CHECK, "NEW." in a trigger. NULLs are coalesced: a CHECK passes
# when its condition is unknown, and a missing outcome must not pass for a passed check.
CHECKS = {
    "application": {
        "passed_before_petition": (
            "{r}status NOT IN ('petitioned', 'registered')"
            " OR coalesce({r}check_outcome, '') = 'passed'"
        ),
        "refused_by_check": "{r}status <> 'refused' OR coalesce({r}check_outcome, '') = 'refused'",
        "closed_not_live": "{r}status NOT IN ('refused', 'withdrawn') OR NOT {r}live",
    },
    "member_status_change": {
        "to_status_known": f"{{r}}to_status IN {MEMBER_STATUSES}",
        "from_status_known": f"{{r}}from_status IS NULL OR {{r}}from_status IN {MEMBER_STATUSES}",
    },
    "sober_status_change": {
        "from_status_known": (
            f"{{r}}from_status IS NULL OR {{r}}from_status IN {DECLARATION_STATUSES}"
        ),
    },
    "sober_initiative": {
        "decided_known": (
            "{r}status NOT IN ('supported', 'declined') OR {r}decided_at IS NOT NULL"
        ),
    },
}
# SQLite: tables other tables reference get triggers instead of a copied table.
SQLITE_TRIGGERS = ("application", "sober_initiative")


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _trigger_sql(table: str) -> list[str]:
    conditions = " AND ".join(f"({c.format(r='NEW.')})" for c in CHECKS[table].values())
    message = f"{table}: a workflow constraint (migration 0012) refused the row"
    return [
        f"CREATE TRIGGER {table}_workflow_guard{suffix} BEFORE {event} ON {table}"
        f" WHEN NOT ({conditions}) BEGIN SELECT RAISE(ABORT, '{message}'); END"
        for suffix, event in (("", "INSERT"), ("_update", "UPDATE"))
    ]


def upgrade():
    for table, checks in CHECKS.items():
        if _sqlite() and table in SQLITE_TRIGGERS:
            for statement in _trigger_sql(table):
                op.execute(statement)
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name, condition in checks.items():
                batch_op.create_check_constraint(op.f(f"ck_{table}_{name}"), condition.format(r=""))


def downgrade():
    for table, checks in reversed(CHECKS.items()):
        if _sqlite() and table in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_workflow_guard")
            op.execute(f"DROP TRIGGER IF EXISTS {table}_workflow_guard_update")
            continue
        with op.batch_alter_table(table, schema=None) as batch_op:
            for name in reversed(checks):
                batch_op.drop_constraint(op.f(f"ck_{table}_{name}"), type_="check")
