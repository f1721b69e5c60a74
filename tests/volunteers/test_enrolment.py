"""The application workflow: eligibility, deadlines, transitions, uniqueness."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from sqlalchemy import func, select

from core.audit import AuditEvent
from core.errors import Conflict, DomainError
from core.iin import InvalidIIN
from portal.extensions import db
from tests.factories.volunteers import TODAY, fields, iin_for, unit, user
from volunteers import enrolment, register
from volunteers.models import Application, Consent
from volunteers.persons import key_of


def _count(session, model):
    return session.scalar(select(func.count()).select_from(model))


def test_submission_records_consent_deadline_and_an_audit_event_without_the_iin(app, session):
    application = enrolment.submit_application(session, **fields(session))
    session.commit()
    assert application.status == "submitted" and application.live
    assert application.police_due_on == TODAY + dt.timedelta(days=30)
    consent = session.scalars(select(Consent).where(Consent.application_id == application.id)).one()
    assert consent.version == "2026-1" and consent.channel == "walk_in"
    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "application.submit", AuditEvent.object_id == str(application.id)
        )
    ).one()
    assert application.iin not in event.payload
    # Not even masked: the audit chain never holds personal data (issue 17).
    assert "iin" not in event.data and application.iin[-4:] not in event.payload


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ({"iin": "12345"}, InvalidIIN),
        ({"iin": iin_for(7002)[:11] + str((int(iin_for(7002)[11]) + 1) % 10)}, InvalidIIN),
        ({"iin": iin_for(7003, born=dt.date(2009, 1, 1), sex="female")}, DomainError),
        ({"no_criminal_record": False}, DomainError),
        ({"consent_version": None}, DomainError),
        ({"kind": "sheriff"}, DomainError),
        ({"phone": "12-34"}, DomainError),
        ({"email": "not an address"}, DomainError),
        ({"address": "   "}, DomainError),
    ],
)
def test_bad_applications_are_refused_and_write_nothing(app, session, override, error):
    before = (_count(session, Application), _count(session, AuditEvent))
    with pytest.raises(error):
        enrolment.submit_application(session, **fields(session, **override))
    session.rollback()
    assert (_count(session, Application), _count(session, AuditEvent)) == before


def test_region_is_not_a_place_to_apply(app, session):
    with pytest.raises(DomainError, match="settlement or district"):
        enrolment.submit_application(
            session, **fields(session, unit_id=unit(session, "350000000").id)
        )


def test_age_counts_on_the_day_of_application(app, session):
    born = dt.date(2008, 3, 18)  # 18 exactly on TODAY
    ok = enrolment.submit_application(session, **fields(session, iin=iin_for(7004, born=born)))
    assert ok.birth_date == born
    with pytest.raises(DomainError, match="at least 18"):
        enrolment.submit_application(
            session, **fields(session, iin=iin_for(7005, born=dt.date(2008, 3, 19)), today=TODAY)
        )


def test_whole_path_to_registration_with_working_day_deadline(app, session):
    coordinator = user(session, "coordinator@demo.kz")
    registrar = user(session, "registrar@demo.kz")
    application = enrolment.submit_application(session, **fields(session))
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=application.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=application.id, actor_id=coordinator.id, today=TODAY)
    # 7 working days after Wed 18 March 2026 skip Nauryz (21–23) and its days off (24–25).
    assert application.registration_due_on == dt.date(2026, 4, 1)
    member = enrolment.register_applicant(
        session, application_id=application.id, actor_id=registrar.id, today=TODAY
    )
    session.commit()
    district = unit(session, "354000000")
    assert member.certificate_no.startswith(f"{district.kato}-2026-")
    assert member.expires_on == dt.date(2029, 3, 18)
    assert application.status == "registered" and application.live
    with pytest.raises(Conflict):  # still one membership per IIN and kind
        enrolment.submit_application(session, **fields(session))


def test_wrong_transitions_and_refusal_without_reason_are_refused(app, session):
    coordinator = user(session, "coordinator@demo.kz")
    application = enrolment.submit_application(session, **fields(session))
    with pytest.raises(enrolment.InvalidTransition):
        enrolment.petition(session, application_id=application.id, actor_id=coordinator.id)
    with pytest.raises(enrolment.InvalidTransition):
        enrolment.register_applicant(
            session, application_id=application.id, actor_id=coordinator.id
        )
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    with pytest.raises(enrolment.InvalidTransition):
        enrolment.petition(session, application_id=application.id, actor_id=coordinator.id)
    with pytest.raises(DomainError, match="written reason"):
        enrolment.record_check(
            session,
            application_id=application.id,
            passed=False,
            reason="  ",
            actor_id=coordinator.id,
        )


def test_refusal_frees_the_iin_for_a_new_application(app, session):
    coordinator = user(session, "coordinator@demo.kz")
    first = enrolment.submit_application(session, **fields(session))
    with pytest.raises(Conflict):
        enrolment.submit_application(session, **fields(session))
    enrolment.take_check(session, application_id=first.id, actor_id=coordinator.id)
    enrolment.record_check(
        session,
        application_id=first.id,
        passed=False,
        reason="Қылмыстық жазасы бар",
        actor_id=coordinator.id,
    )
    assert not first.live
    # The police refused it: a complaint goes up the police hierarchy, not to the akimat.
    assert (first.status, first.refused_by) == ("refused", "police")
    second = enrolment.submit_application(session, **fields(session))
    assert second.id != first.id
    # The other kind is a separate membership.
    other = enrolment.submit_application(session, **fields(session, kind="patrol_member"))
    assert other.kind == "patrol_member"


def test_concurrent_duplicates_leave_exactly_one_application(app):
    barrier = threading.Barrier(6)
    outcomes = []

    def attempt():
        with app.app_context():
            try:
                values = fields(db.session, iin=iin_for(7100))
                db.session.rollback()  # hold no lock while waiting for the others
                barrier.wait()
                enrolment.submit_application(db.session, **values)
                db.session.commit()
                outcomes.append("ok")
            except Conflict:
                db.session.rollback()
                outcomes.append("conflict")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 5 + ["ok"]
    with app.app_context():
        count = db.session.scalar(
            select(func.count())
            .select_from(Application)
            .where(Application.iin_index == key_of(iin_for(7100)))
        )
    assert count == 1


def test_concurrent_registrations_get_distinct_gapless_numbers(app):
    with app.app_context():
        coordinator = user(db.session, "coordinator@demo.kz")
        registrar = user(db.session, "registrar@demo.kz")
        ids = []
        for n in range(8):
            a = enrolment.submit_application(
                db.session, **fields(db.session, iin=iin_for(7200 + n))
            )
            enrolment.take_check(db.session, application_id=a.id, actor_id=coordinator.id)
            enrolment.record_check(
                db.session, application_id=a.id, passed=True, reason=None, actor_id=coordinator.id
            )
            enrolment.petition(
                db.session, application_id=a.id, actor_id=coordinator.id, today=TODAY
            )
            ids.append(a.id)
        db.session.commit()
        registrar_id = registrar.id
        db.session.remove()
    barrier = threading.Barrier(len(ids))
    numbers, errors = [], []

    def register_one(application_id):
        with app.app_context():
            try:
                barrier.wait()
                member = enrolment.register_applicant(
                    db.session,
                    application_id=application_id,
                    actor_id=registrar_id,
                    today=dt.date(2027, 1, 15),
                )
                db.session.commit()
                numbers.append(member.certificate_no)
            except Exception as exc:  # collected: the test must see every failure
                errors.append(repr(exc))
            finally:
                db.session.remove()

    threads = [threading.Thread(target=register_one, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    sequences = sorted(int(n.rsplit("-", 1)[1]) for n in numbers)
    assert sequences == list(range(1, len(ids) + 1))  # 2027 starts at 1, no gaps, no repeats


def test_withdrawal_by_the_applicant_and_consent_withdrawal(app, session):
    volunteer = user(session, "volunteer@demo.kz")
    application = enrolment.submit_application(
        session, **fields(session, applicant_id=volunteer.id, actor_id=volunteer.id, channel="web")
    )
    with pytest.raises(Exception, match="Only the applicant"):
        enrolment.withdraw_application(
            session, application_id=application.id, actor_id=user(session, "coordinator@demo.kz").id
        )
    enrolment.withdraw_consent(session, application_id=application.id, actor_id=volunteer.id)
    assert application.status == "withdrawn" and not application.live
    assert application.consents[0].withdrawn_at is not None


def test_member_status_changes_keep_history_and_need_reasons(app, session):
    registrar = user(session, "registrar@demo.kz")
    member = session.scalar(
        select(register.Member).where(register.Member.status == "active").limit(1)
    )
    with pytest.raises(DomainError, match="reason"):
        register.change_status(
            session, member_id=member.id, to_status="suspended", reason="", actor_id=registrar.id
        )
    register.change_status(
        session,
        member_id=member.id,
        to_status="suspended",
        reason="Тексеру кезінде",
        actor_id=registrar.id,
    )
    register.change_status(
        session, member_id=member.id, to_status="active", reason="", actor_id=registrar.id
    )
    register.change_status(
        session,
        member_id=member.id,
        to_status="expelled",
        reason="Тәртіп бұзу",
        actor_id=registrar.id,
    )
    with pytest.raises(Conflict):
        register.change_status(
            session, member_id=member.id, to_status="active", reason="", actor_id=registrar.id
        )
    session.commit()
    session.refresh(member)
    assert [h.to_status for h in member.history][:3] == ["expelled", "active", "suspended"]
    assert not session.get(Application, member.application_id).live


def test_daily_expiry_marks_expired_certificates_once(app, session):
    far = dt.date.today() + dt.timedelta(days=3 * 366)
    first = register.expire_due(session, today=far)
    assert first > 0
    assert register.expire_due(session, today=far) == 0


def test_the_member_page_offers_only_the_registers_own_decisions():
    from volunteers.register import next_statuses

    # "stay" and "unexpel" belong to a complaint's outcome, never to the member page.
    assert next_statuses("expelled") == []
    assert next_statuses("suspended") == ["active", "expelled", "expired", "withdrawn"]
    assert next_statuses("active") == ["expelled", "expired", "suspended", "withdrawn"]
