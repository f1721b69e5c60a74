"""Volunteer workflows under twenty simultaneous attempts (PostgreSQL): one effect, the rest a 409.

Each race ends with the records telling one story: one register entry and one certificate
number, one recorded check, one confirmation, each with exactly one audit event, and an audit
chain that still verifies.
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit
from core.errors import Conflict
from tests.conftest import already_done, audit_count, engine_of, login_as, race, same_browser
from tests.factories.volunteers import TODAY, fields, iin_for, make_member, user
from volunteers import contributions, enrolment
from volunteers.activity_models import Contribution
from volunteers.models import Application, CertificateCounter, Member

# Both databases: volunteer workflow constraints and triggers.
pytestmark = pytest.mark.both_databases

N = 20


def _in_police_check(s: Session, serial: int) -> Application:
    application = enrolment.submit_application(
        s, **fields(s, iin=iin_for(serial), email=None, today=TODAY)
    )
    enrolment.take_check(
        s, application_id=application.id, actor_id=user(s, "coordinator@demo.kz").id
    )
    return application


def _petitioned(s: Session, serial: int) -> Application:
    application = _in_police_check(s, serial)
    coordinator = user(s, "coordinator@demo.kz")
    enrolment.record_check(
        s, application_id=application.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(s, application_id=application.id, actor_id=coordinator.id, today=TODAY)
    return application


def _chain_verifies(s: Session) -> bool:
    return audit.verify_chain(s).ok


def _already_done(app, who, state: str, workflow: str = "application") -> str:
    """Return the 409's message as the loser's page shows it, in the loser's language."""
    return already_done(
        app, who.preferred_language, who=who.full_name, workflow=workflow, state=state
    )


def test_twenty_registrations_of_one_applicant_issue_one_certificate(pg_app):
    """Twenty clicks of "register" (one registrar, one browser): one member, one number."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        app_id = _petitioned(s, 9101).id
        told = _already_done(pg_app, user(s, "registrar@demo.kz"), "registered")
        s.commit()
        numbers_before = s.scalar(select(func.coalesce(func.sum(CertificateCounter.last), 0)))
    registrar = pg_app.test_client()
    login_as(registrar, "registrar@demo.kz")
    browsers = [same_browser(registrar) for _ in range(N)]

    responses = race(
        N,
        lambda i: browsers[i].post(
            f"/volunteers/applications/{app_id}/register", data={"confirmed": "yes"}
        ),
    )

    assert not [r for r in responses if isinstance(r, Exception)], responses
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [409] * (N - 1)
    # The losers are told who registered the applicant first; nothing of theirs was kept.
    assert all(told in r.text for r in responses if r.status_code == 409)
    with Session(engine) as s:
        members = s.scalars(select(Member).where(Member.application_id == app_id)).all()
        assert len(members) == 1
        numbers_after = s.scalar(select(func.coalesce(func.sum(CertificateCounter.last), 0)))
        assert numbers_after == numbers_before + 1  # no number taken by a loser
        assert s.get(Application, app_id).status == "registered"
        assert audit_count(s, "application.register", "application", app_id) == 1
        assert audit_count(s, "member.register", "member", members[0].id) == 1
        assert _chain_verifies(s)


def test_twenty_coordinators_recording_one_police_check_record_one_outcome(pg_app):
    """Half record "passed", half "refused", all at once: one outcome, recorded once."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        app_id = _in_police_check(s, 9102).id
        coordinator_id = user(s, "coordinator@demo.kz").id
        s.commit()

    def record(i: int) -> str:
        passed = i % 2 == 0
        with Session(engine) as s:
            enrolment.record_check(
                s,
                application_id=app_id,
                passed=passed,
                reason=None if passed else "Тексеру нәтижесі теріс",
                actor_id=coordinator_id,
            )
            s.commit()
        return "passed" if passed else "refused"

    results = race(N, record)

    winners = [r for r in results if isinstance(r, str)]
    losers = [r for r in results if not isinstance(r, str)]
    assert len(winners) == 1, results
    assert len(losers) == N - 1
    assert all(isinstance(r, Conflict) and r.status == 409 for r in losers), losers
    with Session(engine) as s:
        application = s.get(Application, app_id)
        assert application.check_outcome == winners[0]
        assert application.status == ("police_check" if winners[0] == "passed" else "refused")
        passed_events = audit_count(s, "application.check_passed", "application", app_id)
        refused_events = audit_count(s, "application.refuse", "application", app_id)
        assert passed_events + refused_events == 1
        assert _chain_verifies(s)


def test_twenty_confirmations_of_one_contribution_confirm_it_once(pg_app):
    """Twenty "confirm" posts of one coordinator's queue: one confirmation, its points once."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        member = make_member(s, 9103)
        logged = contributions.log_contribution(
            s,
            member_id=member.id,
            kind="offense_reported",
            occurred_on=TODAY,
            minutes=None,
            description="Бұзушылық туралы 102-ге хабарлады",
            reference="KUSP-2026-0913",
            actor_id=user(s, "registrar@demo.kz").id,  # four eyes: not the confirmer
            today=TODAY,
        )
        contribution_id = logged.id
        coordinator = user(s, "coordinator@demo.kz")
        coordinator_id = coordinator.id
        told = _already_done(pg_app, coordinator, "confirmed", "contribution")
        s.commit()
    client = pg_app.test_client()
    login_as(client, "coordinator@demo.kz")
    browsers = [same_browser(client) for _ in range(N)]

    responses = race(
        N,
        lambda i: browsers[i].post(
            "/contributions/queue", data={"action": "confirm", "ids": [str(contribution_id)]}
        ),
    )

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert sorted(r.status_code for r in responses) == [302] + [409] * (N - 1)
    assert all(told in r.text for r in responses if r.status_code == 409)
    with Session(engine) as s:
        contribution = s.get(Contribution, contribution_id)
        assert contribution.status == "confirmed"
        assert contribution.decided_by_id == coordinator_id
        assert audit_count(s, "contribution.confirm", "contribution", contribution_id) == 1
        assert _chain_verifies(s)


def test_a_lost_registration_race_in_the_domain_is_a_409_not_a_database_error(pg_app):
    """The domain function itself, not only the page: the losers raise Conflict (409)."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        app_id = _petitioned(s, 9104).id
        registrar_id = user(s, "registrar@demo.kz").id
        s.commit()

    def register(i: int) -> str:
        with Session(engine) as s:
            member = enrolment.register_applicant(
                s, application_id=app_id, actor_id=registrar_id, today=TODAY
            )
            number = member.certificate_no
            s.commit()
        return number

    results = race(N, register)

    numbers = [r for r in results if isinstance(r, str)]
    assert len(numbers) == 1, results
    assert all(isinstance(r, Conflict) and r.status == 409 for r in results if r not in numbers)
    with Session(engine) as s:
        assert (
            s.scalar(select(Member.certificate_no).where(Member.application_id == app_id))
            == (numbers[0])
        )


def test_a_step_already_taken_is_a_409_naming_who_took_it(app, session):
    """A second tab's "register" after the first one's: 409 naming the registrar, no new entry."""
    from core.transitions import AlreadyMoved

    application = _petitioned(session, 9105)
    registrar = user(session, "registrar@demo.kz")
    enrolment.register_applicant(
        session, application_id=application.id, actor_id=registrar.id, today=TODAY
    )
    session.commit()
    try:
        enrolment.register_applicant(
            session, application_id=application.id, actor_id=registrar.id, today=TODAY
        )
    except AlreadyMoved as exc:
        assert exc.status == 409
        assert exc.params == {"who": registrar.full_name, "state": "registered"}
    else:
        raise AssertionError("a second registration was accepted")
    session.rollback()
    count = select(func.count()).where(Member.application_id == application.id)
    assert session.scalar(count) == 1


def test_the_database_keeps_the_legal_order_of_an_application(app, session):
    """Even a statement that skips the domain cannot register or refuse an unchecked applicant."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    application = _in_police_check(session, 9106)
    session.commit()
    for change in (
        "status = 'petitioned'",
        "status = 'registered'",
        "status = 'refused', refusal_reason = 'x'",
        "status = 'withdrawn'",  # still live
    ):
        try:
            with session.begin_nested():
                session.execute(
                    text(f"UPDATE application SET {change} WHERE id = :id"),
                    {"id": application.id},
                )
        except IntegrityError:
            continue
        raise AssertionError(f"the database accepted {change} without the check")
    session.rollback()
    assert session.get(Application, application.id).status == "police_check"
