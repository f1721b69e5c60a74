"""A full demo world for the form fuzzing and mass-assignment tests (battery S6, S13, S14).

The world is what ``flask demo`` loads (register, budget, shifts, sober settlements, the reward
commission) plus a few records the demo lacks but some forms act on: a draft and waiting
nominations, a planned and an on-paper session, an unverified decision entered by the second
finance officer, a deputy's inquiry, a failed job run, an access token of the API, and two
accounts of its own (one whose sessions the tests may end, one the administrator's forms may
change, which holds the token).

It is built once per backend and test run, on a copy of the run's demo template (the demo is
loaded once for every test that wants it), and cloned for each user of it (a file copy on
SQLite, ``CREATE DATABASE ... TEMPLATE`` on PostgreSQL); ``clone_world`` also returns the ids
of its records by role.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import uuid
from pathlib import Path

from sqlalchemy import func, select, text

from tests.conftest import (
    DEMO_PASSWORD,
    RUN_ID,
    SHARED_DIR,
    built_once,
    close_app,
    create_database,
    drop_database,
    make_app,
    pg_url,
)

SELF_LOGIN = "fuzz-self@demo.kz"  # signed in only; logging out or changing the password is safe
TARGET_LOGIN = "fuzz-target@demo.kz"  # the account the administrator's forms change
PLAIN_LOGIN = "fuzz-plain@demo.kz"  # signed in only, with no roles: a citizen without a record

_templates: dict[tuple[str, str], tuple[str, dict]] = {}


def _build(session) -> dict:
    """Add the extra records to the demo in ``session``; return the ids by name."""
    from budget import appropriations
    from budget.models import BudgetLine, BudgetProgram, MaslikhatDecision
    from core import accounts, audit, calendar, jobruns, places
    from core.db import utcnow
    from core.notifications import Notification
    from core.scope import Scope
    from incentives import inquiries, nominations, policy, sessions
    from incentives.models import AgendaItem, CommissionSession, Nomination, Payout
    from incentives.sober_models import Initiative, SoberDeclaration
    from volunteers.activity_models import Contribution, Shift, Signup
    from volunteers.models import Application, Member, PatrolUnit

    def user(login):
        return accounts.find_by_login(session, login)

    region = places.by_kato(session, "350000000")
    district = places.by_kato(session, "354000000")  # Bukhar-Zhyrau: the coordinators' district
    other_district = places.by_kato(session, "353200000")  # Abai: same region, not theirs
    other_region = places.by_kato(session, "710000000")  # Astana: outside every demo official
    admin, finance2 = user("admin@demo.kz"), user("finance2@demo.kz")
    coordinator, deputy = user("coordinator@demo.kz"), user("deputy@demo.kz")
    secretary, volunteer = user("secretary@demo.kz"), user("volunteer@demo.kz")
    ids: dict = {"region": region.id, "district": district.id, "other_district": other_district.id}
    ids["other_region"] = other_region.id if other_region else None

    me = accounts.create_user(
        session,
        email=SELF_LOGIN,
        phone=None,
        full_name="Fuzz Self",
        preferred_language="en",
        unit_id=district.id,
        password=DEMO_PASSWORD,
        actor_id=None,
    )
    plain = accounts.create_user(
        session,
        email=PLAIN_LOGIN,
        phone=None,
        full_name="Fuzz Plain",
        preferred_language="kk",
        unit_id=district.id,
        password=DEMO_PASSWORD,
        actor_id=None,
    )
    target = accounts.create_user(
        session,
        email=TARGET_LOGIN,
        phone=None,
        full_name="Fuzz Target",
        preferred_language="ru",
        unit_id=district.id,
        password=DEMO_PASSWORD,
        actor_id=admin.id,
    )
    grant = accounts.grant_role(
        session, user_id=target.id, role="registrar", unit_id=district.id, actor_id=admin.id
    )
    ids.update(self_user=me.id, plain_user=plain.id, target_user=target.id, target_grant=grant.id)
    # An access token of the JSON API (issue 21) held by the target, for the revocation form.
    from core import api_tokens

    api_token, _secret = api_tokens.issue(
        session,
        user_id=target.id,
        name="fuzz token",
        grants=[("registrar", district.id)],
        expires_at=utcnow() + dt.timedelta(days=30),
        actor_id=admin.id,
        now=utcnow(),
    )
    ids["api_token"] = api_token.id

    # A failed job run the administrator may retry.
    run = jobruns.create_run(
        session, kind="budget.reconcile", requested_by_id=admin.id, unit_id=None
    )
    session.flush()
    jobruns.fail(session, run.id, error="fuzz world: failed on purpose")
    ids["failed_run"] = run.id

    # Budget: the district's lines, another district's line, an unverified decision of finance2.
    def line_of(unit, purpose):
        return session.scalar(
            select(BudgetLine.id)
            .join(BudgetProgram, BudgetLine.program_id == BudgetProgram.id)
            .where(BudgetProgram.unit_id == unit.id, BudgetLine.purpose == purpose)
        )

    ids["line"] = line_of(district, "citizen_rewards")
    ids["sober_line"] = line_of(district, "sober_settlement_incentives")
    ids["other_line"] = line_of(other_district, "citizen_rewards")
    ids["program"] = session.scalar(
        select(BudgetLine.program_id).where(BudgetLine.id == ids["line"])
    )
    decision = appropriations.enter_decision(
        session,
        unit_id=region.id,
        number="FUZZ/1",
        decided_on=dt.date(2026, 6, 1),
        session_number="XL",
        kind="clarification",
        reference="fuzz world",
        amendments=[(ids["line"], 100_000)],
        actor_id=finance2.id,
    )
    ids["pending_decision"] = decision.id
    ids["verified_decision"] = session.scalar(
        select(MaslikhatDecision.id)
        .where(MaslikhatDecision.verified_at.is_not(None))
        .order_by(MaslikhatDecision.id)
        .limit(1)
    )

    # A deputy's inquiry about the district's line.
    today = dt.date.today()
    inquiry = inquiries.ask(
        session,
        object_type="budget_line",
        object_id=ids["line"],
        text="Why is so little disbursed?",
        deputy_id=deputy.id,
        scope=Scope.of(deputy, "deputy"),
        today=today,
    )
    ids["inquiry"] = inquiry.id

    # Enrolment: one application per state in the coordinators' district.
    def application(status, outcome=None):
        return session.scalar(
            select(Application.id)
            .join(places.AdminUnit, Application.unit_id == places.AdminUnit.id)
            .where(
                Application.status == status,
                Application.check_outcome.is_(None)
                if outcome is None
                else Application.check_outcome == outcome,
                places.units_within_clause([district.id]),
            )
            .order_by(Application.id)
            .limit(1)
        )

    ids["application_submitted"] = application("submitted")
    ids["application_police_check"] = application("police_check")
    ids["application_passed"] = application("police_check", "passed")
    ids["application_petitioned"] = application("petitioned", "passed")
    ids["own_application"] = session.scalar(
        select(Application.id).where(Application.applicant_id == volunteer.id)
    )
    own_member = session.scalar(select(Member).where(Member.user_id == volunteer.id))
    ids["own_member"] = own_member.id
    ids["own_notification"] = session.scalar(
        select(func.min(Notification.id)).where(Notification.user_id == volunteer.id)
    )
    ids["member"] = session.scalar(
        select(Member.id)
        .join(places.AdminUnit, Member.unit_id == places.AdminUnit.id)
        .where(
            places.units_within_clause([district.id]),
            Member.status == "active",
            Member.id != own_member.id,
        )
        .order_by(Member.id)
        .limit(1)
    )
    ids["other_member"] = session.scalar(
        select(Member.id)
        .join(places.AdminUnit, Member.unit_id == places.AdminUnit.id)
        .where(~places.units_within_clause([district.id]))
        .order_by(Member.id)
        .limit(1)
    )
    ids["patrol_unit"] = session.scalar(
        select(PatrolUnit.id)
        .join(places.AdminUnit, PatrolUnit.unit_id == places.AdminUnit.id)
        .where(places.units_within_clause([district.id]))
        .order_by(PatrolUnit.id)
        .limit(1)
    )
    ids["other_patrol_unit"] = session.scalar(
        select(PatrolUnit.id)
        .join(places.AdminUnit, PatrolUnit.unit_id == places.AdminUnit.id)
        .where(~places.units_within_clause([district.id]))
        .order_by(PatrolUnit.id)
        .limit(1)
    )
    ids["settlement"] = own_member.unit_id

    # Shifts: an upcoming one of the district, the volunteer's sign-ups.
    now = utcnow()
    ids["shift"] = session.scalar(
        select(Shift.id)
        .join(places.AdminUnit, Shift.unit_id == places.AdminUnit.id)
        .where(
            Shift.status == "planned",
            Shift.starts_at > now + dt.timedelta(days=2),
            places.units_within_clause([district.id]),
        )
        .order_by(Shift.starts_at)
        .limit(1)
    )
    signups = session.scalars(
        select(Signup)
        .where(Signup.member_id == own_member.id, Signup.status == "signed_up")
        .order_by(Signup.starts_at)
    ).all()
    ids["signup_now"] = signups[0].id if signups else None  # the demo's shift under way
    ids["shift_now"] = signups[0].shift_id if signups else None
    ids["signup_later"] = signups[-1].id if signups else None
    taken = {s.shift_id for s in signups}
    ids["open_shift"] = session.scalar(
        select(Shift.id)
        .join(places.AdminUnit, Shift.unit_id == places.AdminUnit.id)
        .where(
            Shift.status == "planned",
            Shift.starts_at > now + dt.timedelta(days=1),
            Shift.id.not_in(taken or {0}),
            places.units_within_clause([district.id]),
        )
        .order_by(Shift.starts_at)
        .limit(1)
    )
    ids["logged_contribution"] = session.scalar(
        select(Contribution.id)
        .join(places.AdminUnit, Contribution.unit_id == places.AdminUnit.id)
        .where(Contribution.status == "logged", places.units_within_clause([district.id]))
        .order_by(Contribution.id)
        .limit(1)
    )
    ids["contribution"] = session.scalar(select(func.min(Contribution.id)))

    # Sober settlements.
    def declaration(status):
        return session.scalar(
            select(SoberDeclaration.id)
            .join(places.AdminUnit, SoberDeclaration.unit_id == places.AdminUnit.id)
            .where(SoberDeclaration.status == status, places.units_within_clause([district.id]))
            .order_by(SoberDeclaration.id)
            .limit(1)
        )

    ids["declaration_declared"] = declaration("declared")
    ids["declaration_confirmed"] = declaration("confirmed")
    ids["sober_settlement"] = session.scalar(
        select(SoberDeclaration.unit_id).where(SoberDeclaration.id == ids["declaration_confirmed"])
    )

    def initiative(status):
        return session.scalar(
            select(Initiative.id)
            .join(places.AdminUnit, Initiative.unit_id == places.AdminUnit.id)
            .where(Initiative.status == status, places.units_within_clause([district.id]))
            .order_by(Initiative.id.desc())
            .limit(1)
        )

    ids["initiative_submitted"] = initiative("submitted")
    ids["initiative_supported"] = initiative("supported")
    ids["initiative_any"] = session.scalar(select(func.min(Initiative.id)))

    # The commission: demo sessions, and the records the demo lacks.
    commission = policy.commission_for(session, district.id)
    ids["commission"] = commission.id
    ids["commission_member"] = commission.members[-1].id
    final = session.scalar(
        select(CommissionSession).where(CommissionSession.status == "minutes_final")
    )
    open_ = session.scalar(select(CommissionSession).where(CommissionSession.status == "open"))
    ids["final_session"], ids["open_session"] = final.id, open_.id
    ids["open_item"] = open_.items[-1].id
    paid_items = set(session.scalars(select(Payout.item_id)))
    unpaid = [i for i in final.items if i.outcome == "approved" and i.id not in paid_items]
    ids["cash_item"] = next((i.id for i in unpaid if i.nomination.form == "cash"), None)
    ids["gift_item"] = next((i.id for i in unpaid if i.nomination.form != "cash"), None)
    ids["payout"] = session.scalar(select(func.min(Payout.id)))
    ids["approved_item"] = session.scalar(
        select(func.min(AgendaItem.id)).where(AgendaItem.outcome == "approved")
    )
    quarter = (today.month - 1) // 3 + 1
    used = set(
        session.scalars(select(Nomination.member_id).where(Nomination.member_id.is_not(None)))
    )
    first, last = nominations.quarter_bounds(today.year, quarter)
    spare = [
        c
        for c in nominations.candidates(session, Scope.within([district.id]), first, last, limit=50)
        if c.member_id not in used
    ]
    made = []
    for candidate, submit in zip(spare, (True, True, False), strict=False):
        contribution_ids = session.scalars(
            select(Contribution.id).where(
                Contribution.member_id == candidate.member_id,
                Contribution.status == "confirmed",
                Contribution.occurred_on.between(first, last),
            )
        ).all()
        made.append(
            nominations.nominate(
                session,
                commission_id=commission.id,
                member_id=candidate.member_id,
                contribution_ids=list(contribution_ids)[:3],
                justification="fuzz world",
                form="thanks",
                amount_tiyn=0,
                entered_in="mci",
                nominator_id=coordinator.id,
                today=today,
                submit=submit,
            )
        )
    ids["candidate_member"] = spare[3].member_id if len(spare) > 3 else ids["member"]
    ids["draft_nomination"] = made[2].id if len(made) > 2 else None
    ids["waiting_nomination"] = made[1].id if len(made) > 1 else None
    ids["nomination"] = session.scalar(select(func.min(Nomination.id)))
    seats = {m.user_id: m for m in commission.members}
    paper = sessions.plan(
        session,
        commission_id=commission.id,
        held_on=today,
        place_kk="fuzz world, on paper",
        place_ru="fuzz world, on paper",
        on_paper=True,
        actor_id=secretary.id,
    )
    if made:
        sessions.add_to_agenda(
            session, session_id=paper.id, nomination_ids=[made[0].id], actor_id=secretary.id
        )
        sessions.open_session(
            session,
            session_id=paper.id,
            present_ids={m.id for m in seats.values()},
            actor_id=secretary.id,
            now=now,
        )
        ids["paper_item"] = paper.items[0].id
    ids["paper_session"] = paper.id
    planned = sessions.plan(
        session,
        commission_id=commission.id,
        held_on=today + dt.timedelta(days=7),
        place_kk="fuzz world, planned",
        place_ru="fuzz world, planned",
        on_paper=False,
        actor_id=secretary.id,
    )
    ids["planned_session"] = planned.id
    ids.update(_appeals(session, ids, user))
    ids["calendar_day"] = session.scalar(
        select(calendar.CalendarDay.day)
        .where(calendar.CalendarDay.day >= today)
        .order_by(calendar.CalendarDay.day)
        .limit(1)
    ).isoformat()
    ids["contribution_kind"] = "patrol"
    ids["indicator_kind"] = session.scalar(
        select(text("code")).select_from(text("sober_indicator_kind")).limit(1)
    )
    ids["audit_seq"] = session.scalar(select(func.max(audit.AuditEvent.seq)))
    session.commit()
    return ids


def _appeals(session, ids: dict, user) -> dict:
    """Issue 20: an act adopted on the volunteer's suspension and their complaint against it
    (registered), a second suspension notified to them, and an expulsion only drafted."""
    from appeals import complaints, hearings
    from appeals.models import LegalGround
    from core.scope import Scope
    from volunteers.models import Member

    registrar, volunteer = user("registrar@demo.kz"), user("volunteer@demo.kz")
    scope = Scope.of(registrar, "registrar")

    def drafted(act_kind: str, member_id: int, notify: bool = True):
        code = session.scalar(select(LegalGround.code).where(LegalGround.act_kind == act_kind))
        found = hearings.draft(
            session,
            act_kind=act_kind,
            subject_id=member_id,
            grounds=[code],
            grounds_text="fuzz world grounds",
            actor_id=registrar.id,
            scope=scope,
        )
        if notify:
            hearings.notify(session, hearing_id=found.id, actor_id=registrar.id, scope=scope)
        return found

    adopted = drafted("suspend", ids["own_member"])
    hearings.adopt(
        session,
        hearing_id=adopted.id,
        act_reasons="fuzz world reasons",
        actor_id=registrar.id,
        scope=scope,
        exception_kind="urgency",
        exception_reason="fuzz world urgency",
    )
    member = session.get(Member, ids["own_member"])
    complaint = complaints.file(
        session,
        actor_id=volunteer.id,
        channel="portal",
        hearing_id=adopted.id,
        name=member.full_name,
        iin=member.iin,
        address="fuzz world address",
        contact=None,
        act_challenged="the suspension",
        grounds="fuzz world complaint grounds",
        request="cancel it",
        attachments=[complaints.Upload("evidence.pdf", "application/pdf", b"%PDF-1.4 fuzz")],
    )
    notified = drafted("suspend", ids["own_member"])  # the complaint stayed the first one
    expulsion = drafted("expel", ids["member"], notify=False)
    session.commit()
    return {
        "hearing_adopted": adopted.id,
        "hearing_notified": notified.id,
        "hearing_drafted": expulsion.id,
        "complaint": complaint.id,
        "complaint_file": complaint.attachments[0].id,
    }


def demo_plus(request, backend: str, name: str, add) -> tuple[str, dict]:
    """Return (location, data) of the demo template plus ``add``'s records, built once per run.

    ``add(url)`` adds records to a copy of the run's demo template at ``url`` and returns what
    the tests need of them (ids, secrets) as JSON-able data, kept beside the copy for the
    other processes. Modules then start from copies of it (``clone``), not from a new build.
    """
    key = (backend, name)
    if key in _templates:
        return _templates[key]
    saved = SHARED_DIR / f"{name}-{backend}.json"
    if backend == "sqlite":
        demo = request.getfixturevalue("sqlite_demo_template")
        path = SHARED_DIR / f"{name}.sqlite3"

        def build():
            shutil.copy(demo, path)
            saved.write_text(json.dumps(add(f"sqlite:///{path}")))

        built_once(path.name, build)
        location = str(path)
    else:
        admin = request.getfixturevalue("pg_admin")
        demo = request.getfixturevalue("pg_demo_template")
        location = f"portal_test_{RUN_ID}_{name}"

        def build():
            drop_database(admin, location)  # what a failed build left
            create_database(admin, location, demo)
            saved.write_text(json.dumps(add(pg_url(location))))

        built_once(location, build)
    _templates[key] = (location, json.loads(saved.read_text()))
    return _templates[key]


def clone(request, backend: str, location: str, tmp_path: Path):
    """Copy the database at ``location`` for one module; return (URL, cleanup callable)."""
    if backend == "sqlite":
        path = tmp_path / f"{Path(location).stem}-{uuid.uuid4().hex[:8]}.sqlite3"
        shutil.copy(location, path)
        return f"sqlite:///{path}", lambda: None
    admin = request.getfixturevalue("pg_admin")
    copy = f"portal_test_{uuid.uuid4().hex[:12]}"
    create_database(admin, copy, location)
    return pg_url(copy), lambda: drop_database(admin, copy)


def _add_world(url: str) -> dict:
    """Add the extra records to the copy of the demo template at ``url``; return their ids."""
    from portal.extensions import db

    app = make_app(url)
    try:
        with app.app_context():
            ids = _build(db.session)
            db.session.remove()
    finally:
        close_app(app)
    return ids


def clone_world(request, backend: str, tmp_path: Path):
    """Clone the world for one user; return (database URL, ids, cleanup callable)."""
    location, ids = demo_plus(request, backend, "world", _add_world)
    url, drop = clone(request, backend, location, tmp_path)
    return url, ids, drop


_count_statements: dict = {}  # dialect name -> the statement of table_counts


def _count_statement(dialect):
    """The statement counting every table's rows, compiled once per dialect.

    Building and compiling a UNION ALL of 70 selects costs some 40 ms of Python, the count
    itself 1 to 2 ms on the worlds' databases; the fuzzer counts twice per example.
    """
    from sqlalchemy import String, literal, union_all

    from portal.extensions import db

    if dialect.name not in _count_statements:
        query = union_all(
            *(
                select(literal(t.name, String).label("t"), func.count().label("n")).select_from(t)
                for t in db.metadata.sorted_tables
            )
        )
        sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        _count_statements[dialect.name] = text(sql)
    return _count_statements[dialect.name]


def table_counts(app) -> dict[str, int]:
    """Count the rows of every table of the metadata in one statement."""
    from portal.database import READ_ONLY_OPTION
    from portal.extensions import db

    with app.app_context():
        # A reader: on SQLite a deferred BEGIN, so the count never holds the write lock.
        with db.engine.execution_options(**{READ_ONLY_OPTION: True}).connect() as conn:
            rows = conn.execute(_count_statement(conn.dialect)).all()
        db.session.remove()
    return {name: int(n) for name, n in rows}
