"""Issue 5, the five overview feeds through the ingestion path: each loads, upserts by its key,
bumps its own dataset and sets its bad rows aside with their reasons.

Database tests run on SQLite and PostgreSQL; ``places`` (from test_ingest) holds the
subdistrict 310104003 and the committee 310104003001. Expected values are written by hand.
"""

from __future__ import annotations

import datetime as dt
import os

import pandas as pd
import pytest
import shapely
from sqlalchemy import select
from sqlalchemy.orm import Session
from test_ingest import (
    COMMITTEE,
    NOW,
    SUBDISTRICT,
    count,
    load,
    quarantined,
    seed_places,
    variant,
    version,
)

from dashboard.db import session_scope
from dashboard.ingest import FileRejected, load_file, load_inbox
from dashboard.models import (
    DisinfectionTask,
    EpidemicCount,
    HomeObservation,
    MaskSupply,
    OfficeReturnees,
)

D20, D21 = dt.date(2026, 11, 20), dt.date(2026, 11, 21)
LATER = NOW + dt.timedelta(hours=3)


@pytest.fixture
def places(session: Session) -> Session:
    seed_places(session)
    return session


def reasons(session: Session, batch_id: int) -> list[tuple[int, str]]:
    return [(q.row_number, q.reason) for q in quarantined(session, batch_id)]


def test_ovw001_epidemic(places, tmp_path):
    text = "\n".join(
        [
            "date,level,new_cases,current_cases",
            "2026-11-21,country,120,3400",
            "2026-11-21,City,3,41",  # case does not matter
            "2026-11-21,district,0,2",
            "2026-11-21,province,1,1",
            "2026-11-21,district,1,2",  # same key again
            "2026-11-20,district,-1,2",
            "2026-11-20,city,1,",
            "2026-11-32,city,1,1",
            "2026-11-20,city,1.5,1",
        ]
    )
    report = load(places, "epidemic", variant(tmp_path, "e.csv", text))
    assert report.rows_loaded == 3
    assert reasons(places, report.batch_id) == [
        (5, "bad_value"),
        (6, "duplicate_key"),
        (7, "negative_value"),
        (8, "missing_value"),
        (9, "bad_date"),
        (10, "not_integer"),
    ]
    assert version(places, "epidemic") == 1
    # A correction of one figure replaces it; the others stay.
    fix = "date,level,new_cases,current_cases\n2026-11-21,district,1,3\n"
    load(places, "epidemic", variant(tmp_path, "f.csv", fix))
    places.expire_all()
    stored = {
        (r.level, r.new_cases, r.current_cases)
        for r in places.scalars(select(EpidemicCount).where(EpidemicCount.date == D21))
    }
    assert stored == {("country", 120, 3400), ("city", 3, 41), ("district", 1, 3)}
    assert version(places, "epidemic") == 2


def test_ovw002_home_observation_needs_a_committee(places, tmp_path):
    text = "\n".join(
        [
            "date,committee_code,people",
            f"2026-11-21,{COMMITTEE},12",
            f"2026-11-21,{SUBDISTRICT},5",  # a subdistrict, not a committee
            "2026-11-21,310104999001,5",
            f"2026-11-20,{COMMITTEE},-2",
            f"2026-11-20,{COMMITTEE},",
        ]
    )
    report = load(places, "home_observation", variant(tmp_path, "h.csv", text))
    assert report.rows_loaded == 1
    assert reasons(places, report.batch_id) == [
        (3, "unknown_area"),
        (4, "unknown_area"),
        (5, "negative_value"),
        (6, "missing_value"),
    ]
    (row,) = places.scalars(select(HomeObservation)).all()
    assert (row.date, row.committee_code, row.people) == (D21, COMMITTEE, 12)
    assert version(places, "home_observation") == 1


def test_ovw003_disinfection_tasks_and_their_ticks(places, tmp_path):
    text = "\n".join(
        [
            "place_id,due_on,place_name,place_kind,subdistrict_code,done_at",
            f"M1,2026-11-21,天钥桥路菜市场,农贸市场,{SUBDISTRICT},",
            f"S1,2026-11-21,徐家汇地铁站,地铁站,{SUBDISTRICT},2026-11-21 08:15",
            "B1,2026-11-21,,楼宇,,",  # a new task without a name
            "B2,2026-11-21,港汇恒隆,楼宇,310104999,",
            "B3,2026-11-21,美罗城,楼宇,,soon",
            "B4,,美罗城,楼宇,,",
        ]
    )
    report = load(places, "disinfection", variant(tmp_path, "d.csv", text))
    assert report.rows_loaded == 2
    assert reasons(places, report.batch_id) == [
        (4, "unknown_id"),
        (5, "unknown_area"),
        (6, "bad_timestamp"),
        (7, "blank_id"),
    ]
    s1 = places.get(DisinfectionTask, ("S1", D21))
    assert s1.done_at == dt.datetime(2026, 11, 21, 0, 15, tzinfo=dt.UTC)  # 08:15 local
    m1 = places.get(DisinfectionTask, ("M1", D21))
    assert m1.done_at is None
    # Written at the load's time with the dataset's version of that load (its first).
    assert (m1.updated_at, m1.sync_version, s1.updated_at, s1.sync_version) == (NOW, 1, NOW, 1)

    # Ticked off with only the key and the time; a blank time clears nothing; a known place
    # on a new day is a new task and needs its name again.
    ticks = "\n".join(
        [
            "place_id,due_on,done_at",
            "M1,2026-11-21,2026-11-21T10:40:00+08:00",
            "S1,2026-11-21,",
            "M1,2026-11-22,",
        ]
    )
    report = load(places, "disinfection", variant(tmp_path, "t.csv", ticks), now=LATER)
    assert (report.rows_loaded, reasons(places, report.batch_id)) == (2, [(4, "unknown_id")])
    places.expire_all()
    m1 = places.get(DisinfectionTask, ("M1", D21))
    assert (m1.done_at, m1.place_name, m1.place_kind) == (
        dt.datetime(2026, 11, 21, 2, 40, tzinfo=dt.UTC),
        "天钥桥路菜市场",
        "农贸市场",
    )
    s1 = places.get(DisinfectionTask, ("S1", D21))
    assert s1.done_at == dt.datetime(2026, 11, 21, 0, 15, tzinfo=dt.UTC)
    assert count(places, DisinfectionTask) == 2
    assert version(places, "disinfection") == 2
    # Both rows of the second file were written (S1 with nothing new: reported again).
    assert (m1.updated_at, m1.sync_version, s1.updated_at, s1.sync_version) == (LATER, 2, LATER, 2)


def test_ovw004_masks(places, tmp_path):
    text = "\n".join(
        [
            "date,subdistrict_code,reserved,delivered",
            f"2026-11-21,{SUBDISTRICT},12000,9500",
            "2026-11-21,310104999,1,1",
            "2026-11-21,,1,1",
            f"2026-11-20,{SUBDISTRICT},100,-5",
            f"2026-11-19,{SUBDISTRICT},many,5",
        ]
    )
    report = load(places, "masks", variant(tmp_path, "m.csv", text))
    assert report.rows_loaded == 1
    assert reasons(places, report.batch_id) == [
        (3, "unknown_area"),
        (4, "blank_id"),
        (5, "negative_value"),
        (6, "non_numeric"),
    ]
    row = places.get(MaskSupply, (D21, SUBDISTRICT))
    assert (row.reserved, row.delivered) == (12000, 9500)
    assert version(places, "masks") == 1


def test_ovw005_returnees_with_points(places, tmp_path):
    text = "\n".join(
        [
            "date,building_id,building_name,subdistrict_code,lon,lat,returnees",
            f"2026-11-20,OB1,来福士T1,{SUBDISTRICT},121.4175,31.2197,600",
            f"2026-11-21,OB1,来福士T1,{SUBDISTRICT},121.4175,31.2197,640",
            "2026-11-21,OB2,汇金大厦,,,,85",
            "2026-11-21,OB3,,,,,10",
            "2026-11-21,OB4,某大厦,,121.4,,10",
            "2026-11-21,OB5,某大厦,,,,10.5",
        ]
    )
    path = variant(tmp_path, "r.csv", text)
    with pytest.raises(FileRejected, match="no coordinate system"):
        load_file("returnees", path, session=places, now=NOW)
    places.rollback()
    report = load(places, "returnees", path, crs="EPSG:4326")
    assert report.rows_loaded == 3
    assert reasons(places, report.batch_id) == [
        (5, "missing_value"),
        (6, "bad_coordinates"),
        (7, "not_integer"),
    ]
    ob1 = places.get(OfficeReturnees, (D21, "OB1"))
    assert (ob1.returnees, ob1.building_name, ob1.subdistrict_code) == (
        640,
        "来福士T1",
        SUBDISTRICT,
    )
    assert ob1.geom.equals(shapely.Point(121.4175, 31.2197))
    assert places.get(OfficeReturnees, (D21, "OB2")).geom is None
    assert places.get(OfficeReturnees, (D20, "OB1")).returnees == 600
    assert version(places, "returnees") == 1


def test_ovw006_excel_and_reordered_rows_load_the_same(places, tmp_path):
    frame = pd.DataFrame({"date": ["2026-11-21"], "committee_code": [COMMITTEE], "people": [12]})
    xlsx = tmp_path / "h.xlsx"
    frame.to_excel(xlsx, index=False)
    assert load(places, "home_observation", xlsx).rows_loaded == 1
    # The same values again, as a CSV (other bytes): an upsert, one row still.
    csv = variant(tmp_path, "h.csv", f"people,committee_code,date\n12,{COMMITTEE},2026-11-21\n")
    report = load(places, "home_observation", csv)
    assert (report.already_loaded, report.rows_loaded) == (False, 1)
    places.expire_all()
    assert [
        (r.date, r.committee_code, r.people) for r in places.scalars(select(HomeObservation))
    ] == [(D21, COMMITTEE, 12)]


def test_ovw007_inbox_has_a_folder_per_overview_kind(db_url, tmp_path):
    with session_scope(db_url) as s:
        seed_places(s)
    inbox = tmp_path / "inbox"
    files = {
        "epidemic": "date,level,new_cases,current_cases\n2026-11-21,city,3,41\n",
        "home_observation": f"date,committee_code,people\n2026-11-21,{COMMITTEE},12\n",
        "disinfection": "place_id,due_on,place_name\nM1,2026-11-21,菜场\n",
        "masks": f"date,subdistrict_code,reserved,delivered\n2026-11-21,{SUBDISTRICT},10,9\n",
        "returnees": "date,building_id,building_name,returnees\n2026-11-21,OB1,来福士T1,640\n",
    }
    for kind, text in files.items():
        (inbox / kind).mkdir(parents=True)
        path = inbox / kind / f"{kind}.csv"
        path.write_text(text, encoding="utf-8")
        os.utime(path, (NOW.timestamp(), NOW.timestamp()))
    reports = load_inbox(inbox, session_factory=lambda: session_scope(db_url), now=NOW)
    assert sorted((r.kind, r.rows_loaded, r.rejected) for r in reports) == [
        ("disinfection", 1, False),
        ("epidemic", 1, False),
        ("home_observation", 1, False),
        ("masks", 1, False),
        ("returnees", 1, False),
    ]
    for kind in files:
        assert (inbox / "done" / kind / f"{kind}.csv").is_file()
    with session_scope(db_url) as s:
        for model in (
            EpidemicCount,
            HomeObservation,
            DisinfectionTask,
            MaskSupply,
            OfficeReturnees,
        ):
            assert count(s, model) == 1, model.__name__
        for dataset in ("epidemic", "home_observation", "disinfection", "masks", "returnees"):
            assert version(s, dataset) == 1, dataset
