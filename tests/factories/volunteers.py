"""Helpers shared by the enrolment tests: valid IINs and application fields."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import accounts, places
from core.iin import make_iin
from volunteers import enrolment
from volunteers.persons import key_of

TODAY = dt.date(2026, 3, 18)


def iin_for(serial: int, born: dt.date = dt.date(1990, 5, 17), sex: str = "male") -> str:
    return make_iin(born, sex, serial)


def unit(session, kato: str) -> places.AdminUnit:
    return places.by_kato(session, kato)


def user(session, email: str) -> accounts.User:
    return accounts.find_by_login(session, email)


def fields(session, **overrides) -> dict:
    """Valid keyword arguments for submit_application (a village of Bukhar-Zhyrau district)."""
    values = {
        "kind": "public_assistant",
        "unit_id": unit(session, "354030100").id,
        "patrol_unit_id": None,
        "iin": iin_for(7001),
        "full_name": "Сапар Айбек",
        "phone": "+7 701 111 22 33",
        "email": "aibek@example.kz",
        "address": "Ботақара, Абай к-сі 5",
        "is_citizen": True,
        "no_criminal_record": True,
        "not_on_register": True,
        "consent_version": enrolment.current_consent(session, TODAY).version,
        "applicant_id": None,
        "actor_id": user(session, "coordinator@demo.kz").id,
        "channel": "walk_in",
        "today": TODAY,
    }
    values.update(overrides)
    return values


def latest_application(session, iin: str):
    from volunteers.models import Application

    return session.scalar(
        select(Application)
        .where(Application.iin_index == key_of(iin))
        .order_by(Application.id.desc())
    )


def make_member(session, serial: int, *, kato: str = "354030100", applicant=None, today=TODAY):
    """Take an application through the whole path and return the registered member."""
    coordinator = user(session, "coordinator@demo.kz")
    registrar = user(session, "registrar@demo.kz")
    application = enrolment.submit_application(
        session,
        **fields(
            session,
            iin=iin_for(serial),
            unit_id=unit(session, kato).id,
            applicant_id=applicant.id if applicant else None,
            email=None,
            today=today,
        ),
    )
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=application.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=application.id, actor_id=coordinator.id, today=today)
    return enrolment.register_applicant(
        session, application_id=application.id, actor_id=registrar.id, today=today
    )
