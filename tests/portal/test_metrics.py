"""/metrics: Prometheus text for trusted addresses or a token only, no paths in labels."""

from __future__ import annotations

import pytest

from portal.metrics import trusted_networks

OUTSIDE = {"REMOTE_ADDR": "203.0.113.9"}


def test_metrics_refused_from_an_untrusted_address_without_the_token(app, client):
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    app.config["METRICS_TOKEN"] = "scrape-secret-123"
    assert client.get("/metrics", environ_base=OUTSIDE).status_code == 404
    wrong = {"Authorization": "Bearer nope"}
    assert client.get("/metrics", environ_base=OUTSIDE, headers=wrong).status_code == 404
    right = {"Authorization": "Bearer scrape-secret-123"}
    answer = client.get("/metrics", environ_base=OUTSIDE, headers=right)
    assert answer.status_code == 200 and answer.content_type.startswith("text/plain")


def test_metrics_from_loopback_give_latency_by_endpoint_and_the_throttle(app, client):
    client.get("/healthz?who=someone@example.kz")
    answer = client.get("/metrics")
    assert answer.status_code == 200
    body = answer.text
    assert 'portal_request_duration_seconds_bucket{endpoint="ops.healthz"' in body
    assert 'status_class="2xx"' in body
    assert "portal_login_throttle_degraded 0.0" in body
    assert "/healthz" not in body and "example.kz" not in body
    # Never run: no value rather than a false "ok".
    assert "portal_audit_chain_ok" not in body


def test_trusted_addresses_are_a_setting_and_a_typo_stops_the_start():
    nets = trusted_networks("10.0.0.0/8, 192.0.2.7")
    assert [str(n) for n in nets] == ["10.0.0.0/8", "192.0.2.7/32"]
    with pytest.raises(RuntimeError, match="PORTAL_METRICS_ALLOW"):
        trusted_networks("10.0.0.0/8 not-an-address")


def test_metrics_allow_a_configured_network(app, client):
    app.extensions["portal_metrics_allow"] = trusted_networks("203.0.113.0/24")
    try:
        assert client.get("/metrics", environ_base=OUTSIDE).status_code == 200
        assert client.get("/metrics").status_code == 404  # loopback is no longer listed
    finally:
        app.extensions["portal_metrics_allow"] = trusted_networks("127.0.0.0/8, ::1")
