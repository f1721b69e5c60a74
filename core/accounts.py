"""User accounts, argon2id passwords, and role grants scoped to jurisdictions."""

from __future__ import annotations

import datetime as dt
import re

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core import audit
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, Conflict, DomainError, NotFound, PermissionDenied
from core.places import AdminUnit, within

ROLES = (
    "volunteer",
    "coordinator",
    "registrar",
    "secretary",
    "member",
    "chair",
    "finance",
    "deputy",
    "admin",
)
LANGUAGES = ("kk", "ru", "en")
PASSWORD_MIN, PASSWORD_MAX = 12, 128

PASSWORD_PROFILES = {
    # argon2id with the library's RFC 9106 low-memory profile (t=3, m=64 MiB, p=4).
    "standard": PasswordHasher(),
    # Test suites only (the portal refuses it outside TESTING): the same algorithm at its
    # cheapest, so that thousands of sign-ins do not spend minutes of the suite hashing.
    "test": PasswordHasher(time_cost=1, memory_cost=8, parallelism=1),
}
_hasher = PASSWORD_PROFILES["standard"]
_dummy_hashes: dict[int, str] = {}


def set_password_profile(name: str) -> None:
    """Hash new passwords with the profile ``name`` (``standard``; ``test`` for test suites)."""
    global _hasher
    _hasher = PASSWORD_PROFILES[name]


def _dummy_hash() -> str:
    """Return the hash verified against when the login is unknown (same cost as a real one)."""
    key = id(_hasher)
    if key not in _dummy_hashes:
        _dummy_hashes[key] = _hasher.hash("not-a-real-password-for-timing")
    return _dummy_hashes[key]


class AuthenticationFailed(DomainError):
    """Wrong login or password, or an inactive account: deliberately one message for all."""

    status = 401


class OutsideReach(PermissionDenied):
    """The account holds a role (or lives) outside the acting administrator's jurisdictions."""

    def __init__(self) -> None:
        super().__init__(
            N_(
                "This account holds a role outside your jurisdiction: only an administrator"
                " over every one of its roles can change it."
            )
        )


class User(Base):
    """A person who signs in: citizen, official, deputy or operator."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"preferred_language IN {LANGUAGES!r}", name="language_known"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_login"),
        CheckConstraint("session_epoch >= 0", name="epoch_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    phone: Mapped[str | None] = mapped_column(String(16), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(2), default="kk")
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # Bumped on password change and deactivation; sessions carrying an older epoch end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

    unit: Mapped[AdminUnit] = relationship(lazy="joined")
    grants: Mapped[list[RoleGrant]] = relationship(
        back_populates="user",
        foreign_keys="RoleGrant.user_id",
        primaryjoin="and_(User.id == RoleGrant.user_id, RoleGrant.revoked_at.is_(None))",
        viewonly=True,
        lazy="selectin",
    )

    # The session protocol Flask-Login expects; the id carries the epoch so that a password
    # change or deactivation ends every session issued before it.
    is_anonymous = False

    @property
    def is_authenticated(self) -> bool:
        return bool(self.is_active)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_epoch}"

    @property
    def login(self) -> str:
        """Return the identifier shown for the account."""
        return self.email or self.phone or ""

    def roles(self) -> set[str]:
        """Return the roles the user holds anywhere."""
        return {g.role for g in self.grants}

    def has_any(self, *roles: str) -> bool:
        """Tell whether the user holds any of ``roles`` anywhere."""
        return bool(self.roles() & set(roles))

    def scope(self, *roles: str) -> list[int]:
        """Return the unit ids where the user holds any of ``roles``."""
        return sorted({g.unit_id for g in self.grants if g.role in roles})


class RoleGrant(Base):
    """A role held within a jurisdiction; it covers the unit and every unit below it."""

    __tablename__ = "role_grant"
    __table_args__ = (
        CheckConstraint(f"role IN {ROLES!r}", name="role_known"),
        CheckConstraint("revoked_at IS NULL OR revoked_by_id IS NOT NULL", name="revoker_known"),
        Index(
            "uq_role_grant_live",
            "user_id",
            "role",
            "unit_id",
            unique=True,
            postgresql_where=text("revoked_at IS NULL"),
            sqlite_where=text("revoked_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id"), index=True)
    role: Mapped[str] = mapped_column(String(20))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    granted_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))
    granted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id"))

    user: Mapped[User] = relationship(foreign_keys=[user_id], back_populates="grants")
    unit: Mapped[AdminUnit] = relationship(lazy="joined")


# ---- normalization and passwords -------------------------------------------------------------

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalize_email(raw: str | None) -> str | None:
    """Return the e-mail lower-cased, or None when empty; refuse an impossible address."""
    value = (raw or "").strip().lower()
    if not value:
        return None
    if len(value) > 254 or not _EMAIL.match(value):
        raise DomainError(N_("Enter a valid e-mail address."))
    return value


def normalize_phone(raw: str | None) -> str | None:
    """Return a Kazakhstan mobile or landline number as +7XXXXXXXXXX, or None when empty."""
    value = re.sub(r"[\s()\-]", "", raw or "")
    if not value:
        return None
    if value.startswith("8") and len(value) == 11:
        value = "+7" + value[1:]
    if not re.fullmatch(r"\+7\d{10}", value):
        raise DomainError(N_("Enter the phone number in the +7 format, e.g. +7 701 123 45 67."))
    return value


def check_password_policy(password: str) -> None:
    """Refuse passwords that are too short or too long (ASVS: length over composition rules)."""
    if len(password) < PASSWORD_MIN:
        raise DomainError(N_("The password must have at least %(n)s characters."), n=PASSWORD_MIN)
    if len(password) > PASSWORD_MAX:
        raise DomainError(N_("The password must have at most %(n)s characters."), n=PASSWORD_MAX)


def hash_password(password: str) -> str:
    """Return an argon2id hash of ``password``."""
    return _hasher.hash(password)


def _verify(stored: str, password: str) -> bool:
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


# ---- lookups ----------------------------------------------------------------------------------


def find_by_login(session: Session, login: str) -> User | None:
    """Find a user by e-mail or phone (in any accepted phone spelling)."""
    login = (login or "").strip()
    if not login:
        return None
    candidates = [login.lower()]
    try:
        phone = normalize_phone(login)
        if phone:
            candidates.append(phone)
    except DomainError:
        pass
    return session.scalar(
        select(User).where(or_(User.email.in_(candidates), User.phone.in_(candidates)))
    )


def get_user(session: Session, user_id: int) -> User:
    """Return the user or raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def holds(session: Session, user: User, role: str, unit_id: int) -> bool:
    """Tell whether ``user`` holds ``role`` on ``unit_id`` or on a unit above it."""
    return within(session, unit_id, user.scope(role))


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
    scope_ids = admin.scope("admin") if admin.is_active else []
    if not ids or not scope_ids:
        return set()
    scope_paths = list(session.scalars(select(AdminUnit.path).where(AdminUnit.id.in_(scope_ids))))
    units: dict[int, set[int]] = {}
    for user_id, unit_id in session.execute(select(User.id, User.unit_id).where(User.id.in_(ids))):
        units.setdefault(user_id, set()).add(unit_id)
    for user_id, unit_id in session.execute(
        select(RoleGrant.user_id, RoleGrant.unit_id).where(
            RoleGrant.user_id.in_(ids), RoleGrant.revoked_at.is_(None)
        )
    ):
        units.setdefault(user_id, set()).add(unit_id)
    every_unit = set().union(*units.values()) if units else set()
    paths = {
        unit_id: path
        for unit_id, path in session.execute(
            select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(every_unit))
        )
    }

    def covered(unit_id: int) -> bool:
        path = paths.get(unit_id)
        return path is not None and any(path.startswith(p) for p in scope_paths)

    return {user_id for user_id, held in units.items() if all(covered(u) for u in held)}


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
        conditions.append(User.phone == phone)
    query = select(User.id).where(or_(*conditions))
    if exclude_id is not None:
        query = query.where(User.id != exclude_id)
    if session.scalar(query):
        raise Conflict(N_("An account with this e-mail or phone already exists."))


# ---- commands ---------------------------------------------------------------------------------


def authenticate(session: Session, *, login: str, password: str, ip: str | None) -> User:
    """Return the active user with this login and password, or raise AuthenticationFailed.

    Every outcome is audited; the caller commits even on failure so the attempt is kept.
    """
    user = find_by_login(session, login)
    ok = _verify(user.password_hash if user else _dummy_hash(), password)
    if user is None or not ok or not user.is_active:
        reason = "unknown_login" if user is None else ("bad_password" if not ok else "inactive")
        audit.record(
            session,
            action="auth.login_failed",
            object_type="user",
            object_id=user.id if user else None,
            actor_id=None,
            payload={"reason": reason, "ip": ip or ""},
        )
        raise AuthenticationFailed(N_("Wrong login or password, or the account is not active."))
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utcnow()
    audit.record(
        session,
        action="auth.login",
        object_type="user",
        object_id=user.id,
        actor_id=user.id,
        payload={"ip": ip or ""},
    )
    return user


def reauthenticate(session: Session, *, user_id: int, password: str, ip: str | None) -> None:
    """Check the signed-in user's password again before a sensitive step; audit the outcome."""
    user = get_user(session, user_id)
    ok = _verify(user.password_hash, password)
    audit.record(
        session,
        action="auth.reauth" if ok else "auth.reauth_failed",
        object_type="user",
        object_id=user.id,
        actor_id=user.id,
        payload={"ip": ip or ""},
    )
    if not ok:
        raise AuthenticationFailed(N_("The password is wrong."))


def record_logout(session: Session, *, user_id: int) -> None:
    """End every session of the user (a replayed old cookie is refused too) and audit it."""
    get_user(session, user_id).session_epoch += 1
    audit.record(
        session, action="auth.logout", object_type="user", object_id=user_id, actor_id=user_id
    )


def create_user(
    session: Session,
    *,
    email: str | None,
    phone: str | None,
    full_name: str,
    preferred_language: str,
    unit_id: int,
    password: str,
    actor_id: int | None,
) -> User:
    """Create an account in ``unit_id``; an acting admin must administer that unit."""
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
    check_password_policy(password)
    _refuse_login_clash(session, email, phone, exclude_id=None)
    user = User(
        email=email,
        phone=phone,
        full_name=full_name,
        preferred_language=preferred_language,
        unit_id=unit_id,
        password_hash=hash_password(password),
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
    if not _verify(user.password_hash, current):
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
