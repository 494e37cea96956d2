"""Data versions: the scheduler writes, the web reads, and one cheap query tells what changed.

Every write to a dataset calls :func:`bump` in the same transaction, so a reader that sees the
new version also sees the new rows. The screen reads :func:`current` once per tick and redraws
only the panels whose datasets moved.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from dashboard.models import DataVersion, utcnow

# The datasets the product knows; each has an expected refresh interval in Settings.
DATASETS = (
    "areas",
    "indicators",
    "risk",
    "pings",
    "crowd",
    "enterprises",
    "shops",
    "sites",
    "station_flows",
    "station_bookings",
    "forecasts",
    "work_orders",
    # The overview feeds (issue 5): one dataset each, so each has its own freshness.
    "epidemic",
    "home_observation",
    "disinfection",
    "masks",
    "returnees",
)


def bump(*datasets: str, session: Session, at: dt.datetime | None = None) -> int:
    """Mark datasets as changed (insert on first use); the last one's new version. Does not
    commit. The UPDATE locks the dataset's row until the transaction ends, so writers of one
    dataset get their versions in commit order (what rows' ``sync_version`` relies on)."""
    new_version = 0
    at = at or utcnow()
    for name in datasets:
        if name not in DATASETS:
            raise ValueError(f"unknown dataset {name!r}; known: {', '.join(DATASETS)}")
        result = session.execute(
            update(DataVersion)
            .where(DataVersion.dataset == name)
            .values(version=DataVersion.version + 1, updated_at=at)
        )
        if result.rowcount == 0:
            session.add(DataVersion(dataset=name, version=1, updated_at=at))
            session.flush()
        new_version = session.scalar(select(DataVersion.version).where(DataVersion.dataset == name))
    return new_version


def current(*, session: Session) -> dict[str, tuple[int, dt.datetime]]:
    """{dataset: (version, updated_at)} for every dataset written at least once."""
    rows = session.execute(select(DataVersion.dataset, DataVersion.version, DataVersion.updated_at))
    return {name: (version, updated_at) for name, version, updated_at in rows}
