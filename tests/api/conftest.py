"""Helpers of the API tests: a JSON client sending an Idempotency-Key, and access tokens."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest


class Api:
    """A test client for /api/v1: JSON bodies, a fresh Idempotency-Key per POST, tokens."""

    def __init__(self, client):
        self.client = client

    @staticmethod
    def _headers(token, lang, extra=None):
        headers = dict(extra or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        if lang:
            headers["Accept-Language"] = lang
        return headers

    def get(self, url: str, *, token: str | None = None, lang: str | None = None, **kw):
        headers = self._headers(token, lang, kw.pop("headers", None))
        return self.client.get(url, headers=headers, **kw)

    def post(
        self,
        url: str,
        json=None,
        *,
        token: str | None = None,
        key: str | None = None,
        lang: str | None = None,
        **kw,
    ):
        headers = self._headers(token, lang, kw.pop("headers", None))
        headers.setdefault("Idempotency-Key", key or str(uuid.uuid4()))
        return self.client.post(url, json={} if json is None else json, headers=headers, **kw)


@pytest.fixture
def api(client):
    return Api(client)


def make_token(app, login: str, grants=None, *, days: int = 30, name: str = "test") -> str:
    """Issue a token for ``login`` (all its grants unless ``grants`` says which) and return it."""
    from core import accounts, api_tokens
    from core.db import utcnow
    from portal.extensions import db

    with app.app_context():
        user = accounts.find_by_login(db.session, login)
        assert user is not None, login
        wanted = grants if grants is not None else [(g.role, g.unit_id) for g in user.grants]
        now = utcnow()
        # Tokens are issued by an administrator of the account (api_tokens.issue).
        admin = accounts.find_by_login(db.session, "admin@demo.kz")
        _token, secret = api_tokens.issue(
            db.session,
            user_id=user.id,
            name=name,
            grants=wanted,
            expires_at=now + dt.timedelta(days=days),
            actor_id=admin.id,
            now=now,
        )
        db.session.commit()
    return secret
