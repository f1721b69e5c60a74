"""Demo register: patrol units, members and applications in every state for the demo region."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from core import accounts, clock, places
from core.iin import make_iin
from volunteers import enrolment, register
from volunteers.models import Application

FIRST_M = [
    "Ерлан",
    "Нұрлан",
    "Асхат",
    "Дәурен",
    "Ержан",
    "Бекзат",
    "Мұрат",
    "Айдос",
    "Тимур",
    "Арман",
    "Қайрат",
    "Ислам",
    "Санжар",
    "Дмитрий",
    "Сергей",
    "Алексей",
]
FIRST_F = [
    "Айгерім",
    "Гүлназ",
    "Динара",
    "Жанар",
    "Мадина",
    "Әсел",
    "Аружан",
    "Салтанат",
    "Ольга",
    "Елена",
    "Сәуле",
    "Меруерт",
]
SURNAMES = [
    "Ахметов",
    "Серіков",
    "Жақсылықов",
    "Оспанов",
    "Тоқтаров",
    "Бекенов",
    "Қасымов",
    "Нұрмағамбетов",
    "Исаев",
    "Петров",
    "Ким",
    "Әбдірахманов",
    "Сейітов",
    "Омаров",
]
UNITS = {  # patrol units: name -> KATO of their settlement or district
    "Ботакөз ерікті патрулі": "354030100",
    "Ғабиден Мұстафин жасақшылары": "354081100",
    "Осакаровка қоғамдық көмекшілері": "355630100",
    "Топар түнгі патрулі": "353285100",
    "Нұра жастар патрулі": "355230100",
}
REGISTER_SIZE = 300


def _person(rng: random.Random, serial: int) -> tuple[str, str]:
    sex = rng.choice(("male", "female"))
    born = dt.date(rng.randint(1965, 2005), rng.randint(1, 12), rng.randint(1, 28))
    first = rng.choice(FIRST_M if sex == "male" else FIRST_F)
    surname = rng.choice(SURNAMES)
    if sex == "female" and surname != "Ким":
        surname += "а"
    return make_iin(born, sex, serial), f"{surname} {first}"


def _apply(
    session, rng, serial, settlement, patrol, today, actor_id, applicant_id=None, full_name=None
):
    iin, name = _person(rng, serial)
    consent = enrolment.current_consent(session, today)
    return enrolment.submit_application(
        session,
        kind=rng.choice(("public_assistant", "patrol_member")),
        unit_id=settlement.id,
        patrol_unit_id=patrol.id if patrol else None,
        iin=iin,
        full_name=full_name or name,
        phone=f"+7701{serial:07d}",
        email=None,
        address=f"{settlement.name_kk}, {serial % 90 + 1}",
        is_citizen=True,
        no_criminal_record=True,
        not_on_register=True,
        consent_version=consent.version,
        applicant_id=applicant_id,
        actor_id=actor_id,
        channel="walk_in" if applicant_id is None else "web",
        today=today,
    )


def load_register(session, today: dt.date | None = None) -> int:
    """Populate the demo region: patrol units, members, applications in every state."""
    if session.scalar(select(func.count()).select_from(Application)):
        return 0  # already loaded
    today = today or clock.today()
    rng = random.Random(2026)  # noqa: S311  (reproducible demo data, not a secret)
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    registrar = accounts.find_by_login(session, "registrar@demo.kz")
    patrols = []
    for name, kato in UNITS.items():
        settlement = places.by_kato(session, kato)
        patrols.append(
            (
                register.save_patrol_unit(
                    session,
                    unit_id=settlement.id,
                    name=name,
                    coordinator_id=coordinator.id,
                    leader_member_id=None,
                    actor_id=registrar.id,
                ),
                settlement,
            )
        )
    serial = 1000
    for i in range(REGISTER_SIZE):
        patrol, settlement = patrols[i % len(patrols)]
        serial += 1
        app = _apply(
            session, rng, serial, settlement, patrol, today - dt.timedelta(days=60), coordinator.id
        )
        enrolment.take_check(session, application_id=app.id, actor_id=coordinator.id)
        enrolment.record_check(
            session, application_id=app.id, passed=True, reason=None, actor_id=coordinator.id
        )
        enrolment.petition(
            session,
            application_id=app.id,
            actor_id=coordinator.id,
            today=today - dt.timedelta(days=50),
        )
        issued = today - dt.timedelta(days=rng.randint(30, 1100))
        member = enrolment.register_applicant(
            session, application_id=app.id, actor_id=registrar.id, today=issued
        )
        if i % 37 == 0:
            register.change_status(
                session,
                member_id=member.id,
                to_status="suspended",
                reason="Тәртіп бұзғаны үшін уақытша",
                actor_id=registrar.id,
            )
    for patrol, _settlement in patrols:
        first = session.scalar(
            select(register.Member.id)
            .where(register.Member.patrol_unit_id == patrol.id)
            .order_by(register.Member.id)
            .limit(1)
        )
        patrol.leader_member_id = first
    register.expire_due(session, today=today)
    # Open applications, some overdue, and the demo volunteer's own membership.
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    # Registered five months ago, so that the demo volunteer has shifts and points to look at.
    own = _apply(
        session,
        rng,
        9001,
        patrols[0][1],
        patrols[0][0],
        today - dt.timedelta(days=160),
        volunteer.id,
        applicant_id=volunteer.id,
        full_name=volunteer.full_name,
    )
    enrolment.take_check(session, application_id=own.id, actor_id=coordinator.id)
    enrolment.record_check(
        session, application_id=own.id, passed=True, reason=None, actor_id=coordinator.id
    )
    enrolment.petition(
        session,
        application_id=own.id,
        actor_id=coordinator.id,
        today=today - dt.timedelta(days=155),
    )
    enrolment.register_applicant(
        session,
        application_id=own.id,
        actor_id=registrar.id,
        today=today - dt.timedelta(days=150),
    )
    states = (
        ["submitted"] * 6
        + ["police_check"] * 5
        + ["passed"] * 3
        + ["petitioned"] * 4
        + ["refused"] * 2
    )
    for n, state in enumerate(states):
        patrol, settlement = patrols[n % len(patrols)]
        age = 40 if n % 3 == 0 else 5  # every third is past its 30-day deadline
        app = _apply(
            session,
            rng,
            8000 + n,
            settlement,
            patrol,
            today - dt.timedelta(days=age),
            coordinator.id,
        )
        if state == "submitted":
            continue
        enrolment.take_check(session, application_id=app.id, actor_id=coordinator.id)
        if state == "refused":
            enrolment.record_check(
                session,
                application_id=app.id,
                passed=False,
                reason="Заң талаптарына сәйкес келмейді",
                actor_id=coordinator.id,
            )
        elif state in ("passed", "petitioned"):
            enrolment.record_check(
                session, application_id=app.id, passed=True, reason=None, actor_id=coordinator.id
            )
            if state == "petitioned":
                enrolment.petition(
                    session,
                    application_id=app.id,
                    actor_id=coordinator.id,
                    today=today - dt.timedelta(days=age - 1),
                )
    return REGISTER_SIZE + 1 + len(states)


# The demo region's budget for 2026: per district one program (03-1-252-003, rewards of citizens
