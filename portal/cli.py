"""Command-line tools: demo data, the first administrator, reference data, audit check, worker."""

from __future__ import annotations

import gc
import importlib
import sys
from typing import NoReturn

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import text

from core import accounts, audit, places, sealing
from portal import database
from portal.config import is_production
from portal.extensions import db


def _refuse(message: str) -> NoReturn:
    """Stop the command with one line, as a start-up error does (``portal: …``)."""
    sys.exit(f"portal: {message}")


def _ready(app: Flask, name: str) -> None:
    """Check what a long-running process needs (Redis, its database) before it starts."""
    try:
        database.check_process(app, name)
    except database.StartupError as exc:
        _refuse(str(exc))


def install(app: Flask) -> None:
    """Register the commands on the app's CLI."""

    @app.cli.command("demo")
    @click.option(
        "--scale",
        "scale",
        type=click.IntRange(min=1),
        default=None,
        metavar="N",
        help="Also load a region of N members with a year of activity (bulk; e.g. 50000).",
    )
    def demo(scale):
        """Migrate the database, load reference data and demo accounts, print the logins."""
        if is_production(current_app.config):
            _refuse(
                "flask demo does not run in production (PORTAL_ENV=production): its accounts "
                "have a published password"
            )
        from flask_migrate import upgrade

        import demo as demo_data  # the loaders ship beside the portal, loaded only here

        upgrade()
        users = demo_data.load_accounts(db.session)
        db.session.commit()
        added = demo_data.load_register(db.session)
        db.session.commit()
        if added:
            click.echo(f"{added} demo applications and register entries loaded.")
            from demo import retention as demo_retention

            closed = demo_retention.load_retention(db.session, demo_data.DEMO_PASSWORD)
            db.session.commit()
            click.echo(f"{closed} closed demo applications for the retention of personal data.")
        budget_lines = demo_data.load_budget(db.session)
        db.session.commit()
        if budget_lines:
            click.echo(f"{budget_lines} demo budget lines for {demo_data.BUDGET_YEAR} loaded.")
        from demo import activity as demo_activity

        planned = demo_activity.load_activity(db.session, demo_data.DEMO_PASSWORD)
        db.session.commit()
        if planned:
            click.echo(f"{planned} demo shifts with attendance and contributions loaded.")
        from demo import sober as demo_sober

        sober_counts = demo_sober.load_sober(db.session, demo_data.DEMO_PASSWORD)
        db.session.commit()
        if sober_counts:
            click.echo(
                "{settlements} demo sober settlements with {values} indicator values and "
                "{initiatives} initiatives loaded.".format(**sober_counts)
            )
        users = [*users, (demo_activity.SECOND_COORDINATOR, "coordinator")]
        from demo import commission as demo_commission

        extra = demo_commission.load_commission(db.session, demo_data.DEMO_PASSWORD)
        db.session.commit()
        if extra:
            click.echo("A reward commission with a finalised session and an open one loaded.")
        users = [*users, *((email, "member") for email in demo_commission.EXTRA_MEMBERS)]
        users = [*users, (demo_sober.REGION_COORDINATOR, "coordinator")]
        from demo import appeals as demo_appeals

        people = demo_appeals.load_appeals(db.session, demo_data.DEMO_PASSWORD)
        db.session.commit()
        if people:
            click.echo("Demo hearings and complaints in every state loaded.")
        users = [*users, *((email, "applicant") for email in people)]
        if scale:
            _load_scale(scale)
        click.echo(f"Demo accounts (password: {demo_data.DEMO_PASSWORD}):")
        for email, role in users:
            click.echo(f"  {email:<24} {role}")

    def _load_scale(members: int) -> None:
        import time

        import demo as demo_data
        from demo import scale as demo_scale

        if demo_scale.loaded(db.session):
            click.echo("A scale region is loaded already; nothing added.")
            return
        click.echo(f"Loading a region of {members:,} members (one transaction)…")
        started = time.perf_counter()
        for report in demo_scale.generate(
            db.session, members=members, password=demo_data.DEMO_PASSWORD
        ):
            click.echo(f"  {report.line()}")
        db.session.commit()
        if db.engine.dialect.name == "postgresql":
            # The loader's ANALYZE gave the planner its statistics; VACUUM (outside any
            # transaction) also marks the freshly written pages all-visible, so that an
            # index-only scan (candidates' points) is one from the first request.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                conn.execute(text("VACUUM (ANALYZE)"))
        click.echo(f"Scale region committed in {time.perf_counter() - started:.1f} s.")

    @app.cli.command("create-admin")
    @click.option("--email", required=True)
    @click.option("--name", "full_name", required=True)
    @click.option(
        "--kato",
        default=places.COUNTRY_KATO,
        show_default=True,
        help="KATO code of the unit administered (default: the whole country).",
    )
    @click.password_option()
    def create_admin(email, full_name, kato, password):
        """Create an administrator account (reference data is loaded first)."""
        from core.errors import DomainError
        from portal.session_policy import DEMO_DOMAIN

        if is_production(current_app.config) and email.strip().lower().endswith(DEMO_DOMAIN):
            _refuse(f"{DEMO_DOMAIN} addresses are the demo's; give the administrator's own address")
        places.load_reference_units(db.session)
        try:
            unit = places.by_kato(db.session, kato)
            user = accounts.create_user(
                db.session,
                email=email,
                phone=None,
                full_name=full_name,
                preferred_language="kk",
                unit_id=unit.id,
                password=password,
                actor_id=None,
            )
            accounts.grant_role(
                db.session, user_id=user.id, role="admin", unit_id=unit.id, actor_id=None
            )
        except (DomainError, LookupError) as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"Administrator {user.email} created for {unit.name_ru} ({unit.kato}).")

    places_cli = AppGroup("places", help="Administrative units (KATO reference data).")
    app.cli.add_command(places_cli)

    @places_cli.command("load")
    def places_load():
        """Load the bundled KATO reference data (existing codes are kept)."""
        added = places.load_reference_units(db.session)
        db.session.commit()
        click.echo(f"{added} administrative units added.")

    audit_cli = AppGroup("audit", help="The tamper-evident audit chain.")
    app.cli.add_command(audit_cli)

    @audit_cli.command("verify")
    def audit_verify():
        """Verify every link; print OK and the head hash, or the first broken seq (exit 1)."""
        report = audit.verify_chain(db.session)
        if report.ok:
            click.echo(
                f"OK rows={report.rows} head_seq={report.head_seq} head_hash={report.head_hash}"
            )
            return
        click.echo(
            f"BROKEN at seq {report.first_bad_seq} ({report.problem}); rows={report.rows}", err=True
        )
        sys.exit(1)

    keys_cli = AppGroup("keys", help="The keys that seal personal data at rest.")
    app.cli.add_command(keys_cli)

    @keys_cli.command("new")
    @click.option("--id", "key_id", default="k1", help="The new key's id (1-16 characters).")
    def keys_new(key_id):
        """Print a new data key to put FIRST in PORTAL_DATA_KEYS, and a new index key."""
        from core.sealing import new_key

        click.echo(f"data key (first in PORTAL_DATA_KEYS): {key_id}:{new_key()}")
        click.echo(f"index key (PORTAL_INDEX_KEY, only for a new installation): {new_key()}")

    @keys_cli.command("status")
    def keys_status():
        """Count the sealed values of each column by the key that sealed them."""
        from core import key_rotation

        for column, counts in key_rotation.census(db.session, db.metadata).items():
            by_key = ", ".join(f"{k}={n}" for k, n in sorted(counts.items())) or "empty"
            click.echo(f"{column}: {by_key}")

    @keys_cli.command("rotate")
    @click.option("--batch", default=500, show_default=True, type=click.IntRange(1, 100_000))
    def keys_rotate(batch):
        """Re-seal every value under the first key of PORTAL_DATA_KEYS; resumable."""
        from core import key_rotation

        total = key_rotation.rotate(
            db.session,
            db.metadata,
            batch=batch,
            commit=db.session.commit,
            progress=lambda column, done: click.echo(f"{column}: {done} re-sealed"),
        )
        db.session.commit()
        click.echo(f"{total} values re-sealed under key {sealing.keyring().current_id}.")

    members_cli = AppGroup("members", help="The akimat's register of members.")
    app.cli.add_command(members_cli)

    @members_cli.command("expire")
    def members_expire():
        """Mark memberships whose certificate has expired (run daily, e.g. from cron)."""
        from core import clock
        from volunteers import register

        expired = register.expire_due(db.session, today=clock.today())
        db.session.commit()
        click.echo(f"{expired} membership(s) marked expired.")

    calendar_cli = AppGroup("calendar", help="Kazakhstan working-day calendar.")
    app.cli.add_command(calendar_cli)

    @calendar_cli.command("load")
    def calendar_load():
        """Load the bundled holidays and transfers (dates already present are kept)."""
        from appeals import grounds
        from core import calendar

        added = calendar.load_reference_days(db.session)
        # The legal grounds of hearings' acts are reference data loaded alongside.
        loaded = grounds.load_grounds(db.session)
        db.session.commit()
        click.echo(f"{added} calendar days added.")
        click.echo(f"{loaded} legal grounds added.")

    budget_cli = AppGroup("budget", help="Budget lines and the ledger.")
    app.cli.add_command(budget_cli)

    @budget_cli.command("reconcile")
    def budget_reconcile():
        """Reconcile the books; print every difference and exit 1 if there is any.

        Checks every line's counters against its ledger and its approved amount against its
        verified decisions, every approved money reward's commitment and every paid or
        handed-over payout's disbursement.
        """
        from incentives.jobs import reconcile_books
        from portal.database import read_only

        findings = reconcile_books(db.session, read_only)
        if not findings:
            click.echo(
                "OK: every line agrees with its ledger and its verified decisions, every "
                "approved reward with its commitment, every payout with its disbursement."
            )
            return
        for finding in findings:
            click.echo(f"{finding.check}: {finding.describe()}", err=True)
        click.echo(f"{len(findings)} difference(s) found.", err=True)
        sys.exit(1)

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
    @click.option("--name", default=None, help="Worker name (unique per host).")
    @click.argument("queues", nargs=-1)
    def worker(burst, name, queues):
        """Run an RQ worker for the portal's queues (default: all of them)."""
        _ready(current_app, "worker")
        import logging

        from portal.jobs import JOBS, queue_name, relay_stale
        from portal.observability import configure_process

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set; without it jobs run in-process.")
        # JSON lines with a time, as the web's, for the worker's and RQ's own loggers.
        configure_process()
        log = logging.getLogger("portal.worker")
        from redis import Redis
        from rq import Queue, Worker
        from rq.serializers import JSONSerializer

        app = current_app._get_current_object()
        names = queues or sorted({spec.queue for spec in JOBS.values()} | {"mail"})
        connection = Redis.from_url(app.config["REDIS_URL"])
        resent = relay_stale(app)
        if resent:
            log.info("re-sent %s job run(s) left queued", resent)
        # No pooled connection may cross the fork into the work-horse.
        db.engine.dispose()
        # RQ runs each job in a work-horse forked from this process. The libraries the jobs
        # use (pandas for reports, openpyxl for workbooks, fpdf2 for PDFs; the web processes
        # load them only when asked) are loaded here once instead of in every horse. Then all
        # the worker holds is frozen out of the collector: a horse's full collection would
        # otherwise walk, and so copy, every page it inherited (issue 16, bench/load.py).
        for module in ("pandas", "openpyxl", "fpdf"):
            importlib.import_module(module)
        gc.freeze()
        rq_queues = [
            Queue(queue_name(app, q), connection=connection, serializer=JSONSerializer)
            for q in names
        ]
        # The scheduler moves retries due after their back-off interval (and other scheduled
        # jobs) onto the queues; a burst worker moves those already due once, before working.
        Worker(rq_queues, connection=connection, serializer=JSONSerializer, name=name).work(
            burst=burst, with_scheduler=True
        )

    @app.cli.command("scheduler")
    @click.option("--once", is_flag=True, help="Tick once and stop (for cron).")
    @click.option("--every", default=60.0, show_default=True, help="Seconds between ticks.")
    def scheduler(once, every):
        """Submit the periodic jobs (expiry, reconciliation, audit check) when they fall due."""
        _ready(current_app, "scheduler")
        import logging
        import time

        from portal import schedule
        from portal.observability import configure_process

        configure_process()  # JSON lines with a time, as the web's and the worker's
        log = logging.getLogger("portal.scheduler")
        app = current_app._get_current_object()
        from portal.jobs import relay_stale

        while True:
            for slot in schedule.tick(app):
                log.info("submitted %s", slot)
            if app.config.get("REDIS_URL"):
                # The outbox relay: runs and messages still queued after an outage are sent again.
                try:
                    resent = relay_stale(app)
                except Exception as exc:  # Redis down: try again at the next tick
                    log.warning("relay: %s", exc)
                else:
                    if resent:
                        log.info("re-sent %s queued job run(s) and message(s)", resent)
            if once:
                return
            time.sleep(every)

    @app.cli.command("serve")
    @click.option("--host", default="127.0.0.1", show_default=True)
    @click.option("--port", default=5000, show_default=True, type=int)
    def serve(host, port):
        """Serve the embedded setup: the web app with jobs and the schedule in this process."""
        _ready(current_app, "serve")
        from portal import schedule

        app = current_app._get_current_object()
        if not app.config.get("REDIS_URL"):
            schedule.start_in_process(app)
        from werkzeug.serving import run_simple

        # app.run() refuses to block inside a flask command; the server it wraps does not.
        run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)

    @app.cli.command("break-glass")
    @click.option("--email", required=True, help="The locked-out administrator's e-mail.")
    def break_glass(email):
        """Give a locked-out administrator a one-time password (run on the server only).

        The password is printed once and must be changed at the next sign-in; the account's
        second factor is removed, so the administrator enrols again. Audited with the OS user
        and host that ran it; any account that is not an administrator is refused.
        """
        import getpass
        import socket

        from core import password_resets
        from core.errors import DomainError

        try:
            user, password = password_resets.break_glass(
                db.session, email=email, operator=getpass.getuser(), host=socket.gethostname()
            )
        except DomainError as exc:
            db.session.rollback()
            raise click.ClickException(str(exc)) from None
        db.session.commit()
        click.echo(f"One-time password for {user.email}: {password}")
        click.echo("It must be changed at the first sign-in; two-factor sign-in is set up again.")
