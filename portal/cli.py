"""Command-line tools: demo data, the first administrator, reference data, audit check, worker."""

from __future__ import annotations

import sys

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select

from core import accounts, audit, places
from portal.extensions import db

DEMO_PASSWORD = "demo-portal-2026"  # noqa: S105  (published in the README for the demo)
# role -> KATO of the unit the demo account works in
DEMO_USERS = {
    "volunteer": "354000000",  # Bukhar-Zhyrau district
    "coordinator": "354000000",
    "registrar": "350000000",  # Karaganda region
    "secretary": "350000000",
    "member": "350000000",
    "chair": "350000000",
    "finance": "350000000",
    "deputy": "350000000",
    "admin": places.COUNTRY_KATO,
}
DEMO_NAMES = {
    "volunteer": "Айгерім Сапарова",
    "coordinator": "Ерлан Жұмабеков",
    "registrar": "Динара Оспанова",
    "secretary": "Гүлнар Әбенова",
    "member": "Бауыржан Тоқтаров",
    "chair": "Серік Нұрланов",
    "finance": "Алия Қасымова",
    "deputy": "Марат Ахметов",
    "admin": "Portal Administrator",
}


def _unit(kato: str) -> places.AdminUnit:
    unit = db.session.scalar(select(places.AdminUnit).where(places.AdminUnit.kato == kato))
    if unit is None:
        raise click.ClickException(f"no administrative unit with KATO {kato}; run 'places load'")
    return unit


def load_demo() -> list[tuple[str, str]]:
    """Load reference data and one account per role; running it again changes nothing."""
    places.load_reference_units(db.session)
    created = []
    for role, kato in DEMO_USERS.items():
        email = f"{role}@demo.kz"
        unit = _unit(kato)
        user = accounts.find_by_login(db.session, email)
        if user is None:
            user = accounts.create_user(
                db.session,
                email=email,
                phone=None,
                full_name=DEMO_NAMES[role],
                preferred_language="en" if role == "admin" else "kk",
                unit_id=unit.id,
                password=DEMO_PASSWORD,
                actor_id=None,
            )
        if role not in user.roles():
            accounts.grant_role(
                db.session, user_id=user.id, role=role, unit_id=unit.id, actor_id=None
            )
        created.append((email, role))
    return created


def install(app: Flask) -> None:
    """Register the commands on the app's CLI."""

    @app.cli.command("demo")
    def demo():
        """Migrate the database, load reference data and demo accounts, print the logins."""
        from flask_migrate import upgrade

        upgrade()
        users = load_demo()
        db.session.commit()
        click.echo(f"Demo accounts (password: {DEMO_PASSWORD}):")
        for email, role in users:
            click.echo(f"  {email:<24} {role}")

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

        places.load_reference_units(db.session)
        try:
            unit = _unit(kato)
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
        except DomainError as exc:
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

    @app.cli.command("worker")
    @click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
    @click.option("--name", default=None, help="Worker name (unique per host).")
    @click.argument("queues", nargs=-1)
    def worker(burst, name, queues):
        """Run an RQ worker for the portal's queues (default: all of them)."""
        from portal.jobs import JOBS, queue_name, relay_stale

        if not current_app.config.get("REDIS_URL"):
            raise click.ClickException("REDIS_URL is not set; without it jobs run in-process.")
        from redis import Redis
        from rq import Queue, Worker
        from rq.serializers import JSONSerializer

        app = current_app._get_current_object()
        names = queues or sorted({spec.queue for spec in JOBS.values()})
        connection = Redis.from_url(app.config["REDIS_URL"])
        resent = relay_stale(app)
        if resent:
            click.echo(f"re-sent {resent} job run(s) left queued")
        # No pooled connection may cross the fork into the work-horse.
        db.engine.dispose()
        rq_queues = [
            Queue(queue_name(app, q), connection=connection, serializer=JSONSerializer)
            for q in names
        ]
        Worker(rq_queues, connection=connection, serializer=JSONSerializer, name=name).work(
            burst=burst, with_scheduler=not burst
        )
