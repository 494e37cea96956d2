"""The ingestion path, kind by kind and bad case by bad case, on SQLite and on PostgreSQL.

Each test builds the parent rows it needs (areas, stations, sites) with the models, loads a
small file from tests/data/ingest/ (or a variant written into tmp_path), commits like the CLI
does, and checks what is stored and what was set aside.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import Integer, String, cast, func, select
from sqlalchemy.orm import Session

from dashboard.config import PROJECT_ROOT
from dashboard.coords import gcj02_to_wgs84
from dashboard.db import get_engine
from dashboard.indicators import INDICATOR_KEYS
from dashboard.ingest import KINDS, FileRejected, IngestReport, load_file, record_rejection
from dashboard.ingest import write as ingest_write
from dashboard.ingest.spec import REASONS, ColumnType
from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    DataVersion,
    Enterprise,
    ImportBatch,
    IndicatorValue,
    Ping,
    QuarantinedRow,
    Shop,
    SiteWorker,
    Station,
    StationBooking,
    StationFlow,
)

DATA = Path(__file__).parent / "data" / "ingest"
NOW = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)  # 10:00 on 21 November in Shanghai
DISTRICT = box(121.40, 31.14, 121.48, 31.23)
SUBDISTRICT = "310104003"
COMMITTEE = "310104003001"
COMPOUNDS = ("01001", "01002", "01003")  # leading zeros on purpose


# --------------------------------------------------------------------------- helpers


def seed_places(session: Session) -> None:
    """The parents every register refers to: one district down to three compounds, the
    railway station and two construction sites."""
    session.add(
        Area(
            code="310104",
            level=AreaLevel.DISTRICT,
            name="徐汇区",
            geom=shapely.MultiPolygon([DISTRICT]),
        )
    )
    session.add(
        Area(code=SUBDISTRICT, level=AreaLevel.SUBDISTRICT, name="湖南路街道", parent_code="310104")
    )
    session.add(
        Area(code=COMMITTEE, level=AreaLevel.COMMITTEE, name="复兴居委会", parent_code=SUBDISTRICT)
    )
    for code in COMPOUNDS:
        session.add(
            Area(
                code=code,
                level=AreaLevel.COMPOUND,
                name=f"小区{code}",
                parent_code=COMMITTEE,
                population=1000,
            )
        )
    session.add(Station(code="SHANGHAI_SOUTH", name="上海南站", kind="railway"))
    session.add(ConstructionSite(site_id="XH-2026-017", name="徐汇滨江工地"))
    session.add(ConstructionSite(site_id="XH-2026-018", name="漕河泾工地"))
    session.commit()


def load(session: Session, kind: str, path: Path, **kwargs) -> IngestReport:
    """Load and commit, as the CLI does."""
    kwargs.setdefault("now", NOW)
    report = load_file(kind, path, session=session, **kwargs)
    session.commit()
    return report


def count(session: Session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def quarantined(session: Session, batch_id: int) -> list[QuarantinedRow]:
    return list(
        session.scalars(
            select(QuarantinedRow)
            .where(QuarantinedRow.batch_id == batch_id)
            .order_by(QuarantinedRow.row_number)
        )
    )


def variant(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def version(session: Session, dataset: str) -> int:
    return session.scalar(select(DataVersion.version).where(DataVersion.dataset == dataset)) or 0


def indicator_snapshot(session: Session) -> set[tuple]:
    return set(
        session.execute(
            select(
                IndicatorValue.date,
                IndicatorValue.compound_code,
                IndicatorValue.indicator,
                IndicatorValue.value,
            )
        ).all()
    )


HEADER = "date,compound_code," + ",".join(INDICATOR_KEYS)


def indicator_row(day: str, code: str, *values: str) -> str:
    cells = list(values) + ["0"] * (len(INDICATOR_KEYS) - len(values))
    return ",".join([day, code, *cells])


@pytest.fixture
def places(session: Session) -> Session:
    seed_places(session)
    return session


@pytest.fixture
def sqlite_places(sqlite_url: str) -> Iterator[Session]:
    """For checks that never reach the database's own behaviour (file-level refusals)."""
    with Session(get_engine(sqlite_url), expire_on_commit=False) as s:
        seed_places(s)
        yield s


# --------------------------------------------------------------------------- whole-file refusals


def test_ingest001_missing_column(places, tmp_path):
    path = variant(tmp_path, "ind.csv", "date,confirmed\n2026-11-20,1\n")
    with pytest.raises(FileRejected, match="missing required column compound_code"):
        load_file("indicators", path, session=places, now=NOW)
    places.rollback()
    assert count(places, ImportBatch) == 0
    assert count(places, IndicatorValue) == 0
    assert version(places, "indicators") == 0


def test_ingest002_rejection_is_recorded_in_its_own_transaction(places, tmp_path):
    path = variant(tmp_path, "ind.csv", "date,confirmed\n2026-11-20,1\n")
    with pytest.raises(FileRejected) as excinfo:
        load_file("indicators", path, session=places, now=NOW)
    places.rollback()
    batch_id = record_rejection("indicators", path, str(excinfo.value), session=places)
    places.commit()
    batch = places.get(ImportBatch, batch_id)
    assert batch.status == "rejected"
    assert "compound_code" in batch.message
    assert len(batch.sha256) == 64
    # A refused file may be offered again once fixed, and a loaded one is not blocked by it.
    fixed = variant(
        tmp_path, "ind.csv", HEADER + "\n" + indicator_row("2026-11-20", "01001") + "\n"
    )
    assert load(places, "indicators", fixed).rows_loaded == 1


@pytest.mark.parametrize(
    ("kind", "name", "text", "match"),
    [
        ("indicators", "x.geojson", "{}", "must be .csv, .xlsx"),
        ("pings", "p.csv", "", "empty"),
        ("indicators", "i.csv", "date,compound_code,confirmed,confirmed\n", "more than once"),
        (
            "indicators",
            "i.csv",
            "date,compound_code,foo\n2026-11-20,01001,1\n",
            "no indicator column",
        ),
        ("areas", "a.geojson", '{"type": "FeatureCollection", "features": [', "not valid JSON"),
        ("enterprises", "e.csv", "credit_code,lon\nX,1\n", "lon and lat"),
        ("nonsense", "n.csv", "a\n1\n", "unknown kind"),
    ],
)
def test_ingest003_unusable_files_are_refused(sqlite_places, tmp_path, kind, name, text, match):
    path = variant(tmp_path, name, text)
    with pytest.raises(FileRejected, match=match):
        level = "compound" if kind == "areas" else None
        load_file(kind, path, session=sqlite_places, crs="EPSG:4326", level=level, now=NOW)
    sqlite_places.rollback()
    assert count(sqlite_places, ImportBatch) == 0


def test_ingest004_gbk_csv_is_refused_with_advice(sqlite_places, tmp_path):
    path = tmp_path / "ind.csv"
    path.write_bytes((HEADER + "\n2026-11-20,01001,测试\n").encode("gbk"))
    with pytest.raises(FileRejected, match="iconv -f GB18030"):
        load_file("indicators", path, session=sqlite_places, now=NOW)


# --------------------------------------------------------------------------- indicators


def test_ingest010_indicators_load_long_and_blank_is_missing(places):
    before = version(places, "indicators")
    report = load(places, "indicators", DATA / "indicators.csv")
    assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (3, 3, 0)
    values = {(c, k): v for _, c, k, v in indicator_snapshot(places)}
    assert len(values) == 13 + 12 + 13  # one blank cell: no row, not zero
    assert ("01002", "hotline_reports") not in values
    assert values[("01001", "elderly_share")] == pytest.approx(0.31)
    assert values[("01002", "confirmed")] == 1
    assert version(places, "indicators") == before + 1
    batch = places.get(ImportBatch, report.batch_id)
    assert batch.status == "loaded" and batch.rows_loaded == 3


def test_ingest011_leading_zeros_survive(places):
    load(places, "indicators", DATA / "indicators.csv")
    codes = set(places.scalars(select(IndicatorValue.compound_code).distinct()))
    assert codes == {"01001", "01002", "01003"}
    load(places, "shops", DATA / "shops.csv", crs="EPSG:4326")
    assert places.get(Shop, "0310104000123") is not None


def test_ingest012_non_numeric_and_negative_values_are_quarantined(places, tmp_path):
    text = "\n".join(
        [
            HEADER,
            indicator_row("2026-11-20", "01001", "1", "2"),
            indicator_row("2026-11-20", "01002", "1", "abc"),
            indicator_row("2026-11-20", "01003", "-4"),
            indicator_row("2026-11-20", "09999"),
            indicator_row("2026-11-31", "01001"),
        ]
    )
    report = load(places, "indicators", variant(tmp_path, "ind.csv", text))
    assert report.rows_loaded == 1
    assert report.quarantined_by_reason == {
        "non_numeric": 1,
        "negative_value": 1,
        "unknown_compound": 1,
        "bad_date": 1,
    }
    rows = quarantined(places, report.batch_id)
    assert [(q.row_number, q.reason) for q in rows] == [
        (3, "non_numeric"),
        (4, "negative_value"),
        (5, "unknown_compound"),
        (6, "bad_date"),
    ]
    assert rows[0].detail == "suspected: 'abc' is not a number"  # names the column
    assert rows[0].raw["suspected"] == "abc"  # the row is kept as it came
    # The bad row is set aside whole: none of its other values is stored.
    assert {c for _, c, _, _ in indicator_snapshot(places)} == {"01001"}


def test_ingest012b_a_share_above_one_is_set_aside(places, tmp_path):
    share = INDICATOR_KEYS.index("elderly_share")
    ok = ["0"] * len(INDICATOR_KEYS)
    ok[share] = "1"  # everyone over 60 is a share of 1: allowed
    typed_as_percent = ["0"] * len(INDICATOR_KEYS)
    typed_as_percent[share] = "45"
    text = "\n".join(
        [
            HEADER,
            indicator_row("2026-11-20", "01001", *ok),
            indicator_row("2026-11-20", "01002", *typed_as_percent),
        ]
    )
    report = load(places, "indicators", variant(tmp_path, "share.csv", text))
    assert report.rows_loaded == 1
    assert report.quarantined_by_reason == {"out_of_range": 1}
    assert "elderly_share" in quarantined(places, report.batch_id)[0].detail


def test_ingest013_blank_id_is_quarantined_others_load(places, tmp_path):
    text = "\n".join(
        [
            HEADER,
            indicator_row("2026-11-20", "01001"),
            indicator_row("2026-11-20", " "),
            indicator_row("2026-11-20", "01002"),
        ]
    )
    report = load(places, "indicators", variant(tmp_path, "ind.csv", text))
    assert (report.rows_loaded, report.quarantined_by_reason) == (2, {"blank_id": 1})
    (row,) = quarantined(places, report.batch_id)
    assert (row.row_number, row.detail) == (3, "compound_code is blank")


def test_ingest014_duplicate_key_within_file(places, tmp_path):
    text = "\n".join(
        [
            HEADER,
            indicator_row("2026-11-20", "01001", "5"),
            indicator_row("2026-11-20", "01002", "1"),
            indicator_row("2026-11-20", "01001", "7"),
            indicator_row("2026-11-21", "01001", "9"),  # another day: not a duplicate
        ]
    )
    report = load(places, "indicators", variant(tmp_path, "ind.csv", text))
    assert (report.rows_loaded, report.rows_duplicate, report.rows_quarantined) == (3, 1, 1)
    (row,) = quarantined(places, report.batch_id)
    assert (row.row_number, row.reason) == (4, "duplicate_key")
    assert row.detail == "same date, compound_code as row 2"
    confirmed = places.scalar(
        select(IndicatorValue.value).where(
            IndicatorValue.compound_code == "01001",
            IndicatorValue.date == dt.date(2026, 11, 20),
            IndicatorValue.indicator == "confirmed",
        )
    )
    assert confirmed == 5  # the first one wins
    assert places.get(ImportBatch, report.batch_id).rows_duplicate == 1


def test_ingest015_duplicate_file_writes_nothing(places):
    first = load(places, "indicators", DATA / "indicators.csv")
    snapshot = indicator_snapshot(places)
    batches, versions = count(places, ImportBatch), version(places, "indicators")
    second = load(places, "indicators", DATA / "indicators.csv")
    assert second.already_loaded
    assert second.batch_id == first.batch_id
    assert second.rows_loaded == 0 and "already loaded" in second.summary()
    assert indicator_snapshot(places) == snapshot
    assert count(places, ImportBatch) == batches
    assert version(places, "indicators") == versions


def test_ingest016_same_bytes_other_name_is_still_the_same_file(places, tmp_path):
    load(places, "indicators", DATA / "indicators.csv")
    copy = tmp_path / "resent.csv"
    shutil.copy(DATA / "indicators.csv", copy)
    assert load(places, "indicators", copy).already_loaded


def test_ingest017_corrected_file_updates_values(places, tmp_path):
    load(places, "indicators", DATA / "indicators.csv")
    text = HEADER + "\n" + indicator_row("2026-11-20", "01001", "3") + "\n"
    report = load(places, "indicators", variant(tmp_path, "fix.csv", text))
    assert report.rows_loaded == 1
    value = places.scalar(
        select(IndicatorValue.value).where(
            IndicatorValue.compound_code == "01001", IndicatorValue.indicator == "confirmed"
        )
    )
    assert value == 3
    assert count(places, IndicatorValue) == 38


def _xlsx_from_csv(csv_path: Path, xlsx_path: Path, typed: dict[str, type]) -> Path:
    """An Excel copy of a CSV with real dates and numbers where a person would have them."""
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    header = lines[0].split(",")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(header)
    for line in lines[1:]:
        cells = []
        for name, cell in zip(header, line.split(","), strict=True):
            kind = typed.get(name)
            if cell == "" or kind is None:
                cells.append(cell or None)
            elif kind is dt.date:
                cells.append(dt.date.fromisoformat(cell))
            else:
                cells.append(kind(cell))
        ws.append(cells)
    ws.append([])  # a trailing row with nothing in it, as spreadsheets have
    wb.save(xlsx_path)
    return xlsx_path


def test_ingest018_excel_loads_the_same_as_csv(places, tmp_path):
    typed = {"date": dt.date, **{k: float for k in INDICATOR_KEYS}}
    xlsx = _xlsx_from_csv(DATA / "indicators.csv", tmp_path / "indicators.xlsx", typed)
    from_csv = load(places, "indicators", DATA / "indicators.csv")
    snapshot = indicator_snapshot(places)
    places.execute(IndicatorValue.__table__.delete())
    places.commit()
    from_xlsx = load(places, "indicators", xlsx)
    assert (from_xlsx.rows_read, from_xlsx.rows_loaded) == (
        from_csv.rows_read,
        from_csv.rows_loaded,
    )
    assert indicator_snapshot(places) == snapshot
    assert len(snapshot) == 38


def test_ingest019_excel_site_checkins_keep_ids_as_text(places, tmp_path):
    xlsx = _xlsx_from_csv(
        DATA / "site_checkins.csv", tmp_path / "checkins.xlsx", {"arrived_on": dt.date}
    )
    report = load(places, "site_checkins", xlsx)
    assert report.rows_loaded == 3
    assert set(places.scalars(select(SiteWorker.id_number))) == {
        "11010519491231002X",
        "310104198503121235",
        "34012219900101001X",
    }


# --------------------------------------------------------------------------- crash mid-file


def test_ingest020_crash_mid_file_leaves_nothing(places, tmp_path, monkeypatch):
    lines = ["timestamp,lon,lat"] + [
        f"2026-11-21T09:{m:02d}:00+08:00,121.43{m:02d},31.19" for m in range(25)
    ]
    path = variant(tmp_path, "pings.csv", "\n".join(lines) + "\n")
    monkeypatch.setattr(ingest_write, "CHUNK_ROWS", 10)
    written: list[int] = []

    def crash(kind: str, table: str, chunk_number: int) -> None:
        written.append(places.scalar(select(func.count()).select_from(Ping)))
        if chunk_number == 1:
            raise RuntimeError("power cut")

    monkeypatch.setattr(ingest_write, "_after_chunk", crash)
    with pytest.raises(RuntimeError, match="power cut"):
        load_file("pings", path, session=places, crs="EPSG:4326", now=NOW)
    assert written == [10]  # the first chunk really was written before the crash
    places.rollback()
    assert count(places, Ping) == 0
    assert count(places, ImportBatch) == 0
    assert count(places, QuarantinedRow) == 0
    assert version(places, "pings") == 0
    # And the same file loads completely afterwards: nothing marked it as loaded.
    monkeypatch.setattr(ingest_write, "_after_chunk", lambda *a: None)
    assert load(places, "pings", path, crs="EPSG:4326").rows_loaded == 25
    assert count(places, Ping) == 25


def test_ingest021_crash_mid_upsert_leaves_nothing(places, tmp_path, monkeypatch):
    monkeypatch.setattr(ingest_write, "CHUNK_ROWS", 1)

    def crash(kind: str, table: str, chunk_number: int) -> None:
        if chunk_number == 2:
            raise RuntimeError("disk full")

    monkeypatch.setattr(ingest_write, "_after_chunk", crash)
    with pytest.raises(RuntimeError):
        load_file("shops", DATA / "shops.csv", session=places, crs="EPSG:4326", now=NOW)
    places.rollback()
    assert count(places, Shop) == 0
    assert count(places, ImportBatch) == 0


# --------------------------------------------------------------------------- pings and CRS


def test_ingest030_pings_load_and_bad_rows_are_set_aside(places):
    report = load(places, "pings", DATA / "pings.csv", crs="EPSG:4326")
    assert (report.rows_read, report.rows_loaded) == (7, 3)
    assert report.quarantined_by_reason == {
        "outside_district": 1,
        "bad_coordinates": 2,
        "bad_timestamp": 1,
    }
    pings = places.scalars(select(Ping).order_by(Ping.ts)).all()
    # With an offset, in UTC ("Z") and naive (= Shanghai time): all stored as UTC.
    assert [p.ts for p in pings] == [
        dt.datetime(2026, 11, 21, 1, m, tzinfo=dt.UTC) for m in (0, 1, 2)
    ]
    assert [p.weight for p in pings] == [1.0, 1.0, 2.5]  # blank weight -> 1
    swapped = next(q for q in quarantined(places, report.batch_id) if q.row_number == 7)
    assert "swapped" in swapped.detail
    assert version(places, "pings") == 1


def test_ingest031_no_crs_is_refused(places):
    with pytest.raises(FileRejected) as excinfo:
        load_file("pings", DATA / "pings.csv", session=places, now=NOW)
    message = str(excinfo.value)
    assert "no coordinate system" in message
    assert "--crs EPSG:4326" in message and "--convert-gcj02" in message
    places.rollback()
    assert count(places, Ping) == 0 and count(places, ImportBatch) == 0


def test_ingest032_gcj02_is_refused_without_convert(places):
    with pytest.raises(FileRejected, match="GCJ-02.*--convert-gcj02"):
        load_file("pings", DATA / "pings.csv", session=places, crs="GCJ-02", now=NOW)
    places.rollback()
    assert count(places, Ping) == 0


def test_ingest033_gcj02_is_converted_when_asked(places, tmp_path):
    path = variant(
        tmp_path, "amap.csv", "timestamp,lon,lat\n2026-11-21T09:00:00+08:00,121.4365,31.1880\n"
    )
    report = load(places, "pings", path, crs="gcj02", convert_gcj02=True)
    assert report.rows_loaded == 1
    assert "converted from gcj02" in report.message
    ping = places.scalars(select(Ping)).one()
    lon, lat = gcj02_to_wgs84([121.4365], [31.1880])
    assert ping.lon == pytest.approx(lon[0], abs=1e-9)
    assert ping.lat == pytest.approx(lat[0], abs=1e-9)
    # In Shanghai the WGS84 point lies ~0.0045 deg west and ~0.002 deg north of the GCJ-02 one.
    assert 0.003 < 121.4365 - ping.lon < 0.006
    assert 0.001 < ping.lat - 31.1880 < 0.003


def test_ingest034_prj_sidecar_declares_the_crs(places, tmp_path):
    path = tmp_path / "pings.csv"
    shutil.copy(DATA / "pings.csv", path)
    (tmp_path / "pings.csv.prj").write_text("EPSG:4326\n")
    assert load(places, "pings", path).rows_loaded == 3


def test_ingest035_projected_crs_is_reprojected(places, tmp_path):
    import pyproj

    x, y = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(121.4365, 31.188)
    path = variant(tmp_path, "p.csv", f"timestamp,lon,lat\n2026-11-21T09:00:00+08:00,{x},{y}\n")
    load(places, "pings", path, crs="EPSG:3857")
    ping = places.scalars(select(Ping)).one()
    assert (ping.lon, ping.lat) == (pytest.approx(121.4365), pytest.approx(31.188))


def test_ingest036_unknown_crs_is_refused(sqlite_places):
    with pytest.raises(FileRejected, match="unknown coordinate system"):
        load_file("pings", DATA / "pings.csv", session=sqlite_places, crs="Beijing-ish", now=NOW)


# --------------------------------------------------------------------------- areas


def test_ingest040_areas_levels_load_and_broken_geometry_is_quarantined(session):
    for level in ("district", "subdistrict", "committee"):
        assert load(session, "areas", DATA / f"{level}.geojson", level=level).rows_loaded == 1
    report = load(session, "areas", DATA / "compound.geojson", level="compound")
    assert report.rows_loaded == 2
    assert report.quarantined_by_reason == {
        "broken_geometry": 1,
        "wrong_geometry_type": 1,
        "unknown_parent": 1,
    }
    bowtie = next(q for q in quarantined(session, report.batch_id) if q.reason == "broken_geometry")
    assert bowtie.detail.startswith("invalid polygon: Self-intersection")
    assert bowtie.raw["code"] == "01004" and bowtie.raw["geometry"]["type"] == "Polygon"
    compound = session.get(Area, "01001")
    assert compound.level is AreaLevel.COMPOUND
    assert compound.parent_code == COMMITTEE and compound.population == 2300
    assert compound.geom.geom_type == "MultiPolygon"
    assert 0.1 < compound.area_km2 < 0.25
    assert compound.geom.contains(shapely.Point(compound.label_lon, compound.label_lat))
    assert session.get(Area, "01002").population == 640  # a numeric string property
    assert session.get(Area, "310104").parent_code is None
    assert version(session, "areas") == 4


def test_ingest041_areas_need_a_level(sqlite_places):
    with pytest.raises(FileRejected, match="--level"):
        load_file("areas", DATA / "district.geojson", session=sqlite_places, now=NOW)


def test_ingest042_geojson_without_crs_member_is_refused(sqlite_places, tmp_path):
    text = (DATA / "district.geojson").read_text(encoding="utf-8")
    text = re.sub(r'"crs": \{.*?\}\},', "", text, flags=re.S)
    path = variant(tmp_path, "district.geojson", text)
    with pytest.raises(FileRejected, match="no coordinate system"):
        load_file("areas", path, session=sqlite_places, level="district", now=NOW)


def test_ingest043_gcj02_boundaries_are_converted(session, tmp_path):
    text = (DATA / "district.geojson").read_text(encoding="utf-8")
    text = text.replace("urn:ogc:def:crs:OGC:1.3:CRS84", "GCJ-02")
    path = variant(tmp_path, "district.geojson", text)
    with pytest.raises(FileRejected, match="--convert-gcj02"):
        load_file("areas", path, session=session, level="district", now=NOW)
    session.rollback()
    load(session, "areas", path, level="district", convert_gcj02=True)
    (polygon,) = session.get(Area, "310104").geom.geoms
    stored = shapely.get_coordinates(polygon)
    lon, lat = gcj02_to_wgs84(
        [121.40, 121.48, 121.48, 121.40, 121.40], [31.14, 31.14, 31.23, 31.23, 31.14]
    )
    assert stored[:, 0] == pytest.approx(lon, abs=1e-9)
    assert stored[:, 1] == pytest.approx(lat, abs=1e-9)


def test_ingest044_code_at_another_level_is_refused(places, tmp_path):
    text = (DATA / "committee.geojson").read_text(encoding="utf-8")
    text = text.replace('"code": "310104003001"', '"code": "01001"')
    report = load(places, "areas", variant(tmp_path, "c.geojson", text), level="committee")
    assert report.quarantined_by_reason == {"wrong_level": 1}
    assert places.get(Area, "01001").level is AreaLevel.COMPOUND


# --------------------------------------------------------------------------- registers


def test_ingest050_enterprises_load_upsert_and_leave_absent_columns_alone(places, tmp_path):
    report = load(places, "enterprises", DATA / "enterprises.csv", crs="EPSG:4326")
    assert report.rows_loaded == 3
    e = places.get(Enterprise, "91310104MA1G8X2K35")  # lower-case in the file
    assert e.state == "reopened" and e.capacity_pct == 100
    assert e.geom.equals(shapely.Point(121.432, 31.215))
    blank = places.get(Enterprise, "9131000013222097XJ")
    assert blank.address is None and blank.geom is None and blank.pending_approvals is None

    # A later file with only some columns: others stay; a blank cell leaves the value alone.
    text = "credit_code,returned_headcount,state,address\n91310104MA1FL0AT82,100,reopened,\n"
    load(places, "enterprises", variant(tmp_path, "upd.csv", text))
    places.expire_all()
    e = places.get(Enterprise, "91310104MA1FL0AT82")
    assert (e.returned_headcount, e.state) == (100, "reopened")
    assert e.planned_headcount == 120 and e.name == "上海徐汇示例科技有限公司"
    assert e.address == "徐汇区虹桥路1号"
    assert e.geom is not None


def test_ingest051_enterprise_bad_rows(places, tmp_path):
    text = "\n".join(
        [
            "credit_code,name,state,subdistrict_code,capacity_pct,planned_headcount",
            "91310104MA1FL0AT83,校验错,approved,310104003,50,10",  # wrong check character
            "91310104MA1FL0AT8,太短,approved,310104003,50,10",
            "91310104MA1G8X2K35,,approved,310104003,50,10",  # new and nameless
            "92310104MA1H000124,状态错,open,310104003,50,10",
            "9131000013222097XJ,街道错,approved,310104999,50,10",
            "91310104MA1FL0AT82,比例错,approved,310104003,150,10",
            "91310104MA1FL0AT82,,approved,310104003,50,10.5",
            ",无码,approved,310104003,50,10",
        ]
    )
    report = load(places, "enterprises", variant(tmp_path, "e.csv", text))
    reasons = [(q.row_number, q.reason) for q in quarantined(places, report.batch_id)]
    assert reasons == [
        (2, "bad_id_checksum"),
        (3, "bad_id_format"),
        (4, "unknown_id"),
        (5, "bad_value"),
        (6, "unknown_area"),
        (7, "out_of_range"),
        (8, "not_integer"),
        (9, "blank_id"),
    ]
    assert report.rows_loaded == 0
    assert count(places, Enterprise) == 0
    assert version(places, "enterprises") == 0  # nothing changed, nothing bumped


def test_ingest052_enterprises_without_coordinates_need_no_crs(places, tmp_path):
    text = "credit_code,name\n91310104MA1FL0AT82,上海徐汇示例科技有限公司\n"
    assert load(places, "enterprises", variant(tmp_path, "e.csv", text)).rows_loaded == 1


def test_ingest053_shops_booleans_and_update(places, tmp_path):
    report = load(places, "shops", DATA / "shops.csv", crs="EPSG:4326")
    assert report.rows_loaded == 3
    assert [
        places.get(Shop, k).is_open for k in ("0310104000123", "310104000124", "310104000125")
    ] == [True, False, True]
    text = "licence_id,is_open\n310104000124,是\n310104000999,true\n310104000125,maybe\n"
    report = load(places, "shops", variant(tmp_path, "s.csv", text))
    assert report.quarantined_by_reason == {"unknown_id": 1, "bad_value": 1}
    places.expire_all()
    shop = places.get(Shop, "310104000124")
    assert shop.is_open is True and shop.staff_registered == 3 and shop.name == "社区便利店"


def test_ingest054_site_checkins_keep_x_and_recount_sites(places):
    report = load(places, "site_checkins", DATA / "site_checkins.csv")
    assert report.rows_loaded == 3
    worker = places.get(SiteWorker, "11010519491231002X")  # "x" in the file
    assert worker is not None and worker.site_id == "XH-2026-017"
    assert worker.certificate_checked is None and worker.from_key_region is False
    assert places.get(SiteWorker, "34012219900101001X").from_key_region is True
    a, b = places.get(ConstructionSite, "XH-2026-017"), places.get(ConstructionSite, "XH-2026-018")
    assert (a.headcount, a.new_arrivals_today) == (2, 1)  # arrived 2026-11-21 = "today"
    assert (b.headcount, b.new_arrivals_today) == (1, 1)
    assert version(places, "sites") == 1


def test_ingest055_worker_moving_site_recounts_both(places, tmp_path):
    load(places, "site_checkins", DATA / "site_checkins.csv")
    text = (
        "site_id,id_number,name,home_province,arrived_on,from_key_region\n"
        "XH-2026-018,310104198503121235,李四,上海,2026-11-10,否\n"
    )
    load(places, "site_checkins", variant(tmp_path, "move.csv", text))
    places.expire_all()
    assert places.get(ConstructionSite, "XH-2026-017").headcount == 1
    assert places.get(ConstructionSite, "XH-2026-018").headcount == 2


def test_ingest056_personal_data_never_in_messages(places, tmp_path, caplog):
    text = "\n".join(
        [
            "site_id,id_number,name,home_province,arrived_on,from_key_region",
            "XH-2026-017,110105194912310021,赵六,安徽,2026-11-21,否",  # bad check character
            "XH-2026-017,1101051949123,钱七,安徽,2026-11-21,否",  # too short
            "XH-0000-000,31010119951230045X,孙八,江西,2026-11-21,是",  # unknown site
            "XH-2026-017,,周九,江西,2026-11-21,是",
            "XH-2026-017,41010219750707003x,吴十,河南,2026-11-21,maybe",
        ]
    )
    caplog.set_level(logging.DEBUG)
    report = load(places, "site_checkins", variant(tmp_path, "c.csv", text))
    rows = quarantined(places, report.batch_id)
    assert [q.reason for q in rows] == [
        "bad_id_checksum",
        "bad_id_format",
        "unknown_site",
        "blank_id",
        "bad_value",
    ]
    secrets = [
        "110105194912310021",
        "1101051949123",
        "31010119951230045X",
        "41010219750707003",
        "赵六",
        "钱七",
        "孙八",
        "周九",
        "吴十",
    ]
    visible = [report.summary(), report.message, caplog.text] + [q.detail for q in rows]
    for text_ in visible:
        for secret in secrets:
            assert secret not in text_
    # The raw row is kept for staff, with the ID masked 3 + 4 and the name masked.
    assert rows[0].raw["id_number"] == "110***********0021"
    assert rows[0].raw["name"] == "赵*"
    assert rows[2].raw["id_number"] == "310***********045X"
    assert count(places, SiteWorker) == 0


# --------------------------------------------------------------------------- stations


def test_ingest060_station_flows(places, tmp_path):
    report = load(places, "station_flows", DATA / "station_flows.csv")
    assert (report.rows_loaded, report.quarantined_by_reason) == (2, {"unknown_station": 1})
    hours = places.scalars(select(StationFlow.hour_start).order_by(StationFlow.hour_start)).all()
    assert hours == [
        dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC),
        dt.datetime(2026, 11, 21, 2, tzinfo=dt.UTC),
    ]
    # The same hour written with and without an offset is one key: an update, not a new row.
    text = (
        "station_code,hour_start,arrivals\nSHANGHAI_SOUTH,2026-11-21T01:00:00Z,900\n"
        "SHANGHAI_SOUTH,2026-11-21 09:00,901\nSHANGHAI_SOUTH,2026-11-21T11:30:00+08:00,5\n"
        "SHANGHAI_SOUTH,2026-11-21T12:00:00+08:00,-5\n"
    )
    report = load(places, "station_flows", variant(tmp_path, "f.csv", text))
    assert report.quarantined_by_reason == {
        "duplicate_key": 1,
        "bad_timestamp": 1,
        "negative_value": 1,
    }
    places.expire_all()
    assert count(places, StationFlow) == 2
    assert (
        places.get(
            StationFlow, ("SHANGHAI_SOUTH", dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC))
        ).arrivals
        == 900
    )


def test_ingest061_station_bookings(places):
    report = load(places, "station_bookings", DATA / "station_bookings.csv")
    assert report.rows_loaded == 3
    assert count(places, StationBooking) == 3
    assert version(places, "station_bookings") == 1


# --------------------------------------------------------------------------- registry and docs


def test_ingest070_every_kind_bumps_known_datasets():
    from dashboard.versions import DATASETS

    for kind in KINDS.values():
        assert kind.datasets and set(kind.datasets) <= set(DATASETS)
        assert set(kind.key) <= {c.name for c in kind.columns}


def test_ingest071_formats_doc_covers_every_kind_and_column():
    doc = (PROJECT_ROOT / "docs" / "formats.md").read_text(encoding="utf-8")
    sections = dict(re.findall(r"^## `(\w+)`\n(.*?)(?=^## |\Z)", doc, flags=re.M | re.S))
    assert set(sections) == set(KINDS)
    for name, kind in KINDS.items():
        for col in kind.columns:
            assert f"`{col.name}`" in sections[name], f"{name}.{col.name} not documented"
    documented = set(re.findall(r"^\| `(\w+)` \|", doc, flags=re.M))
    assert documented >= set(REASONS), "reason codes missing from docs/formats.md"


def test_ingest057_forgotten_header_does_not_leak_personal_data(sqlite_places, tmp_path, caplog):
    # The contractor's sheet starts with a worker instead of the header row.
    text = "XH-2026-017,11010519491231002X,张三,安徽,2026-11-21,否\n"
    caplog.set_level(logging.DEBUG)
    with pytest.raises(FileRejected) as excinfo:
        load_file("site_checkins", variant(tmp_path, "c.csv", text), session=sqlite_places, now=NOW)
    message = str(excinfo.value)
    assert "missing required columns site_id, id_number" in message
    for secret in ("11010519491231002X", "张三"):
        assert secret not in message and secret not in caplog.text


# --------------------------------------------------------------------------- refused by a back end
#
# Each of these loaded on SQLite but failed the whole file on PostgreSQL (and the inbox then
# retried it forever), or loaded wrong data on both.


def raw_json_texts(session: Session, batch_id: int) -> list[str]:
    """quarantined_rows.raw as the database holds it, as text."""
    return list(
        session.scalars(
            select(cast(QuarantinedRow.raw, String))
            .where(QuarantinedRow.batch_id == batch_id)
            .order_by(QuarantinedRow.row_number)
        )
    )


def strict_loads(text: str):
    def refuse(name: str):
        raise ValueError(f"{name} is not JSON")

    return json.loads(text, parse_constant=refuse)


def test_ingest080_int_columns_are_exact_and_32_bit(places, tmp_path):
    text = "\n".join(
        [
            "credit_code,name,planned_headcount,returned_headcount",
            "91310104MA1FL0AT82,整数,12.0,2147483647",
            "91310104MA1G8X2K35,太大,3000000000,1",
            "9131000013222097XJ,刚好超,2147483648,1",
            "92310104MA1H000124,小数,12.5,1",
            "91310000MA1K4BB985,指数,1e3,0",
            "91310000MA1FL3BK0E,精度,9007199254740993,0",
            "91310000MA1FL3BK1H,非数,12abc,0",
            "91310000MA1FL3BK2L,荒唐,1e99999999999999999999,0",
        ]
    )
    report = load(places, "enterprises", variant(tmp_path, "e.csv", text))
    rows = quarantined(places, report.batch_id)
    assert [(q.row_number, q.reason) for q in rows] == [
        (3, "out_of_range"),
        (4, "out_of_range"),
        (5, "not_integer"),
        (7, "out_of_range"),
        (8, "non_numeric"),
        (9, "out_of_range"),
    ]
    assert rows[0].detail == "planned_headcount: '3000000000' is above 2147483647"
    assert report.rows_loaded == 2
    e = places.get(Enterprise, "91310104MA1FL0AT82")
    assert (e.planned_headcount, e.returned_headcount) == (12, 2147483647)
    assert places.get(Enterprise, "91310000MA1K4BB985").planned_headcount == 1000


def test_ingest081_nul_character_is_quarantined_not_fatal(places, tmp_path):
    text = (
        "licence_id,name,street\n"
        "310104000201,面\x00馆,江苏路\n"
        "3101040\x0000202,便利店,江苏路\n"  # in the key: PostgreSQL refused even the look-up
        "310104000203,水果店,愚\x00园路\n"
        "310104000204,花店,愚园路\n"
    )
    report = load(places, "shops", variant(tmp_path, "s.csv", text))
    assert (report.rows_loaded, report.quarantined_by_reason) == (1, {"bad_value": 3})
    rows = quarantined(places, report.batch_id)
    assert [q.detail for q in rows] == [
        "name: contains a NUL character",
        "licence_id: contains a NUL character",
        "street: contains a NUL character",
    ]
    assert rows[0].raw["name"] == "面\x00馆"  # kept as it came, for staff to see
    assert places.get(Shop, "310104000204").name == "花店"


def test_ingest082_geojson_nan_and_infinity(session, tmp_path):
    load(session, "areas", DATA / "district.geojson", level="district")
    load(session, "areas", DATA / "subdistrict.geojson", level="subdistrict")
    load(session, "areas", DATA / "committee.geojson", level="committee")
    square = "[[[121.431, 31.191], [121.435, 31.191], [121.435, 31.195], [121.431, 31.191]]]"
    nan_square = square.replace("31.195]", "NaN]", 1)
    huge_square = square.replace("121.435, 31.191]", "1e999, 31.191]", 1)

    def feature(code: str, population: str, coordinates: str) -> str:
        """Written by hand: json.dumps would not write NaN where it is wanted here."""
        properties = json.dumps({"code": code, "name": "小区", "parent_code": COMMITTEE})
        properties = properties[:-1] + ', "population": ' + population + "}"
        geometry = '{"type": "Polygon", "coordinates": ' + coordinates + "}"
        return '{"type": "Feature", "properties": ' + properties + ', "geometry": ' + geometry + "}"

    features = [
        feature("02001", "100", square),
        feature("02002", "100", nan_square),
        feature("02003", "100", huge_square),
        feature("02004", "Infinity", square),
        feature("02005", "NaN", square),
    ]
    text = '{"type": "FeatureCollection", "crs": "EPSG:4326", "features": [' + ", ".join(features)
    text += "]}"
    report = load(session, "areas", variant(tmp_path, "c.geojson", text), level="compound")
    assert report.rows_loaded == 1
    rows = quarantined(session, report.batch_id)
    assert [(q.raw["code"], q.reason) for q in rows] == [
        ("02002", "broken_geometry"),
        ("02003", "broken_geometry"),
        ("02004", "non_numeric"),
        ("02005", "non_numeric"),
    ]
    assert "NaN or Infinity" in rows[0].detail
    assert rows[0].raw["geometry"]["coordinates"][0][2] == [121.435, "NaN"]
    assert rows[2].raw["population"] == "Infinity"
    for stored in raw_json_texts(session, report.batch_id):
        strict_loads(stored)  # no NaN token on either back end


def test_ingest083_3d_boundaries_lose_their_heights(session, tmp_path):
    text = (DATA / "district.geojson").read_text(encoding="utf-8")
    text = re.sub(r"\[(121\.\d+), (31\.\d+)\]", r"[\1, \2, 4.5]", text)
    assert ", 4.5]" in text
    report = load(session, "areas", variant(tmp_path, "d.geojson", text), level="district")
    assert report.rows_loaded == 1
    stored = session.get(Area, "310104").geom
    assert not stored.has_z
    assert stored.equals(shapely.MultiPolygon([DISTRICT]))


def test_ingest084_csv_rows_with_a_stray_comma_are_not_shifted(places, tmp_path):
    text = (
        "licence_id,name,street\n"
        "A1,面馆,江苏路,\n"  # one field more: pandas took licence_id as the index
        "A2,便利店,愚园路\n"
        "A3,水果店\n"  # one field fewer
        'A4,"面馆, 老王",江苏路\n'  # a quoted comma is a value
        "A5,花店,华山路,,\n"
        "\n"
    )
    report = load(places, "shops", variant(tmp_path, "s.csv", text))
    assert (report.rows_read, report.rows_loaded) == (5, 2)
    rows = quarantined(places, report.batch_id)
    assert [(q.row_number, q.reason) for q in rows] == [
        (2, "wrong_field_count"),
        (4, "wrong_field_count"),
        (6, "wrong_field_count"),
    ]
    assert rows[0].detail.startswith("the row has 4 fields, the header has 3")
    assert rows[0].raw == {"licence_id": "A1", "name": "面馆", "street": "江苏路"}
    assert {s.licence_id: (s.name, s.street) for s in places.scalars(select(Shop))} == {
        "A2": ("便利店", "愚园路"),
        "A4": ("面馆, 老王", "江苏路"),
    }


def test_ingest085_trailing_comma_on_every_line_is_an_empty_column(places, tmp_path):
    text = "licence_id,name,street,\nB1,面馆,江苏路,\nB2,便利店,愚园路\nB3,水果店,华山路,是\n"
    report = load(places, "shops", variant(tmp_path, "s.csv", text))
    assert report.rows_loaded == 2
    (row,) = quarantined(places, report.batch_id)
    assert (row.row_number, row.reason) == (4, "wrong_field_count")
    assert "no name" in row.detail
    assert places.get(Shop, "B1").street == "江苏路"
    assert places.get(Shop, "B2").name == "便利店"


def test_ingest086_date_only_hour_start_is_local_midnight(places, tmp_path):
    text = "station_code,hour_start,arrivals\nSHANGHAI_SOUTH,2026-11-21,40\n"
    report = load(places, "station_flows", variant(tmp_path, "f.csv", text))
    assert report.rows_loaded == 1
    (hour,) = places.scalars(select(StationFlow.hour_start)).all()
    assert hour == dt.datetime(2026, 11, 20, 16, tzinfo=dt.UTC)  # 00:00 in Shanghai


def test_ingest087_quarantine_keeps_only_declared_columns(places, tmp_path, caplog):
    text = "\n".join(
        [
            "site_id,id_number,name,home_province,arrived_on,from_key_region,phone,"
            "emergency_contact_id",
            "XH-0000-000,11010519491231002X,张三,安徽,2026-11-21,否,13912345678,31010119951230045X",
        ]
    )
    caplog.set_level(logging.DEBUG)
    report = load(places, "site_checkins", variant(tmp_path, "c.csv", text))
    assert "ignored columns: phone, emergency_contact_id" in report.message
    (row,) = quarantined(places, report.batch_id)
    assert row.reason == "unknown_site"
    assert row.raw == {
        "site_id": "XH-0000-000",
        "id_number": "110***********002X",
        "name": "张*",
        "home_province": "安徽",
        "arrived_on": "2026-11-21",
        "from_key_region": "否",
    }
    (stored,) = raw_json_texts(places, report.batch_id)
    for secret in ("13912345678", "31010119951230045X", "11010519491231002X", "张三"):
        assert secret not in stored and secret not in caplog.text


def test_ingest088_checkin_row_out_of_line_is_masked_whole(places, tmp_path):
    # A stray first field pushes the ID under "name" and the name under "home_province".
    text = (
        "site_id,id_number,name,home_province,arrived_on,from_key_region\n"
        "1,XH-2026-017,11010519491231002X,张三,安徽,2026-11-21,否\n"
    )
    report = load(places, "site_checkins", variant(tmp_path, "c.csv", text))
    (row,) = quarantined(places, report.batch_id)
    assert row.reason == "wrong_field_count"
    (stored,) = raw_json_texts(places, report.batch_id)
    for secret in ("11010519491231002X", "张三"):
        assert secret not in stored and secret not in row.detail
    assert row.raw["name"] == "1" + "*" * 17


@pytest.mark.parametrize(
    ("kind", "name", "text", "match"),
    [
        ("shops", "s.csv", "licence_id,Name,name\nA1,x,y\n", "'name' appears more than once"),
        (
            "areas",
            "a.geojson",
            '{"type": "FeatureCollection", "crs": "EPSG:4326", "features": [{"type": "Feature",'
            ' "properties": {"code": "1", "Name": "a", "name": "b"}, "geometry": null}]}',
            "property 'name' more than once",
        ),
        ("shops", "s.csv", "\nlicence_id,name\nA1,x\n", "first line is empty"),
        ("shops", "s.csv", "licence_id,na\x00me\nA1,x\n", "NUL"),
    ],
)
def test_ingest089_ambiguous_headers_are_refused(sqlite_places, tmp_path, kind, name, text, match):
    level = "district" if kind == "areas" else None
    with pytest.raises(FileRejected, match=match):
        load_file(kind, variant(tmp_path, name, text), session=sqlite_places, level=level, now=NOW)


# --------------------------------------------------------------------------- sites and stations


def test_ingest090_sites_register_loads_and_leaves_counts_alone(places, tmp_path):
    before = version(places, "sites")
    report = load(places, "sites", DATA / "sites.csv", crs="EPSG:4326")
    assert (report.rows_loaded, report.rows_quarantined) == (2, 0)
    assert version(places, "sites") == before + 1
    site = places.get(ConstructionSite, "CN-2026-003")
    assert (site.name, site.contractor, site.subdistrict_code) == (
        "长宁来福士二期工地",
        "上海建工一建集团",
        SUBDISTRICT,
    )
    assert site.geom.equals(shapely.Point(121.4175, 31.2197))
    assert (site.headcount, site.new_arrivals_today) == (0, 0)

    # Its check-ins now load instead of being set aside as unknown_site.
    checkins = (
        "site_id,id_number,name,home_province,arrived_on,from_key_region\n"
        "CN-2026-003,11010519491231002X,张三,安徽,2026-11-21,否\n"
    )
    assert load(places, "site_checkins", variant(tmp_path, "c.csv", checkins)).rows_loaded == 1

    # A later register file updates what it carries and never the counts.
    text = "\n".join(
        [
            "site_id,contractor,subdistrict_code,headcount",
            "CN-2026-003,中建三局,,999",
            "CN-2026-005,新工地,310104003,",  # new and nameless
            "CN-2026-004,中建八局,310104999,",
        ]
    )
    report = load(places, "sites", variant(tmp_path, "s.csv", text))
    assert report.quarantined_by_reason == {"unknown_id": 1, "unknown_area": 1}
    assert "ignored columns: headcount" in report.message
    places.expire_all()
    site = places.get(ConstructionSite, "CN-2026-003")
    assert (site.contractor, site.name, site.subdistrict_code) == (
        "中建三局",
        "长宁来福士二期工地",
        SUBDISTRICT,
    )
    assert (site.headcount, site.new_arrivals_today) == (1, 1)


def test_ingest091_sites_with_coordinates_need_a_crs(sqlite_places):
    with pytest.raises(FileRejected, match="no coordinate system"):
        load_file("sites", DATA / "sites.csv", session=sqlite_places, now=NOW)


def test_ingest092_stations_register(places, tmp_path):
    before = version(places, "areas")
    report = load(places, "stations", DATA / "stations.csv", crs="EPSG:4326")
    assert report.rows_loaded == 2
    assert version(places, "areas") == before + 1
    hongqiao = places.get(Station, "SHANGHAI_HONGQIAO")
    assert (hongqiao.name, hongqiao.name_en, hongqiao.kind) == (
        "上海虹桥站",
        "Shanghai Hongqiao",
        "railway",
    )
    assert hongqiao.geom.equals(shapely.Point(121.3204, 31.1945))
    assert places.get(Station, "L2_WEST_YANAN_RD").kind == "metro"  # "Metro" in the file

    text = "\n".join(
        [
            "code,name,kind",
            "SHANGHAI_SOUTH,上海南站（新）,",  # known: a blank kind leaves it alone
            "NEW_ONE,无类型站,",  # new without a kind: set aside, not silently dropped
            "BUS_1,公交站,bus",
        ]
    )
    report = load(places, "stations", variant(tmp_path, "s.csv", text))
    assert report.quarantined_by_reason == {"unknown_id": 1, "bad_value": 1}
    places.expire_all()
    south = places.get(Station, "SHANGHAI_SOUTH")
    assert (south.name, south.kind) == ("上海南站（新）", "railway")
    assert places.get(Station, "NEW_ONE") is None

    flows = "station_code,hour_start,arrivals\nSHANGHAI_HONGQIAO,2026-11-21T09:00:00+08:00,3000\n"
    assert load(places, "station_flows", variant(tmp_path, "f.csv", flows)).rows_loaded == 1


# --------------------------------------------------------------------------- declared vs. schema


def test_ingest093_declared_columns_fit_the_tables():
    """What the parser lets through, the table can hold: text no longer than the column, counts
    in INTEGER columns; and an upserted new row can fill every NOT NULL column without a
    default (else it would go through UPDATE and vanish without a word)."""
    for kind in KINDS.values():
        table = kind.table
        for col in kind.columns:
            if col.name not in table.c:
                continue
            sql_type = table.c[col.name].type
            length = getattr(sql_type, "length", None)
            if length is not None:
                longest = {
                    ColumnType.CREDIT_CODE: 18,
                    ColumnType.RESIDENT_ID: 18,
                    ColumnType.CHOICE: max(map(len, col.choices or ("",))),
                }.get(col.type, col.max_length)
                assert longest is not None and longest <= length, (
                    f"{kind.name}.{col.name}: up to {longest} characters vs {sql_type}"
                )
            if col.type is ColumnType.INT:
                assert isinstance(sql_type, Integer), f"{kind.name}.{col.name}"
        if kind.write is not None:
            continue
        must_have = {
            c.name
            for c in table.c
            if not c.nullable
            and not c.primary_key
            and c.default is None
            and c.server_default is None
        }
        always = {c.name for c in kind.columns if c.required and not c.blank_ok}
        from_hooks = {"level"} if kind.name == "areas" else set()
        assert must_have <= always | set(kind.new_row_needs) | from_hooks, kind.name


def test_ingest094_a_feature_without_geometry_spoils_no_other(session, tmp_path):
    for level in ("district", "subdistrict", "committee"):
        load(session, "areas", DATA / f"{level}.geojson", level=level)
    document = json.loads((DATA / "compound.geojson").read_text(encoding="utf-8"))
    document["features"][0]["geometry"] = None
    path = variant(tmp_path, "c.geojson", json.dumps(document, ensure_ascii=False))
    report = load(session, "areas", path, level="compound")
    rows = quarantined(session, report.batch_id)
    assert [q.detail for q in rows if q.reason == "broken_geometry"][0] == (
        "the feature has no geometry"
    )
    assert "nan" not in [q.detail for q in rows]
    assert report.rows_loaded == 1  # 01002 still loads (01001 lost its geometry above)


# --------------------------------------------------------------------------- parsing, pure


@pytest.mark.parametrize(
    ("text", "utc"),
    [
        ("2026-11-21", dt.datetime(2026, 11, 20, 16, tzinfo=dt.UTC)),  # local midnight
        ("2026-11-21 00:00", dt.datetime(2026, 11, 20, 16, tzinfo=dt.UTC)),
        ("2026-11-21T09:00:00+08:00", dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)),
        ("2026-11-21T09:00:00-05", dt.datetime(2026, 11, 21, 14, tzinfo=dt.UTC)),
        ("2026-11-21 09:00 +0800", dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)),
        ("2026-11-21T01:00Z", dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)),
        ("2026-11-21 09:00", dt.datetime(2026, 11, 21, 1, tzinfo=dt.UTC)),
        ("2026-11-21Z", None),  # a zone without a time: refused, not a crash
        ("2026-11-31", None),
        ("soon", None),
    ],
)
def test_ingest095_timestamps(text, utc):
    from zoneinfo import ZoneInfo

    from dashboard.ingest.rows import parse_timestamps

    # Alongside other shapes, as in a real column.
    column = pd.Series([text, "2026-11-21 10:00", "2026-11-21T10:00:00+08:00"])
    parsed = parse_timestamps(column, ZoneInfo("Asia/Shanghai"))
    got = parsed.iloc[0]
    assert (None if pd.isna(got) else got.to_pydatetime()) == utc
    assert parsed.iloc[1] == parsed.iloc[2] == pd.Timestamp("2026-11-21T02:00Z")
