"""The volunteer's shifts through the API: the same steps as "My shifts", own sign-ups only.

Offline taps carry their time (``tapped_at``), within the akimat's limit and never from the
future; an early check-out needs ``"confirmed": true``; ten posts of one step at once have one
effect (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import clock
from core.db import utcnow
from tests.api.conftest import Api, make_token
from tests.conftest import audit_count, engine_of, login_as, race, same_browser, translated
from tests.factories.volunteers import make_member, unit, user
from volunteers import shifts
from volunteers.activity_models import Shift, Signup

HOME = "354030100"  # a village of Bukhar-Zhyrau district, the demo volunteer's district
PROBLEM = "application/problem+json"
MINUTE = dt.timedelta(minutes=1)
HOUR = dt.timedelta(hours=1)
SIGNUP_KEYS = {
    "id",
    "shift_id",
    "member_id",
    "place",
    "starts_at",
    "ends_at",
    "status",
    "checked_in_at",
    "checked_out_at",
    "checked_in_offline",
    "checked_out_offline",
    "shift_status",
}


def _member(s: Session, serial: int, login: str | None = "volunteer@demo.kz"):
    """A registered member, the account ``login``'s (nobody's with None)."""
    applicant = user(s, login) if login else None
    return make_member(s, serial, applicant=applicant, today=clock.local_date(utcnow()))


def _shift(s: Session, starts: dt.datetime, *, hours: int = 4, capacity: int = 3) -> int:
    coordinator = user(s, "coordinator@demo.kz")
    (shift,) = shifts.plan_shift(
        s,
        unit_id=unit(s, HOME).id,
        patrol_unit_id=None,
        place="Ботақара, вокзал алаңы",
        starts_at=starts,
        ends_at=starts + hours * HOUR,
        capacity=capacity,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=starts - dt.timedelta(days=1),
    )
    return shift.id


def _signed_up(s: Session, member, starts: dt.datetime) -> int:
    """A sign-up of ``member`` on a new shift starting at ``starts`` (committed)."""
    shift_id = _shift(s, starts)
    signup = shifts.sign_up(
        s,
        shift_id=shift_id,
        member_id=member.id,
        actor_id=user(s, "coordinator@demo.kz").id,
        now=starts - dt.timedelta(days=1),
    )
    s.commit()
    return signup.id


def _signed_in(client, login: str = "volunteer@demo.kz") -> None:
    """Sign ``login`` in on the test client (a session caller); no token."""
    login_as(client, login)


def _now() -> dt.datetime:
    return utcnow().replace(microsecond=0)


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.content_type.startswith(PROBLEM), response.content_type
    return response.get_json()


def _pointer(body: dict) -> set[str]:
    return {e.get("pointer") for e in body.get("errors", [])}


def _at(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


def test_sign_up_lists_and_open_shifts(app, client, api, session):
    member = _member(session, 9501)
    other = _member(session, 9502, None)
    first = _shift(session, _now() + dt.timedelta(days=2))
    second = _shift(session, _now() + dt.timedelta(days=3))
    theirs = _signed_up(session, other, _now() + dt.timedelta(days=4))
    token = _signed_in(client)

    open_ids = [
        s["id"]
        for s in api.get(f"/api/v1/me/open-shifts?member_id={member.id}", token=token).get_json()[
            "items"
        ]
    ]
    assert {first, second} <= set(open_ids)

    created = api.post(f"/api/v1/me/shifts/{first}/sign-up", {"member_id": member.id}, token=token)
    assert created.status_code == 201, created.text
    signup = created.get_json()
    assert set(signup) >= SIGNUP_KEYS
    assert (signup["shift_id"], signup["member_id"], signup["status"]) == (
        first,
        member.id,
        "signed_up",
    )
    assert (signup["checked_in_offline"], signup["shift_status"]) == (False, "planned")
    assert _at(signup["starts_at"]).utcoffset() == dt.timedelta(0)

    # The shift joined leaves the open list; my list has it, not someone else's sign-up.
    page = api.get(
        f"/api/v1/me/open-shifts?limit=100&member_id={member.id}", token=token
    ).get_json()
    ids = [s["id"] for s in page["items"]]
    assert first not in ids and second in ids
    assert ids == sorted(ids)
    assert {"place", "unit_name", "free_places", "capacity"} <= page["items"][0].keys()
    mine = api.get(f"/api/v1/me/shifts?member_id={member.id}", token=token).get_json()
    assert [s["id"] for s in mine["items"]] == [signup["id"]]
    assert theirs not in [s["id"] for s in mine["items"]]
    assert mine["next_cursor"] is None
    cancelled = f"/api/v1/me/shifts?status=cancelled&member_id={member.id}"
    assert api.get(cancelled, token=token).get_json()["items"] == []

    # Twice: refused as the page refuses it.
    again = _refused(
        api.post(f"/api/v1/me/shifts/{first}/sign-up", {"member_id": member.id}, token=token), 409
    )
    assert again["detail"]
    # Someone else's membership: not found, whether signing up or listing.
    _refused(
        api.post(f"/api/v1/me/shifts/{second}/sign-up", {"member_id": other.id}, token=token), 404
    )
    _refused(api.get(f"/api/v1/me/shifts?member_id={other.id}", token=token), 404)
    _refused(api.get(f"/api/v1/me/open-shifts?member_id={other.id}", token=token), 404)
    _refused(api.post("/api/v1/me/shifts/999999/sign-up", {}, token=token), 404)

    # Paged by a cursor: one sign-up per page.
    api.post(f"/api/v1/me/shifts/{second}/sign-up", {"member_id": member.id}, token=token)
    one = api.get(f"/api/v1/me/shifts?limit=1&member_id={member.id}", token=token).get_json()
    assert len(one["items"]) == 1 and one["next_cursor"]
    two = api.get(
        f"/api/v1/me/shifts?limit=1&member_id={member.id}&cursor={one['next_cursor']}", token=token
    ).get_json()
    assert len(two["items"]) == 1 and two["next_cursor"] is None
    assert one["items"][0]["id"] > two["items"][0]["id"]


def test_a_person_without_a_membership_gets_not_found(app, client, api, session):
    shift_id = _shift(session, _now() + dt.timedelta(days=2))
    session.commit()
    token = _signed_in(client, "coordinator@demo.kz")
    _refused(api.post(f"/api/v1/me/shifts/{shift_id}/sign-up", {}, token=token), 404)
    _refused(api.get("/api/v1/me/open-shifts", token=token), 404)
    assert api.get("/api/v1/me/shifts", token=token).get_json()["items"] == []


def test_other_peoples_signups_are_not_found_and_stay_unchanged(app, client, api, session):
    other = _member(session, 9503, None)
    _member(session, 9504)
    theirs = _signed_up(session, other, _now() - 10 * MINUTE)
    token = _signed_in(client)
    for action, body in (
        ("cancel", {}),
        ("check-in", {}),
        ("check-out", {"confirmed": True}),
    ):
        _refused(api.post(f"/api/v1/me/signups/{theirs}/{action}", body, token=token), 404)
    _refused(api.post("/api/v1/me/signups/999999/check-in", {}, token=token), 404)
    session.rollback()
    assert session.get(Signup, theirs).status == "signed_up"
    assert audit_count(session, "signup.check_in", "signup", theirs) == 0


def test_cancel_before_the_start_only_once(app, client, api, session):
    member = _member(session, 9505)
    signup_id = _signed_up(session, member, _now() + dt.timedelta(days=1))
    token = _signed_in(client)
    done = api.post(f"/api/v1/me/signups/{signup_id}/cancel", token=token)
    assert done.status_code == 200, done.text
    assert done.get_json()["status"] == "cancelled"
    _refused(api.post(f"/api/v1/me/signups/{signup_id}/cancel", token=token), 409)


def test_live_check_in_and_an_early_check_out_needs_confirming(app, client, api, session):
    member = _member(session, 9506)
    signup_id = _signed_up(session, member, _now() - 3 * MINUTE)
    token = _signed_in(client)
    url = f"/api/v1/me/signups/{signup_id}"

    checked_in = api.post(f"{url}/check-in", {"latitude": 49.98, "longitude": 73.1}, token=token)
    assert checked_in.status_code == 200, checked_in.text
    body = checked_in.get_json()
    assert (body["status"], body["checked_in_offline"]) == ("checked_in", False)
    session.rollback()
    assert session.get(Signup, signup_id).latitude_e6 == 49_980_000

    # Minutes after the check-in: the page would ask; the API wants "confirmed": true.
    early = _refused(api.post(f"{url}/check-out", {}, token=token, lang="ru"), 409)
    assert _pointer(early) == {"/confirmed"}
    assert '"confirmed": true' in early["detail"]
    session.rollback()
    assert session.get(Signup, signup_id).status == "checked_in"
    assert audit_count(session, "signup.check_out", "signup", signup_id) == 0

    done = api.post(f"{url}/check-out", {"confirmed": True}, token=token)
    assert done.status_code == 200, done.text
    body = done.get_json()
    assert (body["status"], body["checked_out_offline"]) == ("completed", False)
    assert body["checked_out_at"] is not None


def test_offline_taps_are_recorded_with_their_times_and_marked(app, client, api, session):
    member = _member(session, 9507)
    start = _now() - 3 * HOUR
    signup_id = _signed_up(session, member, start)
    token = _signed_in(client)
    url = f"/api/v1/me/signups/{signup_id}"
    tapped_in = start + 10 * MINUTE
    tapped_out = start + 2 * HOUR + 5 * MINUTE

    checked_in = api.post(f"{url}/check-in", {"tapped_at": tapped_in.isoformat()}, token=token)
    assert checked_in.status_code == 200, checked_in.text
    body = checked_in.get_json()
    assert (_at(body["checked_in_at"]), body["checked_in_offline"]) == (tapped_in, True)
    # Almaty time works as well as UTC: the offset is honoured.
    almaty = tapped_out.astimezone(dt.timezone(dt.timedelta(hours=5))).isoformat()
    checked_out = api.post(f"{url}/check-out", {"tapped_at": almaty}, token=token)
    assert checked_out.status_code == 200, checked_out.text
    body = checked_out.get_json()
    assert (body["status"], _at(body["checked_out_at"]), body["checked_out_offline"]) == (
        "completed",
        tapped_out,
        True,
    )
    session.rollback()
    row = session.get(Signup, signup_id)
    assert (row.checked_in_offline, row.checked_out_offline) == (True, True)


def test_offline_taps_refused_past_the_limit_or_from_the_future_in_russian(
    app, client, api, session
):
    member = _member(session, 9508)
    start = _now() - 14 * HOUR
    old = _signed_up(session, member, start)
    recent = _signed_up(session, member, _now() - 30 * MINUTE)
    token = _signed_in(client)

    # Tapped 13 hours ago: past the default limit of 12 h.
    too_old = (start + HOUR).isoformat()
    body = _refused(
        api.post(
            f"/api/v1/me/signups/{old}/check-in", {"tapped_at": too_old}, token=token, lang="ru"
        ),
        422,
    )
    expected = translated(
        app,
        "A tap made offline is accepted within %(hours)s h only; "
        "ask the supervisor to record your attendance.",
        "ru",
        hours="12",
    )
    assert body["detail"] == expected
    assert body["errors"] == [{"pointer": "/tapped_at", "detail": expected}]

    url = f"/api/v1/me/signups/{recent}/check-in"
    future = (_now() + 10 * MINUTE).isoformat()
    body = _refused(api.post(url, {"tapped_at": future}, token=token, lang="ru"), 422)
    assert _pointer(body) == {"/tapped_at"}
    assert body["detail"] == translated(
        app, "The time of the tap is in the future: check the clock of your phone.", "ru"
    )
    naive = (_now() - MINUTE).replace(tzinfo=None).isoformat()
    body = _refused(api.post(url, {"tapped_at": naive}, token=token, lang="ru"), 422)
    assert _pointer(body) == {"/tapped_at"}
    assert body["detail"] == translated(app, "Give the time of the tap with its time zone.", "ru")

    # Invalid input: each at its pointer, in Russian.
    body = _refused(api.post(url, {"tapped_at": "вчера"}, token=token, lang="ru"), 422)
    assert body["errors"] == [
        {
            "pointer": "/tapped_at",
            "detail": translated(app, "Enter a date and time (ISO 8601, with its offset).", "ru"),
        }
    ]
    body = _refused(api.post(url, {"latitude": 91, "longitude": 0}, token=token, lang="ru"), 422)
    assert body["errors"] == [
        {"pointer": "/latitude", "detail": translated(app, "The number is out of range.", "ru")}
    ]
    body = _refused(api.post(url, {"latitude": 50}, token=token, lang="ru"), 422)
    assert _pointer(body) == {"/longitude"}
    session.rollback()
    assert session.get(Signup, old).status == session.get(Signup, recent).status == "signed_up"

    # At the limit a tap is still taken (12 h to the minute is within it).
    at_limit = (_now() - 12 * HOUR + MINUTE).isoformat()
    taken = api.post(f"/api/v1/me/signups/{old}/check-in", {"tapped_at": at_limit}, token=token)
    assert taken.status_code == 200, taken.text
    assert taken.get_json()["checked_in_offline"] is True


# ---- ten at once (PostgreSQL) ---------------------------------------------------------------


def _race_posts(client, token: str | None, url: str, body: dict) -> list:
    clients = [Api(same_browser(client)) for _ in range(10)]
    responses = race(10, lambda i: clients[i].post(url, body, token=token))
    assert not [r for r in responses if isinstance(r, Exception)], responses
    return responses


def _one_won(responses, status: int) -> dict:
    codes = sorted(r.status_code for r in responses)
    assert codes == sorted([status] + [409] * 9), [r.text for r in responses]
    assert all(r.content_type.startswith(PROBLEM) for r in responses if r.status_code == 409)
    return next(r for r in responses if r.status_code == status).get_json()


@pytest.mark.both_databases
def test_ten_sign_ups_and_ten_cancels_at_once_have_one_effect(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        member_id = _member(s, 9511).id
        shift_id = _shift(s, _now() + dt.timedelta(days=2), capacity=5)
        s.commit()
    client = pg_app.test_client()
    login_as(client, "volunteer@demo.kz")
    token = None

    won = _one_won(
        _race_posts(
            client, token, f"/api/v1/me/shifts/{shift_id}/sign-up", {"member_id": member_id}
        ),
        201,
    )
    with Session(engine) as s:
        live = s.scalar(select(func.count()).select_from(Signup).where(Signup.shift_id == shift_id))
        assert live == 1
        assert audit_count(s, "signup.create", "signup", won["id"]) == 1
        assert s.get(Shift, shift_id).taken == 1

    cancelled = _one_won(
        _race_posts(client, token, f"/api/v1/me/signups/{won['id']}/cancel", {}), 200
    )
    assert cancelled["status"] == "cancelled"
    with Session(engine) as s:
        assert audit_count(s, "signup.cancel", "signup", won["id"]) == 1
        assert s.get(Shift, shift_id).taken == 0


@pytest.mark.both_databases
def test_ten_check_ins_and_ten_check_outs_at_once_have_one_effect(pg_app):
    engine = engine_of(pg_app)
    start = _now() - HOUR
    with Session(engine) as s:
        member = _member(s, 9512)
        live = _signed_up(s, member, start)
        offline = _signed_up(s, member, start - 5 * HOUR)
    client = pg_app.test_client()
    login_as(client, "volunteer@demo.kz")
    token = None

    url = f"/api/v1/me/signups/{live}"
    won = _one_won(_race_posts(client, token, f"{url}/check-in", {}), 200)
    assert won["status"] == "checked_in"
    won = _one_won(_race_posts(client, token, f"{url}/check-out", {"confirmed": True}), 200)
    assert won["status"] == "completed"

    # The outbox of a phone that was offline sends its taps again and again: one effect.
    url = f"/api/v1/me/signups/{offline}"
    tapped_in = (start - 5 * HOUR + MINUTE).isoformat()
    tapped_out = (start - 2 * HOUR).isoformat()
    won = _one_won(_race_posts(client, token, f"{url}/check-in", {"tapped_at": tapped_in}), 200)
    assert won["checked_in_offline"] is True
    won = _one_won(_race_posts(client, token, f"{url}/check-out", {"tapped_at": tapped_out}), 200)
    assert won["checked_out_offline"] is True

    with Session(engine) as s:
        for signup_id in (live, offline):
            assert s.get(Signup, signup_id).status == "completed"
            assert audit_count(s, "signup.check_in", "signup", signup_id) == 1
            assert audit_count(s, "signup.check_out", "signup", signup_id) == 1


def test_an_access_token_acts_for_its_holder_only(app, api, session):
    member = _member(session, 9509)
    other = _member(session, 9510, None)
    mine = _signed_up(session, member, _now() - 20 * MINUTE)
    theirs = _signed_up(session, other, _now() - 20 * MINUTE)
    token = make_token(app, "volunteer@demo.kz")

    _refused(api.post(f"/api/v1/me/signups/{theirs}/check-in", token=token), 404)
    tapped = (_now() - 15 * MINUTE).isoformat()
    done = api.post(f"/api/v1/me/signups/{mine}/check-in", {"tapped_at": tapped}, token=token)
    assert done.status_code == 200, done.text
    assert (done.get_json()["status"], done.get_json()["checked_in_offline"]) == (
        "checked_in",
        True,
    )
    listed = api.get(f"/api/v1/me/shifts?member_id={member.id}&status=checked_in", token=token)
    assert [s["id"] for s in listed.get_json()["items"]] == [mine]
    # One check-in in the audit trail, of my own sign-up only.
    session.rollback()
    assert audit_count(session, "signup.check_in", "signup", mine) == 1
    assert audit_count(session, "signup.check_in", "signup", theirs) == 0
