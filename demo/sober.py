"""Demo sober settlements: twenty settlements of the demo region in every state, with
indicators for the baseline years and the last eight quarters, and initiatives under review."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

import sober
from core import accounts, clock, places
from core.db import utcnow
from core.scope import Scope
from demo.accounts import DEMO_PASSWORD
from demo.register import FIRST_F, FIRST_M, SURNAMES
from incentives.sober_models import Initiative, SoberDeclaration

REGION_KATO = "350000000"
DISTRICT_KATO = "354000000"
REGION_COORDINATOR = "coordinator.region@demo.kz"
# The bundled KATO reference has 13 settlements in the demo region; these seven villages of
# Bukhar-Zhyrau district complete the twenty. Their codes are placeholders of the form
# 3540009NN (demo only, not from the KATO file); the reference loader never uses them.
EXTRA_SETTLEMENTS = (
    ("354000901", "Доскей ауылы", "село Доскей"),
    ("354000902", "Дубовка ауылы", "село Дубовка"),
    ("354000903", "Ростовка ауылы", "село Ростовка"),
    ("354000904", "Көкпекті ауылы", "село Кокпекты"),
    ("354000905", "Белағаш ауылы", "село Белагаш"),
    ("354000906", "Құсақан ауылы", "село Кусакан"),
    ("354000907", "Тұзды ауылы", "село Тузды"),
)
# Per settlement, in KATO order: the state its declaration is left in.
STATES = ["confirmed"] * 11 + ["declared"] * 4 + ["revoked"] * 3 + ["redeclared", "confirmed_late"]
# Mean figure per quarter before a declaration, per indicator kind.
MEANS = {"alcohol_crimes": 4, "public_drinking": 11, "domestic_violence_calls": 6}
SHOPS = ("«Береке» дүкені", "«Ақжол» дүкені", "«Айгүл» минимаркеті", "«Нұр» дүкені")
BASELINE_QUARTERS = 16
INITIATIVES = (
    (
        "354030100",
        "activist",
        "«Ішімдіксіз той» — тойлар алкогольсіз",
        "under_review",
        None,
    ),
    ("354000901", "rural_akim", "Жастарға арналған спорт алаңы", "supported", None),
    ("354081100", "activist", "Аналар кеңесінің үйден-үйге кездесулері", "submitted", None),
    (
        "354000903",
        "activist",
        "Ауыл күніне арналған мереке",
        "declined",
        "Бастама алкогольсіз мәртебеге тікелей қатысы жоқ; спорт немесе отбасы іс-шарасы "
        "ретінде қайта ұсыныңыз.",
    ),
    ("354000905", "activist", "Ақсақалдар кеңесінің дүкен иелерімен кездесуі", "supported", None),
)


def _coordinator(session, password: str) -> accounts.User:
    """A coordinator of the whole demo region, who keeps its sober-settlement registry."""
    found = accounts.find_by_login(session, REGION_COORDINATOR)
    if found:
        return found
    region = places.by_kato(session, REGION_KATO)
    user = accounts.create_user(
        session,
        email=REGION_COORDINATOR,
        phone=None,
        full_name="Сәуле Мұқанова",
        unit_id=region.id,
        preferred_language="kk",
        password=password,
        actor_id=None,
    )
    accounts.grant_role(
        session, user_id=user.id, role="coordinator", unit_id=region.id, actor_id=None
    )
    return user


def _settlements(session) -> list[places.AdminUnit]:
    district = places.by_kato(session, DISTRICT_KATO)
    for kato, name_kk, name_ru in EXTRA_SETTLEMENTS:
        if session.scalar(select(places.AdminUnit.id).where(places.AdminUnit.kato == kato)) is None:
            places.add_unit(
                session,
                kato=kato,
                name_kk=name_kk,
                name_ru=name_ru,
                level="settlement",
                parent=district,
            )
    region = places.by_kato(session, REGION_KATO)
    return list(
        session.scalars(
            select(places.AdminUnit)
            .where(
                places.AdminUnit.level == "settlement",
                places.path_within_clause(places.AdminUnit.path, region.path),
            )
            .order_by(places.AdminUnit.kato)
            .limit(20)
        )
    )


def _declare(session, rng, unit, gathered_on, actor, scope, today, serial):
    people = [
        ("rural_akim", f"{rng.choice(SURNAMES)} {rng.choice(FIRST_M)}"),
        ("police_inspector", f"{rng.choice(SURNAMES)} {rng.choice(FIRST_M)}"),
        ("elders_council", f"{rng.choice(SURNAMES)} {rng.choice(FIRST_M)}"),
    ]
    if rng.random() < 0.5:
        people.append(("other", f"{rng.choice(SURNAMES)}а {rng.choice(FIRST_F)}"))
    shops = [
        (name, min(today, gathered_on + dt.timedelta(days=rng.randint(0, 30))))
        for name in rng.sample(SHOPS, rng.randint(1, 3))
    ]
    return sober.declare(
        session,
        unit_id=unit.id,
        gathered_on=gathered_on,
        attendance=rng.randint(60, 420),
        record_reference=f"Жиналыс хаттамасы № {serial}, {gathered_on:%d.%m.%Y}",
        record_file_id=None,
        signatories=[(name, role) for role, name in people],
        outlets=shops,
        actor_id=actor.id,
        scope=scope,
        today=today,
    )


def _indicator_rows(rng, unit, gathered_on, state, last) -> list[dict[str, str]]:
    declared_q = sober.quarter_of(gathered_on)
    first = sober.shift_quarter(declared_q, -BASELINE_QUARTERS)
    first = min(first, sober.shift_quarter(last, -7))
    # Confirmed communities see fewer offenses; where the status was revoked they came back.
    factor = {"revoked": 1.0, "declared": 0.75}.get(state, rng.uniform(0.35, 0.65))
    rows = []
    for kind, mean in MEANS.items():
        local = mean * rng.uniform(0.6, 1.4)
        for q in sober.quarters_between(first, last):
            rate = local * (factor if q > declared_q else 1.0)
            value = max(0, round(rng.uniform(rate * 0.6, rate * 1.4)))
            rows.append(
                {
                    "kato": unit.kato,
                    "kind": kind,
                    "year": str(q[0]),
                    "quarter": str(q[1]),
                    "value": str(value),
                }
            )
    return rows


def load_sober(session, password: str = DEMO_PASSWORD, today: dt.date | None = None) -> dict:
    """Load the demo sober settlements once; with any declaration present it does nothing.

    Returns counts: settlements, indicator values and initiatives loaded.
    """
    if session.scalar(select(func.count()).select_from(SoberDeclaration)):
        return {}
    rng = random.Random(546)  # noqa: S311  (reproducible demo data, not a secret)
    today = today or clock.local_date(utcnow())
    actor = _coordinator(session, password)
    region = places.by_kato(session, REGION_KATO)
    scope = Scope.within([region.id])
    settlements = _settlements(session)
    last = sober.shift_quarter(sober.quarter_of(today), -1)
    rows = []
    for serial, (unit, state) in enumerate(zip(settlements, STATES, strict=False), start=1):
        # Gatherings between seven quarters and one quarter ago: eight quarters of figures
        # show both sides of the declaration.
        gathered_on = today - dt.timedelta(days=rng.randint(100, 640))
        declaration = _declare(session, rng, unit, gathered_on, actor, scope, today, serial)
        if state in ("confirmed", "revoked", "redeclared", "confirmed_late"):
            sober.confirm(session, declaration_id=declaration.id, actor_id=actor.id, scope=scope)
        if state in ("revoked", "redeclared"):
            sober.revoke(
                session,
                declaration_id=declaration.id,
                reason="Дүкендердің бірі алкоголь сатуды қайта бастады; тұрғындар жиналысы "
                "міндеттемені тоқтатты.",
                actor_id=actor.id,
                scope=scope,
            )
        if state == "redeclared":
            again = min(today, gathered_on + dt.timedelta(days=90))
            _declare(session, rng, unit, again, actor, scope, today, serial + 100)
        rows.extend(_indicator_rows(rng, unit, gathered_on, state, last))
    report = sober.import_indicator_rows(session, rows, actor_id=actor.id, scope=scope, today=today)
    initiatives = _initiatives(session, today)
    return {
        "settlements": len(settlements),
        "values": report.imported,
        "initiatives": initiatives,
    }


def _initiatives(session, today: dt.date) -> int:
    if session.scalar(select(func.count()).select_from(Initiative)):
        return 0
    activist = accounts.find_by_login(session, "volunteer@demo.kz")
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    if activist is None or coordinator is None:
        return 0
    scope = Scope.of(coordinator, "coordinator")
    made = 0
    for kato, role, title, state, reason in INITIATIVES:
        unit = places.by_kato(session, kato)
        initiative = sober.submit_initiative(
            session,
            unit_id=unit.id,
            title=title,
            description=f"{title}: ауыл тұрғындарының ішімдіксіз өмір салтын қолдау.",
            measures="Кездесулер, спорт жарыстары, дүкен иелерімен келіссөздер.",
            team="Ауыл белсенділері, ақсақалдар кеңесі, мектеп мұғалімдері.",
            requested_incentive="Алғыс хат және белсенділерге ақшалай сыйақы.",
            proposer_role=role,
            actor_id=activist.id,
            home_unit_id=activist.unit_id,
        )
        steps = {
            "submitted": [],
            "under_review": [("under_review", "Құжаттарды қарап жатырмыз.")],
            "supported": [
                ("under_review", None),
                ("supported", "Бастама қолдау тапты: учаскелік инспектор нәтижесін растады."),
            ],
            "declined": [("declined", reason)],
        }[state]
        for to_status, comment in steps:
            sober.review_initiative(
                session,
                initiative_id=initiative.id,
                to_status=to_status,
                comment=comment,
                actor_id=coordinator.id,
                scope=scope,
            )
        made += 1
    return made
