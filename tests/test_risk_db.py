"""Community risk on the databases (SQLite and PostgreSQL): reading a day, carrying values
forward, replacing a day atomically, the stored model versions, the export, and the jobs.

Quarantine of bad indicator rows is the ingestion path's and is tested there, once per case:
unknown compound, negative and non-numeric values in test_ingest.py::
test_ingest012_non_numeric_and_negative_values_are_quarantined, duplicated (date, compound) in
test_ingest014_duplicate_key_within_file; test_risk_cli.py loads such rows end to end.
"""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from dashboard import jobs, risk, versions
from dashboard.config import PROJECT_ROOT, Settings
from dashboard.db import session_scope
from dashboard.models import (
    Area,
    AreaLevel,
    ImportBatch,
    IndicatorValue,
    RiskModelVersion,
    RiskScore,
    utcnow,
)

MODEL = risk.load_model(PROJECT_ROOT / "data" / "risk_model.json")
DAY = dt.date(2026, 11, 20)
NOW = dt.datetime(2026, 11, 21, 2, 0, tzinfo=dt.UTC)  # 10:00 on the 21st in Shanghai
POPULATION = {"01001": 1000, "01002": 2000, "01003": None, "01004": 0}
K = len(MODEL.keys)


# --------------------------------------------------------------------------- helpers


def seed_areas(session: Session) -> None:
    session.add(Area(code="310104", level=AreaLevel.DISTRICT, name="徐汇区"))
    session.add(
        Area(code="310104003", level=AreaLevel.SUBDISTRICT, name="湖南路街道", parent_code="310104")
    )
    session.add(
        Area(
            code="310104003001",
            level=AreaLevel.COMMITTEE,
            name="复兴居委会",
            parent_code="310104003",
        )
    )
    session.flush()
    for code, population in POPULATION.items():
        session.add(
            Area(
                code=code,
                level=AreaLevel.COMPOUND,
                name=f"小区{code}",
                parent_code="310104003001",
                population=population,
            )
        )
    session.flush()


def put(session: Session, day: dt.date, code: str, batch_id: int | None = None, **values) -> None:
    for key, value in values.items():
        session.add(
            IndicatorValue(
                date=day, compound_code=code, indicator=key, value=value, batch_id=batch_id
            )
        )
    session.flush()


def correct(session: Session, day: dt.date, code: str, batch_id: int, **values) -> None:
    """A later file's value replacing a stored one (as the loader's upsert does)."""
    for key, value in values.items():
        session.execute(
            update(IndicatorValue)
            .where(IndicatorValue.date == day, IndicatorValue.compound_code == code)
            .where(IndicatorValue.indicator == key)
            .values(value=value, batch_id=batch_id)
        )


def full_day(session: Session, day: dt.date, value: float = 0.0, batch_id=None) -> None:
    """Every compound, every indicator, ``value``."""
    for code in POPULATION:
        put(session, day, code, batch_id, **{k: value for k in MODEL.keys})


def batch(session: Session, finished_at: dt.datetime) -> int:
    b = ImportBatch(
        kind="indicators",
        filename="i.csv",
        sha256=f"{finished_at.timestamp():064.0f}"[-64:],
        status="loaded",
        started_at=finished_at,
        finished_at=finished_at,
    )
    session.add(b)
    session.flush()
    return b.id


def stored(session: Session, day: dt.date) -> dict[str, RiskScore]:
    session.expire_all()
    return {
        r.compound_code: r
        for r in session.scalars(select(RiskScore).where(RiskScore.date == day))
    }


def risk_version(session: Session) -> int:
    return versions.current(session=session).get("risk", (0, None))[0]


@pytest.fixture
def areas(session: Session) -> Session:
    seed_areas(session)
    session.commit()
    return session


@pytest.fixture
def settings(db_url, tmp_path) -> Settings:
    return Settings(database_url=db_url, var_dir=tmp_path / "var", demo=False)


# --------------------------------------------------------------------------- reading a day


def test_risk020_every_compound_is_read_even_without_values(areas):
    put(areas, DAY, "01001", confirmed=1, elderly_share=0.3)
    put(areas, DAY, "01001", unknown_indicator=7)  # not in the model: ignored
    inputs = risk.day_inputs(DAY, session=areas, model=MODEL, carry_days=3)
    assert inputs.codes.tolist() == ["01001", "01002", "01003", "01004"]
    assert inputs.values.shape == (4, K)
    assert inputs.values[0, 0] == 1 and inputs.values[0, MODEL.keys.index("elderly_share")] == 0.3
    assert np.isnan(inputs.values[1]).all()  # no values at all: all missing, never zeros
    assert not inputs.carried.any()
    assert inputs.population[:2].tolist() == [1000, 2000]
    assert np.isnan(inputs.population[2]) and inputs.population[3] == 0


@pytest.mark.parametrize(("age", "carried"), [(1, True), (2, True), (3, True), (4, False)])
def test_risk021_late_values_are_carried_forward_for_carry_days_then_missing(areas, age, carried):
    full_day(areas, DAY)
    areas.execute(
        IndicatorValue.__table__.delete().where(
            IndicatorValue.compound_code == "01001", IndicatorValue.indicator == "suspected"
        )
    )
    put(areas, DAY - dt.timedelta(days=age), "01001", suspected=1)  # 1 of cap 2: 6.5 points
    scores = risk.score_day(DAY, session=areas, model=MODEL, now=NOW, carry_days=3)
    areas.commit()
    row = stored(areas, DAY)["01001"]
    if carried:
        assert (row.carried, row.missing, row.complete) == (["suspected"], [], True)
        assert row.subscores["suspected"] == pytest.approx(50.0)
        assert (row.score, row.score_upper) == pytest.approx((6.5, 6.5))
    else:
        assert (row.carried, row.missing, row.complete) == ([], ["suspected"], False)
        assert row.subscores["suspected"] is None
        assert (row.score, row.score_upper) == pytest.approx((0.0, 13.0))  # upper: + 0.13 × 100
    assert bool(scores.complete[0]) is carried


def test_risk022_the_latest_earlier_value_is_carried_and_the_day_s_own_wins(areas):
    put(areas, DAY - dt.timedelta(days=3), "01001", confirmed=1, suspected=2)
    put(areas, DAY - dt.timedelta(days=1), "01001", confirmed=0)
    put(areas, DAY, "01001", suspected=1)
    inputs = risk.day_inputs(DAY, session=areas, model=MODEL, carry_days=3)
    assert inputs.values[0, :2].tolist() == [0.0, 1.0]
    assert inputs.carried[0, :2].tolist() == [True, False]
    nothing = risk.day_inputs(DAY, session=areas, model=MODEL, carry_days=0)
    assert np.isnan(nothing.values[0, 0]) and not nothing.carried.any()


def test_risk023_per_1000_needs_the_compound_s_population(areas):
    full_day(areas, DAY, value=1.0)
    risk.score_day(DAY, session=areas, model=MODEL, now=NOW, carry_days=3)
    areas.commit()
    rows = stored(areas, DAY)
    per_1000 = [i.key for i in MODEL.indicators if i.basis == "per_1000_residents"]
    for code in ("01003", "01004"):  # population unknown, zero
        assert rows[code].missing == per_1000 and rows[code].complete is False
    assert rows["01001"].complete and rows["01002"].complete
    # 1 arrival per 1,000 (cap 5) vs 0.5 per 1,000: the bigger compound's rate is half.
    assert rows["01001"].subscores["key_region_arrivals"] == pytest.approx(20.0)
    assert rows["01002"].subscores["key_region_arrivals"] == pytest.approx(10.0)


# --------------------------------------------------------------------------- storing a day


def test_risk024_rescoring_a_date_replaces_it(areas):
    full_day(areas, DAY - dt.timedelta(days=1))
    risk.score_day(DAY - dt.timedelta(days=1), session=areas, model=MODEL, now=NOW, carry_days=0)
    full_day(areas, DAY)
    risk.score_day(DAY, session=areas, model=MODEL, now=NOW, carry_days=3)
    areas.commit()
    first, v1 = stored(areas, DAY), risk_version(areas)
    assert {r.score for r in first.values()} == {0.0}
    assert {r.rank for r in first.values()} == {1}
    areas.execute(
        update(IndicatorValue)
        .where(IndicatorValue.date == DAY, IndicatorValue.compound_code == "01002")
        .where(IndicatorValue.indicator == "confirmed")
        .values(value=1)
    )
    later = NOW + dt.timedelta(hours=1)
    risk.score_day(DAY, session=areas, model=MODEL, now=later, carry_days=3)
    areas.commit()
    second = stored(areas, DAY)
    assert len(second) == len(first) == 4
    assert second["01002"].score == pytest.approx(20.0) and second["01002"].rank == 1
    assert second["01001"].rank == 2
    assert {r.computed_at for r in second.values()} == {later}
    assert risk_version(areas) == v1 + 1
    assert len(stored(areas, DAY - dt.timedelta(days=1))) == 4  # another day untouched


def test_risk025_a_failure_half_way_leaves_the_old_day_intact(db_url, monkeypatch):
    with session_scope(db_url) as s:
        seed_areas(s)
        full_day(s, DAY)
        risk.score_day(DAY, session=s, model=MODEL, now=NOW, carry_days=3)
    with session_scope(db_url) as s:
        before = {c: (r.score, r.computed_at) for c, r in stored(s, DAY).items()}
        version_before = risk_version(s)
        s.execute(update(IndicatorValue).values(value=1))

    real_insert = risk._insert_scores

    def crash_after_two_rows(session, records):
        real_insert(session, records[:2])
        session.flush()
        raise RuntimeError("disk full")

    monkeypatch.setattr(risk, "_insert_scores", crash_after_two_rows)
    with pytest.raises(RuntimeError, match="disk full"), session_scope(db_url) as s:
        risk.score_day(DAY, session=s, model=MODEL, now=NOW + dt.timedelta(hours=1), carry_days=3)
    with session_scope(db_url) as s:
        after = {c: (r.score, r.computed_at) for c, r in stored(s, DAY).items()}
        assert after == before
        assert risk_version(s) == version_before


def test_risk026_the_model_is_stored_once_and_a_changed_one_needs_a_new_version(areas):
    full_day(areas, DAY, value=1.0)
    risk.score_day(DAY, session=areas, model=MODEL, now=NOW, carry_days=3)
    risk.score_day(DAY, session=areas, model=MODEL, now=NOW, carry_days=3)
    areas.commit()
    (row,) = areas.scalars(select(RiskModelVersion)).all()
    assert row.version == MODEL.version and row.definition == MODEL.to_dict()
    assert risk.stored_model(MODEL.version, session=areas) == MODEL
    assert {r.model_version for r in stored(areas, DAY).values()} == {MODEL.version}

    renamed = MODEL.with_weights({"confirmed": 0.10, "hotline_reports": 0.14}, MODEL.version)
    with pytest.raises(risk.ModelError, match="confirmed, hotline_reports.*new version"):
        risk.score_day(DAY, session=areas, model=renamed, now=NOW, carry_days=3)
    areas.rollback()
    other = MODEL.with_weights({"confirmed": 0.10, "hotline_reports": 0.14}, "2020.2")
    risk.score_day(DAY, session=areas, model=other, now=NOW, carry_days=3)
    areas.commit()
    assert set(areas.scalars(select(RiskModelVersion.version))) == {"2020.1", "2020.2"}


def test_risk027_no_compounds_no_scores(session):
    with pytest.raises(risk.NoCompounds):
        risk.score_day(DAY, session=session, model=MODEL, now=NOW, carry_days=3)


def test_risk028_export_explains_with_the_model_version_that_scored(areas):
    put(areas, DAY, "01001", confirmed=1, suspected=1, close_contacts=1, hotline_reports=5)
    put(areas, DAY, "01002", elderly_share=0.1)
    risk.score_day(DAY, session=areas, model=MODEL, now=NOW, carry_days=3)
    areas.commit()
    frame = risk.export_frame(DAY, session=areas)
    assert list(frame.columns) == list(risk.EXPORT_COLUMNS)
    first = frame.iloc[0]
    assert (first.compound_code, first["name"], first.committee_code, first.subdistrict_code) == (
        "01001",
        "小区01001",
        "310104003001",
        "310104003",
    )
    # confirmed 20, suspected 6.5, hotline 4 (at cap 5), close contacts 2.4
    assert first.score == 32.9 and first["rank"] == 1 and first.band == "blue"
    assert [first.top1_indicator, first.top2_indicator, first.top3_indicator] == [
        "confirmed",
        "suspected",
        "hotline_reports",
    ]
    assert [first.top1_contribution, first.top2_contribution, first.top3_contribution] == [
        20.0,
        6.5,
        4.0,
    ]
    second = frame.iloc[1]
    assert second.top1_indicator == "elderly_share" and second.top1_contribution == 1.0
    assert pd.isna(second.top2_indicator)  # no other contribution above zero: no false reasons
    assert frame["rank"].tolist() == sorted(frame["rank"].tolist())

    # Another model scores another day; this day is still explained with 2020.1's weights.
    other = MODEL.with_weights({"confirmed": 0.10, "hotline_reports": 0.14}, "2020.2")
    full_day(areas, DAY + dt.timedelta(days=1))
    risk.score_day(DAY + dt.timedelta(days=1), session=areas, model=other, now=NOW, carry_days=0)
    areas.commit()
    assert risk.export_frame(DAY, session=areas).iloc[0].top1_contribution == 20.0
    assert risk.export_frame(DAY - dt.timedelta(days=5), session=areas).empty


# --------------------------------------------------------------------------- what is due


def test_risk029_dates_to_score(areas):
    old = utcnow() - dt.timedelta(hours=2)
    b1 = batch(areas, old)
    for days_ago in (1, 2, 3):
        full_day(areas, DAY - dt.timedelta(days=days_ago), batch_id=b1)
    for days_ago in (1, 2):
        d = DAY - dt.timedelta(days=days_ago)
        risk.score_day(d, session=areas, model=MODEL, now=old + dt.timedelta(minutes=5),
                       carry_days=3)
    areas.commit()
    due = risk.dates_to_score(DAY - dt.timedelta(days=13), DAY, session=areas, carry_days=3)
    assert due == [DAY - dt.timedelta(days=3)]  # has values, never scored

    # A corrected return for DAY-2 arrives: DAY-2 and the day that may have carried it are due.
    b2 = batch(areas, old + dt.timedelta(minutes=30))
    correct(areas, DAY - dt.timedelta(days=2), "01001", b2, confirmed=1)
    due = risk.dates_to_score(DAY - dt.timedelta(days=13), DAY, session=areas, carry_days=3)
    assert due == [DAY - dt.timedelta(days=d) for d in (3, 2, 1)]
    assert risk.dates_to_score(DAY - dt.timedelta(days=1), DAY - dt.timedelta(days=1),
                               session=areas, carry_days=0) == []

    # Loaded a few seconds before the scoring began: maybe not seen by it, so due again.
    b3 = batch(areas, old + dt.timedelta(minutes=5) - dt.timedelta(seconds=5))
    correct(areas, DAY - dt.timedelta(days=1), "01002", b3, confirmed=1)
    assert DAY - dt.timedelta(days=1) in risk.dates_to_score(
        DAY - dt.timedelta(days=1), DAY, session=areas, carry_days=0
    )


# --------------------------------------------------------------------------- the jobs


def test_risk030_nightly_job_scores_yesterday_and_catches_up(settings):
    with session_scope(settings.database_url) as s:
        seed_areas(s)
        full_day(s, DAY - dt.timedelta(days=5), value=1.0)
        full_day(s, DAY - dt.timedelta(days=20), value=1.0)  # too old to catch up
    run = jobs.run_job("score_risk", settings=settings, now=NOW)
    assert run.status == "ok", run.error
    assert run.rows == 8  # yesterday (nothing reported: all incomplete) and DAY-5
    with session_scope(settings.database_url) as s:
        days = dict(
            s.execute(select(RiskScore.date, func.count()).group_by(RiskScore.date)).all()
        )
        assert days == {DAY: 4, DAY - dt.timedelta(days=5): 4}
        for r in stored(s, DAY).values():
            assert not r.complete and r.score_upper == pytest.approx(100)
    again = jobs.run_job("score_risk_catchup", settings=settings, now=NOW)
    assert (again.status, again.rows) == ("ok", 0)


def test_risk031_catch_up_alone_scores_only_days_with_values(settings):
    with session_scope(settings.database_url) as s:
        seed_areas(s)
    run = jobs.run_job("score_risk_catchup", settings=settings, now=NOW)
    assert (run.status, run.rows) == ("ok", 0)
    with session_scope(settings.database_url) as s:
        full_day(s, DAY - dt.timedelta(days=2), batch_id=batch(s, utcnow()))
    run = jobs.run_job("score_risk_catchup", settings=settings, now=NOW)
    assert (run.status, run.rows) == ("ok", 4)
    with session_scope(settings.database_url) as s:
        assert len(stored(s, DAY - dt.timedelta(days=2))) == 4 and not stored(s, DAY)


def _bad_model(tmp_path, **weights) -> str:
    d = MODEL.to_dict()
    for item in d["indicators"]:
        item["weight"] = weights.get(item["key"], item["weight"])
    path = tmp_path / "risk_model.json"
    path.write_text(json.dumps(d), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("weights", "named"),
    [
        ({"confirmed": 0.029, "suspected": 0.301}, "'confirmed': weight 0.029 is below"),
        ({"confirmed": 0.201, "suspected": 0.129}, "'confirmed': weight 0.201 is above"),
        ({"crowd_gathering": 0.03}, "weights sum to 0.99"),
    ],
)
def test_risk032_an_invalid_model_file_fails_the_job_and_the_old_scores_stay(
    settings, tmp_path, weights, named
):
    with session_scope(settings.database_url) as s:
        seed_areas(s)
        full_day(s, DAY, value=1.0)
    assert jobs.run_job("score_risk", settings=settings, now=NOW).status == "ok"
    with session_scope(settings.database_url) as s:
        before = {c: (r.score, r.computed_at) for c, r in stored(s, DAY).items()}
        version_before = risk_version(s)
        s.execute(update(IndicatorValue).values(value=2.0))  # new values the bad model must not use

    broken = settings.model_copy(update={"risk_model_path": _bad_model(tmp_path, **weights)})
    run = jobs.run_job("score_risk", settings=broken, now=NOW + dt.timedelta(hours=1))
    assert run.status == "failed"
    assert named in run.error and "ModelError" in run.error
    with session_scope(settings.database_url) as s:
        assert {c: (r.score, r.computed_at) for c, r in stored(s, DAY).items()} == before
        assert risk_version(s) == version_before


def test_risk033_a_district_without_compounds_is_not_a_failure(settings):
    run = jobs.run_job("score_risk", settings=settings, now=NOW)
    assert (run.status, run.rows) == ("ok", 0)


@pytest.mark.parametrize(
    ("setting", "hour", "minute"), [("01:00", 1, 0), ("2:30", 2, 30), ("23:59", 23, 59)]
)
def test_risk034_nightly_time_is_a_setting_in_local_time(setting, hour, minute):
    settings = Settings(risk_score_time=setting)
    trigger = jobs.JOBS["score_risk"].trigger(settings)
    fire = trigger.get_next_fire_time(None, dt.datetime(2026, 11, 20, 12, 0, tzinfo=dt.UTC))
    assert (fire.hour, fire.minute, str(fire.tzinfo)) == (hour, minute, "Asia/Shanghai")
    assert jobs.JOBS["score_risk_catchup"].expected_interval_s(settings) == 300


@pytest.mark.parametrize("bad", ["25:00", "1am", "01:60", ""])
def test_risk035_a_bad_nightly_time_is_refused(bad):
    with pytest.raises(ValueError, match="HH:MM"):
        Settings(risk_score_time=bad)


def test_risk036_two_scorings_of_one_day_at_once_both_finish(areas, db_url):
    """The nightly run, the catch-up and a by-hand `risk score` can meet on the same day."""
    import threading

    full_day(areas, DAY, 1.0)
    areas.commit()
    model = MODEL.with_weights({}, version="concurrency-test")  # a version new to the database
    day = DAY
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def run():
        try:
            start.wait()
            with session_scope(db_url) as s:
                risk.score_day(day, session=s, model=model, carry_days=3)
        except BaseException as exc:  # noqa: BLE001 - collected and reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with session_scope(db_url) as s:
        rows = s.scalar(select(func.count()).select_from(RiskScore).where(RiskScore.date == day))
        compounds = s.scalar(
            select(func.count()).select_from(Area).where(Area.level == AreaLevel.COMPOUND)
        )
    assert rows == compounds


def test_risk037_the_nightly_run_scores_the_shanghai_day_just_ended(areas, settings):
    """01:00 in Shanghai is 17:00 UTC the day before: the day scored is the local one."""
    db_url = settings.database_url
    at_one = dt.datetime(2026, 11, 20, 17, 0, 30, tzinfo=dt.UTC)  # 2026-11-21 01:00:30 local
    jobs.score_risk(settings, at_one)
    with session_scope(db_url) as s:
        days = set(s.scalars(select(RiskScore.date).distinct()))
    assert dt.date(2026, 11, 20) in days
    assert dt.date(2026, 11, 21) not in days and dt.date(2026, 11, 19) not in days
