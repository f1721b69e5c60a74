"""The administrator's token pages: the secret shown once, revocation confirmed, reach kept."""

from __future__ import annotations

import datetime as dt
import hashlib
import re

import pytest
from sqlalchemy import func, select

from core import accounts, clock, places
from core.api_models import ApiToken
from core.audit import AuditEvent
from tests.conftest import audit_count, login_as, translated

REGION = "350000000"  # Karaganda region
DISTRICT = "354000000"  # Bukhar-Zhyrau district, in the region
ALMATY = "750000000"  # another region
YES = {"confirmed": "yes"}
ONCE = "Copy the token now: it will not be shown again."


def _unit(session, kato: str) -> int:
    return places.by_kato(session, kato).id


def _account(session, email: str, kato: str, grants: list[tuple[str, str]]) -> accounts.User:
    national = accounts.find_by_login(session, "admin@demo.kz")
    user = accounts.create_user(
        session,
        email=email,
        phone=None,
        full_name=email.split("@")[0].replace(".", " ").title(),
        preferred_language="en",
        unit_id=_unit(session, kato),
        password="token pages password",
        actor_id=national.id,
    )
    for role, where in grants:
        accounts.grant_role(
            session, user_id=user.id, role=role, unit_id=_unit(session, where), actor_id=national.id
        )
    return user


def _tokens(session) -> list[ApiToken]:
    session.rollback()
    session.expire_all()
    return session.scalars(select(ApiToken).order_by(ApiToken.id)).all()


def _holder_step(client, login: str):
    return client.post("/admin/tokens/new", data={"login": login})


def _issue_form(session, holder_id: int, **overrides) -> dict:
    data = {
        "name": "Patrol app",
        "grants": [f"coordinator:{_unit(session, DISTRICT)}"],
        "expires_at": (clock.today() + dt.timedelta(days=30)).isoformat(),
    }
    data.update(overrides)
    return data


def test_issue_shows_the_secret_once_and_the_list_never(app, client, session):
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    login_as(client, "admin@demo.kz")

    assert client.get("/admin/tokens").status_code == 200
    step = _holder_step(client, "COORDINATOR@demo.kz")
    assert step.status_code == 302
    form_url = f"/admin/users/{coordinator.id}/tokens/new"
    assert step.headers["Location"].endswith(form_url)
    form = client.get(form_url)
    assert form.status_code == 200
    assert f'value="coordinator:{_unit(session, DISTRICT)}"' in form.text

    shown = client.post(form_url, data=_issue_form(session, coordinator.id))
    assert shown.status_code == 200, shown.text
    assert shown.headers["Cache-Control"] == "no-store"
    assert translated(app, ONCE, "en") in shown.text
    secrets = re.findall(r"cip_[A-Za-z0-9_-]{43}", shown.text)
    assert len(set(secrets)) == 1
    secret = secrets[0]

    [token] = _tokens(session)
    assert token.user_id == coordinator.id and token.name == "Patrol app"
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert [(g.role, g.unit_id) for g in token.grants] == [
        ("coordinator", _unit(session, DISTRICT))
    ]
    # The end of the chosen day, local time.
    chosen = clock.today() + dt.timedelta(days=30)
    assert token.expires_at == clock.local_day_bounds(chosen)[1] - dt.timedelta(minutes=1)
    assert audit_count(session, "api_token.issue", "api_token", token.id) == 1

    listing = client.get("/admin/tokens")
    assert listing.status_code == 200
    assert secret not in listing.text and secret[10:] not in listing.text
    assert f"{token.prefix}…" in listing.text and "Patrol app" in listing.text
    assert coordinator.full_name in listing.text
    # Nowhere else either: the holder's page and the audit log.
    assert secret[10:] not in client.get(f"/admin/users/{coordinator.id}").text
    assert secret not in str(session.scalars(select(AuditEvent.payload)).all())


def test_issue_refusals_keep_the_form_and_write_nothing(app, client, session):
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    login_as(client, "admin@demo.kz")
    url = f"/admin/users/{coordinator.id}/tokens/new"
    events = session.scalar(select(func.count()).select_from(AuditEvent))

    # Not among the holder's roles: the choice is refused by the form.
    not_held = [f"registrar:{_unit(session, REGION)}"]
    foreign = client.post(url, data=_issue_form(session, coordinator.id, grants=not_held))
    assert foreign.status_code == 400
    assert client.post(url, data=_issue_form(session, coordinator.id, name="")).status_code == 400
    bad_date = client.post(url, data=_issue_form(session, coordinator.id, expires_at="31.02.x"))
    assert bad_date.status_code == 400
    past = client.post(
        url,
        data=_issue_form(
            session, coordinator.id, expires_at=(clock.today() - dt.timedelta(days=1)).isoformat()
        ),
    )
    assert past.status_code == 422
    assert translated(app, "The expiry must be in the future.", "en") in past.text
    too_far = client.post(
        url,
        data=_issue_form(
            session, coordinator.id, expires_at=(clock.today() + dt.timedelta(days=400)).isoformat()
        ),
    )
    assert too_far.status_code == 422
    for extreme in ("9999-12-31", "0001-01-01"):  # the first and last day Python knows
        far = client.post(url, data=_issue_form(session, coordinator.id, expires_at=extreme))
        assert far.status_code == 422, extreme
    none_chosen = client.post(url, data=_issue_form(session, coordinator.id, grants=[]))
    assert none_chosen.status_code == 422
    assert "cip_" not in past.text + too_far.text + none_chosen.text
    assert _tokens(session) == []
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events


def test_revoke_is_confirmed_then_done_once(app, client, session):
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    login_as(client, "admin@demo.kz")
    client.post(
        f"/admin/users/{coordinator.id}/tokens/new", data=_issue_form(session, coordinator.id)
    )
    [token] = _tokens(session)

    confirm = client.get(f"/admin/tokens/{token.id}/revoke/confirm")
    assert confirm.status_code == 200
    assert 'name="confirmed" value="yes"' in confirm.text
    assert f"/admin/tokens/{token.id}/revoke/confirm" in client.get("/admin/tokens").text

    unconfirmed = client.post(f"/admin/tokens/{token.id}/revoke")
    assert unconfirmed.status_code == 422
    assert _tokens(session)[0].revoked_at is None

    done = client.post(f"/admin/tokens/{token.id}/revoke", data=YES)
    assert done.status_code == 302
    [revoked] = _tokens(session)
    assert revoked.revoked_at is not None
    assert revoked.revoked_by_id == accounts.find_by_login(session, "admin@demo.kz").id
    assert audit_count(session, "api_token.revoke", "api_token", token.id) == 1
    listing = client.get("/admin/tokens").text
    assert f"/admin/tokens/{token.id}/revoke/confirm" not in listing

    again = client.post(f"/admin/tokens/{token.id}/revoke", data=YES)
    assert again.status_code == 409
    assert translated(app, "This token has already been revoked.", "en") in again.text
    assert audit_count(session, "api_token.revoke", "api_token", token.id) == 1
    assert client.post("/admin/tokens/999999/revoke", data=YES).status_code == 404


def test_a_regional_admin_acts_only_within_reach(app, client, session):
    regional = _account(session, "regional.admin@demo.kz", REGION, [("admin", REGION)])
    almaty = _account(session, "almaty.coord@demo.kz", ALMATY, [("coordinator", ALMATY)])
    # Lives in the region but holds a national role: listed, not administered.
    national = _account(
        session,
        "country.admin@demo.kz",
        DISTRICT,
        [("admin", places.COUNTRY_KATO), ("coordinator", DISTRICT)],
    )
    session.commit()
    login_as(client, "admin@demo.kz")
    for holder, kato in ((almaty, ALMATY), (national, DISTRICT)):
        issued = client.post(
            f"/admin/users/{holder.id}/tokens/new",
            data=_issue_form(session, holder.id, grants=[f"coordinator:{_unit(session, kato)}"]),
        )
        assert issued.status_code == 200
    almaty_token, national_token = _tokens(session)
    events = session.scalar(select(func.count()).select_from(AuditEvent))

    login_as(client, regional.email)
    listing = client.get("/admin/tokens").text
    assert national.full_name in listing and almaty.full_name not in listing
    assert f"/admin/tokens/{national_token.id}/revoke/confirm" not in listing

    # Another region: not found, whichever the way in.
    step = _holder_step(client, almaty.email)
    assert step.status_code == 404
    assert _holder_step(client, "nobody@demo.kz").status_code == 404
    assert client.get(f"/admin/users/{almaty.id}/tokens/new").status_code == 404
    assert client.get(f"/admin/tokens/{almaty_token.id}/revoke/confirm").status_code == 404
    assert client.post(f"/admin/tokens/{almaty_token.id}/revoke", data=YES).status_code == 404
    # Within the region but beyond reach: refused.
    reach = translated(app, str(accounts.OutsideReach().message), "en")
    refused = _holder_step(client, national.email)
    assert refused.status_code == 403 and reach in refused.text
    assert client.get(f"/admin/users/{national.id}/tokens/new").status_code == 403
    posted = client.post(
        f"/admin/users/{national.id}/tokens/new",
        data=_issue_form(session, national.id),
    )
    assert posted.status_code == 403
    assert client.post(f"/admin/tokens/{national_token.id}/revoke", data=YES).status_code == 403

    assert [t.revoked_at for t in _tokens(session)] == [None, None]
    assert len(_tokens(session)) == 2
    assert session.scalar(select(func.count()).select_from(AuditEvent)) == events

    # Their own region's coordinator: issued.
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    assert _holder_step(client, coordinator.email).status_code == 302
    ok = client.post(
        f"/admin/users/{coordinator.id}/tokens/new", data=_issue_form(session, coordinator.id)
    )
    assert ok.status_code == 200 and "cip_" in ok.text


@pytest.mark.parametrize("login", ["coordinator@demo.kz", "deputy@demo.kz"])
def test_only_administrators_open_the_token_pages(app, client, session, login):
    coordinator = accounts.find_by_login(session, "coordinator@demo.kz")
    login_as(client, login)
    assert client.get("/admin/tokens").status_code == 403
    assert client.get("/admin/tokens/new").status_code == 403
    posted = client.post(
        f"/admin/users/{coordinator.id}/tokens/new", data=_issue_form(session, coordinator.id)
    )
    assert posted.status_code == 403
    assert _tokens(session) == []
    anonymous = app.test_client()
    assert anonymous.get("/admin/tokens").status_code == 302
