"""Data access on both back ends: every number the screens show, whole district and scoped."""

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
    P211,
    RISK_DAY,
    RISK_PREV,
    S1,
    S2,
    TODAY,
    build_small_district,
    write_small_risk,
)

from dashboard import queries, risk
from dashboard.indicators import INDICATOR_KEYS
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


# --------------------------------------------------------------------------- community risk


@pytest.fixture
def scored(small):
    write_small_risk(small)
    small.commit()
    return small


def test_queries012_scored_days(scored):
    assert queries.risk_dates(session=scored, scope=WHOLE) == [RISK_PREV, RISK_DAY]
    assert queries.latest_risk_date(session=scored, scope=WHOLE) == RISK_DAY
    assert queries.previous_risk_date(RISK_DAY, session=scored, scope=WHOLE) == RISK_PREV
    assert queries.previous_risk_date(RISK_PREV, session=scored, scope=WHOLE) is None


def test_queries013_scores_of_a_day_by_rank_with_their_areas(scored):
    rows = queries.risk_scores_for(RISK_DAY, session=scored, scope=WHOLE)
    assert [(r.code, r.rank, r.band, r.complete) for r in rows] == [
        (P111, 1, "red", True),
        (P112, 2, "yellow", True),
        (P211, 3, "blue", False),
    ]
    first = rows[0]
    assert (first.name, first.committee_code, first.committee_name) == ("甲小区", C11, "一居委")
    assert (first.subdistrict_code, first.subdistrict_name) == (S1, "甲街道")
    assert first.score == pytest.approx(61.6) and first.model_version == "2020.1"
    assert rows[2].score_upper == pytest.approx(18.5)  # screening missing, at its worst
    top = queries.top_compounds(RISK_DAY, session=scored, scope=WHOLE, limit=2)
    assert [c.code for c in top] == [P111, P112]
    assert queries.risk_bands_by_compound(RISK_DAY, session=scored, scope=WHOLE) == {
        P111: ("red", True),
        P112: ("yellow", True),
        P211: ("blue", False),
    }


def test_queries014_band_counts_and_the_worst_compound_per_area(scored):
    day = queries.band_totals(RISK_DAY, session=scored, scope=WHOLE)
    assert day == queries.BandCounts(red=1, yellow=1, blue=1, incomplete=1)
    assert day.total == 3 and day.worst_band == "red"
    by_sub = queries.band_counts(
        RISK_DAY, session=scored, scope=WHOLE, level=AreaLevel.SUBDISTRICT
    )
    assert by_sub == {
        S1: queries.BandCounts(red=1, yellow=1),
        S2: queries.BandCounts(blue=1, incomplete=1),
    }
    by_committee = queries.band_counts(
        RISK_DAY, session=scored, scope=WHOLE, level=AreaLevel.COMMITTEE
    )
    assert set(by_committee) == {C11, C21}
    subs = queries.area_risk(RISK_DAY, session=scored, scope=WHOLE, level=AreaLevel.SUBDISTRICT)
    # S1's compounds average 51.6 (yellow); its band is its worst compound's: red.
    assert [(a.code, a.band, a.worst.code) for a in subs] == [(S1, "red", P111), (S2, "blue", P211)]
    committees = queries.area_risk(
        RISK_DAY, session=scored, scope=WHOLE, level=AreaLevel.COMMITTEE
    )
    # C12 has no compound: listed with nothing in it; the virtual committee is not listed.
    assert [(a.code, a.band, a.counts.total) for a in committees] == [
        (C11, "red", 2),
        (C12, None, 0),
        (C21, "blue", 1),
    ]
    assert committees[1].worst is None
    with pytest.raises(ValueError):
        queries.band_counts(RISK_DAY, session=scored, scope=WHOLE, level=AreaLevel.DISTRICT)


def test_queries015_band_change_since_the_previous_scored_day(scored):
    change = queries.band_change(RISK_DAY, session=scored, scope=WHOLE)
    assert change.previous_day == RISK_PREV
    assert change.previous == queries.BandCounts(yellow=1, blue=2, incomplete=1)
    assert [change.delta(b) for b in ("red", "yellow", "blue")] == [1, 0, -1]
    first = queries.band_change(RISK_PREV, session=scored, scope=WHOLE)
    assert first.previous is None and first.delta("red") is None


def test_queries016_compound_history(scored):
    history = queries.compound_history(P111, session=scored, scope=WHOLE, until=RISK_DAY)
    assert [(h.date, h.band, h.rank) for h in history] == [
        (RISK_PREV, "yellow", 1),
        (RISK_DAY, "red", 1),
    ]
    assert history[0].score == pytest.approx(45)
    one_day = queries.compound_history(
        P111, session=scored, scope=WHOLE, until=RISK_DAY, days=1
    )
    assert [h.date for h in one_day] == [RISK_DAY]
    earlier = queries.compound_history(P111, session=scored, scope=WHOLE, until=RISK_PREV)
    assert [h.date for h in earlier] == [RISK_PREV]


def test_queries017_compound_detail_explains_the_score(scored):
    detail = queries.compound_detail(P112, RISK_DAY, session=scored, scope=WHOLE)
    assert (detail.score.rank, detail.previous_day, detail.previous_rank) == (2, RISK_PREV, 3)
    assert detail.rank_change == 1 and detail.population == 200
    by_key = {i.key: i for i in detail.indicators}
    assert list(by_key) == list(INDICATOR_KEYS)
    home = by_key["home_observation"]  # 4 people of 200: 20 per 1,000, the cap
    assert (home.value, home.basis_value, home.sub_score) == (4, pytest.approx(20), 100)
    assert home.contribution == pytest.approx(6) and not home.carried and not home.missing
    elderly = by_key["elderly_share"]  # not reported on the day: the day before's, carried
    assert (elderly.value, elderly.value_date, elderly.carried) == (0.2, RISK_PREV, True)
    assert elderly.contribution == pytest.approx(2)
    assert sum(i.contribution or 0 for i in detail.indicators) == pytest.approx(41.6)
    missing = queries.compound_detail(P211, RISK_DAY, session=scored, scope=WHOLE)
    screening = next(i for i in missing.indicators if i.key == "screening_unfinished")
    assert screening.missing and screening.value is None and screening.contribution is None
    assert queries.compound_detail(P111, TODAY, session=scored, scope=WHOLE) is None


def test_queries018_detail_uses_the_model_version_that_scored(scored):
    """A day scored by an older model is explained with that model's weights, not today's."""
    model = risk.load_model()
    reweighted = model.with_weights({"confirmed": 0.10, "hotline_reports": 0.14}, version="test.2")
    risk.score_day(RISK_PREV, session=scored, model=reweighted, carry_days=2, now=NOW)
    scored.commit()
    before = queries.compound_detail(P111, RISK_PREV, session=scored, scope=WHOLE)
    after = queries.compound_detail(P111, RISK_DAY, session=scored, scope=WHOLE)
    assert before.score.model_version == "test.2" and after.score.model_version == "2020.1"
    confirmed = [
        next(i for i in d.indicators if i.key == "confirmed") for d in (before, after)
    ]
    assert [c.weight for c in confirmed] == [0.10, 0.20]
    assert [c.contribution for c in confirmed] == [pytest.approx(10), pytest.approx(20)]


def test_queries019_risk_reads_respect_the_scope(scored):
    scope = queries.scope_of([S2], session=scored)
    assert [r.code for r in queries.risk_scores_for(RISK_DAY, session=scored, scope=scope)] == [
        P211
    ]
    assert queries.band_totals(RISK_DAY, session=scored, scope=scope) == queries.BandCounts(
        blue=1, incomplete=1
    )
    subs = queries.area_risk(RISK_DAY, session=scored, scope=scope, level=AreaLevel.SUBDISTRICT)
    assert [a.code for a in subs] == [S2]
    assert queries.compound_detail(P111, RISK_DAY, session=scored, scope=scope) is None
    assert queries.compound_history(P111, session=scored, scope=scope, until=RISK_DAY) == []
    assert [c[0] for c in queries.compound_options(session=scored, scope=scope)] == [P211]
    # P211's rank stays the district's: 3rd of 3.
    assert queries.top_compounds(RISK_DAY, session=scored, scope=scope)[0].rank == 3
    # Its days are listed although no compound in scope ranks first on them.
    assert queries.risk_dates(session=scored, scope=scope) == [RISK_PREV, RISK_DAY]


def test_queries020_nothing_scored_yet(small):
    assert queries.risk_dates(session=small, scope=WHOLE) == []
    assert queries.latest_risk_date(session=small, scope=WHOLE) is None
    assert queries.band_totals(RISK_DAY, session=small, scope=WHOLE) == queries.BandCounts()
    subs = queries.area_risk(RISK_DAY, session=small, scope=WHOLE, level=AreaLevel.SUBDISTRICT)
    assert [(a.code, a.counts.total, a.worst) for a in subs] == [(S1, 0, None), (S2, 0, None)]
    assert queries.compound_options(session=small, scope=WHOLE)[0] == (P111, "甲小区", "甲街道")
