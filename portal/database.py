"""Engine set-up per backend (SQLite pragmas and BEGIN IMMEDIATE) and the start-up checks."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

import click
from flask import Flask, has_request_context, request
from sqlalchemy import create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from portal.extensions import db

_read_only: ContextVar[bool] = ContextVar("portal_read_only", default=False)
# Execution option marking an engine or connection as a reader (deferred BEGIN on SQLite).
READ_ONLY_OPTION = "portal_read_only"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class StartupError(RuntimeError):
    """A service the portal needs is missing or unreachable; the message is one line."""


@contextlib.contextmanager
def read_only():
    """Run the enclosed transactions as readers (on SQLite: a deferred BEGIN, no write lock)."""
    token = _read_only.set(True)
    try:
        yield
    finally:
        _read_only.reset(token)


def _begin_statement() -> str:
    # Writers take SQLite's write lock at BEGIN, so a read-then-write never fails half-way
    # with "database is locked" and audit appends are serialized; safe requests only read.
    if _read_only.get() or (has_request_context() and request.method in SAFE_METHODS):
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def under_cli() -> bool:
    """Tell whether the app is being built for a ``flask`` command rather than a web server."""
    return click.get_current_context(silent=True) is not None


def configure_engine(app: Flask) -> None:
    """Attach the per-backend connection hooks to the app's engine."""
    try:
        with app.app_context():
            engine = db.engine
    except (ArgumentError, NoSuchModuleError, ImportError) as exc:
        # A driver that is not installed used to end as "No such command" under the CLI.
        raise StartupError(f"cannot use the database URL: {_first_line(exc)}") from None
    if engine.dialect.name == "postgresql":
        _serialize_writers(engine)
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_connect(dbapi_connection, _record):
        # Let SQLAlchemy emit BEGIN itself (the sqlite3 module's legacy mode skips it for reads).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=15000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _sqlite_begin(connection):
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            connection.exec_driver_sql("BEGIN")
        else:
            connection.exec_driver_sql(_begin_statement())


def _serialize_writers(engine) -> None:
    """On PostgreSQL, make every writing transaction take the audit chain's lock first.

    Every step that matters writes an audit event, and appends to the chain are serialized by
    a transaction-scoped advisory lock. A writer that locked a row (a guarded UPDATE, an INSERT
    whose foreign key locks its parent) before asking for the chain's lock could wait for a
    writer that holds the chain and wants that row: bench/chaos.py saw such deadlocks as 500s
    on votes, closings, voids and applications. Taking the chain's lock at BEGIN, as SQLite's
    BEGIN IMMEDIATE does, gives one lock order for every request and job. Readers (safe
    requests, ``read_only()`` and sessions marked READ_ONLY_OPTION) do not take it.
    """
    from core.audit import ADVISORY_LOCK_KEY

    @event.listens_for(engine, "begin")
    def _pg_begin(connection):
        if connection.get_execution_options().get(READ_ONLY_OPTION):
            return
        if _begin_statement() == "BEGIN IMMEDIATE":
            connection.exec_driver_sql(f"SELECT pg_advisory_xact_lock({int(ADVISORY_LOCK_KEY)})")


def _first_line(exc: BaseException) -> str:
    lines = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


def _safe_url(app: Flask) -> str:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)


def check_database(app: Flask) -> None:
    """Fail with one clear line when the database cannot be reached (within seconds)."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    # A connection of its own with a short connect timeout: an unroutable host must not
    # hold a starting process (gunicorn's master) for libpq's default of forever.
    args = {"connect_timeout": 5} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, poolclass=NullPool, connect_args=args)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StartupError(
            f"cannot reach the database {_safe_url(app)}: {_first_line(exc)}"
        ) from None
    finally:
        engine.dispose()


def check_redis(app: Flask) -> None:
    """Fail with one clear line when Redis is configured and does not answer."""
    redis_url = app.config.get("REDIS_URL")
    if not redis_url:
        return
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
    except (RedisError, ValueError) as exc:
        safe = make_url(redis_url.replace("redis://", "postgresql://", 1))
        raise StartupError(
            f"cannot reach Redis at {safe.host}:{safe.port or 6379}: {_first_line(exc)}"
        ) from None


def check_services(app: Flask, *, redis: bool = True) -> None:
    """Fail fast with one clear line when the database (or Redis) cannot be reached."""
    check_database(app)
    if redis:
        check_redis(app)


def check_process(app: Flask, name: str) -> None:
    """Check what a long-running ``flask`` process needs before it starts: Redis, a database.

    A worker or scheduler in production on the embedded SQLite file (no ``DATABASE_URL``)
    would work on a database of its own while the web processes use PostgreSQL.
    """
    from portal.config import is_production

    if name != "serve" and is_production(app.config) and _is_sqlite(app):
        raise StartupError(
            f"set DATABASE_URL to the portal's PostgreSQL database: a {name} in production "
            "does not use the embedded SQLite file"
        )
    check_redis(app)


def _is_sqlite(app: Flask) -> bool:
    return make_url(app.config["SQLALCHEMY_DATABASE_URI"]).get_backend_name() == "sqlite"
