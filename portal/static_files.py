"""Static files under addresses that name their content, kept by browsers for a year.

Every ``url_for("static", ...)`` gets ``?v=`` and the first twelve hex digits of the file's
SHA-256. A request whose ``v`` is the file's digest is answered ``immutable`` for a year: a
page view on a phone then asks for its stylesheets and scripts once, not again on every page
(they were revalidated each time, eight round trips and about 6 ms of a worker's time per page
view, issue 16). A new release changes the digest, so the address changes with the file. An
address without ``v``, or with an old one, is answered as before (``no-cache``). A static
answer never carries the session (no cookie, no ``Vary: Cookie``): with ``Vary: Cookie`` a
browser keeps a file only until the session cookie next changes, then fetches it whole again.
Templates name a static file with ``static_url(filename)``: the same address, built once per
process (and script root) instead of by ``url_for`` on every page.
"""

from __future__ import annotations

import functools
import hashlib
import os

from flask import Flask, request, url_for
from flask.sessions import SecureCookieSessionInterface
from werkzeug.security import safe_join

MAX_AGE = 365 * 24 * 3600  # a year: the address changes whenever the file does


def version(static_folder: str, filename: str, *, watch: bool = False) -> str | None:
    """Return the digest that names ``filename``'s content (None for no such file).

    Read once per file: static files change only with a release, a new process. ``watch``
    (a developer's server, which reloads templates too) looks at the file's time and size
    each time, so that a stylesheet edited without a restart gets a new address.
    """
    if not watch:
        return _release_version(static_folder, filename)
    path = safe_join(static_folder, filename)
    try:
        found = os.stat(path) if path else None
    except OSError:
        return None
    return _digest(path, found.st_mtime_ns, found.st_size) if found else None


@functools.lru_cache(maxsize=1024)
def _release_version(static_folder: str, filename: str) -> str | None:
    return version(static_folder, filename, watch=True)


@functools.lru_cache(maxsize=1024)
def _digest(path: str, _mtime_ns: int, _size: int) -> str | None:
    try:
        with open(path, "rb") as fh:
            return hashlib.file_digest(fh, "sha256").hexdigest()[:12]
    except OSError:
        return None


def _static_url(filename: str) -> str:
    return url_for("static", filename=filename)


class _Sessions(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions, left out of static answers."""

    def save_session(self, app, session, response) -> None:
        if request.endpoint == "static":
            return  # read, perhaps, while answering; never to be written or varied on
        super().save_session(app, session, response)


def install(app: Flask) -> None:
    """Version the static addresses ``url_for`` builds and let browsers keep what they name."""
    app.session_interface = _Sessions()
    watch = bool(app.debug or app.config.get("TEMPLATES_AUTO_RELOAD"))

    @app.url_defaults
    def _versioned(endpoint, values):
        if endpoint == "static" and "filename" in values and "v" not in values:
            found = version(app.static_folder, values["filename"], watch=watch)
            if found:
                values["v"] = found

    if watch:
        app.jinja_env.globals["static_url"] = _static_url
    else:
        # A release's static addresses never change in the process: built once, not by the
        # layout's seven url_for calls on every page (14 µs each, issue 16). Kept without the
        # script root, which a request may carry in a header (gunicorn reads SCRIPT_NAME):
        # one entry per file of the templates, however many roots are asked for. The folder
        # is the one version() reads (as its cache does).
        built: dict[tuple[str | None, str], str] = {}

        def static_url(filename: str) -> str:
            key = (app.static_folder, filename)
            found = built.get(key)
            if found is None:
                found = built[key] = _static_url(filename).removeprefix(request.script_root)
            return request.script_root + found

        app.jinja_env.globals["static_url"] = static_url

    @app.after_request
    def _kept(response):
        if request.endpoint != "static" or response.status_code not in (200, 304):
            return response
        asked = request.args.get("v")
        filename = request.view_args["filename"]
        if asked and asked == version(app.static_folder, filename, watch=watch):
            response.headers["Cache-Control"] = f"public, max-age={MAX_AGE}, immutable"
        return response
