"""Contributions: plausibility, four-eyes confirmation, frozen records, corrections, points."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.scope import Scope
from tests.factories.accounts import official
from tests.factories.volunteers import TODAY, make_member, unit, user
from volunteers import contributions
from volunteers.activity_models import Contribution

NOW = dt.datetime(2026, 3, 20, 6, 0, tzinfo=dt.UTC)
DAY = dt.date(2026, 3, 19)


def _log(session, member, **overrides):
    values = {
        "member_id": member.id,
        "kind": "offense_reported",
        "occurred_on": DAY,
        "minutes": None,
        "description": "Бұзушылық туралы 102-ге хабарлады",
        "reference": "KUSP-2026-0001",
        "actor_id": user(session, "coordinator@demo.kz").id,
        "today": dt.date(2026, 3, 20),
    }
    values.update(overrides)
    return contributions.log_contribution(session, **values)


def _second_coordinator(session):
    return official(
        session,
        "coordinator2@demo.kz",
        "coordinator",
        unit(session, "354000000").id,
        password="second coordinator 1",
        full_name="Екінші Үйлестіруші",
    )


def test_plausibility_rules_refuse_bad_input(app, session):
    member = make_member(session, 8401, today=TODAY)
    session.commit()
    cases = [
        ({"occurred_on": dt.date(2026, 3, 21)}, "future"),
        ({"kind": "dancing"}, "Unknown kind"),
        ({"reference": ""}, "reference"),
        ({"description": "  "}, "Describe"),
        ({"kind": "patrol_hours", "minutes": None}, "hours"),
        ({"occurred_on": dt.date(2026, 3, 1)}, "before the membership"),
    ]
    for overrides, fragment in cases:
        with pytest.raises(DomainError, match=fragment):
            _log(session, member, **overrides)
        session.rollback()
    _log(session, member, kind="patrol_hours", minutes=600, reference=None)
    with pytest.raises(DomainError, match="16 hours"):
        _log(session, member, kind="patrol_hours", minutes=400, reference=None)
    session.rollback()
    assert session.scalar(select(Contribution.id)) is None


def test_four_eyes_confirm_reject_and_scope(app, session):
    member = make_member(session, 8402)
    other = _second_coordinator(session)
    logged = _log(session, member)
    session.commit()
    coordinator = user(session, "coordinator@demo.kz")
    district = unit(session, "354000000")
    with pytest.raises(PermissionDenied):  # the one who logged it
        contributions.confirm(
            session,
            contribution_id=logged.id,
            actor_id=coordinator.id,
            scope=Scope.within([district.id]),
            now=NOW,
        )
    session.rollback()
    with pytest.raises(NotFound):  # a coordinator of another district
        contributions.confirm(
            session,
            contribution_id=logged.id,
            actor_id=other.id,
            scope=Scope.within([unit(session, "355600000").id]),
            now=NOW,
        )
    session.rollback()
    contributions.confirm(
        session,
        contribution_id=logged.id,
        actor_id=other.id,
        scope=Scope.within([district.id]),
        now=NOW,
    )
    session.commit()
    session.refresh(logged)
    assert (logged.status, logged.points, logged.decided_by_id) == ("confirmed", 3, other.id)
    with pytest.raises(Conflict):
        contributions.reject(
            session,
            contribution_id=logged.id,
            reason="жоқ",
            actor_id=other.id,
            scope=Scope.within([district.id]),
            now=NOW,
        )
    session.rollback()
    second = _log(session, member, reference="KUSP-2026-0002")
    session.commit()
    with pytest.raises(DomainError, match="reason"):
        contributions.reject(
            session,
            contribution_id=second.id,
            reason=" ",
            actor_id=other.id,
            scope=Scope.within([district.id]),
            now=NOW,
        )
    session.rollback()
    contributions.reject(
        session,
        contribution_id=second.id,
        reason="Тіркеу нөмірі табылмады",
        actor_id=other.id,
        scope=Scope.within([district.id]),
        now=NOW,
    )
    session.commit()
    session.refresh(second)
    assert second.status == "rejected"


def test_member_cannot_confirm_their_own(app, session):
    volunteer = user(session, "volunteer@demo.kz")
    from core import accounts

    district = unit(session, "354000000")
    accounts.grant_role(
        session, user_id=volunteer.id, role="coordinator", unit_id=district.id, actor_id=None
    )
    member = make_member(session, 8403, applicant=volunteer)
    logged = _log(session, member)
    session.commit()
    with pytest.raises(PermissionDenied):
        contributions.confirm(
            session,
            contribution_id=logged.id,
            actor_id=volunteer.id,
            scope=Scope.within([district.id]),
            now=NOW,
        )


def test_confirmed_records_are_frozen_and_corrections_supersede(app, session):
    member = make_member(session, 8404)
    other = _second_coordinator(session)
    district = unit(session, "354000000")
    original = _log(session, member)
    contributions.confirm(
        session,
        contribution_id=original.id,
        actor_id=other.id,
        scope=Scope.within([district.id]),
        now=NOW,
    )
    session.commit()
    # The database itself refuses to change or delete a confirmed record.
    for statement in (
        "UPDATE contribution SET description = 'x' WHERE id = :id",
        "UPDATE contribution SET status = 'logged' WHERE id = :id",
        "DELETE FROM contribution WHERE id = :id",
    ):
        with pytest.raises(DatabaseError):
            session.execute(text(statement), {"id": original.id})
        session.rollback()
    correction = _log(
        session,
        member,
        description="Түзету: екі бұзушылық туралы хабарлады",
        corrects_id=original.id,
    )
    session.commit()
    with pytest.raises(Conflict):  # one pending correction at a time
        _log(session, member, corrects_id=original.id)
    session.rollback()
    contributions.confirm(
        session,
        contribution_id=correction.id,
        actor_id=other.id,
        scope=Scope.within([district.id]),
        now=NOW,
    )
    session.commit()
    session.refresh(original)
    assert original.status == "superseded"
    assert contributions.points_by_quarter(session, member.id) == [(2026, 1, 3, 1)]


def test_possible_duplicates_are_flagged(app, session):
    member = make_member(session, 8405)
    a = _log(session, member)
    b = _log(session, member)
    c = _log(session, member, reference="KUSP-OTHER")
    session.commit()
    assert contributions.possible_duplicates(session, [a.id, b.id, c.id]) == {a.id, b.id}


def test_patrol_points_count_whole_hours(app, session):
    kind = contributions.kinds(session)[0]
    assert kind.code == "patrol_hours"
    assert contributions.points_for(kind, 179) == 2


@pytest.mark.both_databases  # lock order: PostgreSQL runs it (SQLite skips)
def test_a_confirmation_takes_the_audit_lock_before_the_row(app, session):
    """Lock order, audit chain then row: otherwise two coordinators confirming overlapping
    batches deadlock (each holds a row the other wants while waiting for the chain; seen
    under load as DeadlockDetected 500s)."""
    import threading
    import time

    from sqlalchemy.orm import Session

    from core import audit
    from portal.database import READ_ONLY_OPTION
    from portal.extensions import db

    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("SQLite serializes writers; the lock order is a PostgreSQL matter")
    logged = _log(session, make_member(session, 8500))
    decider = _second_coordinator(session)
    district = unit(session, "354000000")
    session.commit()
    target, decider_id, scope = logged.id, decider.id, Scope.within([district.id])
    with app.app_context():
        engine = db.engine
    holder = Session(engine)
    audit.take_append_lock(holder)  # another writer is appending to the chain
    done: list[str] = []

    def confirm() -> None:
        with Session(engine) as s:
            contributions.confirm(
                s, contribution_id=target, actor_id=decider_id, scope=scope, now=NOW
            )
            s.commit()
            done.append("confirmed")

    thread = threading.Thread(target=confirm)
    thread.start()
    try:
        # The confirmation is waiting for the chain: its advisory lock, not granted, in this
        # test's database (another test's may be waiting in its own).
        waiting = text(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"
            " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
        )
        deadline = time.monotonic() + 30
        reader = engine.execution_options(**{READ_ONLY_OPTION: True})  # not queued for the chain
        with reader.connect() as conn:
            while not conn.scalar(waiting):
                assert time.monotonic() < deadline, "the confirmation never waited for the chain"
                time.sleep(0.02)
        # A reader's session: a writer's would queue for the chain behind the holder too.
        with Session(engine.execution_options(**{READ_ONLY_OPTION: True})) as probe:
            # The row is still free: the confirmation waits before touching it.
            probe.execute(
                text("SELECT id FROM contribution WHERE id = :id FOR UPDATE NOWAIT"),
                {"id": target},
            )
            probe.rollback()
    finally:
        holder.rollback()
        holder.close()
        thread.join(timeout=30)
    assert done == ["confirmed"]
