"""What every API call shares: problems, Idempotency-Key, CSRF for sessions, tokens, limits."""

from __future__ import annotations

import datetime as dt
import json
import uuid

import pytest
from sqlalchemy import func, select

from core import clock
from core.api_models import IdempotencyRecord
from core.audit import AuditEvent
from core.db import utcnow
from tests.api.conftest import make_token
from tests.conftest import login_as, race, translated
from tests.factories.volunteers import unit, user
from volunteers import shifts
from volunteers.activity_models import Signup

PROBLEM = "application/problem+json"


def _open_shift(session, capacity: int = 5):
    coordinator = user(session, "coordinator@demo.kz")
    now = utcnow()
    # Tomorrow morning, local time: the demo volunteer's shifts are the evenings' (19:00-23:00
    # on Tuesdays and Saturdays) and one running now, and a shift a day from now overlapped a
    # Tuesday evening when the tests ran on a Monday afternoon (409: already on a shift then).
    morning = clock.local_day_bounds(clock.local_date(now) + dt.timedelta(days=1))[0]
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place="API орталық алаң",
        starts_at=morning + dt.timedelta(hours=9),
        ends_at=morning + dt.timedelta(hours=12),
        capacity=capacity,
        supervisor_id=None,
        actor_id=coordinator.id,
        now=now,
    )
    session.commit()
    return shift.id


def _signups(session, shift_id: int) -> int:
    session.rollback()
    return session.scalar(
        select(func.count()).select_from(Signup).where(Signup.shift_id == shift_id)
    )


@pytest.mark.demo_data
def test_problems_are_translated_by_accept_language(app, api):
    for lang in ("kk", "ru", "en"):
        answer = api.get("/api/v1/session", lang=lang)
        assert answer.status_code == 401 and answer.content_type == PROBLEM
        body = answer.get_json()
        assert body["status"] == 401 and body["instance"] == "/api/v1/session"
        assert body["title"] == translated(app, "Sign-in needed", lang)
        assert answer.headers["Content-Language"] == lang
    missing = api.get("/api/v1/no-such-thing", lang="ru").get_json()
    assert missing["status"] == 404 and missing["title"] == translated(app, "Not found", "ru")


@pytest.mark.demo_data
def test_document_and_reference_page_are_public(api):
    document = api.get("/api/v1/openapi.json")
    assert document.status_code == 200
    spec = document.get_json()
    assert spec["openapi"] == "3.1.0"
    assert "IdempotencyKey" in spec["components"]["parameters"]
    page = api.get("/api/v1/docs")
    assert page.status_code == 200 and "swagger-ui-bundle.js" in page.text
    assert "'unsafe-inline'" not in page.headers["Content-Security-Policy"]


@pytest.mark.demo_data
def test_every_post_needs_a_well_formed_idempotency_key(app, client, session, api):
    shift_id = _open_shift(session)
    login_as(client, "volunteer@demo.kz")
    url = f"/api/v1/me/shifts/{shift_id}/sign-up"
    without = client.post(url, json={}, headers={"Accept-Language": "en"})
    assert without.status_code == 400 and without.content_type == PROBLEM
    assert without.get_json()["errors"][0]["parameter"] == "Idempotency-Key"
    spaced = api.post(url, {}, key="two words")
    assert spaced.status_code == 400
    assert _signups(session, shift_id) == 0


@pytest.mark.demo_data
def test_a_replay_returns_the_first_answer_and_other_content_is_refused(app, client, session, api):
    shift_id = _open_shift(session)
    login_as(client, "volunteer@demo.kz")
    url = f"/api/v1/me/shifts/{shift_id}/sign-up"
    key = str(uuid.uuid4())
    first = api.post(url, {}, key=key)
    assert first.status_code == 201, first.text
    again = api.post(url, {}, key=key)
    assert again.status_code == 201 and again.get_json() == first.get_json()
    assert again.headers["Idempotent-Replayed"] == "true"
    other = api.post(f"/api/v1/me/shifts/{shift_id}/sign-up", {"member_id": 0}, key=key)
    assert other.status_code == 422 and other.content_type == PROBLEM
    assert _signups(session, shift_id) == 1
    # A new key is a new action: the domain refuses the second sign-up (409), and that
    # refusal is itself the first answer of its key.
    second_key = str(uuid.uuid4())
    refused = api.post(url, {}, key=second_key, lang="ru")
    assert refused.status_code == 409 and refused.content_type == PROBLEM
    assert api.post(url, {}, key=second_key, lang="ru").get_json() == refused.get_json()
    assert _signups(session, shift_id) == 1
    # Keys belong to their account: another person's same key is their own first action.
    assert session.scalar(select(func.count()).select_from(IdempotencyRecord)) >= 2


@pytest.mark.demo_data
def test_a_session_caller_must_send_the_csrf_header(app, client, session, api):
    shift_id = _open_shift(session)
    login_as(client, "volunteer@demo.kz")
    url = f"/api/v1/me/shifts/{shift_id}/sign-up"
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        refused = api.post(url, {})
        assert refused.status_code == 403 and refused.content_type == PROBLEM
        assert _signups(session, shift_id) == 0
        token = api.get("/api/v1/session").get_json()["csrf_token"]
        accepted = api.post(url, {}, headers={"X-CSRFToken": token})
        assert accepted.status_code == 201, accepted.text
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    assert _signups(session, shift_id) == 1


@pytest.mark.demo_data
def test_tokens_need_no_csrf_and_every_use_is_audited(app, client, session, api):
    shift_id = _open_shift(session)
    secret = make_token(app, "volunteer@demo.kz")
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        done = api.post(f"/api/v1/me/shifts/{shift_id}/sign-up", {}, token=secret)
        assert done.status_code == 201, done.text
        assert api.get("/api/v1/session", token=secret).get_json()["via"] == "token"
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    session.rollback()
    uses = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "api_token.use").order_by(AuditEvent.seq)
    ).all()
    assert [json.loads(u.payload)["status"] for u in uses[-2:]] == [201, 200]
    assert all(secret not in u.payload for u in uses)
    # The write itself is audited as the person, as on the page.
    signup_id = session.scalar(select(Signup.id).where(Signup.shift_id == shift_id))
    created = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "signup.create", AuditEvent.object_id == str(signup_id)
        )
    ).all()
    assert [e.actor_id for e in created] == [user(session, "volunteer@demo.kz").id]


@pytest.mark.demo_data
def test_unknown_or_malformed_tokens_are_refused(api):
    for header in ("Bearer cip_nonsense", "Bearer ", "bearer x"):
        answer = api.get("/api/v1/session", headers={"Authorization": header})
        assert answer.status_code == 401 and answer.content_type == PROBLEM


@pytest.mark.demo_data
def test_a_token_past_its_limit_waits(app, api):
    secret = make_token(app, "volunteer@demo.kz")
    throttle = app.extensions["portal_throttle"]
    from limits import parse

    saved = throttle.limits["API_LIMIT_PER_TOKEN"]
    throttle.limits["API_LIMIT_PER_TOKEN"] = parse("3 per minute")
    try:
        statuses = [api.get("/api/v1/session", token=secret).status_code for _ in range(5)]
    finally:
        throttle.limits["API_LIMIT_PER_TOKEN"] = saved
    assert statuses[:3] == [200, 200, 200] and statuses[3:] == [429, 429]
    limited = api.get("/api/v1/session", token=secret)
    assert limited.status_code == 200 or "Retry-After" in limited.headers


@pytest.mark.demo_data
def test_a_tampered_cursor_is_a_422_at_its_parameter(app, client, api):
    login_as(client, "volunteer@demo.kz")
    answer = api.get("/api/v1/me/shifts?cursor=abc", lang="en")
    assert answer.status_code == 422 and answer.content_type == PROBLEM
    assert answer.get_json()["errors"][0]["parameter"] == "cursor"
    wrong = api.get("/api/v1/me/shifts?limit=1000", lang="en").get_json()
    assert wrong["status"] == 422 and wrong["errors"][0]["parameter"] == "limit"


@pytest.mark.both_databases
@pytest.mark.demo_data
def test_ten_requests_with_one_key_have_one_effect(app, session):
    """Ten at once with one key (a double tap and the outbox's retry): one sign-up, one event."""
    shift_id = _open_shift(session, capacity=20)
    secret = make_token(app, "volunteer@demo.kz")
    session.rollback()
    url = f"/api/v1/me/shifts/{shift_id}/sign-up"
    key = str(uuid.uuid4())

    def action(_i):
        client = app.test_client()
        return client.post(
            url,
            json={},
            headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": key},
        ).status_code

    statuses = race(10, action)
    assert statuses.count(201) >= 1
    assert set(statuses) <= {201, 409}, statuses
    assert _signups(session, shift_id) == 1
    signup_id = session.scalar(select(Signup.id).where(Signup.shift_id == shift_id))
    events = session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.action == "signup.create", AuditEvent.object_id == str(signup_id))
    )
    assert events == 1


@pytest.mark.demo_data
def test_a_session_that_ended_does_not_use_up_the_key(app, client, session, api):
    """The outbox sends after the session expired: the 401 is not the key's answer."""
    shift_id = _open_shift(session)
    login_as(client, "volunteer@demo.kz")
    with client.session_transaction() as sess:
        sess["seen_at"] = 0  # idle past the limit
    url = f"/api/v1/me/shifts/{shift_id}/sign-up"
    key = str(uuid.uuid4())
    ended = api.post(url, {}, key=key)
    assert ended.status_code == 401 and ended.content_type == PROBLEM
    login_as(client, "volunteer@demo.kz")
    again = api.post(url, {}, key=key)
    assert again.status_code == 201 and "Idempotent-Replayed" not in again.headers
    assert _signups(session, shift_id) == 1


@pytest.mark.demo_data
def test_keys_belong_to_the_caller_not_only_to_the_person(app, client, session, api):
    shift_id = _open_shift(session)
    secret = make_token(app, "volunteer@demo.kz")
    login_as(client, "volunteer@demo.kz")
    key = str(uuid.uuid4())
    url = f"/api/v1/me/shifts/{shift_id}/sign-up"
    assert api.post(url, {}, key=key).status_code == 201
    # The token's own first use of the same key is its own action (refused: already signed up).
    by_token = api.client.post(
        url, json={}, headers={"Authorization": f"Bearer {secret}", "Idempotency-Key": key}
    )
    assert by_token.status_code == 409 and "Idempotent-Replayed" not in by_token.headers


@pytest.mark.demo_data
def test_a_nul_in_a_json_body_is_refused_plainly(app, client, api):
    login_as(client, "volunteer@demo.kz")
    answer = api.post("/api/v1/me/contributions", {"note": "a\u0000b"})
    assert answer.status_code == 400 and answer.content_type == PROBLEM


@pytest.mark.demo_data
def test_a_body_that_is_not_an_object_points_at_the_root(app, client, api):
    login_as(client, "volunteer@demo.kz")
    answer = api.post("/api/v1/me/contributions", [1, 2], lang="ru")
    assert answer.status_code == 422
    pointers = [e.get("pointer") for e in answer.get_json()["errors"]]
    assert "" in pointers and "/_schema" not in pointers
    assert answer.get_json()["detail"] == translated(app, "The value has the wrong type.", "ru")


@pytest.mark.demo_data
def test_a_token_reaches_only_what_its_roles_allow(app, client, session, api):
    from core import accounts

    finance = make_token(app, "finance@demo.kz")
    mine = api.get("/api/v1/me/shifts", token=finance, lang="en")
    assert mine.status_code == 403 and mine.content_type == PROBLEM
    assert api.get("/api/v1/session", token=finance).status_code == 200
    # A holder who loses every role the token carried: the token stops working.
    volunteer = make_token(app, "volunteer@demo.kz")
    assert api.get("/api/v1/me/shifts", token=volunteer).status_code == 200
    with app.app_context():
        from portal.extensions import db

        holder = accounts.find_by_login(db.session, "volunteer@demo.kz")
        admin = accounts.find_by_login(db.session, "admin@demo.kz")
        for grant in list(holder.grants):
            accounts.revoke_grant(db.session, grant_id=grant.id, actor_id=admin.id)
        db.session.commit()
    assert api.get("/api/v1/me/shifts", token=volunteer).status_code == 401


@pytest.mark.demo_data
def test_an_address_guessing_tokens_waits(app, api):
    from limits import parse

    throttle = app.extensions["portal_throttle"]
    saved = throttle.limits["API_LIMIT_WRONG_TOKEN_PER_ADDRESS"]
    throttle.limits["API_LIMIT_WRONG_TOKEN_PER_ADDRESS"] = parse("3 per minute")
    try:
        statuses = [api.get("/api/v1/session", token=f"cip_guess{i}").status_code for i in range(5)]
    finally:
        throttle.limits["API_LIMIT_WRONG_TOKEN_PER_ADDRESS"] = saved
    assert statuses[:3] == [401, 401, 401] and statuses[3:] == [429, 429]


@pytest.mark.demo_data
def test_a_signed_in_person_is_limited_per_account_not_per_address(app, client, api):
    """An office behind one address: one person's burst does not stop the others."""
    from limits import parse

    throttle = app.extensions["portal_throttle"]
    saved = throttle.limits["API_LIMIT_PER_ACCOUNT"]
    throttle.limits["API_LIMIT_PER_ACCOUNT"] = parse("3 per minute")
    try:
        login_as(client, "volunteer@demo.kz")
        statuses = [api.get("/api/v1/me/shifts").status_code for _ in range(4)]
        other = app.test_client()
        login_as(other, "coordinator@demo.kz")
        colleague = other.get("/api/v1/session").status_code
    finally:
        throttle.limits["API_LIMIT_PER_ACCOUNT"] = saved
    assert statuses == [200, 200, 200, 429]
    assert colleague == 200


@pytest.mark.demo_data
def test_a_dead_token_on_a_public_operation_is_a_documented_401(api):
    path = "/api/v1/public/sober-settlements/statistics"
    answer = api.get(path, token="cip_dead")
    assert answer.status_code == 401 and answer.content_type == PROBLEM
    operation = api.get("/api/v1/openapi.json").get_json()["paths"][path]["get"]
    assert operation["security"] == [] and "401" in operation["responses"]
