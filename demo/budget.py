"""Demo budget: the region's 2026 programs and lines, an adoption and a clarification."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from core import accounts, places
from demo.accounts import DEMO_PASSWORD

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
