"""Periodic jobs: what runs daily or hourly, and the tick that submits each slot exactly once."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import threading
import time
from zoneinfo import ZoneInfo

from flask import Flask
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core import clock, jobruns
from portal import jobs
from portal.extensions import db

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Periodic:
    """A job kind run once per local day at ``hour`` or, with ``hour=None``, once per hour."""

    kind: str
    hour: int | None

    def slot(self, now_local: dt.datetime) -> str | None:
        """Return the slot due at ``now_local`` ("<kind>@<slot>"), or None before the hour."""
        if self.hour is None:
            return f"{self.kind}@{now_local:%Y-%m-%dT%H}"
        if now_local.hour < self.hour:
            return None
        return f"{self.kind}@{now_local:%Y-%m-%d}"


# Local (Kazakhstan) hours. Expiry runs after midnight so a certificate valid "until" a date
# stays active through that whole day.
PERIODIC = (
    Periodic("members.expire", hour=1),
    Periodic("budget.reconcile", hour=2),
    Periodic("audit.verify", hour=3),
    Periodic("oversight.flags", hour=4),
    # Personal data whose retention ended (volunteers.erasure), after the night's checks.
    Periodic("retention.apply", hour=5),
    Periodic("shifts.remind", hour=18),
    Periodic("shifts.close", hour=None),
)


def tick(app: Flask, now: dt.datetime | None = None) -> list[str]:
    """Submit every periodic job whose current slot has no run yet; return the slots submitted.

    Several web processes and schedulers may tick at once: the unique ``schedule_slot`` lets
    exactly one of them write the run, the others see the conflict and skip.
    """
    zone = ZoneInfo(app.config["BABEL_DEFAULT_TIMEZONE"])
    now_local = (now or clock.now()).astimezone(zone)
    due = {p.kind: p.slot(now_local) for p in PERIODIC}
    due = {kind: slot for kind, slot in due.items() if slot}
    if not due:
        return []
    with app.app_context():
        taken = set(
            db.session.scalars(
                select(jobruns.JobRun.schedule_slot).where(
                    jobruns.JobRun.schedule_slot.in_(due.values())
                )
            )
        )
        db.session.rollback()
        submitted = []
        for kind, slot in due.items():
            if slot in taken:
                continue
            try:
                jobs.submit(kind, requested_by_id=None, unit_id=None, schedule_slot=slot)
                db.session.commit()
                submitted.append(slot)
            except IntegrityError:
                db.session.rollback()
        return submitted


def start_in_process(app: Flask, every: float = 60.0) -> threading.Thread:
    """Tick in a daemon thread of this process (the embedded setup has no separate scheduler)."""

    def loop() -> None:
        while True:
            try:
                tick(app)
            except Exception:
                log.exception("scheduled tick failed; trying again in %s s", every)
            time.sleep(every)

    thread = threading.Thread(target=loop, name="portal-schedule", daemon=True)
    thread.start()
    return thread
