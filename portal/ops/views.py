"""/healthz answers while the process lives; /readyz checks the database, Redis and migrations."""

from __future__ import annotations

from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from portal import releases
from portal.extensions import db
from portal.security import PUBLIC, allow

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
@allow(PUBLIC)
def healthz():
    # Nothing but the process itself: a slow database must not get a live process restarted.
    return jsonify(status="ok")


def _migrations_state() -> tuple[bool, str]:
    """Return whether this code may serve the schema: at its head, or ahead and declaring it.

    A rolling upgrade migrates first, so the previous release's processes stay ready on a
    database one release ahead when its migrations were expand-only (portal/releases.py).
    """
    script = ScriptDirectory.from_config(current_app.extensions["migrate"].migrate.get_config())
    with db.engine.connect() as conn:
        return releases.migration_state(conn, script)


@bp.route("/readyz")
@allow(PUBLIC)
def readyz():
    checks: dict[str, str] = {}
    ready = True
    try:
        with db.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
        servable, checks["migrations"] = _migrations_state()
        ready &= servable
    except SQLAlchemyError as exc:
        checks["database"] = f"unreachable: {type(exc).__name__}"
        ready = False
    redis_url = current_app.config.get("REDIS_URL")
    if redis_url:
        from redis import Redis
        from redis.exceptions import RedisError

        try:
            Redis.from_url(redis_url, socket_connect_timeout=2, socket_timeout=2).ping()
            checks["redis"] = "ok"
        except RedisError as exc:
            checks["redis"] = f"unreachable: {type(exc).__name__}"
            ready = False
    else:
        checks["redis"] = "not used (jobs run in-process)"
    return jsonify(status="ready" if ready else "not ready", checks=checks), 200 if ready else 503
