"""Retention of personal data: rules as data, erasure after the period, money and audit kept."""

from __future__ import annotations

import datetime as dt

import pyotp
import pytest
from sqlalchemy import select

from core import accounts, audit, mfa
from core.audit import AuditEvent
from core.errors import DomainError, NotFound
from core.sealing import blind_index
from incentives import reconcile
from incentives.models import Nomination, Payout
from tests.conftest import audit_count
from tests.factories.oversight import paid_reward
from tests.factories.volunteers import fields, iin_for, unit, user
from volunteers import enrolment, erasure, register, retention
from volunteers.models import Application, Consent, Member

pytestmark = pytest.mark.both_databases

WITHDRAWN = dt.datetime(2026, 1, 10, 6, 0, tzinfo=dt.UTC)


def _citizen(session, email: str) -> accounts.User:
    return accounts.create_user(
        session,
        email=email,
        phone="+7 705 000 11 22",
        full_name="Сапар Айбек",
        preferred_language="kk",
        unit_id=unit(session, "354030100").id,
        password="citizen password 1",
        actor_id=None,
    )


def _withdrawn_application(session, citizen, serial: int, kind: str = "public_assistant"):
    """A web application of ``citizen`` whose consent was withdrawn on WITHDRAWN."""
    application = enrolment.submit_application(
        session,
        **fields(
            session,
            iin=iin_for(serial),
            kind=kind,
            applicant_id=citizen.id,
            actor_id=citizen.id,
            channel="web",
        ),
    )
    enrolment.withdraw_consent(session, application_id=application.id, actor_id=citizen.id)
    application.closed_at = WITHDRAWN
    for consent in session.scalars(select(Consent).where(Consent.application_id == application.id)):
        consent.withdrawn_at = WITHDRAWN
    session.commit()
    return application


def _erase_all(session, now) -> erasure.Batch:
    """Run every batch, as the job does; return the totals of applications and accounts."""
    total, after = erasure.Batch(last_id=None), 0
    while True:
        batch = erasure.erase_due(session, now=now, after_id=after, limit=50)
        session.commit()
        total.applications += batch.applications
        total.members += batch.members
        total.accounts += batch.accounts
        if batch.last_id is None:
            return total
        after = batch.last_id


def test_consent_withdrawn_is_erased_after_the_period_not_before_and_once(app, session):
    citizen = _citizen(session, "leaving@example.kz")
    application = _withdrawn_application(session, citizen, 7101)
    secret = mfa.new_secret()
    mfa.enable(session, user_id=citizen.id, secret=secret, code=pyotp.TOTP(secret).now())
    session.commit()
    assert retention.rules(session)["consent_withdrawn"].months == 1

    early = _erase_all(session, WITHDRAWN + dt.timedelta(days=20))
    assert early.applications == 0
    session.refresh(application)
    assert application.full_name == "Сапар Айбек" and application.erased_at is None

    done = _erase_all(session, WITHDRAWN + dt.timedelta(days=40))
    assert done.applications == 1 and done.accounts == 1
    session.expire_all()
    assert application.full_name == erasure.ERASED_NAME
    assert application.iin == erasure.erased_iin(application.id) != iin_for(7101)
    assert application.iin_index == blind_index(application.iin, "iin")
    assert (application.phone, application.email, application.address) == (None, None, "")
    assert application.birth_date == erasure.ERASED_BIRTH  # the rule erases, not anonymises
    assert application.erased_at is not None
    # The consent record stays: version, dates and channels, proof of what was agreed.
    consents = session.scalars(select(Consent).where(Consent.application_id == application.id))
    assert [c.withdrawn_at for c in consents] == [WITHDRAWN]
    session.refresh(citizen)
    assert citizen.full_name == erasure.ERASED_NAME and citizen.phone is None
    assert citizen.email == erasure.erased_email(citizen.id) and not citizen.is_active
    assert accounts.find_by_login(session, "leaving@example.kz") is None
    # Its authenticator's secret and recovery codes go with it.
    assert mfa.factor_of(session, citizen.id) is None
    assert mfa.recovery_codes_left(session, citizen.id) == 0

    event = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "application.erase",
            AuditEvent.object_id == str(application.id),
        )
    ).one()
    assert event.data == {"rule": "consent_withdrawn", "action": "erase"}
    assert event.actor_id is None

    again = _erase_all(session, WITHDRAWN + dt.timedelta(days=400))
    assert (again.applications, again.accounts) == (0, 0)
    assert audit_count(session, "application.erase", "application", application.id) == 1
    assert audit_count(session, "user.erase", "user", citizen.id) == 1
    assert audit.verify_chain(session).ok


def test_an_account_with_a_live_application_is_kept(app, session):
    citizen = _citizen(session, "two-kinds@example.kz")
    enrolment.submit_application(
        session,
        **fields(
            session,
            iin=iin_for(7102),
            kind="patrol_member",
            applicant_id=citizen.id,
            actor_id=citizen.id,
            channel="web",
        ),
    )
    session.commit()
    application = _withdrawn_application(session, citizen, 7102)
    done = _erase_all(session, WITHDRAWN + dt.timedelta(days=40))
    assert done.applications >= 1 and done.accounts == 0
    session.expire_all()
    assert application.erased_at is not None
    assert citizen.erased_at is None and citizen.is_active
    assert citizen.email == "two-kinds@example.kz"


def test_refused_application_is_anonymised_keeping_the_birth_year_and_reason(app, session):
    coordinator = user(session, "coordinator@demo.kz")
    application = enrolment.submit_application(session, **fields(session, iin=iin_for(7103)))
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session,
        application_id=application.id,
        passed=False,
        reason="Сотталғандығы бар",
        actor_id=coordinator.id,
    )
    application.closed_at = WITHDRAWN
    session.commit()
    born = application.birth_date
    assert _erase_all(session, WITHDRAWN + dt.timedelta(days=300)).applications == 0
    assert _erase_all(session, WITHDRAWN + dt.timedelta(days=370)).applications >= 1
    session.expire_all()
    assert application.full_name == erasure.ERASED_NAME and application.email is None
    assert application.birth_date == dt.date(born.year, 1, 1)
    assert application.refusal_reason == "Сотталғандығы бар"


def test_expelled_member_with_a_paid_reward_keeps_the_payout_and_the_books(app, session):
    reward = paid_reward(session)
    member = reward.member
    payout = session.get(Payout, reward.payout.id)
    kept = (
        payout.item_id,
        payout.gross_tiyn,
        payout.withheld_tiyn,
        payout.net_tiyn,
        payout.status,
        payout.iban,
        payout.order_number,
        payout.order_date,
        payout.ledger_entry_id,
    )
    register.change_status(
        session,
        member_id=member.id,
        to_status="expelled",
        reason="Тәртіп бұзғаны үшін",
        actor_id=user(session, "registrar@demo.kz").id,
    )
    session.commit()
    assert reconcile.everything(session) == []
    # The default keeps an expelled member's data 36 months: not yet a year on, then after.
    soon = erasure.erase_due(session, now=dt.datetime.now(dt.UTC) + dt.timedelta(days=365))
    session.commit()
    assert session.get(Member, member.id).erased_at is None and soon.members == 0
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=37 * 31)
    _erase_all(session, later)
    session.expire_all()
    member = session.get(Member, member.id)
    assert member.erased_at is not None and member.full_name == erasure.ERASED_NAME
    assert member.iin == erasure.erased_iin(member.application_id)
    assert member.status_reason == "Тәртіп бұзғаны үшін"  # anonymised: the reason stays
    payout = session.get(Payout, reward.payout.id)
    assert (
        payout.item_id,
        payout.gross_tiyn,
        payout.withheld_tiyn,
        payout.net_tiyn,
        payout.status,
        payout.iban,
        payout.order_number,
        payout.order_date,
        payout.ledger_entry_id,
    ) == kept
    nomination = session.scalars(select(Nomination).where(Nomination.member_id == member.id)).one()
    assert nomination.recipient == erasure.ERASED_NAME
    assert reconcile.everything(session) == []
    assert audit.verify_chain(session).ok
    assert audit_count(session, "member.erase", "member", member.id) == 1
    application = session.get(Application, member.application_id)
    assert application.erased_at is not None
    assert audit_count(session, "application.erase", "application", application.id) == 1


def test_rule_changes_are_checked_and_audited(app, session):
    admin = user(session, "admin@demo.kz")
    with pytest.raises(NotFound):
        retention.set_rule(
            session, kind="forever", months=1, action="erase", legal_basis="x", actor_id=admin.id
        )
    for months, action, basis in ((-1, "erase", "x"), (1201, "erase", "x"), (1, "burn", "x")):
        with pytest.raises(DomainError):
            retention.set_rule(
                session,
                kind="member_expired",
                months=months,
                action=action,
                legal_basis=basis,
                actor_id=admin.id,
            )
    with pytest.raises(DomainError):
        retention.set_rule(
            session,
            kind="member_expired",
            months=24,
            action="erase",
            legal_basis="   ",
            actor_id=admin.id,
        )
    session.rollback()
    retention.set_rule(
        session,
        kind="member_expired",
        months=24,
        action="erase",
        legal_basis="Приказ акимата № 1",
        actor_id=admin.id,
    )
    session.commit()
    rule = retention.rules(session)["member_expired"]
    assert (rule.months, rule.action, rule.updated_by_id) == (24, "erase", admin.id)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "retention.rule_update")
    ).one()
    assert event.data["before"] == {"months": 36, "action": "anonymise"}
    assert event.data["after"] == {"months": 24, "action": "erase"}
    # Saving the same values again changes nothing and records nothing.
    retention.set_rule(
        session,
        kind="member_expired",
        months=24,
        action="erase",
        legal_basis="Приказ акимата № 1",
        actor_id=admin.id,
    )
    session.commit()
    assert audit_count(session, "retention.rule_update", "retention_rule", "member_expired") == 1


def test_demo_closed_records_are_treated_by_the_first_run(app, session):
    from demo import DEMO_PASSWORD
    from demo import retention as demo_retention

    assert demo_retention.load_retention(session, DEMO_PASSWORD) == 3
    session.commit()
    done = _erase_all(session, dt.datetime.now(dt.UTC))
    # Refused 13 months ago and the consent withdrawn six weeks ago; refused 2 months ago waits.
    assert (done.applications, done.accounts) == (2, 1)
    assert accounts.find_by_login(session, demo_retention.FORMER_CITIZEN) is None
