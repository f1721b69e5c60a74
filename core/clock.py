"""Local time of the deployment: the zone in which dates of events and deadlines are counted."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

# Kazakhstan has one time zone, UTC+5, since 1 March 2024; a deployment may set another.
_zone = ZoneInfo("Asia/Almaty")


def set_zone(name: str) -> None:
    """Set the local zone (the portal calls this from its configuration)."""
    global _zone
    _zone = ZoneInfo(name)


def zone() -> ZoneInfo:
    """Return the local zone."""
    return _zone


def local_date(moment: dt.datetime) -> dt.date:
    """Return the local calendar date of an aware moment."""
    return moment.astimezone(_zone).date()


def local_day_bounds(day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    """Return the aware UTC moments at which the local ``day`` starts and ends."""
    start = dt.datetime.combine(day, dt.time(), tzinfo=_zone)
    end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(), tzinfo=_zone)
    return start.astimezone(dt.UTC), end.astimezone(dt.UTC)


def now() -> dt.datetime:
    """Return the current moment, aware, in UTC (stored and compared as such)."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Return today's date in the local zone: the one date every deadline, quarter and year use.

    Never ``date.today()``: on a server kept in UTC that is yesterday from 00:00 to 05:00 in
    Almaty, which moves legal deadlines.
    """
    return local_date(now())
