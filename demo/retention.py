"""Demo of the retention of personal data: the rules, and closed records past their period.

Loaded once, right after the register: two refused applications (one past its period, one
not yet) and a citizen who withdrew the consent six weeks ago. The nightly job (or "Run the
erasure now" on the administration page) then anonymises the first and erases the citizen's
application and account; the audit log shows one event for each.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import accounts, clock, places
from core.db import utcnow
from core.iin import make_iin
from volunteers import enrolment, retention
from volunteers.models import Consent

FORMER_CITIZEN = "former.volunteer@demo.kz"
SETTLEMENT = "354030100"  # a village of Bukhar-Zhyrau district


def _apply(session, *, serial: int, name: str, applicant_id, actor_id: int, today: dt.date):
    return enrolment.submit_application(
        session,
        kind="public_assistant",
        unit_id=places.by_kato(session, SETTLEMENT).id,
        patrol_unit_id=None,
        iin=make_iin(dt.date(1988, 4, 12), "male", serial),
        full_name=name,
        phone=f"+7702{serial:07d}",
        email=None,
        address="Ботақара, Бейбітшілік к-сі 3",
        is_citizen=True,
        no_criminal_record=True,
        not_on_register=True,
        consent_version=enrolment.current_consent(session, today).version,
        applicant_id=applicant_id,
        actor_id=actor_id,
        channel="web" if applicant_id else "walk_in",
        today=today,
    )


def load_retention(session, password: str, today: dt.date | None = None) -> int:
    """Add the default rules that are missing and the demo's closed records; return how many
    records were added. Call it once, when the register has just been loaded."""
    retention.ensure_defaults(session)
    today = today or clock.today()
    now = utcnow()
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    added = 0
    # Refused 13 and 2 months ago: the first is past the 12 months of the default rule.
    for serial, months_ago, name in ((9101, 13, "Демо Бас тартылған"), (9102, 2, "Демо Күтуде")):
        app = _apply(
            session,
            serial=serial,
            name=name,
            applicant_id=None,
            actor_id=coordinator.id,
            today=today,
        )
        enrolment.take_check(session, application_id=app.id, actor_id=coordinator.id)
        enrolment.record_check(
            session,
            application_id=app.id,
            passed=False,
            reason="Заң талаптарына сәйкес келмейді",
            actor_id=coordinator.id,
        )
        app.closed_at = now - dt.timedelta(days=31 * months_ago)
        added += 1
    former = accounts.create_user(
        session,
        email=FORMER_CITIZEN,
        phone=None,
        full_name="Демо Келісімін қайтарған",
        preferred_language="kk",
        unit_id=places.by_kato(session, SETTLEMENT).id,
        password=password,
        actor_id=None,
    )
    app = _apply(
        session,
        serial=9103,
        name=former.full_name,
        applicant_id=former.id,
        actor_id=former.id,
        today=today,
    )
    enrolment.withdraw_consent(session, application_id=app.id, actor_id=former.id)
    withdrawn = now - dt.timedelta(days=45)  # past the one month of the default rule
    app.closed_at = withdrawn
    for consent in session.scalars(select(Consent).where(Consent.application_id == app.id)):
        consent.withdrawn_at = withdrawn
    session.flush()
    return added + 1
