"""The complaint side of review R1: terms, stays, late filings, reviewers, reads and erasure."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from appeals import complaints, erasure, queries, reports, settings, terms
from appeals.complaint_rules import filed_late
from appeals.models import Complaint, Hearing
from core import audit
from core.db import UTCDateTime
from core.errors import Conflict, PermissionDenied
from core.scope import Scope
from tests.appeals.complaint_factory import (
    ACT_DAY,
    DISTRICT,
    FILE_DAY,
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
    no_review_body,
    petitioned,
    reviewer,
    suspension,
    unit_id,
    user,
)
from tests.conftest import audit_count, engine_of, race
from tests.factories.accounts import official as _official
from volunteers import enrolment
from volunteers import erasure as volunteer_erasure
from volunteers.models import Member

pytestmark = pytest.mark.both_databases

LATE = at(dt.date(2027, 2, 9))  # the day after the 3 months from the act of 6 November 2026


def official(session, email, role, unit):
    return _official(
        session, email, role, unit, password="official password 1", full_name="Тексеруші Басқа"
    )


def _registrar(session):
    registrar = user(session, "registrar@demo.kz")
    return registrar, Scope.of(registrar, "registrar")


def _forward(session, complaint, now=None):
    registrar, scope = _registrar(session)
    return complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=scope,
        now=now or at(FILE_DAY + dt.timedelta(days=1)),
    )


def _decide(session, complaint, outcome, actor=None):
    return complaints.decide(
        session,
        complaint_id=complaint.id,
        outcome=outcome,
        reasons="Дәлелдер тексерілді",
        actor_id=(actor or reviewer(session)).id,
        to_fix="Анықтаманы қарау" if outcome == "returned" else None,
        now=at(FILE_DAY + dt.timedelta(days=7)),
    )


# ---- 1: the term follows what the act said -----------------------------------------------------


def test_the_term_follows_the_notice_the_act_gave_not_todays_settings(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    assert hearing.appeal_notice_given is True
    no_review_body(session)  # the setting changes after the act: the act named a body
    complaint = file_against(session, hearing, person)
    assert complaint.term_ends_on == calendar_term(session, ACT_DAY)


# ---- 2: a repeat complaint stays nothing -------------------------------------------------------


def test_a_repeat_complaint_after_a_decision_does_not_stay_the_act_again(app, session):
    complaint, hearing, member = forwarded(session)
    assert session.get(Member, member.id).status == "active"  # stayed by the first
    _decide(session, complaint, "unsatisfied")
    assert session.get(Member, member.id).status == "suspended"  # executed again
    person = session.get(Hearing, hearing.id).person_user_id
    again = file_against(
        session, hearing, user_by_id(session, person), now=at(FILE_DAY + dt.timedelta(days=9))
    )
    assert again.status == "registered" and again.execution_stayed is False
    assert session.get(Member, member.id).status == "suspended"
    assert audit_count(session, "complaint.stay_execution", "complaint", again.id) == 0


def user_by_id(session, user_id):
    from core.accounts import User

    return session.get(User, user_id)


# ---- 3: a stayed expulsion of a suspended member ----------------------------------------------


def test_a_stayed_expulsion_of_a_suspended_member_goes_back_to_suspended(app, session):
    configure_review(session)
    person = citizen(session)
    member = member_of(session, person)
    adopt_act(session, "suspend", member.id)
    assert member.status == "suspended"
    expulsion = _expel(session, member)
    assert session.get(Member, member.id).status == "expelled"
    complaint = file_against(session, expulsion, person, now=at(FILE_DAY + dt.timedelta(days=14)))
    assert complaint.execution_stayed is True
    assert session.get(Member, member.id).status == "suspended"  # not "active"
    _forward(session, complaint, now=at(FILE_DAY + dt.timedelta(days=15)))
    _decide(session, complaint, "unsatisfied")
    assert session.get(Member, member.id).status == "expelled"  # the expulsion executes again


def test_an_overturned_expulsion_of_a_suspended_member_keeps_the_suspension(app, session):
    configure_review(session)
    person = citizen(session)
    member = member_of(session, person)
    adopt_act(session, "suspend", member.id)
    expulsion = _expel(session, member, execution_exception="Қоғамдық тәртіпке қауіп")
    complaint = file_against(session, expulsion, person, now=at(FILE_DAY + dt.timedelta(days=14)))
    assert complaint.execution_stayed is False
    _forward(session, complaint, now=at(FILE_DAY + dt.timedelta(days=15)))
    _decide(session, complaint, "cancel")
    assert session.get(Member, member.id).status == "suspended"
    assert audit_count(session, "member.suspended", "member", member.id) >= 2


def _expel(session, member, **kw) -> Hearing:
    from appeals import hearings
    from tests.appeals.complaint_factory import ground

    registrar, scope = _registrar(session)
    start = FILE_DAY  # a Monday: notice, then the act 3 working days later
    hearing = hearings.draft(
        session,
        act_kind="expel",
        subject_id=member.id,
        grounds=[ground(session, "expel")],
        grounds_text="Жүйелі бұзушылық",
        actor_id=registrar.id,
        scope=scope,
        now=at(start, 9, 30),
    )
    hearings.notify(
        session, hearing_id=hearing.id, actor_id=registrar.id, scope=scope, now=at(start)
    )
    return hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Қарсылық берілмеді",
        actor_id=registrar.id,
        scope=scope,
        now=at(start + dt.timedelta(days=4)),
        **kw,
    )


# ---- 6: a late complaint is registered; the term is restored or it is left unconsidered ------


def test_a_late_complaint_is_decided_only_as_unconsidered_until_its_term_is_restored(app, session):
    configure_review(session)
    hearing, member, person = suspension(session)
    complaint = file_against(session, hearing, person, now=LATE, restored_reason="Ауырдым")
    assert filed_late(complaint) and complaint.execution_stayed is False
    registrar, scope = _registrar(session)
    with pytest.raises(Conflict):
        complaints.grant_in_full(
            session,
            complaint_id=complaint.id,
            reasons="Иә",
            actor_id=registrar.id,
            scope=scope,
            now=LATE,
        )
    _forward(session, complaint, now=LATE)
    with pytest.raises(Conflict) as caught:
        _decide(session, complaint, "cancel")
    assert caught.value.message == complaints.LATE_FIRST
    _decide(session, complaint, "unconsidered")
    assert complaint.outcome == "unconsidered"
    assert session.get(Member, member.id).status == "suspended"


def test_restoring_the_term_is_one_audited_step_and_stays_the_act(app, session):
    configure_review(session)
    hearing, member, person = suspension(session)
    complaint = file_against(session, hearing, person, now=LATE, restored_reason="Ауырдым")
    registrar, scope = _registrar(session)
    outsider = official(
        session, "registrar.other@example.kz", "registrar", unit_id(session, "110000000")
    )
    with pytest.raises(Exception) as denied:
        complaints.restore_term(
            session,
            complaint_id=complaint.id,
            reasons="Себебі дәлелді",
            actor_id=outsider.id,
            scope=Scope.of(outsider, "registrar"),
            now=LATE,
        )
    assert denied.value.status in (403, 404)
    complaints.restore_term(
        session,
        complaint_id=complaint.id,
        reasons="Себебі дәлелді",
        actor_id=registrar.id,
        scope=scope,
        now=LATE,
    )
    assert not filed_late(complaint)
    assert complaint.term_restored_reasons == "Себебі дәлелді"
    assert complaint.execution_stayed is True
    assert session.get(Member, member.id).status == "active"
    assert audit_count(session, "complaint.restore_term", "complaint", complaint.id) == 1
    with pytest.raises(Conflict):
        complaints.restore_term(
            session,
            complaint_id=complaint.id,
            reasons="Тағы",
            actor_id=registrar.id,
            scope=scope,
            now=LATE,
        )


# ---- 8: the officials who failed to act do not review the inaction complaint ------------------


def test_a_registrar_over_the_unit_cannot_review_an_inaction_complaint(app, session):
    configure_review(session)
    both = official(session, "both.roles@example.kz", "reviewer", unit_id(session, REGION))
    from core import accounts

    accounts.grant_role(
        session, user_id=both.id, role="registrar", unit_id=unit_id(session, REGION), actor_id=None
    )
    person = citizen(session)
    application = petitioned(session, person)
    late_day = application.registration_due_on + dt.timedelta(days=3)
    complaint = complaints.file(
        session,
        **form(
            session,
            None,
            person,
            kind="inaction",
            subject_type="application",
            subject_id=application.id,
            hearing_id=None,
            iin=application.iin,
            name=application.full_name,
            act_challenged="Бездействие",
            now=at(late_day),
        ),
    )
    _forward(session, complaint, now=at(late_day))
    assert both.id in complaints.authors(session, complaint)
    assert not complaints.can_review(session, complaint, both)
    assert complaint not in queries.complaints_to_review(session, both)
    with pytest.raises(PermissionDenied):
        _decide(session, complaint, "perform_action", actor=both)
    assert complaint in queries.complaints_to_review(session, reviewer(session))


# ---- 10, 17, 18, 20: forwarding and deciding ---------------------------------------------------


def test_forwarding_to_a_named_reviewer_who_wrote_the_act_is_refused(app, session):
    hearing, _member, person = suspension(session)
    registrar, _scope = _registrar(session)
    settings.set_review_body(
        session,
        unit_id=unit_id(session, DISTRICT),
        review_unit_id=None,
        reviewer_id=registrar.id,
        body_kk="Әкім",
        body_ru="Аким",
        how_kk="",
        how_ru="",
        actor_id=user(session, "admin@demo.kz").id,
    )
    complaint = file_against(session, hearing, person)
    with pytest.raises(Conflict):
        _forward(session, complaint)
    assert complaint.status == "registered"


def test_the_review_term_runs_from_registration_at_the_reviewing_body(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(session, hearing, person)
    friday_evening = at(dt.date(2026, 11, 13), 18, 30)  # registered on Monday 16 November
    _forward(session, complaint, now=friday_evening)
    assert complaint.forwarded_on == dt.date(2026, 11, 13)
    assert complaint.review_due_on == terms.working_day_after(
        session, dt.date(2026, 11, 16), terms.REVIEW_WD
    )


def test_granting_in_full_is_refused_after_the_three_working_days(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(session, hearing, person)
    registrar, scope = _registrar(session)
    after = at(complaint.forward_due_on + dt.timedelta(days=1))
    with pytest.raises(Conflict):
        complaints.grant_in_full(
            session,
            complaint_id=complaint.id,
            reasons="Иә",
            actor_id=registrar.id,
            scope=scope,
            now=after,
        )
    assert complaint.status == "registered"


def test_an_outsider_deciding_learns_nothing_of_the_status(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    complaint = file_against(session, hearing, person)
    outsider = official(
        session, "reviewer.far@example.kz", "reviewer", unit_id(session, "110000000")
    )
    with pytest.raises(PermissionDenied):
        _decide(session, complaint, "cancel", actor=outsider)  # registered: not a 409
    _forward(session, complaint)
    _decide(session, complaint, "unsatisfied")
    with pytest.raises(PermissionDenied):
        _decide(session, complaint, "cancel", actor=outsider)  # decided: not a 409 naming who


# ---- 15: the police's term ending on a day off -----------------------------------------------


def test_a_police_deadline_on_a_day_off_runs_to_the_next_working_day(app, session):
    person = citizen(session)
    application = enrolment.submit_application(session, **_fields(session, person))
    saturday = dt.date(2026, 11, 14)
    application.police_due_on = saturday
    session.flush()
    for today, listed in (
        (dt.date(2026, 11, 15), False),  # Sunday
        (dt.date(2026, 11, 16), False),  # Monday: the term's last day
        (dt.date(2026, 11, 17), True),
    ):
        found = complaints.inaction_candidates(session, person_user_id=person.id, today=today)
        assert bool([c for c in found if c.kind == "police"]) is listed, today


def _fields(session, person):
    from tests.factories.volunteers import fields, iin_for

    return fields(
        session,
        iin=iin_for(8811),
        applicant_id=person.id,
        email=None,
        channel="web",
        today=dt.date(2026, 10, 1),
    )


# ---- 22, 24: reads -----------------------------------------------------------------------------


def test_complaints_of_one_hearing_and_bounded_lists(app, session):
    configure_review(session)
    hearing, _member, person = suspension(session)
    other, _m, other_person = suspension(session)
    mine = file_against(session, hearing, person)
    file_against(session, other, other_person)
    assert queries.complaints_of_hearing(session, hearing.id) == [mine]
    scope = Scope.within([unit_id(session, DISTRICT)])
    assert len(queries.complaints_for(session, scope)) == 2
    assert len(queries.complaints_for(session, scope, limit=1)) == 1
    assert (
        queries.complaints_for(session, scope, limit=1, offset=1)[0]
        != queries.complaints_for(session, scope, limit=1)[0]
    )
    assert len(queries.hearings_for(session, scope, limit=1)) == 1


# ---- 23: the local day before 1 March 2024 ---------------------------------------------------


def test_the_local_day_of_a_moment_uses_the_offset_then_in_force(app, session):
    moment = dt.datetime(2024, 1, 10, 18, 30, tzinfo=dt.UTC)  # 00:30 on the 11th at UTC+6
    day = session.scalar(select(reports.local_day(session, literal(moment, UTCDateTime()))))
    assert str(day) == "2024-01-11"
    later = dt.datetime(2024, 6, 10, 18, 30, tzinfo=dt.UTC)  # 23:30 on the 10th at UTC+5
    day = session.scalar(select(reports.local_day(session, literal(later, UTCDateTime()))))
    assert str(day) == "2024-06-10"


# ---- 14: retention of a treated person's cases -------------------------------------------------


def test_the_retention_job_erases_a_treated_persons_complaints(app, session):
    complaint, hearing, member = forwarded(session)
    _decide(session, complaint, "unsatisfied")
    assert erasure.erase_cases in volunteer_erasure.ERASERS
    audit.take_append_lock(session)
    treated = erasure.erase_cases(session, [member.application_id], [member.id], at(FILE_DAY))
    assert treated == 2  # the hearing and the complaint
    session.expire_all()
    row = session.get(Complaint, complaint.id)
    assert (row.complainant_name, row.complainant_address, row.grounds, row.request) == (
        "•••",
        "",
        "",
        "",
    )
    assert row.complainant_iin == erasure.erased_complainant_iin(complaint.id)
    assert row.outcome == "unsatisfied"  # the decision stays
    assert session.get(Hearing, hearing.id).person_name == "•••"
    assert audit_count(session, "complaint.erase", "complaint", complaint.id) == 1
    assert erasure.erase_cases(session, [member.application_id], [member.id], at(FILE_DAY)) == 0
    assert audit.verify_chain(session).ok


# ---- races (PostgreSQL) ------------------------------------------------------------------------


def test_ten_restorations_of_one_term_restore_it_once(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        configure_review(s)
        hearing, _member, person = suspension(s)
        complaint_id = file_against(s, hearing, person, now=LATE).id
        registrar_id = user(s, "registrar@demo.kz").id
        s.commit()

    def restore(_i: int) -> str:
        with Session(engine) as s:
            registrar = user(s, "registrar@demo.kz")
            complaints.restore_term(
                s,
                complaint_id=complaint_id,
                reasons="Дәлелді себеп",
                actor_id=registrar_id,
                scope=Scope.of(registrar, "registrar"),
                now=LATE,
            )
            s.commit()
        return "restored"

    results = race(10, restore)
    assert results.count("restored") == 1, results
    losers = [r for r in results if r != "restored"]
    assert all(isinstance(r, Conflict) and r.status == 409 for r in losers), results
    with Session(engine) as s:
        assert audit_count(s, "complaint.restore_term", "complaint", complaint_id) == 1
        assert audit_count(s, "complaint.stay_execution", "complaint", complaint_id) == 1
        assert audit.verify_chain(s).ok


def test_a_reviewer_linked_to_the_complainant_by_iin_neither_sees_nor_counts_it(session):
    """The review body's member whose account holds the complainant's register entry (the same
    person, by IIN) is not asked to review it: not in the queue, not in the to-do count."""
    from appeals import waiting

    complaint, _hearing, member = forwarded(session)
    own = reviewer(session)
    assert complaint.person_user_id != own.id
    member.user_id = own.id  # the same person's register entry, linked to the official's account
    session.flush()
    assert complaint.person_key is not None
    assert not complaints.can_review(session, complaint, own)
    assert complaint not in queries.complaints_to_review(session, own)
    day = FILE_DAY + dt.timedelta(days=2)
    assert waiting.complaints_to_review(session, own, day).count == 0
    other = reviewer(session, "reviewer.other@demo.kz")
    assert complaint in queries.complaints_to_review(session, other)
    assert waiting.complaints_to_review(session, other, day).count == 1
