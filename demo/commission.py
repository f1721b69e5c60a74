"""Demo reward commission: a policy, members, a finalised past session with payouts, an open one."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core import accounts, clock, places
from core.db import utcnow
from core.scope import Scope
from demo import minutes
from incentives import nominations, payouts, policy, sessions
from incentives.models import Commission
from volunteers.activity_models import Contribution
from volunteers.models import Member

DISTRICT = "354000000"
EXTRA_MEMBERS = {  # e-mail -> (name, role on the commission, office in kk and ru)
    "member2@demo.kz": (
        "Бауыржан Ахметов",
        "deputy_chair",
        ("Аудандық полиция бөлімінің бастығы", "Начальник районного отдела полиции"),
    ),
    "member3@demo.kz": (
        "Гүлнар Серікқызы",
        "member",
        ("Аудандық қаржы бөлімінің басшысы", "Руководитель районного отдела финансов"),
    ),
}
OFFICES = {  # e-mail -> office in kk and ru
    "chair@demo.kz": ("Аудан әкімінің орынбасары", "Заместитель акима района"),
    "secretary@demo.kz": ("Әкім аппаратының бас маманы", "Главный специалист аппарата акима"),
    "member@demo.kz": ("Аудандық мәслихат депутаты", "Депутат районного маслихата"),
}
NAMES = {
    "name_kk": "Бұқар жырау ауданы әкімдігі жанындағы азаматтарды көтермелеу комиссиясы",
    "name_ru": "Комиссия по поощрению граждан при акимате Бухар-Жырауского района",
    "body_kk": "Бұқар жырау ауданының әкімдігі",
    "body_ru": "Акимат Бухар-Жырауского района",
}
PLACE = {
    "place_kk": "Ботақара кенті, аудан әкімдігі, мәжіліс залы",
    "place_ru": "поселок Ботакара, акимат района, зал заседаний",
}
DEMO_IBAN = "KZ86125KZT5004100100"
JUSTIFICATION = "Тоқсан бойы патрульдеуге белсенді қатысты, құқық бұзушылықтар туралы хабарлады."


def load_commission(session, password: str) -> list[str]:
    """Load once (nothing when a commission exists); return the extra demo logins."""
    if session.scalar(select(func.count()).select_from(Commission)):
        return []
    region = places.by_kato(session, "350000000")
    district = places.by_kato(session, DISTRICT)
    admin = accounts.find_by_login(session, "admin@demo.kz")
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    finance = accounts.find_by_login(session, "finance@demo.kz")
    today = clock.local_date(utcnow())
    policy.set_policy(
        session,
        unit_id=region.id,
        effective_from=dt.date(today.year, 1, 1),
        resolution=(
            "Қарағанды облысы әкімдігінің қаулысы: қоғамдық тәртіпті қамтамасыз етуге қатысатын"
            " азаматтарды көтермелеу түрлері мен тәртібі (демо)"
        ),
        forms=["thanks", "certificate", "valuable_gift", "cash"],
        cash_cap_mci=15,
        annual_cap_mci=30,
        points={},
        quorum=(2, 3),
        chair_breaks_tie=True,
        actor_id=admin.id,
    )
    commission = policy.create_commission(
        session,
        unit_id=district.id,
        **NAMES,
        actor_id=admin.id,
    )
    roles = {"chair@demo.kz": "chair", "secretary@demo.kz": "secretary", "member@demo.kz": "member"}
    for email, (name, role, office) in EXTRA_MEMBERS.items():
        if accounts.find_by_login(session, email) is None:
            accounts.create_user(
                session,
                email=email,
                phone=None,
                full_name=name,
                unit_id=district.id,
                preferred_language="kk",
                password=password,
                actor_id=None,
            )
            accounts.grant_role(
                session,
                user_id=accounts.find_by_login(session, email).id,
                role="member",
                unit_id=district.id,
                actor_id=None,
            )
        roles[email] = role
        OFFICES[email] = office
    seats = {}
    for email, role in roles.items():
        seats[email] = policy.add_member(
            session,
            commission_id=commission.id,
            user_id=accounts.find_by_login(session, email).id,
            role=role,
            position_kk=OFFICES[email][0],
            position_ru=OFFICES[email][1],
            term_from=dt.date(today.year, 1, 1),
            term_to=None,
            actor_id=admin.id,
        )
    session.flush()
    quarter = (today.month - 1) // 3 + 1
    last_quarter = (today.year, quarter - 1) if quarter > 1 else (today.year - 1, 4)
    _past_session(session, commission, seats, coordinator, finance, last_quarter, today)
    _open_session(session, commission, seats, coordinator, (today.year, quarter), today)
    return list(EXTRA_MEMBERS)


def _picks(session, commission, year, quarter, count, skip=()):
    first, last = nominations.quarter_bounds(year, quarter)
    ranked = nominations.candidates(
        session, Scope.within([commission.unit_id]), first, last, limit=50
    )
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    own = session.scalar(select(Member.id).where(Member.user_id == volunteer.id))
    ordered = sorted(ranked, key=lambda c: c.member_id != own)  # the demo volunteer first
    chosen = []
    for candidate in ordered:
        if candidate.member_id in skip:
            continue
        ids = session.scalars(
            select(Contribution.id).where(
                Contribution.member_id == candidate.member_id,
                Contribution.status == "confirmed",
                Contribution.occurred_on.between(first, last),
            )
        ).all()
        chosen.append((candidate.member_id, list(ids)[:6]))
        if len(chosen) == count:
            break
    return chosen


def _nominate(session, commission, member_id, ids, form, mci, coordinator, today):
    mci_tiyn = policy.mci_tiyn(session, today.year)
    return nominations.nominate(
        session,
        commission_id=commission.id,
        member_id=member_id,
        contribution_ids=ids,
        justification=JUSTIFICATION,
        form=form,
        amount_tiyn=mci * mci_tiyn,
        entered_in="mci",
        nominator_id=coordinator.id,
        today=today,
    )


def _plan_and_open(session, commission, seats, nomination_ids, held_on, now, on_paper=False):
    secretary = seats["secretary@demo.kz"]
    sitting = sessions.plan(
        session,
        commission_id=commission.id,
        held_on=held_on,
        **PLACE,
        on_paper=on_paper,
        actor_id=secretary.user_id,
    )
    sessions.add_to_agenda(
        session,
        session_id=sitting.id,
        nomination_ids=nomination_ids,
        actor_id=secretary.user_id,
    )
    present = {s.id for e, s in seats.items() if e != "member3@demo.kz"}  # one member absent
    sessions.open_session(
        session, session_id=sitting.id, present_ids=present, actor_id=secretary.user_id, now=now
    )
    return sitting


def _past_session(session, commission, seats, coordinator, finance, period, today):

    picks = _picks(session, commission, *period, count=4)
    if len(picks) < 2:
        return
    forms = [("cash", 10), ("cash", 8), ("certificate", 0), ("valuable_gift", 5)]
    nominated = [
        _nominate(session, commission, member_id, ids, form, mci, coordinator, today)
        for (member_id, ids), (form, mci) in zip(picks, forms, strict=False)
    ]
    initiative = _supported_initiative(session, commission)
    if initiative is not None:
        nominated.append(
            nominations.nominate_initiative(
                session,
                initiative_id=initiative.id,
                recipient="team",
                justification="Ауылдың алкогольсіз мерекелерін ұйымдастырды.",
                form="cash",
                amount_tiyn=10 * policy.mci_tiyn(session, today.year),
                entered_in="mci",
                nominator_id=coordinator.id,
                today=today,
            )
        )
    held_on = today - dt.timedelta(days=20)
    now = utcnow() - dt.timedelta(days=20)
    sitting = _plan_and_open(session, commission, seats, [n.id for n in nominated], held_on, now)
    present = sessions.present_members(session, sitting.id)
    for item in sitting.items:
        for seat in present:
            choice = "against" if item.position == 4 and seat.role == "member" else "for"
            sessions.vote(
                session,
                item_id=item.id,
                commission_member_id=seat.id,
                choice=choice,
                reason=None,
                entered_by_id=seat.user_id,
            )
    sessions.close(session, session_id=sitting.id, actor_id=sitting.planned_by_id, now=now)
    session.flush()
    text_kk, text_ru = minutes.texts(session, sitting)
    sessions.finalize_minutes(
        session,
        session_id=sitting.id,
        text_kk=text_kk,
        text_ru=text_ru,
        actor_id=sitting.planned_by_id,
        now=now,
    )
    sessions.record_act(
        session,
        session_id=sitting.id,
        number="512-қ",
        date=held_on + dt.timedelta(days=3),
        actor_id=sitting.planned_by_id,
    )
    items = {i.position: i for i in sitting.items}
    paid = items.get(1)
    if paid is not None and paid.outcome == "approved":
        payouts.record_payment(
            session,
            item_id=paid.id,
            iban=DEMO_IBAN,
            order_number="ТП-2026-1187",
            order_date=held_on + dt.timedelta(days=6),
            amount_tiyn=paid.nomination.amount_tiyn,
            idempotency_key=f"demo-payout-{paid.id}",
            actor_id=finance.id,
            today=today,
        )
    for item in sitting.items:  # the initiative's reward, from the sober-settlement line
        if item.nomination.initiative_id and item.outcome == "approved":
            payouts.record_payment(
                session,
                item_id=item.id,
                iban=DEMO_IBAN,
                order_number="ТП-2026-1190",
                order_date=held_on + dt.timedelta(days=6),
                amount_tiyn=item.nomination.amount_tiyn,
                idempotency_key=f"demo-payout-{item.id}",
                actor_id=finance.id,
                today=today,
            )
    certificate = items.get(3)
    if certificate is not None and certificate.outcome == "approved":
        payouts.hand_over(
            session,
            item_id=certificate.id,
            handed_on=held_on + dt.timedelta(days=5),
            actor_id=finance.id,
            today=today,
        )


def _supported_initiative(session, commission):
    from incentives.sober_models import Initiative

    return session.scalars(
        select(Initiative)
        .join(places.AdminUnit, Initiative.unit_id == places.AdminUnit.id)
        .where(
            Initiative.status == "supported",
            places.units_within_clause([commission.unit_id]),
        )
        .order_by(Initiative.id)
    ).first()


def _open_session(session, commission, seats, coordinator, period, today):
    picks = _picks(session, commission, *period, count=3)
    if not picks:
        return
    nominated = [
        _nominate(session, commission, member_id, ids, form, mci, coordinator, today)
        for (member_id, ids), (form, mci) in zip(
            picks, [("cash", 6), ("thanks", 0), ("cash", 4)], strict=False
        )
    ]
    sitting = _plan_and_open(session, commission, seats, [n.id for n in nominated], today, utcnow())
    chair = seats["chair@demo.kz"]
    first = sitting.items[0]
    sessions.vote(
        session,
        item_id=first.id,
        commission_member_id=chair.id,
        choice="for",
        reason=None,
        entered_by_id=chair.user_id,
    )
