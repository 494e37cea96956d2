"""Data access on both back ends: every number the screen shows, whole district and scoped."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from test_web_support import (
    C11,
    C12,
    C21,
    CV,
    NOW,
    P111,
    P112,
    S1,
    S2,
    TODAY,
    build_small_district,
)

from dashboard import queries
from dashboard.models import Area, AreaLevel

WHOLE = queries.AreaScope.whole_district()


@pytest.fixture
def small(session):
    build_small_district(session)
    session.commit()
    return session


def test_queries001_area_summary_counts_levels_and_residents_once(small):
    s = queries.area_summary(session=small, scope=WHOLE)
    assert (s.subdistricts, s.committees, s.compounds) == (
        2,
        3,
        3,
    )  # the virtual one is not a committee
    assert s.residents == 600  # summed at the compounds, not again at committees and subdistricts


def test_queries002_registers(small):
    assert queries.enterprise_progress(session=small, scope=WHOLE) == queries.Progress(2, 4)
    assert queries.shop_progress(session=small, scope=WHOLE) == queries.Progress(3, 4)
    summary = queries.site_summary(session=small, scope=WHOLE, today=TODAY)
    assert summary == queries.SiteSummary(2, 70, 4)
    # The next day nobody has arrived yet, whatever the stored per-site counters say.
    tomorrow = TODAY + dt.timedelta(days=1)
    assert queries.site_summary(session=small, scope=WHOLE, today=tomorrow).new_arrivals_today == 0
    assert queries.station_count(session=small, scope=WHOLE) == 3


def test_queries003_recent_pings_only_inside_the_window(small):
    n = queries.recent_ping_count(
        session=small, scope=WHOLE, now=NOW, window=dt.timedelta(minutes=15)
    )
    assert n == 7


def test_queries004_open_work_orders_and_their_committees(small):
    assert queries.open_work_order_count(session=small, scope=WHOLE) == 5
    # An order on a compound counts for its committee; one on a subdistrict for none.
    assert queries.open_work_orders_by_committee(session=small, scope=WHOLE) == {C11: 3, C21: 1}


def test_queries005_scope_of_a_subdistrict_is_its_subtree(small):
    scope = queries.scope_of([S1], session=small)
    assert scope.codes == {S1, C11, C12, P111, P112}
    assert scope.allows(C12) and not scope.allows(C21) and not scope.allows(None)
    assert WHOLE.allows(C21) and WHOLE.allows(None)


def test_queries006_every_figure_respects_the_scope(small):
    scope = queries.scope_of([S1], session=small)
    s = queries.area_summary(session=small, scope=scope)
    assert (s.subdistricts, s.committees, s.compounds, s.residents) == (1, 2, 2, 300)
    assert queries.enterprise_progress(session=small, scope=scope) == queries.Progress(2, 3)
    assert queries.shop_progress(session=small, scope=scope) == queries.Progress(2, 3)
    summary = queries.site_summary(session=small, scope=scope, today=TODAY)
    assert summary == queries.SiteSummary(1, 50, 3)
    assert queries.station_count(session=small, scope=scope) == 1  # by location
    assert (
        queries.recent_ping_count(
            session=small, scope=scope, now=NOW, window=dt.timedelta(minutes=15)
        )
        == 5
    )
    assert queries.open_work_order_count(session=small, scope=scope) == 4
    assert queries.open_work_orders_by_committee(session=small, scope=scope) == {C11: 3}
    assert [
        a.code for a in queries.areas(session=small, scope=scope, level=AreaLevel.COMMITTEE)
    ] == [
        C11,
        C12,
    ]


def test_queries007_operations_data_is_whole_district_only(small):
    scope = queries.scope_of([S2], session=small)
    assert queries.recent_import_batches(session=small, scope=scope) == []
    assert queries.recent_quarantined_rows(session=small, scope=scope) == []
    assert queries.recent_job_runs(session=small, scope=scope) == []
    assert queries.last_job_runs(session=small, scope=scope) == {}


def test_queries008_areas_by_level_and_parent_with_geometry(small):
    committees = queries.areas(session=small, scope=WHOLE, level=AreaLevel.COMMITTEE)
    assert [a.code for a in committees] == [C11, C12, C21, CV]
    assert committees[0].geom.bounds == pytest.approx((121.40, 31.14, 121.43, 31.18))
    assert committees[-1].geom is None
    children = queries.areas(session=small, scope=WHOLE, level=AreaLevel.COMMITTEE, parent=S1)
    assert [a.code for a in children] == [C11, C12]
    bare = queries.areas(session=small, scope=WHOLE, level=AreaLevel.COMMITTEE, with_geometry=False)
    assert [a.geom for a in bare] == [None] * 4


def test_queries009_operations_tables(small):
    batches = queries.recent_import_batches(session=small, scope=WHOLE)
    assert [b.filename for b in batches] == ["shops.xlsx", "pings-0955.csv"]  # newest first
    assert (
        batches[1].rows_read,
        batches[1].rows_loaded,
        batches[1].rows_quarantined,
        batches[1].rows_duplicate,
    ) == (12, 10, 1, 1)
    (q,) = queries.recent_quarantined_rows(session=small, scope=WHOLE)
    assert (q.row_number, q.reason, q.kind) == (7, "bad_coordinate", "pings")
    assert not hasattr(q, "raw")  # the raw row never leaves the database this way
    runs = queries.recent_job_runs(session=small, scope=WHOLE)
    assert [(r.job_id, r.status) for r in runs] == [
        ("ingest_inbox", "failed"),
        ("ingest_inbox", "ok"),
        ("prune_history", "ok"),
    ]
    last = queries.last_job_runs(session=small, scope=WHOLE)
    assert {k: v.status for k, v in last.items()} == {
        "ingest_inbox": "failed",
        "prune_history": "ok",
    }


def test_queries010_queries_never_commit(session):
    build_small_district(session)  # flushed, not committed
    queries.area_summary(session=session, scope=WHOLE)
    queries.open_work_orders_by_committee(session=session, scope=WHOLE)
    queries.last_job_runs(session=session, scope=WHOLE)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Area)) == 0


def test_queries011_empty_database_gives_zeros(session):
    assert queries.area_summary(session=session, scope=WHOLE) == queries.AreaSummary(0, 0, 0, 0)
    assert queries.enterprise_progress(session=session, scope=WHOLE) == queries.Progress(0, 0)
    assert queries.open_work_orders_by_committee(session=session, scope=WHOLE) == {}
    assert (
        queries.recent_ping_count(
            session=session, scope=WHOLE, now=NOW, window=dt.timedelta(minutes=15)
        )
        == 0
    )
