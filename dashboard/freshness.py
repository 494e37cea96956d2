"""How fresh each dataset is: the rule behind "late" on the screen, on /ops and in the health API.

A dataset with an expected refresh interval (``Settings.dataset_expected_interval_s``) is *late*
when its newest write is older than :data:`LATE_FACTOR` times that interval, or when it was never
written at all. Datasets without an expected interval are shown but never late.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from dashboard.versions import DATASETS

logger = logging.getLogger(__name__)

LATE_FACTOR = 2


@dataclass(frozen=True)
class Freshness:
    dataset: str
    version: int | None
    updated_at: dt.datetime | None
    age_s: float | None
    expected_interval_s: int | None

    @property
    def late(self) -> bool:
        if self.expected_interval_s is None:
            return False
        if self.age_s is None:  # expected but never written
            return True
        return self.age_s > LATE_FACTOR * self.expected_interval_s


def dataset_order(name: str) -> tuple[int, str]:
    """Sort key: the order of ``DATASETS``, unknown names last."""
    return (DATASETS.index(name) if name in DATASETS else len(DATASETS), name)


def assess(
    current: Mapping[str, tuple[int, dt.datetime]],
    expected_interval_s: Mapping[str, int],
    *,
    now: dt.datetime,
) -> list[Freshness]:
    """One :class:`Freshness` per dataset written or expected, in the order of ``DATASETS``.

    ``current`` is :func:`dashboard.versions.current`'s answer.
    """
    names = sorted(set(current) | set(expected_interval_s), key=dataset_order)
    out = []
    for name in names:
        version, updated_at = current.get(name, (None, None))
        age = None if updated_at is None else max(0.0, (now - updated_at).total_seconds())
        out.append(Freshness(name, version, updated_at, age, expected_interval_s.get(name)))
    return out


def newest_update(current: Mapping[str, tuple[int, dt.datetime]]) -> dt.datetime | None:
    """When the newest data of any dataset arrived (None before the first write)."""
    return max((updated_at for _v, updated_at in current.values()), default=None)


def snapshot(
    current: Mapping[str, tuple[int, dt.datetime]],
    expected_interval_s: Mapping[str, int],
    *,
    now: dt.datetime,
    timezone: str = "Asia/Shanghai",
) -> dict[str, Any]:
    """What a screen needs to know about the data, as JSON: versions, update times, late ones,
    and the local date (figures such as "arrivals today" change meaning at midnight).

    Small (a dozen datasets) and cheap: the wall's tick computes it from the one
    ``versions.current`` query and keeps it in the browser.
    """
    return {
        "day": now.astimezone(ZoneInfo(timezone)).date().isoformat(),
        "versions": {name: version for name, (version, _at) in current.items()},
        "updated_ms": {name: round(at.timestamp() * 1000) for name, (_v, at) in current.items()},
        "late": [f.dataset for f in assess(current, expected_interval_s, now=now) if f.late],
    }


def changed_datasets(previous: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Datasets whose version moved or whose lateness flipped between two :func:`snapshot` s.

    With no previous snapshot (a page just loaded), or when the local date rolled over, every
    dataset counts as changed, so every panel draws (again).
    """
    new_versions = new["versions"]
    if previous is None or previous.get("day") != new.get("day"):
        return sorted(set(DATASETS) | set(new_versions), key=dataset_order)
    old_versions = previous.get("versions", {})
    moved = {
        name
        for name in set(old_versions) | set(new_versions)
        if old_versions.get(name) != new_versions.get(name)
    }
    flipped = set(previous.get("late", [])) ^ set(new["late"])
    return sorted(moved | flipped, key=dataset_order)
