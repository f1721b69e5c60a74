"""The patrol app (PWA): its shell page, the service worker and the web app manifest.

The shell at ``/app`` is an ordinary page of the portal (the same layout, the same CSP); its
script (``static/pwa/app.js``) reads the volunteer's shifts, certificate and contribution kinds
from the JSON API and keeps actions taken offline in an outbox (IndexedDB) until they are sent.
The service worker is served from the root so that its scope covers ``/app`` and ``/api/v1``;
its cache name carries a digest of everything it precaches, so a new release replaces the
cached shell (and a changed asset changes the worker's bytes, which is what makes a browser
install the new one).
"""

from __future__ import annotations

import functools
import hashlib
import json
import re
from pathlib import Path

from flask import Blueprint, Response, current_app, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from portal import static_files
from portal.labels import KIND_LABELS, SIGNUP_STATUS_LABELS
from portal.security import SIGNED_IN, allow
from portal.shifts.views import confirm_minutes
from volunteers import attendance

bp = Blueprint("pwa", __name__)

THEME_FALLBACK = "#00587a"
BACKGROUND = "#ffffff"
ICON_SIZES = (192, 512)
# The files of the layout and the app that the shell needs offline (under static/).
SHELL_STATIC = (
    "vendor/bootstrap-5.3.9/bootstrap.min.css",
    "css/portal.css",
    "favicon.svg",
    "pwa/app.css",
    "vendor/bootstrap-5.3.9/bootstrap.bundle.min.js",
    "js/busy.js",
    "js/table_cards.js",
    "js/place_filter.js",
    "pwa/outbox.js",
    "pwa/app.js",
    *(f"pwa/icon-{size}.png" for size in ICON_SIZES),
)
# Read network-first, answered from the cache offline (GET only; nothing else is cached).
CACHED_API = (
    "/api/v1/session",
    "/api/v1/me/shifts",
    "/api/v1/me/certificate",
    "/api/v1/me/contribution-kinds",
    "/api/v1/me/memberships",
)
_THEME = re.compile(r"\.bg-portal\s*\{[^}]*?background-color:\s*(#[0-9a-fA-F]{3,8})\b")


def theme_colour() -> str:
    """Return the colour of the portal's menu bar, as its stylesheet sets it."""
    return _theme_of(current_app.static_folder)


# Static files change only with a release (a new process): read them once, not per request.
@functools.cache
def _theme_of(static_folder: str) -> str:
    try:
        css = (Path(static_folder) / "css/portal.css").read_text(encoding="utf-8")
        found = _THEME.search(css)
    except OSError:
        found = None
    return found.group(1) if found else THEME_FALLBACK


def _precache() -> list[str]:
    return [
        url_for("pwa.app_shell"),
        url_for("pwa.manifest"),
        *(url_for("static", filename=name) for name in SHELL_STATIC),
    ]


@functools.cache
def _worker(static_folder: str) -> tuple[bytes, str]:
    """The worker's source, and a digest of it and of every static file it precaches."""
    source = (Path(static_folder) / "pwa/sw.js").read_bytes()
    digest = hashlib.sha256(source)
    for name in SHELL_STATIC:  # each file by the digest that also names its address
        digest.update(f"{name}:{static_files.version(static_folder, name) or 'missing'}".encode())
    return source, digest.hexdigest()[:16]


@bp.route("/app")
@allow(SIGNED_IN)
def app_shell():
    strings = {
        "statuses": {code: str(label) for code, label in SIGNUP_STATUS_LABELS.items()},
        "kinds": {code: str(label) for code, label in KIND_LABELS.items()},
        "status": _("Status"),
        "online": _("Online"),
        "offlineShort": _("Offline"),
        "offline": _(
            "Offline: your actions are kept on this phone and sent when it is back online."
        ),
        "checkIn": _("Check in"),
        "checkOut": _("Check out"),
        "checkOutAlready": _("Check out already?"),
        "yesCheckOut": _("Yes, check out"),
        "checkInLabel": _("Check-in: %(place)s, %(time)s"),
        "checkOutLabel": _("Check-out: %(place)s, %(time)s"),
        "contributionLabel": _("Contribution: %(kind)s, %(date)s"),
        "waiting": _("Recorded offline — waiting to send"),
        "recordedOffline": _("recorded offline"),
        "contributionKept": _("The contribution is kept and will be sent for confirmation."),
        "noShifts": _("You are not signed up for any shift."),
        "noCertificate": _("You have no certificate yet."),
        "noMember": _("Contributions are logged once you are in the akimat's register."),
        "notLoaded": _("Not available offline yet: open the app once while online."),
        "signInAgain": _("Sign in again to send what is waiting."),
        "dismiss": _("Dismiss"),
        "problem": _("The portal refused this action."),
        "checkedInAt": _("Checked in at %(time)s"),
        "checkedOutAt": _("Checked out at %(time)s"),
        "validUntil": _("Valid until: %(date)s"),
        "certificateNo": _("Certificate No. %(number)s"),
        "notValid": _("Not valid"),
        "describe": _("Describe what was done."),
        "chooseKind": _("Choose the kind of contribution."),
        "enterHours": _("Enter the hours of patrol."),
        "needsReference": _("This kind needs the registration reference (e.g. the KUSP number)."),
    }
    return render_template(
        "pwa/app.html",
        strings=strings,
        timezone=current_app.config["BABEL_DEFAULT_TIMEZONE"],
        early_minutes=int(attendance.CHECK_IN_EARLY.total_seconds() // 60),
        late_minutes=int(attendance.CHECK_OUT_LATE.total_seconds() // 60),
        confirm_minutes=confirm_minutes(),
        api_root=f"{request.script_root}/api/v1",
    )


@bp.route("/sw.js")
@allow(SIGNED_IN)
def service_worker():
    source, version = _worker(current_app.static_folder)
    config = {
        "version": version,
        "precache": _precache(),
        "shell": url_for("pwa.app_shell"),
        "static": f"{request.script_root}{current_app.static_url_path}/",
        "api": [request.script_root + path for path in CACHED_API],
    }
    body = b"self.PWA_CONFIG = " + json.dumps(config).encode() + b";\n" + source
    response = Response(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/"
    response.headers["Cache-Control"] = "no-cache"
    return response


@bp.route("/manifest.webmanifest")
@allow(SIGNED_IN)
def manifest():
    lang = str(get_locale())
    body = {
        "name": _("Citizen Incentive Portal"),
        "short_name": _("Patrol"),
        "description": _("My shifts, check-in and check-out, contributions, my certificate."),
        "lang": lang,
        "id": url_for("pwa.app_shell"),
        "start_url": url_for("pwa.app_shell"),
        "scope": "/",
        "display": "standalone",
        "orientation": "portrait",
        "theme_color": theme_colour(),
        "background_color": BACKGROUND,
        "icons": [
            {
                "src": url_for("static", filename=f"pwa/icon-{size}.png"),
                "sizes": f"{size}x{size}",
                "type": "image/png",
                "purpose": "any maskable",
            }
            for size in ICON_SIZES
        ],
    }
    response = Response(json.dumps(body, ensure_ascii=False), mimetype="application/manifest+json")
    response.headers["Cache-Control"] = "no-cache"
    return response
