"""Account administration: creation, profile, activation, role grants and an admin's reach.

The account models live in ``core.account_models``, passwords in ``core.passwords`` and
sign-in in ``core.authentication``; their public names are re-exported here, so that
``accounts.X`` stays the one name callers, migrations and tests use.
"""

from __future__ import annotations

from sqlalchemy import or_, select, union_all
from sqlalchemy.orm import Session

from core import audit, places
from core.account_models import (
    LANGUAGES,
    ROLES,
    RoleGrant,
    User,
    find_by_login,
    get_user,
    login_key,
    normalize_email,
    normalize_phone,
    users_by_id,
)
from core.authentication import (
    AuthenticationFailed,
    authenticate,
    reauthenticate,
    record_login,
    record_logout,
)
from core.db import utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.passwords import (
    PASSWORD_MAX,
    PASSWORD_MIN,
    PASSWORD_PROFILES,
    check_password_policy,
    hash_password,
    set_password_profile,
    verify_password,
)
from core.places import AdminUnit
from core.scope import Scope
from core.sealing import blind_index

__all__ = [
    "LANGUAGES",
    "PASSWORD_MAX",
    "PASSWORD_MIN",
    "PASSWORD_PROFILES",
    "ROLES",
    "AuthenticationFailed",
    "OutsideReach",
    "RoleGrant",
    "User",
    "administered",
    "administers",
    "authenticate",
    "change_password",
    "check_password_policy",
    "create_user",
    "find_by_login",
    "get_user",
    "grant_role",
    "hash_password",
    "holds",
    "login_key",
    "normalize_email",
    "normalize_phone",
    "reauthenticate",
    "record_login",
    "record_logout",
    "require_admin_over",
    "require_administers",
    "revoke_grant",
    "set_active",
    "set_language",
    "set_password_profile",
    "update_profile",
    "users_by_id",
]


class OutsideReach(PermissionDenied):
    """The account holds a role (or lives) outside the acting administrator's jurisdictions."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "This account holds a role outside your jurisdiction: only an administrator"
                " over every one of its roles can change it."
            )
        )


# ---- an administrator's reach ----------------------------------------------------------------


def holds(session: Session, user: User, role: str, unit_id: int) -> bool:
    """Tell whether ``user`` holds ``role`` on ``unit_id`` or on a unit above it."""
    return Scope.of(user, role).contains(session, unit_id)


def require_admin_over(session: Session, actor_id: int, unit_id: int) -> User:
    """Return the acting admin, or raise PermissionDenied unless they administer ``unit_id``."""
    actor = get_user(session, actor_id)
    if not actor.is_active or not holds(session, actor, "admin", unit_id):
        raise PermissionDenied(N_("This jurisdiction is outside your administration."))
    return actor


def administered(session: Session, admin: User, user_ids) -> set[int]:
    """Return those of ``user_ids`` whose accounts ``admin`` may act on.

    An administrator acts on an account only when its home unit and the unit of every live
    role grant lie within the administrator's own jurisdictions: a regional administrator may
    not deactivate, edit or reset the second factor of a national official who lives in the
    region, nor take over such an account by changing its e-mail.
    """
    ids = {i for i in user_ids if i is not None}
    administering = admin.scope("admin") if admin.is_active else []
    if not ids or not administering:
        return set()
    covered = places.covered_by(session, administering)
    # Each account's home unit and each unit it holds a live grant on, in one statement.
    held = union_all(
        select(User.id, User.unit_id).where(User.id.in_(ids), User.unit_id.is_not(None)),
        select(RoleGrant.user_id, RoleGrant.unit_id).where(
            RoleGrant.user_id.in_(ids), RoleGrant.revoked_at.is_(None)
        ),
    )
    units: dict[int, set[int]] = {}
    for user_id, unit_id in session.execute(held):
        units.setdefault(user_id, set()).add(unit_id)
    return {user_id for user_id, held_units in units.items() if held_units <= covered}


def administers(session: Session, admin: User, target: User) -> bool:
    """Tell whether ``admin`` may act on ``target`` (see ``administered``)."""
    return target.id in administered(session, admin, [target.id])


def require_administers(session: Session, actor_id: int, target: User) -> User:
    """Return the acting admin, or raise PermissionDenied unless they may act on ``target``.

    The target's row is locked first, so that a grant given meanwhile by another administrator
    is seen (granting locks the same row) and cannot slip past the check.
    """
    session.execute(select(User.id).where(User.id == target.id).with_for_update())
    actor = get_user(session, actor_id)
    if not administers(session, actor, target):
        raise OutsideReach()
    return actor


def _refuse_login_clash(
    session: Session, email: str | None, phone: str | None, exclude_id: int | None
) -> None:
    conditions = []
    if email:
        conditions.append(User.email == email)
    if phone:
        conditions.append(User.phone_index == blind_index(phone, "phone"))
    query = select(User.id).where(or_(*conditions))
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    if session.scalar(query):
        raise Conflict(N_("An account with this e-mail or phone already exists."))


# ---- commands -------------------------------------------------------------------------------


def create_user(
    session: Session,
    *,
    email: str | None,
    phone: str | None,
    full_name: str,
    preferred_language: str,
    unit_id: int,
    password: str | None = None,
    password_hash: str | None = None,
    actor_id: int | None,
) -> User:
    """Create an account in ``unit_id``; an acting admin must administer that unit.

    Give ``password``, or ``password_hash`` for a password checked against the policy and
    hashed earlier (a self sign-up that waited for its e-mail code, ``core.signups``).
    """
    if (password is None) == (password_hash is None):
        raise ValueError("give exactly one of password and password_hash")
    if actor_id is not None:
        require_admin_over(session, actor_id, unit_id)
    if session.get(AdminUnit, unit_id) is None:
        raise DomainError(N_("Choose a jurisdiction from the list."))
    email, phone = normalize_email(email), normalize_phone(phone)
    if not email and not phone:
        raise DomainError(N_("Give an e-mail address or a phone number."))
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise DomainError(N_("Enter the full name."))
    if preferred_language not in LANGUAGES:
        preferred_language = "kk"
    if password is not None:
        check_password_policy(password)
        password_hash = hash_password(password)
    _refuse_login_clash(session, email, phone, exclude_id=None)
    user = User(
        email=email,
        phone=phone,
        full_name=full_name,
        preferred_language=preferred_language,
        unit_id=unit_id,
        password_hash=password_hash,
        is_active=True,
        session_epoch=0,
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        action="user.create",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id,
        payload={"unit_id": unit_id, "language": preferred_language},
    )
    return user


def update_profile(
    session: Session,
    *,
    user_id: int,
    full_name: str,
    email: str | None,
    phone: str | None,
    preferred_language: str,
    unit_id: int,
    actor_id: int,
) -> User:
    """Change a user's details; an admin over the account (every grant) and the new unit may."""
    user = get_user(session, user_id)
    require_administers(session, actor_id, user)
    require_admin_over(session, actor_id, unit_id)
    email, phone = normalize_email(email), normalize_phone(phone)
    if not email and not phone:
        raise DomainError(N_("Give an e-mail address or a phone number."))
    full_name = " ".join((full_name or "").split())
    if not full_name:
        raise DomainError(N_("Enter the full name."))
    _refuse_login_clash(session, email, phone, exclude_id=user.id)
    changed = {}
    for field, value in (
        ("full_name", full_name),
        ("email", email),
        ("phone", phone),
        ("preferred_language", preferred_language if preferred_language in LANGUAGES else "kk"),
        ("unit_id", unit_id),
    ):
        if getattr(user, field) != value:
            changed[field] = True
            setattr(user, field, value)
    if changed:
        audit.record(
            session,
            action="user.update",
            object_type="user",
            object_id=user.id,
            actor_id=actor_id,
            payload={"fields": sorted(changed)},
        )
    return user


def set_language(session: Session, *, user_id: int, language: str) -> None:
    """Remember the user's language (unknown codes are ignored)."""
    user = get_user(session, user_id)
    if language in LANGUAGES and user.preferred_language != language:
        user.preferred_language = language


def change_password(
    session: Session, *, user_id: int, current: str, new: str, actor_id: int
) -> User:
    """Change the user's own password and end their other sessions."""
    user = get_user(session, user_id)
    if actor_id != user_id:
        raise PermissionDenied(N_("You can change only your own password."))
    if not verify_password(user.password_hash, current):
        raise DomainError(N_("The current password is wrong."))
    if new == current:
        raise DomainError(N_("The new password must differ from the current one."))
    check_password_policy(new)
    user.password_hash = hash_password(new)
    user.session_epoch += 1
    audit.record(
        session,
        action="user.password_change",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id,
    )
    return user


def set_active(session: Session, *, user_id: int, active: bool, actor_id: int) -> User:
    """Activate or deactivate an account; deactivation ends its sessions at once."""
    user = get_user(session, user_id)
    require_administers(session, actor_id, user)
    if user.id == actor_id and not active:
        raise Conflict(N_("You cannot deactivate your own account."))
    if user.is_active == active:
        return user
    user.is_active = active
    user.session_epoch += 1
    audit.record(
        session,
        action="user.activate" if active else "user.deactivate",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id,
    )
    return user


def grant_role(
    session: Session, *, user_id: int, role: str, unit_id: int, actor_id: int | None
) -> RoleGrant:
    """Grant ``role`` on ``unit_id``; an acting admin must administer that unit and the account."""
    if role not in ROLES:
        raise DomainError(N_("Choose a role from the list."))
    if session.get(AdminUnit, unit_id) is None:
        raise DomainError(N_("Choose a jurisdiction from the list."))
    user = get_user(session, user_id)
    if actor_id is not None:
        require_admin_over(session, actor_id, unit_id)
        require_administers(session, actor_id, user)
    live = session.scalar(
        select(RoleGrant.id).where(
            RoleGrant.user_id == user.id,
            RoleGrant.role == role,
            RoleGrant.unit_id == unit_id,
            RoleGrant.revoked_at.is_(None),
        )
    )
    if live:
        raise Conflict(N_("The user already holds this role in this jurisdiction."))
    grant = RoleGrant(user_id=user.id, role=role, unit_id=unit_id, granted_by_id=actor_id)
    session.add(grant)
    session.flush()
    session.expire(user, ["grants"])
    audit.record(
        session,
        action="role.grant",
        object_type="user",
        object_id=user.id,
        actor_id=actor_id,
        payload={"grant_id": grant.id, "role": role, "unit_id": unit_id},
    )
    return grant


def revoke_grant(session: Session, *, grant_id: int, actor_id: int) -> RoleGrant:
    """Revoke a live grant; admins cannot revoke their own admin role (no lock-out)."""
    grant = session.get(RoleGrant, grant_id)
    if grant is None or grant.revoked_at is not None:
        raise NotFound(N_("No such role grant."))
    require_admin_over(session, actor_id, grant.unit_id)
    require_administers(session, actor_id, get_user(session, grant.user_id))
    if grant.user_id == actor_id and grant.role == "admin":
        raise Conflict(N_("You cannot revoke your own administrator role."))
    grant.revoked_at = utcnow()
    grant.revoked_by_id = actor_id
    session.flush()
    session.expire(grant.user, ["grants"])
    audit.record(
        session,
        action="role.revoke",
        object_type="user",
        object_id=grant.user_id,
        actor_id=actor_id,
        payload={"grant_id": grant.id, "role": grant.role, "unit_id": grant.unit_id},
    )
    return grant
