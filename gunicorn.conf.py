"""gunicorn settings: build the portal in the master, so that a wrong setting stops it at once."""

# The app is built once, before any worker is forked: a database, Redis or setting that is
# wrong makes wsgi.py exit with its one line ("portal: …") and gunicorn with it, instead of
# workers failing to boot and being restarted in a loop.
preload_app = True
wsgi_app = "wsgi:app"

# The portal reads X-Forwarded-* itself, from the proxies named in PORTAL_TRUSTED_PROXIES
# (portal/proxy.py); gunicorn's own trust of 127.0.0.1 would let any local process set the
# scheme past that setting.
forwarded_allow_ips = ""
secure_scheme_headers: dict[str, str] = {}


def post_fork(server, worker):
    """Give each worker its own database connections: none may be shared across the fork."""
    import sys

    portal = sys.modules.get("wsgi")  # absent when this file serves another app (bench/)
    if portal is None:
        return
    from portal.extensions import db

    with portal.app.app_context():
        db.engine.dispose(close=False)


# gunicorn's own lines (start, stop, a worker's timeout) in the portal's one format: JSON with
# time and level, scrubbed like every other line. Its access log stays off: the portal writes
# its own (portal.access), without query strings or addresses.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "portal.observability.JsonFormatter"}},
    "handlers": {
        "stderr": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    # Replaces gunicorn's defaults (its "console" handler included): other libraries' warnings
    # go out as JSON too; the portal's loggers have their own JSON handler.
    "root": {"level": "WARNING", "handlers": ["stderr"]},
    "loggers": {
        "gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
        "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
    },
}


def child_exit(server, worker):
    """With PROMETHEUS_MULTIPROC_DIR, a dead worker's latency samples stop counting as live."""
    import os

    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)
