"""Access tokens of the JSON API: issued and revoked by an administrator, kept only as a hash.

A token acts for one account with a subset of that account's roles: each of its grants is a
role over a unit that the account holds there or above. The secret (``cip_`` and 43 random
URL-safe characters, 256 bits) is returned once by ``issue``; the database keeps its SHA-256
and its first characters, for the holder to recognise it in a list. Every use re-checks the
grants (``effective_grants``), so a role revoked from the account narrows its tokens at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from core import accounts, audit
from core.account_models import ROLES, RoleGrant, User
from core.api_models import ApiToken, ApiTokenGrant
from core.errors import N_, Conflict, DomainError, NotFound, refuse_all
from core.places import AdminUnit, path_within
from core.scope import Scope

SECRET_PREFIX = "cip_"  # noqa: S105  (the marker every secret starts with, not a secret)
# How many characters of the secret lists show ("cip_" and six random ones).
PREFIX_LENGTH = 10
# [I] data: the longest life an administrator may give a token, in days from its issue. A
# service that needs longer gets a new token before the old one expires.
MAX_DAYS = 366
# ``touch`` writes the time of use at most this often per token, to spare writes.
TOUCH_EVERY = dt.timedelta(minutes=1)
NAME_MAX = 120
# A presented secret longer than this is not one of ours: refused before hashing.
_SECRET_MAX = 100


def hash_secret(secret: str) -> str:
    """Return the SHA-256 hex of ``secret``, as the token table keeps it."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def _usable(user: User | None) -> bool:
    return user is not None and bool(user.is_active) and user.erased_at is None


def _held(session: Session, user: User, pairs: list[tuple[str, int]]) -> list[bool]:
    """Tell for each (role, unit id) whether ``user`` holds the role there or above it.

    One query for the paths of every unit involved; live grants come with the user.
    """
    held_units: dict[str, set[int]] = {}
    for grant in user.grants:
        held_units.setdefault(grant.role, set()).add(grant.unit_id)
    wanted = {unit_id for _role, unit_id in pairs} | {
        unit_id for units in held_units.values() for unit_id in units
    }
    query = select(AdminUnit.id, AdminUnit.path).where(AdminUnit.id.in_(wanted))
    paths = {unit_id: path for unit_id, path in session.execute(query)} if wanted else {}
    result = []
    for role, unit_id in pairs:
        path = paths.get(unit_id)
        result.append(
            path is not None
            and any(
                path_within(path, paths[held]) for held in held_units.get(role, ()) if held in paths
            )
        )
    return result


def issue(
    session: Session,
    *,
    user_id: int,
    name: str,
    grants: list[tuple[str, int]],
    expires_at: dt.datetime,
    actor_id: int,
    now: dt.datetime,
) -> tuple[ApiToken, str]:
    """Issue a token to ``user_id`` with ``grants``; return it with its secret (shown once).

    The acting administrator must administer the account (``accounts.require_administers``);
    every refusal of the input comes at once, each at its field (name, grants, expires_at).
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(N_("No such user."))
    accounts.require_administers(session, actor_id, user)
    errors: list[DomainError] = []
    if not _usable(user):
        errors.append(
            DomainError(N_("This account is deactivated or erased: it cannot hold a token.")).at(
                "user_id"
            )
        )
    name = (name or "").strip()
    if not name:
        errors.append(DomainError(N_("Enter a name for the token.")).at("name"))
    elif len(name) > NAME_MAX:
        errors.append(
            DomainError(N_("The name is longer than %(n)s characters."), n=NAME_MAX).at("name")
        )
    pairs = sorted({(str(role), int(unit_id)) for role, unit_id in grants or ()})
    if not pairs:
        errors.append(DomainError(N_("Choose at least one role for the token.")).at("grants"))
    elif any(role not in ROLES for role, _unit in pairs) or not all(_held(session, user, pairs)):
        errors.append(
            DomainError(
                N_("A token may carry only roles its holder holds over that jurisdiction.")
            ).at("grants")
        )
    if expires_at is None or expires_at.tzinfo is None:
        errors.append(DomainError(N_("Choose the expiry date.")).at("expires_at"))
    elif expires_at <= now:
        errors.append(DomainError(N_("The expiry must be in the future.")).at("expires_at"))
    elif expires_at > now + dt.timedelta(days=MAX_DAYS):
        errors.append(
            DomainError(
                N_("A token may be valid for at most %(days)s days from today."), days=MAX_DAYS
            ).at("expires_at")
        )
    refuse_all(errors)

    secret = SECRET_PREFIX + secrets.token_urlsafe(32)
    token = ApiToken(
        user_id=user.id,
        name=name,
        secret_hash=hash_secret(secret),
        prefix=secret[:PREFIX_LENGTH],
        created_at=now,
        created_by_id=actor_id,
        expires_at=expires_at,
        grants=[ApiTokenGrant(role=role, unit_id=unit_id) for role, unit_id in pairs],
    )
    session.add(token)
    session.flush()
    audit.record(
        session,
        action="api_token.issue",
        object_type="api_token",
        object_id=token.id,
        actor_id=actor_id,
        payload={
            "user_id": user.id,
            "grants": [[role, unit_id] for role, unit_id in pairs],
            "expires_at": expires_at.astimezone(dt.UTC).isoformat(),
        },
        now=now,
    )
    return token, secret


def revoke(session: Session, *, token_id: int, actor_id: int, now: dt.datetime) -> ApiToken:
    """Revoke a token for good; a second revocation is a Conflict (409) and changes nothing.

    The guarded UPDATE decides between concurrent revocations: only one of them matches.
    """
    token = session.get(ApiToken, token_id)
    if token is None:
        raise NotFound(N_("No such token."))
    accounts.require_administers(session, actor_id, accounts.get_user(session, token.user_id))
    done = session.execute(
        update(ApiToken)
        .where(ApiToken.id == token_id, ApiToken.revoked_at.is_(None))
        .values(revoked_at=now, revoked_by_id=actor_id)
        .execution_options(synchronize_session=False)
    )
    if done.rowcount != 1:
        raise Conflict(N_("This token has already been revoked."))
    session.refresh(token)
    audit.record(
        session,
        action="api_token.revoke",
        object_type="api_token",
        object_id=token.id,
        actor_id=actor_id,
        payload={"user_id": token.user_id},
        now=now,
    )
    return token


def authenticate(session: Session, secret: str | None, now: dt.datetime) -> ApiToken | None:
    """Return the live token whose secret this is, or None.

    None for an unknown, revoked or expired token, and for one whose account is deactivated
    or erased. The lookup is by hash: equal hashes of a 256-bit secret need no constant-time
    comparison.
    """
    if not secret or not secret.startswith(SECRET_PREFIX) or len(secret) > _SECRET_MAX:
        return None
    token = session.scalar(select(ApiToken).where(ApiToken.secret_hash == hash_secret(secret)))
    if token is None or token.revoked_at is not None or token.expires_at <= now:
        return None
    if not _usable(session.get(User, token.user_id)):
        return None
    return token


def effective_grants(session: Session, token: ApiToken) -> list[tuple[str, int]]:
    """Return the token's (role, unit id) grants that its holder still holds there or above."""
    user = session.get(User, token.user_id)
    if not _usable(user):
        return []
    pairs = sorted((g.role, g.unit_id) for g in token.grants)
    return [pair for pair, held in zip(pairs, _held(session, user, pairs), strict=True) if held]


def tokens_query(scope: Scope) -> Select:
    """Return (token, holder) rows of the accounts whose home unit is in ``scope``, newest first."""
    return (
        select(ApiToken, User)
        .join(User, User.id == ApiToken.user_id)
        .where(scope.clause(User.unit_id))
        .order_by(ApiToken.id.desc())
    )


def list_tokens(session: Session, scope: Scope) -> list[tuple[ApiToken, User]]:
    """Return the tokens of the accounts whose home unit lies in ``scope``, newest first."""
    return [(token, user) for token, user in session.execute(tokens_query(scope))]


def holder_grants(user: User) -> list[RoleGrant]:
    """Return the live role grants of ``user`` a token may carry, by role and unit."""
    return sorted(user.grants, key=lambda g: (g.role, g.unit.path))


def touch(session: Session, token_id: int, now: dt.datetime) -> bool:
    """Record that the token was used at ``now``, at most once per ``TOUCH_EVERY``.

    Return whether a row was written.
    """
    done = session.execute(
        update(ApiToken)
        .where(
            ApiToken.id == token_id,
            or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at <= now - TOUCH_EVERY),
        )
        .values(last_used_at=now)
        .execution_options(synchronize_session=False)
    )
    return done.rowcount == 1
