"""Prometheus metrics at /metrics: request latencies, queues, job outcomes and nightly checks.

gunicorn runs several workers and a scrape reaches only one of them. So everything that is
shared state (job outcomes, queue lengths, the last audit-chain check and reconciliation, the
sign-in limits' storage) is read from the database and Redis at scrape time: every worker
answers the same, nothing is lost when a worker restarts, and no directory must be shared.
Only request latency lives in the process. With ``PROMETHEUS_MULTIPROC_DIR`` set (an empty
directory, before gunicorn starts) prometheus-client keeps it in files there and a scrape sums
every worker's; without it a worker reports the requests it served itself.

Labels carry endpoint names, job kinds and queue names, never paths or anything a person typed.
The page is readable from ``PORTAL_METRICS_ALLOW`` (addresses or networks, default loopback)
or with ``Authorization: Bearer $PORTAL_METRICS_TOKEN``; anyone else gets a 404.
"""

from __future__ import annotations

import hmac
import ipaddress
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from redis.exceptions import RedisError
from sqlalchemy import func, select

from core import jobruns
from portal import throttle
from portal.extensions import db
from portal.security import PUBLIC, allow

bp = Blueprint("metrics", __name__)

DEFAULT_ALLOW = "127.0.0.0/8, ::1/128"
# Not registered in the default registry: a scrape builds its own (see ``_registry``).
LATENCY = Histogram(
    "portal_request_duration_seconds",
    "Time to answer a request, by endpoint and status class.",
    ["endpoint", "status_class"],
    registry=None,
)
# The nightly checks: job kind → the metric saying whether its last run found things right.
CHECKS = {
    "audit.verify": ("portal_audit_chain", "the audit chain verified intact"),
    "budget.reconcile": ("portal_reconciliation", "the budget books agreed"),
}


def trusted_networks(setting) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    """Parse ``PORTAL_METRICS_ALLOW`` (a list, or a string split by commas or spaces)."""
    items = setting if isinstance(setting, list | tuple) else str(setting).replace(",", " ").split()
    try:
        return [ipaddress.ip_network(str(item).strip(), strict=False) for item in items]
    except ValueError as exc:
        raise RuntimeError(f"PORTAL_METRICS_ALLOW: {exc}") from None


def _allowed() -> bool:
    token = str(current_app.config.get("METRICS_TOKEN") or "")
    given = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return True
    try:
        address = ipaddress.ip_address(request.remote_addr or "")
    except ValueError:
        return False
    return any(address in net for net in current_app.extensions["portal_metrics_allow"])


class _Snapshot:
    """The shared values, read from the database and Redis when the page is scraped."""

    def __init__(self, app: Flask):
        self.app = app

    def collect(self):
        run = jobruns.JobRun
        runs = GaugeMetricFamily(
            "portal_job_runs", "Job runs recorded, by kind and status.", labels=["kind", "status"]
        )
        counted = db.session.execute(
            select(run.kind, run.status, func.count()).group_by(run.kind, run.status)
        ).all()
        for kind, status, n in counted:
            runs.add_metric([kind, status], n)
        yield runs
        for kind, (name, what) in CHECKS.items():
            last = db.session.execute(
                select(run.status, run.finished_at)
                .where(run.kind == kind, run.status.in_(("succeeded", "failed")))
                .order_by(run.finished_at.desc(), run.id.desc())
                .limit(1)
            ).first()
            if last is None:
                continue  # never run: no value rather than a false alarm or a false "ok"
            yield GaugeMetricFamily(
                f"{name}_ok",
                f"1 when {what} at its last run, else 0.",
                value=int(last.status == "succeeded"),
            )
            yield GaugeMetricFamily(
                f"{name}_checked_timestamp_seconds",
                "When the last run of the check ended (Unix time).",
                value=last.finished_at.timestamp(),
            )
        db.session.rollback()
        yield GaugeMetricFamily(
            "portal_login_throttle_degraded",
            "1 when the sign-in limits count per process because their Redis storage is down.",
            value=int(throttle.degraded(self.app)),
        )
        yield from self._queues()

    def _queues(self):
        if not self.app.config.get("REDIS_URL"):
            return
        from portal.jobs import queue_lengths

        up = GaugeMetricFamily("portal_redis_up", "1 when Redis answered this scrape.")
        try:
            lengths = queue_lengths(self.app) or {}
        except RedisError:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        queues = GaugeMetricFamily(
            "portal_queue_length", "Jobs waiting in an RQ queue.", labels=["queue"]
        )
        for name, n in lengths.items():
            queues.add_metric([name], n)
        yield queues


def _registry(app: Flask) -> CollectorRegistry:
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.MultiProcessCollector(registry)
    else:
        registry.register(LATENCY)
    registry.register(_Snapshot(app))
    return registry


@bp.route("/metrics")
@allow(PUBLIC)
def metrics():
    if not _allowed():
        abort(404)
    body = generate_latest(_registry(current_app._get_current_object()))
    return Response(body, headers={"Content-Type": CONTENT_TYPE_LATEST})


def install(app: Flask) -> None:
    """Time every request and serve /metrics (the addresses allowed are checked here, once)."""
    app.extensions["portal_metrics_allow"] = trusted_networks(
        app.config.get("METRICS_ALLOW", DEFAULT_ALLOW)
    )
    app.register_blueprint(bp)

    @app.after_request
    def _observe(response):
        started = g.get("request_started")
        if started is not None:
            LATENCY.labels(
                endpoint=request.endpoint or "none",
                status_class=f"{response.status_code // 100}xx",
            ).observe(time.perf_counter() - started)
        return response
