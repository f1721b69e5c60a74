"""Two-factor sign-in, the demo waiver, session lifetimes and fresh sign-in for sensitive steps."""

from __future__ import annotations

import re
import time

import pyotp
import pytest
from sqlalchemy import func, select

from core import accounts, audit, mfa
from core.accounts import User
from tests.conftest import DEMO_PASSWORD, close_app, login, make_app, totp_code, translated
from tests.factories.accounts import official

OFFICIALS = {
    "registrar@demo.kz": "/volunteers/applications",
    "secretary@demo.kz": "/commission/sessions",
    "member@demo.kz": "/commission/my-sessions",
    "chair@demo.kz": "/commission/my-sessions",
    "finance@demo.kz": "/finance/lines",
    "admin@demo.kz": "/admin/users",
}


@pytest.fixture
def strict(db_url):
    """The portal as deployed: no demo waiver, so officials must use two factors."""
    app = make_app(db_url, DEMO_MFA_WAIVER=False)
    yield app
    close_app(app)


def _password_only(client, email: str):
    return client.post("/login", data={"login": email, "password": DEMO_PASSWORD})


def _endpoints_for(app, role: str) -> list[str]:
    """Every parameterless GET page declared for ``role``."""
    urls = []
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        declared = role in getattr(view, "_required_roles", ())
        if declared and not rule.arguments and "GET" in rule.methods:
            urls.append(rule.rule)
    return sorted(urls)


@pytest.mark.parametrize("email", sorted(OFFICIALS))
def test_an_official_without_mfa_cannot_reach_any_of_their_screens(strict, session, email):
    client = strict.test_client()
    assert _password_only(client, email).status_code == 302
    role = email.split("@")[0]
    pages = _endpoints_for(strict, role)
    assert OFFICIALS[email] in pages
    for url in pages:
        response = client.get(url)
        if url.startswith("/api/"):
            # The JSON API cannot send anyone to a setup page: a problem saying why.
            assert response.status_code == 403, url
            assert response.content_type == "application/problem+json", url
            continue
        assert response.status_code == 302, url
        assert response.headers["Location"].endswith("/account/two-factor"), url
    # A form post is refused the same way, and nothing is written.
    before = session.scalar(select(func.count()).select_from(audit.AuditEvent))
    assert client.post(OFFICIALS[email], data={"x": "1"}).status_code in (302, 405)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(audit.AuditEvent)) == before
    # Public pages and the enrolment page stay open.
    assert client.get("/").status_code == 200
    assert client.get("/account/two-factor").status_code == 200


def test_a_volunteer_may_sign_in_without_a_second_factor(strict):
    client = strict.test_client()
    assert _password_only(client, "volunteer@demo.kz").status_code == 302
    assert client.get("/my/shifts").status_code == 200


def test_the_demo_waiver_shows_a_banner_on_every_page_and_lets_demo_officials_in(app, client):
    banner = translated(
        app,
        "Demo installation: two-factor sign-in is waived for the demo accounts. "
        "Never run a real deployment like this.",
        "kk",
    )
    assert banner in client.get("/").text
    assert banner in client.get("/login").text
    assert _password_only(client, "registrar@demo.kz").status_code == 302
    page = client.get("/volunteers/applications")
    assert page.status_code == 200 and banner in page.text


def test_without_the_waiver_there_is_no_banner(strict):
    assert "demo-banner" not in strict.test_client().get("/").text


def test_the_waiver_covers_only_demo_accounts(app, session):
    admin = accounts.find_by_login(session, "admin@demo.kz")
    official(
        session,
        "registrar@akimat.kz",
        "registrar",
        admin.unit_id,
        password=DEMO_PASSWORD,
        full_name="Registrar",
        actor_id=admin.id,
    )
    session.commit()
    client = app.test_client()
    assert _password_only(client, "registrar@akimat.kz").status_code == 302
    response = client.get("/volunteers/applications")
    assert response.headers["Location"].endswith("/account/two-factor")


def _enrol(client) -> tuple[str, list[str]]:
    page = client.get("/account/two-factor")
    assert page.status_code == 200 and "data:image/svg+xml" in page.text
    with client.session_transaction() as sess:
        secret = sess["mfa_enrol_secret"]
    assert secret in page.text  # the key for typing in by hand
    wrong = client.post("/account/two-factor", data={"code": "000000"})
    assert wrong.status_code == 401
    done = client.post("/account/two-factor", data={"code": pyotp.TOTP(secret).now()})
    assert done.status_code == 200
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", done.text)
    assert len(codes) == mfa.RECOVERY_CODES
    return secret, codes


def test_enrolment_then_sign_in_with_a_code_once(strict, session):
    client = strict.test_client()
    _password_only(client, "finance@demo.kz")
    secret, _codes = _enrol(client)
    assert client.get("/finance/lines").status_code == 200
    client.post("/logout")

    # The password alone no longer signs in: the code step follows.
    step = strict.test_client()
    response = _password_only(step, "finance@demo.kz")
    assert response.headers["Location"].endswith("/login/code")
    assert step.get("/finance/lines").status_code == 302  # not signed in yet
    wrong = step.post("/login/code", data={"code": "123456"})
    assert wrong.status_code == 401
    assert translated(
        strict, "The code is wrong or has expired. Enter the current code.", "kk"
    ) in (wrong.text)
    code = totp_code(strict, "finance@demo.kz")
    assert step.post("/login/code", data={"code": code}).status_code == 302
    assert step.get("/finance/lines").status_code == 200

    # The same code cannot be used again (replay), even within its 30 seconds.
    replay = strict.test_client()
    _password_only(replay, "finance@demo.kz")
    assert replay.post("/login/code", data={"code": code}).status_code == 401
    session.rollback()
    failures = session.scalar(
        select(func.count())
        .select_from(audit.AuditEvent)
        .where(audit.AuditEvent.action == "auth.mfa_failed")
    )
    assert failures == 2
    assert secret not in str(session.scalars(select(audit.AuditEvent.payload)).all())


def test_a_recovery_code_signs_in_once(strict, session):
    client = strict.test_client()
    _password_only(client, "admin@demo.kz")
    _secret, codes = _enrol(client)
    first = strict.test_client()
    _password_only(first, "admin@demo.kz")
    assert first.post("/login/code", data={"code": codes[0].upper()}).status_code == 302
    assert first.get("/admin/users").status_code == 200
    again = strict.test_client()
    _password_only(again, "admin@demo.kz")
    assert again.post("/login/code", data={"code": codes[0]}).status_code == 401
    session.rollback()
    admin = session.scalar(select(User).where(User.email == "admin@demo.kz"))
    assert mfa.recovery_codes_left(session, admin.id) == mfa.RECOVERY_CODES - 1


def test_the_code_step_expires_and_is_throttled(strict):
    client = strict.test_client()
    _password_only(client, "chair@demo.kz")
    _enrol(client)
    step = strict.test_client()
    _password_only(step, "chair@demo.kz")
    statuses = [step.post("/login/code", data={"code": "111111"}).status_code for _ in range(6)]
    assert statuses[:5] == [401] * 5 and statuses[5] == 429
    late = strict.test_client()
    _password_only(late, "chair@demo.kz")
    with late.session_transaction() as sess:
        sess["mfa_pending"][2] = time.time() - 3600
        sess.modified = True
    assert late.get("/login/code").headers["Location"].endswith("/login")


def test_an_admin_resets_a_lost_factor_and_the_user_enrols_again(strict, session):
    member = strict.test_client()
    _password_only(member, "member@demo.kz")
    _enrol(member)
    admin = strict.test_client()
    login(admin, "admin@demo.kz")  # enrols the admin through the setup page
    session.rollback()
    member_id = session.scalar(select(User.id).where(User.email == "member@demo.kz"))
    page = admin.get(f"/admin/users/{member_id}")
    assert f"/admin/users/{member_id}/two-factor/reset" in page.text
    assert admin.post(f"/admin/users/{member_id}/two-factor/reset").status_code == 302
    session.rollback()
    assert session.get(mfa.TotpFactor, member_id) is None
    # The member's sessions ended; signing in again asks for a new enrolment.
    assert member.get("/commission/my-sessions").status_code == 302
    fresh = strict.test_client()
    assert _password_only(fresh, "member@demo.kz").headers["Location"].endswith("/")
    assert fresh.get("/commission/my-sessions").headers["Location"].endswith("/account/two-factor")


def test_an_admin_cannot_reset_their_own_factor(strict, session):
    admin = strict.test_client()
    login(admin, "admin@demo.kz")
    session.rollback()
    admin_id = session.scalar(select(User.id).where(User.email == "admin@demo.kz"))
    response = admin.post(f"/admin/users/{admin_id}/two-factor/reset")
    assert response.status_code == 409
    session.rollback()
    assert session.get(mfa.TotpFactor, admin_id) is not None


# ---- session lifetimes -----------------------------------------------------------------------


def test_an_idle_session_ends(app, client):
    login(client, "coordinator@demo.kz")
    assert client.get("/shifts").status_code == 200
    with client.session_transaction() as sess:
        sess["seen_at"] = time.time() - app.config["SESSION_IDLE_SECONDS"] - 1
    response = client.get("/shifts")
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/shifts").headers["Location"].startswith("/login")


def test_a_session_ends_after_its_absolute_lifetime_even_when_busy(app, client):
    login(client, "coordinator@demo.kz")
    with client.session_transaction() as sess:
        sess["auth_at"] = time.time() - app.config["SESSION_ABSOLUTE_SECONDS"] - 1
    assert "/login" in client.get("/shifts").headers["Location"]


def test_logout_ends_every_session_and_an_old_cookie_is_refused(app):
    phone, laptop = app.test_client(), app.test_client()
    login(phone, "coordinator@demo.kz")
    login(laptop, "coordinator@demo.kz")
    cookie = phone.get_cookie(app.config["SESSION_COOKIE_NAME"]).value
    phone.post("/logout")
    assert laptop.get("/shifts").status_code == 302
    replay = app.test_client()
    replay.set_cookie(app.config["SESSION_COOKIE_NAME"], cookie)
    assert replay.get("/shifts").status_code == 302


def test_sign_in_issues_a_new_session(app, client):
    client.get("/login")
    with client.session_transaction() as sess:
        sess["planted"] = "by an attacker"
    login(client, "coordinator@demo.kz")
    with client.session_transaction() as sess:
        assert "planted" not in sess


# ---- fresh sign-in for sensitive steps ---------------------------------------------------------


def test_changing_roles_needs_a_fresh_password(app, client, session):
    login(client, "admin@demo.kz")
    session.rollback()
    target = session.scalar(select(User).where(User.email == "volunteer@demo.kz"))
    unit_id = target.unit_id
    with client.session_transaction() as sess:
        sess["fresh_at"] = time.time() - app.config["FRESH_LOGIN_SECONDS"] - 1
    page = f"/admin/users/{target.id}"
    data = {"role": "coordinator", "unit_id": str(unit_id)}
    stale = client.post(f"{page}/grants", data=data, headers={"Referer": f"http://localhost{page}"})
    assert stale.status_code == 302
    assert stale.headers["Location"].startswith("/account/confirm?next=")
    session.rollback()
    assert "coordinator" not in session.get(User, target.id).roles()
    wrong = client.post("/account/confirm", data={"password": "not it", "next": page})
    assert wrong.status_code == 401
    ok = client.post("/account/confirm", data={"password": DEMO_PASSWORD, "next": page})
    assert ok.status_code == 302 and ok.headers["Location"] == page
    assert client.post(f"{page}/grants", data=data).status_code == 302
    session.rollback()
    session.expire_all()
    assert "coordinator" in session.get(User, target.id).roles()
    actions = session.scalars(
        select(audit.AuditEvent.action).where(audit.AuditEvent.action.like("auth.reauth%"))
    ).all()
    assert sorted(actions) == ["auth.reauth", "auth.reauth_failed"]


def test_confirmation_asks_for_the_code_when_the_user_has_a_factor(strict):
    client = strict.test_client()
    _password_only(client, "finance@demo.kz")
    _enrol(client)
    page = client.get("/account/confirm?next=/finance/lines")
    assert 'name="code"' in page.text
    no_code = client.post(
        "/account/confirm", data={"password": DEMO_PASSWORD, "next": "/finance/lines"}
    )
    assert no_code.status_code == 401
    ok = client.post(
        "/account/confirm",
        data={
            "password": DEMO_PASSWORD,
            "code": totp_code(strict, "finance@demo.kz"),
            "next": "/finance/lines",
        },
    )
    assert ok.status_code == 302 and ok.headers["Location"] == "/finance/lines"


def test_confirmation_never_redirects_off_site(app, client):
    login(client, "admin@demo.kz")
    response = client.post(
        "/account/confirm", data={"password": DEMO_PASSWORD, "next": "//evil.example/"}
    )
    assert response.headers["Location"] == "/"


def test_revealing_personal_data_asks_for_the_code_too(strict):
    """The reveal page re-confirms like /account/confirm: a password alone neither shows the
    IIN nor makes the session fresh for paying or changing roles."""
    from core import places
    from portal.extensions import db
    from tests.conftest import make_stale
    from volunteers.models import Member

    with strict.app_context():
        district = places.by_kato(db.session, "354000000")
        member_id = db.session.scalars(
            select(Member.id).where(
                Member.unit_id.in_(sorted(places.covered_by(db.session, [district.id])))
            )
        ).first()
        iin = db.session.get(Member, member_id).iin
    client = strict.test_client()
    _password_only(client, "coordinator@demo.kz")
    _enrol(client)  # optional for a coordinator; once enrolled, it is asked for
    make_stale(client)
    reveal = f"/oversight/reveal/member/{member_id}/iin"
    assert 'name="code"' in client.get(reveal).text
    password_only = client.post(reveal, data={"password": DEMO_PASSWORD, "reason": "Тексеру"})
    assert password_only.status_code == 401 and iin not in password_only.text
    still_stale = client.post(reveal, data={"reason": "Тексеру"})
    assert still_stale.status_code == 401
    shown = client.post(
        reveal,
        data={
            "password": DEMO_PASSWORD,
            "code": totp_code(strict, "coordinator@demo.kz"),
            "reason": "Тексеру",
        },
        follow_redirects=True,
    )
    assert iin in shown.text


def test_changing_the_password_does_not_restart_the_absolute_lifetime(app, client):
    login(client, "coordinator@demo.kz")
    signed_in = time.time() - app.config["SESSION_ABSOLUTE_SECONDS"] + 60  # a minute left
    with client.session_transaction() as sess:
        sess["auth_at"] = signed_in
    changed = client.post(
        "/account/password",
        data={
            "current": DEMO_PASSWORD,
            "new": "a new long passphrase 2026",
            "confirm": "a new long passphrase 2026",
        },
    )
    assert changed.status_code == 302
    with client.session_transaction() as sess:
        assert sess["auth_at"] == signed_in
