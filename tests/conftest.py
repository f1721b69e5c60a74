"""Test fixtures: fresh databases per test (SQLite and PostgreSQL), apps, clients, Redis."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.exc import OperationalError

CI = os.environ.get("CI", "").lower() == "true"
PG_ADMIN_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
REDIS_TEST_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
DEMO_PASSWORD = "demo-portal-2026"
RUN_ID = uuid.uuid4().hex[:8]


def pytest_configure(config):
    # Keep the generated secret key and any files out of the working tree, and make sure
    # no service settings of the developer's shell leak into the tests.
    os.environ["PORTAL_INSTANCE_PATH"] = tempfile.mkdtemp(prefix="portal-test-instance-")
    for name in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY"):
        os.environ.pop(name, None)


def unavailable(service: str, reason: str):
    """Skip when a service is missing on a developer machine; fail under CI=true."""
    if CI:
        pytest.fail(f"{service} is required when CI=true but is not usable: {reason}")
    pytest.skip(f"{service} not available: {reason}")


def make_app(db_url: str, **config):
    from portal import create_app

    settings = {
        "SQLALCHEMY_DATABASE_URI": db_url,
        "REDIS_URL": None,
        "SECRET_KEY": "test-secret-key-" + "x" * 32,
        "TESTING": True,
        "WTF_CSRF_ENABLED": False,
    }
    settings.update(config)
    return create_app(settings)


def close_app(app) -> None:
    from portal.extensions import db

    app.extensions["portal_executor"].shutdown(wait=True)
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def build_template(db_url: str) -> None:
    """Build a database by running the migrations, then load reference data and demo users."""
    from flask_migrate import upgrade

    from portal import demo
    from portal.extensions import db

    app = make_app(db_url)
    with app.app_context():
        upgrade()
        demo.load_accounts(db.session)
        db.session.commit()
        demo.load_register(db.session)
        db.session.commit()
    close_app(app)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    build_template(f"sqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_admin():
    engine = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        unavailable("PostgreSQL", str(exc.orig).splitlines()[0])
    yield engine
    engine.dispose()


def pg_url(name: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_template(pg_admin):
    name = f"portal_test_{RUN_ID}_template"
    with pg_admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        build_template(pg_url(name))
        yield name
    finally:
        with pg_admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh database for one test, cloned from the migrated template, dropped after."""
    if request.param == "sqlite":
        path = tmp_path / "portal.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite:///{path}"
        return
    admin = request.getfixturevalue("pg_admin")
    template = request.getfixturevalue("pg_template")
    name = f"portal_test_{uuid.uuid4().hex[:12]}"
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    try:
        yield pg_url(name)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
def app(db_url):
    app = make_app(db_url)
    yield app
    close_app(app)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def session(app):
    """A session on the app's engine, outside any app context.

    Holding an app context across client requests would share Flask's ``g`` (and so the
    signed-in user) between them; a plain session keeps requests independent. It begins
    deferred on SQLite so that its reads never hold the write lock a request needs; call
    ``rollback()`` before reading what a request wrote (SQLite keeps a read snapshot).
    """
    from sqlalchemy.orm import Session

    from portal.database import READ_ONLY_OPTION
    from portal.extensions import db

    with app.app_context():
        engine = db.engine.execution_options(**{READ_ONLY_OPTION: True})
    with Session(engine) as s:
        yield s
        s.rollback()


def login(client, login: str, password: str = DEMO_PASSWORD):
    """Sign in through the form and return the response."""
    return client.post("/login", data={"login": login, "password": password})


def wait_for_jobs(app) -> None:
    """Wait until the in-process runner has finished everything submitted so far."""
    app.extensions["portal_executor"].submit(lambda: None).result(timeout=60)


@pytest.fixture(scope="session")
def redis_url():
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(REDIS_TEST_URL, socket_connect_timeout=2).ping()
    except RedisError as exc:
        unavailable("Redis", str(exc))
    return REDIS_TEST_URL


@pytest.fixture
def rq_prefix(redis_url):
    """A queue prefix owned by one test; every Redis key mentioning it is deleted after."""
    from redis import Redis

    prefix = f"portal-test-{uuid.uuid4().hex[:10]}"
    yield prefix
    conn = Redis.from_url(redis_url)
    keys = list(conn.scan_iter(match=f"*{prefix}*"))
    if keys:
        conn.delete(*keys)
    for key in ("rq:queues", "rq:workers"):
        for member in conn.smembers(key):
            if prefix.encode() in member:
                conn.srem(key, member)


def translated(app, msgid: str, lang: str, **params) -> str:
    """Return ``msgid`` as a page in ``lang`` shows it (translated, HTML-escaped)."""
    from flask_babel import force_locale, gettext
    from markupsafe import escape

    with app.test_request_context(), force_locale(lang):
        return str(escape(gettext(msgid, **params)))
