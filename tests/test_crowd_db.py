"""The crowd heatmap in the database, on SQLite and on PostgreSQL: the in-database aggregation,
the ``crowd_counts`` feed, the refresh job and the reads for the web.

Pings outside the district or with bad coordinates are set aside by the ingestion path
(``tests/test_ingest.py::test_ingest030_pings_load_and_bad_rows_are_set_aside``); here
``test_crowd046`` checks that what was set aside never reaches the map.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import shapely
from shapely.geometry import box
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard import crowd, jobs
from dashboard.config import Settings
from dashboard.db import get_engine, session_scope
from dashboard.ingest import load_file
from dashboard.models import (
    Area,
    AreaLevel,
    CrowdBatch,
    CrowdCount,
    CrowdWindow,
    DataVersion,
    ImportBatch,
    Ping,
    ProviderCount,
    QuarantinedRow,
)

GRID = crowd.Grid(121.38, 31.10, 250.0)
W0 = dt.datetime(2026, 11, 21, 1, 0, tzinfo=dt.UTC)  # 09:00-09:15 in Shanghai
W1 = W0 + dt.timedelta(minutes=15)
NOW = W0 + dt.timedelta(minutes=40)
DISTRICT = box(121.40, 31.14, 121.48, 31.23)


def settings_for(url: str, **overrides) -> Settings:
    return Settings(database_url=url, **overrides)


def add_batch(session: Session, kind: str = "pings", rows: int = 1) -> int:
    batch = ImportBatch(
        kind=kind,
        filename=f"{kind}.csv",
        sha256=uuid.uuid4().hex * 2,
        status="loaded",
        rows_read=rows,
        rows_loaded=rows,
    )
    session.add(batch)
    session.flush()
    return batch.id


def store_pings(session: Session, ts, lon, lat, weight=None) -> int:
    """Pings as the ingestion path would leave them (one batch); the batch id."""
    n = len(lon)
    batch = add_batch(session, rows=n)
    weight = np.ones(n) if weight is None else weight
    stamps = pd.to_datetime(np.asarray(ts), utc=True).to_pydatetime()
    session.execute(
        Ping.__table__.insert(),
        [
            {"ts": t, "lon": float(x), "lat": float(y), "weight": float(w), "batch_id": batch}
            for t, x, y, w in zip(stamps, lon, lat, weight, strict=True)
        ],
    )
    session.commit()
    return batch


def random_pings(n: int, seed: int = 1, start: dt.datetime = W0, minutes: int = 45):
    rng = np.random.default_rng(seed)
    # A realistic spread: half around a few centres, half uniform over the district's box.
    centres = np.array([[121.4365, 31.1950], [121.4299, 31.1545], [121.4100, 31.1700]])
    k = n // 2
    pick = rng.integers(0, len(centres), k)
    lon = np.concatenate(
        [centres[pick, 0] + rng.normal(0, 0.003, k), rng.uniform(121.39, 121.47, n - k)]
    )
    lat = np.concatenate(
        [centres[pick, 1] + rng.normal(0, 0.0025, k), rng.uniform(31.11, 31.22, n - k)]
    )
    micros = rng.integers(0, minutes * 60_000_000, n)
    ts = np.datetime64(start.replace(tzinfo=None), "us") + micros.astype("timedelta64[us]")
    weight = np.round(rng.uniform(20, 60, n), 2)
    return ts, np.round(lon, 6), np.round(lat, 6), weight


def crowd_rows(session: Session) -> list[tuple]:
    return session.execute(
        select(
            CrowdCount.window_start, CrowdCount.cell_id, CrowdCount.count, CrowdCount.observations
        ).order_by(CrowdCount.window_start, CrowdCount.cell_id)
    ).all()


def seed_district(session: Session) -> None:
    session.add(
        Area(
            code="310104",
            level=AreaLevel.DISTRICT,
            name="徐汇区",
            geom=shapely.MultiPolygon([DISTRICT]),
        )
    )
    session.commit()


def write_csv(path: Path, text: str, *, prj: bool = False) -> Path:
    path.write_text(text, encoding="utf-8")
    if prj:
        Path(f"{path}.prj").write_text("EPSG:4326\n", encoding="utf-8")
    return path


# --------------------------------------------------------------------------- SQL vs numpy


def test_crowd040_sqlite_and_postgresql_aggregation_agree(db_url, sqlite_url):
    """The same pings in two databases (on the PostgreSQL run: PostgreSQL's GROUP BY against
    SQLite's in-process path) and in numpy: identical cell ids, observations and counts."""
    ts, lon, lat, weight = random_pings(20_000)
    frames = []
    # On the SQLite run both fixtures name the same file: aggregate it once.
    for url in dict.fromkeys((db_url, sqlite_url)):
        with Session(get_engine(url)) as session:
            store_pings(session, ts, lon, lat, weight)
            frames.append(
                crowd.aggregate_window_in_db(
                    session=session, start=W0, end=W0 + dt.timedelta(hours=1), grid=GRID
                )
            )
    in_numpy = crowd.aggregate(ts, lon, lat, weight, grid=GRID)
    assert len(in_numpy) > 1000 and in_numpy["window_start"].nunique() == 3
    for frame in frames:
        pd.testing.assert_frame_equal(frame, in_numpy)


def test_crowd041_points_on_cell_and_window_edges_land_alike_in_sql_and_numpy(session):
    ix = np.array([3, 17, 33, 20, 20])
    iy = np.array([5, 29, 53, 41, 41])
    lon = GRID.edges_lon(ix)
    lat = GRID.edges_lat(iy)
    cm_lon, cm_lat = 0.01 / GRID.m_per_deg_lon, 0.01 / GRID.m_per_deg_lat
    # On the edge, and a centimetre below it on both axes.
    all_lon = np.concatenate([lon, lon - cm_lon])
    all_lat = np.concatenate([lat, lat - cm_lat])
    base = np.datetime64(W0.replace(tzinfo=None), "us")
    # The first four on a window's first microsecond, the last one microsecond before it.
    stamps = np.array([base] * 4 + [base - np.timedelta64(1, "us")])
    all_ts = np.concatenate([stamps, stamps])
    store_pings(session, all_ts, all_lon, all_lat)
    got = crowd.aggregate_window_in_db(
        session=session, start=W0 - dt.timedelta(minutes=15), end=W1, grid=GRID
    )
    expected = crowd.aggregate(all_ts, all_lon, all_lat, grid=GRID)
    pd.testing.assert_frame_equal(got, expected)
    at_w0 = set(got.loc[got["window_start"] == pd.Timestamp(W0), "cell_id"])
    assert at_w0 == {"3:5", "17:29", "33:53", "20:41", "2:4", "16:28", "32:52", "19:40"}
    before = got.loc[got["window_start"] < pd.Timestamp(W0), "cell_id"].tolist()
    assert before == ["19:40", "20:41"]


# --------------------------------------------------------------------------- provider counts


def test_crowd042_raw_pings_and_provider_counts_give_the_same_map(db_url, tmp_path):
    """The same people as one ping each, and as a carrier's per-cell counts (half by cell id,
    half by cell centre), loaded through the ingestion path into two windows: same map."""
    rng = np.random.default_rng(3)
    n = 20_000
    lon = np.round(121.4365 + rng.normal(0, 0.002, n), 6)
    lat = np.round(31.1950 + rng.normal(0, 0.0017, n), 6)
    seconds = rng.integers(0, 900, n)
    ping_times = [W0 + dt.timedelta(seconds=int(s)) for s in seconds]
    pings = pd.DataFrame({"timestamp": [t.isoformat() for t in ping_times], "lon": lon, "lat": lat})
    pings_path = tmp_path / "pings.csv"
    pings.to_csv(pings_path, index=False)

    ix, iy = GRID.cell_of(lon, lat)
    per_cell = pd.Series(1, index=GRID.cell_ids(ix, iy)).groupby(level=0).sum()
    cells = per_cell.index.to_numpy()
    centre_lon, centre_lat = GRID.centres(cells)
    snapshot = (W1 + dt.timedelta(minutes=5)).isoformat()
    half = len(cells) // 2
    by_id = pd.DataFrame(
        {"timestamp": snapshot, "cell_id": cells[:half], "count": per_cell.to_numpy()[:half]}
    )
    by_centre = pd.DataFrame(
        {
            "timestamp": snapshot,
            "lon": np.round(centre_lon[half:], 7),
            "lat": np.round(centre_lat[half:], 7),
            "count": per_cell.to_numpy()[half:],
        }
    )
    settings = settings_for(db_url)
    with session_scope(db_url) as session:
        load_file("pings", pings_path, session=session, crs="EPSG:4326", now=NOW)
    with session_scope(db_url) as session:
        for name, frame in (("ids.csv", by_id), ("centres.csv", by_centre)):
            frame.to_csv(tmp_path / name, index=False)
            report = load_file(
                "crowd_counts", tmp_path / name, session=session, crs="EPSG:4326", now=NOW
            )
            assert report.rows_loaded == len(frame)
    with session_scope(db_url) as session:
        crowd.refresh(session=session, settings=settings, now=NOW)
    with session_scope(db_url) as session:
        from_pings = crowd.crowd_frame(W0, session=session, settings=settings)
        from_counts = crowd.crowd_frame(W1, session=session, settings=settings)
    assert len(from_pings) == len(cells) and from_pings["visible"].any()
    assert from_pings["level"].nunique() >= 3
    pd.testing.assert_frame_equal(from_pings, from_counts)


def test_crowd043_provider_cells_are_checked_and_normalised(session, tmp_path):
    seed_district(session)
    inside = GRID.cell_ids(*GRID.cell_of(np.array([121.44]), np.array([31.19])))[0]
    far = GRID.cell_ids(*GRID.cell_of(np.array([121.30]), np.array([31.19])))[0]
    ix, iy = inside.split(":")
    text = (
        "timestamp,cell_id,count\n"
        f"2026-11-21T09:00:00+08:00,{inside},120\n"
        f"2026-11-21T09:00:00+08:00,+{ix}:0{iy},5\n"  # the same cell, written another way
        "2026-11-21T09:00:00+08:00,22-37,7\n"
        "2026-11-21T09:00:00+08:00,,7\n"
        f"2026-11-21T09:00:00+08:00,{far},40\n"
        f"2026-11-21T09:05:00+08:00,{inside},12.5\n"
        f"2026-11-21T09:05:00+08:00,{inside},-3\n"
    )
    report = load_file(
        "crowd_counts", write_csv(tmp_path / "c.csv", text), session=session, now=NOW
    )
    session.commit()
    assert report.rows_loaded == 1
    assert report.quarantined_by_reason == {
        "duplicate_key": 1,
        "bad_value": 1,
        "missing_value": 1,
        "outside_district": 1,
        "not_integer": 1,
        "negative_value": 1,
    }
    stored = session.execute(select(ProviderCount.cell_id, ProviderCount.count)).all()
    assert stored == [(inside, 120)]
    reasons = dict(session.execute(select(QuarantinedRow.row_number, QuarantinedRow.reason)).all())
    assert reasons[3] == "duplicate_key" and reasons[4] == "bad_value"


def test_crowd044_a_file_must_say_where_its_counts_are(session, tmp_path):
    from dashboard.ingest import FileRejected

    path = write_csv(tmp_path / "c.csv", "timestamp,count\n2026-11-21T09:00:00+08:00,3\n")
    with pytest.raises(FileRejected, match="cell_id column"):
        load_file("crowd_counts", path, session=session, now=NOW)


def test_crowd045_a_corrected_provider_file_replaces_its_counts(session, tmp_path):
    settings = settings_for(str(session.get_bind().url.render_as_string(hide_password=False)))
    first = "timestamp,cell_id,count\n2026-11-21T09:00:00+08:00,20:40,100\n"
    fixed = "timestamp,cell_id,count\n2026-11-21T09:00:00+08:00,20:40,150\n"
    load_file("crowd_counts", write_csv(tmp_path / "a.csv", first), session=session, now=NOW)
    crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    load_file("crowd_counts", write_csv(tmp_path / "b.csv", fixed), session=session, now=NOW)
    crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    assert [(c, n, o) for _, c, n, o in crowd_rows(session)] == [("20:40", 150.0, 150)]


def test_crowd046_quarantined_pings_never_reach_the_map(session, tmp_path):
    seed_district(session)
    text = (
        "timestamp,lon,lat\n"
        "2026-11-21T09:01:00+08:00,121.4400,31.1900\n"
        "2026-11-21T09:02:00+08:00,121.3000,31.1900\n"  # outside the district
        "2026-11-21T09:03:00+08:00,31.1900,121.4400\n"  # swapped
        "2026-11-21T09:04:00+08:00,,\n"
    )
    report = load_file(
        "pings", write_csv(tmp_path / "p.csv", text, prj=True), session=session, now=NOW
    )
    assert report.rows_loaded == 1
    url = session.get_bind().url.render_as_string(hide_password=False)
    crowd.refresh(session=session, settings=settings_for(url), now=NOW)
    session.commit()
    assert [(c, o) for _, c, _, o in crowd_rows(session)] == [
        (GRID.cell_ids(*GRID.cell_of(np.array([121.44]), np.array([31.19])))[0], 1)
    ]


# --------------------------------------------------------------------------- refresh


def _url(session: Session) -> str:
    return session.get_bind().url.render_as_string(hide_password=False)


def test_crowd050_refresh_replaces_touched_windows_and_prunes_old_ones(session):
    settings = settings_for(_url(session))
    old = W0 - dt.timedelta(days=8)
    session.add(
        CrowdCount(window_start=old, cell_id="1:1", count=5, observations=5, density_km2=80)
    )
    session.add(CrowdWindow(window_start=old, cells=1, people=5, observations=5))
    session.commit()
    ts, lon, lat, weight = random_pings(2_000, seed=5, minutes=15)
    store_pings(session, ts, lon, lat, weight)
    first = crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    assert first == len(crowd_rows(session)) > 100
    assert session.scalar(select(func.min(CrowdCount.window_start))) == W0  # the old one is gone
    assert session.get(CrowdWindow, old) is None

    # More pings for the same window: it is replaced, not added to.
    ts2, lon2, lat2, weight2 = random_pings(1_000, seed=6, minutes=15)
    store_pings(session, ts2, lon2, lat2, weight2)
    crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    expected = crowd.aggregate(
        np.concatenate([ts, ts2]),
        np.concatenate([lon, lon2]),
        np.concatenate([lat, lat2]),
        np.concatenate([weight, weight2]),
        grid=GRID,
    )
    stored = {c: (n, o) for _, c, n, o in crowd_rows(session)}
    assert stored == {
        c: (n, o)
        for c, n, o in zip(
            expected["cell_id"], expected["count"], expected["observations"], strict=True
        )
    }
    window = session.get(CrowdWindow, W0)
    assert window.cells == len(expected) and window.observations == 3_000


def test_crowd051_a_failed_refresh_leaves_the_previous_windows(db_url, monkeypatch):
    settings = settings_for(db_url)
    with session_scope(db_url) as session:
        store_pings(session, *random_pings(500, seed=8, minutes=15))
        crowd.refresh(session=session, settings=settings, now=NOW)
    with session_scope(db_url) as session:
        before = crowd_rows(session)
        store_pings(session, *random_pings(500, seed=9, minutes=15))

    def explode(*args, **kwargs):
        raise RuntimeError("database went away after the deletes")

    monkeypatch.setattr(crowd, "bump", explode)  # the refresh's very last write
    with pytest.raises(RuntimeError), session_scope(db_url) as session:
        crowd.refresh(session=session, settings=settings, now=NOW)
    with session_scope(db_url) as session:
        assert crowd_rows(session) == before
        assert session.scalar(select(func.count()).select_from(CrowdBatch)) == 1


def test_crowd052_only_new_batches_windows_are_recomputed(session):
    settings = settings_for(_url(session))
    store_pings(session, *random_pings(300, seed=10, minutes=15))
    crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    first_w0 = session.get(CrowdWindow, W0).computed_at
    assert crowd.refresh(session=session, settings=settings, now=NOW) == 0  # nothing new
    store_pings(session, *random_pings(300, seed=11, start=W1, minutes=15))
    written = crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    assert written == session.scalar(
        select(func.count()).select_from(CrowdCount).where(CrowdCount.window_start == W1)
    )
    session.expire_all()
    assert session.get(CrowdWindow, W0).computed_at == first_w0


def test_crowd053_a_batch_that_committed_late_is_still_folded_in(session):
    """Two imports may commit out of id order; a processed id above an unprocessed one
    must not hide it."""
    settings = settings_for(_url(session))
    early = store_pings(session, *random_pings(200, seed=12, minutes=15))
    late = store_pings(session, *random_pings(200, seed=13, start=W1, minutes=15))
    session.add(CrowdBatch(batch_id=late))  # as if the later id had been aggregated first
    session.add(CrowdWindow(window_start=W0, cells=0, people=0, observations=0))
    session.commit()
    crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    assert session.get(CrowdWindow, W0).observations == 200
    assert session.get(CrowdBatch, early) is not None


def test_crowd054_windows_never_aggregated_are_computed_and_empty_ones_recorded(session):
    settings = settings_for(_url(session))
    store_pings(session, *random_pings(100, seed=14, minutes=15))
    store_pings(
        session, *random_pings(100, seed=15, start=W0 + dt.timedelta(minutes=30), minutes=15)
    )
    crowd.refresh(session=session, settings=settings, now=NOW)
    session.commit()
    windows = session.scalars(select(CrowdWindow).order_by(CrowdWindow.window_start)).all()
    assert [(w.window_start, w.cells > 0) for w in windows] == [
        (W0, True),
        (W1, False),
        (W1 + dt.timedelta(minutes=15), True),
    ]
    # A window's rows lost by some other path are recomputed on the next run.
    session.execute(CrowdWindow.__table__.delete().where(CrowdWindow.window_start == W0))
    session.execute(CrowdCount.__table__.delete().where(CrowdCount.window_start == W0))
    session.commit()
    assert crowd.refresh(session=session, settings=settings, now=NOW) > 0
    assert crowd.window_starts(session=session, since=W0) == [W0, W1 + dt.timedelta(minutes=15)]


def test_crowd055_windows_older_than_the_raw_pings_are_frozen(session, tmp_path, caplog):
    settings = settings_for(_url(session), pings_keep_hours=48)
    session.add(
        CrowdCount(window_start=W0, cell_id="20:40", count=900, observations=30, density_km2=14_400)
    )
    session.add(CrowdWindow(window_start=W0, cells=1, people=900, observations=30))
    session.commit()
    text = "timestamp,cell_id,count\n2026-11-21T09:00:00+08:00,20:40,5\n"
    load_file("crowd_counts", write_csv(tmp_path / "late.csv", text), session=session, now=NOW)
    session.commit()
    three_days_later = NOW + dt.timedelta(days=3)
    crowd.refresh(session=session, settings=settings, now=three_days_later)
    session.commit()
    assert [(c, n) for _, c, n, _ in crowd_rows(session)] == [("20:40", 900.0)]
    assert "left as they were" in caplog.text


def test_crowd056_provider_snapshots_in_one_window_are_averaged_in_the_database(session, tmp_path):
    text = (
        "timestamp,cell_id,count\n"
        "2026-11-21T09:00:00+08:00,20:40,90\n"
        "2026-11-21T09:00:00+08:00,21:40,30\n"
        "2026-11-21T09:05:00+08:00,20:40,120\n"
        "2026-11-21T09:10:00+08:00,20:40,150\n"
    )
    load_file("crowd_counts", write_csv(tmp_path / "s.csv", text), session=session, now=NOW)
    session.commit()
    crowd.refresh(session=session, settings=settings_for(_url(session)), now=NOW)
    session.commit()
    assert [(c, n, o) for _, c, n, o in crowd_rows(session)] == [
        ("20:40", 120.0, 120),
        ("21:40", 10.0, 10),  # counted in one snapshot of three: 30 / 3
    ]


# --------------------------------------------------------------------------- job and reads


def test_crowd060_the_job_runs_through_run_job(db_url):
    settings = settings_for(db_url)
    with session_scope(db_url) as session:
        store_pings(session, *random_pings(1_000, seed=16))
    run = jobs.run_job("aggregate_crowd", settings=settings, now=NOW)
    assert run is not None and run.status == "ok", run.error if run else None
    assert run.rows > 100
    with session_scope(db_url) as session:
        assert (
            session.scalar(select(DataVersion.version).where(DataVersion.dataset == "crowd")) == 1
        )
        assert len(crowd_rows(session)) == run.rows
    again = jobs.run_job("aggregate_crowd", settings=settings, now=NOW + dt.timedelta(minutes=2))
    assert again.status == "ok" and again.rows == 0
    assert jobs.JOBS["aggregate_crowd"].expected_interval_s(settings) == 120


def test_crowd061_crowd_frame_gives_levels_and_hides_small_cells(session):
    settings = settings_for(_url(session), crowd_min_count=10)
    for cell, count, obs in (
        ("1:1", 300.0, 3),
        ("2:2", 700.0, 10),
        ("3:3", 2500.0, 50),
        ("4:4", 4000.0, 80),
    ):
        session.add(
            CrowdCount(
                window_start=W0,
                cell_id=cell,
                count=count,
                observations=obs,
                density_km2=count / 0.0625,
            )
        )
    session.commit()
    frame = crowd.crowd_frame(W0, session=session, settings=settings)
    assert list(frame.columns) == [
        "cell_id",
        "count",
        "observations",
        "density_km2",
        "level",
        "visible",
    ]
    assert frame["level"].tolist() == ["blue", "green", "yellow", "red"]
    assert frame["visible"].tolist() == [False, True, True, True]
    history = crowd.cell_history(
        "3:3", session=session, since=W0 - dt.timedelta(hours=24), settings=settings
    )
    assert history["level"].tolist() == ["yellow"]


def test_crowd062_latest_window_is_the_newest_one_that_has_ended(session):
    for start in (W0, W1):
        session.add(CrowdWindow(window_start=start, cells=3, people=30, observations=30))
    session.commit()
    assert crowd.latest_window(session=session, now=W1 + dt.timedelta(minutes=14)) == W0
    assert crowd.latest_window(session=session, now=W1 + dt.timedelta(minutes=15)) == W1
