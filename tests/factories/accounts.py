"""Staff accounts: a person signed up with one role at one unit."""

from __future__ import annotations

from core import accounts


def official(
    session,
    email: str,
    role: str,
    unit_id: int,
    *,
    password: str,
    full_name: str,
    language: str = "kk",
    actor_id: int | None = None,
) -> accounts.User:
    """An account holding ``role`` at ``unit_id`` that signs in with ``password`` (flushed, not
    committed)."""
    user = accounts.create_user(
        session,
        email=email,
        phone=None,
        full_name=full_name,
        unit_id=unit_id,
        preferred_language=language,
        password=password,
        actor_id=actor_id,
    )
    accounts.grant_role(session, user_id=user.id, role=role, unit_id=unit_id, actor_id=actor_id)
    return user
