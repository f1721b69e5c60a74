"""Request logs: JSON, with a request id and the user id, and no personal data."""

from __future__ import annotations

import json
import logging

from portal.observability import JsonFormatter
from tests.conftest import login


def _lines(caplog):
    return [
        json.loads(JsonFormatter().format(r)) for r in caplog.records if r.name == "portal.access"
    ]


def test_each_request_is_logged_as_json_with_ids_and_no_query(app, client, caplog):
    caplog.set_level(logging.INFO, logger="portal.access")
    login(client, "coordinator@demo.kz")
    response = client.get(
        "/volunteers/members?q=900101300017", headers={"X-Request-ID": "lb-4f2a9c1e"}
    )
    assert response.headers["X-Request-ID"] == "lb-4f2a9c1e"
    line = _lines(caplog)[-1]
    assert line["request_id"] == "lb-4f2a9c1e"
    assert line["path"] == "/volunteers/members"
    assert line["status"] == 200 and line["user_id"] > 0
    assert "900101300017" not in json.dumps(_lines(caplog))


def test_an_odd_request_id_is_replaced(app, client, caplog):
    caplog.set_level(logging.INFO, logger="portal.access")
    response = client.get("/healthz", headers={"X-Request-ID": "<script>"})
    generated = response.headers["X-Request-ID"]
    assert generated != "<script>" and len(generated) == 32
    assert _lines(caplog)[-1]["user_id"] is None


def test_the_log_names_only_a_user_the_request_verified(app, client, session, caplog):
    """A committing POST names its user (without reloading it); an ended session names nobody."""
    from sqlalchemy import text

    caplog.set_level(logging.INFO, logger="portal.access")
    login(client, "volunteer@demo.kz")
    client.post("/language", data={"lang": "ru"})
    assert _lines(caplog)[-1]["user_id"] > 0
    # Signed out everywhere (a password change elsewhere): the cookie still carries the id.
    session.execute(
        text("UPDATE user_account SET session_epoch = session_epoch + 1 WHERE email = :e"),
        {"e": "volunteer@demo.kz"},
    )
    session.commit()
    client.get("/healthz")  # a request that never asks for its user
    assert _lines(caplog)[-1]["user_id"] is None
    client.get("/")
    assert _lines(caplog)[-1]["user_id"] is None
