"""Configuration: embedded SQLite defaults, secret key, and one-line start-up errors."""

from __future__ import annotations

import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

from portal.extensions import db
from tests.conftest import close_app, make_app

ROOT = Path(__file__).resolve().parents[2]


def test_embedded_default_is_sqlite_under_instance_with_a_kept_secret(tmp_path, monkeypatch):
    from portal import create_app

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    app = create_app({"CHECK_SERVICES": True})
    try:
        assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'portal.sqlite3'}"
        assert app.config["REDIS_URL"] is None
        secret = tmp_path / "secret_key"
        assert stat.S_IMODE(secret.stat().st_mode) == 0o600
        assert app.config["SECRET_KEY"] == secret.read_text().strip()
        assert len(app.config["SECRET_KEY"]) >= 64
    finally:
        close_app(app)
    again = create_app()
    try:
        assert again.config["SECRET_KEY"] == secret.read_text().strip()
    finally:
        close_app(again)


def test_sqlite_runs_wal_with_foreign_keys_and_immediate_writes(tmp_path):
    path = tmp_path / "p.sqlite3"
    app = make_app(f"sqlite:///{path}")
    try:
        with app.app_context():
            assert db.session.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert db.session.execute(text("PRAGMA foreign_keys")).scalar() == 1
            db.session.rollback()
            # A write transaction holds the write lock from BEGIN on, before it writes.
            db.session.execute(text("SELECT 1"))
            other = sqlite3.connect(path, timeout=0, isolation_level=None)
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            other.close()
            db.session.rollback()
    finally:
        close_app(app)


def _start(
    env_extra: dict, drop: tuple[str, ...] = (), command: tuple[str, ...] = ("routes",)
) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "REDIS_URL", *drop)}
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *command],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_unreachable_database_gives_one_clear_line():
    done = _start({"DATABASE_URL": "postgresql://portal@127.0.0.1:9/portal"})
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("portal: cannot reach the database"), lines
    assert "Traceback" not in done.stderr


def test_a_server_database_without_data_keys_gives_one_clear_line(tmp_path):
    """Processes sharing a server database must share the keys: none is made up (issue 17)."""
    url = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    env = {"DATABASE_URL": url.replace("+psycopg", ""), "PORTAL_INSTANCE_PATH": str(tmp_path)}
    done = _start(env, drop=("PORTAL_DATA_KEYS", "PORTAL_INDEX_KEY"))
    if "cannot reach the database" in done.stderr:
        pytest.skip("no PostgreSQL here")  # CI has one (conftest fails the run without it)
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("portal: Set PORTAL_DATA_KEYS"), lines
    assert not (tmp_path / "data_keys").exists()


def test_unreachable_redis_stops_only_the_processes_that_need_it(tmp_path):
    """``db upgrade`` and ``audit verify`` work while Redis is down (issue 18, finding 9)."""
    env = {"PORTAL_INSTANCE_PATH": str(tmp_path), "REDIS_URL": "redis://127.0.0.1:9/0"}
    assert _start(env).returncode == 0
    done = _start(env, command=("scheduler", "--once"))
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("portal: cannot reach Redis at 127.0.0.1:9")


def test_the_worker_and_scheduler_check_redis_before_they_start(app):
    app.config["REDIS_URL"] = "redis://127.0.0.1:9/0"
    for command in (["scheduler", "--once"], ["worker", "--burst"], ["serve"]):
        done = app.test_cli_runner().invoke(args=command)
        assert done.exit_code == 1
        assert "portal: cannot reach Redis at 127.0.0.1:9" in done.output, done.output


def test_the_cheap_password_profile_is_refused_outside_a_test_suite(tmp_path, monkeypatch):
    from core import accounts, passwords
    from portal import create_app

    monkeypatch.setenv("PORTAL_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setattr(passwords, "_hasher", passwords._hasher)  # restored after the test
    with pytest.raises(RuntimeError, match="only for test suites"):
        create_app({"PASSWORD_HASH_PROFILE": "test", "TESTING": False})
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.sqlite3"})
    with app.app_context():
        assert "m=65536,t=3,p=4" in accounts.hash_password("a password of twelve")
