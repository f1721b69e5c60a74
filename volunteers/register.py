"""The akimat's register: members, certificate numbers, statuses, expiry and patrol units."""

from __future__ import annotations

import calendar as stdcalendar
import datetime as dt
import secrets

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core import accounts, audit, iin, places
from core.errors import N_, Conflict, DomainError, NotFound
from core.scope import Scope
from core.transitions import advance
from volunteers.models import (
    Application,
    CertificateCounter,
    Member,
    MembershipSetting,
    MemberStatusChange,
    PatrolUnit,
)
from volunteers.workflow import MEMBER, MEMBER_STEP_TO

DEFAULT_VALIDITY_MONTHS = 36  # [I] domain.md: set per jurisdiction in MembershipSetting
ISSUING_LEVELS = ("district", "city")
# Which decisions need a written reason (the steps themselves: volunteers.workflow.MEMBER).
REASON_REQUIRED = {"suspended", "expelled"}


def add_months(day: dt.date, months: int) -> dt.date:
    """Return ``day`` plus ``months`` calendar months, clamped to the month's last day."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, stdcalendar.monthrange(year, month)[1]))


def _ancestors(session: Session, unit: places.AdminUnit) -> list[places.AdminUnit]:
    """Return the unit and the units above it, nearest first."""
    ids = [int(x) for x in unit.path.strip("/").split("/")]
    found = {
        u.id: u
        for u in session.scalars(select(places.AdminUnit).where(places.AdminUnit.id.in_(ids)))
    }
    return [found[i] for i in reversed(ids)]


def issuing_unit(session: Session, unit: places.AdminUnit) -> places.AdminUnit:
    """Return the district or city whose akimat keeps the register for ``unit``."""
    chain = _ancestors(session, unit)
    for candidate in chain:
        if candidate.level in ISSUING_LEVELS:
            return candidate
    return next((u for u in chain if u.level == "region"), chain[0])


def validity_months(session: Session, unit: places.AdminUnit) -> int:
    """Return the certificate validity set for ``unit`` or the nearest unit above it."""
    chain = _ancestors(session, unit)
    settings = {
        s.unit_id: s.validity_months
        for s in session.scalars(
            select(MembershipSetting).where(MembershipSetting.unit_id.in_([u.id for u in chain]))
        )
    }
    for candidate in chain:
        if candidate.id in settings:
            return settings[candidate.id]
    return DEFAULT_VALIDITY_MONTHS


def set_validity(session: Session, *, unit_id: int, months: int | None, actor_id: int) -> None:
    """Set the certificate validity of a jurisdiction (inherited below it), or clear it."""
    if months is not None and not 1 <= months <= 120:
        raise DomainError(
            N_("The validity must be between %(low)s and %(high)s months."), low=1, high=120
        )
    setting = session.get(MembershipSetting, unit_id)
    before = setting.validity_months if setting else None
    if months is None:
        if setting is None:
            return
        session.delete(setting)
    elif setting is None:
        session.add(MembershipSetting(unit_id=unit_id, validity_months=months))
    else:
        setting.validity_months = months
    session.flush()
    audit.record(
        session,
        action="register.validity",
        object_type="admin_unit",
        object_id=unit_id,
        actor_id=actor_id,
        payload={"before": before, "after": months},
    )


def validity_settings(session: Session, scope: Scope) -> list[tuple[places.AdminUnit, int]]:
    """Return the validity settings of units within ``scope``, by path."""
    return [
        (unit, months)
        for unit, months in session.execute(
            select(places.AdminUnit, MembershipSetting.validity_months)
            .join(MembershipSetting, MembershipSetting.unit_id == places.AdminUnit.id)
            .where(scope.units())
            .order_by(places.AdminUnit.path)
        ).all()
    ]


def reserve_certificate_numbers(
    session: Session, issuer: places.AdminUnit, year: int, count: int
) -> int:
    """Reserve ``count`` consecutive sequence numbers of ``issuer`` and ``year``; return the first.

    The counter row is incremented by one guarded UPDATE in the caller's transaction: a
    concurrent registration waits for the row, and a rolled-back one gives its numbers back,
    so the sequence has no gaps and no repeats.
    """
    bump = (
        update(CertificateCounter)
        .where(CertificateCounter.unit_id == issuer.id, CertificateCounter.year == year)
        .values(last=CertificateCounter.last + count)
        .returning(CertificateCounter.last)
    )
    last = session.execute(bump).scalar_one_or_none()
    if last is None:
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(
            dialect.insert(CertificateCounter)
            .values(unit_id=issuer.id, year=year, last=0)
            .on_conflict_do_nothing()
        )
        last = session.execute(bump).scalar_one()
    return last - count + 1


def certificate_number(issuer: places.AdminUnit, year: int, seq: int) -> str:
    """Format a certificate number ``<KATO>-<year>-<seq>``."""
    return f"{issuer.kato}-{year}-{seq:05d}"


def next_certificate_number(session: Session, unit: places.AdminUnit, year: int) -> str:
    """Take the next certificate number of the akimat that registers ``unit``."""
    issuer = issuing_unit(session, unit)
    return certificate_number(issuer, year, reserve_certificate_numbers(session, issuer, year, 1))


def member_of_application(session: Session, application_id: int) -> Member | None:
    """Return the member created from an application, if any."""
    return session.scalar(select(Member).where(Member.application_id == application_id))


def get_member(session: Session, member_id: int) -> Member:
    """Return the member or raise NotFound."""
    member = session.get(Member, member_id)
    if member is None:
        raise NotFound(N_("No such member."))
    return member


def create_member(
    session: Session,
    *,
    application: Application,
    coordinator_id: int | None,
    actor_id: int | None,
    today: dt.date,
    issued_on: dt.date | None = None,
) -> Member:
    """Enter a registered application in the register with a new certificate."""
    issued_on = issued_on or today
    unit = session.get(places.AdminUnit, application.unit_id)
    member = Member(
        application_id=application.id,
        user_id=application.applicant_id,
        kind=application.kind,
        iin=application.iin,
        full_name=application.full_name,
        unit_id=application.unit_id,
        patrol_unit_id=application.patrol_unit_id,
        coordinator_id=coordinator_id,
        certificate_no=next_certificate_number(session, unit, issued_on.year),
        verify_token=secrets.token_urlsafe(18),
        issued_on=issued_on,
        expires_on=add_months(issued_on, validity_months(session, unit)),
        status="active",
    )
    session.add(member)
    session.flush()
    session.add(
        MemberStatusChange(
            member_id=member.id, from_status=None, to_status="active", reason="", actor_id=actor_id
        )
    )
    if application.applicant_id:
        user = accounts.get_user(session, application.applicant_id)
        if not accounts.holds(session, user, "volunteer", application.unit_id):
            accounts.grant_role(
                session,
                user_id=user.id,
                role="volunteer",
                unit_id=application.unit_id,
                actor_id=None,
            )
    audit.record(
        session,
        action="member.register",
        object_type="member",
        object_id=member.id,
        actor_id=actor_id,
        payload={
            "certificate": member.certificate_no,
            "expires_on": member.expires_on.isoformat(),
        },
    )
    return member


def next_statuses(status: str) -> list[str]:
    """Return the statuses a member who is ``status`` may be moved to, in a stable order."""
    # The register's own decisions only: the steps an appeal takes (stay, unexpel) are not
    # offered on the member page.
    return sorted(
        target for target, name in MEMBER_STEP_TO.items() if status in MEMBER.steps[name].sources
    )


def change_status(
    session: Session, *, member_id: int, to_status: str, reason: str, actor_id: int | None
) -> Member:
    """Suspend, reinstate, expel or withdraw a member, keeping the history."""
    member = get_member(session, member_id)
    step = MEMBER_STEP_TO.get(to_status)
    if step is None or not MEMBER.can(member, step):
        raise Conflict(
            N_("A member who is “%(status)s” cannot become “%(target)s”."),
            status=member.status,
            target=to_status,
        )
    reason = (reason or "").strip()
    if to_status in REASON_REQUIRED and not reason:
        raise DomainError(N_("Write the reason for this decision."))
    previous = member.status
    advance(session, MEMBER, member, step, values={"status_reason": reason or None})
    session.add(
        MemberStatusChange(
            member_id=member.id,
            from_status=previous,
            to_status=to_status,
            reason=reason,
            actor_id=actor_id,
        )
    )
    if to_status in ("expelled", "withdrawn", "expired"):
        application = session.get(Application, member.application_id)
        application.live = False  # the person may apply again
    audit.record(
        session,
        action=f"member.{to_status}",
        object_type="member",
        object_id=member.id,
        actor_id=actor_id,
        payload={"from": previous, "to": to_status},
    )
    return member


def expire_due(session: Session, *, today: dt.date) -> int:
    """Mark memberships whose certificate has expired; safe to run again the same day."""
    due = session.scalars(
        select(Member.id).where(
            Member.status.in_(("active", "suspended")), Member.expires_on < today
        )
    ).all()
    expired = 0
    for member_id in due:
        try:
            change_status(
                session,
                member_id=member_id,
                to_status="expired",
                reason="certificate expired",
                actor_id=None,
            )
        except Conflict:
            continue  # a registrar decided on this member meanwhile: nothing was written
        expired += 1
    return expired


def save_patrol_unit(
    session: Session,
    *,
    unit_id: int,
    name: str,
    coordinator_id: int | None,
    leader_member_id: int | None,
    actor_id: int,
    patrol_unit_id: int | None = None,
) -> PatrolUnit:
    """Create or edit a patrol unit; its leader must be one of its members."""
    name = " ".join((name or "").split())
    if not name:
        raise DomainError(N_("Enter the name of the unit."))
    iin.refuse_in_names(name)
    if session.get(places.AdminUnit, unit_id) is None:
        raise DomainError(N_("Choose a jurisdiction from the list."))
    if patrol_unit_id is None:
        patrol = PatrolUnit(unit_id=unit_id, name=name)
        session.add(patrol)
        session.flush()
        action = "patrol_unit.create"
    else:
        patrol = session.get(PatrolUnit, patrol_unit_id)
        if patrol is None:
            raise NotFound(N_("No such patrol unit."))
        action = "patrol_unit.update"
    if leader_member_id is not None:
        leader = session.get(Member, leader_member_id)
        if leader is None or leader.patrol_unit_id != patrol.id:
            raise DomainError(N_("The leader must be a member of the unit."))
    patrol.name, patrol.unit_id = name, unit_id
    patrol.coordinator_id, patrol.leader_member_id = coordinator_id, leader_member_id
    session.flush()
    audit.record(
        session,
        action=action,
        object_type="patrol_unit",
        object_id=patrol.id,
        actor_id=actor_id,
        payload={"name": name, "unit_id": unit_id},
    )
    return patrol


def assign_to_unit(
    session: Session, *, member_id: int, patrol_unit_id: int | None, actor_id: int
) -> Member:
    """Move a member into a patrol unit (one at a time) or out of any."""
    member = get_member(session, member_id)
    if patrol_unit_id is not None:
        patrol = session.get(PatrolUnit, patrol_unit_id)
        if patrol is None:
            raise NotFound(N_("No such patrol unit."))
        district = issuing_unit(session, session.get(places.AdminUnit, member.unit_id))
        if not places.within(session, patrol.unit_id, [district.id]):
            raise DomainError(N_("The patrol unit works in another district."))
    if member.patrol_unit_id is not None and member.patrol_unit_id != patrol_unit_id:
        session.execute(
            update(PatrolUnit)
            .where(PatrolUnit.id == member.patrol_unit_id, PatrolUnit.leader_member_id == member.id)
            .values(leader_member_id=None)
        )
    member.patrol_unit_id = patrol_unit_id
    audit.record(
        session,
        action="member.assign_unit",
        object_type="member",
        object_id=member.id,
        actor_id=actor_id,
        payload={"patrol_unit_id": patrol_unit_id},
    )
    return member
