"""Engine set-up per backend (SQLite pragmas and BEGIN IMMEDIATE) and the start-up checks."""

from __future__ import annotations

import contextlib
from contextvars import ContextVar

from flask import Flask, has_request_context, request
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

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


def configure_engine(app: Flask) -> None:
    """Attach the per-backend connection hooks to the app's engine."""
    with app.app_context():
        engine = db.engine
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


def check_services(app: Flask) -> None:
    """Fail fast with one clear line when the database or Redis cannot be reached."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    try:
        with app.app_context(), db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        raise StartupError(
            f"cannot reach the database {url.render_as_string(hide_password=True)}: "
            f"{_first_line(exc)}"
        ) from None
    finally:
        with app.app_context():
            db.engine.dispose()
    redis_url = app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis
        from redis.exceptions import RedisError

        try:
            Redis.from_url(redis_url, socket_connect_timeout=3, socket_timeout=3).ping()
        except RedisError as exc:
            safe = make_url(redis_url.replace("redis://", "postgresql://", 1))
            raise StartupError(
                f"cannot reach Redis at {safe.host}:{safe.port or 6379}: {_first_line(exc)}"
            ) from None
