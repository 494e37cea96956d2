"""Issue 5, the registers through the ingestion path: state machines, labour gap, shops' day
reports, the key-region flag and counts, idempotency and the named bad cases.

Every database test runs on SQLite and PostgreSQL (``places`` from test_ingest: one district
down to three compounds, and the sites XH-2026-017 and XH-2026-018) and loads real files with
``load_file``. Expected values are written out by hand, never computed by the code under test.
"""

from __future__ import annotations

import datetime as dt
import itertools
import threading
import time

import pytest
from sqlalchemy import select
from sqlalchemy import text as sql
from sqlalchemy.orm import Session
from test_ingest import (
    NOW,
    SUBDISTRICT,
    count,
    load,
    quarantined,
    seed_places,
    variant,
    version,
)

from dashboard.config import get_settings
from dashboard.db import get_engine
from dashboard.ingest import load_file
from dashboard.ingest.kinds import parse_labour_gap
from dashboard.models import ConstructionSite, Enterprise, ImportBatch, Shop, SiteWorker

LATER = NOW + dt.timedelta(hours=3)  # 13:00 on 21 November in Shanghai
STATES = ("not_registered", "registered", "approved", "reopened", "suspended")
# The moves the diagram in dashboard/states.py allows, read off it by hand (staying is allowed).
ALLOWED = {
    ("not_registered", "registered"),
    ("registered", "approved"),
    ("approved", "reopened"),
    ("approved", "suspended"),
    ("reopened", "suspended"),
    ("suspended", "reopened"),
    ("suspended", "approved"),
}
CODE = "91310104MA1FL0AT82"
SITE = "CN-2026-003"


@pytest.fixture
def places(session: Session) -> Session:
    seed_places(session)
    return session


@pytest.fixture(autouse=True)
def fresh_settings():
    """Tests change the key-region settings through the environment: re-read them after."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


# --------------------------------------------------------------------------- state machines


@pytest.mark.parametrize(("old", "new"), list(itertools.product(STATES, STATES)))
def test_reg001_reopening_transitions_of_enterprises_and_sites(places, tmp_path, old, new):
    allowed = old == new or (old, new) in ALLOWED
    enterprise = variant(tmp_path, "e0.csv", f"credit_code,name,state\n{CODE},示例公司,{old}\n")
    site = variant(tmp_path, "s0.csv", f"site_id,name,state\n{SITE},示例工地,{old}\n")
    load(places, "enterprises", enterprise)
    load(places, "sites", site)

    for kind, model, key, path in (
        (
            "enterprises",
            Enterprise,
            CODE,
            variant(tmp_path, "e1.csv", f"credit_code,state\n{CODE},{new}\n"),
        ),
        (
            "sites",
            ConstructionSite,
            SITE,
            variant(tmp_path, "s1.csv", f"site_id,state\n{SITE},{new}\n"),
        ),
    ):
        report = load(places, kind, path, now=LATER)
        places.expire_all()
        record = places.get(model, key)
        if allowed:
            assert (report.rows_loaded, report.quarantined_by_reason) == (1, {}), kind
            assert record.state == new
            # A first appearance stamps nothing; only a real change does.
            assert record.state_changed_at == (LATER if old != new else None)
        else:
            assert report.quarantined_by_reason == {"impossible_transition": 1}, kind
            (row,) = quarantined(places, report.batch_id)
            assert f"state {old} → {new} is not allowed" in row.detail
            assert record.state == old and record.state_changed_at is None


def test_reg002_refused_change_names_where_the_state_may_go(places, tmp_path):
    load(
        places,
        "enterprises",
        variant(tmp_path, "a.csv", f"credit_code,name,state\n{CODE},甲,not_registered\n"),
    )
    text = f"credit_code,state,returned_headcount\n{CODE},reopened,40\n"
    report = load(places, "enterprises", variant(tmp_path, "b.csv", text))
    (row,) = quarantined(places, report.batch_id)
    assert row.reason == "impossible_transition"
    assert row.detail == (
        f"credit_code '{CODE}': state not_registered → reopened is not allowed "
        "(not_registered may move to registered)"
    )
    assert row.raw == {"credit_code": CODE, "state": "reopened", "returned_headcount": "40"}
    places.expire_all()
    e = places.get(Enterprise, CODE)
    assert (e.state, e.returned_headcount) == ("not_registered", None)  # nothing of the row
    assert version(places, "enterprises") == 1  # the refused file loaded nothing


def test_reg003_state_changed_at_moves_only_with_the_state(places, tmp_path):
    at = [NOW + dt.timedelta(hours=h) for h in range(4)]
    steps = [
        f"credit_code,name,state\n{CODE},甲,registered\n",  # new: not a change
        f"credit_code,state\n{CODE},approved\n",  # a change
        f"credit_code,state,planned_headcount\n{CODE},approved,30\n",  # repeated state
        f"credit_code,returned_headcount\n{CODE},12\n",  # no state at all
    ]
    expected = [None, at[1], at[1], at[1]]
    for i, text in enumerate(steps):
        load(places, "enterprises", variant(tmp_path, f"e{i}.csv", text), now=at[i])
        places.expire_all()
        assert places.get(Enterprise, CODE).state_changed_at == expected[i], i
    e = places.get(Enterprise, CODE)
    assert (e.state, e.planned_headcount, e.returned_headcount) == ("approved", 30, 12)


def test_reg004_sites_register_carries_state_and_planned_date(places, tmp_path):
    text = (
        "site_id,name,state,planned_reopen_date,headcount\n"
        f"{SITE},示例工地,approved,2026-11-25,-5\n"  # headcount is never read: not even -5
        "CN-2026-009,状态错,open,,\n"
        "CN-2026-010,日期错,approved,2026-11-31,\n"
    )
    report = load(places, "sites", variant(tmp_path, "s.csv", text))
    assert report.quarantined_by_reason == {"bad_value": 1, "bad_date": 1}
    assert "ignored columns: headcount" in report.message
    site = places.get(ConstructionSite, SITE)
    assert (site.state, site.planned_reopen_date, site.headcount) == (
        "approved",
        dt.date(2026, 11, 25),
        0,
    )
    # XH-2026-017 was created without a state: not_registered, so approved is refused.
    text = "site_id,state\nXH-2026-017,approved\nXH-2026-018,registered\n"
    report = load(places, "sites", variant(tmp_path, "t.csv", text), now=LATER)
    assert report.quarantined_by_reason == {"impossible_transition": 1}
    places.expire_all()
    assert places.get(ConstructionSite, "XH-2026-017").state == "not_registered"
    b = places.get(ConstructionSite, "XH-2026-018")
    assert (b.state, b.state_changed_at) == ("registered", LATER)


# --------------------------------------------------------------------------- enterprises


@pytest.mark.parametrize(
    ("text", "gap"),
    [
        ("电工:3;焊工:2", {"电工": 3, "焊工": 2}),
        ("电工：3；焊工：2", {"电工": 3, "焊工": 2}),  # full-width separators
        (" 电工 : 3 ; 焊工:２ ;", {"电工": 3, "焊工": 2}),  # spaces, a trailing ;, full-width 2
        ("电工:3;焊工:0", {"电工": 3}),
        ("无", {}),
        ("0", {}),
    ],
)
def test_reg010_labour_gap_forms(text, gap):
    assert parse_labour_gap(text) == gap


@pytest.mark.parametrize(
    "text", ["电工3", "电工:3,焊工:2", "电工:三", "电工:-1", "电工:1;电工:2", ";", ":3"]
)
def test_reg011_labour_gap_malformed(text):
    with pytest.raises(ValueError):
        parse_labour_gap(text)


def test_reg012_labour_gap_loads_as_json_and_blank_leaves_it(places, tmp_path):
    codes = ("91310104MA1FL0AT82", "91310104MA1G8X2K35", "9131000013222097XJ", "91310000MA1K4BB985")
    text = (
        "credit_code,name,labour_gap\n"
        f"{codes[0]},甲,电工:3;焊工:2\n"
        f"{codes[1]},乙,普工：10；厨师：1\n"
        f"{codes[2]},丙,无\n"
        f"{codes[3]},丁,电工3人\n"
    )
    report = load(places, "enterprises", variant(tmp_path, "e.csv", text))
    assert report.rows_loaded == 3
    (row,) = quarantined(places, report.batch_id)
    assert (row.row_number, row.reason) == (5, "bad_value")
    assert row.detail.startswith("labour_gap: '电工3人': '电工3人' is not trade:count; expected ")
    assert "电工:3;焊工:2" in row.detail and "无 / 0" in row.detail
    assert places.get(Enterprise, codes[0]).labour_gap == {"电工": 3, "焊工": 2}
    assert places.get(Enterprise, codes[1]).labour_gap == {"普工": 10, "厨师": 1}
    assert places.get(Enterprise, codes[2]).labour_gap == {}

    text = f"credit_code,labour_gap,returned_headcount\n{codes[0]},,5\n{codes[1]},0,\n"
    load(places, "enterprises", variant(tmp_path, "f.csv", text))
    places.expire_all()
    assert places.get(Enterprise, codes[0]).labour_gap == {"电工": 3, "焊工": 2}  # blank
    assert places.get(Enterprise, codes[1]).labour_gap == {}


def test_reg013_enterprise_bad_cases_named_in_the_issue(places, tmp_path):
    load(
        places,
        "enterprises",
        variant(tmp_path, "a.csv", f"credit_code,name,state\n{CODE},甲,approved\n"),
    )
    text = "\n".join(
        [
            "credit_code,name,state,planned_headcount,returned_headcount",
            "91310104MA1G8X2K35,,registered,10,0",  # unknown code, no name
            "91310104MA1FL0AT8,太短,registered,10,0",  # 17 characters
            "91310104MA1FL0AT821,太长,registered,10,0",  # 19 characters
            "91310104MA1FL0AT83,校验错,registered,10,0",  # wrong check character
            "9131000013222097XJ,人数负,registered,-3,0",
            "91310000MA1K4BB985,返岗负,registered,10,-1",
            f"{CODE},,registered,10,0",  # approved -> registered
        ]
    )
    report = load(places, "enterprises", variant(tmp_path, "e.csv", text), now=LATER)
    got = [(q.row_number, q.reason) for q in quarantined(places, report.batch_id)]
    assert got == [
        (2, "unknown_id"),
        (3, "bad_id_format"),
        (4, "bad_id_format"),
        (5, "bad_id_checksum"),
        (6, "negative_value"),
        (7, "negative_value"),
        (8, "impossible_transition"),
    ]
    assert report.rows_loaded == 0
    assert count(places, Enterprise) == 1
    assert places.get(Enterprise, CODE).state == "approved"


def test_reg014_idempotent_loads(places, tmp_path):
    rows = [
        "credit_code,name,state,planned_headcount,labour_gap,subdistrict_code",
        f"{CODE},甲,approved,120,电工:3,{SUBDISTRICT}",
        "91310104MA1G8X2K35,乙,reopened,40,无,",
        "9131000013222097XJ,丙,registered,300,焊工:2;电工:1,",
    ]
    first = variant(tmp_path, "e.csv", "\n".join(rows) + "\n")
    load(places, "enterprises", first)
    change = variant(tmp_path, "c.csv", f"credit_code,state\n{CODE},reopened\n")
    load(places, "enterprises", change, now=NOW + dt.timedelta(hours=1))
    columns = (
        Enterprise.credit_code,
        Enterprise.name,
        Enterprise.state,
        Enterprise.planned_headcount,
        Enterprise.labour_gap,
        Enterprise.subdistrict_code,
        Enterprise.state_changed_at,
    )

    def snapshot() -> list[tuple]:
        places.expire_all()
        return [tuple(r) for r in places.execute(select(*columns).order_by(Enterprise.credit_code))]

    before = snapshot()
    assert [r[0] for r in before] == ["9131000013222097XJ", CODE, "91310104MA1G8X2K35"]
    assert before[1][2] == "reopened" and before[1][6] == NOW + dt.timedelta(hours=1)
    batches, bumps = count(places, ImportBatch), version(places, "enterprises")

    # The same bytes again: nothing written, not even a batch.
    again = load(places, "enterprises", change, now=LATER)
    assert again.already_loaded and count(places, ImportBatch) == batches
    assert version(places, "enterprises") == bumps

    # The same rows in another order (other bytes), with the state now repeated.
    rows[1] = f"{CODE},甲,reopened,120,电工:3,{SUBDISTRICT}"
    shuffled = variant(tmp_path, "r.csv", "\n".join([rows[0], rows[3], rows[1], rows[2]]) + "\n")
    report = load(places, "enterprises", shuffled, now=LATER)
    assert (report.already_loaded, report.rows_loaded) == (False, 3)
    assert snapshot() == before
    assert count(places, Enterprise) == 3


# --------------------------------------------------------------------------- shops


def test_reg020_is_open_is_for_a_day(places, tmp_path):
    text = "licence_id,name,is_open,date\nA1,面馆,是,\nA2,便利店,否,2026-11-20\nA3,花店,,\n"
    load(places, "shops", variant(tmp_path, "s.csv", text))
    assert places.get(Shop, "A1").open_on == dt.date(2026, 11, 21)  # 10:00 in Shanghai
    assert places.get(Shop, "A2").open_on == dt.date(2026, 11, 20)
    assert places.get(Shop, "A3").open_on is None  # no report, no day
    # 01:00 on 22 November in Shanghai is still 21 November in UTC.
    late = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.UTC)
    load(places, "shops", variant(tmp_path, "t.csv", "licence_id,is_open\nA3,true\n"), now=late)
    places.expire_all()
    a3 = places.get(Shop, "A3")
    assert (a3.is_open, a3.open_on) == (True, dt.date(2026, 11, 22))


def test_reg021_stale_report_does_not_overwrite_a_newer_one(places, tmp_path):
    load(
        places,
        "shops",
        variant(tmp_path, "s.csv", "licence_id,name,is_open\nB1,面馆,是\nB2,花店,否\n"),
    )
    text = (
        "licence_id,is_open,date,staff_registered\n"
        "B1,否,2026-11-20,9\n"  # yesterday's report arriving late
        "B2,是,2026-11-21,4\n"  # today's again: replaces
    )
    report = load(places, "shops", variant(tmp_path, "t.csv", text), now=LATER)
    assert report.quarantined_by_reason == {"stale_report": 1}
    (row,) = quarantined(places, report.batch_id)
    assert (
        row.detail
        == "is_open for 2026-11-20 is older than the stored report for 2026-11-21: not applied"
    )
    places.expire_all()
    b1, b2 = places.get(Shop, "B1"), places.get(Shop, "B2")
    assert (b1.is_open, b1.open_on, b1.staff_registered) == (True, dt.date(2026, 11, 21), None)
    assert (b2.is_open, b2.open_on, b2.staff_registered) == (True, dt.date(2026, 11, 21), 4)
    # A row without is_open reports no day: it is never stale.
    load(
        places,
        "shops",
        variant(tmp_path, "u.csv", "licence_id,staff_registered,date\nB1,7,2026-11-01\n"),
    )
    places.expire_all()
    assert (places.get(Shop, "B1").staff_registered, places.get(Shop, "B1").open_on) == (
        7,
        dt.date(2026, 11, 21),
    )


def test_reg022_closed_down_is_final(places, tmp_path):
    load(
        places,
        "shops",
        variant(tmp_path, "s.csv", "licence_id,name,is_open\nC1,面馆,是\nC2,花店,是\n"),
    )
    report = load(
        places,
        "shops",
        variant(tmp_path, "t.csv", "licence_id,closed_down,is_open\nC1,是,否\nC2,是,是\n"),
    )
    assert report.quarantined_by_reason == {"impossible_transition": 1}  # C2: both at once
    places.expire_all()
    assert places.get(Shop, "C1").closed_down is True
    assert places.get(Shop, "C2").closed_down is False

    text = "licence_id,is_open,closed_down,street\nC1,是,,江苏路\nC1,,否,江苏路\n"
    for i, line in enumerate(text.splitlines()[1:]):
        path = variant(
            tmp_path, f"u{i}.csv", "licence_id,is_open,closed_down,street\n" + line + "\n"
        )
        report = load(places, "shops", path, now=LATER)
        (row,) = quarantined(places, report.batch_id)
        assert row.reason == "impossible_transition"
        assert row.detail == (
            "licence_id 'C1' is closed down (final): it cannot "
            + ("report open" if i == 0 else "be un-closed")
        )
    # Closed (not open) and repeating closed_down are fine.
    ok = variant(tmp_path, "v.csv", "licence_id,is_open,closed_down,street\nC1,否,是,江苏路\n")
    assert load(places, "shops", ok, now=LATER).rows_loaded == 1
    places.expire_all()
    c1 = places.get(Shop, "C1")
    assert (c1.closed_down, c1.is_open, c1.street) == (True, False, "江苏路")


# --------------------------------------------------------------------------- site check-ins

CHECKIN_HEADER = (
    "site_id,id_number,name,home_province,arrived_on,from_key_region,certificate_checked"
)


def worker_flags(session) -> dict[str, bool]:
    session.expire_all()
    return dict(session.execute(select(SiteWorker.id_number, SiteWorker.from_key_region)).all())


def test_reg030_key_region_flag_from_the_configured_list(places, tmp_path, monkeypatch):
    monkeypatch.setenv("DASHBOARD_KEY_REGIONS", '["湖北", "浙江温州"]')
    get_settings.cache_clear()
    text = "\n".join(
        [
            CHECKIN_HEADER,
            "XH-2026-017,420106198803051230,甲,湖北省,2026-11-21,否,",  # listed: feed's 否 loses
            "XH-2026-017,330302198701013456,乙,浙江温州,2026-11-21,,",
            "XH-2026-017,320102199202024566,丙,江苏,2026-11-21,是,",  # the feed says so
            "XH-2026-017,440305199303036782,丁,浙江杭州,2026-11-21,,",
            "XH-2026-018,310104198503121235,戊,上海,2026-11-21,否,",
        ]
    )
    report = load(places, "site_checkins", variant(tmp_path, "c.csv", text))
    assert report.rows_loaded == 5
    assert worker_flags(places) == {
        "420106198803051230": True,
        "330302198701013456": True,
        "320102199202024566": True,
        "440305199303036782": False,
        "310104198503121235": False,
    }


def test_reg031_key_region_list_is_configuration(places, tmp_path, monkeypatch):
    # Without the column at all, and with the default list ["湖北"]: Wenzhou is not listed.
    text = (
        "site_id,id_number,name,home_province,arrived_on\n"
        "XH-2026-017,420106198803051230,甲,湖北,2026-11-21\n"
        "XH-2026-017,330302198701013456,乙,浙江温州,2026-11-21\n"
    )
    load(places, "site_checkins", variant(tmp_path, "c.csv", text))
    assert worker_flags(places) == {"420106198803051230": True, "330302198701013456": False}
    assert places.get(ConstructionSite, "XH-2026-017").key_region_arrivals == 1

    monkeypatch.setenv("DASHBOARD_KEY_REGIONS", '["浙江温州"]')
    get_settings.cache_clear()
    load(places, "site_checkins", variant(tmp_path, "d.csv", text + "\n"))
    # Wenzhou is now flagged; Hubei's stored flag stays (a blank flag changes nothing).
    assert worker_flags(places) == {"420106198803051230": True, "330302198701013456": True}
    assert places.get(ConstructionSite, "XH-2026-017").key_region_arrivals == 2


def test_reg032_key_region_arrivals_and_unchecked_are_recounted(places, tmp_path, monkeypatch):
    text = "\n".join(
        [
            CHECKIN_HEADER,
            # Today is 2026-11-21; 14 days with today are 11-08 .. 11-21.
            "XH-2026-017,420106198803051230,甲,湖北,2026-11-08,是,",  # first day in: unchecked
            "XH-2026-017,420106199004122340,乙,湖北,2026-11-07,是,",  # a day too old
            "XH-2026-017,420102198505155677,丙,湖北,2026-11-21,是,true",  # checked
            "XH-2026-017,34012219900101001X,丁,湖北,2026-11-20,是,false",  # unchecked
            "XH-2026-017,310104198503121235,戊,上海,2026-11-21,否,",  # not from a key region
            "XH-2026-018,11010519491231002X,己,安徽,2026-11-21,否,",
        ]
    )
    load(places, "site_checkins", variant(tmp_path, "c.csv", text))
    a = places.get(ConstructionSite, "XH-2026-017")
    b = places.get(ConstructionSite, "XH-2026-018")
    assert (a.headcount, a.new_arrivals_today, a.key_region_arrivals, a.unchecked_arrivals) == (
        5,
        2,
        3,
        2,
    )
    assert (b.headcount, b.key_region_arrivals, b.unchecked_arrivals) == (1, 0, 0)

    # A 7-day window (11-15 .. 11-21), and the certificate of 丁 checked since.
    monkeypatch.setenv("DASHBOARD_KEY_REGION_DAYS", "7")
    get_settings.cache_clear()
    update = f"{CHECKIN_HEADER}\nXH-2026-017,34012219900101001X,丁,湖北,2026-11-20,是,是\n"
    load(places, "site_checkins", variant(tmp_path, "d.csv", update), now=LATER)
    places.expire_all()
    a = places.get(ConstructionSite, "XH-2026-017")
    assert (a.key_region_arrivals, a.unchecked_arrivals) == (2, 0)


def test_reg033_bad_check_digit_is_refused_and_masked(places, tmp_path):
    text = f"{CHECKIN_HEADER}\nXH-2026-017,420106198803051231,张三丰,湖北,2026-11-21,是,\n"
    report = load(places, "site_checkins", variant(tmp_path, "c.csv", text))
    (row,) = quarantined(places, report.batch_id)
    assert row.reason == "bad_id_checksum"
    assert "420106198803051231" not in row.detail and "张三丰" not in row.detail
    assert row.raw["id_number"] == "420***********1231"
    assert row.raw["name"] == "张**"
    assert count(places, SiteWorker) == 0
    assert places.get(ConstructionSite, "XH-2026-017").key_region_arrivals == 0


# --------------------------------------------------------------------------- sync versions

CODE2 = "91310104MA1G8X2K35"


def sync_versions(session, model) -> dict[str, int | None]:
    session.expire_all()
    key = model.__table__.primary_key.columns.values()[0]
    return dict(session.execute(select(key, model.sync_version)).all())


def test_reg040_loads_stamp_the_rows_they_write_with_their_version(places, tmp_path):
    first = f"credit_code,name,state\n{CODE},甲,registered\n{CODE2},乙,registered\n"
    load(places, "enterprises", variant(tmp_path, "a.csv", first))
    assert sync_versions(places, Enterprise) == {CODE: 1, CODE2: 1}

    change = f"credit_code,state\n{CODE},approved\n"
    load(places, "enterprises", variant(tmp_path, "b.csv", change), now=LATER)
    assert version(places, "enterprises") == 2
    assert sync_versions(places, Enterprise) == {CODE: 2, CODE2: 1}  # CODE2 not in the file

    # The same row again (other bytes): nothing changes, yet the row is stamped, as its
    # updated_at is: it was reported again (a page re-sends one unchanged row).
    again = f"credit_code,state\n{CODE},approved\n\n"
    load(places, "enterprises", variant(tmp_path, "c.csv", again), now=LATER)
    assert sync_versions(places, Enterprise) == {CODE: 3, CODE2: 1}

    # A file whose every row is set aside bumps nothing and stamps nothing.
    refused = f"credit_code,state\n{CODE2},reopened\n"
    report = load(places, "enterprises", variant(tmp_path, "d.csv", refused), now=LATER)
    assert report.quarantined_by_reason == {"impossible_transition": 1}
    assert version(places, "enterprises") == 3
    assert sync_versions(places, Enterprise) == {CODE: 3, CODE2: 1}


def test_reg041_shops_sites_and_recounted_sites_carry_their_dataset_version(places, tmp_path):
    load(places, "shops", variant(tmp_path, "s.csv", "licence_id,name,is_open\nV1,面馆,是\n"))
    load(places, "shops", variant(tmp_path, "t.csv", "licence_id,is_open\nV1,否\n"))
    assert sync_versions(places, Shop) == {"V1": 2}

    # The sites seeded by the fixture carry no version; a sites file stamps what it writes.
    load(places, "sites", variant(tmp_path, "u.csv", "site_id,contractor\nXH-2026-017,上海建工\n"))
    assert sync_versions(places, ConstructionSite) == {"XH-2026-017": 1, "XH-2026-018": None}

    # A check-in at 018 bumps sites (2) and its recount stamps 018, whose counts changed.
    worker = f"{CHECKIN_HEADER}\nXH-2026-018,310104198503121235,戊,上海,2026-11-21,否,\n"
    load(places, "site_checkins", variant(tmp_path, "c.csv", worker))
    assert version(places, "sites") == 2
    assert sync_versions(places, ConstructionSite) == {"XH-2026-017": 1, "XH-2026-018": 2}
    # The same worker again (other bytes): version 3, but 018's counts did not change, so the
    # recount leaves it (and its version) alone.
    load(places, "site_checkins", variant(tmp_path, "d.csv", worker + "\n"), now=LATER)
    assert version(places, "sites") == 3
    assert sync_versions(places, ConstructionSite) == {"XH-2026-017": 1, "XH-2026-018": 2}
    # The worker moves to 017: both sites' headcounts change, both get version 4.
    moved = f"{CHECKIN_HEADER}\nXH-2026-017,310104198503121235,戊,上海,2026-11-21,否,\n"
    load(places, "site_checkins", variant(tmp_path, "e.csv", moved), now=LATER)
    assert sync_versions(places, ConstructionSite) == {"XH-2026-017": 4, "XH-2026-018": 4}
    assert (places.get(ConstructionSite, "XH-2026-017").headcount,
            places.get(ConstructionSite, "XH-2026-018").headcount) == (1, 0)  # fmt: skip


# --------------------------------------------------------------------------- day reports


def test_reg042_shop_report_for_a_future_day_is_refused(places, tmp_path):
    text = "licence_id,name,is_open,date\nF1,面馆,是,2026-11-22\nF2,花店,是,2026-11-21\n"
    report = load(places, "shops", variant(tmp_path, "s.csv", text), now=LATER)
    (row,) = quarantined(places, report.batch_id)
    assert (row.row_number, row.reason) == (2, "out_of_range")
    assert row.detail == "date: 2026-11-22 is in the future (today is 2026-11-21 in the district)"
    assert places.get(Shop, "F1") is None
    # Stored, it would have made F2's real report of the 21st stale; refused, it does not.
    f2 = "licence_id,is_open\nF2,否\n"
    assert load(places, "shops", variant(tmp_path, "t.csv", f2), now=LATER).rows_loaded == 1
    # At 01:00 on the 22nd in Shanghai (17:00 UTC on the 21st) the 22nd is today.
    late = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.UTC)
    again = "licence_id,name,is_open,date\nF1,面馆,是,2026-11-22\n"
    assert load(places, "shops", variant(tmp_path, "u.csv", again), now=late).rows_loaded == 1
    places.expire_all()
    f1 = places.get(Shop, "F1")
    assert (f1.is_open, f1.open_on) == (True, dt.date(2026, 11, 22))


def test_reg043_two_reports_of_a_shop_in_one_file_keep_the_later_day(places, tmp_path):
    text = (
        "licence_id,name,is_open,date\n"
        "Y1,面馆,否,2026-11-20\n"  # yesterday's closed, then today's open: today's wins
        "Y1,面馆,是,2026-11-21\n"
        "Y2,花店,是,2026-11-21\n"  # the other order: still today's
        "Y2,花店,否,2026-11-20\n"
        "Y3,书店,否,\n"  # blank date is today: beats yesterday's below
        "Y3,书店,是,2026-11-20\n"
    )
    report = load(places, "shops", variant(tmp_path, "s.csv", text), now=LATER)
    assert (report.rows_loaded, report.rows_duplicate) == (3, 3)
    got = [(q.row_number, q.reason, q.detail) for q in quarantined(places, report.batch_id)]
    rule = "(the row with the latest date is kept)"
    assert got == [
        (2, "duplicate_key", f"same licence_id as row 3 {rule}"),
        (5, "duplicate_key", f"same licence_id as row 4 {rule}"),
        (7, "duplicate_key", f"same licence_id as row 6 {rule}"),
    ]
    stored = {s.licence_id: (s.is_open, s.open_on) for s in places.scalars(select(Shop))}
    d21 = dt.date(2026, 11, 21)
    assert stored == {"Y1": (True, d21), "Y2": (True, d21), "Y3": (False, d21)}


def test_reg044_checkins_are_for_a_day(places, tmp_path):
    from dashboard.register_counts import register_metrics

    d21, d22 = dt.date(2026, 11, 21), dt.date(2026, 11, 22)
    late = dt.datetime(2026, 11, 21, 17, 0, tzinfo=dt.UTC)  # 01:00 on the 22nd in Shanghai

    def checkins(day: dt.date) -> float:
        places.expire_all()
        return register_metrics(places, day).get(("enterprises", "", "checkins_today"), 0)

    def stored() -> tuple:
        places.expire_all()
        e = places.get(Enterprise, CODE)
        return (e.checkins_today, e.checkins_on)

    text = f"credit_code,name,checkins_today\n{CODE},甲,80\n{CODE2},乙,\n"
    load(places, "enterprises", variant(tmp_path, "a.csv", text))
    assert stored() == (80, d21)  # no checkins_date: today in the district at 10:00
    assert places.get(Enterprise, CODE2).checkins_on is None  # no count, no day
    assert (checkins(d21), checkins(d22)) == (80, 0)  # after midnight, 80 is yesterday's

    header = "credit_code,checkins_today,checkins_date,returned_headcount\n"
    rows = [
        f"{CODE},3,,",  # 01:00 on the 22nd: the first check-ins of the day
        f"{CODE},95,2026-11-21,",  # yesterday's final count arriving late: stale
        f"{CODE2},5,2026-11-23,",  # tomorrow's: refused
        f"{CODE2},,2026-11-22,7",  # a day without a count: nothing of the count changes
    ]
    reports = [
        load(places, "enterprises", variant(tmp_path, f"b{i}.csv", header + row + "\n"), now=late)
        for i, row in enumerate(rows)
    ]
    assert [r.rows_loaded for r in reports] == [1, 0, 0, 1]
    (stale,) = quarantined(places, reports[1].batch_id)
    assert (stale.reason, stale.detail) == (
        "stale_report",
        "checkins_today for 2026-11-21 is older than the stored report for 2026-11-22: "
        "not applied",
    )
    (future,) = quarantined(places, reports[2].batch_id)
    assert (future.reason, future.detail) == (
        "out_of_range",
        "checkins_date: 2026-11-23 is in the future (today is 2026-11-22 in the district)",
    )
    assert stored() == (3, d22)
    e2 = places.get(Enterprise, CODE2)
    assert (e2.checkins_today, e2.checkins_on, e2.returned_headcount) == (None, None, 7)
    assert checkins(d22) == 3


# --------------------------------------------------------------------------- concurrency


@pytest.fixture
def pg_url(request):
    """A fresh PostgreSQL database only: row locks between two connections are the subject."""
    from conftest import _fresh_pg

    yield from _fresh_pg(request.getfixturevalue("pg_template"))


def _waiting_on_a_lock(engine, timeout_s: float) -> bool:
    """Whether another backend of this database waits on a lock, within ``timeout_s``."""
    query = sql(
        "select count(*) from pg_stat_activity where datname = current_database() "
        "and wait_event_type = 'Lock' and pid <> pg_backend_pid()"
    )
    deadline = time.monotonic() + timeout_s
    with engine.connect() as c:
        while time.monotonic() < deadline:
            waiting = c.execute(query).scalar()
            c.rollback()  # pg_stat_activity is a snapshot taken once per transaction
            if waiting:
                return True
            time.sleep(0.05)
    return False


def test_reg050_concurrent_loads_queue_on_the_version_and_commit_in_order(pg_url, tmp_path):
    """Two loads of enterprises on two connections: the second waits for the first's commit,
    so it reads the first's state (the move approved -> reopened is allowed only after the
    first's registered -> approved) and its version is the later one."""
    engine = get_engine(pg_url)
    with Session(engine, expire_on_commit=False) as s:
        seed_places(s)
        start = f"credit_code,name,state\n{CODE},甲,registered\n{CODE2},乙,registered\n"
        load(s, "enterprises", variant(tmp_path, "a.csv", start))  # version 1

    first, second = Session(engine), Session(engine)
    outcome: dict[str, object] = {}

    def run_second() -> None:
        try:
            second.connection().exec_driver_sql("SET lock_timeout = '20s'")
            path = variant(tmp_path, "c.csv", f"credit_code,state\n{CODE},reopened\n")
            outcome["report"] = load_file("enterprises", path, session=second, now=LATER)
            second.commit()
        except Exception as exc:  # noqa: BLE001 - reported by the test below
            outcome["error"] = exc
            second.rollback()

    try:
        path = variant(tmp_path, "b.csv", f"credit_code,state\n{CODE},approved\n")
        assert load_file("enterprises", path, session=first, now=NOW).rows_loaded == 1
        thread = threading.Thread(target=run_second)
        thread.start()
        assert _waiting_on_a_lock(engine, 10), f"the second load did not wait: {outcome}"
        assert thread.is_alive() and not outcome
        first.commit()
        thread.join(30)
        assert not thread.is_alive()
    finally:
        first.close()
    second.close()
    assert "error" not in outcome, outcome.get("error")
    assert outcome["report"].quarantined_by_reason == {}
    with Session(engine) as s:
        e = s.get(Enterprise, CODE)
        assert (e.state, e.sync_version) == ("reopened", 3)
        assert s.get(Enterprise, CODE2).sync_version == 1
        assert version(s, "enterprises") == 3
