"""Administrators act only on accounts whose home unit and every role grant lie in their reach."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core import accounts, mfa, places
from core.audit import AuditEvent
from tests.conftest import login, translated

REGION = "350000000"  # Karaganda region
DISTRICT = "354000000"  # Bukhar-Zhyrau district, in the region
ALMATY = "750000000"  # another region
REACH = (
    "This account holds a role outside your jurisdiction: only an administrator"
    " over every one of its roles can change it."
)


def _unit(session, kato: str) -> places.AdminUnit:
    return places.by_kato(session, kato)


def _account(session, email: str, kato: str, grants: list[tuple[str, str]]) -> accounts.User:
    national = accounts.find_by_login(session, "admin@demo.kz")
    user = accounts.create_user(
        session,
        email=email,
        phone=None,
        full_name=email.split("@")[0].replace(".", " ").title(),
        preferred_language="ru",
        unit_id=_unit(session, kato).id,
        password="reach test password",
        actor_id=national.id,
    )
    for role, where in grants:
        accounts.grant_role(
            session,
            user_id=user.id,
            role=role,
            unit_id=_unit(session, where).id,
            actor_id=national.id,
        )
    return user


def _world(session):
    regional = _account(session, "regional.admin@demo.kz", REGION, [("admin", REGION)])
    # A national administrator who lives in the region: home unit inside, grant on the country.
    country = _account(
        session,
        "country.admin@demo.kz",
        DISTRICT,
        [("admin", places.COUNTRY_KATO), ("deputy", DISTRICT)],
    )
    coordinator = _account(session, "district.coord@demo.kz", DISTRICT, [("coordinator", DISTRICT)])
    for user in (country, coordinator):
        session.add(mfa.TotpFactor(user_id=user.id, secret=mfa.new_secret()))
    session.commit()
    return regional, country, coordinator


def _events(session, user_id: int) -> int:
    return session.scalar(
        select(func.count())
        .select_from(AuditEvent)
        .where(AuditEvent.object_type == "user", AuditEvent.object_id == str(user_id))
    )


def test_regional_admin_cannot_touch_a_country_admin_living_in_the_region(app, client, session):
    """Finding 8: only the home unit was checked, so the regional admin took over the account."""
    regional, country, _coordinator = _world(session)
    events_before = _events(session, country.id)
    deputy_grant = next(g for g in country.grants if g.role == "deputy")
    assert login(client, regional.email, "reach test password").status_code == 302
    message = translated(app, REACH, "ru")

    # Listed (the home unit is in the region) but marked read-only, with no action offered.
    listing = client.get("/admin/users?q=country")
    assert listing.status_code == 200 and country.full_name in listing.text
    assert 'class="badge text-bg-light border read-only"' in listing.text
    page = client.get(f"/admin/users/{country.id}")
    assert page.status_code == 200 and message in page.text
    assert f"/admin/users/{country.id}/deactivate" not in page.text
    assert f"/admin/users/{country.id}/two-factor/reset" not in page.text
    assert f"/admin/users/{country.id}/edit" not in page.text

    attempts = [
        client.post(f"/admin/users/{country.id}/deactivate"),
        client.post(f"/admin/users/{country.id}/two-factor/reset"),
        client.get(f"/admin/users/{country.id}/edit"),
        client.post(
            f"/admin/users/{country.id}/edit",
            data={
                "full_name": country.full_name,
                "email": "attacker@example.kz",
                "phone": "",
                "preferred_language": "ru",
                "unit_id": _unit(session, DISTRICT).id,
            },
        ),
        client.post(
            f"/admin/users/{country.id}/grants",
            data={"role": "coordinator", "unit_id": _unit(session, DISTRICT).id},
        ),
        client.post(f"/admin/grants/{deputy_grant.id}/revoke"),
    ]
    for response in attempts:
        assert response.status_code == 403, response.request.path
        assert message in response.text, response.request.path

    session.rollback()
    session.expire_all()
    again = accounts.get_user(session, country.id)
    assert again.is_active and again.email == "country.admin@demo.kz"
    assert again.session_epoch == country.session_epoch
    assert mfa.factor_of(session, country.id) is not None
    assert sorted(g.role for g in again.grants) == ["admin", "deputy"]
    assert _events(session, country.id) == events_before  # nothing written


def test_domain_refuses_the_regional_admin_whatever_the_caller(app, session):
    regional, country, _coordinator = _world(session)
    for act in (
        lambda: accounts.set_active(
            session, user_id=country.id, active=False, actor_id=regional.id
        ),
        lambda: mfa.reset(session, user_id=country.id, actor_id=regional.id),
        lambda: accounts.update_profile(
            session,
            user_id=country.id,
            full_name="X",
            email="attacker@example.kz",
            phone=None,
            preferred_language="ru",
            unit_id=country.unit_id,
            actor_id=regional.id,
        ),
        lambda: accounts.grant_role(
            session,
            user_id=country.id,
            role="finance",
            unit_id=_unit(session, DISTRICT).id,
            actor_id=regional.id,
        ),
    ):
        with pytest.raises(accounts.OutsideReach):
            act()
        session.rollback()


def test_administers_looks_at_every_grant_and_the_home_unit(app, session):
    regional, country, coordinator = _world(session)
    national = accounts.find_by_login(session, "admin@demo.kz")
    assert accounts.administers(session, regional, coordinator)
    assert not accounts.administers(session, regional, country)
    assert accounts.administers(session, national, country)
    # A grant in another region puts the coordinator out of the regional admin's reach ...
    far = accounts.grant_role(
        session,
        user_id=coordinator.id,
        role="deputy",
        unit_id=_unit(session, ALMATY).id,
        actor_id=national.id,
    )
    session.flush()
    assert not accounts.administers(session, regional, coordinator)
    # ... and its revocation brings them back.
    accounts.revoke_grant(session, grant_id=far.id, actor_id=national.id)
    session.flush()
    assert accounts.administers(session, regional, coordinator)
    # An account living outside the region is out of reach even with no grant at all.
    outsider = _account(session, "almaty.person@demo.kz", ALMATY, [])
    assert not accounts.administers(session, regional, outsider)
    # A deactivated administrator administers nobody.
    regional.is_active = False
    assert not accounts.administers(session, regional, coordinator)
    session.rollback()


def test_regional_admin_still_manages_a_coordinator_of_the_region(app, client, session):
    regional, _country, coordinator = _world(session)
    district = _unit(session, DISTRICT)
    assert login(client, regional.email, "reach test password").status_code == 302
    page = client.get(f"/admin/users/{coordinator.id}")
    assert page.status_code == 200 and f"/admin/users/{coordinator.id}/deactivate" in page.text
    edited = client.post(
        f"/admin/users/{coordinator.id}/edit",
        data={
            "full_name": "District Coordinator",
            "email": "new.coord@demo.kz",
            "phone": "",
            "preferred_language": "kk",
            "unit_id": district.id,
        },
    )
    assert edited.status_code == 302
    assert (
        client.post(
            f"/admin/users/{coordinator.id}/grants",
            data={"role": "registrar", "unit_id": district.id},
        ).status_code
        == 302
    )
    assert client.post(f"/admin/users/{coordinator.id}/two-factor/reset").status_code == 302
    assert client.post(f"/admin/users/{coordinator.id}/deactivate").status_code == 302
    session.rollback()
    session.expire_all()
    again = accounts.get_user(session, coordinator.id)
    assert again.email == "new.coord@demo.kz" and not again.is_active
    assert sorted(g.role for g in again.grants) == ["coordinator", "registrar"]
    assert mfa.factor_of(session, coordinator.id) is None
    registrar = next(g for g in again.grants if g.role == "registrar")
    assert client.post(f"/admin/grants/{registrar.id}/revoke").status_code == 302
    assert client.post(f"/admin/users/{coordinator.id}/activate").status_code == 302
