"""Demo patrol work: four months of shifts, attendance and contributions in every state."""

from __future__ import annotations

import datetime as dt
import random

from sqlalchemy import func, select

from core import accounts, clock, places
from core.db import utcnow
from core.scope import Scope
from volunteers import contributions, shifts
from volunteers.activity_models import Contribution, Shift
from volunteers.models import Member, PatrolUnit

WEEKS_BACK = 16
WEEKS_AHEAD = 2
SECOND_COORDINATOR = "coordinator2@demo.kz"
EXTRA_KINDS = (
    ("offense_reported", "Қоғамдық орында төбелес туралы 102-ге хабарлады", "KUSP"),
    ("preventive_event", "Мектепте құқықтық сауаттылық сабағы", None),
    ("victim_assistance", "Жол-көлік оқиғасында жедел жәрдем келгенше көмектесті", None),
    ("public_order_event", "Наурыз мерекесінде қоғамдық тәртіпті сақтау", None),
    ("sober_settlement_activity", "«Ауыл – алкогольсіз» жиналысын ұйымдастыруға көмек", None),
)


def _local(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), tzinfo=clock.zone()).astimezone(dt.UTC)


def _second_coordinator(session, password: str) -> accounts.User:
    """A second coordinator of the demo district, so that four eyes can confirm."""
    found = accounts.find_by_login(session, SECOND_COORDINATOR)
    if found:
        return found
    district = session.get(
        accounts.User, accounts.find_by_login(session, "coordinator@demo.kz").id
    ).unit_id
    user = accounts.create_user(
        session,
        email=SECOND_COORDINATOR,
        phone=None,
        full_name="Динара Әбенова",
        unit_id=district,
        preferred_language="ru",
        password=password,
        actor_id=None,
    )
    accounts.grant_role(
        session, user_id=user.id, role="coordinator", unit_id=district, actor_id=None
    )
    return user


def load_activity(session, password: str) -> int:
    """Plan, staff and close shifts of the demo units; log and decide contributions.

    Runs once: with any shift in the database it does nothing. Returns the shifts planned.
    """
    if session.scalar(select(func.count()).select_from(Shift)):
        return 0
    rng = random.Random(4325)  # noqa: S311  (reproducible demo data, not a secret)
    now = utcnow()
    today = clock.local_date(now)
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    second = _second_coordinator(session, password)
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    own = (
        session.scalar(select(Member).where(Member.user_id == volunteer.id)) if volunteer else None
    )
    district = shifts.district_of(session, coordinator.unit_id)
    planned = 0
    for patrol in session.scalars(select(PatrolUnit).order_by(PatrolUnit.id)):
        members = list(
            session.scalars(
                select(Member)
                .where(Member.patrol_unit_id == patrol.id, Member.status == "active")
                .order_by(Member.id)
            )
        )
        in_demo_district = places.path_within(
            session.get(places.AdminUnit, patrol.unit_id).path, district.path
        )
        first_monday = today - dt.timedelta(days=today.weekday(), weeks=WEEKS_BACK)
        for week in range(WEEKS_BACK + WEEKS_AHEAD):
            for weekday in (1, 5):  # Tuesday and Saturday evenings
                day = first_monday + dt.timedelta(weeks=week, days=weekday)
                starts, ends = _local(day, 19), _local(day, 23)
                (shift,) = shifts.plan_shift(
                    session,
                    unit_id=patrol.unit_id,
                    patrol_unit_id=patrol.id,
                    place=rng.choice(
                        ("Орталық саябақ — Бейбітшілік көшесі", "Мектеп маңы", "Вокзал алаңы")
                    ),
                    starts_at=starts,
                    ends_at=ends,
                    capacity=6,
                    supervisor_id=coordinator.id if in_demo_district else None,
                    actor_id=coordinator.id,
                    now=starts - dt.timedelta(days=10),
                )
                planned += 1
                eligible = [m for m in members if m.issued_on <= day <= m.expires_on]
                crew = rng.sample(eligible, min(len(eligible), rng.randint(2, 5)))
                if own is not None and own.patrol_unit_id == patrol.id and own.issued_on <= day:
                    crew = [own, *(m for m in crew if m.id != own.id)][:5]
                _staff(session, rng, shift, crew, now)
    shifts.close_ended(session, now=now)
    last = session.scalars(select(Shift).order_by(Shift.starts_at.desc())).first()
    shifts.cancel_shift(
        session,
        shift_id=last.id,
        reason="Ауа райы ескертуі: боран",
        actor_id=coordinator.id,
        now=last.starts_at - dt.timedelta(days=1),
    )
    if own is not None and own.patrol_unit_id:
        _running_now(session, own, coordinator, now)
    _decide_patrol_hours(session, rng, coordinator, second, today)
    _log_extras(session, rng, coordinator, second, today)
    return planned


def _running_now(session, own: Member, coordinator, now: dt.datetime) -> None:
    """A shift that started half an hour ago with the demo volunteer on it: check in on a phone."""
    from core.errors import Conflict

    patrol = session.get(PatrolUnit, own.patrol_unit_id)
    (shift,) = shifts.plan_shift(
        session,
        unit_id=patrol.unit_id,
        patrol_unit_id=patrol.id,
        place="Ботақара, орталық алаң — демо кезекшілік",
        starts_at=now - dt.timedelta(minutes=30),
        ends_at=now + dt.timedelta(hours=3),
        capacity=4,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=now - dt.timedelta(days=1),
    )
    try:
        with session.begin_nested():
            shifts.sign_up(
                session,
                shift_id=shift.id,
                member_id=own.id,
                actor_id=own.user_id,
                now=now - dt.timedelta(days=1),
            )
    except Conflict:
        pass  # a regular evening shift of the unit overlaps: the volunteer is on that one


def _staff(session, rng, shift: Shift, crew: list[Member], now: dt.datetime) -> None:
    """Sign the crew up; for shifts already over, record how each one turned out."""
    for member in crew:
        shifts.sign_up(
            session,
            shift_id=shift.id,
            member_id=member.id,
            actor_id=member.user_id or shift.created_by_id,
            now=shift.starts_at - dt.timedelta(days=3),
        )
    from volunteers.activity_models import Signup

    if shift.ends_at > now:
        first = session.scalars(select(Signup).where(Signup.shift_id == shift.id)).first()
        if first is not None and rng.random() < 0.2:  # someone gave up their place
            shifts.cancel_signup(
                session,
                signup_id=first.id,
                actor_id=first.member.user_id or shift.created_by_id,
                now=shift.starts_at - dt.timedelta(days=2),
            )
        return

    for signup in session.scalars(select(Signup).where(Signup.shift_id == shift.id)):
        fate = rng.random()
        if fate < 0.1:
            continue  # never came: closing marks a no-show
        shifts.check_in(
            session,
            signup_id=signup.id,
            actor_id=signup.member.user_id or shift.created_by_id,
            now=shift.starts_at + dt.timedelta(minutes=rng.randint(0, 20)),
        )
        if fate < 0.2:
            continue  # forgot to check out: closing completes at the shift's end
        shifts.check_out(
            session,
            signup_id=signup.id,
            actor_id=signup.member.user_id or shift.created_by_id,
            now=shift.ends_at - dt.timedelta(minutes=rng.randint(0, 30)),
        )


def _decide_patrol_hours(session, rng, coordinator, second, today: dt.date) -> None:
    """Confirm most patrol hours older than two weeks; reject a few; leave the rest waiting."""
    cutoff = today - dt.timedelta(days=14)
    scope = Scope.of(coordinator, "coordinator")
    waiting = session.scalars(
        select(Contribution)
        .where(
            Contribution.kind == "patrol_hours",
            Contribution.status == "logged",
            Contribution.occurred_on < cutoff,
        )
        .order_by(Contribution.id)
    ).all()
    for contribution in waiting:
        if not scope.contains(session, contribution.unit_id):
            continue
        moment = _local(contribution.occurred_on + dt.timedelta(days=3), 10)
        # Whoever recorded the attendance does not confirm the hours it produced.
        decider = second if contribution.logged_by_id == coordinator.id else coordinator
        if rng.random() < 0.04:
            contributions.reject(
                session,
                contribution_id=contribution.id,
                reason="Смена журналында белгі жоқ",
                actor_id=decider.id,
                scope=scope,
                now=moment,
            )
        else:
            contributions.confirm(
                session,
                contribution_id=contribution.id,
                actor_id=decider.id,
                scope=scope,
                now=moment,
            )


def _log_extras(session, rng, coordinator, second, today: dt.date) -> None:
    """Other kinds of contribution, logged by one coordinator and decided by the other."""
    scope = Scope.of(coordinator, "coordinator")
    members = session.scalars(
        select(Member)
        .join(places.AdminUnit, Member.unit_id == places.AdminUnit.id)
        .where(Member.status == "active", scope.units())
        .order_by(Member.id)
    ).all()
    for n, member in enumerate(members[:60]):
        kind, text, ref = EXTRA_KINDS[n % len(EXTRA_KINDS)]
        day = today - dt.timedelta(days=rng.randint(1, WEEKS_BACK * 7))
        if day < member.issued_on:
            continue
        logged = contributions.log_contribution(
            session,
            member_id=member.id,
            kind=kind,
            occurred_on=day,
            minutes=None,
            description=text,
            reference=f"{ref}-{today.year}-{1000 + n}" if ref else None,
            actor_id=second.id,
            today=today,
        )
        if n % 6 == 5:
            continue  # waiting in the queue
        if n % 10 == 3:
            contributions.reject(
                session,
                contribution_id=logged.id,
                reason="Тіркеу нөмірі табылмады",
                actor_id=coordinator.id,
                scope=scope,
                now=_local(min(day + dt.timedelta(days=2), today), 9),
            )
        else:
            contributions.confirm(
                session,
                contribution_id=logged.id,
                actor_id=coordinator.id,
                scope=scope,
                now=_local(min(day + dt.timedelta(days=2), today), 9),
            )
