"""The Flask application: the factory that wires configuration, extensions and blueprints."""

from __future__ import annotations

import os
import sys
from pathlib import Path

from flask import Flask

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent


def asset_dir(name: str) -> Path:
    """Return the folder of ``templates``, ``static`` or ``migrations``.

    An installed portal carries them inside the package (setup.py copies them there); a
    checkout keeps them at its top level. The package comes first: an installed portal's parent
    is site-packages, where another distribution may have left a folder of the same name.
    """
    bundled = PACKAGE / name
    return bundled if bundled.is_dir() else ROOT / name


def create_app(config: dict | None = None) -> Flask:
    """Build the portal; settings come from the environment, then from ``config``."""
    from portal import (
        cli,
        database,
        errors,
        i18n,
        jobs,
        models,  # noqa: F401  (the metadata must know every table)
        security,
    )
    from portal.config import build_config
    from portal.extensions import babel, csrf, db, login_manager, migrate

    # An installed portal keeps its instance folder under the environment's prefix, as Flask
    # does for installed packages, never inside site-packages.
    checkout = asset_dir("templates").parent == ROOT
    default = ROOT / "instance" if checkout else Path(sys.prefix) / "var" / "portal-instance"
    instance = Path(os.environ.get("PORTAL_INSTANCE_PATH") or default)
    app = Flask(
        __name__,
        instance_path=str(instance),
        template_folder=str(asset_dir("templates")),
        static_folder=str(asset_dir("static")),
    )
    app.config.update(build_config(instance))
    app.config.from_prefixed_env("PORTAL")
    app.config.update(config or {})
    from portal.config import settle

    settle(app.config, instance)
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(Path(__file__).parent / "translations")
    from portal.forms import IdConverter, use_fast_html_params

    # <int:id> of every rule stops at an INTEGER column's largest value: /members/1e20 (in
    # digits) was a 500 (found by fuzzing, S13). Set before any blueprint adds its rules.
    app.url_map.converters["int"] = IdConverter
    use_fast_html_params()
    from core import accounts, clock, sealing

    clock.set_zone(app.config["BABEL_DEFAULT_TIMEZONE"])
    profile = app.config.get("PASSWORD_HASH_PROFILE", "standard")
    if profile not in accounts.PASSWORD_PROFILES or (
        profile != "standard" and not app.config.get("TESTING")
    ):
        raise RuntimeError(f"PASSWORD_HASH_PROFILE={profile!r} is only for test suites")
    accounts.set_password_profile(profile)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(asset_dir("migrations")))
    csrf.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    login_manager.init_app(app)
    database.configure_engine(app)
    if app.config.get("CHECK_SERVICES"):
        # Under the flask CLI only the database is checked here: most commands do without
        # Redis (db upgrade, audit verify); the worker, scheduler and serve check it themselves.
        database.check_services(app, redis=not database.under_cli())
    from portal.config import data_keys

    sealing.configure(sealing.Keyring.parse(*data_keys(app.config, instance)))

    from portal import auth_setup

    auth_setup.install(app)
    from portal import session_policy

    session_policy.install(app)
    security.install_headers(app)
    from portal import static_files

    static_files.install(app)
    errors.install(app)
    i18n.install(app)
    from portal import charts, menu

    charts.install(app)

    menu.install(app)
    jobs.install(app)
    from portal import observability

    observability.install(app)
    cli.install(app)

    # Each module adds its routes to its package's blueprint (imported one way, no cycle).
    from portal.admin import (  # noqa: F401
        record_views,
        retention_views,
        settings_views,
        token_views,
        unit_views,
    )
    from portal.admin import views as admin_views  # noqa: F401
    from portal.admin.blueprint import bp as admin_bp
    from portal.appeals import (  # noqa: F401
        case_views,
        complaint_views,
        delivery_views,
        document_views,
        hearing_views,
        person_views,
        review_body_views,
    )
    from portal.appeals.blueprint import bp as appeals_bp
    from portal.auth.views import bp as auth_bp
    from portal.commission import (  # noqa: F401
        minutes_views,
        nomination_views,
        payout_views,
        session_views,
        tax_views,
        vote_views,
    )
    from portal.commission import views as commission_views  # noqa: F401
    from portal.commission.blueprint import bp as commission_bp
    from portal.finance import decision_views  # noqa: F401
    from portal.finance import views as finance_views  # noqa: F401
    from portal.finance.blueprint import bp as finance_bp
    from portal.jobruns.views import bp as jobruns_bp
    from portal.ops.views import bp as ops_bp
    from portal.oversight import (  # noqa: F401
        appeal_case_views,
        appeal_views,
        audit_views,
        drilldown_views,
        export_views,
        flag_views,
        inquiry_views,
        pii_views,
        report_views,
    )
    from portal.oversight import views as oversight_views  # noqa: F401
    from portal.oversight.blueprint import bp as oversight_bp
    from portal.public.views import bp as public_bp
    from portal.pwa_views import bp as pwa_bp
    from portal.shifts import contribution_views, shift_views  # noqa: F401
    from portal.shifts import views as shifts_views  # noqa: F401
    from portal.shifts.blueprint import bp as shifts_bp
    from portal.sober import indicator_views, initiative_views  # noqa: F401
    from portal.sober import views as sober_views  # noqa: F401
    from portal.sober.blueprint import bp as sober_bp
    from portal.volunteers import (  # noqa: F401
        application_views,
        certificate_views,
        import_views,
        own_iban,
        register_views,
    )
    from portal.volunteers import views as volunteer_views  # noqa: F401
    from portal.volunteers.blueprint import bp as volunteers_bp

    for bp in (
        ops_bp,
        public_bp,
        pwa_bp,
        auth_bp,
        admin_bp,
        jobruns_bp,
        volunteers_bp,
        finance_bp,
        shifts_bp,
        commission_bp,
        sober_bp,
        oversight_bp,
        appeals_bp,
    ):
        app.register_blueprint(bp)
    from portal.api import setup as api_setup

    api_setup.install(app)
    from portal import calendar_views
    from portal.inbox import views as inbox_views

    inbox_views.install(app)
    calendar_views.install(app)
    from portal import throttle

    throttle.install(app)
    from portal import proxy

    # Outermost, so that every part of the app sees the client a trusted proxy forwarded.
    proxy.install(app)
    return app
