"""The offline limit of check-ins: set per jurisdiction by its administrator, inherited below."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from core import accounts, places
from core.audit import AuditEvent
from core.errors import DomainError, PermissionDenied
from tests.conftest import login_as
from volunteers import attendance_settings as offline
from volunteers.models import AttendanceSetting

NOW = dt.datetime(2026, 12, 6, 10, 0, tzinfo=dt.UTC)
REGION = "350000000"  # Karaganda region
DISTRICT = "354000000"  # Bukhar-Zhyrau district, in the region
SETTLEMENT = "354030100"  # in the district
ALMATY = "750000000"  # another region


def _unit(session, kato: str) -> int:
    return places.by_kato(session, kato).id


def _admin_id(session) -> int:
    return accounts.find_by_login(session, "admin@demo.kz").id


def _set(session, kato: str, minutes: int | None, actor_id: int | None = None) -> None:
    offline.set_offline_limit(
        session,
        unit_id=_unit(session, kato),
        minutes=minutes,
        actor_id=actor_id or _admin_id(session),
        now=NOW,
    )


def _regional_admin(session) -> accounts.User:
    national_id = _admin_id(session)
    user = accounts.create_user(
        session,
        email="regional.admin@demo.kz",
        phone=None,
        full_name="Regional Admin",
        preferred_language="en",
        unit_id=_unit(session, REGION),
        password="regional admin password",
        actor_id=national_id,
    )
    accounts.grant_role(
        session, user_id=user.id, role="admin", unit_id=_unit(session, REGION), actor_id=national_id
    )
    return user


def test_the_nearest_setting_up_the_tree_applies(app, session):
    settlement = _unit(session, SETTLEMENT)
    assert dt.timedelta(hours=12) == offline.DEFAULT_OFFLINE_LIMIT
    assert offline.offline_limit(session, settlement) == dt.timedelta(hours=12)
    _set(session, REGION, 90)
    assert offline.offline_limit(session, settlement) == dt.timedelta(minutes=90)
    assert offline.offline_limit(session, _unit(session, REGION)) == dt.timedelta(minutes=90)
    assert offline.offline_limit(session, _unit(session, ALMATY)) == dt.timedelta(hours=12)
    _set(session, DISTRICT, 0)  # live taps only in the district
    assert offline.offline_limit(session, settlement) == dt.timedelta(0)
    assert offline.offline_limit(session, _unit(session, REGION)) == dt.timedelta(minutes=90)
    _set(session, DISTRICT, None)  # cleared: the region's applies again
    assert offline.offline_limit(session, settlement) == dt.timedelta(minutes=90)
    assert session.get(AttendanceSetting, _unit(session, DISTRICT)) is None
    assert offline.offline_limit(session, 10**7) == offline.DEFAULT_OFFLINE_LIMIT  # no such unit


@pytest.mark.parametrize(("minutes", "ok"), [(-1, False), (0, True), (4320, True), (4321, False)])
def test_bounds(app, session, minutes, ok):
    if ok:
        _set(session, DISTRICT, minutes)
        assert offline.offline_limit(session, _unit(session, DISTRICT)) == dt.timedelta(
            minutes=minutes
        )
    else:
        with pytest.raises(DomainError) as refused:
            _set(session, DISTRICT, minutes)
        assert refused.value.field == "minutes" and refused.value.status == 422
        assert session.get(AttendanceSetting, _unit(session, DISTRICT)) is None


def test_each_change_is_audited_with_before_and_after(app, session):
    admin_id = _admin_id(session)
    district = _unit(session, DISTRICT)
    _set(session, DISTRICT, 60)
    _set(session, DISTRICT, 60)  # no change, no event
    _set(session, DISTRICT, 120)
    _set(session, DISTRICT, None)
    _set(session, DISTRICT, None)  # nothing to clear, no event
    events = session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "attendance_setting.update")
        .order_by(AuditEvent.seq)
    ).all()
    assert [e.data for e in events] == [
        {"before": None, "after": 60},
        {"before": 60, "after": 120},
        {"before": 120, "after": None},
    ]
    assert {(e.object_type, e.object_id, e.actor_id) for e in events} == {
        ("admin_unit", str(district), admin_id)
    }


def test_only_an_administrator_of_the_unit_sets_it(app, session):
    regional = _regional_admin(session)
    _set(session, DISTRICT, 30, actor_id=regional.id)
    with pytest.raises(PermissionDenied):
        _set(session, ALMATY, 30, actor_id=regional.id)
    with pytest.raises(PermissionDenied):
        _set(
            session,
            DISTRICT,
            30,
            actor_id=accounts.find_by_login(session, "coordinator@demo.kz").id,
        )
    assert session.get(AttendanceSetting, _unit(session, ALMATY)) is None
    with pytest.raises(DomainError):
        offline.set_offline_limit(session, unit_id=10**7, minutes=30, actor_id=regional.id, now=NOW)


def test_the_settings_page(app, client, session):
    regional = _regional_admin(session)
    session.commit()
    login_as(client, regional.email)
    page = client.get("/admin/attendance-settings")
    assert page.status_code == 200 and "720" in page.text
    saved = client.post(
        "/admin/attendance-settings", data={"unit_id": _unit(session, DISTRICT), "minutes": "45"}
    )
    assert saved.status_code == 302
    session.rollback()
    assert offline.offline_limit(session, _unit(session, SETTLEMENT)) == dt.timedelta(minutes=45)
    listed = client.get("/admin/attendance-settings").text
    table = listed[listed.index('id="offline-limits"') : listed.index("</table>")]
    assert DISTRICT in table and "<td>45</td>" in table
    for bad in ("4321", "-5", "ten"):
        refused = client.post(
            "/admin/attendance-settings", data={"unit_id": _unit(session, DISTRICT), "minutes": bad}
        )
        assert refused.status_code == 400, bad
    # A unit outside the administrator's jurisdiction is not among the choices.
    outside = client.post(
        "/admin/attendance-settings", data={"unit_id": _unit(session, ALMATY), "minutes": "10"}
    )
    assert outside.status_code == 400
    session.rollback()
    assert session.get(AttendanceSetting, _unit(session, ALMATY)) is None
    assert offline.offline_limit(session, _unit(session, SETTLEMENT)) == dt.timedelta(minutes=45)
    # Empty: the district inherits again.
    cleared = client.post(
        "/admin/attendance-settings", data={"unit_id": _unit(session, DISTRICT), "minutes": ""}
    )
    assert cleared.status_code == 302
    session.rollback()
    assert offline.offline_limit(session, _unit(session, SETTLEMENT)) == dt.timedelta(hours=12)
    login_as(client, "coordinator@demo.kz")
    assert client.get("/admin/attendance-settings").status_code == 403


def test_ten_first_settings_of_one_unit_at_once_make_one_row(pg_app):
    """Two administrators set a unit's first limit together: one row, no 500, one audit event."""
    from sqlalchemy.orm import Session

    from core.errors import Conflict
    from tests.conftest import audit_count, engine_of, race

    engine = engine_of(pg_app)
    with Session(engine) as s:
        unit_id, admin_id = _unit(s, SETTLEMENT), _admin_id(s)

    def first(i: int) -> int:
        with Session(engine) as s:
            offline.set_offline_limit(
                s, unit_id=unit_id, minutes=60 + i, actor_id=admin_id, now=NOW
            )
            s.commit()
        return i

    results = race(10, first)
    done = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert done and all(isinstance(r, Conflict) and r.status == 409 for r in refused), results
    with Session(engine) as s:
        rows = s.scalars(select(AttendanceSetting).where(AttendanceSetting.unit_id == unit_id))
        (row,) = rows.all()
        # Each change that took effect is audited once: the insert and any update after it.
        events = audit_count(s, "attendance_setting.update", "admin_unit", unit_id)
        assert events == len(done)
        assert row.offline_limit_minutes - 60 in done
