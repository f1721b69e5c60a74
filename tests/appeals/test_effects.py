"""What overturned and stayed acts do to their records, only through the records' own steps."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from appeals import effects, hearing_replies, hearings, queries
from appeals.models import Complaint
from core.scope import Scope
from incentives import sessions
from incentives.models import AgendaItem
from tests.appeals.test_hearings import (
    MON,
    THU,
    TUE,
    WED,
    at,
    citizen,
    notified,
    petitioned,
    registrar,
)
from tests.conftest import audit_count
from tests.factories import commission as cf
from tests.factories.volunteers import fields, iin_for, make_member, unit, user
from volunteers import enrolment
from volunteers.models import Application, Member

pytestmark = pytest.mark.both_databases

DECIDED = at(dt.date(2026, 7, 1))  # Wednesday 1 July 2026


def complaint_about(s, hearing=None, *, subject_type=None, subject_id=None, kind="act"):
    """A registered complaint row, as appeals.complaints files one (its content is not read)."""
    unit_id = hearing.unit_id if hearing else s.get(Application, subject_id).unit_id
    row = Complaint(
        number=f"Ш-2026-{90000 + (subject_id or hearing.id):05d}",
        kind=kind,
        hearing_id=hearing.id if hearing else None,
        subject_type=hearing.subject_type if hearing else subject_type,
        subject_id=hearing.subject_id if hearing else subject_id,
        act_kind=hearing.act_kind if hearing else None,
        unit_id=unit_id,
        person_key=(hearing.person_key if hearing else None) or "k" * 64,
        complainant_name="Сапар Айбек",
        complainant_iin=iin_for(7001),
        complainant_address="Ботақара, Абай к-сі 5",
        act_challenged="Акт",
        grounds="Негіздер",
        request="Күшін жою",
        channel="portal",
        filed_at=at(WED),
        registered_on=WED,
        term_ends_on=dt.date(2026, 9, 17),
        status="registered",
        forward_due_on=dt.date(2026, 6, 22),
        execution_stayed=False,
        decided_at=DECIDED,
    )
    s.add(row)
    s.flush()
    return row


def adopted(s, act_kind, subject_id, codes, **kw):
    hearing = notified(s, act_kind, subject_id, codes)
    official, scope = registrar(s)
    if hearing.earliest_act_on is None:  # nothing electronic reached the person: paper, by hand
        hearing_replies.record_delivery(
            s,
            hearing_id=hearing.id,
            received_on=THU,
            how="by_hand",
            actor_id=official.id,
            scope=scope,
            now=at(THU),
        )
    return hearings.adopt(
        s,
        hearing_id=hearing.id,
        act_reasons="Негізделген шешім",
        actor_id=official.id,
        scope=scope,
        now=at(TUE),
        **kw,
    )


def test_an_overturned_akimat_refusal_goes_back_to_the_petition_and_can_register(app, session):
    application = petitioned(session, applicant=citizen(session))
    hearing = adopted(session, "refuse_registration", application.id, ["reg_medical_records"])
    complaint = complaint_about(session, hearing)
    effects.overturn(session, complaint, user(session, "admin@demo.kz").id)
    session.commit()
    session.refresh(application)
    assert (application.status, application.live, application.refused_by) == (
        "petitioned",
        True,
        None,
    )
    # 7 working days from 1 July: 6 July (Astana Day) is a holiday.
    assert application.registration_due_on == dt.date(2026, 7, 13)
    member = enrolment.register_applicant(
        session, application_id=application.id, actor_id=user(session, "registrar@demo.kz").id
    )
    assert member.status == "active" and member.certificate_no
    assert audit_count(session, "application.petition", "application", application.id) == 2


def test_an_overturned_police_refusal_goes_back_to_the_check(app, session):
    coordinator = user(session, "coordinator@demo.kz")
    application = enrolment.submit_application(session, **fields(session, iin=iin_for(7301)))
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session,
        application_id=application.id,
        passed=False,
        reason="Есепте тұр",
        actor_id=coordinator.id,
    )
    complaint = complaint_about(
        session, subject_type="application", subject_id=application.id, kind="police"
    )
    effects.overturn(session, complaint, coordinator.id)
    session.commit()
    session.refresh(application)
    assert (application.status, application.check_outcome, application.live) == (
        "police_check",
        None,
        True,
    )
    assert application.police_due_on == dt.date(2026, 7, 31)
    enrolment.record_check(
        session, application_id=application.id, passed=True, reason=None, actor_id=coordinator.id
    )
    assert session.get(Application, application.id).check_outcome == "passed"


def test_a_restored_application_cannot_clash_with_a_new_one(app, session):
    person = citizen(session)
    application = petitioned(session, applicant=person)
    hearing = adopted(session, "refuse_registration", application.id, ["reg_under_age"])
    session.commit()
    enrolment.submit_application(
        session, **fields(session, iin=application.iin, applicant_id=person.id, email=None)
    )
    complaint = complaint_about(session, hearing)
    session.commit()
    # The review body's decision stands; the record cannot follow it and says why (R1 #13).
    assert effects.overturn(session, complaint, person.id) is False
    session.commit()
    assert session.get(Application, application.id).status == "refused"
    assert audit_count(session, "complaint.overturn_blocked", "complaint", complaint.id) == 1
    assert queries.overturn_blocked(session, complaint.id) == effects.BLOCKED_OTHER_APPLICATION


def test_a_complaint_stays_a_suspension_and_its_failure_resumes_it(app, session):
    member = make_member(session, 7311)
    hearing = adopted(session, "suspend", member.id, ["susp_duty_breach"])
    complaint = complaint_about(session, hearing)
    actor = user(session, "registrar@demo.kz").id
    assert effects.stay_execution(session, complaint, actor)
    session.commit()
    assert session.get(Member, member.id).status == "active" and complaint.execution_stayed
    assert not effects.stay_execution(session, complaint, actor)  # nothing left to stay
    assert effects.resume_execution(session, complaint, actor, now=DECIDED)
    session.commit()
    assert session.get(Member, member.id).status == "suspended"
    assert not session.get(Complaint, complaint.id).execution_stayed
    assert not effects.resume_execution(session, complaint, actor)
    assert audit_count(session, "complaint.stay_execution", "complaint", complaint.id) == 1
    assert audit_count(session, "complaint.resume_execution", "complaint", complaint.id) == 1


def test_an_act_with_an_execution_exception_is_not_stayed(app, session):
    member = make_member(session, 7321)
    hearing = adopted(
        session,
        "expel",
        member.id,
        ["expel_conviction"],
        execution_exception="Үкім заңды күшіне енді",
    )
    complaint = complaint_about(session, hearing)
    assert not effects.stay_execution(session, complaint, user(session, "registrar@demo.kz").id)
    assert session.get(Member, member.id).status == "expelled"
    effects.overturn(session, complaint, user(session, "admin@demo.kz").id)  # cancelled later
    session.commit()
    member = session.get(Member, member.id)
    assert member.status == "active" and session.get(Application, member.application_id).live


def test_an_overturned_reward_refusal_goes_on_the_next_planned_sitting(app, session):
    s = cf.setup(session)
    person, contribution_ids = cf.nominee(session)
    nomination = cf.nominate(session, s, person, contribution_ids)
    sitting = cf.plan_sitting(session, s, [nomination.id])
    cf.open_sitting(session, s, sitting, cf.FOUR)
    cf.vote_all(session, s, sitting, dict.fromkeys(cf.FOUR, "against"))
    sessions.close(session, session_id=sitting.id, actor_id=s.users["secretary"], now=cf.NOW)
    (hearing,) = hearings.draft_for_sitting(
        session, sitting_id=sitting.id, actor_id=s.users["secretary"], now=cf.NOW
    )
    later = sessions.plan(
        session,
        commission_id=s.commission_id,
        held_on=dt.date(2026, 12, 10),
        place_kk="Әкімдік",
        place_ru="Акимат",
        on_paper=False,
        actor_id=s.users["secretary"],
    )
    complaint = complaint_about(session, hearing)
    complaint.decided_at = at(dt.date(2026, 11, 2))
    effects.overturn(session, complaint, s.users["secretary"])
    session.commit()
    session.refresh(nomination)
    assert nomination.status == "on_agenda"
    assert session.scalars(
        select(AgendaItem.session_id).where(AgendaItem.nomination_id == nomination.id)
    ).all() == [sitting.id, later.id]


def test_an_overturned_decline_reopens_the_initiative(app, session):
    import sober

    volunteer = user(session, "volunteer@demo.kz")
    coordinator = user(session, "coordinator@demo.kz")
    initiative = sober.submit_initiative(
        session,
        unit_id=unit(session, "354030100").id,
        title="Жастар кеші",
        description="Ауылда алкогольсіз мерекелер",
        measures="Жарыстар",
        team="Жастар ұйымы",
        requested_incentive="Спорт құралдары",
        proposer_role="activist",
        actor_id=volunteer.id,
        home_unit_id=volunteer.unit_id,
    )
    scope = Scope.of(coordinator, "coordinator")
    hearing = hearings.draft(
        session,
        act_kind="decline_initiative",
        subject_id=initiative.id,
        grounds=["init_duplicate"],
        grounds_text="",
        actor_id=coordinator.id,
        scope=scope,
        now=at(THU),
    )
    hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Бұрын қолдау тапқан",
        actor_id=coordinator.id,
        scope=scope,
        exception_kind="urgency",
        exception_reason="Іс-шара ертең өтеді",
        now=at(MON),
    )
    complaint = complaint_about(session, hearing)
    effects.overturn(session, complaint, user(session, "admin@demo.kz").id)
    session.commit()
    session.refresh(initiative)
    assert (initiative.status, initiative.decided_at) == ("under_review", None)
