"""Account models (users and their role grants), login normalization and account lookups."""

from __future__ import annotations

import datetime as dt
import re

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    false,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship, validates

from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, DomainError, NotFound
from core.places import AdminUnit, subtree_pairs
from core.sealing import Sealed, blind_index
from core.search_text import KEY_LENGTH, key_default, search_key

ROLES = (
    "volunteer",
    "coordinator",
    "registrar",
    "secretary",
    "member",
    "chair",
    "finance",
    "deputy",
    "reviewer",
    "admin",
)
LANGUAGES = ("kk", "ru", "en")


class User(Base):
    """A person who signs in: citizen, official, deputy or operator."""

    __tablename__ = "user_account"
    __table_args__ = (
        CheckConstraint(f"preferred_language IN {LANGUAGES!r}", name="language_known"),
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_login"),
        CheckConstraint("session_epoch >= 0", name="epoch_nonneg"),
        Index(
            "ix_user_account_search_name",
            "search_name",
            postgresql_using="gin",
            postgresql_ops={"search_name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    # Sealed at rest; sign-in and uniqueness use ``phone_index`` (core.sealing).
    phone: Mapped[str | None] = mapped_column(Sealed("phone", 120))
    phone_index: Mapped[str | None] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    # The name's search key (core.search_text), kept by ``_key_name``; "" once erased.
    search_name: Mapped[str | None] = mapped_column(String(KEY_LENGTH), default=key_default)
    preferred_language: Mapped[str] = mapped_column(String(2), default="kk")
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    # Bumped on password change and deactivation; sessions carrying an older epoch end.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)
    # Set by an administrator's forced reset or the break-glass command: the next sign-in
    # must choose a new password before anything else (core.password_resets).
    must_reset: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())
    # Set when retention erased the account of a citizen whose records were all erased.
    erased_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())

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

    @validates("phone")
    def _index_phone(self, _key, value):
        # The phone arrives normalised (+7XXXXXXXXXX), as sign-in looks it up.
        self.phone_index = blind_index(value, "phone")
        return value

    @validates("full_name")
    def _key_name(self, _key, value):
        self.search_name = search_key(value)
        return value

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


# The units below each unit where a user holds a live grant, as ``core.places.subtree_pairs``
# text: a column of the statement that loads the signed-in user (portal.auth_setup).
GRANT_SUBTREES = (
    subtree_pairs(
        select(RoleGrant.unit_id)
        .where(RoleGrant.user_id == User.id, RoleGrant.revoked_at.is_(None))
        .correlate(User)
    )
    .correlate(User)
    .label("grant_subtrees")
)

# ---- login normalization --------------------------------------------------------------------

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
    elif value.startswith("7") and len(value) == 11:
        value = "+" + value  # as a number cell keeps it: Excel drops the "+"
    if not re.fullmatch(r"\+7\d{10}", value):
        raise DomainError(N_("Enter the phone number in the +7 format, e.g. +7 701 123 45 67."))
    return value


def phone_index_of(raw: str | None) -> str | None:
    """Return the blind index of a phone typed in any spelling, or None when it is none."""
    try:
        return blind_index(normalize_phone(raw), "phone")
    except DomainError:
        return None


def login_key(raw: str | None) -> str:
    """Return the one spelling of a login that sign-in would resolve to the same account.

    A phone in any accepted spelling (``+7 (701) 123-45-67``, ``87011234567``) becomes
    ``+77011234567``; anything else is taken as an e-mail, case-blind. Counters of failed
    sign-ins key on this, so that respelling a phone number does not start a new count.
    """
    text = (raw or "").strip()
    try:
        phone = normalize_phone(text)
    except DomainError:
        phone = None
    return phone or text.lower()[:254]


# ---- lookups --------------------------------------------------------------------------------


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
        select(User).where(
            or_(
                User.email.in_(candidates),
                User.phone_index.in_([blind_index(c, "phone") for c in candidates]),
            )
        )
    )


def get_user(session: Session, user_id: int) -> User:
    """Return the user or raise NotFound."""
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    return user


def users_by_id(session: Session, ids) -> dict[int, User]:
    """Return {id: user} for ``ids`` (``None`` among them is skipped), in one query."""
    wanted = {i for i in ids if i}
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
