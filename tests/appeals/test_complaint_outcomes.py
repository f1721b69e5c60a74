"""The outcomes of Art. 100(1) and of the police hierarchy, inaction, and the reads of pages."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from appeals import complaints, queries
from appeals.models import OUTCOMES, OVERTURNING, Complaint
from core import accounts
from core.errors import Conflict, DomainError, PermissionDenied
from core.notifications import Notification
from core.scope import Scope
from core.transitions import AlreadyMoved
from tests.appeals.complaint_factory import (
    DISTRICT,
    FILE_DAY,
    OTHER_REGION,
    REGION,
    adopt_act,
    at,
    calendar_term,
    citizen,
    configure_review,
    file_against,
    form,
    forwarded,
    member_of,
    petitioned,
    police_refused,
    reviewer,
    suspension,
    unit_id,
    user,
)
from tests.conftest import audit_count
from volunteers.models import Application, Member, MemberStatusChange

# Both databases: the outcome travels through guarded steps of two workflows.
pytestmark = pytest.mark.both_databases

DECIDED_AT = at(FILE_DAY + dt.timedelta(days=14))


def _decide(session, complaint, outcome, **kw):
    values = {
        "complaint_id": complaint.id,
        "outcome": outcome,
        "reasons": "Шағымның дәлелдері тексерілді",
        "actor_id": kw.pop("actor_id", None) or reviewer(session).id,
        "to_fix": "Денсаулық туралы анықтаманы қарау" if outcome == "returned" else None,
        "now": DECIDED_AT,
    }
    values.update(kw)
    return complaints.decide(session, **values)


@pytest.mark.parametrize("outcome", OUTCOMES)
def test_each_outcome_of_a_stayed_suspension(app, session, outcome):
    complaint, _hearing, member = forwarded(session)
    assert complaint.execution_stayed and member.status == "active"
    _decide(session, complaint, outcome)
    session.commit()
    assert complaint.status == "decided" and complaint.outcome == outcome
    assert complaint.decided_at is not None
    assert audit_count(session, "complaint.decide", "complaint", complaint.id) == 1
    session.expire_all()
    status = session.get(Member, member.id).status
    # Overturned: the suspension never takes effect. Otherwise the act executes as adopted,
    # never anything harsher (Art. 98(6)).
    assert status == ("active" if outcome in OVERTURNING else "suspended")
    assert (
        session.scalar(
            select(func.count())
            .select_from(Notification)
            .where(Notification.kind == "complaint_decided", Notification.user_id.is_not(None))
        )
        == 1
    )


@pytest.mark.parametrize("outcome", ["cancel", "unsatisfied"])
def test_an_expulsion_executed_despite_the_complaint(app, session, outcome):
    configure_review(session)
    person = citizen(session)
    member = member_of(session, person)
    hearing = adopt_act(session, "expel", member.id, execution_exception="Шұғыл қажеттілік")
    complaint = file_against(session, hearing, person)
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(FILE_DAY),
    )
    assert not complaint.execution_stayed
    _decide(session, complaint, outcome)
    session.commit()
    session.expire_all()
    expected = "active" if outcome == "cancel" else "expelled"
    assert session.get(Member, member.id).status == expected
    changes = session.scalars(
        select(MemberStatusChange.to_status)
        .where(MemberStatusChange.member_id == member.id)
        .order_by(MemberStatusChange.id)
    ).all()
    assert "suspended" not in changes  # nothing harsher, nothing in between


def test_returned_needs_what_to_fix_and_every_outcome_needs_reasons(app, session):
    complaint, _hearing, _member = forwarded(session)
    rev = reviewer(session)
    session.commit()
    with pytest.raises(DomainError) as caught:
        _decide(session, complaint, "returned", to_fix=" ", actor_id=rev.id)
    assert caught.value.field == "to_fix" and caught.value.status == 422
    for outcome in ("unconsidered", "cancel"):
        with pytest.raises(DomainError) as caught:
            _decide(session, complaint, outcome, reasons="", actor_id=rev.id)
        assert caught.value.field == "reasons"
    with pytest.raises(DomainError) as caught:
        _decide(session, complaint, "harsher", actor_id=rev.id)
    assert caught.value.field == "outcome"
    session.rollback()
    assert session.get(Complaint, complaint.id).status == "forwarded"


def test_a_complaint_is_decided_once_and_only_after_forwarding(app, session):
    configure_review(session)
    person = citizen(session)
    member = member_of(session, person)
    hearing = adopt_act(session, "suspend", member.id)
    complaint = file_against(session, hearing, person)
    with pytest.raises(Conflict):
        _decide(session, complaint, "cancel")
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(FILE_DAY),
    )
    rev = reviewer(session)
    _decide(session, complaint, "unsatisfied", actor_id=rev.id)
    with pytest.raises(AlreadyMoved) as caught:
        _decide(session, complaint, "cancel", actor_id=rev.id)
    assert caught.value.status == 409
    assert complaint.outcome == "unsatisfied"


# ---- inaction and the police stage ------------------------------------------------------------


def test_inaction_past_the_registration_deadline_is_a_complaint_to_the_akimat(app, session):
    configure_review(session)
    person = citizen(session)
    application = petitioned(session, person)
    due = application.registration_due_on
    assert complaints.inaction_candidates(session, person_user_id=person.id, today=due) == []
    found = complaints.inaction_candidates(
        session, person_user_id=person.id, today=due + dt.timedelta(days=1)
    )
    assert [(c.application_id, c.kind) for c in found] == [(application.id, "inaction")]
    values = form(
        session,
        None,
        person,
        kind="inaction",
        subject_type="application",
        subject_id=application.id,
        name=application.full_name,
        iin=application.iin,
        now=at(FILE_DAY),
    )
    complaint = complaints.file(session, **values)
    assert complaint.kind == "inaction" and complaint.act_kind is None
    assert complaint.term_ends_on == calendar_term(session, due)
    assert complaints.inaction_candidates(session, person_user_id=person.id, today=FILE_DAY) == []
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(FILE_DAY),
    )
    assert complaint.status == "forwarded"


def test_no_inaction_before_the_deadline(app, session):
    person = citizen(session)
    application = petitioned(session, person, today=dt.date(2026, 11, 5))
    with pytest.raises(Conflict):
        complaints.file(
            session,
            **form(
                session,
                None,
                person,
                kind="inaction",
                subject_type="application",
                subject_id=application.id,
                name=application.full_name,
                iin=application.iin,
            ),
        )


def test_a_police_refusal_goes_up_the_police_hierarchy(app, session):
    configure_review(session)
    person = citizen(session)
    application = police_refused(session, person)
    values = form(
        session,
        None,
        person,
        kind="police",
        subject_type="application",
        subject_id=application.id,
        name=application.full_name,
        iin=application.iin,
    )
    complaint = complaints.file(session, **values)
    assert complaint.kind == "police"
    registrar = user(session, "registrar@demo.kz")
    coordinator = user(session, "coordinator@demo.kz")
    rev = reviewer(session)
    # The akimat neither grants, forwards nor decides a complaint about the police.
    for step in (complaints.grant_in_full, complaints.forward):
        with pytest.raises(Conflict):
            step(
                session,
                complaint_id=complaint.id,
                actor_id=registrar.id,
                scope=Scope.of(registrar, "registrar"),
                **({"reasons": "x"} if step is complaints.grant_in_full else {}),
            )
    with pytest.raises(Conflict):
        complaints.decide(
            session, complaint_id=complaint.id, outcome="cancel", reasons="x", actor_id=rev.id
        )
    with pytest.raises(PermissionDenied):
        complaints.record_police_outcome(
            session,
            complaint_id=complaint.id,
            outcome="cancel",
            reasons="x",
            actor_id=registrar.id,
            scope=Scope.of(registrar, "registrar"),
        )
    complaints.record_police_outcome(
        session,
        complaint_id=complaint.id,
        outcome="cancel",
        reasons="Облыстық полиция департаментінің шешімі № 12",
        actor_id=coordinator.id,
        scope=Scope.of(coordinator, "coordinator"),
        now=at(FILE_DAY + dt.timedelta(days=10)),
    )
    session.commit()
    assert complaint.status == "decided" and complaint.outcome == "cancel"
    assert audit_count(session, "complaint.police_outcome", "complaint", complaint.id) == 1
    session.expire_all()
    reopened = session.get(Application, application.id)
    assert reopened.status == "police_check" and reopened.check_outcome is None


# ---- the reads pages share --------------------------------------------------------------------


def test_scoped_reads_the_persons_cases_and_the_review_queue(app, session):
    complaint, hearing, _member = forwarded(session)
    person = session.get(accounts.User, complaint.person_user_id)
    district = Scope.within([unit_id(session, DISTRICT)])
    elsewhere = Scope.within([unit_id(session, OTHER_REGION)])
    assert queries.complaints_for(session, district) == [complaint]
    assert queries.complaints_for(session, district, "registered") == []
    assert queries.complaints_for(session, elsewhere) == []
    assert hearing in queries.hearings_for(session, district, "adopted")
    assert queries.hearings_for(session, elsewhere) == []
    mine = queries.cases_of_person(session, person.id)
    assert (mine.hearings, mine.complaints) == ([hearing], [complaint])
    stranger = queries.cases_of_person(session, citizen(session).id)
    assert (stranger.hearings, stranger.complaints) == ([], [])
    assert queries.complaints_to_review(session, reviewer(session)) == [complaint]
    author = user(session, "registrar@demo.kz")
    accounts.grant_role(
        session, user_id=author.id, role="reviewer", unit_id=unit_id(session, REGION), actor_id=None
    )
    session.expire(author)
    assert queries.complaints_to_review(session, author) == []
    assert not complaints.can_review(session, complaint, author)
    far = reviewer(session, "reviewer.akmola@demo.kz", OTHER_REGION)
    assert queries.complaints_to_review(session, far) == []


def test_numbers_start_again_each_year_and_notices_hold_no_iin(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(
        session, hearing, person, now=at(dt.date(2027, 1, 4)), contact="aibek@example.kz"
    )
    assert complaint.number == "Ш-2027-00001"
    for note in session.scalars(select(Notification).where(Notification.user_id == person.id)):
        assert complaint.complainant_iin not in note.params
