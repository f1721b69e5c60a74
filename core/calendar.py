"""Kazakhstan working days for legal deadlines: the editable table of holidays and transfers."""

from __future__ import annotations

import csv
import datetime as dt
from importlib import resources

from sqlalchemy import CheckConstraint, Date, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core import calendar_rules
from core.db import Base
from core.errors import N_, Conflict, NotFound

KINDS = ("holiday", "working", "day_off")


class CalendarDay(Base):
    """A date that differs from the plain Monday–Friday week: a holiday or a transfer."""

    __tablename__ = "calendar_day"
    __table_args__ = (CheckConstraint(f"kind IN {KINDS!r}", name="kind_known"),)

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    name_kk: Mapped[str] = mapped_column(String(200))
    name_ru: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(300), default="")


def _rules(session: Session) -> tuple[set[dt.date], dict[dt.date, str]]:
    holidays, transfers = set(), {}
    for day in session.scalars(select(CalendarDay)):
        if day.kind == "holiday":
            holidays.add(day.day)
        else:
            transfers[day.day] = day.kind
    return holidays, transfers


def add_working_days(session: Session, start: dt.date, n: int) -> dt.date:
    """Return the n-th Kazakhstan working day after ``start``."""
    holidays, transfers = _rules(session)
    return calendar_rules.add_working_days(start, n, holidays, transfers)


def set_day(
    session: Session, *, day: dt.date, kind: str, name_kk: str, name_ru: str, source: str = ""
) -> CalendarDay:
    """Add a holiday or transfer (admin); a date appears once."""
    if kind not in KINDS:
        raise ValueError(kind)
    if session.get(CalendarDay, day) is not None:
        raise Conflict(N_("This date is already in the calendar."))
    entry = CalendarDay(
        day=day, kind=kind, name_kk=name_kk.strip(), name_ru=name_ru.strip(), source=source.strip()
    )
    session.add(entry)
    session.flush()
    return entry


def remove_day(session: Session, *, day: dt.date) -> None:
    """Remove a date from the calendar."""
    entry = session.get(CalendarDay, day)
    if entry is None:
        raise NotFound(N_("This date is not in the calendar."))
    session.delete(entry)
    session.flush()


def load_reference_days(session: Session) -> int:
    """Load the bundled holidays and transfers; dates already present are kept as edited."""
    path = resources.files("core").joinpath("data/holidays.csv")
    added = 0
    with path.open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            day = dt.date.fromisoformat(row["date"])
            if session.get(CalendarDay, day) is None:
                session.add(
                    CalendarDay(
                        day=day,
                        kind=row["kind"],
                        name_kk=row["name_kk"],
                        name_ru=row["name_ru"],
                        source=row.get("source", ""),
                    )
                )
                added += 1
    session.flush()
    return added
