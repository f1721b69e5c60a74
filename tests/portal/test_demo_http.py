"""The demo served over plain HTTP to other machines: cookies a browser keeps, and a banner."""

from __future__ import annotations

import pytest

import dev
from tests.conftest import close_app, login, make_app, translated

EVERY_INTERFACE = "0.0.0.0"  # noqa: S104  (the host a demo for other machines gives)
BANNER = (
    "Not a secure connection: sign-in cookies travel unprotected over plain HTTP. A demo only; "
    "never enter real personal data here."
)


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1", "[::1]", "127.0.0.2"])
def test_loopback_demo_keeps_secure_cookies(host):
    assert dev.cookie_setting(host, {}) == ({}, None)


@pytest.mark.parametrize("host", [EVERY_INTERFACE, "192.168.1.20", "demo.example.kz", "::"])
def test_demo_for_other_machines_turns_secure_cookies_off_and_says_so(host):
    extra, line = dev.cookie_setting(host, {})
    assert extra == {"PORTAL_SECURE_COOKIES": "0"}
    assert "\n" not in line and "PORTAL_SECURE_COOKIES=1" in line


def test_an_explicit_setting_is_kept():
    extra, line = dev.cookie_setting(EVERY_INTERFACE, {"PORTAL_SECURE_COOKIES": "1"})
    assert extra == {} and "PORTAL_SECURE_COOKIES=0" in line
    assert dev.cookie_setting(EVERY_INTERFACE, {"PORTAL_SECURE_COOKIES": "0"}) == ({}, None)


def test_plain_http_demo_signs_in_with_plain_cookies_under_a_banner(app, monkeypatch):
    monkeypatch.setenv("PORTAL_SECURE_COOKIES", "0")
    demo = make_app(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        assert demo.config["SESSION_COOKIE_NAME"] == "portal-session"
        assert not demo.config["SESSION_COOKIE_SECURE"] and not demo.config["HSTS"]
        client = demo.test_client()
        response = login(client, "admin@demo.kz")
        assert response.status_code == 302
        cookie = next(
            c for c in response.headers.getlist("Set-Cookie") if c.startswith("portal-session=")
        )
        assert "Secure" not in cookie and "HttpOnly" in cookie
        page = client.get("/", headers={"Accept-Language": "en"})
        assert translated(demo, BANNER, "en") in page.text
    finally:
        close_app(demo)


def test_default_config_keeps_host_cookies_and_no_banner(app, client):
    assert app.config["SESSION_COOKIE_NAME"] == "__Host-session"
    assert app.config["SESSION_COOKIE_SECURE"] and not app.config["INSECURE_COOKIES_BANNER"]
    page = client.get("/", headers={"Accept-Language": "en"})
    assert "Not a secure connection" not in page.text
