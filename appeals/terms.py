"""The APPK terms of hearings and complaints, and the working-day arithmetic they use."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from core import calendar, clock

# Administrative Procedural and Process-related Code of the Republic of Kazakhstan
# (No. 350-VI of 29 June 2020, adilet K2000000350). Day terms are working days unless stated
# (Arts. 64(3), 76(5)); a term ending on a non-working day ends on the next working day.
SOURCE = "APPK No. 350-VI of 29.06.2020"

# Art. 73(1): the preliminary decision is told no later than 3 working days before the act.
NOTICE_BEFORE_ACT_WD = 3
# Art. 73(1): objections, and the request for an oral hearing, within 2 working days of receipt.
OBJECTION_WD = 2
# Art. 74(4): the protocol of an oral hearing is signed within 2 working days.
PROTOCOL_SIGN_WD = 2
# Art. 74(6): remarks on the protocol within 3 working days of its signing.
REMARKS_WD = 3
# Art. 73(2): a procedure whose term is under 5 working days may skip the hearing.
SHORT_TERM_WD = 5
# Art. 91(4): the issuing body forwards a complaint within 3 working days (or grants it in full).
FORWARD_WD = 3
# Art. 99: the review body decides within 20 working days, without extension.
REVIEW_WD = 20
# Art. 92(1) and 92(1-1): 3 months to complain; 6 when the act did not say how to complain.
COMPLAINT_MONTHS = 3
COMPLAINT_MONTHS_NO_NOTICE = 6
# Art. 136(1): a claim to the court within 1 month of the complaint's decision.
COURT_MONTHS = 1

# Art. 64: a filing after working hours or on a day off is registered the next working day.
# Working hours of the akimat, local time (core.clock's zone, Asia/Almaty by default).
WORK_STARTS = dt.time(9, 0)
WORK_ENDS = dt.time(18, 0)


def is_working_day(session: Session, day: dt.date) -> bool:
    """Return whether ``day`` is a working day by the calendar of holidays and transfers."""
    return calendar.add_working_days(session, day - dt.timedelta(days=1), 1) == day


def working_day_after(session: Session, day: dt.date, n: int) -> dt.date:
    """Return the n-th working day after ``day`` (``day`` itself is not counted)."""
    return calendar.add_working_days(session, day, n)


def on_or_after(session: Session, day: dt.date) -> dt.date:
    """Return ``day`` if it is a working day, else the next working day (a term's last day)."""
    return day if is_working_day(session, day) else working_day_after(session, day, 1)


def registration_day(session: Session, at: dt.datetime) -> dt.date:
    """Return the day a filing made at the aware moment ``at`` is registered on.

    Before the end of working hours (``WORK_ENDS``) of a working day: that day; after them, or
    on a day off: the next working day.
    """
    local = at.astimezone(clock.zone())
    day = local.date()
    if local.time() < WORK_ENDS and is_working_day(session, day):
        return day
    return working_day_after(session, day, 1)


def add_months(day: dt.date, months: int) -> dt.date:
    """Return the same day ``months`` later (the month's last day when it is shorter)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return day.replace(year=year, month=month, day=min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)


def months_term_ends(session: Session, start: dt.date, months: int) -> dt.date:
    """Return the last day of a term of ``months`` from ``start``, moved off a day off."""
    return on_or_after(session, add_months(start, months))
