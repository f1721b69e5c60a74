"""The demo at scale: `demo --scale N` bulk-loads a consistent region that the portal can show."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from tests.conftest import login

# Both databases: bulk loads by COPY.
pytestmark = pytest.mark.both_databases

MEMBERS = 300


def _count(session, model, *where) -> int:
    return session.scalar(select(func.count()).select_from(model).where(*where))


@pytest.mark.demo_data  # the regular demo is there: the command adds the scale region
def test_demo_scale_loads_a_consistent_region_once(app, client, session):
    from budget import ledger
    from budget.models import BudgetLine, LedgerEntry
    from core import audit
    from incentives.models import AgendaItem, Nomination, NominationContribution, Payout
    from volunteers.activity_models import Contribution, Shift, Signup
    from volunteers.models import CertificateCounter, Member

    runner = app.test_cli_runner()
    # The template holds the demo but not its hearings and complaints: let the plain command
    # add those first, so that what follows counts the scale region alone.
    assert runner.invoke(args=["demo"]).exit_code == 0
    session.rollback()
    before = _count(session, Member)
    result = runner.invoke(args=["demo", "--scale", str(MEMBERS)])
    assert result.exit_code == 0, result.output
    assert "Scale region committed" in result.output
    for step in ("officials", "register", "activity", "budget", "commission"):
        assert f"  {step}" in result.output
    again = runner.invoke(args=["demo", "--scale", str(MEMBERS)])
    assert again.exit_code == 0 and "loaded already" in again.output
    session.rollback()

    assert _count(session, Member) == before + MEMBERS
    # Bulk rows (COPY on PostgreSQL) carry their names' search keys too (core.search_text).
    assert not _count(session, Member, Member.search_name.is_(None))
    # Every place taken is a live sign-up, and no shift is over its capacity.
    live = (
        select(func.count())
        .select_from(Signup)
        .where(Signup.shift_id == Shift.id, Signup.status != "cancelled")
        .scalar_subquery()
    )
    assert not session.scalar(
        select(func.count())
        .select_from(Shift)
        .where((Shift.taken != live) | (Shift.taken > Shift.capacity))
    )
    # Each completed sign-up logged its patrol hours once; nothing else did.
    completed = _count(session, Signup, Signup.status == "completed")
    assert completed > 10 * MEMBERS
    assert _count(session, Contribution, Contribution.signup_id.is_not(None)) == completed
    assert _count(session, Contribution) > 15 * MEMBERS
    statuses = set(session.scalars(select(Contribution.status).distinct()))
    assert statuses >= {"logged", "confirmed", "rejected"}
    assert not _count(
        session, Contribution, Contribution.decided_by_id == Contribution.logged_by_id
    )
    # Certificates are numbered without gaps from the counters, so the next one is free.
    numbers = session.scalars(select(Member.certificate_no)).all()
    assert len(numbers) == len(set(numbers))
    top = {}
    for number in numbers:
        kato, year, seq = number.split("-")
        top[(kato, int(year))] = max(top.get((kato, int(year)), 0), int(seq))
    counters = {
        (unit_kato, c.year): c.last
        for c, unit_kato in session.execute(
            select(CertificateCounter, _unit_kato()).join(
                _unit_table(), _unit_table().c.id == CertificateCounter.unit_id
            )
        )
    }
    assert all(counters[key] >= seq for key, seq in top.items())

    # Money: every approved cash or gift item committed once; payments disbursed it.
    approved = _count(
        session,
        AgendaItem,
        AgendaItem.outcome == "approved",
        AgendaItem.nomination_id == Nomination.id,
        Nomination.amount_tiyn > 0,
    )
    assert approved > 0
    assert _count(session, LedgerEntry, LedgerEntry.kind == "commit") == approved
    paid = _count(session, Payout, Payout.ledger_entry_id.is_not(None))
    assert _count(session, LedgerEntry, LedgerEntry.kind == "disburse") == paid > 0
    assert (
        session.scalar(
            select(func.count())
            .select_from(BudgetLine)
            .where(BudgetLine.committed_tiyn + BudgetLine.disbursed_tiyn > BudgetLine.approved_tiyn)
        )
        == 0
    )
    assert ledger.reconcile(session) == []
    # A contribution backs one approved reward at most (the partial unique index held).
    backing = session.execute(
        select(NominationContribution.contribution_id, func.count())
        .where(NominationContribution.approved)
        .group_by(NominationContribution.contribution_id)
        .having(func.count() > 1)
    ).all()
    assert backing == []
    # The audit chain still verifies: one summary event per bulk step, then the marker.
    report = audit.verify_chain(session)
    assert report.ok, report
    actions = set(
        session.scalars(
            select(audit.AuditEvent.action).where(audit.AuditEvent.action.like("demo.scale%"))
        )
    )
    assert actions == {
        "demo.scale",
        "demo.scale.officials",
        "demo.scale.register",
        "demo.scale.activity",
        "demo.scale.budget",
        "demo.scale.commission",
    }

    # The ids continue after the bulk rows: the portal's own inserts still work.
    _plan_a_shift(app)

    for email, pages in (
        ("coordinator@demo.kz", ["/volunteers/members", "/contributions/queue", "/shifts"]),
        ("finance@demo.kz", ["/finance/lines", "/commission/payouts"]),
        ("deputy@demo.kz", ["/oversight/", "/oversight/audit"]),
        ("secretary@demo.kz", ["/commission/sessions"]),
        ("coordinator.351000000@demo.kz", ["/volunteers/members", "/commission/candidates"]),
    ):
        assert login(client, email).status_code == 302, email
        for page in pages:
            assert client.get(page).status_code == 200, (email, page)
        client.post("/logout")


def _unit_table():
    from core.places import AdminUnit

    return AdminUnit.__table__


def _unit_kato():
    return _unit_table().c.kato


def _plan_a_shift(app) -> None:
    import datetime as dt

    from core import accounts, places
    from core.db import utcnow
    from portal.extensions import db
    from volunteers import contributions, shifts
    from volunteers.models import Member, PatrolUnit

    with app.app_context():
        coordinator = accounts.find_by_login(db.session, "coordinator.351000000@demo.kz")
        patrol = db.session.scalar(
            select(PatrolUnit)
            .where(PatrolUnit.coordinator_id == coordinator.id)
            .order_by(PatrolUnit.id)
            .limit(1)
        )
        now = utcnow()
        starts = now + dt.timedelta(days=30)
        (shift,) = shifts.plan_shift(
            db.session,
            unit_id=places.by_kato(db.session, "351000000").id,
            patrol_unit_id=patrol.id,
            place="Тест",
            starts_at=starts,
            ends_at=starts + dt.timedelta(hours=3),
            capacity=3,
            supervisor_id=coordinator.id,
            actor_id=coordinator.id,
            now=now,
        )
        member = db.session.scalar(
            select(Member)
            .where(Member.patrol_unit_id == patrol.id, Member.status == "active")
            .order_by(Member.id)
            .limit(1)
        )
        signup = shifts.sign_up(
            db.session, shift_id=shift.id, member_id=member.id, actor_id=coordinator.id, now=now
        )
        logged = contributions.log_contribution(
            db.session,
            member_id=member.id,
            kind="preventive_event",
            occurred_on=now.date(),
            minutes=None,
            description="Тест",
            reference=None,
            actor_id=coordinator.id,
            today=now.date(),
        )
        db.session.commit()
        assert shift.id and signup.id and logged.id
