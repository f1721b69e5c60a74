"""Hearings before burdensome acts: every step and state, the terms, exceptions and effects."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from appeals import grounds as legal_grounds
from appeals import hearings
from appeals.models import Hearing, HearingObjection, HearingProtocol, LegalGround
from core import accounts, calendar
from core.audit import AuditEvent
from core.errors import Conflict, DomainError, NotFound, PermissionDenied
from core.notifications import Notification
from core.scope import Scope
from core.transitions import AlreadyMoved
from tests.conftest import audit_count
from tests.factories.volunteers import fields, iin_for, make_member, unit, user
from volunteers import enrolment
from volunteers.models import Application, Member

pytestmark = pytest.mark.both_databases

ALMATY = ZoneInfo("Asia/Almaty")
THU, FRI, SAT, SUN, MON, TUE, WED = (dt.date(2026, 6, d) for d in range(11, 18))
_SERIALS = itertools.count(8301)


def at(day: dt.date, hour: int = 10) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=ALMATY).astimezone(dt.UTC)


def _serial() -> int:
    serial = next(_SERIALS)
    while iin_for(serial)[7:11] != f"{serial:04d}":
        serial = next(_SERIALS)
    return serial


def citizen(s, name="Сапар Айбек"):
    n = next(_SERIALS)
    return accounts.create_user(
        s,
        email=f"citizen{n}@example.kz",
        phone=None,
        full_name=name,
        preferred_language="ru",
        unit_id=unit(s, "354030100").id,
        password="citizen-password-2026",
        actor_id=None,
    )


def petitioned(s, applicant=None) -> Application:
    coordinator = user(s, "coordinator@demo.kz")
    app = enrolment.submit_application(
        s,
        **fields(
            s, iin=iin_for(_serial()), applicant_id=applicant.id if applicant else None, email=None
        ),
    )
    enrolment.take_check(s, application_id=app.id, actor_id=coordinator.id)
    enrolment.record_check(
        s, application_id=app.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(s, application_id=app.id, actor_id=coordinator.id)
    return app


def registrar(s):
    official = user(s, "registrar@demo.kz")
    return official, Scope.of(official, "registrar")


def drafted(s, act_kind, subject_id, codes):
    official, scope = registrar(s)
    return hearings.draft(
        s,
        act_kind=act_kind,
        subject_id=subject_id,
        grounds=codes,
        grounds_text="Наркологиялық диспансердің 2026 жылғы 5 маусымдағы хаты",
        actor_id=official.id,
        scope=scope,
        now=at(THU, 9),
    )


def notified(s, act_kind, subject_id, codes, day=THU):
    official, scope = registrar(s)
    hearing = drafted(s, act_kind, subject_id, codes)
    return hearings.notify(s, hearing_id=hearing.id, actor_id=official.id, scope=scope, now=at(day))


def events(s, hearing_id) -> list[str]:
    return list(
        s.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.object_type == "hearing", AuditEvent.object_id == str(hearing_id))
            .order_by(AuditEvent.seq)
        )
    )


def _adopt(session, hearing, official, scope, now, act_reasons, **kw) -> Hearing:
    """Adopt ``hearing``'s act as ``official`` with ``act_reasons`` (and any exception)."""
    return hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons=act_reasons,
        actor_id=official.id,
        scope=scope,
        now=now,
        **kw,
    )


def test_grounds_are_loaded_as_data_for_every_act_kind(app, session):
    for kind in hearings.ACT_ROLES:
        assert legal_grounds.grounds_for(session, kind), kind
    assert legal_grounds.load_grounds(session) == 0  # loaded once, kept as edited
    ground = session.get(LegalGround, "reg_medical_records")
    assert ground.article and ground.text("kk") and ground.text("ru") and ground.text("en")


def test_refusal_of_registration_through_every_step_of_the_hearing(app, session):
    person = citizen(session)
    application = petitioned(session, applicant=person)
    official, scope = registrar(session)
    hearing = drafted(session, "refuse_registration", application.id, ["reg_medical_records"])
    assert (hearing.status, hearing.subject_type, hearing.person_user_id) == (
        "drafted",
        "application",
        person.id,
    )
    assert hearing.person_key == application.iin_index and hearing.unit_id == application.unit_id

    hearings.notify(session, hearing_id=hearing.id, actor_id=official.id, scope=scope, now=at(THU))
    assert hearing.status == "notified"
    assert (hearing.objection_due_on, hearing.earliest_act_on) == (MON, TUE)
    notice = session.scalars(
        select(Notification).where(Notification.kind == "hearing_notice")
    ).one()
    assert notice.user_id == person.id and application.iin not in notice.params
    assert '"objection_due_on":"2026-06-15"' in notice.params.replace(" ", "")

    on_time = hearings.object(
        session,
        hearing_id=hearing.id,
        body="Мен есепте тұрмаймын, анықтама қоса беремін.",
        channel="portal",
        actor_id=person.id,
        now=at(FRI),
    )
    late = hearings.object(
        session,
        hearing_id=hearing.id,
        body="Қағаз түріндегі қарсылық",
        channel="paper",
        actor_id=official.id,
        now=at(TUE),
    )
    assert (on_time.late, late.late) == (False, True)  # a late one is kept, marked late
    hearings.request_oral(session, hearing_id=hearing.id, actor_id=person.id, now=at(FRI))
    with pytest.raises(Conflict):  # the oral hearing blocks the act until its protocol
        _adopt(
            session,
            hearing,
            official,
            scope,
            at(TUE),
            "Анықтама расталмады",
        )
    protocol = hearings.record_protocol(
        session,
        hearing_id=hearing.id,
        held_at=at(MON, 11),
        mode="video",
        attendees="Оспанова Д., Сапар А.",
        body="Өтініш беруші өз дәлелдерін айтты.",
        actor_id=official.id,
        scope=scope,
        now=at(TUE),
    )
    assert hearing.status == "heard"
    assert (protocol.signed_on, protocol.remarks_due_on) == (TUE, dt.date(2026, 6, 19))
    hearings.add_remarks(
        session, hearing_id=hearing.id, body="Хаттамаға ескертпе", actor_id=person.id, now=at(WED)
    )
    with pytest.raises(Conflict):
        hearings.add_remarks(
            session, hearing_id=hearing.id, body="Тағы бір", actor_id=person.id, now=at(WED)
        )
    with pytest.raises(DomainError):  # reasons are required, above all with objections
        hearings.adopt(
            session, hearing_id=hearing.id, act_reasons="  ", actor_id=official.id, scope=scope
        )
    _adopt(
        session,
        hearing,
        official,
        scope,
        at(WED),
        "Диспансердің хаты расталды; қарсылықтар қаралды.",
    )
    session.commit()
    session.refresh(application)
    assert hearing.status == "adopted" and hearing.act_on == WED
    assert hearing.act_number == "2026-00001" and hearing.adopted_by_id == official.id
    assert hearings.is_author(hearing, official.id) and not hearings.is_author(hearing, person.id)
    assert (application.status, application.refused_by, application.live) == (
        "refused",
        "akimat",
        False,
    )
    assert application.check_outcome == "passed" and application.refusal_reason
    assert session.scalar(
        select(func.count()).select_from(Notification).where(Notification.kind == "hearing_adopted")
    )
    assert events(session, hearing.id) == [
        "hearing.draft",
        "hearing.notify",
        "hearing.objection",
        "hearing.objection",
        "hearing.oral_request",
        "hearing.protocol",
        "hearing.remarks",
        "hearing.adopt",
    ]
    assert audit_count(session, "application.refuse", "application", application.id) == 1
    payloads = session.scalars(
        select(AuditEvent.payload).where(AuditEvent.object_type == "hearing")
    ).all()
    assert not any(application.iin in p or "есепте" in p for p in payloads)


def test_adoption_before_the_term_is_refused_and_an_exception_allows_it(app, session):
    member = make_member(session, _serial(), applicant=citizen(session))
    official, scope = registrar(session)
    hearing = notified(session, "suspend", member.id, ["susp_duty_breach"])
    session.commit()
    with pytest.raises(Conflict) as refused:
        _adopt(
            session,
            hearing,
            official,
            scope,
            at(MON),
            "Кезекшілікке үш рет келмеді",
        )
    assert refused.value.params == {"day": "2026-06-16"}
    session.rollback()
    with pytest.raises(DomainError):  # an exception needs its reason
        _adopt(
            session,
            hearing,
            official,
            scope,
            at(MON),
            "Кезекшілікке үш рет келмеді",
            exception_kind="urgency",
            exception_reason=" ",
        )
    session.rollback()
    assert session.get(Hearing, hearing.id).status == "notified"
    assert session.get(Member, member.id).status == "active"
    _adopt(
        session,
        hearing,
        official,
        scope,
        at(MON),
        "Кезекшілікке үш рет келмеді",
        exception_kind="urgency",
        exception_reason="Қоғамдық тәртіпке тікелей қауіп",
    )
    session.commit()
    hearing = session.get(Hearing, hearing.id)
    assert (hearing.status, hearing.exception_kind) == ("adopted", "urgency")
    assert session.get(Member, member.id).status == "suspended"
    assert audit_count(session, "member.suspended", "member", member.id) == 1


def test_an_unnotified_act_needs_a_recorded_exception(app, session):
    member = make_member(session, _serial())
    official, scope = registrar(session)
    hearing = drafted(session, "expel", member.id, ["expel_repeated_breach"])
    with pytest.raises(Conflict):
        _adopt(
            session,
            hearing,
            official,
            scope,
            at(WED),
            "Міндеттерін бірнеше рет орындамады",
        )
    _adopt(
        session,
        hearing,
        official,
        scope,
        at(WED),
        "Міндеттерін бірнеше рет орындамады",
        exception_kind="person_waived",
        exception_reason="Азамат тыңдаудан жазбаша бас тартты",
        execution_exception="Қоғамдық қауіпсіздік үшін шұғыл орындалады",
    )
    session.commit()
    member = session.get(Member, member.id)
    assert member.status == "expelled" and not session.get(Application, member.application_id).live
    assert session.get(Hearing, hearing.id).execution_exception


def test_terms_across_a_holiday_and_a_transferred_working_day(app, session):
    calendar.set_day(session, day=FRI, kind="holiday", name_kk="Мереке", name_ru="Праздник")
    # Members with an account: the notice is received in it the day it is sent.
    person = citizen(session)
    first = notified(
        session,
        "suspend",
        make_member(session, _serial(), applicant=person).id,
        ["susp_duty_breach"],
    )
    assert (first.objection_due_on, first.earliest_act_on) == (TUE, WED)
    calendar.set_day(session, day=SAT, kind="working", name_kk="Жұмыс", name_ru="Рабочий")
    second = notified(
        session,
        "suspend",
        make_member(session, _serial(), applicant=citizen(session)).id,
        ["susp_duty_breach"],
    )
    assert (second.objection_due_on, second.earliest_act_on) == (MON, TUE)


def test_remarks_after_their_due_day_are_refused_and_nothing_is_written(app, session):
    person = citizen(session)
    application = petitioned(session, applicant=person)
    official, scope = registrar(session)
    hearing = notified(session, "refuse_registration", application.id, ["reg_criminal_record"])
    hearings.record_protocol(
        session,
        hearing_id=hearing.id,
        held_at=at(FRI, 9),
        mode="in_person",
        attendees="Оспанова Д., Сапар А.",
        body="Тыңдау өтті.",
        actor_id=official.id,
        scope=scope,
        now=at(FRI),
    )
    session.commit()
    with pytest.raises(Conflict) as late:
        hearings.add_remarks(
            session,
            hearing_id=hearing.id,
            body="Кеш ескертпе",
            actor_id=person.id,
            now=at(dt.date(2026, 6, 18)),
        )
    assert late.value.params == {"day": "2026-06-17"}
    session.rollback()
    protocol = session.scalars(select(HearingProtocol)).one()
    assert protocol.remarks is None
    assert audit_count(session, "hearing.remarks", "hearing", hearing.id) == 0


def test_who_may_take_which_step(app, session):
    person, stranger = citizen(session), citizen(session, "Басқа Адам")
    application = petitioned(session, applicant=person)
    hearing = notified(session, "refuse_registration", application.id, ["reg_under_age"])
    secretary = user(session, "secretary@demo.kz")
    with pytest.raises(NotFound):  # outside the registrar's scope: no such hearing
        hearings.notify(
            session,
            hearing_id=hearing.id,
            actor_id=secretary.id,
            scope=Scope.of(secretary, "registrar"),
        )
    for actor in (stranger, secretary):
        with pytest.raises(NotFound):
            hearings.object(
                session, hearing_id=hearing.id, body="…", channel="portal", actor_id=actor.id
            )
        with pytest.raises(NotFound):
            hearings.request_oral(session, hearing_id=hearing.id, actor_id=actor.id)
    with pytest.raises(PermissionDenied):  # the person writes on the portal, staff the paper
        hearings.object(
            session, hearing_id=hearing.id, body="Қарсымын", channel="paper", actor_id=person.id
        )
    with pytest.raises(Conflict):  # the oral hearing is asked for within the objection term
        hearings.request_oral(session, hearing_id=hearing.id, actor_id=person.id, now=at(TUE))
    assert hearings.is_person(session, hearing, person.id)
    assert not hearings.is_person(session, hearing, stranger.id)


def test_withdrawal_keeps_the_record_and_frees_the_subject_for_a_new_hearing(app, session):
    application = petitioned(session)
    official, scope = registrar(session)
    hearing = notified(session, "refuse_registration", application.id, ["reg_not_citizen"])
    session.commit()
    with pytest.raises(Conflict):  # one live hearing per record and act
        drafted(session, "refuse_registration", application.id, ["reg_not_citizen"])
    session.rollback()
    with pytest.raises(DomainError):
        hearings.withdraw(
            session, hearing_id=hearing.id, reason="", actor_id=official.id, scope=scope
        )
    hearings.withdraw(
        session,
        hearing_id=hearing.id,
        reason="Азаматтық расталды",
        actor_id=official.id,
        scope=scope,
    )
    session.commit()
    with pytest.raises(AlreadyMoved):
        hearings.withdraw(
            session, hearing_id=hearing.id, reason="Тағы", actor_id=official.id, scope=scope
        )
    session.rollback()
    assert session.get(Application, application.id).status == "petitioned"
    again = drafted(session, "refuse_registration", application.id, ["reg_not_citizen"])
    assert again.id != hearing.id and again.status == "drafted"
    with pytest.raises(AlreadyMoved):  # a withdrawn hearing adopts nothing
        hearings.adopt(
            session,
            hearing_id=hearing.id,
            act_reasons="…",
            actor_id=official.id,
            scope=scope,
            exception_kind="urgency",
            exception_reason="…",
        )


def test_bad_drafts_are_refused_and_write_nothing(app, session):
    application = petitioned(session)
    member = make_member(session, _serial())
    session.commit()
    before = session.scalar(select(func.count()).select_from(Hearing))
    for kind, subject_id, codes, error in (
        ("refuse_registration", application.id, [], DomainError),
        ("refuse_registration", application.id, ["susp_duty_breach"], DomainError),
        ("refuse_registration", 10**9, ["reg_not_citizen"], NotFound),
        ("expel", application.id, ["expel_conviction"], NotFound),
        ("refuse_registration", member.application_id, ["reg_not_citizen"], Conflict),
        ("reinstate", member.id, ["susp_duty_breach"], DomainError),
    ):
        with pytest.raises(error):
            drafted(session, kind, subject_id, codes)
        session.rollback()
    assert session.scalar(select(func.count()).select_from(Hearing)) == before
    assert session.scalar(select(func.count()).select_from(HearingObjection)) == 0


def test_a_declined_initiative_goes_through_a_hearing(app, session):
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
    scope = Scope.of(coordinator, *hearings.ACT_ROLES["decline_initiative"])
    hearing = hearings.draft(
        session,
        act_kind="decline_initiative",
        subject_id=initiative.id,
        grounds=["init_incomplete"],
        grounds_text="",
        actor_id=coordinator.id,
        scope=scope,
        now=at(THU),
    )
    assert hearing.person_user_id == volunteer.id
    hearings.notify(
        session, hearing_id=hearing.id, actor_id=coordinator.id, scope=scope, now=at(THU)
    )
    hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Іс-шаралар жоспары жоқ",
        actor_id=coordinator.id,
        scope=scope,
        now=at(TUE),
    )
    session.commit()
    session.refresh(initiative)
    assert initiative.status == "declined" and initiative.decided_by_id == coordinator.id
    assert initiative.comments[-1].to_status == "declined"
