"""The inbox: every waiting file loaded in its own transaction, then moved aside."""

from __future__ import annotations

import datetime as dt
import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import exc as sa_exc
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.db import get_engine, session_scope
from dashboard.ingest import inbox as inbox_module
from dashboard.ingest import load_inbox
from dashboard.models import Area, ImportBatch, IndicatorValue, Ping, SiteWorker, StationFlow

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


def _db_error(cls, message: str):
    """A driver error as SQLAlchemy raises it: its text carries the statement and the rows."""
    return cls(
        "INSERT INTO site_workers (id_number, name) VALUES (?, ?)",
        ("11010519491231002X", "张三"),
        Exception(message),
    )


@pytest.mark.parametrize(
    ("error", "shown"),
    [
        (_db_error(sa_exc.DataError, "integer out of range"), "DataError"),
        (_db_error(sa_exc.IntegrityError, "violates foreign key constraint"), "IntegrityError"),
        (ValueError("Unable to parse string at position 3"), "ValueError"),
    ],
)
def test_ingest104_data_error_refuses_the_file_instead_of_retrying(
    db_url, tmp_path, monkeypatch, error, shown
):
    inbox = tmp_path / "inbox"
    path = drop(inbox, "indicators", DATA / "indicators.csv")

    def fails(*args, **kwargs):
        raise error

    monkeypatch.setattr(inbox_module, "load_file", fails)
    (report,) = run(db_url, inbox)
    assert report.rejected
    assert not path.exists()
    reason = (inbox / "rejected" / "indicators" / "indicators.csv.reason.txt").read_text(
        encoding="utf-8"
    )
    assert shown in reason and "nothing was written" in reason
    first_line = str(getattr(error, "orig", error))
    assert first_line in reason
    for leaked in ("INSERT", "[parameters", "11010519491231002X", "张三"):
        assert leaked not in reason
    with Session(get_engine(db_url)) as s:
        batch = s.scalars(select(ImportBatch)).one()
    assert (batch.status, batch.message) == ("rejected", report.message)


@pytest.mark.parametrize("cls", [sa_exc.OperationalError, sa_exc.InterfaceError])
def test_ingest105_database_failure_leaves_the_file_for_the_next_scan(
    sqlite_url, tmp_path, monkeypatch, caplog, cls
):
    inbox = tmp_path / "inbox"
    path = drop(inbox, "site_checkins", DATA / "site_checkins.csv")

    def fails(*args, **kwargs):
        raise _db_error(cls, "database is locked")

    monkeypatch.setattr(inbox_module, "load_file", fails)
    assert run(sqlite_url, inbox) == []
    assert path.is_file()
    assert count(sqlite_url, ImportBatch) == 0
    assert "database is locked" in caplog.text
    assert "11010519491231002X" not in caplog.text  # no parameters in the log either


def test_ingest106_personal_kind_reason_withholds_the_driver_message(
    sqlite_url, tmp_path, monkeypatch
):
    inbox = tmp_path / "inbox"
    drop(inbox, "site_checkins", DATA / "site_checkins.csv")

    def fails(*args, **kwargs):
        raise _db_error(sa_exc.IntegrityError, "Key (id_number)=(11010519491231002X) exists")

    monkeypatch.setattr(inbox_module, "load_file", fails)
    (report,) = run(sqlite_url, inbox)
    assert report.rejected and "IntegrityError" in report.message
    assert "11010519491231002X" not in report.message


def test_ingest107_integrity_error_from_a_concurrent_load_is_not_a_refusal(
    db_url, tmp_path, monkeypatch
):
    """Another process (the CLI) loaded the same bytes meanwhile: the unique batch index
    fails this load, and the file is simply done at the next scan."""
    inbox = tmp_path / "inbox"
    path = drop(inbox, "indicators", DATA / "indicators.csv")
    real = inbox_module.load_file

    def raced(kind, p, *, session, **kwargs):
        with session_scope(db_url) as other:
            real(kind, p, session=other, **kwargs)
        raise _db_error(sa_exc.IntegrityError, "UNIQUE constraint failed: import_batches.sha256")

    monkeypatch.setattr(inbox_module, "load_file", raced)
    assert run(db_url, inbox) == []
    assert path.is_file()
    monkeypatch.setattr(inbox_module, "load_file", real)
    (report,) = run(db_url, inbox)
    assert report.already_loaded and (inbox / "done" / "indicators" / "indicators.csv").is_file()


def test_ingest108_a_file_gone_meanwhile_does_not_stop_the_scan(db_url, tmp_path, monkeypatch):
    inbox = tmp_path / "inbox"
    first = drop(inbox, "indicators", DATA / "indicators.csv", age_s=10)
    drop(inbox, "pings", DATA / "pings.csv", age_s=5).with_name("pings.csv.prj").write_text(
        "EPSG:4326"
    )
    gone = drop(inbox, "indicators", DATA / "shops.csv", "gone.csv", age_s=1)
    real = inbox_module.load_file

    def taken_by_someone_else(kind, p, **kwargs):
        report = real(kind, p, **kwargs) if p != gone else None
        if p in (first, gone):
            p.unlink()  # another scanner moved it away
        if report is None:
            raise inbox_module.FileRejected("missing required columns")
        return report

    monkeypatch.setattr(inbox_module, "load_file", taken_by_someone_else)
    reports = run(db_url, inbox)
    assert [(r.kind, r.filename) for r in reports] == [
        ("indicators", "indicators.csv"),
        ("pings", "pings.csv"),
    ]
    assert (inbox / "done" / "pings" / "pings.csv").is_file()
    assert count(db_url, ImportBatch) == 2  # nothing recorded for the vanished refusal


def test_ingest109_another_district_loads_its_sites_and_stations_first(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    drop(inbox, "areas", DATA / "district.geojson", "district-1.geojson", age_s=20)
    drop(inbox, "areas", DATA / "subdistrict.geojson", "subdistrict-1.geojson", age_s=10)
    # Written in the same second: the registers must go before what refers to them.
    checkins = tmp_path / "checkins.csv"
    checkins.write_text(
        "site_id,id_number,name,home_province,arrived_on,from_key_region\n"
        "CN-2026-003,11010519491231002X,张三,安徽,2026-11-21,否\n",
        encoding="utf-8",
    )
    flows = tmp_path / "flows.csv"
    flows.write_text(
        "station_code,hour_start,arrivals\nSHANGHAI_HONGQIAO,2026-11-21T09:00:00+08:00,3000\n",
        encoding="utf-8",
    )
    drop(inbox, "station_flows", flows)
    drop(inbox, "site_checkins", checkins)
    for kind, source in (("stations", DATA / "stations.csv"), ("sites", DATA / "sites.csv")):
        drop(inbox, kind, source).with_name(source.name + ".prj").write_text("EPSG:4326")

    reports = run(db_url, inbox)
    assert [r.kind for r in reports] == [
        "areas",
        "areas",
        "sites",
        "site_checkins",
        "stations",
        "station_flows",
    ]
    assert all(r.rows_quarantined == 0 and not r.rejected for r in reports), [
        r.summary() for r in reports
    ]
    assert count(db_url, SiteWorker) == 1 and count(db_url, StationFlow) == 1
    assert (inbox / "done" / "sites" / "sites.csv.prj").is_file()


def test_ingest110_refusal_quoting_a_nul_is_still_recorded(db_url, tmp_path):
    inbox = tmp_path / "inbox"
    folder = inbox / "areas"
    folder.mkdir(parents=True)
    path = folder / "district-1.geojson"
    # The unknown CRS name is quoted in the refusal, NUL and lone surrogate included.
    path.write_text(
        '{"type": "FeatureCollection", "crs": "EPSG:43\\u0000\\ud800", "features": '
        '[{"type": "Feature", "properties": {"code": "1", "name": "x"}, "geometry": null}]}',
        encoding="utf-8",
    )
    (report,) = run(db_url, inbox)
    assert report.rejected and "unknown coordinate system" in report.message
    assert "\x00" not in report.message and "\\x00" in report.message
    assert not path.exists()
    reason = (inbox / "rejected" / "areas" / "district-1.geojson.reason.txt").read_text("utf-8")
    assert "\\x00" in reason and "\\ud800" in reason
    with Session(get_engine(db_url)) as s:
        assert s.scalars(select(ImportBatch.status)).one() == "rejected"
