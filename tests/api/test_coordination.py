"""The coordinator's API: applications and their steps, confirmations, shifts and attendance.

Same rights as the pages: records outside the caller's jurisdiction are 404, a wrong role is a
403, an irreversible step unconfirmed is a 409 that changes nothing; ten confirm/reject posts
of one contribution at once have one effect and one audit event (PostgreSQL).
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core import audit, clock, places
from core.db import utcnow
from core.iin import mask_iin
from tests.api.conftest import Api, make_token
from tests.conftest import audit_count, engine_of, login_as, race, same_browser, translated
from tests.factories.volunteers import fields, iin_for, make_member, unit, user
from volunteers import contributions, enrolment, shifts
from volunteers.activity_models import Contribution, Signup
from volunteers.models import Application

HOME = "354030100"  # a village of Bukhar-Zhyrau district: the demo coordinator's jurisdiction
FOREIGN = "355630100"  # Osakarovka: another district of the region (the registrar's)
PROBLEM = "application/problem+json"


def _application(s: Session, serial: int, kato: str = HOME, *, step: str = "submitted") -> int:
    app = enrolment.submit_application(
        s, **fields(s, iin=iin_for(serial), unit_id=unit(s, kato).id, email=None)
    )
    coordinator = user(s, "coordinator@demo.kz")
    if step in ("police_check", "passed"):
        enrolment.take_check(s, application_id=app.id, actor_id=coordinator.id)
    if step == "passed":
        enrolment.record_check(
            s, application_id=app.id, passed=True, reason=None, actor_id=coordinator.id
        )
    s.commit()
    return app.id


def _logged(s: Session, serial: int, kato: str = HOME, *, by: str = "registrar@demo.kz") -> int:
    """A member of ``kato`` and one contribution of theirs logged by ``by`` (committed)."""
    member = make_member(s, serial, kato=kato)
    today = clock.local_date(utcnow())
    logged = contributions.log_contribution(
        s,
        member_id=member.id,
        kind="offense_reported",
        occurred_on=today,
        minutes=None,
        description="Бұзушылық туралы 102-ге хабарлады",
        reference=f"KUSP-2026-{serial}",
        actor_id=user(s, by).id,
        today=today,
    )
    s.commit()
    return logged.id


class _Caller(Api):
    """An API client acting as one person: by a session of their own, or by an access token."""

    def __init__(self, app, login: str, *, token: str | None = None):
        super().__init__(app.test_client())
        self.token = token
        if token is None:
            login_as(self.client, login)

    def get(self, url: str, **kw):
        return super().get(url, token=self.token, **kw)

    def post(self, url: str, json=None, **kw):
        return super().post(url, json, token=self.token, **kw)


def _callers(app, via: str = "session") -> dict[str, _Caller]:
    """The demo coordinator, registrar, volunteer and deputy as API callers."""
    return {
        role: _Caller(
            app,
            f"{role}@demo.kz",
            token=make_token(app, f"{role}@demo.kz") if via == "token" else None,
        )
        for role in ("coordinator", "registrar", "volunteer", "deputy")
    }


def _refused(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.content_type.startswith(PROBLEM), response.content_type
    return response.get_json()


# ---- applications ---------------------------------------------------------------------------


def test_applications_queue_is_scoped_paged_and_shows_no_iin(app, api, session):
    mine = _application(session, 9401)
    foreign = _application(session, 9402, FOREIGN)
    iin = session.get(Application, mine).iin
    caller = _callers(app)

    seen, cursor, pages = [], None, 0
    while True:
        url = "/api/v1/applications?limit=7" + (f"&cursor={cursor}" if cursor else "")
        response = caller["coordinator"].get(url)
        assert response.status_code == 200, response.text
        body = response.get_json()
        assert len(body["items"]) <= 7
        seen += body["items"]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    ids = [a["id"] for a in seen]
    assert len(ids) == len(set(ids)) and ids == sorted(ids)  # oldest first, none twice
    in_progress = session.scalar(
        select(func.count())
        .select_from(Application)
        .join(places.AdminUnit, places.AdminUnit.id == Application.unit_id)
        .where(
            Application.status.in_(("submitted", "police_check", "petitioned")),
            places.AdminUnit.path.startswith(unit(session, "354000000").path),
        )
    )
    assert len(seen) == in_progress > 7  # every page read, each once
    assert pages == -(-in_progress // 7)
    assert mine in ids and foreign not in ids
    assert {a["status"] for a in seen} <= {"submitted", "police_check", "petitioned"}
    for item in seen:  # the list page shows neither the IIN nor the contacts
        assert not {"iin", "iin_masked", "phone", "email", "address"} & item.keys()
    assert iin not in str(seen)
    district = unit(session, "354000000").id
    assert all(places.within(session, u, [district]) for u in {a["unit_id"] for a in seen})
    assert all(a["unit_name"] for a in seen)

    # The registrar of the region sees both districts; a status filters.
    registrar = caller["registrar"].get("/api/v1/applications?limit=100").get_json()
    registrar_ids = {a["id"] for a in registrar["items"]}
    cursor = registrar["next_cursor"]
    while cursor:
        page = caller["registrar"].get(f"/api/v1/applications?limit=100&cursor={cursor}")
        registrar_ids |= {a["id"] for a in page.get_json()["items"]}
        cursor = page.get_json()["next_cursor"]
    assert {mine, foreign} <= registrar_ids
    registered = caller["coordinator"].get("/api/v1/applications?status=registered")
    assert registered.status_code == 200
    assert {a["status"] for a in registered.get_json()["items"]} == {"registered"}
    found = caller["coordinator"].get(f"/api/v1/applications?q={iin}").get_json()
    assert [a["id"] for a in found["items"]] == [mine]

    # Bad filters are a translated 422 naming the parameter; a wrong role is a 403.
    bad = _refused(caller["coordinator"].get("/api/v1/applications?status=lost"), 422)
    assert bad["errors"][0]["parameter"] == "status"
    bad = _refused(caller["coordinator"].get("/api/v1/applications?cursor=nonsense"), 422)
    assert bad["errors"][0]["parameter"] == "cursor"
    _refused(caller["volunteer"].get("/api/v1/applications"), 403)
    _refused(caller["deputy"].get("/api/v1/applications"), 403)
    _refused(api.get("/api/v1/applications"), 401)


def test_an_application_shows_its_iin_masked_and_a_foreign_one_is_not_found(app, api, session):
    mine = _application(session, 9403)
    foreign = _application(session, 9404, FOREIGN)
    iin = session.get(Application, mine).iin
    caller = _callers(app)

    response = caller["coordinator"].get(f"/api/v1/applications/{mine}")
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["iin_masked"] == mask_iin(iin) and iin not in response.text
    assert body["status"] == "submitted" and body["actions"] == ["take"]
    assert body["full_name"] == "Сапар Айбек" and body["member_id"] is None
    assert [c["version"] for c in body["consents"]]
    # The registrar reads it but has no step to take on a submitted application.
    as_registrar = caller["registrar"].get(f"/api/v1/applications/{mine}").get_json()
    assert as_registrar["actions"] == []

    for url in (f"/api/v1/applications/{foreign}", "/api/v1/applications/99999999"):
        body = _refused(caller["coordinator"].get(url, lang="ru"), 404)
        assert body["status"] == 404 and body["detail"]
    _refused(caller["coordinator"].post(f"/api/v1/applications/{foreign}/take"), 404)
    _refused(caller["volunteer"].get(f"/api/v1/applications/{mine}"), 403)
    session.rollback()
    assert session.get(Application, foreign).status == "submitted"


def test_the_steps_of_an_application_as_its_page_offers_them(app, api, session):
    app_id = _application(session, 9405)
    caller = _callers(app)
    coordinator, registrar = caller["coordinator"], caller["registrar"]
    url = f"/api/v1/applications/{app_id}"

    taken = coordinator.post(f"{url}/take")
    assert taken.status_code == 200, taken.text
    assert taken.get_json()["status"] == "police_check"
    assert taken.get_json()["actions"] == ["pass", "refuse"]
    _refused(coordinator.post(f"{url}/take"), 409)  # already taken

    # Irreversible: without "confirmed" the 409 says what it would do, and nothing is done.
    unconfirmed = _refused(coordinator.post(f"{url}/pass", lang="kk"), 409)
    session.rollback()
    name = session.get(Application, app_id).full_name
    assert name in unconfirmed["detail"]
    assert unconfirmed["errors"][0]["pointer"] == "/confirmed"
    assert session.get(Application, app_id).check_outcome is None
    _refused(coordinator.post(f"{url}/pass", {"confirmed": "maybe"}), 422)
    _refused(registrar.post(f"{url}/pass", {"confirmed": True}), 403)

    passed = coordinator.post(f"{url}/pass", {"confirmed": True})
    assert passed.status_code == 200, passed.text
    assert passed.get_json()["check_outcome"] == "passed"
    assert passed.get_json()["actions"] == ["petition"]
    _refused(registrar.post(f"{url}/petition"), 403)
    petitioned = coordinator.post(f"{url}/petition")
    assert petitioned.status_code == 200, petitioned.text
    assert petitioned.get_json()["status"] == "petitioned"
    assert petitioned.get_json()["registration_due_on"]

    _refused(coordinator.post(f"{url}/register", {"confirmed": True}), 403)
    waiting = _refused(registrar.post(f"{url}/register", lang="ru"), 409)
    assert name in waiting["detail"]
    session.rollback()
    assert session.get(Application, app_id).status == "petitioned"
    registered = registrar.post(f"{url}/register", {"confirmed": True})
    assert registered.status_code == 200, registered.text
    body = registered.get_json()
    assert body["status"] == "registered" and body["member_id"] and body["certificate_no"]
    _refused(registrar.post(f"{url}/register", {"confirmed": True}), 409)

    session.rollback()
    for action in ("take_check", "check_passed", "petition", "register"):
        assert audit_count(session, f"application.{action}", "application", app_id) == 1


def test_a_refusal_needs_its_reason_and_a_confirmation(app, api, session):
    app_id = _application(session, 9406, step="police_check")
    coordinator = _callers(app)["coordinator"]
    url = f"/api/v1/applications/{app_id}/refuse"

    missing = _refused(coordinator.post(url, {"confirmed": True}), 422)
    assert missing["errors"][0]["pointer"] == "/reason"
    blank = _refused(coordinator.post(url, {"reason": "  ", "confirmed": True}), 422)
    assert blank["detail"] == translated(app, "A refusal needs a written reason.", "kk")
    reason = "Тексеру нәтижесі теріс (Заңның 12-бабы)"
    unconfirmed = _refused(coordinator.post(url, {"reason": reason}), 409)
    assert unconfirmed["errors"][0]["pointer"] == "/confirmed"
    session.rollback()
    assert session.get(Application, app_id).status == "police_check"

    refused = coordinator.post(url, {"reason": reason, "confirmed": True})
    assert refused.status_code == 200, refused.text
    assert refused.get_json()["status"] == "refused"
    assert refused.get_json()["refusal_reason"] == reason
    assert refused.get_json()["actions"] == []
    session.rollback()
    assert audit_count(session, "application.refuse", "application", app_id) == 1


def test_a_token_acts_within_its_own_grants_only(app, session):
    mine = _application(session, 9407)
    foreign = _application(session, 9408, FOREIGN)
    district = unit(session, "354000000").id
    registrar = "registrar@demo.kz"
    narrowed = _Caller(app, registrar, token=make_token(app, registrar, [("registrar", district)]))
    whole = _Caller(app, registrar, token=make_token(app, registrar))
    coordinator = _Caller(app, "coordinator@demo.kz", token=make_token(app, "coordinator@demo.kz"))

    assert narrowed.get(f"/api/v1/applications/{mine}").status_code == 200
    _refused(narrowed.get(f"/api/v1/applications/{foreign}"), 404)
    assert whole.get(f"/api/v1/applications/{foreign}").status_code == 200
    search = f"/api/v1/applications?q={session.get(Application, foreign).iin}"
    assert narrowed.get(search).get_json()["items"] == []
    assert [a["id"] for a in whole.get(search).get_json()["items"]] == [foreign]
    _refused(whole.post(f"/api/v1/applications/{mine}/take"), 403)
    taken = coordinator.post(f"/api/v1/applications/{mine}/take")
    assert taken.status_code == 200, taken.text
    session.rollback()
    assert session.get(Application, mine).status == "police_check"


# ---- contributions --------------------------------------------------------------------------


def test_the_confirmation_queue_confirm_and_reject(app, api, session):
    first = _logged(session, 9411)
    second = _logged(session, 9412)
    own = _logged(session, 9413, by="coordinator@demo.kz")
    foreign = _logged(session, 9414, FOREIGN)
    caller = _callers(app)
    coordinator = caller["coordinator"]

    queue = coordinator.get("/api/v1/contributions?limit=100")
    assert queue.status_code == 200, queue.text
    items = {c["id"]: c for c in queue.get_json()["items"]}
    assert {first, second, own} <= items.keys() and foreign not in items
    assert items[first]["status"] == "logged" and items[first]["kind_name"]
    assert items[first]["member_name"] and items[first]["possible_duplicate"] is False
    assert items[first]["yours"] is False and items[own]["yours"] is True
    paged = coordinator.get("/api/v1/contributions?limit=1").get_json()
    assert len(paged["items"]) == 1 and paged["next_cursor"]
    later = coordinator.get(f"/api/v1/contributions?limit=1&cursor={paged['next_cursor']}")
    assert later.get_json()["items"][0]["id"] > paged["items"][0]["id"]

    confirmed = coordinator.post(f"/api/v1/contributions/{first}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.get_json()["status"] == "confirmed"
    assert confirmed.get_json()["points"] is not None
    _refused(coordinator.post(f"/api/v1/contributions/{first}/confirm"), 409)

    missing = _refused(coordinator.post(f"/api/v1/contributions/{second}/reject"), 422)
    assert missing["errors"][0]["pointer"] == "/reason"
    rejected = coordinator.post(f"/api/v1/contributions/{second}/reject", {"reason": "Дәлел жоқ"})
    assert rejected.status_code == 200, rejected.text
    assert rejected.get_json()["status"] == "rejected"
    assert rejected.get_json()["rejection_reason"] == "Дәлел жоқ"

    # Four eyes: not one's own; outside the jurisdiction it does not exist; wrong roles: 403.
    _refused(coordinator.post(f"/api/v1/contributions/{own}/confirm"), 403)
    _refused(coordinator.post(f"/api/v1/contributions/{foreign}/confirm"), 404)
    _refused(
        coordinator.post(f"/api/v1/contributions/{foreign}/reject", {"reason": "x"}),
        404,
    )
    _refused(caller["registrar"].post(f"/api/v1/contributions/{own}/confirm"), 403)
    _refused(caller["volunteer"].get("/api/v1/contributions"), 403)
    _refused(coordinator.get("/api/v1/contributions?status=lost"), 422)

    decided = coordinator.get("/api/v1/contributions?status=confirmed&limit=100")
    assert first in {c["id"] for c in decided.get_json()["items"]}
    session.rollback()
    assert session.get(Contribution, foreign).status == "logged"
    assert session.get(Contribution, own).status == "logged"
    assert audit_count(session, "contribution.confirm", "contribution", first) == 1
    assert audit_count(session, "contribution.reject", "contribution", second) == 1


@pytest.mark.both_databases  # savepoints per id under the audit chain's lock
def test_bulk_confirm_answers_for_each_id(app, api, session):
    first = _logged(session, 9421)
    second = _logged(session, 9422)
    own = _logged(session, 9423, by="coordinator@demo.kz")
    foreign = _logged(session, 9424, FOREIGN)
    coordinator = _callers(app)["coordinator"]

    response = coordinator.post(
        "/api/v1/contributions/confirm",
        {"ids": [first, foreign, second, own, 99999999, first]},
        lang="ru",
    )

    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["confirmed"] == [first, second]
    refused = {r["id"]: r for r in body["refused"]}
    assert refused.keys() == {foreign, own, 99999999}
    no_such = translated(app, "No such contribution.", "ru")
    assert refused[foreign] == {"id": foreign, "status": 404, "detail": no_such}
    assert refused[99999999]["detail"] == no_such  # a foreign id looks like a missing one
    assert refused[own]["status"] == 403
    assert refused[own]["detail"] == translated(
        app, "You cannot decide on a contribution that is yours or that you logged.", "ru"
    )
    session.rollback()
    assert session.get(Contribution, first).status == "confirmed"
    assert session.get(Contribution, second).status == "confirmed"
    assert session.get(Contribution, foreign).status == "logged"
    assert session.get(Contribution, own).status == "logged"
    assert audit_count(session, "contribution.confirm", "contribution", first) == 1
    assert audit_count(session, "contribution.confirm", "contribution", foreign) == 0
    assert audit.verify_chain(session).ok

    too_many = {"ids": list(range(1, 102))}
    for bad in ({"ids": []}, {"ids": ["x"]}, {}, too_many, {"ids": [2**40]}):
        refusal = _refused(coordinator.post("/api/v1/contributions/confirm", bad, lang="ru"), 422)
        assert refusal["errors"][0]["pointer"].startswith("/ids"), refusal


@pytest.mark.both_databases
def test_ten_confirm_and_reject_posts_at_once_have_one_effect(pg_app):
    engine = engine_of(pg_app)
    with Session(engine) as s:
        contribution_id = _logged(s, 9431)
    coordinator = pg_app.test_client()
    login_as(coordinator, "coordinator@demo.kz")
    clients = [Api(same_browser(coordinator)) for _ in range(10)]
    url = f"/api/v1/contributions/{contribution_id}"

    def post(i: int):
        if i % 2:
            return clients[i].post(f"{url}/reject", {"reason": "Қайталанған"})
        return clients[i].post(f"{url}/confirm")

    responses = race(10, post)

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9, [
        r.text for r in responses
    ]
    assert all(r.content_type.startswith(PROBLEM) for r in responses if r.status_code == 409)
    with Session(engine) as s:
        decided = s.get(Contribution, contribution_id)
        won = next(r for r in responses if r.status_code == 200).get_json()
        assert decided.status == won["status"] in ("confirmed", "rejected")
        confirms = audit_count(s, "contribution.confirm", "contribution", contribution_id)
        rejects = audit_count(s, "contribution.reject", "contribution", contribution_id)
        assert confirms + rejects == 1
        assert audit.verify_chain(s).ok


# ---- shifts and attendance ------------------------------------------------------------------


def _running_shift(s: Session, serial: int, kato: str = HOME) -> tuple[int, int, int]:
    """A shift that began an hour ago: one member checked in and out offline, one online."""
    coordinator = user(s, "coordinator@demo.kz")
    start = utcnow().replace(microsecond=0) - dt.timedelta(hours=1)
    planned_at = start - dt.timedelta(days=1)
    shift = shifts.plan_shift(
        s,
        unit_id=unit(s, kato).id,
        patrol_unit_id=None,
        place="Ботақара, орталық алаң",
        starts_at=start,
        ends_at=start + dt.timedelta(hours=4),
        capacity=3,
        supervisor_id=coordinator.id,
        actor_id=coordinator.id,
        now=planned_at,
    )[0]
    today = clock.local_date(utcnow())
    offline = make_member(s, serial, kato=kato, today=today - dt.timedelta(days=2))
    online = make_member(s, serial + 1, kato=kato, today=today - dt.timedelta(days=2))
    ids = []
    for member in (offline, online):
        signup = shifts.sign_up(
            s, shift_id=shift.id, member_id=member.id, actor_id=coordinator.id, now=planned_at
        )
        ids.append(signup.id)
    shifts.check_in(
        s,
        signup_id=ids[0],
        actor_id=coordinator.id,
        now=start + dt.timedelta(minutes=20),
        tapped_at=start + dt.timedelta(minutes=5),
    )
    shifts.check_out(
        s,
        signup_id=ids[0],
        actor_id=coordinator.id,
        now=start + dt.timedelta(minutes=50),
        tapped_at=start + dt.timedelta(minutes=45),
    )
    shifts.check_in(
        s,
        signup_id=ids[1],
        actor_id=coordinator.id,
        now=start + dt.timedelta(minutes=10),
        latitude=49.95,
        longitude=73.10,
    )
    s.commit()
    return shift.id, ids[0], ids[1]


def test_a_shift_lists_its_attendance_with_the_offline_marks(app, api, session):
    shift_id, offline, online = _running_shift(session, 9441)
    foreign_id, _a, _b = _running_shift(session, 9451, FOREIGN)
    caller = _callers(app)

    response = caller["coordinator"].get(f"/api/v1/shifts/{shift_id}")
    assert response.status_code == 200, response.text
    body = response.get_json()
    assert body["place"] == "Ботақара, орталық алаң" and body["capacity"] == 3
    assert body["supervisor_name"] == user(session, "coordinator@demo.kz").full_name
    signups = {s["id"]: s for s in body["signups"]}
    assert signups[offline]["status"] == "completed"
    assert signups[offline]["checked_in_offline"] is True
    assert signups[offline]["checked_out_offline"] is True
    assert signups[offline]["located"] is False
    assert signups[online]["status"] == "checked_in"
    assert signups[online]["checked_in_offline"] is False
    assert signups[online]["checked_out_offline"] is False
    assert signups[online]["located"] is True
    assert signups[online]["checked_out_at"] is None
    recorded = session.get(Signup, offline)
    assert dt.datetime.fromisoformat(signups[offline]["checked_in_at"]) == recorded.checked_in_at
    assert signups[offline]["member_name"] == recorded.member.full_name
    assert "latitude" not in str(body)

    _refused(caller["coordinator"].get(f"/api/v1/shifts/{foreign_id}"), 404)
    _refused(caller["coordinator"].get("/api/v1/shifts/99999999"), 404)
    _refused(caller["registrar"].get(f"/api/v1/shifts/{shift_id}"), 403)
    _refused(caller["volunteer"].get("/api/v1/shifts"), 403)


def test_the_shifts_list_is_scoped_and_filtered(app, api, session):
    shift_id, _a, _b = _running_shift(session, 9461)
    foreign_id, _c, _d = _running_shift(session, 9471, FOREIGN)
    coordinator = _callers(app)["coordinator"]
    today = clock.local_date(utcnow())

    def listed(query: str = "") -> set[int]:
        response = coordinator.get(f"/api/v1/shifts?limit=100{query}")
        assert response.status_code == 200, response.text
        return {s["id"] for s in response.get_json()["items"]}

    everything = listed()
    assert shift_id in everything and foreign_id not in everything
    starts = session.get(Signup, _a).shift.starts_at.astimezone(clock.zone()).date()
    assert shift_id in listed(f"&from={starts}&to={starts}")
    assert shift_id not in listed(f"&from={starts + dt.timedelta(days=1)}")
    assert shift_id not in listed(f"&to={starts - dt.timedelta(days=1)}")
    assert shift_id in listed(f"&unit_id={unit(session, HOME).id}")
    assert not listed(f"&unit_id={unit(session, '354081100').id}") & {shift_id}
    # Another district's unit: nothing of it, as the page shows nothing.
    assert listed(f"&unit_id={unit(session, FOREIGN).id}") == set()
    item = coordinator.get("/api/v1/shifts?limit=1").get_json()
    assert (
        len(item["items"]) == 1 and {"starts_at", "taken", "unit_name"} <= item["items"][0].keys()
    )

    bad = _refused(
        coordinator.get(f"/api/v1/shifts?from={today}&to={today - dt.timedelta(days=1)}"),
        422,
    )
    assert bad["errors"][0]["parameter"] == "to"
    _refused(coordinator.get("/api/v1/shifts?from=yesterday"), 422)
    # The ends of the calendar are no bound at all, not an error of the server.
    assert shift_id in listed("&from=0001-01-01&to=9999-12-31")
    _refused(coordinator.get("/api/v1/shifts?unit_id=99999999999"), 422)
    _refused(coordinator.get("/api/v1/shifts?unit_id=0"), 422)


def test_the_shift_page_marks_times_recorded_offline(app, client, session):
    shift_id, _offline, _online = _running_shift(session, 9481)
    login_as(client, "coordinator@demo.kz")

    page = client.get(f"/shifts/{shift_id}")

    assert page.status_code == 200
    mark = translated(app, "recorded offline", "kk")
    # The offline member's check-in and check-out; not the other member's check-in.
    assert page.text.count(mark) == 2
    assert page.text.count('class="badge text-bg-secondary signup-offline"') == 2


def test_the_document_describes_the_coordinators_operations(app, client):
    document = client.get("/api/v1/openapi.json").get_json()
    paths = document["paths"]
    for path, method, roles in (
        ("/api/v1/applications", "get", ["coordinator", "registrar"]),
        ("/api/v1/applications/{application_id}/pass", "post", ["coordinator"]),
        ("/api/v1/applications/{application_id}/register", "post", ["registrar"]),
        ("/api/v1/contributions/confirm", "post", ["coordinator"]),
        ("/api/v1/contributions/{contribution_id}/reject", "post", ["coordinator"]),
        ("/api/v1/shifts/{shift_id}", "get", ["coordinator"]),
    ):
        assert paths[path][method]["x-roles"] == roles, path
    shift_filters = {p["name"] for p in paths["/api/v1/shifts"]["get"]["parameters"]}
    assert {"from", "to", "unit_id", "cursor", "limit"} <= shift_filters
    attendance = document["components"]["schemas"]["ShiftAttendance"]["properties"]
    assert {"checked_in_offline", "checked_out_offline", "located"} <= attendance.keys()


@pytest.mark.both_databases
@pytest.mark.parametrize(
    ("step", "who", "action", "body", "event"),
    [
        ("submitted", "coordinator@demo.kz", "take", None, "application.take_check"),
        ("passed", "coordinator@demo.kz", "petition", None, "application.petition"),
        (
            "petitioned",
            "registrar@demo.kz",
            "register",
            {"confirmed": True},
            "application.register",
        ),
    ],
)
def test_ten_posts_of_one_application_step_at_once_have_one_effect(
    pg_app, step, who, action, body, event
):
    """A double tap or ten integrations at once: the step is taken once, the rest get 409."""
    engine = engine_of(pg_app)
    with Session(engine) as s:
        app_id = _application(s, 9460, step="passed" if step == "petitioned" else step)
        if step == "petitioned":
            enrolment.petition(s, application_id=app_id, actor_id=user(s, "coordinator@demo.kz").id)
            s.commit()
    caller = pg_app.test_client()
    login_as(caller, who)
    clients = [Api(same_browser(caller)) for _ in range(10)]

    responses = race(10, lambda i: clients[i].post(f"/api/v1/applications/{app_id}/{action}", body))

    assert not [r for r in responses if isinstance(r, Exception)], responses
    assert sorted(r.status_code for r in responses) == [200] + [409] * 9, [
        r.text for r in responses
    ]
    with Session(engine) as s:
        assert audit_count(s, event, "application", app_id) == 1
        if action == "register":
            from volunteers.models import Member

            members = s.scalar(
                select(func.count()).select_from(Member).where(Member.application_id == app_id)
            )
            assert members == 1
        assert audit.verify_chain(s).ok
