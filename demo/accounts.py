"""Demo accounts: reference data and one account per role, with the published demo password."""

from __future__ import annotations

from sqlalchemy import select

from appeals import grounds, settings
from appeals.models import AppealSetting
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
    # The regional akimat's official who reviews complaints against the district's acts.
    "reviewer": "350000000",
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
    "reviewer": "Жанар Бекова",
    "admin": "Portal Administrator",
}


def load_accounts(session) -> list[tuple[str, str]]:
    """Load reference data and one account per role; running it again changes nothing."""
    places.load_reference_units(session)
    calendar.load_reference_days(session)
    grounds.load_grounds(session)
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
    _review_body(session)
    return created


def _review_body(session) -> None:
    """Complaints against the acts of the demo region's districts go to the regional akimat
    (its reviewers): the higher body of Art. 91(4), never the unit itself."""
    region = places.by_kato(session, DEMO_USERS["reviewer"])
    districts = session.scalars(
        select(places.AdminUnit.id)
        .where(places.AdminUnit.parent_id == region.id)
        .order_by(places.AdminUnit.id)
    ).all()
    admin = accounts.find_by_login(session, "admin@demo.kz")
    for district_id in districts:
        if session.get(AppealSetting, district_id) is None:
            _set_review_body(session, district_id, region.id, admin.id)


def _set_review_body(session, unit_id: int, review_unit_id: int, admin_id: int) -> None:
    settings.set_review_body(
        session,
        unit_id=unit_id,
        review_unit_id=review_unit_id,
        reviewer_id=None,
        body_kk="Қарағанды облысының әкімдігі",
        body_ru="Акимат Карагандинской области",
        how_kk="Шағымды порталда «Менің істерім» бөлімінде немесе қағаз түрінде әкімдікке "
        "беруге болады.",
        how_ru="Жалобу можно подать на портале в разделе «Мои дела» или на бумаге в акимат.",
        actor_id=admin_id,
    )
