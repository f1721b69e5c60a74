"""Behind a proxy: the client's address, scheme and host only from trusted proxies (issue 18)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from core.audit import AuditEvent
from portal.database import StartupError
from portal.extensions import db
from portal.proxy import TrustedProxies, parse
from tests.conftest import DEMO_PASSWORD, close_app, make_app

PROXY = "10.0.0.1"
FORWARDED_HOST = "portal.example.kz"


@pytest.fixture
def proxied(db_url):
    """The portal behind a balancer at 10.0.0.1 and a further proxy network 10.1.0.0/16."""
    app = make_app(db_url, TRUSTED_PROXIES=f"{PROXY}, 10.1.0.0/16")
    yield app
    close_app(app)


def _through_proxy(app, client_ip: str, *, remote: str = PROXY, chain: str | None = None):
    client = app.test_client()
    client.environ_base.update(
        REMOTE_ADDR=remote,
        HTTP_X_FORWARDED_FOR=chain or client_ip,
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_HOST=FORWARDED_HOST,
    )
    return client


def _wrong(client, login: str = "volunteer@demo.kz"):
    return client.post("/login", data={"login": login, "password": "not the password"})


def _last_failure_ip(app) -> str:
    with app.app_context():
        event = db.session.scalars(
            select(AuditEvent)
            .where(AuditEvent.action == "auth.login_failed")
            .order_by(AuditEvent.seq.desc())
        ).first()
        return event.data["ip"]


def test_trusted_proxy_gives_limits_and_audit_the_forwarded_client(proxied):
    """30 people behind one balancer are 30 addresses, not one (finding 1)."""
    attacker = _through_proxy(proxied, "203.0.113.7")
    for _ in range(5):
        assert _wrong(attacker).status_code == 401
    assert _last_failure_ip(proxied) == "203.0.113.7"
    assert _wrong(attacker).status_code == 429
    # The owner, another client of the same balancer, is not behind the attacker's limit.
    owner = _through_proxy(proxied, "203.0.113.8")
    done = owner.post("/login", data={"login": "volunteer@demo.kz", "password": DEMO_PASSWORD})
    assert done.status_code == 302, done.text
    # A chain of trusted proxies is walked back to the first address that is not one.
    far = _through_proxy(proxied, "", chain="203.0.113.9, 10.1.2.3")
    assert _wrong(far, "coordinator@demo.kz").status_code == 401
    assert _last_failure_ip(proxied) == "203.0.113.9"


def test_forwarded_headers_from_a_direct_client_are_ignored(proxied):
    """A spoofed X-Forwarded-For neither escapes the limit nor lands in the audit records."""
    for n in range(5):
        spoofer = _through_proxy(proxied, f"192.0.2.{n}", remote="198.51.100.9")
        assert _wrong(spoofer).status_code == 401
        assert _last_failure_ip(proxied) == "198.51.100.9"
    assert _wrong(_through_proxy(proxied, "192.0.2.99", remote="198.51.100.9")).status_code == 429


def test_the_certificate_link_uses_the_forwarded_https_host(proxied):
    from volunteers.models import Member

    with proxied.app_context():
        member_id = db.session.scalars(select(Member.id).order_by(Member.id)).first()
    registrar = _through_proxy(proxied, "203.0.113.20")
    signed_in = registrar.post(
        "/login", data={"login": "registrar@demo.kz", "password": DEMO_PASSWORD}
    )
    assert signed_in.status_code == 302
    page = registrar.get(f"/volunteers/members/{member_id}/certificate")
    assert page.status_code == 200
    assert f"https://{FORWARDED_HOST}/verify/" in page.text
    assert "http://localhost" not in page.text
    # The same request straight from a client: its forwarded host and scheme count for nothing.
    direct = _through_proxy(proxied, "203.0.113.20", remote="198.51.100.9")
    direct.post("/login", data={"login": "registrar@demo.kz", "password": DEMO_PASSWORD})
    page = direct.get(f"/volunteers/members/{member_id}/certificate")
    assert "http://localhost/verify/" in page.text and FORWARDED_HOST not in page.text


def _seen(trusted, environ: dict) -> dict:
    seen = {}

    def inner(env, start_response):
        seen.update(addr=env["REMOTE_ADDR"], scheme=env["wsgi.url_scheme"], host=env["HTTP_HOST"])
        return []

    base = {"REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http", "HTTP_HOST": "backend:8000"}
    TrustedProxies(inner, parse(trusted))({**base, **environ}, lambda *a: None)
    return seen


def test_a_count_of_hops_takes_that_many_addresses_from_the_right():
    chain = {"HTTP_X_FORWARDED_FOR": "192.0.2.1, 203.0.113.5, 10.9.9.9"}
    assert _seen(1, chain)["addr"] == "10.9.9.9"
    assert _seen("2", chain)["addr"] == "203.0.113.5"
    headers = {"HTTP_X_FORWARDED_PROTO": "https", "HTTP_X_FORWARDED_HOST": "p.kz"}
    forwarded = _seen(1, {**chain, **headers})
    assert forwarded == {"addr": "10.9.9.9", "scheme": "https", "host": "p.kz"}
    # Nothing trusted (the default): the headers are ignored.
    assert _seen(None, chain) == {"addr": "127.0.0.1", "scheme": "http", "host": "backend:8000"}
    # A forwarded client that is not an address is not believed (limits and audits key on it).
    assert _seen(1, {"HTTP_X_FORWARDED_FOR": "<script>"})["addr"] == "127.0.0.1"


@pytest.mark.parametrize("value", ["10.0.0.300", "proxy.local", "-1"])
def test_a_wrong_trusted_proxies_setting_is_one_line(value):
    with pytest.raises(StartupError, match="PORTAL_TRUSTED_PROXIES"):
        parse(value)
