"""Sign-in limits when Redis fails: per-process counters, one WARNING, said on the pages."""

from __future__ import annotations

import logging

import pytest

from tests.conftest import close_app, login_as, make_app, translated

DEGRADED = (
    "Sign-in limits degraded: per-process counters. Redis does not answer; each web process"
    " counts failed sign-ins on its own until it is back."
)


def _fail(client, login: str):
    return client.post("/login", data={"login": login, "password": "wrong-password-1"})


@pytest.mark.demo_data
def test_redis_down_sign_in_still_limited_and_operations_page_says_so(db_url, caplog):
    caplog.set_level(logging.WARNING, logger="portal.throttle")
    app = make_app(db_url, REDIS_URL="redis://127.0.0.1:1/0", CHECK_SERVICES=False)
    try:
        client = app.test_client()
        answers = [_fail(client, "nobody@example.kz").status_code for _ in range(6)]
        assert answers == [401] * 5 + [429]
        warnings = [r for r in caplog.records if "per process" in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING

        assert "portal_login_throttle_degraded 1.0" in client.get("/metrics").text
        login_as(client, "admin@demo.kz")
        page = client.get("/admin/operations")
        assert page.status_code == 200
        assert translated(app, DEGRADED, "en") in page.text
    finally:
        close_app(app)


def test_limiter_keys_in_redis_hold_no_typed_login(db_url, redis_url, rq_prefix):
    from redis import Redis

    app = make_app(db_url, REDIS_URL=redis_url, RQ_QUEUE_PREFIX=rq_prefix, CHECK_SERVICES=False)
    try:
        client = app.test_client()
        for login in ("Someone.Typed@Example.kz", "+7 (701) 234-56-78"):
            assert _fail(client, login).status_code == 401
        keys = [k.decode() for k in Redis.from_url(redis_url).scan_iter(match=f"*{rq_prefix}*")]
        assert keys  # the counters are in Redis, not in the process
        joined = " ".join(keys).lower()
        assert "someone" not in joined and "example" not in joined
        assert "7012345678" not in joined
        assert not app.extensions["portal_throttle"].degraded()
    finally:
        close_app(app)
