"""The layout's main menu: which links each set of roles sees, and its HTML, rendered once.

The menu depends only on the user's roles, the language, the page's endpoint and the app's
address (its script root), so its HTML is kept per app for each such combination: building it
in the template cost every page 45 translations and a hundred proxy look-ups (issue 16).
"""

from __future__ import annotations

from flask import Flask, current_app, request, url_for
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

EVERYONE: frozenset[str] = frozenset()  # an item every signed-in user sees
_CACHE_LIMIT = 4096  # combinations kept per app before the cache starts afresh

# (menu id, title, items) where an item is (endpoint, label, roles that see it); a menu id of
# None is a single link shown when its one item is. An item without an endpoint is a divider,
# shown between two shown items. The order is the menu bar's.
MENUS = (
    (
        "mine",
        _l("My cabinet"),
        (
            ("volunteers.cabinet", _l("My applications"), EVERYONE),
            ("shifts.mine", _l("My shifts"), EVERYONE),
            ("shifts.my_contributions", _l("My contributions"), EVERYONE),
            ("commission.my_rewards", _l("My rewards"), EVERYONE),
            ("appeals.my_cases", _l("My cases"), EVERYONE),
            ("inbox.index", _l("Notifications"), EVERYONE),
            ("pwa.app_shell", _l("App"), EVERYONE),
        ),
    ),
    (
        # One menu for the register and the shifts keeps the bar within 1280 px in Kazakh.
        "volunteers",
        _l("Volunteers"),
        (
            ("volunteers.applications", _l("Applications"), {"coordinator", "registrar"}),
            ("volunteers.members", _l("Register"), {"coordinator", "registrar", "deputy"}),
            ("volunteers.units", _l("Patrol units"), {"coordinator", "registrar"}),
            ("volunteers.import_register", _l("Import"), {"registrar"}),
            ("appeals.cases", _l("Hearings and complaints"), {"coordinator", "registrar"}),
            (None, None, EVERYONE),
            ("shifts.manage", _l("Shifts"), {"coordinator"}),
            ("shifts.queue", _l("Confirmations"), {"coordinator"}),
            ("shifts.summary", _l("Patrol summary"), {"coordinator", "deputy"}),
        ),
    ),
    (
        "commission",
        _l("Commission"),
        (
            ("commission.candidates", _l("Candidates this quarter"), {"coordinator"}),
            ("commission.my_nominations", _l("My nominations"), {"coordinator"}),
            ("commission.sessions_list", _l("Sessions"), {"secretary", "chair", "deputy"}),
            ("commission.my_sessions", _l("My sessions"), {"member", "chair", "secretary"}),
            ("commission.payouts_list", _l("Payouts"), {"finance", "deputy"}),
            ("appeals.cases", _l("Hearings and complaints"), {"secretary"}),
            ("commission.policies_page", _l("Reward policies"), {"admin"}),
            ("commission.commissions", _l("Commissions"), {"admin"}),
        ),
    ),
    (
        "sober",
        _l("Sober settlements"),
        (
            ("sober.registry", _l("Registry"), {"coordinator", "deputy"}),
            ("sober.declare", _l("Record a declaration"), {"coordinator"}),
            ("sober.record_indicator", _l("Record an indicator"), {"coordinator"}),
            ("sober.import_indicators", _l("Import indicators"), {"coordinator"}),
            ("sober.initiatives", _l("Initiatives"), EVERYONE),
            ("sober.submit_initiative", _l("Submit an initiative"), EVERYONE),
            ("sober.indicator_kinds", _l("Indicator kinds"), {"admin"}),
            ("sober.public_page", _l("Public page"), EVERYONE),
        ),
    ),
    (None, None, (("finance.lines", _l("Budget"), {"finance", "deputy"}),)),
    (None, None, (("appeals.cases", _l("Complaints to review"), {"reviewer"}),)),
    (
        "oversight",
        _l("Oversight"),
        (
            ("oversight.dashboard", _l("Spending dashboard"), {"deputy", "admin"}),
            ("oversight.audit_log", _l("Audit log"), {"deputy", "admin"}),
            ("oversight.red_flags", _l("Red flags"), {"deputy", "admin"}),
            ("oversight.appeal_statistics", _l("Complaints"), {"deputy", "admin"}),
            ("oversight.exports_page", _l("Exports"), {"deputy", "finance", "admin"}),
            ("oversight.inquiry_list", _l("Inquiries"), {"deputy", "secretary", "finance"}),
            (
                "oversight.session_reports",
                _l("Reports to the session"),
                {"deputy", "finance", "admin"},
            ),
        ),
    ),
    (
        "admin",
        _l("Administration"),
        (
            ("admin.users", _l("Users"), {"admin"}),
            ("admin.audit_chain", _l("Audit chain"), {"admin"}),
            ("admin.calendar_days", _l("Calendar"), {"admin"}),
            ("admin.register_settings", _l("Register settings"), {"admin"}),
            ("admin.attendance_settings", _l("Attendance settings"), {"admin"}),
            ("admin.tokens", _l("Access tokens"), {"admin"}),
            ("appeals.review_bodies", _l("Bodies that review complaints"), {"admin"}),
            ("appeals.legal_grounds", _l("Legal grounds of acts"), {"admin"}),
            ("volunteers.import_register", _l("Import the register"), {"admin"}),
            ("admin.retention_rules", _l("Retention of personal data"), {"admin"}),
            ("admin.units", _l("Administrative units"), {"admin"}),
            ("admin.contribution_kinds", _l("Contribution kinds"), {"admin"}),
            ("finance.mci", _l("MCI"), {"admin"}),
            ("admin.outbox", _l("Outbox"), {"admin"}),
            ("admin.operations", _l("Operations"), {"admin"}),
        ),
    ),
)


Link = tuple[str | None, object]  # (endpoint, label); (None, None) for a divider


def visible(roles: frozenset[str]) -> list[tuple[str | None, object, list[Link]]]:
    """Return the menus ``roles`` see, each with its shown items; empty menus are left out.

    A divider's endpoint and label are None; it is kept only between two shown items.
    """
    shown = []
    for menu_id, title, items in MENUS:
        links: list[Link] = []
        divide = False
        for ep, label, needs in items:
            if ep is None:
                divide = bool(links)
            elif not needs or roles & needs:
                if divide:
                    links.append((None, None))
                    divide = False
                links.append((ep, label))
        if links:
            shown.append((menu_id, title, links))
    return shown


# A shown menu: (menu id or None for a single link, title, [(address, label, is current page)]);
# a divider's address is None.
Shown = tuple[str | None, str, tuple[tuple[str | None, str | None, bool], ...]]


def _build(roles: frozenset[str], endpoint: str | None) -> tuple[Shown, ...]:
    return tuple(
        (
            menu_id,
            str(title),
            tuple(
                (url_for(ep), str(label), ep == endpoint) if ep else (None, None, False)
                for ep, label in links
            ),
        )
        for menu_id, title, links in visible(roles)
    )


def main_menu(user) -> tuple[Shown, ...]:
    """Return the menus ``user`` sees on the current page (none when signed out).

    Addresses and labels are plain text: the template escapes them as it writes the HTML.
    """
    if not user.is_authenticated:
        return ()
    roles = frozenset(user.roles())
    key = (roles, str(get_locale()), request.endpoint, request.script_root)
    cache = current_app.extensions["portal_menu"]
    menus = cache.get(key)
    if menus is None:
        if len(cache) >= _CACHE_LIMIT:
            cache.clear()
        menus = cache[key] = _build(roles, request.endpoint)
    return menus


def install(app: Flask) -> None:
    """Give templates ``main_menu(user)`` with a cache of its own per app."""
    app.extensions["portal_menu"] = {}
    app.jinja_env.globals["main_menu"] = main_menu
