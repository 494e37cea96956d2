"""China's official calendar: which days are workdays, weekends, holidays, adjusted working days.

The State Council publishes each year's holidays and the weekend days worked in exchange (调休)
late in the previous year, so the list cannot be computed: it comes from the maintained package
``chinesecalendar`` (import ``chinese_calendar``), which must be upgraded every December.

For a year the package does not know yet, :func:`day_type` falls back to the rules that do not
depend on that year's notice (Monday to Friday work, Saturday and Sunday off, and the fixed-date
holidays: 1 January, 1 May, 1 to 3 October) and logs a warning once per year, naming what it
cannot know (the Spring Festival, Qingming, Dragon Boat and Mid-Autumn holidays and every adjusted
working day). It is never silently wrong.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from enum import StrEnum
from functools import cache, lru_cache

logger = logging.getLogger(__name__)

try:  # the package is a runtime dependency; its absence degrades to the fallback, loudly
    import chinese_calendar as _cc
except ImportError:  # pragma: no cover - exercised only in a broken install
    _cc = None


class DayType(StrEnum):
    WORKDAY = "workday"
    WEEKEND = "weekend"
    HOLIDAY = "holiday"  # an official public holiday (including the weekend days inside it)
    ADJUSTED_WORKDAY = "adjusted_workday"  # a Saturday or Sunday worked in exchange (调休上班)

    @property
    def is_off(self) -> bool:
        return self in (DayType.WEEKEND, DayType.HOLIDAY)


# A calendar is any function from a date to its day type: China's by default, or
# :func:`weekdays_only` for a series from elsewhere (the backtest's ``--calendar none``).
Calendar = Callable[[dt.date], DayType]

# Holidays whose dates never move; the rest follow the lunar calendar and that year's notice.
FIXED_HOLIDAYS = {(1, 1), (5, 1), (10, 1), (10, 2), (10, 3)}


@cache
def covered_years() -> range:
    """The years the installed package knows (empty if it is not installed); fixed per process."""
    if _cc is None:
        return range(0)
    years = {d.year for d in _cc.holidays} | {d.year for d in _cc.workdays}
    return range(min(years), max(years) + 1)


@cache
def _warn_uncovered(year: int) -> None:
    # Cached so that a year is reported once per process, not once per station per hour.
    known = covered_years()
    span = f"{known.start}–{known.stop - 1}" if known else "none: chinesecalendar is not installed"
    logger.warning(
        "the official holiday calendar for %s is unknown (chinesecalendar knows %s; upgrade it): "
        "using weekends and the fixed-date holidays only, so the Spring Festival, Qingming, "
        "Dragon Boat and Mid-Autumn holidays and the adjusted working days of %s are missing",
        year,
        span,
        year,
    )


def weekdays_only(day: dt.date) -> DayType:
    """Monday to Friday work, the weekend off; no holidays (for series outside China)."""
    return DayType.WEEKEND if day.weekday() >= 5 else DayType.WORKDAY


def _fallback(day: dt.date) -> DayType:
    if (day.month, day.day) in FIXED_HOLIDAYS:
        return DayType.HOLIDAY
    return weekdays_only(day)


@lru_cache(maxsize=8192)  # the package scans its whole table on every call (~0.1 ms)
def day_type(day: dt.date) -> DayType:
    """The official type of ``day`` in mainland China."""
    if _cc is None or day.year not in covered_years():
        _warn_uncovered(day.year)
        return _fallback(day)
    on_holiday, _name = _cc.get_holiday_detail(day)
    weekend = day.weekday() >= 5
    if on_holiday:
        return DayType.HOLIDAY if not weekend or day in _cc.holidays else DayType.WEEKEND
    return DayType.ADJUSTED_WORKDAY if weekend else DayType.WORKDAY


def holiday_name(day: dt.date) -> str | None:
    """The English name of the holiday ``day`` belongs to (``"Spring Festival"``), if any."""
    if _cc is None or day.year not in covered_years():
        return None
    on_holiday, name = _cc.get_holiday_detail(day)
    return name if on_holiday or day.weekday() >= 5 else None


def day_types(days: Iterable[dt.date], calendar: Calendar = day_type) -> dict[dt.date, DayType]:
    """The type of each distinct day, computed once per day."""
    return {d: calendar(d) for d in set(days)}
