"""Administration of users and role grants within jurisdictions."""

from __future__ import annotations

from sqlalchemy import func, select

from core import accounts, places
from core.audit import AuditEvent
from tests.conftest import login, login_as
from tests.factories.accounts import official
from volunteers.models import MembershipSetting


def _unit(session, kato):
    return session.scalar(select(places.AdminUnit).where(places.AdminUnit.kato == kato))


def _regional_admin(session):
    """An administrator of Karaganda region only."""
    national = accounts.find_by_login(session, "admin@demo.kz")
    region = _unit(session, "350000000")
    user = official(
        session,
        "karaganda-admin@demo.kz",
        "admin",
        region.id,
        password="regional admin pass",
        full_name="Регион Админ",
        language="ru",
        actor_id=national.id,
    )
    session.commit()
    return user


def test_admin_creates_user_grants_and_revokes_role(app, client, session):
    login_as(client, "admin@demo.kz")
    district = _unit(session, "354000000")
    response = client.post(
        "/admin/users/new",
        data={
            "full_name": "Нұрлан Серіков",
            "email": "Nurlan@Example.kz",
            "phone": "",
            "preferred_language": "kk",
            "unit_id": district.id,
            "password": "initial password 1",
        },
    )
    assert response.status_code == 302
    session.rollback()
    user = accounts.find_by_login(session, "nurlan@example.kz")
    assert user is not None and user.unit_id == district.id
    response = client.post(
        f"/admin/users/{user.id}/grants", data={"role": "coordinator", "unit_id": district.id}
    )
    assert response.status_code == 302
    session.rollback()
    assert user.roles() == {"coordinator"}
    again = client.post(
        f"/admin/users/{user.id}/grants", data={"role": "coordinator", "unit_id": district.id}
    )
    assert again.status_code == 409
    grant = user.grants[0]
    assert client.post(f"/admin/grants/{grant.id}/revoke").status_code == 302
    session.rollback()
    assert user.roles() == set()
    actions = [
        e.action
        for e in session.scalars(
            select(AuditEvent)
            .where(AuditEvent.object_type == "user", AuditEvent.object_id == str(user.id))
            .order_by(AuditEvent.seq)
        )
    ]
    assert actions == ["user.create", "role.grant", "role.revoke"]


def test_bad_input_on_user_form_gets_4xx_and_writes_nothing(app, client, session):
    login_as(client, "admin@demo.kz")
    district = _unit(session, "354000000")
    before = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    for data in (
        {
            "full_name": "X",
            "email": "",
            "phone": "12345",
            "preferred_language": "kk",
            "unit_id": district.id,
            "password": "initial password 1",
        },
        {
            "full_name": "X",
            "email": "",
            "phone": "",
            "preferred_language": "kk",
            "unit_id": district.id,
            "password": "initial password 1",
        },
        {
            "full_name": "X",
            "email": "admin@demo.kz",
            "phone": "",
            "preferred_language": "kk",
            "unit_id": district.id,
            "password": "initial password 1",
        },
        {
            "full_name": "X",
            "email": "x@example.kz",
            "phone": "",
            "preferred_language": "kk",
            "unit_id": 999999,
            "password": "initial password 1",
        },
    ):
        response = client.post("/admin/users/new", data=data)
        assert 400 <= response.status_code < 500, data
    session.rollback()
    after = session.scalar(select(AuditEvent.seq).order_by(AuditEvent.seq.desc()).limit(1))
    assert after == before


def test_grant_on_region_covers_its_districts_and_settlements(app, session):
    regional = _regional_admin(session)
    settlement = _unit(session, "355635100")  # a village in Osakarov district
    almaty = _unit(session, "750000000")
    assert accounts.holds(session, regional, "admin", settlement.id)
    assert not accounts.holds(session, regional, "admin", almaty.id)


def test_admin_outside_jurisdiction_gets_403_or_404(app, client, session):
    regional = _regional_admin(session)
    almaty = _unit(session, "750000000")
    national = accounts.find_by_login(session, "admin@demo.kz")
    outsider = accounts.create_user(
        session,
        email="almaty@demo.kz",
        phone=None,
        full_name="Алматы Қызметкер",
        preferred_language="kk",
        unit_id=almaty.id,
        password="outsider password",
        actor_id=national.id,
    )
    session.commit()
    login(client, regional.email, "regional admin pass")
    # The user list shows only people of the admin's jurisdiction.
    listing = client.get("/admin/users").data.decode()
    assert "Алматы Қызметкер" not in listing and "Айгерім Сапарова" in listing
    # A user outside: existence is private.
    assert client.get(f"/admin/users/{outsider.id}").status_code == 404
    assert client.post(f"/admin/users/{outsider.id}/deactivate").status_code == 404
    # Granting a role on a unit outside: refused.
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    response = client.post(
        f"/admin/users/{volunteer.id}/grants", data={"role": "coordinator", "unit_id": almaty.id}
    )
    assert response.status_code == 400  # not even offered in the list
    from core.errors import PermissionDenied

    try:
        accounts.grant_role(
            session,
            user_id=volunteer.id,
            role="coordinator",
            unit_id=almaty.id,
            actor_id=regional.id,
        )
    except PermissionDenied:
        session.rollback()
    else:
        raise AssertionError("a regional admin granted a role outside the region")


def test_non_admin_roles_get_403_on_admin_pages(app, client):
    login_as(client, "coordinator@demo.kz")
    assert client.get("/admin/users").status_code == 403
    assert client.post("/admin/audit/verify").status_code == 403


def test_admin_cannot_lock_themselves_out(app, client, session):
    login_as(client, "admin@demo.kz")
    admin = accounts.find_by_login(session, "admin@demo.kz")
    assert client.post(f"/admin/users/{admin.id}/deactivate").status_code == 409
    grant = admin.grants[0]
    assert client.post(f"/admin/grants/{grant.id}/revoke").status_code == 409


def test_extra_form_fields_cannot_set_protected_columns(app, client, session):
    login_as(client, "admin@demo.kz")
    district = _unit(session, "354000000")
    client.post(
        "/admin/users/new",
        data={
            "full_name": "Mass Assign",
            "email": "mass@example.kz",
            "phone": "",
            "preferred_language": "en",
            "unit_id": district.id,
            "password": "initial password 1",
            "is_active": "0",
            "session_epoch": "99",
            "password_hash": "x",
            "role": "admin",
        },
    )
    session.rollback()
    user = accounts.find_by_login(session, "mass@example.kz")
    assert user.is_active and user.session_epoch == 0 and user.roles() == set()


def test_audit_trail_names_who_acted(app, client, session):
    login_as(client, "admin@demo.kz")
    volunteer = accounts.find_by_login(session, "volunteer@demo.kz")
    page = client.get(
        f"/admin/users/{volunteer.id}", headers={"Accept-Language": "en"}
    ).data.decode()
    assert "Role granted" in page and "system" in page  # the demo loader granted it
    client.post(f"/admin/users/{volunteer.id}/deactivate")
    page = client.get(f"/admin/users/{volunteer.id}").data.decode()
    assert "Portal Administrator" in page.split("Audit trail")[-1]


def test_admin_sets_certificate_validity_per_jurisdiction(app, client, session):
    from volunteers import register

    district = _unit(session, "354000000")
    village = _unit(session, "354030100")
    login_as(client, "admin@demo.kz")
    assert register.validity_months(session, village) == register.DEFAULT_VALIDITY_MONTHS
    response = client.post(
        "/admin/register-settings", data={"unit_id": district.id, "months": "24"}
    )
    assert response.status_code == 302
    session.rollback()
    assert register.validity_months(session, village) == 24
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "register.validity")
    ).one()
    assert event.object_id == str(district.id)
    page = client.get("/admin/register-settings")
    assert page.status_code == 200 and "354000000" in page.text
    for bad in ("0", "121", "twelve"):
        response = client.post(
            "/admin/register-settings", data={"unit_id": district.id, "months": bad}
        )
        assert response.status_code == 400
    session.rollback()
    assert register.validity_months(session, village) == 24
    # Empty clears the setting: the district inherits again.
    client.post("/admin/register-settings", data={"unit_id": district.id, "months": ""})
    session.rollback()
    assert register.validity_months(session, village) == register.DEFAULT_VALIDITY_MONTHS


def test_regional_admin_cannot_set_validity_outside_their_region(app, client, session):
    _regional_admin(session)
    login(client, "karaganda-admin@demo.kz", "regional admin pass")
    other = session.scalar(
        select(places.AdminUnit).where(
            places.AdminUnit.level == "region", places.AdminUnit.kato != "350000000"
        )
    )
    response = client.post("/admin/register-settings", data={"unit_id": other.id, "months": "12"})
    assert response.status_code == 400
    session.rollback()
    assert session.scalar(select(func.count()).select_from(MembershipSetting)) == 0


def test_admin_sees_failed_jobs_and_runs_one_again(app, client, session, monkeypatch):
    from core import jobruns
    from portal import jobs
    from tests.conftest import wait_for_jobs

    calls = []
    spec = jobs.JOBS["members.expire"]

    def flaky(run_id, progress):
        calls.append(run_id)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        spec.body(run_id, progress)

    monkeypatch.setitem(
        jobs.JOBS, "members.expire", jobs.JobSpec("members.expire", "default", flaky)
    )
    with app.app_context():
        from portal.extensions import db

        run = jobs.submit("members.expire", requested_by_id=None, unit_id=None)
        db.session.commit()
        run_id = run.id
    wait_for_jobs(app)
    session.rollback()
    assert session.get(jobruns.JobRun, run_id).status == "failed"
    login_as(client, "admin@demo.kz")
    page = client.get("/admin/operations")
    assert page.status_code == 200 and "database went away" in page.text
    assert client.post(f"/admin/operations/runs/{run_id}/retry").status_code == 302
    wait_for_jobs(app)
    session.rollback()
    assert session.get(jobruns.JobRun, run_id).status == "succeeded"
    assert client.post(f"/admin/operations/runs/{run_id}/retry").status_code == 409
    retried = session.scalars(select(AuditEvent).where(AuditEvent.action == "job.retry")).all()
    assert [e.object_id for e in retried] == [str(run_id)]


def test_national_reference_data_is_changed_only_by_an_admin_of_the_whole_country(
    app, client, session
):
    """The calendar, contribution and indicator kinds and the MCI apply in every region: a
    regional administrator reads them, but every change is refused and writes nothing."""
    from core.calendar import CalendarDay

    _regional_admin(session)
    existing = session.scalar(select(CalendarDay.day).order_by(CalendarDay.day))
    session.rollback()

    def marks():
        session.rollback()
        return (
            session.scalar(select(func.count()).select_from(AuditEvent)),
            session.scalar(select(func.count()).select_from(CalendarDay)),
        )

    login(client, "karaganda-admin@demo.kz", "regional admin pass")
    page = client.get(f"/admin/calendar?year={existing.year}")
    assert page.status_code == 200
    assert "изменяет его только администратор всей страны" in page.text  # they read Russian
    assert 'name="day"' not in page.text and "/remove" not in page.text
    for path, field in (
        ("/admin/contribution-kinds", 'name="code"'),
        ("/sober/indicator-kinds", 'name="code"'),
        ("/finance/mci", 'name="amount"'),
    ):
        shown = client.get(path)
        assert shown.status_code == 200 and field not in shown.text, path
    before = marks()
    refused = {
        "/admin/calendar": {
            "day": "2031-03-09",
            "kind": "day_off",
            "name_kk": "Демалыс",
            "name_ru": "Выходной",
        },
        f"/admin/calendar/{existing.isoformat()}/remove": {},
        "/admin/contribution-kinds": {
            "code": "zz_regional",
            "measure": "count",
            "points": "5",
            "name_kk": "Сынақ",
            "name_ru": "Проба",
            "name_en": "Trial",
            "active": "y",
        },
        "/sober/indicator-kinds": {
            "code": "zz_regional",
            "name_kk": "Сынақ",
            "name_ru": "Проба",
            "name_en": "Trial",
            "active": "y",
        },
        "/finance/mci": {"year": "2031", "amount": "9 999"},
    }
    for path, data in refused.items():
        assert client.post(path, data=data).status_code == 403, path
    assert marks() == before

    client.post("/logout")
    login_as(client, "admin@demo.kz")
    added = client.post("/admin/calendar", data=refused["/admin/calendar"])
    assert added.status_code == 302
    session.rollback()
    assert (
        session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "calendar.add", AuditEvent.object_id == "2031-03-09")
        )
        == 1
    )


def test_the_list_of_accounts_shows_login_home_unit_and_live_roles_in_the_admins_language(
    app, client, session
):
    """The list reads plain columns (issue 16): each row still shows the login (the phone of an
    account without an e-mail), the home unit's name in the administrator's language, and the
    roles of live grants only."""
    admin = _regional_admin(session)  # Russian
    district = _unit(session, "354000000")
    user = accounts.create_user(
        session,
        email=None,
        phone="+77015550199",
        full_name="Списочный Тестов",
        unit_id=district.id,
        preferred_language="kk",
        password="list test password",
        actor_id=admin.id,
    )
    revoked = accounts.grant_role(
        session, user_id=user.id, role="registrar", unit_id=district.id, actor_id=admin.id
    )
    accounts.grant_role(
        session, user_id=user.id, role="coordinator", unit_id=district.id, actor_id=admin.id
    )
    accounts.revoke_grant(session, grant_id=revoked.id, actor_id=admin.id)
    session.commit()
    login_as(client, admin.email)

    page = client.get("/admin/users?q=Списочный")
    assert page.status_code == 200
    row = page.text.split(f"/admin/users/{user.id}", 1)[1].split("</tr>", 1)[0]
    assert "+77015550199" in row
    assert district.name_ru in row and district.name_kk not in row
    assert ">Координатор<" in row
    assert "Регистратор" not in row
