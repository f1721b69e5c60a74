"""Self sign-up in two steps: a one-time code sent to the address, then the account.

The first step answers the same whether or not the address already has an account, so that
sign-up cannot tell a stranger who is registered: a new address is sent a code, the owner
of a known address is told that someone tried to sign up with it, and in both cases a
pending request is stored and the browser is asked for the code. Only the code sent to a
new address completes it. The request lives server-side; its code and the browser's token
are kept hashed only (a copy of the table reveals neither), it expires and allows a few
attempts.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    delete,
    or_,
    select,
)
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import audit, notifications
from core import one_time_codes as codes
from core.account_models import LANGUAGES, User, normalize_email, normalize_phone
from core.accounts import create_user
from core.db import Base, UTCDateTime, utcnow
from core.errors import N_, Conflict, DomainError, refuse_all
from core.one_time_codes import CodeRefused
from core.passwords import check_password_policy, hash_password
from core.places import AdminUnit
from core.sealing import Sealed, blind_index

CODE_MINUTES, MAX_ATTEMPTS = codes.CODE_MINUTES, codes.MAX_ATTEMPTS


class SignupRequest(Base):
    """A sign-up waiting for the one-time code sent to its e-mail address."""

    __tablename__ = "signup_request"
    __table_args__ = (
        CheckConstraint("email IS NOT NULL OR phone IS NOT NULL", name="has_login"),
        CheckConstraint("attempts >= 0", name="attempts_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    email: Mapped[str | None] = mapped_column(String(254))
    phone: Mapped[str | None] = mapped_column(Sealed("phone", 120))  # sealed like the account's
    full_name: Mapped[str] = mapped_column(String(200))
    preferred_language: Mapped[str] = mapped_column(String(2))
    unit_id: Mapped[int] = mapped_column(ForeignKey("admin_unit.id"))
    password_hash: Mapped[str] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime())


class SignupLapsed(DomainError):
    """The request expired, used up its attempts, or never existed: start again."""

    status = 410


def purge_lapsed(session: Session, now: dt.datetime) -> int:
    """Delete sign-ups whose code lapsed: they hold a name and an address nobody will use.

    Called by each new sign-up and by the nightly retention job (a quiet portal has no next
    sign-up to do it).
    """
    return session.execute(delete(SignupRequest).where(SignupRequest.expires_at < now)).rowcount


def signup_problems(session: Session, values: dict) -> list[DomainError]:
    """Return every rule the sign-up's ``values`` break, each tied to its input (issue 19).

    Only the inputs present in ``values`` are checked: a form passes those it accepted, so
    that all problems are shown in one round.
    """
    problems: list[DomainError] = []

    def check(name: str, rule) -> None:
        if name in values:
            try:
                rule(values[name])
            except DomainError as exc:
                problems.append(exc.at(name))

    def email(value):
        if not normalize_email(value):
            raise DomainError(N_("Enter your e-mail address: the one-time code is sent there."))

    def full_name(value):
        if not " ".join((value or "").split()):
            raise DomainError(N_("Enter the full name."))

    def unit(value):
        if value is None or session.get(AdminUnit, value) is None:
            raise DomainError(N_("Choose a jurisdiction from the list."))

    check("email", email)
    check("phone", normalize_phone)
    check("full_name", full_name)
    check("unit_id", unit)
    check("password", check_password_policy)
    return problems


def begin_signup(
    session: Session,
    *,
    email: str | None,
    phone: str | None,
    full_name: str,
    preferred_language: str,
    unit_id: int,
    password: str,
    now: dt.datetime | None = None,
) -> str:
    """Store a pending sign-up, send its code (or a warning to a known address); return its token.

    The token identifies the request to the browser that started it. Malformed input is
    refused; an address that already has an account is not: that answer would tell who is
    registered.
    """
    now = now or utcnow()
    values = {
        "email": email,
        "phone": phone,
        "full_name": full_name,
        "unit_id": unit_id,
        "password": password,
    }
    refuse_all(signup_problems(session, values))
    email, phone = normalize_email(email), normalize_phone(phone)
    full_name = " ".join(full_name.split())
    if preferred_language not in LANGUAGES:
        preferred_language = "kk"
    purge_lapsed(session, now)
    token, code, kept = codes.issue(now)
    request = SignupRequest(
        **kept,
        email=email,
        phone=phone,
        full_name=full_name,
        preferred_language=preferred_language,
        unit_id=unit_id,
        password_hash=hash_password(password),
    )
    session.add(request)
    session.flush()
    _send(session, request, code)
    audit.record(
        session,
        action="signup.start",
        object_type="signup_request",
        object_id=request.id,
        actor_id=None,
    )
    return token


def _send(session: Session, request: SignupRequest, code: str) -> None:
    """Send the code to a new address; tell the owners of known ones instead."""
    known = [User.email == request.email]
    if request.phone:
        known.append(User.phone_index == blind_index(request.phone, "phone"))
    owners = {user.id: user for user in session.scalars(select(User).where(or_(*known)))}
    by_email = next((u for u in owners.values() if u.email == request.email), None)
    if by_email is None:
        notifications.queue_message(
            session,
            user_id=None,
            email=request.email,
            kind="signup.code",
            params={"code": code, "minutes": CODE_MINUTES},
            language=request.preferred_language,
        )
    for owner in owners.values():
        # An owner known by phone only is told by SMS (when a gateway is set up) and inbox.
        notifications.queue_message(
            session,
            user_id=owner.id,
            email=owner.email,
            kind="signup.existing",
            params={},
            language=owner.preferred_language,
        )


def pending_email(session: Session, token: str, now: dt.datetime | None = None) -> str | None:
    """Return the address a live request's code went to, or None when it has lapsed."""
    now = now or utcnow()
    request = session.scalar(
        select(SignupRequest).where(SignupRequest.token_hash == codes.token_hash(token))
    )
    if (
        request is None
        or request.used_at is not None
        or request.expires_at <= now
        or request.attempts >= MAX_ATTEMPTS
    ):
        return None
    return request.email


def complete_signup(
    session: Session, *, token: str, code: str, now: dt.datetime | None = None
) -> User:
    """Create the account of the request if ``code`` is its code; count a wrong one.

    Raises ``CodeRefused`` (the caller commits, so the attempt stays counted),
    ``SignupLapsed`` when the request expired or used up its attempts, ``Conflict`` when it
    was completed meanwhile or the address was taken since.
    """
    now = now or utcnow()
    request = session.scalar(
        select(SignupRequest)
        .where(SignupRequest.token_hash == codes.token_hash(token))
        .with_for_update()
    )
    if request is None or request.used_at is not None or request.expires_at <= now:
        raise SignupLapsed(N_("This code has expired. Start the sign-up again."))
    if not codes.count_attempt(session, SignupRequest, request.id):
        raise SignupLapsed(N_("Too many wrong codes. Start the sign-up again."))
    if not codes.matches(request.code_hash, token, code):
        raise CodeRefused(N_("The code is wrong. Enter the code from the latest message."))
    if not codes.claim(session, SignupRequest, request.id, now):
        raise Conflict(N_("This sign-up is already complete. Sign in."))
    user = create_user(
        session,
        email=request.email,
        phone=request.phone,
        full_name=request.full_name,
        preferred_language=request.preferred_language,
        unit_id=request.unit_id,
        password_hash=request.password_hash,
        actor_id=None,
    )
    session.delete(request)
    return user
