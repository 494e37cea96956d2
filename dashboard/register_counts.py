"""The registers' figures per day: counts per state, headcounts, arrivals; today's live, and
each past day's close kept in ``register_counts`` for "change since yesterday".

:func:`register_metrics` computes the figures now, per subdistrict and for the district (an
empty ``subdistrict_code``); :func:`snapshot_registers` writes them as the day's row, rewritten
through the day by the ``snapshot_registers`` job, so the last write of a day is its close.

Metric names (``register`` / ``metric``):

- ``enterprises``: ``state:<state>`` for each reopening state, ``lagging`` (planned day passed
  and not reopened), ``planned_headcount``, ``returned_headcount``, ``pending_approvals``,
  ``checkins_today`` (only counts whose ``checkins_on`` is today: after midnight yesterday's
  are not today's), ``total``;
- ``shops``: ``state:open``, ``state:closed``, ``state:unreported`` (no report for today),
  ``state:closed_down``, ``staff_registered``, ``total``;
- ``sites``: ``state:<state>``, ``lagging``, ``headcount``, ``new_arrivals_today``,
  ``key_region_arrivals``, ``unchecked_arrivals``, ``flagged`` (sites with an unchecked
  key-region arrival), ``total``.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from dashboard import states
from dashboard.ingest.write import upsert
from dashboard.models import ConstructionSite, Enterprise, RegisterCount, Shop, utcnow

DISTRICT = ""  # subdistrict_code of the district-wide rows

Metrics = dict[tuple[str, str, str], float]  # (register, subdistrict_code, metric) -> value


def _add(out: Metrics, register: str, rows: Iterable[tuple], names: list[str]) -> None:
    """Fold grouped rows (subdistrict, *values) into ``out`` and into the district's total."""
    for sub, *values in rows:
        for name, value in zip(names, values, strict=True):
            v = float(value or 0)
            if sub:
                out[(register, sub, name)] += v
            out[(register, DISTRICT, name)] += v


def _reopening(model: type, today: dt.date) -> tuple[list, list[str]]:
    """Counts per reopening state, the laggards and the total, for enterprises or sites."""
    cols = [func.count().filter(model.state == s) for s in states.REOPENING_STATES]
    lagging = func.count().filter(
        and_(model.planned_reopen_date < today, model.state != states.REOPENED)
    )
    names = [f"state:{s}" for s in states.REOPENING_STATES] + ["lagging", "total"]
    return [*cols, lagging, func.count()], names


def register_metrics(session: Session, today: dt.date) -> Metrics:
    """Every register figure now, with ``today`` the district-local day (shops' reports)."""
    out: Metrics = defaultdict(float)

    cols, names = _reopening(Enterprise, today)
    sums = [
        func.sum(Enterprise.planned_headcount),
        func.sum(Enterprise.returned_headcount),
        func.sum(Enterprise.pending_approvals),
        func.sum(Enterprise.checkins_today).filter(Enterprise.checkins_on == today),
    ]
    rows = session.execute(
        select(Enterprise.subdistrict_code, *cols, *sums).group_by(Enterprise.subdistrict_code)
    )
    _add(
        out,
        "enterprises",
        rows,
        [*names, "planned_headcount", "returned_headcount", "pending_approvals", "checkins_today"],
    )

    reported = and_(Shop.open_on == today, Shop.is_open.is_not(None))
    shop_state = case(
        (Shop.closed_down.is_(True), states.SHOP_CLOSED_DOWN),
        (and_(reported, Shop.is_open.is_(True)), states.SHOP_OPEN),
        (and_(reported, Shop.is_open.is_(False)), states.SHOP_CLOSED),
        else_=states.SHOP_UNREPORTED,
    )
    rows = session.execute(
        select(
            Shop.subdistrict_code,
            *[func.count().filter(shop_state == s) for s in states.SHOP_STATES],
            func.sum(Shop.staff_registered),
            func.count(),
        ).group_by(Shop.subdistrict_code)
    )
    _add(
        out,
        "shops",
        rows,
        [*(f"state:{s}" for s in states.SHOP_STATES), "staff_registered", "total"],
    )

    cols, names = _reopening(ConstructionSite, today)
    rows = session.execute(
        select(
            ConstructionSite.subdistrict_code,
            *cols,
            func.sum(ConstructionSite.headcount),
            func.sum(ConstructionSite.new_arrivals_today),
            func.sum(ConstructionSite.key_region_arrivals),
            func.sum(ConstructionSite.unchecked_arrivals),
            func.count().filter(ConstructionSite.unchecked_arrivals > 0),
        ).group_by(ConstructionSite.subdistrict_code)
    )
    _add(
        out,
        "sites",
        rows,
        [
            *names,
            "headcount",
            "new_arrivals_today",
            "key_region_arrivals",
            "unchecked_arrivals",
            "flagged",
        ],
    )
    return dict(out)


def snapshot_registers(session: Session, today: dt.date, *, now: dt.datetime | None = None) -> int:
    """Write today's figures as ``today``'s rows (replacing the day's earlier snapshot).
    Returns the number of rows written. Does not commit."""
    now = now or utcnow()
    metrics = register_metrics(session, today)
    session.execute(delete(RegisterCount).where(RegisterCount.date == today))
    records = [
        {
            "date": today,
            "register": register,
            "subdistrict_code": sub,
            "metric": metric,
            "value": value,
            "updated_at": now,
        }
        for (register, sub, metric), value in metrics.items()
    ]
    if records:
        key = ("date", "register", "subdistrict_code", "metric")
        upsert(session, RegisterCount.__table__, records, key=key, kind="register_counts")
    return len(records)


def day_close(session: Session, day: dt.date) -> Metrics:
    """The figures stored for ``day`` (its close, or its latest snapshot); empty if none."""
    rows = session.execute(
        select(
            RegisterCount.register,
            RegisterCount.subdistrict_code,
            RegisterCount.metric,
            RegisterCount.value,
        ).where(RegisterCount.date == day)
    )
    return {(r, s, m): v for r, s, m, v in rows}
