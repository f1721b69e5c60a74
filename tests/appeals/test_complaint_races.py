"""Complaint steps ten at once on PostgreSQL: one effect, one audit event, the rest a 409."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from appeals import complaints
from appeals.models import Complaint
from core import accounts, audit
from core.errors import Conflict
from core.scope import Scope
from tests.appeals.complaint_factory import (
    FILE_DAY,
    at,
    configure_review,
    form,
    forwarded,
    reviewer,
    suspension,
    user,
)
from tests.conftest import audit_count, engine_of, race
from volunteers.models import Member, MemberStatusChange

N = 10


def _only_conflicts(results, winners) -> None:
    losers = [r for r in results if r not in winners]
    assert len(losers) == N - 1, results
    assert all(isinstance(r, Conflict) and r.status == 409 for r in losers), results


def test_ten_submissions_of_one_complaint_register_one(pg_app):
    """A double submit (ten, from one person): one complaint, one number, the rest a 409."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        configure_review(s)
        hearing, member, person = suspension(s)
        values = form(s, hearing, person)
        member_id = member.id
        s.commit()

    def submit(_i: int) -> str:
        with Session(engine) as s:
            number = complaints.file(s, **values).number
            s.commit()
        return number

    results = race(N, submit)
    numbers = [r for r in results if isinstance(r, str)]
    assert numbers == [f"Ш-{FILE_DAY.year}-00001"], results
    _only_conflicts(results, numbers)
    with Session(engine) as s:
        assert s.scalar(select(func.count()).select_from(Complaint)) == 1
        # The execution was stayed once: one step back to active after the suspension.
        assert s.get(Member, member_id).status == "active"
        stays = select(func.count()).where(
            MemberStatusChange.member_id == member_id, MemberStatusChange.from_status == "suspended"
        )
        assert s.scalar(stays) == 1
        assert audit.verify_chain(s).ok


def test_ten_people_filing_at_once_get_ten_distinct_numbers(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        configure_review(s)
        forms = []
        for _ in range(N):
            hearing, _member, person = suspension(s)
            forms.append(form(s, hearing, person))
        s.commit()

    def submit(i: int) -> str:
        with Session(engine) as s:
            number = complaints.file(s, **forms[i]).number
            s.commit()
        return number

    results = race(N, submit)
    assert sorted(results) == [f"Ш-{FILE_DAY.year}-{n:05d}" for n in range(1, N + 1)]


def _registered(s: Session) -> int:
    configure_review(s)
    hearing, _member, person = suspension(s)
    return complaints.file(s, **form(s, hearing, person)).id


@pytest.mark.parametrize("step", ["grant", "forward"])
def test_ten_grants_or_forwards_take_one_effect(pg_app, step):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        complaint_id = _registered(s)
        registrar_id = user(s, "registrar@demo.kz").id
        s.commit()

    def act(_i: int) -> str:
        with Session(engine) as s:
            registrar = accounts.get_user(s, registrar_id)
            scope = Scope.of(registrar, "registrar")
            if step == "grant":
                complaints.grant_in_full(
                    s,
                    complaint_id=complaint_id,
                    reasons="Толық қанағаттандырылды",
                    actor_id=registrar_id,
                    scope=scope,
                    now=at(FILE_DAY, 12),
                )
            else:
                complaints.forward(
                    s,
                    complaint_id=complaint_id,
                    actor_id=registrar_id,
                    scope=scope,
                    now=at(FILE_DAY),
                )
            s.commit()
        return "done"

    results = race(N, act)
    _only_conflicts(results, ["done"])
    assert results.count("done") == 1
    with Session(engine) as s:
        action = "complaint.grant" if step == "grant" else "complaint.forward"
        assert audit_count(s, action, "complaint", complaint_id) == 1
        assert s.get(Complaint, complaint_id).status == (
            "granted" if step == "grant" else "forwarded"
        )
        assert audit.verify_chain(s).ok


@pytest.mark.parametrize("outcome", ["cancel", "unsatisfied"])
def test_ten_decisions_take_one_effect(pg_app, outcome):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        complaint, _hearing, member = forwarded(s)
        complaint_id, member_id = complaint.id, member.id
        reviewer_id = reviewer(s).id
        s.commit()

    def decide(i: int) -> str:
        with Session(engine) as s:
            complaints.decide(
                s,
                complaint_id=complaint_id,
                # Ten reviewers' clicks, some choosing otherwise: one outcome stands.
                outcome=outcome if i % 2 else "returned",
                reasons="Шешім",
                to_fix="Қайта қарау",
                actor_id=reviewer_id,
                now=at(FILE_DAY, 16),
            )
            s.commit()
        return "done"

    results = race(N, decide)
    assert results.count("done") == 1
    _only_conflicts(results, ["done"])
    with Session(engine) as s:
        decided = s.get(Complaint, complaint_id)
        assert decided.status == "decided"
        assert audit_count(s, "complaint.decide", "complaint", complaint_id) == 1
        member = s.get(Member, member_id)
        # Overturned: stays active; left unsatisfied: suspended again, exactly once.
        again = select(func.count()).where(
            MemberStatusChange.member_id == member_id, MemberStatusChange.to_status == "suspended"
        )
        if decided.outcome == "unsatisfied":
            assert member.status == "suspended" and s.scalar(again) == 2
        else:
            assert member.status == "active" and s.scalar(again) == 1
        assert audit.verify_chain(s).ok


def test_ten_police_outcomes_record_one(pg_app):
    from tests.appeals.complaint_factory import citizen, police_refused

    engine = engine_of(pg_app)
    with Session(engine) as s:
        person = citizen(s)
        application = police_refused(s, person)
        values = form(
            s,
            None,
            person,
            kind="police",
            subject_type="application",
            subject_id=application.id,
            name=application.full_name,
            iin=application.iin,
        )
        complaint_id = complaints.file(s, **values).id
        coordinator_id = user(s, "coordinator@demo.kz").id
        s.commit()

    def act(i: int) -> str:
        with Session(engine) as s:
            coordinator = accounts.get_user(s, coordinator_id)
            complaints.record_police_outcome(
                s,
                complaint_id=complaint_id,
                outcome="cancel",
                reasons=f"Полиция басшылығы бас тартуды жойды #{i}",
                actor_id=coordinator_id,
                scope=Scope.of(coordinator, "coordinator"),
                now=at(FILE_DAY, 12),
            )
            s.commit()
        return "done"

    results = race(N, act)
    _only_conflicts(results, ["done"])
    with Session(engine) as s:
        assert audit_count(s, "complaint.police_outcome", "complaint", complaint_id) == 1
        assert s.get(Complaint, complaint_id).status == "decided"
        assert audit.verify_chain(s).ok
