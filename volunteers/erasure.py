"""Erasing or anonymising the personal data of closed applications, memberships and accounts.

Rows stay: payouts, nominations, ledger entries, minutes and audit events refer to them by id,
so the money records and the audit chain still verify. What goes are the personal fields; an
``erased_at`` mark says a row was treated. Every change is one guarded UPDATE (``… WHERE
erased_at IS NULL``), so two runs at once, or a run repeated, treat each record once and audit
it once.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, exists, func, select, text, update
from sqlalchemy.orm import Session

from core import audit, clock, notifications
from core.account_models import RoleGrant, User
from core.db import utcnow
from core.mfa import RecoveryCode, TotpFactor
from core.payout_accounts import PayoutAccount
from core.sealing import blind_index
from volunteers import retention
from volunteers.calendar_feeds import CalendarFeed
from volunteers.models import Application, Consent, Member, MemberStatusChange

# What an erased name, and an erased reason that a CHECK requires to be non-empty, read as.
ERASED_NAME = "•••"
# Erase drops the birth date to this; anonymise keeps the year (statistics by age).
ERASED_BIRTH = dt.date(1900, 1, 1)
BATCH = 200
Notifications = notifications.Notification
# Erasers of what higher packages keep about the treated people (appeals registers its hearings
# and complaints here, as lower packages never import it): each is called in the batch's
# transaction, under the audit lock, with the treated application ids, the treated member ids
# and the moment, and returns how many rows it treated.
ERASERS: list[Callable[[Session, list[int], list[int], dt.datetime], int]] = []
_ENDED = ("expelled", "withdrawn", "expired")


def erased_iin(application_id: int) -> str:
    """Return the stand-in of an erased IIN: twelve characters, never a valid IIN, and one per
    application (a shared stand-in would make every erased person the same person)."""
    return f"X{application_id:011d}"


def erased_email(user_id: int) -> str:
    """Return the stand-in login of an erased account (an account needs an e-mail or phone)."""
    return f"erased-{user_id}@erased.invalid"


@dataclasses.dataclass
class Batch:
    """What one batch did: the last application id looked at (None: no more) and counts."""

    last_id: int | None
    scanned: int = 0
    applications: int = 0
    members: int = 0
    accounts: int = 0
    cases: int = 0  # rows the ERASERS treated (hearings, complaints)
    by_kind: dict[str, int] = dataclasses.field(default_factory=dict)


def _pending():
    # The predicate of the partial index ix_application_retention_pending, word for word:
    # SQLite uses such an index only then (SQLAlchemy would write ``live = 0`` there).
    return Application.erased_at.is_(None) & text("NOT application.live")


def pending_count(session: Session) -> int:
    """Return how many closed applications still hold personal data (due or not yet)."""
    return session.scalar(select(func.count()).select_from(Application).where(_pending())) or 0


def _closings(session: Session, apps: list[Application]) -> dict[int, dict]:
    """Return, per application id, the moment it closed in each way a retention rule names."""
    ids = [a.id for a in apps]
    withdrawn = dict(
        session.execute(
            select(Consent.application_id, func.min(Consent.withdrawn_at))
            .where(Consent.application_id.in_(ids), Consent.withdrawn_at.is_not(None))
            .group_by(Consent.application_id)
        ).all()
    )
    members = {
        m.application_id: m
        for m in session.scalars(select(Member).where(Member.application_id.in_(ids)))
    }
    ended = {
        (member_id, status): at
        for member_id, status, at in session.execute(
            select(
                MemberStatusChange.member_id,
                MemberStatusChange.to_status,
                func.max(MemberStatusChange.at),
            )
            .where(
                MemberStatusChange.member_id.in_([m.id for m in members.values()]),
                MemberStatusChange.to_status.in_(_ENDED),
            )
            .group_by(MemberStatusChange.member_id, MemberStatusChange.to_status)
        ).all()
    }
    found = {}
    for app in apps:
        closings = {"consent_withdrawn": withdrawn.get(app.id)}
        if app.status in ("refused", "withdrawn"):
            closings[f"application_{app.status}"] = app.closed_at
        member = members.get(app.id)
        if member is not None and member.status in _ENDED:
            closings[f"member_{member.status}"] = ended.get((member.id, member.status))
        found[app.id] = {"member": member, "closings": closings}
    return found


def erase_due(
    session: Session, *, now: dt.datetime | None = None, after_id: int = 0, limit: int = BATCH
) -> Batch:
    """Treat the closed applications after ``after_id`` (at most ``limit``) whose retention
    has ended: erase or anonymise them, their register entry and, when nothing else of the
    person is kept, their account. The caller commits after each batch.
    """
    stamp = utcnow()  # when the marks and events are written; ``now`` only decides what is due
    today = clock.local_date(now or stamp)
    apps = session.scalars(
        select(Application)
        .where(_pending(), Application.id > after_id)
        .order_by(Application.id)
        .limit(limit)
    ).all()
    if not apps:
        return Batch(last_id=None)
    batch = Batch(last_id=apps[-1].id if len(apps) == limit else None, scanned=len(apps))
    table = retention.rules(session)
    closings = _closings(session, apps)
    locked = False
    treated_apps: list[int] = []
    treated_members: list[int] = []
    for application in apps:
        found = closings[application.id]
        due = retention.due(table, found["closings"])
        if due is None or due.due_on > today:
            continue
        if not locked:
            # Each record is updated, then audited: the chain's lock comes before the first
            # row lock (core.audit.take_append_lock), and only when there is work to do.
            audit.take_append_lock(session)
            locked = True
        if not _erase_application(session, application, due, stamp):
            continue  # another run treated it meanwhile
        batch.applications += 1
        treated_apps.append(application.id)
        batch.by_kind[due.kind] = batch.by_kind.get(due.kind, 0) + 1
        member = found["member"]
        if member is not None and _erase_member(session, member, application.id, due, stamp):
            batch.members += 1
            treated_members.append(member.id)
        for user_id in {application.applicant_id, member.user_id if member else None} - {None}:
            batch.accounts += _erase_account(session, user_id, due, stamp)
    if treated_apps:
        for eraser in ERASERS:
            batch.cases += eraser(session, treated_apps, treated_members, stamp)
    session.expire_all()  # the ORM copies were changed behind its back
    return batch


def _event(session, object_type, object_id, due: retention.Due, at) -> None:
    audit.record(
        session,
        action=f"{object_type}.erase",
        object_type=object_type,
        object_id=object_id,
        actor_id=None,
        payload={"rule": due.kind, "action": due.action},
        now=at,
    )


def _erase_application(session, app: Application, due: retention.Due, at) -> bool:
    erase = due.action == "erase"
    values = {
        "full_name": ERASED_NAME,
        # A bulk UPDATE bypasses the model's validators: the blind index and the search key
        # (nothing left to find by) are set here too.
        "search_name": "",
        "iin": erased_iin(app.id),
        "iin_index": blind_index(erased_iin(app.id), "iin"),
        "phone": None,
        "email": None,
        "address": "",
        "birth_date": ERASED_BIRTH if erase else dt.date(app.birth_date.year, 1, 1),
        "erased_at": at,
    }
    if erase and app.refusal_reason:
        values["refusal_reason"] = ERASED_NAME  # a refusal keeps a (now empty) reason
    done = session.execute(
        update(Application)
        .where(Application.id == app.id, Application.erased_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        return False
    if app.email:
        # Messages sent to the address of an applicant without an account.
        _forget_messages(session, Notifications.email == app.email, Notifications.user_id.is_(None))
    _event(session, "application", app.id, due, at)
    return True


def _erase_member(session, member: Member, application_id: int, due, at) -> bool:
    values = {
        "full_name": ERASED_NAME,
        "search_name": "",
        "iin": erased_iin(application_id),
        "iin_index": blind_index(erased_iin(application_id), "iin"),
        "erased_at": at,
    }
    if due.action == "erase":
        values["status_reason"] = None
    done = session.execute(
        update(Member)
        .where(Member.id == member.id, Member.erased_at.is_(None))
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        return False
    # The calendar link would show the erased member's shifts: it stops working.
    session.execute(delete(CalendarFeed).where(CalendarFeed.member_id == member.id))
    if due.action == "erase":
        session.execute(
            update(MemberStatusChange)
            .where(MemberStatusChange.member_id == member.id)
            .values(reason="")
            .execution_options(synchronize_session=False)
        )
    _event(session, "member", member.id, due, at)
    return True


def _erase_account(session, user_id: int, due, at) -> int:
    """Erase a citizen's account once nothing of theirs is kept; an official's stays."""
    done = session.execute(
        update(User)
        .where(
            User.id == user_id,
            User.erased_at.is_(None),
            ~exists().where(Application.applicant_id == user_id, Application.erased_at.is_(None)),
            ~exists().where(Member.user_id == user_id, Member.erased_at.is_(None)),
            ~exists().where(
                RoleGrant.user_id == user_id,
                RoleGrant.revoked_at.is_(None),
                RoleGrant.role != "volunteer",
            ),
        )
        .values(
            full_name=ERASED_NAME,
            search_name="",
            email=erased_email(user_id),
            phone=None,
            phone_index=None,
            is_active=False,
            session_epoch=User.session_epoch + 1,  # its sessions end at once
            erased_at=at,
        )
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        return 0
    # An erased account cannot sign in again: its authenticator's secret and codes go too.
    session.execute(delete(RecoveryCode).where(RecoveryCode.user_id == user_id))
    session.execute(delete(TotpFactor).where(TotpFactor.user_id == user_id))
    # Nothing is left to pay to the account: its IBAN goes with it.
    session.execute(delete(PayoutAccount).where(PayoutAccount.user_id == user_id))
    _forget_messages(session, Notifications.user_id == user_id)
    _event(session, "user", user_id, due, at)
    return 1


def _forget_messages(session, *where) -> None:
    # A delivered (or kept) message holds its rendered text and the address: both go. A pending
    # one is left to be sent (a matter of seconds) rather than fail for a missing address.
    session.execute(
        update(Notifications)
        .where(*where, Notifications.status != "pending")
        .values(email=None, subject=None, body=None)
        .execution_options(synchronize_session=False)
    )
