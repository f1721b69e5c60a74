"""The volunteer's contributions through the API: the kinds, my history, logging one."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from core.db import utcnow
from tests.conftest import audit_count, engine_of, login_as, race, same_browser, translated
from tests.factories.volunteers import make_member, user
from volunteers import contributions
from volunteers.activity_models import Contribution

PROBLEM = "application/problem+json"


def _today():
    return clock.local_date(utcnow())


def _member(s: Session, serial: int, login: str | None = "volunteer@demo.kz"):
    applicant = user(s, login) if login else None
    member = make_member(s, serial, applicant=applicant, today=_today())
    s.commit()
    return member


def _body(member_id: int, **overrides) -> dict:
    body = {
        "member_id": member_id,
        "kind": "offense_reported",
        "occurred_on": _today().isoformat(),
        "description": "Бұзушылық туралы 102-ге хабарладым",
        "reference": "KUSP-2026-77",
    }
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.content_type.startswith(PROBLEM), response.content_type
    return response.get_json()


def test_kinds_are_the_pages_kinds_in_my_language(app, client, api, session):
    login_as(client, "volunteer@demo.kz")
    response = api.get("/api/v1/me/contribution-kinds", lang="ru")
    assert response.status_code == 200, response.text
    items = response.get_json()["items"]
    expected = contributions.kinds(session)
    assert [k["code"] for k in items] == [k.code for k in expected]
    assert [k["name"] for k in items] == [k.name_ru for k in expected]
    assert {k["measure"] for k in items} <= {"hours", "count"}


def test_log_and_list_my_contributions(app, client, api, session):
    member = _member(session, 9701)
    other = _member(session, 9702, None)
    login_as(client, "volunteer@demo.kz")

    created = api.post("/api/v1/me/contributions", _body(member.id))
    assert created.status_code == 201, created.text
    first = created.get_json()
    assert (first["member_id"], first["status"], first["kind"]) == (
        member.id,
        "logged",
        "offense_reported",
    )
    assert first["reference"] == "KUSP-2026-77" and first["points"] is None
    hours = api.post(
        "/api/v1/me/contributions",
        _body(member.id, kind="patrol_hours", minutes=90, reference=None),
    )
    assert hours.status_code == 201, hours.text
    assert hours.get_json()["minutes"] == 90
    session.rollback()
    assert (
        session.get(Contribution, first["id"]).logged_by_id == user(session, "volunteer@demo.kz").id
    )
    assert audit_count(session, "contribution.log", "contribution", first["id"]) == 1

    page = api.get(f"/api/v1/me/contributions?member_id={member.id}&limit=1").get_json()
    assert [c["id"] for c in page["items"]] == [hours.get_json()["id"]] and page["next_cursor"]
    rest = api.get(
        f"/api/v1/me/contributions?member_id={member.id}&cursor={page['next_cursor']}"
    ).get_json()
    assert [c["id"] for c in rest["items"]] == [first["id"]] and rest["next_cursor"] is None

    # Someone else's membership: not found, and nothing logged for them.
    _refused(api.post("/api/v1/me/contributions", _body(other.id)), 404)
    _refused(api.get(f"/api/v1/me/contributions?member_id={other.id}"), 404)
    session.rollback()
    assert not session.scalar(
        select(func.count()).select_from(Contribution).where(Contribution.member_id == other.id)
    )


def test_invalid_input_is_refused_in_russian_at_its_pointer(app, client, api, session):
    member = _member(session, 9703)
    login_as(client, "volunteer@demo.kz")
    url = "/api/v1/me/contributions"

    def errors(body) -> list[dict]:
        return _refused(api.post(url, body, lang="ru"), 422)["errors"]

    assert errors(_body(member.id, description=None)) == [
        {"pointer": "/description", "detail": translated(app, "This field is required.", "ru")}
    ]
    assert errors(_body(member.id, kind="bribe")) == [
        {"pointer": "/kind", "detail": translated(app, "Choose one of the allowed values.", "ru")}
    ]
    assert errors(_body(member.id, kind="patrol_hours", minutes=5)) == [
        {"pointer": "/minutes", "detail": translated(app, "The number is out of range.", "ru")}
    ]
    assert errors(_body(member.id, occurred_on="2026-13-01")) == [
        {"pointer": "/occurred_on", "detail": translated(app, "Enter a date (YYYY-MM-DD).", "ru")}
    ]
    assert errors(_body(member.id, description="x" * 2001)) == [
        {"pointer": "/description", "detail": translated(app, "The text is too long.", "ru")}
    ]
    # The domain's rules: refused as the page refuses them, translated.
    tomorrow = _today().toordinal() + 1
    future = _body(member.id, occurred_on=type(_today()).fromordinal(tomorrow).isoformat())
    body = _refused(api.post(url, future, lang="ru"), 422)
    assert body["detail"] == translated(app, "A contribution cannot be dated in the future.", "ru")
    session.rollback()
    assert not session.scalar(
        select(func.count()).select_from(Contribution).where(Contribution.member_id == member.id)
    )


@pytest.mark.both_databases
def test_ten_posts_of_one_contribution_at_once_log_it_once(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        member_id = _member(s, 9711).id
    client = pg_app.test_client()
    login_as(client, "volunteer@demo.kz")
    clients = [same_browser(client) for _ in range(10)]
    key = str(uuid.uuid4())  # the outbox resends one action with its key

    def post(i: int):
        return clients[i].post(
            "/api/v1/me/contributions",
            json=_body(member_id),
            headers={"Idempotency-Key": key},
        )

    responses = race(10, post)
    assert not [r for r in responses if isinstance(r, Exception)], responses
    codes = [r.status_code for r in responses]
    assert set(codes) <= {201, 409} and 201 in codes, [r.text for r in responses]
    created = {r.get_json()["id"] for r in responses if r.status_code == 201}
    assert len(created) == 1  # a replay answers the first request's record
    with Session(engine) as s:
        logged = s.scalars(select(Contribution.id).where(Contribution.member_id == member_id)).all()
        assert logged == list(created)
        assert audit_count(s, "contribution.log", "contribution", logged[0]) == 1
