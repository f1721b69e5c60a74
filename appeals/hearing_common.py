"""What the hearing steps share: the roles per act, lookups, checks and the person's notices."""

from __future__ import annotations

from sqlalchemy.orm import Session

from appeals import effects
from appeals.models import Hearing
from core import accounts, notifications
from core.accounts import User
from core.errors import N_, DomainError, NotFound
from core.scope import Scope
from volunteers import persons

# Who drafts, notifies, records and adopts each kind of act (and enters paper objections):
# the register's acts are the registrar's, a reward's the commission secretary's, an
# initiative's the coordinators' who review initiatives (portal.sober.roles.MANAGERS).
ACT_ROLES: dict[str, tuple[str, ...]] = {
    "refuse_registration": ("registrar",),
    "suspend": ("registrar",),
    "expel": ("registrar",),
    "refuse_reward": ("secretary",),
    "defer_reward": ("secretary",),
    "decline_initiative": ("coordinator",),
}
# Art. 73(2)-(4): the exceptions each act may rest on. "short_term" needs a procedure whose term
# is under 5 working days (terms.SHORT_TERM_WD); none of these six procedures is that short.
ALLOWED_EXCEPTIONS: dict[str, tuple[str, ...]] = {
    kind: ("person_waived", "urgency") for kind in ACT_ROLES
}
MAX_TEXT = 4000


def get_hearing(session: Session, hearing_id: int) -> Hearing:
    """Return the hearing or raise NotFound."""
    hearing = session.get(Hearing, hearing_id)
    if hearing is None:
        raise NotFound(N_("No such hearing."))
    return hearing


def in_scope(session: Session, hearing_id: int, scope: Scope) -> Hearing:
    """Return the hearing if its jurisdiction lies in ``scope``; NotFound otherwise."""
    hearing = get_hearing(session, hearing_id)
    if not scope.contains(session, hearing.unit_id):
        raise NotFound(N_("No such hearing."))
    return hearing


def clean_text(value: str | None, field: str, missing: str, required: bool = True) -> str:
    cleaned = (value or "").strip()
    if required and not cleaned:
        raise DomainError(missing).at(field)
    if len(cleaned) > MAX_TEXT:
        raise DomainError(N_("A text is longer than %(n)s characters."), n=MAX_TEXT).at(field)
    return cleaned


def is_author(hearing: Hearing, user_id: int | None) -> bool:
    """Tell whether ``user_id`` drafted or adopted the act (so may not review it, Art. 97(2))."""
    return user_id is not None and user_id in (hearing.drafted_by_id, hearing.adopted_by_id)


def is_person(session: Session, hearing: Hearing, user_id: int | None) -> bool:
    """Tell whether ``user_id`` is the person the act burdens (their account or their IIN)."""
    if user_id is None:
        return False
    if hearing.person_user_id == user_id:
        return True
    return bool(hearing.person_key) and hearing.person_key in persons.keys_of(
        session, [user_id]
    ).get(user_id, set())


def is_staff(session: Session, hearing: Hearing, user_id: int) -> bool:
    user = session.get(User, user_id)
    return (
        user is not None
        and user.is_active
        and any(
            accounts.holds(session, user, r, hearing.unit_id) for r in ACT_ROLES[hearing.act_kind]
        )
    )


def notify_person(session: Session, hearing: Hearing, kind: str, **params) -> bool:
    """Tell the person: in their account (with its e-mail and SMS) or at the record's e-mail.

    Return whether an electronic channel took it; False: the notice goes on paper (Art. 66).
    SMS goes to an account's phone only (core.notifications): no account, no SMS.
    """
    user = session.get(User, hearing.person_user_id) if hearing.person_user_id else None
    email = (user.email if user else None) or effects.subject(
        session, hearing.act_kind, hearing.subject_id
    ).email
    if user is None and not email:
        return False
    notifications.queue_message(
        session,
        user_id=user.id if user else None,
        email=email,
        kind=kind,
        params={"hearing_id": hearing.id, "act_kind": hearing.act_kind, **params},
        language=user.preferred_language if user else "kk",
    )
    return True
