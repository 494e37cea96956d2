"""Station flow data as the forecast wants it: hourly actuals and the bookings known ahead.

The one place that turns the ``station_flows`` and ``station_bookings`` tables into the series
:func:`dashboard.forecast.fit_forecast` takes, for the hourly job and for the /station page.

Bookings lead (:data:`BOOKING_LEAD`, 24 h): for each hour, the booked count is the one in the
latest snapshot taken at least 24 hours before the hour started. The same lead for past hours
(from which the model learns how bookings turn into arrivals) and for the 24 hours ahead (which
at the forecast's issue time are known at most 1 to 24 hours early, so only a 24-hour-old
snapshot is known for all of them): the regression sees bookings of one kind throughout. A
shorter lead would train on nearly final bookings and then forecast the far hours from early,
lower ones, biasing those hours low. No snapshot later than ``until`` is ever used.
"""

from __future__ import annotations

import datetime as dt
import logging

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.models import StationBooking, StationFlow

logger = logging.getLogger(__name__)

BOOKING_LEAD = dt.timedelta(hours=24)
AHEAD = dt.timedelta(hours=24)


def _utc_index(values) -> pd.DatetimeIndex:
    return pd.DatetimeIndex(pd.to_datetime(list(values), utc=True))


def load_history(
    session: Session,
    station_code: str,
    *,
    until: dt.datetime,
    days: int,
    lead: dt.timedelta = BOOKING_LEAD,
) -> tuple[pd.Series, pd.Series | None]:
    """Hourly arrivals for ``[until - days, until)`` and the bookings known ``lead`` ahead.

    ``until`` is tz-aware (the first hour not yet counted: the forecast's origin). Returns:

    - actuals: arrivals per hour, float, indexed by tz-aware UTC hour starts, sorted; an hour
      without a row is absent (never 0);
    - bookings: per hour from ``until - days`` to ``until + 24 h`` (exclusive), the booked count
      of the latest snapshot with ``as_of <= hour_start - lead`` and ``as_of <= until``; hours
      no such snapshot covers are absent. ``None`` when no snapshot qualifies at all (a station
      the ticketing system does not cover, or none in the window).

    Reads only; never commits (the caller owns the session).
    """
    if until.tzinfo is None:
        raise ValueError("until must be time-zone aware")
    start = until - dt.timedelta(days=days)
    flows = session.execute(
        select(StationFlow.hour_start, StationFlow.arrivals)
        .where(
            StationFlow.station_code == station_code,
            StationFlow.hour_start >= start,
            StationFlow.hour_start < until,
        )
        .order_by(StationFlow.hour_start)
    ).all()
    actuals = pd.Series(
        [float(a) for _, a in flows], index=_utc_index(h for h, _ in flows), dtype=float
    )
    actuals.index.name = "hour_start"
    actuals.name = "arrivals"

    rows = session.execute(
        select(StationBooking.as_of, StationBooking.hour_start, StationBooking.booked).where(
            StationBooking.station_code == station_code,
            StationBooking.hour_start >= start,
            StationBooking.hour_start < until + AHEAD,
            StationBooking.as_of <= until,
            StationBooking.as_of <= until + AHEAD - lead,
        )
    ).all()
    if not rows:
        return actuals, None
    frame = pd.DataFrame(
        {
            "as_of": _utc_index(r[0] for r in rows),
            "hour_start": _utc_index(r[1] for r in rows),
            "booked": [float(r[2]) for r in rows],
        }
    )
    frame = frame[frame["as_of"] <= frame["hour_start"] - lead]
    if frame.empty:
        return actuals, None
    latest = frame.sort_values("as_of").groupby("hour_start", sort=True).last()
    bookings = latest["booked"].astype(float)
    bookings.index = pd.DatetimeIndex(bookings.index, name="hour_start")
    bookings.name = "booked"
    return actuals, bookings
