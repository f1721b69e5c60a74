"""Complaint test records: a citizen, an adopted act on their case, a form, a review body."""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import delete, select

from appeals import complaints, hearings, settings, terms
from appeals.models import AppealSetting, Complaint, Hearing, LegalGround
from core import accounts, clock, places
from core.errors import DomainError
from core.scope import Scope
from tests.factories.accounts import official
from tests.factories.volunteers import fields, iin_for, make_member
from volunteers import enrolment
from volunteers.models import Application, Member

REGION, DISTRICT, VILLAGE = "350000000", "354000000", "354030100"
OTHER_REGION = "110000000"  # Akmola region
NOTICE_DAY = dt.date(2026, 11, 2)  # a Monday
ACT_DAY = dt.date(2026, 11, 6)  # a Friday, after the 3 working days of Art. 73
FILE_DAY = dt.date(2026, 11, 9)  # the Monday after
PDF = b"%PDF-1.4 signed complaint"
_serials = itertools.count(3100)


def at(day: dt.date, hour: int = 10, minute: int = 0) -> dt.datetime:
    """The local time ``hour:minute`` of ``day`` as an aware UTC moment."""
    return dt.datetime.combine(day, dt.time(hour, minute), tzinfo=clock.zone()).astimezone(dt.UTC)


def user(session, email: str) -> accounts.User:
    return accounts.find_by_login(session, email)


def unit_id(session, kato: str) -> int:
    return places.by_kato(session, kato).id


def staff_scope(session, email: str, *roles: str) -> Scope:
    return Scope.of(user(session, email), *roles)


def citizen(session, n: int | None = None) -> accounts.User:
    """A signed-up citizen with no role."""
    n = n or next(_serials)
    return accounts.create_user(
        session,
        email=f"citizen{n}@example.kz",
        phone=None,
        full_name=f"Азамат Тестов {n}",
        unit_id=unit_id(session, VILLAGE),
        preferred_language="ru",
        password="citizen password 1",
        actor_id=None,
    )


def reviewer(session, email: str = "reviewer.k@demo.kz", kato: str = REGION) -> accounts.User:
    """An official holding the role ``reviewer`` on the unit ``kato`` (made once)."""
    found = accounts.find_by_login(session, email)
    if found is not None:
        return found
    return official(
        session,
        email,
        "reviewer",
        unit_id(session, kato),
        password="reviewer password 1",
        full_name="Қарағанды Тексеруші",
    )


def configure_review(session, *, reviewer_id: int | None = None, review_kato: str = REGION):
    """The region's akimat reviews complaints against the district's acts."""
    settings.set_review_body(
        session,
        unit_id=unit_id(session, DISTRICT),
        review_unit_id=unit_id(session, review_kato),
        reviewer_id=reviewer_id,
        body_kk="Қарағанды облысының әкімдігі",
        body_ru="Акимат Карагандинской области",
        how_kk="Порталда немесе қағаз түрінде",
        how_ru="На портале или на бумаге",
        actor_id=user(session, "admin@demo.kz").id,
    )


def no_review_body(session) -> None:
    """Remove every configured review body (the demo configures the region's)."""
    session.execute(delete(AppealSetting))
    session.flush()


def ground(session, act_kind: str) -> str:
    return session.scalar(
        select(LegalGround.code)
        .where(LegalGround.act_kind == act_kind)
        .order_by(LegalGround.position, LegalGround.code)
        .limit(1)
    )


def adopt_act(
    session,
    act_kind: str,
    subject_id: int,
    *,
    author: str = "registrar@demo.kz",
    roles: tuple[str, ...] = ("registrar",),
    execution_exception: str | None = None,
) -> Hearing:
    """Draft, notify and adopt the act after its hearing term (no objection)."""
    actor = user(session, author)
    scope = Scope.of(actor, *roles)
    hearing = hearings.draft(
        session,
        act_kind=act_kind,
        subject_id=subject_id,
        grounds=[ground(session, act_kind)],
        grounds_text="Кезекшілікке үш рет келмеді",
        actor_id=actor.id,
        scope=scope,
        now=at(NOTICE_DAY, 9, 30),
    )
    hearings.notify(
        session, hearing_id=hearing.id, actor_id=actor.id, scope=scope, now=at(NOTICE_DAY)
    )
    return hearings.adopt(
        session,
        hearing_id=hearing.id,
        act_reasons="Қарсылық берілмеді; негіздер расталды",
        actor_id=actor.id,
        scope=scope,
        execution_exception=execution_exception,
        now=at(ACT_DAY),
    )


def member_of(session, person: accounts.User | None = None) -> Member:
    """A registered member linked to ``person``'s account (a new citizen by default)."""
    person = person or citizen(session)
    return make_member(session, next(_serials), applicant=person)


def suspension(session, **kw) -> tuple[Hearing, Member, accounts.User]:
    """An adopted suspension of a new member with an account."""
    person = citizen(session)
    member = member_of(session, person)
    return adopt_act(session, "suspend", member.id, **kw), member, person


def form(session, hearing: Hearing | None, person: accounts.User | None, **changes) -> dict:
    """The complaint's fields as the person would fill them in."""
    app = None
    if hearing is not None and hearing.person_key:
        app = session.scalar(
            select(Application).where(Application.iin_index == hearing.person_key).limit(1)
        )
    values = {
        "actor_id": person.id if person else None,
        "channel": "portal",
        "hearing_id": hearing.id if hearing else None,
        "name": app.full_name if app else "Сапар Айбек",
        "iin": app.iin if app else iin_for(7001),
        "address": "Ботақара, Абай к-сі 5",
        "contact": "+7 701 111 22 33",
        "act_challenged": f"Акт № {hearing.act_number}" if hearing else "Бездействие",
        "grounds": "Кезекшілікке ауруыма байланысты келмедім, анықтама бар",
        "request": "Актіні жоюды сұраймын",
        "now": at(FILE_DAY),
    }
    values.update(changes)
    return values


def file_against(session, hearing: Hearing, person: accounts.User, **changes) -> Complaint:
    return complaints.file(session, **form(session, hearing, person, **changes))


def forwarded(session, **kw) -> tuple[Complaint, Hearing, Member]:
    """A complaint against a suspension, forwarded to the region's reviewers."""
    configure_review(session)
    hearing, member, person = suspension(session, **kw)
    complaint = file_against(session, hearing, person)
    registrar = user(session, "registrar@demo.kz")
    complaints.forward(
        session,
        complaint_id=complaint.id,
        actor_id=registrar.id,
        scope=Scope.of(registrar, "registrar"),
        now=at(FILE_DAY + dt.timedelta(days=1)),
    )
    return complaint, hearing, member


def field_errors(exc: DomainError) -> set[str]:
    errors = getattr(exc, "errors", [exc])
    return {e.field for e in errors}


def petitioned(session, person, today=dt.date(2026, 10, 1)) -> Application:
    coordinator = user(session, "coordinator@demo.kz")
    application = enrolment.submit_application(
        session,
        **fields(
            session,
            iin=iin_for(next(_serials)),
            applicant_id=person.id,
            email=None,
            channel="web",
            today=today,
        ),
    )
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=application.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(session, application_id=application.id, actor_id=coordinator.id, today=today)
    return application


def police_refused(session, person) -> Application:
    coordinator = user(session, "coordinator@demo.kz")
    application = enrolment.submit_application(
        session,
        **fields(
            session,
            iin=iin_for(next(_serials)),
            applicant_id=person.id,
            email=None,
            channel="web",
            today=dt.date(2026, 10, 1),
        ),
    )
    enrolment.take_check(session, application_id=application.id, actor_id=coordinator.id)
    enrolment.record_check(
        session,
        application_id=application.id,
        passed=False,
        reason="Тексеру нәтижесі теріс",
        actor_id=coordinator.id,
    )
    return application


def calendar_term(session, start: dt.date) -> dt.date:
    return terms.months_term_ends(session, start, 3)
