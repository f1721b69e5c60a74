"""Production mode: required settings, no demo accounts or waiver, HSTS (issue 18, 2 and 5)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from core.audit import AuditEvent
from portal.config import build_config, settle
from portal.database import StartupError
from portal.extensions import db
from portal.security import hsts_value
from tests.conftest import (
    DEMO_PASSWORD,
    TEST_DATA_KEYS,
    TEST_INDEX_KEY,
    close_app,
    login_as,
    make_app,
    translated,
)

ROOT = Path(__file__).resolve().parents[2]
PG = "postgresql+psycopg://portal@db.internal/portal"
COMPLETE = {
    "SQLALCHEMY_DATABASE_URI": PG,
    "SECRET_KEY": "s" * 64,
    "PUBLIC_BASE_URL": "https://portal.example.kz/",
    "SESSION_COOKIE_SECURE": True,
}


def _settled(tmp_path, **settings) -> dict:
    config = {**COMPLETE, **settings}
    settle(config, tmp_path)
    return config


def test_a_server_database_implies_production_and_sqlite_development(tmp_path):
    assert _settled(tmp_path)["ENV"] == "production"
    assert _settled(tmp_path, ENV="development")["ENV"] == "development"
    assert _settled(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///p.db")["ENV"] == "development"
    # The test suite runs on PostgreSQL as it always did.
    assert _settled(tmp_path, TESTING=True, SECRET_KEY=None)["ENV"] == "development"
    with pytest.raises(StartupError, match="PORTAL_ENV must be production or development"):
        _settled(tmp_path, ENV="prod")


@pytest.mark.parametrize(
    ("missing", "line"),
    [
        ({"SECRET_KEY": None}, "Set SECRET_KEY"),
        ({"SECRET_KEY": "short"}, "Set SECRET_KEY"),
        ({"PUBLIC_BASE_URL": None}, "Set PORTAL_PUBLIC_BASE_URL"),
        ({"PUBLIC_BASE_URL": "portal.example.kz"}, "must be an http"),
        ({"DEMO_MFA_WAIVER": "1"}, "PORTAL_DEMO_MFA_WAIVER is for the demo only"),
        ({"HSTS_PRELOAD": True}, "PORTAL_HSTS_PRELOAD needs"),
    ],
)
def test_production_refuses_an_incomplete_configuration(tmp_path, missing, line):
    with pytest.raises(StartupError, match=line):
        _settled(tmp_path, **missing)
    assert not (tmp_path / "secret_key").exists()  # no key of its own is made up


def test_development_keeps_its_embedded_defaults(tmp_path):
    config = _settled(
        tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///p.db", SECRET_KEY=None, PUBLIC_BASE_URL=None
    )
    assert config["SECRET_KEY"] == (tmp_path / "secret_key").read_text().strip()
    assert config["PUBLIC_BASE_URL"] == "http://localhost/"


def test_production_needs_the_data_keys_even_on_sqlite(tmp_path):
    from portal.config import data_keys

    config = _settled(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///p.db", ENV="production")
    with pytest.raises(StartupError, match="Set PORTAL_DATA_KEYS"):
        data_keys(config, tmp_path)
    assert not (tmp_path / "data_keys").exists()


def test_hsts_is_on_in_production_without_subdomains_unless_asked(tmp_path):
    assert hsts_value(_settled(tmp_path, SESSION_COOKIE_SECURE=False)) == "max-age=31536000"
    assert hsts_value(_settled(tmp_path, HSTS="off")) is None
    asked = _settled(
        tmp_path, HSTS_MAX_AGE="63072000", HSTS_INCLUDE_SUBDOMAINS="true", HSTS_PRELOAD=1
    )
    assert hsts_value(asked) == "max-age=63072000; includeSubDomains; preload"
    # A demo over plain HTTP (cookies not Secure) sends none, as before.
    demo = _settled(tmp_path, SQLALCHEMY_DATABASE_URI="sqlite:///p.db", SESSION_COOKIE_SECURE=False)
    assert hsts_value(demo) is None


@pytest.mark.parametrize(
    ("given", "used"),
    [
        ("postgresql+psycopg2://u:p@h/db", "postgresql+psycopg://u:p@h/db"),
        ("postgres://u@h/db", "postgresql+psycopg://u@h/db"),
        ("sqlite:////tmp/x.db", "sqlite:////tmp/x.db"),
    ],
)
def test_database_urls_use_the_installed_driver(tmp_path, monkeypatch, given, used):
    monkeypatch.setenv("DATABASE_URL", given)
    assert build_config(tmp_path)["SQLALCHEMY_DATABASE_URI"] == used


def test_a_database_url_of_another_kind_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "mysql://u@h/db")
    with pytest.raises(StartupError, match=r"must name PostgreSQL .* not mysql:"):
        build_config(tmp_path)


@pytest.fixture
def production(db_url):
    """The portal in production mode on a database where the demo accounts exist."""
    app = make_app(
        db_url, ENV="production", DEMO_MFA_WAIVER=False, PUBLIC_BASE_URL="https://p.example.kz/"
    )
    yield app
    close_app(app)


def test_a_demo_account_cannot_sign_in_in_production(production):
    """The README's published password opens nothing (finding 2)."""
    client = production.test_client()
    answer = client.post("/login", data={"login": "admin@demo.kz", "password": DEMO_PASSWORD})
    assert answer.status_code == 401
    message = translated(production, "Demo accounts cannot sign in to this portal.", "kk")
    assert message in answer.text
    assert client.get("/admin/users").status_code == 302  # to the sign-in page
    with production.app_context():
        actions = db.session.scalars(
            select(AuditEvent.action).order_by(AuditEvent.seq.desc()).limit(1)
        ).all()
    assert actions == ["auth.login_refused"]  # the accepted password step was not kept


def test_a_demo_accounts_session_ends_in_production(production):
    client = production.test_client()
    login_as(client, "admin@demo.kz")
    answer = client.get("/admin/users")
    assert answer.status_code == 302 and "/login" in answer.headers["Location"]


def test_demo_and_a_demo_administrator_are_refused_in_production(production):
    runner = production.test_cli_runner()
    done = runner.invoke(args=["demo"])
    assert done.exit_code == 1
    assert "portal: flask demo does not run in production" in done.output
    done = runner.invoke(
        args=["create-admin", "--email", "Boss@Demo.kz", "--name", "B", "--password", "x" * 12]
    )
    assert done.exit_code == 1 and "portal: @demo.kz addresses are the demo's" in done.output


def test_a_worker_or_scheduler_in_production_needs_a_server_database(db_url, tmp_path):
    if not db_url.startswith("sqlite"):
        pytest.skip("about the embedded SQLite file")
    app = make_app(db_url, ENV="production", DEMO_MFA_WAIVER=False, PUBLIC_BASE_URL="https://p/")
    try:
        for command in (["scheduler", "--once"], ["worker", "--burst"]):
            done = app.test_cli_runner().invoke(args=command)
            assert done.exit_code == 1
            line = f"portal: set DATABASE_URL to the portal's PostgreSQL database: a {command[0]}"
            assert line in done.output
    finally:
        close_app(app)


def test_a_postgresql_url_without_settings_stops_with_one_line(tmp_path):
    """No PORTAL_ENV: the server database makes it a production, which needs its SECRET_KEY."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PORTAL_ENV", "SECRET_KEY", "PORTAL_PUBLIC_BASE_URL")
    }
    env.update(
        DATABASE_URL="postgresql://portal@127.0.0.1:9/portal",
        PORTAL_INSTANCE_PATH=str(tmp_path),
        PORTAL_DATA_KEYS=TEST_DATA_KEYS,
        PORTAL_INDEX_KEY=TEST_INDEX_KEY,
    )
    done = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "audit", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "portal: Set SECRET_KEY to at least 32 random characters, the same on every process "
        "(e.g. python3 -c 'import secrets; print(secrets.token_hex(32))')"
    ]
    assert not (tmp_path / "secret_key").exists()
