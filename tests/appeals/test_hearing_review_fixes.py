"""The review's hearing findings: the act's snapshot, paper delivery, remarks, sitting reasons."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text, update

from appeals import documents, flags, hearings, settings, waiting
from appeals.models import AppealSetting, Complaint, Hearing, HearingProtocol
from core.errors import Conflict, DomainError
from core.scope import Scope
from demo.minutes import language
from tests.appeals.test_hearings import (
    FRI,
    MON,
    SAT,
    THU,
    TUE,
    WED,
    _serial,
    at,
    citizen,
    events,
    registrar,
)
from tests.conftest import audit_count
from tests.factories.volunteers import iin_for, make_member, user
from volunteers.models import Member

pytestmark = pytest.mark.both_databases

LATER = dt.date(2026, 6, 23)  # a Tuesday, every term of a June 11th notice over
SIX_MONTHS = (
    "This act may be appealed within six months of the day you learned of it "
    "(Art. 92(1-1) of the APPK): the body that reviews complaints is not named."
)


def _hearing(s, *, person=None, day=THU, notify=True) -> Hearing:
    member = make_member(s, _serial(), applicant=person)
    official, scope = registrar(s)
    hearing = hearings.draft(
        s,
        act_kind="suspend",
        subject_id=member.id,
        grounds=["susp_duty_breach"],
        grounds_text="Кезекшілікке келмеді",
        actor_id=official.id,
        scope=scope,
        now=at(day, 9),
    )
    if notify:
        hearings.notify(s, hearing_id=hearing.id, actor_id=official.id, scope=scope, now=at(day))
    s.commit()
    return hearing


def _adopt(s, hearing, day, **kw) -> Hearing:
    official, scope = registrar(s)
    return hearings.adopt(
        s,
        hearing_id=hearing.id,
        act_reasons="Негіздер расталды",
        actor_id=official.id,
        scope=scope,
        now=at(day),
        **kw,
    )


def _text(blocks) -> str:
    from core.documents import to_text

    return to_text(blocks)


# ---- 1: the act says what the setting said on adoption --------------------------------------


def test_the_act_keeps_the_review_body_and_term_it_was_adopted_with(app, session):
    hearing = _hearing(session, person=citizen(session))
    review = settings.review_body(session, hearing.unit_id)
    assert review is not None
    _adopt(session, hearing, TUE)
    assert hearing.appeal_notice_given is True
    assert (hearing.review_body_kk, hearing.review_body_ru) == (review.name_kk, review.name_ru)
    # Today's setting changes its wording, then disappears: the adopted act does not change.
    session.execute(update(AppealSetting).values(body_kk="Жаңа орган", body_ru="Новый орган"))
    for code, name in (("kk", review.name_kk), ("ru", review.name_ru)):
        out = _text(documents.act_blocks(session, hearing, language(code)))
        assert name in out and "Жаңа орган" not in out and "Новый орган" not in out
    session.execute(AppealSetting.__table__.delete())
    assert settings.review_body(session, hearing.unit_id) is None
    lang = language("ru")
    out = _text(documents.act_blocks(session, hearing, lang))
    assert review.name_ru in out and lang(SIX_MONTHS) not in out


def test_an_act_adopted_without_a_review_body_keeps_its_six_month_notice(app, session):
    hearing = _hearing(session, person=citizen(session))
    session.execute(AppealSetting.__table__.delete())
    _adopt(session, hearing, TUE)
    assert hearing.appeal_notice_given is False and hearing.review_body_kk is None
    session.add(
        AppealSetting(
            unit_id=hearing.unit_id,
            review_unit_id=None,
            reviewer_id=user(session, "admin@demo.kz").id,
            body_kk="Кейін белгіленген орган",
            body_ru="Позже назначенный орган",
        )
    )
    session.flush()
    lang = language("ru")
    out = _text(documents.act_blocks(session, hearing, lang))
    assert "Позже назначенный орган" not in out and lang(SIX_MONTHS) in out


def test_the_decision_names_the_body_the_complaint_was_forwarded_to(app, session):
    hearing = _hearing(session, person=citizen(session))
    _adopt(session, hearing, TUE)
    admin = user(session, "admin@demo.kz")
    complaint = Complaint(
        number="Ш-2026-09001",
        kind="act",
        hearing_id=hearing.id,
        subject_type="member",
        subject_id=hearing.subject_id,
        act_kind="suspend",
        unit_id=hearing.unit_id,
        person_key=hearing.person_key,
        complainant_name=hearing.person_name,
        complainant_iin=iin_for(9001),
        complainant_address="Ботақара",
        act_challenged="Акт",
        grounds="Ауырдым",
        request="Жою",
        channel="portal",
        registered_on=WED,
        status="decided",
        outcome="unsatisfied",
        outcome_reasons="Негізсіз",
        review_unit_id=None,
        reviewer_id=admin.id,  # not the body today's setting names
        decided_by_id=admin.id,
        decided_at=at(LATER),
    )
    review = settings.review_body(session, hearing.unit_id)
    assert review is not None and review.reviewer_id != admin.id
    for code in ("kk", "ru"):
        out = _text(documents.decision_blocks(session, complaint, language(code)))
        assert out.splitlines()[0].lstrip("# ") == admin.full_name
        assert review.name_kk not in out and review.name_ru not in out


# ---- 4: a paper notice: the terms run from its recorded receipt ------------------------------


def test_a_paper_notice_leaves_the_terms_empty_until_its_receipt_is_recorded(app, session):
    hearing = _hearing(session)  # the member has no account, no e-mail: no electronic channel
    official, scope = registrar(session)
    assert hearing.status == "notified"
    assert (hearing.objection_due_on, hearing.earliest_act_on) == (None, None)
    with pytest.raises(Conflict):
        _adopt(session, hearing, LATER)
    session.rollback()
    hearing = session.get(Hearing, hearing.id)
    assert hearing.status == "notified"
    # A paper objection entered before the receipt is recorded is not late.
    objection = hearings.object(
        session,
        hearing_id=hearing.id,
        body="Қарсымын",
        channel="paper",
        actor_id=official.id,
        now=at(LATER),
    )
    assert objection.late is False
    session.commit()
    # Bad input: translated 4xx, nothing written.
    for bad in (
        {"received_on": MON, "how": "pigeon"},
        {"received_on": LATER + dt.timedelta(days=1), "how": "post"},
        {"received_on": dt.date(2026, 6, 10), "how": "post"},  # before Thursday's notice
    ):
        with pytest.raises(DomainError) as caught:
            hearings.record_delivery(
                session,
                hearing_id=hearing.id,
                actor_id=official.id,
                scope=scope,
                now=at(LATER),
                **bad,
            )
        assert caught.value.status == 422
    assert hearing.earliest_act_on is None and "hearing.delivery" not in events(session, hearing.id)
    hearings.record_delivery(
        session,
        hearing_id=hearing.id,
        received_on=MON,
        how="by_hand",
        actor_id=official.id,
        scope=scope,
        now=at(TUE),
    )
    # Monday's receipt: objections until Wednesday the 17th, the act from Thursday the 18th.
    assert hearing.delivered_on == MON and hearing.delivery_way == "by_hand"
    assert hearing.objection_due_on == dt.date(2026, 6, 17)
    assert hearing.earliest_act_on == dt.date(2026, 6, 18)
    assert audit_count(session, "hearing.delivery", "hearing", hearing.id) == 1
    session.commit()
    with pytest.raises(Conflict):
        hearings.record_delivery(
            session,
            hearing_id=hearing.id,
            received_on=TUE,
            how="post",
            actor_id=official.id,
            scope=scope,
            now=at(TUE),
        )
    session.rollback()
    hearing = session.get(Hearing, hearing.id)
    with pytest.raises(Conflict):
        _adopt(session, hearing, dt.date(2026, 6, 17))
    session.rollback()
    hearing = session.get(Hearing, hearing.id)
    _adopt(session, hearing, dt.date(2026, 6, 18))
    assert hearing.status == "adopted"


def test_an_electronic_notice_starts_the_terms_at_once(app, session):
    hearing = _hearing(session, person=citizen(session))
    assert (hearing.objection_due_on, hearing.earliest_act_on) == (MON, TUE)
    official, scope = registrar(session)
    with pytest.raises(Conflict):  # the receipt is the notice's: nothing to record
        hearings.record_delivery(
            session,
            hearing_id=hearing.id,
            received_on=THU,
            how="post",
            actor_id=official.id,
            scope=scope,
            now=at(FRI),
        )


def test_an_oral_hearing_waits_for_the_notices_receipt(app, session):
    hearing = _hearing(session)
    official, scope = registrar(session)
    with pytest.raises(Conflict):
        hearings.record_protocol(
            session,
            hearing_id=hearing.id,
            held_at=at(FRI),
            mode="in_person",
            attendees="Тіркеуші",
            body="Тыңдалды",
            actor_id=official.id,
            scope=scope,
            now=at(FRI, 15),
        )


# ---- 5: the act waits for the remarks on the protocol ------------------------------------------


def _heard(s, person, signed_on=None, held=MON) -> Hearing:
    hearing = _hearing(s, person=person)
    hearings.request_oral(s, hearing_id=hearing.id, actor_id=person.id, now=at(FRI))
    official, scope = registrar(s)
    hearings.record_protocol(
        s,
        hearing_id=hearing.id,
        held_at=at(held, 11),
        mode="in_person",
        attendees="Сапар Айбек; тіркеуші",
        body="Қатысушы түсініктеме берді",
        actor_id=official.id,
        scope=scope,
        now=at(held, 15) if signed_on is None else at(LATER, 9),
        signed_on=signed_on,
    )
    s.commit()
    return hearing


def test_the_act_waits_while_the_remarks_on_the_protocol_may_come(app, session):
    person = citizen(session)
    hearing = _heard(session, person)  # signed Monday: remarks until Thursday the 18th
    protocol = session.scalar(
        select(HearingProtocol).where(HearingProtocol.hearing_id == hearing.id)
    )
    assert protocol.remarks_due_on == dt.date(2026, 6, 18)
    with pytest.raises(Conflict):
        _adopt(session, hearing, dt.date(2026, 6, 18))
    session.rollback()
    hearing = session.get(Hearing, hearing.id)
    hearings.add_remarks(
        session, hearing_id=hearing.id, body="Ескерту", actor_id=person.id, now=at(WED)
    )
    _adopt(session, hearing, dt.date(2026, 6, 18))  # the remarks are in: no need to wait
    assert hearing.status == "adopted"


def test_the_act_follows_once_the_remarks_term_is_over(app, session):
    hearing = _heard(session, citizen(session))
    _adopt(session, hearing, dt.date(2026, 6, 19))
    assert hearing.status == "adopted"


# ---- 19: a protocol signed late is kept, marked and flagged ---------------------------------


def test_a_protocol_signed_after_two_working_days_is_marked_late_and_flagged(app, session):
    person = citizen(session)
    on_time = _heard(session, person)
    late = _heard(session, citizen(session), signed_on=dt.date(2026, 6, 22), held=MON)
    late_protocol = session.scalar(
        select(HearingProtocol).where(HearingProtocol.hearing_id == late.id)
    )
    assert late_protocol.signed_on == dt.date(2026, 6, 22) and late_protocol.signed_late
    assert late_protocol.remarks_due_on == dt.date(2026, 6, 25)  # 3 wd after the signing
    assert on_time.protocol.signed_late is False
    found = {(f.target_id, f.kind) for f in flags.late_protocols(session, Scope.everywhere())}
    assert (late.id, "overdue_hearing") in found and (on_time.id, "overdue_hearing") not in found
    official, scope = registrar(session)
    other = _hearing(session, person=citizen(session))
    hearings.request_oral(session, hearing_id=other.id, actor_id=other.person_user_id, now=at(FRI))
    with pytest.raises(DomainError):  # signed before the hearing was held
        hearings.record_protocol(
            session,
            hearing_id=other.id,
            held_at=at(MON, 11),
            mode="video",
            attendees="А",
            body="Б",
            actor_id=official.id,
            scope=scope,
            now=at(TUE),
            signed_on=FRI,
        )


# ---- 12: no "short term" exception for these acts --------------------------------------------


def test_the_short_term_exception_is_refused_for_every_act_kind(app, session):
    assert all("short_term" not in allowed for allowed in hearings.ALLOWED_EXCEPTIONS.values())
    hearing = _hearing(session, person=citizen(session), notify=False)
    with pytest.raises(DomainError) as caught:
        _adopt(session, hearing, THU, exception_kind="short_term", exception_reason="Қысқа")
    assert caught.value.field == "exception_kind"
    assert hearing.status == "drafted" and "hearing.adopt" not in events(session, hearing.id)
    member = session.get(Member, hearing.subject_id)
    assert member.status == "active"


# ---- 16: the adoption's guard holds when the oral request slips in --------------------------


def test_the_adoption_refuses_when_an_oral_hearing_is_asked_between_check_and_step(
    app, session, monkeypatch
):
    person = citizen(session)
    hearing = _hearing(session, person=person)
    hearings.request_oral(session, hearing_id=hearing.id, actor_id=person.id, now=at(FRI))
    # As if the request had committed after adopt() looked: its own check sees nothing.
    monkeypatch.setattr(hearings, "oral_pending", lambda s, h: False)
    with pytest.raises(Conflict):
        _adopt(session, hearing, TUE)
    session.rollback()
    assert session.get(Hearing, hearing.id).status == "notified"


# ---- 21: "to adopt" counts from the act's earliest day -------------------------------------


def test_to_adopt_counts_from_the_earliest_day_of_the_act(app, session):
    official = user(session, "registrar@demo.kz")
    scopes = waiting.act_scopes(official)
    before = waiting.hearings_to_adopt(session, scopes, SAT).count
    # Wednesday's notice: objections until Friday, the act from Monday.
    hearing = _hearing(session, person=citizen(session), day=dt.date(2026, 6, 10))
    assert (hearing.objection_due_on, hearing.earliest_act_on) == (FRI, MON)
    assert waiting.hearings_to_adopt(session, scopes, SAT).count == before
    assert waiting.hearings_to_adopt(session, scopes, MON).count == before + 1
    paper = _hearing(session)
    notify_line = waiting.hearings_to_notify(session, scopes, LATER)
    assert notify_line.count >= 1 and notify_line.overdue >= 1  # a receipt to record, late
    assert paper.id in {f.target_id for f in flags.overdue_hearings(session, Scope.everywhere())}


# ---- 14: the person's words are sealed at rest ---------------------------------------------


def test_objections_protocols_remarks_and_grounds_text_are_sealed_at_rest(app, session):
    person = citizen(session)
    hearing = _hearing(session, person=person)
    hearings.object(
        session,
        hearing_id=hearing.id,
        body="Құпия қарсылық",
        channel="portal",
        actor_id=person.id,
        now=at(FRI),
    )
    hearings.request_oral(session, hearing_id=hearing.id, actor_id=person.id, now=at(FRI))
    official, scope = registrar(session)
    hearings.record_protocol(
        session,
        hearing_id=hearing.id,
        held_at=at(MON, 11),
        mode="video",
        attendees="Құпия қатысушы",
        body="Құпия хаттама",
        actor_id=official.id,
        scope=scope,
        now=at(MON, 15),
    )
    hearings.add_remarks(
        session, hearing_id=hearing.id, body="Құпия ескерту", actor_id=person.id, now=at(TUE)
    )
    session.flush()
    raw = session.execute(
        text(
            "SELECT o.body, p.body, p.attendees, p.remarks, h.grounds_text FROM hearing h"
            " JOIN hearing_objection o ON o.hearing_id = h.id"
            " JOIN hearing_protocol p ON p.hearing_id = h.id WHERE h.id = :id"
        ),
        {"id": hearing.id},
    ).one()
    assert all(value.startswith("s1.") for value in raw), raw
    assert "Құпия" not in " ".join(raw) and "Кезекшілікке" not in raw[4]
    session.expire_all()
    stored = session.get(Hearing, hearing.id)
    assert stored.objections[0].body == "Құпия қарсылық"
    assert (
        stored.protocol.remarks == "Құпия ескерту" and stored.grounds_text == "Кезекшілікке келмеді"
    )


# ---- 6 (for H8): a paper act's receipt, from which the complaint term runs -----------------


def test_a_paper_acts_receipt_is_recorded_once_from_its_date(app, session):
    hearing = _adopt(session, _hearing(session, person=citizen(session)), TUE)
    session.commit()
    official, scope = registrar(session)
    for bad in (MON, LATER + dt.timedelta(days=1)):  # before the act; after today
        with pytest.raises(DomainError) as caught:
            hearings.record_act_receipt(
                session,
                hearing_id=hearing.id,
                received_on=bad,
                actor_id=official.id,
                scope=scope,
                now=at(LATER),
            )
        assert caught.value.field == "received_on"
    assert hearing.act_received_on is None
    hearings.record_act_receipt(
        session,
        hearing_id=hearing.id,
        received_on=WED,
        actor_id=official.id,
        scope=scope,
        now=at(LATER),
    )
    assert hearing.act_received_on == WED
    assert audit_count(session, "hearing.act_receipt", "hearing", hearing.id) == 1
    session.commit()
    with pytest.raises(Conflict):
        hearings.record_act_receipt(
            session,
            hearing_id=hearing.id,
            received_on=TUE,
            actor_id=official.id,
            scope=scope,
            now=at(LATER),
        )
