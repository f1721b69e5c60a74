"""Hearings and complaints (APPK Arts. 73-101)

New tables: ``legal_ground`` (the grounds an act rests on, data the akimat edits),
``appeal_setting`` (the body reviewing complaints per jurisdiction), ``appeal_counter`` (numbers
of complaints and acts per year), ``hearing`` with its ``hearing_objection`` and
``hearing_protocol``, ``complaint`` with its ``complaint_attachment``. ``application`` gains
``refused_by`` ('police' or 'akimat'): the akimat may now refuse to register after a hearing,
so a refusal is legal when the check refused it or the akimat did (existing refusals are the
police's). ``role_grant`` accepts the new role ``reviewer``. The persons' free texts (grounds
text, objections, protocols and remarks, the complaint's texts) are sealed (core.sealing): wide
strings. An adopted act keeps what it said about appealing (``appeal_notice_given``, the review
body's names and how); a paper notice's receipt is recorded (``delivered_on``).

Downgrade: the previous schema knows only the police's refusals and no reviewer, so the
akimat's refusals are kept as refused with the check's outcome "refused", and reviewer grants
are deleted.

Revision ID: 0025_hearings_and_complaints
Revises: 0024_inbox_and_feeds
Create Date: 2026-12-06 16:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0025_hearings_and_complaints"
down_revision = "0024_inbox_and_feeds"
branch_labels = None
depends_on = None

# Expand only: new tables, a nullable column and wider CHECKs; the previous release runs on it.
COMPATIBLE_WITH_PREVIOUS = True

ACT_KINDS = (
    "('refuse_registration', 'suspend', 'expel', 'refuse_reward', 'defer_reward',"
    " 'decline_initiative')"
)
OUTCOMES = (
    "('cancel', 'cancel_new_act', 'perform_action', 'unsatisfied', 'returned', 'unconsidered')"
)
OLD_ROLES = (
    "'volunteer', 'coordinator', 'registrar', 'secretary', 'member', 'chair', 'finance',"
    " 'deputy', 'admin'"
)
NEW_ROLES = (
    "'volunteer', 'coordinator', 'registrar', 'secretary', 'member', 'chair', 'finance',"
    " 'deputy', 'reviewer', 'admin'"
)
# The application's workflow guards (migration 0012), before and after; {r} is the row.
PASSED = (
    "{r}status NOT IN ('petitioned', 'registered') OR coalesce({r}check_outcome, '') = 'passed'"
)
CLOSED = "{r}status NOT IN ('refused', 'withdrawn') OR NOT {r}live"
OLD_REFUSED = "{r}status <> 'refused' OR coalesce({r}check_outcome, '') = 'refused'"
NEW_REFUSED = OLD_REFUSED + " OR coalesce({r}refused_by, '') = 'akimat'"
REFUSERS = "{r}refused_by IS NULL OR {r}refused_by IN ('police', 'akimat')"


def _sqlite() -> bool:
    return op.get_bind().dialect.name == "sqlite"


def _application_triggers(conditions: list[str]) -> None:
    """SQLite: replace the application's guard triggers (0012) with ``conditions``."""
    condition = " AND ".join(f"({c.format(r='NEW.')})" for c in conditions)
    message = "application: a workflow constraint (migration 0012) refused the row"
    for suffix, event in (("", "INSERT"), ("_update", "UPDATE")):
        op.execute(f"DROP TRIGGER IF EXISTS application_workflow_guard{suffix}")
        op.execute(
            f"CREATE TRIGGER application_workflow_guard{suffix} BEFORE {event} ON application"
            f" WHEN NOT ({condition}) BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def _role_check(values: str) -> None:
    with op.batch_alter_table("role_grant", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_role_grant_role_known"), type_="check")
        batch_op.create_check_constraint(op.f("ck_role_grant_role_known"), f"role IN ({values})")


def upgrade():
    op.create_table(
        "appeal_counter",
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('complaint', 'act')", name=op.f("ck_appeal_counter_kind_known")
        ),
        sa.CheckConstraint("last >= 0", name=op.f("ck_appeal_counter_last_nonneg")),
        sa.PrimaryKeyConstraint("kind", "year", name="pk_appeal_counter"),
    )
    op.create_table(
        "legal_ground",
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("act_kind", sa.String(length=30), nullable=False),
        sa.Column("article", sa.String(length=300), nullable=False),
        sa.Column("text_kk", sa.Text(), nullable=False),
        sa.Column("text_ru", sa.Text(), nullable=False),
        sa.Column("text_en", sa.Text(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            f"act_kind IN {ACT_KINDS}",
            name=op.f("ck_legal_ground_act_kind_known"),
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_legal_ground")),
    )
    with op.batch_alter_table("legal_ground", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_legal_ground_act_kind"), ["act_kind"], unique=False)

    op.create_table(
        "appeal_setting",
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("review_unit_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("body_kk", sa.String(length=300), nullable=False),
        sa.Column("body_ru", sa.String(length=300), nullable=False),
        sa.Column("how_kk", sa.Text(), nullable=False),
        sa.Column("how_ru", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "review_unit_id IS NOT NULL OR reviewer_id IS NOT NULL",
            name=op.f("ck_appeal_setting_has_reviewer"),
        ),
        sa.ForeignKeyConstraint(
            ["review_unit_id"],
            ["admin_unit.id"],
            name=op.f("fk_appeal_setting_review_unit_id_admin_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["user_account.id"],
            name=op.f("fk_appeal_setting_reviewer_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["admin_unit.id"], name=op.f("fk_appeal_setting_unit_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("unit_id", name=op.f("pk_appeal_setting")),
    )
    op.create_table(
        "hearing",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("act_kind", sa.String(length=30), nullable=False),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("sitting_id", sa.Integer(), nullable=True),
        sa.Column("person_key", sa.String(length=64), nullable=True),
        sa.Column("person_user_id", sa.Integer(), nullable=True),
        sa.Column("person_name", sa.String(length=300), nullable=False),
        sa.Column("grounds", sa.JSON(), nullable=False),
        sa.Column("grounds_text", sa.String(length=21400), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("drafted_by_id", sa.Integer(), nullable=False),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("delivered_on", sa.Date(), nullable=True),
        sa.Column("delivery_way", sa.String(length=20), nullable=True),
        sa.Column("objection_due_on", sa.Date(), nullable=True),
        sa.Column("earliest_act_on", sa.Date(), nullable=True),
        sa.Column("oral_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("exception_kind", sa.String(length=20), nullable=True),
        sa.Column("exception_reason", sa.Text(), nullable=True),
        sa.Column("act_number", sa.String(length=60), nullable=True),
        sa.Column("act_on", sa.Date(), nullable=True),
        sa.Column("act_reasons", sa.Text(), nullable=True),
        sa.Column("adopted_by_id", sa.Integer(), nullable=True),
        sa.Column("adopted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("execution_exception", sa.Text(), nullable=True),
        sa.Column("withdrawn_reason", sa.Text(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appeal_notice_given", sa.Boolean(), nullable=True),
        sa.Column("act_received_on", sa.Date(), nullable=True),
        sa.Column("review_body_kk", sa.String(length=300), nullable=True),
        sa.Column("review_body_ru", sa.String(length=300), nullable=True),
        sa.Column("review_how_kk", sa.Text(), nullable=True),
        sa.Column("review_how_ru", sa.Text(), nullable=True),
        sa.Column("stated_reasons", sa.Text(), nullable=True),
        sa.CheckConstraint(
            f"act_kind IN {ACT_KINDS}",
            name=op.f("ck_hearing_act_kind_known"),
        ),
        sa.CheckConstraint(
            "delivery_way IS NULL OR delivery_way IN ('by_hand', 'post', 'courier', 'in_office')",
            name=op.f("ck_hearing_delivery_way_known"),
        ),
        sa.CheckConstraint(
            "exception_kind IS NULL OR exception_kind IN ('person_waived', 'urgency',"
            " 'short_term')",
            name=op.f("ck_hearing_exception_kind_known"),
        ),
        sa.CheckConstraint(
            "exception_kind IS NULL OR length(coalesce(exception_reason, '')) > 0",
            name=op.f("ck_hearing_exception_has_reason"),
        ),
        sa.CheckConstraint(
            "status <> 'adopted' OR (act_number IS NOT NULL AND adopted_at IS NOT NULL"
            " AND length(coalesce(act_reasons, '')) > 0)",
            name=op.f("ck_hearing_adopted_complete"),
        ),
        sa.CheckConstraint(
            "status <> 'withdrawn' OR length(coalesce(withdrawn_reason, '')) > 0",
            name=op.f("ck_hearing_withdrawn_has_reason"),
        ),
        sa.CheckConstraint(
            "status IN ('drafted', 'notified', 'heard', 'adopted', 'withdrawn')",
            name=op.f("ck_hearing_status_known"),
        ),
        sa.CheckConstraint(
            "subject_type IN ('application', 'member', 'nomination', 'sober_initiative')",
            name=op.f("ck_hearing_subject_type_known"),
        ),
        sa.ForeignKeyConstraint(
            ["adopted_by_id"],
            ["user_account.id"],
            name=op.f("fk_hearing_adopted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["drafted_by_id"],
            ["user_account.id"],
            name=op.f("fk_hearing_drafted_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["person_user_id"],
            ["user_account.id"],
            name=op.f("fk_hearing_person_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["sitting_id"],
            ["commission_session.id"],
            name=op.f("fk_hearing_sitting_id_commission_session"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["admin_unit.id"], name=op.f("fk_hearing_unit_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hearing")),
    )
    with op.batch_alter_table("hearing", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hearing_earliest_act_on"), ["earliest_act_on"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_hearing_objection_due_on"), ["objection_due_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hearing_person_key"), ["person_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_hearing_person_user_id"), ["person_user_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_hearing_sitting_id"), ["sitting_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hearing_status"), ["status"], unique=False)
        batch_op.create_index("ix_hearing_subject", ["subject_type", "subject_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_hearing_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "uq_hearing_live_subject",
            ["subject_type", "subject_id", "act_kind"],
            unique=True,
            postgresql_where=sa.text("status IN ('drafted', 'notified', 'heard')"),
            sqlite_where=sa.text("status IN ('drafted', 'notified', 'heard')"),
        )

    op.create_table(
        "complaint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=30), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=True),
        sa.Column("subject_type", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("act_kind", sa.String(length=30), nullable=True),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_key", sa.String(length=64), nullable=False),
        sa.Column("person_user_id", sa.Integer(), nullable=True),
        sa.Column("complainant_name", sa.String(length=300), nullable=False),
        sa.Column("complainant_iin", sa.String(length=120), nullable=False),
        sa.Column("complainant_iin_index", sa.String(length=64), nullable=False),
        sa.Column("complainant_address", sa.String(length=1200), nullable=False),
        sa.Column("complainant_contact", sa.String(length=440), nullable=True),
        sa.Column("act_challenged", sa.String(length=53400), nullable=False),
        sa.Column("grounds", sa.String(length=53400), nullable=False),
        sa.Column("request", sa.String(length=53400), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("registered_on", sa.Date(), nullable=False),
        sa.Column("term_ends_on", sa.Date(), nullable=False),
        sa.Column("late_restored_reason", sa.Text(), nullable=True),
        sa.Column("term_restored_reasons", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("forward_due_on", sa.Date(), nullable=False),
        sa.Column("forwarded_on", sa.Date(), nullable=True),
        sa.Column("review_due_on", sa.Date(), nullable=True),
        sa.Column("review_unit_id", sa.Integer(), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("execution_stayed", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=True),
        sa.Column("outcome_reasons", sa.Text(), nullable=True),
        sa.Column("to_fix", sa.Text(), nullable=True),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            f"act_kind IS NULL OR act_kind IN {ACT_KINDS}",
            name=op.f("ck_complaint_act_kind_known"),
        ),
        sa.CheckConstraint(
            "channel IN ('portal', 'paper')", name=op.f("ck_complaint_channel_known")
        ),
        sa.CheckConstraint(
            "kind <> 'act' OR hearing_id IS NOT NULL", name=op.f("ck_complaint_act_has_hearing")
        ),
        sa.CheckConstraint(
            "kind IN ('act', 'inaction', 'police')", name=op.f("ck_complaint_kind_known")
        ),
        sa.CheckConstraint(
            f"outcome IS NULL OR outcome IN {OUTCOMES}",
            name=op.f("ck_complaint_outcome_known"),
        ),
        sa.CheckConstraint(
            "status <> 'decided' OR (outcome IS NOT NULL AND decided_at IS NOT NULL)",
            name=op.f("ck_complaint_decided_complete"),
        ),
        sa.CheckConstraint(
            "status IN ('registered', 'granted', 'forwarded', 'decided')",
            name=op.f("ck_complaint_status_known"),
        ),
        sa.CheckConstraint(
            "subject_type IN ('application', 'member', 'nomination', 'sober_initiative')",
            name=op.f("ck_complaint_subject_type_known"),
        ),
        sa.CheckConstraint(
            "length(complainant_iin_index) = 64", name=op.f("ck_complaint_iin_index_length")
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_decided_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_entered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["hearing_id"], ["hearing.id"], name=op.f("fk_complaint_hearing_id_hearing")
        ),
        sa.ForeignKeyConstraint(
            ["person_user_id"],
            ["user_account.id"],
            name=op.f("fk_complaint_person_user_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["review_unit_id"],
            ["admin_unit.id"],
            name=op.f("fk_complaint_review_unit_id_admin_unit"),
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"], ["user_account.id"], name=op.f("fk_complaint_reviewer_id_user_account")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["admin_unit.id"], name=op.f("fk_complaint_unit_id_admin_unit")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint")),
        sa.UniqueConstraint("number", name=op.f("uq_complaint_number")),
    )
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_forward_due_on"), ["forward_due_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaint_hearing_id"), ["hearing_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_person_key"), ["person_key"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_complaint_person_user_id"), ["person_user_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_complaint_review_due_on"), ["review_due_on"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_complaint_status"), ["status"], unique=False)
        batch_op.create_index(batch_op.f("ix_complaint_unit_id"), ["unit_id"], unique=False)
        batch_op.create_index(
            "uq_complaint_live_subject",
            ["person_key", "kind", "subject_type", "subject_id"],
            unique=True,
            postgresql_where=sa.text("status IN ('registered', 'forwarded')"),
            sqlite_where=sa.text("status IN ('registered', 'forwarded')"),
        )

    op.create_table(
        "hearing_objection",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.String(length=21400), nullable=False),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("entered_by_id", sa.Integer(), nullable=False),
        sa.Column("late", sa.Boolean(), nullable=False),
        sa.CheckConstraint(
            "channel IN ('portal', 'paper', 'oral')",
            name=op.f("ck_hearing_objection_channel_known"),
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"],
            ["user_account.id"],
            name=op.f("fk_hearing_objection_entered_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["hearing_id"], ["hearing.id"], name=op.f("fk_hearing_objection_hearing_id_hearing")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hearing_objection")),
    )
    with op.batch_alter_table("hearing_objection", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_hearing_objection_hearing_id"), ["hearing_id"], unique=False
        )

    op.create_table(
        "hearing_protocol",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("hearing_id", sa.Integer(), nullable=False),
        sa.Column("held_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("mode", sa.String(length=12), nullable=False),
        sa.Column("attendees", sa.String(length=21400), nullable=False),
        sa.Column("body", sa.String(length=21400), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("signed_on", sa.Date(), nullable=False),
        sa.Column("signed_late", sa.Boolean(), nullable=False),
        sa.Column("remarks_due_on", sa.Date(), nullable=False),
        sa.Column("remarks", sa.String(length=21400), nullable=True),
        sa.Column("remarks_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "mode IN ('in_person', 'video')", name=op.f("ck_hearing_protocol_mode_known")
        ),
        sa.ForeignKeyConstraint(
            ["hearing_id"], ["hearing.id"], name=op.f("fk_hearing_protocol_hearing_id_hearing")
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user_account.id"],
            name=op.f("fk_hearing_protocol_recorded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hearing_protocol")),
        sa.UniqueConstraint("hearing_id", name=op.f("uq_hearing_protocol_hearing_id")),
    )
    op.create_table(
        "complaint_attachment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("complaint_id", sa.Integer(), nullable=False),
        sa.Column("stored_file_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["complaint_id"],
            ["complaint.id"],
            name=op.f("fk_complaint_attachment_complaint_id_complaint"),
        ),
        sa.ForeignKeyConstraint(
            ["stored_file_id"],
            ["stored_file.id"],
            name=op.f("fk_complaint_attachment_stored_file_id_stored_file"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_complaint_attachment")),
    )
    with op.batch_alter_table("complaint_attachment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_complaint_attachment_complaint_id"), ["complaint_id"], unique=False
        )

    # SQLite adds a nullable column in place (no copy of a table others reference).
    op.add_column("application", sa.Column("refused_by", sa.String(length=10), nullable=True))
    op.execute("UPDATE application SET refused_by = 'police' WHERE status = 'refused'")
    if _sqlite():
        _application_triggers([PASSED, NEW_REFUSED, CLOSED, REFUSERS])
    else:
        with op.batch_alter_table("application", schema=None) as batch_op:
            batch_op.drop_constraint(op.f("ck_application_refused_by_check"), type_="check")
            batch_op.create_check_constraint(
                op.f("ck_application_refused_by_check"), NEW_REFUSED.format(r="")
            )
            batch_op.create_check_constraint(
                op.f("ck_application_refused_by_known"), REFUSERS.format(r="")
            )
    _role_check(NEW_ROLES)


def downgrade():
    op.execute("DELETE FROM role_grant WHERE role = 'reviewer'")
    _role_check(OLD_ROLES)
    op.execute("UPDATE application SET check_outcome = 'refused' WHERE refused_by = 'akimat'")
    if _sqlite():
        _application_triggers([PASSED, OLD_REFUSED, CLOSED])
        op.execute("ALTER TABLE application DROP COLUMN refused_by")
    else:
        with op.batch_alter_table("application", schema=None) as batch_op:
            batch_op.drop_constraint(op.f("ck_application_refused_by_known"), type_="check")
            batch_op.drop_constraint(op.f("ck_application_refused_by_check"), type_="check")
            batch_op.create_check_constraint(
                op.f("ck_application_refused_by_check"), OLD_REFUSED.format(r="")
            )
            batch_op.drop_column("refused_by")

    with op.batch_alter_table("complaint_attachment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_complaint_attachment_complaint_id"))

    op.drop_table("complaint_attachment")
    op.drop_table("hearing_protocol")
    with op.batch_alter_table("hearing_objection", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_hearing_objection_hearing_id"))

    op.drop_table("hearing_objection")
    with op.batch_alter_table("complaint", schema=None) as batch_op:
        batch_op.drop_index("uq_complaint_live_subject")
        batch_op.drop_index(batch_op.f("ix_complaint_unit_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_status"))
        batch_op.drop_index(batch_op.f("ix_complaint_review_due_on"))
        batch_op.drop_index(batch_op.f("ix_complaint_person_user_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_person_key"))
        batch_op.drop_index(batch_op.f("ix_complaint_hearing_id"))
        batch_op.drop_index(batch_op.f("ix_complaint_forward_due_on"))

    op.drop_table("complaint")
    with op.batch_alter_table("hearing", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_hearing_live_subject",
            postgresql_where=sa.text("status IN ('drafted', 'notified', 'heard')"),
            sqlite_where=sa.text("status IN ('drafted', 'notified', 'heard')"),
        )
        batch_op.drop_index(batch_op.f("ix_hearing_unit_id"))
        batch_op.drop_index("ix_hearing_subject")
        batch_op.drop_index(batch_op.f("ix_hearing_status"))
        batch_op.drop_index(batch_op.f("ix_hearing_sitting_id"))
        batch_op.drop_index(batch_op.f("ix_hearing_person_user_id"))
        batch_op.drop_index(batch_op.f("ix_hearing_person_key"))
        batch_op.drop_index(batch_op.f("ix_hearing_objection_due_on"))
        batch_op.drop_index(batch_op.f("ix_hearing_earliest_act_on"))

    op.drop_table("hearing")
    op.drop_table("appeal_setting")
    with op.batch_alter_table("legal_ground", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_legal_ground_act_kind"))

    op.drop_table("legal_ground")
    op.drop_table("appeal_counter")
