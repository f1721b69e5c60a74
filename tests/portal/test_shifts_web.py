"""Shift and contribution screens: the volunteer on the phone, the coordinator, the admin."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from core import clock
from core.audit import AuditEvent
from core.db import utcnow
from tests.conftest import login, login_as, translated
from tests.factories.accounts import official
from tests.factories.volunteers import make_member, unit, user
from volunteers import shifts
from volunteers.activity_models import Contribution, ContributionKind, Shift, Signup


def _tomorrow_local():
    return clock.local_date(utcnow()) + dt.timedelta(days=1)


def _shift_form(session, **overrides):
    data = {
        "unit_id": unit(session, "354030100").id,
        "patrol_unit_id": 0,
        "place": "Ботақара, орталық алаң",
        "day": _tomorrow_local().isoformat(),
        "start": "19:00",
        "end": "23:00",
        "capacity": "2",
        "supervisor_id": 0,
        "repeat_weeks": "0",
    }
    data.update(overrides)
    return data


def _volunteer_member(session):
    """The demo volunteer's membership (the demo register has one; else make it)."""
    from volunteers.models import Member

    volunteer = user(session, "volunteer@demo.kz")
    member = session.scalars(
        select(Member).where(Member.user_id == volunteer.id, Member.status == "active")
    ).first()
    if member is None:
        member = make_member(session, 9101, applicant=volunteer, today=clock.local_date(utcnow()))
        session.commit()
    return volunteer, member


def test_coordinator_plans_and_bad_input_is_refused(app, client, session):
    login_as(client, "coordinator@demo.kz")
    assert client.get("/shifts/new").status_code == 200
    bad = [  # a domain rule's message, or None for a field the form itself marks invalid
        ({"end": "18:00"}, "A shift must end after it starts."),
        ({"capacity": "0"}, None),
        (
            {"day": (_tomorrow_local() - dt.timedelta(days=3)).isoformat()},
            "A shift cannot start in the past.",
        ),
        ({"unit_id": unit(session, "355630100").id}, None),
    ]
    for overrides, message in bad:
        response = client.post("/shifts/new", data=_shift_form(session, **overrides))
        assert response.status_code in (400, 422), overrides
        if message:
            assert translated(app, message, "kk") in response.text
        else:
            assert "is-invalid" in response.text
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Shift)) == 0
    response = client.post("/shifts/new", data=_shift_form(session, repeat_weeks="2"))
    assert response.status_code == 302
    session.rollback()
    planned = session.scalars(select(Shift).order_by(Shift.starts_at)).all()
    assert len(planned) == 3
    local = planned[0].starts_at.astimezone(clock.zone())
    assert (local.date(), local.hour) == (_tomorrow_local(), 19)
    page = client.get(f"/shifts/{planned[0].id}")
    assert page.status_code == 200 and "Ботақара, орталық алаң" in page.text


def test_volunteer_signs_up_on_the_phone_and_duplicate_is_refused(app, client, session):
    _volunteer, member = _volunteer_member(session)
    coordinator = user(session, "coordinator@demo.kz")
    now = utcnow()
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place="Мектеп маңы",
        starts_at=now + dt.timedelta(days=1),
        ends_at=now + dt.timedelta(days=1, hours=3),
        capacity=1,
        supervisor_id=None,
        actor_id=coordinator.id,
        now=now,
    )
    session.commit()
    login_as(client, "volunteer@demo.kz")
    page = client.get("/my/shifts")
    assert page.status_code == 200 and "Мектеп маңы" in page.text
    assert client.post(f"/my/shifts/{shift.id}/sign-up", data={}).status_code == 302
    again = client.post(f"/my/shifts/{shift.id}/sign-up", data={})
    assert again.status_code == 409
    session.rollback()
    signup = session.scalars(select(Signup)).one()
    assert signup.member_id == member.id
    # Too early to check in: a translated message and 409, nothing changes.
    early = client.post(f"/my/signups/{signup.id}/check-in", data={})
    assert early.status_code == 409
    session.rollback()
    assert session.get(Signup, signup.id).status == "signed_up"
    # Someone else's sign-up is not found.
    client.post("/logout")
    login_as(client, "coordinator@demo.kz")
    assert client.post(f"/my/signups/{signup.id}/cancel", data={}).status_code == 404


def test_check_in_with_location_and_check_out(app, client, session):
    _volunteer, member = _volunteer_member(session)
    coordinator = user(session, "coordinator@demo.kz")
    now = utcnow()
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place="Саябақ",
        starts_at=now + dt.timedelta(minutes=10),
        ends_at=now + dt.timedelta(hours=2),
        capacity=3,
        supervisor_id=None,
        actor_id=coordinator.id,
        now=now,
    )
    signup = shifts.sign_up(
        session, shift_id=shift.id, member_id=member.id, actor_id=member.user_id, now=now
    )
    session.commit()
    login_as(client, "volunteer@demo.kz")
    response = client.post(
        f"/my/signups/{signup.id}/check-in",
        data={"share_location": "y", "latitude": "49.95", "longitude": "73.10"},
    )
    assert response.status_code == 302
    session.rollback()
    checked = session.get(Signup, signup.id)
    assert checked.status == "checked_in" and checked.latitude_e6 == 49_950_000
    # Minutes after the check-in: the check-out is confirmed first (issue 19, finding 4).
    early = {"confirmed": "yes"}
    assert client.post(f"/my/signups/{signup.id}/check-out", data=early).status_code == 302
    session.rollback()
    assert session.get(Signup, signup.id).status == "completed"


def test_contribution_logged_confirmed_by_another_coordinator_only(app, client, session):
    _volunteer, member = _volunteer_member(session)
    login_as(client, "volunteer@demo.kz")
    today = clock.local_date(utcnow())
    future = client.post(
        "/my/contributions",
        data={
            "kind": "preventive_event",
            "occurred_on": (today + dt.timedelta(days=1)).isoformat(),
            "description": "Мектепте дәріс",
        },
    )
    assert future.status_code == 422
    assert translated(app, "A contribution cannot be dated in the future.", "kk") in future.text
    unknown = client.post(
        "/my/contributions",
        data={"kind": "nonsense", "occurred_on": today.isoformat(), "description": "x"},
    )
    assert unknown.status_code == 400
    ok = client.post(
        "/my/contributions",
        data={
            "kind": "preventive_event",
            "occurred_on": today.isoformat(),
            "description": "Мектепте құқықтық дәріс",
            "status": "confirmed",  # ignored: the form has no such field
            "points": "999",
        },
    )
    assert ok.status_code == 302
    session.rollback()
    contribution = session.scalars(select(Contribution)).one()
    assert (contribution.status, contribution.points) == ("logged", None)
    client.post("/logout")
    login_as(client, "coordinator@demo.kz")
    queue = client.get("/contributions/queue")
    assert queue.status_code == 200 and "Мектепте құқықтық дәріс" in queue.text
    response = client.post(
        "/contributions/queue", data={"action": "confirm", "ids": [str(contribution.id)]}
    )
    assert response.status_code == 302
    session.rollback()
    confirmed = session.get(Contribution, contribution.id)
    assert (confirmed.status, confirmed.points) == ("confirmed", 2)
    history = client.get(f"/volunteers/members/{member.id}/contributions")
    assert history.status_code == 200
    # What the coordinator logs, the coordinator cannot confirm.
    logged = client.post(
        f"/volunteers/members/{member.id}/contributions",
        data={
            "kind": "offense_reported",
            "occurred_on": today.isoformat(),
            "description": "102-ге хабарлады",
            "reference": "KUSP-77",
        },
    )
    assert logged.status_code == 302
    session.rollback()
    own = session.scalars(select(Contribution).where(Contribution.status == "logged")).one()
    refused = client.post("/contributions/queue", data={"action": "confirm", "ids": [str(own.id)]})
    assert refused.status_code == 403
    session.rollback()
    assert session.get(Contribution, own.id).status == "logged"


def test_other_district_coordinator_sees_nothing(app, client, session):
    coordinator = user(session, "coordinator@demo.kz")
    now = utcnow()
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place="Құпия орын",
        starts_at=now + dt.timedelta(days=2),
        ends_at=now + dt.timedelta(days=2, hours=2),
        capacity=3,
        supervisor_id=None,
        actor_id=coordinator.id,
        now=now,
    )
    official(
        session,
        "far-coordinator@demo.kz",
        "coordinator",
        unit(session, "355600000").id,
        password="far coordinator 12",
        full_name="Алыс Үйлестіруші",
    )
    session.commit()
    login(client, "far-coordinator@demo.kz", "far coordinator 12")
    assert client.get(f"/shifts/{shift.id}").status_code == 404
    assert client.get(f"/shifts/{shift.id}/edit").status_code == 404
    listing = client.get("/shifts")
    assert listing.status_code == 200 and "Құпия орын" not in listing.text
    assert client.post(f"/shifts/{shift.id}/cancel", data={"reason": "x"}).status_code == 404


def test_volunteer_without_role_cannot_reach_coordinator_pages(app, client, session):
    login_as(client, "volunteer@demo.kz")
    for path in ("/shifts", "/shifts/new", "/contributions/queue", "/shifts/summary"):
        assert client.get(path).status_code == 403, path


def test_summary_shows_hours_and_kinds(app, client, session):
    _volunteer, member = _volunteer_member(session)
    today = clock.local_date(utcnow())
    session.add(
        Contribution(
            member_id=member.id,
            unit_id=member.unit_id,
            kind="patrol_hours",
            occurred_on=today,
            minutes=150,
            description="Патруль",
            status="logged",
        )
    )
    session.commit()
    login_as(client, "coordinator@demo.kz")
    page = client.get("/shifts/summary")
    assert page.status_code == 200
    assert "2:30" in page.text and "2.5" not in page.text  # h:mm in the chart and the table


def test_admin_edits_contribution_kinds(app, client, session):
    login_as(client, "admin@demo.kz")
    assert client.get("/admin/contribution-kinds").status_code == 200
    response = client.post(
        "/admin/contribution-kinds",
        data={
            "code": "fire_watch",
            "name_kk": "Өрт күзеті",
            "name_ru": "Пожарный дозор",
            "name_en": "Fire watch",
            "measure": "count",
            "points": "2",
            "active": "y",
            "position": "90",
        },
    )
    assert response.status_code == 302
    bad = client.post(
        "/admin/contribution-kinds",
        data={
            "code": "Bad Code!",
            "name_kk": "a",
            "name_ru": "a",
            "name_en": "a",
            "measure": "count",
            "points": "1",
        },
    )
    assert bad.status_code == 422
    session.rollback()
    assert session.get(ContributionKind, "fire_watch").name_ru == "Пожарный дозор"
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "contribution_kind.save")
        )
        == 1
    )


def test_cancelling_in_the_browser_tells_the_volunteer_in_their_language(app, client, session):
    from core.notifications import Notification
    from tests.conftest import wait_for_jobs

    volunteer, member = _volunteer_member(session)
    coordinator = user(session, "coordinator@demo.kz")
    now = utcnow()
    (shift,) = shifts.plan_shift(
        session,
        unit_id=unit(session, "354030100").id,
        patrol_unit_id=None,
        place="Ауыл клубы",
        starts_at=now + dt.timedelta(days=3),
        ends_at=now + dt.timedelta(days=3, hours=2),
        capacity=2,
        supervisor_id=None,
        actor_id=coordinator.id,
        now=now,
    )
    shifts.sign_up(session, shift_id=shift.id, member_id=member.id, actor_id=volunteer.id, now=now)
    session.commit()
    login_as(client, "coordinator@demo.kz")
    assert client.post(f"/shifts/{shift.id}/cancel", data={"reason": ""}).status_code == 400
    response = client.post(f"/shifts/{shift.id}/cancel", data={"reason": "Боран"})
    assert response.status_code == 302
    wait_for_jobs(app)
    session.rollback()
    note = session.scalars(
        select(Notification).where(
            Notification.user_id == volunteer.id, Notification.kind == "shift.cancelled"
        )
    ).one()
    assert note.status in ("kept", "sent")
    assert "Ауыл клубы" in note.body and "Боран" in note.body
    assert note.language == volunteer.preferred_language


def test_a_long_history_is_paged_for_the_member_and_the_coordinator(app, client, session):
    """Every record stays reachable (the page showed only the last 100 before) and a phone
    gets 20 cards at a time."""
    _volunteer, member = _volunteer_member(session)
    login_as(client, "volunteer@demo.kz")
    today = clock.local_date(utcnow())
    for n in range(45):
        logged = client.post(
            "/my/contributions",
            data={
                "kind": "preventive_event",
                "occurred_on": (today - dt.timedelta(days=n)).isoformat(),
                "description": f"Record number {n:02d}",
            },
        )
        assert logged.status_code == 302
    first = client.get(f"/my/contributions?member={member.id}")
    assert first.text.count('<article class="card') == 20
    assert "Record number 00" in first.text and "Record number 20" not in first.text
    assert f"/my/contributions?member={member.id}&amp;page=3" in first.text
    last = client.get(f"/my/contributions?member={member.id}&page=3")
    assert last.text.count('<article class="card') == 5 and "Record number 44" in last.text
    beyond = client.get(f"/my/contributions?member={member.id}&page=99")
    assert beyond.status_code == 200 and "Record number 44" in beyond.text
    client.post("/logout")
    login_as(client, "coordinator@demo.kz")
    second = client.get(f"/volunteers/members/{member.id}/contributions?page=2")
    assert second.status_code == 200
    assert second.text.count('<article class="card') == 20 and "Record number 20" in second.text
    assert f"/volunteers/members/{member.id}/contributions?page=3" in second.text


def test_the_planners_list_shows_place_unit_patrol_places_taken_and_status(app, client, session):
    """The list reads plain columns (issue 16): a row still names the place, the settlement in
    the reader's language, the patrol unit (or a dash for the whole district), the places
    taken of the capacity and the status; a shift that has ended is listed under "Past" only."""
    from volunteers import register, shift_planning

    coordinator = user(session, "coordinator@demo.kz")
    village = unit(session, "354030100")
    patrol = register.save_patrol_unit(
        session,
        unit_id=village.id,
        name="Түнгі дозор",
        coordinator_id=None,
        leader_member_id=None,
        actor_id=coordinator.id,
    )
    day = _tomorrow_local()
    starts = dt.datetime.combine(day, dt.time(19), tzinfo=clock.zone())
    common = {"unit_id": village.id, "capacity": 4, "supervisor_id": None}
    (with_patrol,) = shift_planning.plan_shift(
        session,
        **common,
        patrol_unit_id=patrol.id,
        place="Орталық алаң",
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=4),
        actor_id=coordinator.id,
        now=utcnow(),
    )
    (district_wide,) = shift_planning.plan_shift(
        session,
        **common,
        patrol_unit_id=None,
        place="Вокзал маңы",
        starts_at=starts + dt.timedelta(days=1),
        ends_at=starts + dt.timedelta(days=1, hours=4),
        actor_id=coordinator.id,
        now=utcnow(),
    )
    with_patrol.taken = 3
    ended = Shift(  # planned in the past: the planning rules refuse that, a past week did not
        unit_id=village.id,
        place="Мектеп ауласы",
        starts_at=starts - dt.timedelta(days=2),
        ends_at=starts - dt.timedelta(days=2, hours=-4),
        capacity=2,
        created_by_id=coordinator.id,
    )
    session.add(ended)
    shift_planning.cancel_shift(
        session, shift_id=district_wide.id, reason="Ауа райы", actor_id=coordinator.id, now=utcnow()
    )
    session.commit()
    login_as(client, "coordinator@demo.kz")

    page = client.get("/shifts")
    assert page.status_code == 200

    def row(shift, listing=page):
        return listing.text.split(f'href="/shifts/{shift.id}"', 1)[1].split("</tr>", 1)[0]

    first, second = row(with_patrol), row(district_wide)
    assert "Орталық алаң" in first and village.name_kk in first and village.name_ru not in first
    assert "Түнгі дозор" in first and "3 / 4" in first
    assert translated(app, "Planned", "kk") in first
    assert "—" in second and "0 / 4" in second
    assert translated(app, "Cancelled", "kk") in second
    assert f'href="/shifts/{ended.id}"' not in page.text
    past = client.get("/shifts?when=past")
    assert "Мектеп ауласы" in row(ended, past) and "0 / 2" in row(ended, past)
    assert f'href="/shifts/{with_patrol.id}"' not in past.text
