"""Cross-cutting web rules: every route declares who may use it, headers, error pages, CSRF."""

from __future__ import annotations

import pytest
from flask import abort

from portal.errors import render_error
from portal.security import PUBLIC
from tests.conftest import close_app, login, login_as, make_app

NOT_VIEWS = {"static"}


def test_every_endpoint_declares_who_may_use_it(app):
    missing = sorted(
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint not in NOT_VIEWS
        and not getattr(app.view_functions[rule.endpoint], "_required_roles", None)
    )
    assert missing == []


def test_public_endpoints_are_the_expected_few(app):
    public = sorted(
        e for e, f in app.view_functions.items() if PUBLIC in getattr(f, "_required_roles", ())
    )
    assert public == [
        # The API's document and its reference page: integrators read them before any token.
        "api-docs.openapi_json",
        "api_docs",
        # The API twins of the public certificate check (number + QR token) and statistics.
        "api_public.certificate",
        "api_public.sober_statistics",
        "auth.forgot_password",
        "auth.login",
        "auth.mfa_verify",
        "auth.new_password",
        "auth.reset_password",
        # A phone's calendar has no session: the feed's secret token is its key (404 otherwise).
        "calendar.feed",
        # Public to the router; it answers only trusted addresses or a token (404 otherwise).
        "metrics.metrics",
        "ops.healthz",
        "ops.readyz",
        "public.favicon",
        "public.home",
        "public.set_language",
        "sober.public_page",
        "volunteers.signup",
        "volunteers.signup_code",
        "volunteers.verify",
    ]


def test_security_headers_and_cookie_flags(app, client):
    response = login(client, "admin@demo.kz")
    cookies = response.headers.getlist("Set-Cookie")
    cookie = next(c for c in cookies if c.startswith("__Host-session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Domain" not in cookie
    # The sign-in also marks the browser as the account's device (throttling, issue 17).
    device = next(c for c in cookies if c.startswith("__Host-device="))
    assert "Secure" in device and "HttpOnly" in device and "Domain" not in device
    for url in ("/", "/login", "/admin/users", "/nope"):
        headers = client.get(url).headers
        csp = headers["Content-Security-Policy"]
        assert "object-src 'none'" in csp and "base-uri 'none'" in csp
        assert "frame-ancestors 'none'" in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["Strict-Transport-Security"].startswith("max-age=31536000")


def test_missing_or_forged_csrf_token_gets_a_translated_400(db_url):
    app = make_app(db_url, WTF_CSRF_ENABLED=True)
    try:
        client = app.test_client()
        client.post("/language", data={"lang": "ru"})  # refused too: no token
        response = client.post(
            "/login",
            data={"login": "admin@demo.kz", "password": "x"},
            headers={"Accept-Language": "ru"},
        )
        assert response.status_code == 400
        assert "Срок действия формы истёк" in response.data.decode()
        forged = client.post("/logout", data={"csrf_token": "forged"})
        assert forged.status_code == 400
    finally:
        close_app(app)


def test_oversized_request_gets_413(app, client):
    response = client.post("/login", data={"login": "a" * (6 * 1024 * 1024), "password": "x"})
    assert response.status_code == 413


def test_unknown_page_gets_a_translated_404(app, client):
    response = client.get("/no/such/page", headers={"Accept-Language": "ru"})
    assert response.status_code == 404
    assert "Не найдено" in response.data.decode()


@pytest.mark.parametrize("status", [400, 403, 404, 409, 413, 429, 500])
def test_error_pages_render_in_each_language(app, status):
    for lang, marker in (("kk", 'lang="kk"'), ("ru", 'lang="ru"'), ("en", 'lang="en"')):
        with app.test_request_context("/", headers={"Accept-Language": lang}):
            body, code = render_error(status)
        assert code == status and marker in body


def test_unexpected_error_gets_the_500_page_not_a_traceback(app, client, monkeypatch):
    def boom():
        raise RuntimeError("secret internals")

    monkeypatch.setitem(app.view_functions, "public.home", boom)
    response = client.get("/")
    assert response.status_code == 500
    assert b"secret internals" not in response.data and b"Traceback" not in response.data


def test_forbidden_page_for_a_wrong_role(app, client):
    login_as(client, "volunteer@demo.kz")
    assert client.get("/admin/audit").status_code == 403


def test_abort_inside_a_view_uses_the_portal_page(app, client, monkeypatch):
    monkeypatch.setitem(app.view_functions, "public.home", lambda: abort(409))
    response = client.get("/", headers={"Accept-Language": "en"})
    assert response.status_code == 409 and b"Conflict" in response.data
