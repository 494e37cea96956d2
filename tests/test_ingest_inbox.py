"""The inbox: every waiting file loaded in its own transaction, then moved aside."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.db import get_engine, session_scope
from dashboard.ingest import inbox as inbox_module
from dashboard.ingest import load_inbox
from dashboard.models import Area, ImportBatch, IndicatorValue, Ping

DATA = Path(__file__).parent / "data" / "ingest"
NOW = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)


def drop(inbox: Path, kind: str, source: Path, name: str | None = None, *, age_s: int = 0) -> Path:
    folder = inbox / kind
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or source.name)
    shutil.copy(source, target)
    stamp = NOW.timestamp() - age_s
    os.utime(target, (stamp, stamp))
    return target


def count(url: str, model) -> int:
    with Session(get_engine(url)) as s:
        return s.scalar(select(func.count()).select_from(model))


def run(url: str, inbox: Path):
    return load_inbox(inbox, session_factory=lambda: session_scope(url), now=NOW)


def test_ingest100_inbox_loads_moves_and_rejects(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    # Boundaries first (oldest), named after their level; then the data that refers to them.
    for age, level in zip(
        (50, 40, 30, 20), ("district", "subdistrict", "committee", "compound"), strict=True
    ):
        drop(inbox, "areas", DATA / f"{level}.geojson", f"{level}-2026-11.geojson", age_s=age)
    drop(inbox, "indicators", DATA / "indicators.csv", age_s=10)
    pings = drop(inbox, "pings", DATA / "pings.csv", age_s=5)
    (pings.parent / "pings.csv.prj").write_text("EPSG:4326\n")
    drop(inbox, "pings", DATA / "pings.csv", ".pings-next.csv")  # still being written
    drop(inbox, "pings", DATA / "pings.csv", "notes.txt")  # not a feed file
    drop(inbox, "indicators", DATA / "shops.csv", "wrong.csv", age_s=1)  # missing columns
    drop(inbox, "areas", DATA / "district.geojson", "boundaries.geojson", age_s=0)  # no level

    reports = run(db_url, inbox)

    assert [(r.kind, r.filename) for r in reports] == [
        ("areas", "district-2026-11.geojson"),
        ("areas", "subdistrict-2026-11.geojson"),
        ("areas", "committee-2026-11.geojson"),
        ("areas", "compound-2026-11.geojson"),
        ("indicators", "indicators.csv"),
        ("pings", "pings.csv"),
        ("indicators", "wrong.csv"),
        ("areas", "boundaries.geojson"),
    ]
    assert [r.rejected for r in reports] == [False] * 6 + [True] * 2
    assert count(db_url, Area) == 5  # 4 levels; 3 of 5 compounds quarantined
    assert count(db_url, IndicatorValue) == 25  # 01003 is not in compound.geojson
    assert count(db_url, Ping) == 3

    done = inbox / "done"
    assert (done / "pings" / "pings.csv").is_file()
    assert (done / "pings" / "pings.csv.prj").is_file()  # the sidecar travels with its file
    assert (done / "areas" / "compound-2026-11.geojson").is_file()
    rejected = inbox / "rejected" / "indicators" / "wrong.csv"
    assert rejected.is_file()
    reason = rejected.with_name("wrong.csv.reason.txt").read_text(encoding="utf-8")
    assert "missing required columns" in reason
    assert "named after their level" in (
        inbox / "rejected" / "areas" / "boundaries.geojson.reason.txt"
    ).read_text(encoding="utf-8")
    # Left alone: the file still being written and the stranger.
    assert sorted(p.name for p in (inbox / "pings").iterdir()) == [".pings-next.csv", "notes.txt"]
    with Session(get_engine(db_url)) as s:
        statuses = s.execute(
            select(ImportBatch.status, func.count()).group_by(ImportBatch.status)
        ).all()
    assert dict(statuses) == {"loaded": 6, "rejected": 2}


def test_ingest101_redelivered_file_is_moved_without_loading(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    drop(inbox, "pings", DATA / "pings.csv").with_name("pings.csv.prj").write_text("EPSG:4326")
    assert run(db_url, inbox)[0].rows_loaded == 4  # no district outline to check against
    drop(inbox, "pings", DATA / "pings.csv").with_name("pings.csv.prj").write_text("EPSG:4326")
    (again,) = run(db_url, inbox)
    assert again.already_loaded
    assert count(db_url, Ping) == 4
    assert (inbox / "done" / "pings" / "pings-1.csv").is_file()
    assert (inbox / "done" / "pings" / "pings-1.csv.prj").is_file()


def test_ingest102_unexpected_failure_leaves_the_file_for_the_next_scan(
    sqlite_url, tmp_path, monkeypatch
):
    inbox = tmp_path / "inbox"
    path = drop(inbox, "indicators", DATA / "indicators.csv")

    def broken(*args, **kwargs):
        raise ConnectionError("database went away")

    monkeypatch.setattr(inbox_module, "load_file", broken)
    assert run(sqlite_url, inbox) == []
    assert path.is_file()
    assert count(sqlite_url, ImportBatch) == 0


@pytest.mark.parametrize(
    ("name", "level"),
    [
        ("compound-1.geojson", "compound"),
        ("subdistrict.geojson", "subdistrict"),
        ("District_2026.json", "district"),
        ("areas.geojson", None),
    ],
)
def test_ingest103_level_from_name(name, level):
    found = inbox_module.level_from_name(Path(name))
    assert (found.value if found else None) == level
