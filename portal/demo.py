"""Demo data: reference data, one account per role, and a populated register for the demo region."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from core import accounts, calendar, clock, places
from core.iin import make_iin
from volunteers import enrolment, register
from volunteers.models import Application

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105  (published in the README for the demo)
# role -> KATO of the unit the demo account works in
DEMO_USERS = {
    "volunteer": "354000000",  # Bukhar-Zhyrau district
    "coordinator": "354000000",
    "registrar": "350000000",  # Karaganda region
    "secretary": "350000000",
    "member": "350000000",
    "chair": "350000000",
    "finance": "350000000",
    "deputy": "350000000",
    "admin": places.COUNTRY_KATO,
}
DEMO_NAMES = {
    "volunteer": "Айгерім Сапарова",
    "coordinator": "Ерлан Жұмабеков",
    "registrar": "Динара Оспанова",
    "secretary": "Гүлнар Әбенова",
    "member": "Бауыржан Тоқтаров",
    "chair": "Серік Нұрланов",
    "finance": "Алия Қасымова",
    "deputy": "Марат Ахметов",
    "admin": "Portal Administrator",
}
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


def load_accounts(session) -> list[tuple[str, str]]:
    """Load reference data and one account per role; running it again changes nothing."""
    places.load_reference_units(session)
    calendar.load_reference_days(session)
    created = []
    for role, kato in DEMO_USERS.items():
        email = f"{role}@demo.kz"
        unit = places.by_kato(session, kato)
        user = accounts.find_by_login(session, email)
        if user is None:
            user = accounts.create_user(
                session,
                email=email,
                phone=None,
                full_name=DEMO_NAMES[role],
                preferred_language="en" if role == "admin" else "kk",
                unit_id=unit.id,
                password=DEMO_PASSWORD,
                actor_id=None,
            )
        if role not in user.roles():
            accounts.grant_role(session, user_id=user.id, role=role, unit_id=unit.id, actor_id=None)
        created.append((email, role))
    return created


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
# who help keep public order) with a line for each purpose, amounts in tenge.
BUDGET_YEAR = 2026
BUDGET_DISTRICTS = {  # KATO -> (citizen rewards, sober-settlement incentives)
    "353200000": (18_500_000, 4_200_000),  # Abai
    "353600000": (9_800_000, 3_100_000),  # Aktogay
    "354000000": (21_000_000, 5_600_000),  # Bukhar-Zhyrau
    "354800000": (14_300_000, 4_900_000),  # Karkaraly
    "355200000": (11_700_000, 3_800_000),  # Nura
    "355600000": (16_200_000, 4_400_000),  # Osakarovka
    "356400000": (10_900_000, 3_500_000),  # Shet
}
BUDGET_CODE = {
    "functional_group": "03",
    "sub_function": "1",
    "administrator": "252",
    "program": "003",
    "sub_program": "",
}
ADOPTION_NUMBER = "34/312"
CLARIFICATION = ("354000000", "citizen_rewards", 2_500_000)  # KATO, purpose, tenge added


def _second_finance_officer(session, region) -> accounts.User:
    user = accounts.find_by_login(session, "finance2@demo.kz")
    if user is None:
        user = accounts.create_user(
            session,
            email="finance2@demo.kz",
            phone=None,
            full_name="Ержан Бекенов",
            preferred_language="ru",
            unit_id=region.id,
            password=DEMO_PASSWORD,
            actor_id=None,
        )
    if "finance" not in user.roles():
        accounts.grant_role(
            session, user_id=user.id, role="finance", unit_id=region.id, actor_id=None
        )
    return user


def load_budget(session) -> int:
    """Load the demo region's 2026 programs, lines and decisions; running it again adds nothing.

    The adoption is entered by finance@demo.kz and verified by finance2@demo.kz (four eyes),
    then a verified clarification adds money to one line. Returns the number of lines created.
    """
    from budget import appropriations
    from budget.models import MaslikhatDecision

    region = places.by_kato(session, "350000000")
    verifier = _second_finance_officer(session, region)
    if session.scalar(
        select(MaslikhatDecision.id).where(
            MaslikhatDecision.unit_id == region.id, MaslikhatDecision.number == ADOPTION_NUMBER
        )
    ):
        return 0  # already loaded
    finance = accounts.find_by_login(session, "finance@demo.kz")
    lines = {}
    for kato, amounts in BUDGET_DISTRICTS.items():
        district = places.by_kato(session, kato)
        program = appropriations.create_program(
            session,
            actor_id=finance.id,
            unit_id=district.id,
            fiscal_year=BUDGET_YEAR,
            name_kk="Қоғамдық тәртіпті сақтауға қатысатын азаматтарды көтермелеу",
            name_ru="Поощрение граждан, участвующих в охране общественного порядка",
            administrator_body=f"{district.name_kk} әкімінің аппараты",
            **BUDGET_CODE,
        )
        for purpose, tenge in zip(
            ("citizen_rewards", "sober_settlement_incentives"), amounts, strict=True
        ):
            line = appropriations.create_line(
                session, program_id=program.id, purpose=purpose, actor_id=finance.id
            )
            lines[(kato, purpose)] = (line.id, tenge * 100)
    adoption = appropriations.enter_decision(
        session,
        unit_id=region.id,
        number=ADOPTION_NUMBER,
        decided_on=dt.date(2025, 12, 12),
        session_number="XXXIV",
        kind="adoption",
        reference="Қарағанды облыстық мәслихатының 2025 жылғы 12 желтоқсандағы № 34/312 "
        "шешімі (демо)",
        amendments=list(lines.values()),
        actor_id=finance.id,
    )
    appropriations.verify_decision(session, decision_id=adoption.id, actor_id=verifier.id)
    kato, purpose, tenge = CLARIFICATION
    clarification = appropriations.enter_decision(
        session,
        unit_id=region.id,
        number="37/340",
        decided_on=dt.date(2026, 3, 20),
        session_number="XXXVII",
        kind="clarification",
        reference="Қарағанды облыстық мәслихатының 2026 жылғы 20 наурыздағы № 37/340 шешімі (демо)",
        amendments=[(lines[(kato, purpose)][0], tenge * 100)],
        actor_id=finance.id,
    )
    appropriations.verify_decision(session, decision_id=clarification.id, actor_id=verifier.id)
    return len(lines)
