"""Demo accounts: reference data and one account per role, with the published demo password."""

from __future__ import annotations

from core import accounts, calendar, places

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
