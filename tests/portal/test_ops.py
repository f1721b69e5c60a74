"""Liveness and readiness probes."""

from __future__ import annotations

from sqlalchemy import text

from tests.conftest import close_app, make_app


def test_healthz_answers_without_touching_the_database(app, client):
    response = client.get("/healthz")
    assert response.status_code == 200 and response.json == {"status": "ok"}


def test_readyz_checks_database_migrations_and_redis(app, client, session):
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json["checks"]["database"] == "ok"
    assert ready.json["checks"]["migrations"] == "ok"
    # A database one migration behind the code is not ready.
    (current,) = session.execute(text("SELECT version_num FROM alembic_version")).one()
    session.execute(text("UPDATE alembic_version SET version_num = '0008_sober'"))
    session.commit()
    behind = client.get("/readyz")
    assert behind.status_code == 503
    assert behind.json["checks"]["migrations"].startswith("behind: 0008_sober")
    session.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": current})
    session.commit()


def test_readyz_reports_redis_down(db_url):
    app = make_app(db_url, REDIS_URL="redis://127.0.0.1:1/0", CHECK_SERVICES=False)
    try:
        response = app.test_client().get("/readyz")
        assert response.status_code == 503
        assert response.json["checks"]["redis"].startswith("unreachable")
        assert response.json["checks"]["database"] == "ok"
    finally:
        close_app(app)
