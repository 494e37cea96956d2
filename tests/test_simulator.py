"""The demo simulator writes valid upstream files that the real ingestion path loads."""

from __future__ import annotations

import datetime as dt
import filecmp
from zoneinfo import ZoneInfo

import pandas as pd
import pytest
from sqlalchemy import func, select

from dashboard.config import Settings
from dashboard.db import session_scope
from dashboard.demo import build_demo, write_demo
from dashboard.feeds.simulator import simulate_round
from dashboard.ingest import load_inbox
from dashboard.models import (
    ImportBatch,
    IndicatorValue,
    Ping,
    QuarantinedRow,
    Station,
    StationBooking,
    StationFlow,
)

# A Tuesday, 09:20 in Shanghai: pings, flows, bookings, indicators, shops and site crews.
NOW = dt.datetime(2026, 11, 17, 9, 20, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(dt.UTC)


@pytest.fixture(scope="module")
def district():
    return build_demo(20200301)


@pytest.fixture
def world(sqlite_url, tmp_path, district) -> Settings:
    settings = Settings(database_url=sqlite_url, var_dir=tmp_path / "var")
    with session_scope(sqlite_url) as s:
        write_demo(district, session=s)
    return settings


def _load(settings):
    return load_inbox(settings.inbox, session_factory=lambda: session_scope(settings.database_url))


def test_sim001_a_round_loads_cleanly_through_the_ingestion_path(world):
    files = simulate_round(world, now=NOW)
    assert files >= 5
    assert (world.inbox / "pings").glob("*.csv.prj")
    reports = _load(world)
    assert reports and all(not r.already_loaded for r in reports)
    with session_scope(world.database_url) as s:
        quarantined = s.execute(
            select(QuarantinedRow.reason, func.count()).group_by(QuarantinedRow.reason)
        ).all()
        pings = s.scalar(select(func.count()).select_from(Ping))
        stations = s.scalar(select(func.count()).select_from(Station))
        flows = s.scalar(select(func.count()).select_from(StationFlow))
        bookings = s.scalar(select(func.count()).select_from(StationBooking))
        days = s.scalar(select(func.count(IndicatorValue.date.distinct())))
    assert quarantined == []
    assert pings == world.simulator_pings_per_round
    assert flows == stations * 24 * 28  # four weeks of hourly counts, back-filled
    # The railway station's next 24 hours, as published each hour: this hour's snapshot and
    # four weeks of back-filled ones (28 * 24 + 1 snapshots of 24 hours each).
    assert bookings == 24 * (28 * 24 + 1)
    assert days == 14
    # Everything was moved out of the inbox once loaded.
    left = [p for p in world.inbox.glob("*/*.csv")]
    assert left == []


def test_sim002_next_round_writes_only_what_is_new(world):
    simulate_round(world, now=NOW)
    _load(world)
    later = NOW + dt.timedelta(seconds=world.simulator_interval_s)
    simulate_round(world, now=later)
    pending = sorted(p.parent.name for p in world.inbox.glob("*/*.csv"))
    # Same hour: no new flows, bookings or indicators; new pings (and maybe register updates).
    assert "pings" in pending
    assert not {"station_flows", "station_bookings", "indicators"} & set(pending)


def test_sim003_south_station_peaks_hold_about_forty_percent(world):
    simulate_round(world, now=NOW)
    _load(world)
    with session_scope(world.database_url) as s:
        code = s.scalar(select(Station.code).where(Station.kind == "railway"))
        rows = s.execute(
            select(StationFlow.hour_start, StationFlow.arrivals).where(
                StationFlow.station_code == code
            )
        ).all()
    flows = pd.DataFrame(rows, columns=["hour", "arrivals"])
    local = pd.to_datetime(flows["hour"], utc=True).dt.tz_convert("Asia/Shanghai")
    share = flows.loc[local.dt.hour.isin([9, 12]), "arrivals"].sum() / flows["arrivals"].sum()
    per_day = flows["arrivals"].sum() / 28
    assert 0.35 <= share <= 0.45
    assert 4500 <= per_day <= 5800


def test_sim004_same_moment_same_files(world, tmp_path):
    simulate_round(world, now=NOW)
    other = world.model_copy(update={"var_dir": tmp_path / "other"})
    simulate_round(other, now=NOW)
    names = sorted(p.relative_to(world.inbox) for p in world.inbox.rglob("*.csv"))
    assert names == sorted(p.relative_to(other.inbox) for p in other.inbox.rglob("*.csv"))
    for name in names:
        assert filecmp.cmp(world.inbox / name, other.inbox / name, shallow=False), name


def test_sim005_site_crews_arrive_in_the_morning_with_valid_ids(world):
    from dashboard.feeds.simulator import _read_world, write_site_checkins
    from dashboard.idcodes import is_valid_resident_id
    from dashboard.models import SiteWorker

    world = world.model_copy(update={"simulator_interval_s": 300})  # rounds 5 minutes apart
    with session_scope(world.database_url) as s:
        state = _read_world(s)
    tz = ZoneInfo("Asia/Shanghai")
    written = []
    for minute in range(0, 60, 5):  # several rounds of one morning hour
        at = NOW.replace(minute=minute)
        written += write_site_checkins(world, state, world.inbox, now=at, tz=tz)
    evening = NOW.astimezone(tz).replace(hour=19).astimezone(dt.UTC)
    assert write_site_checkins(world, state, world.inbox, now=evening, tz=tz) == []
    assert written, "no crew arrived all morning"
    rows = pd.concat([pd.read_csv(p, dtype=str) for p in written])
    assert rows["id_number"].map(is_valid_resident_id).all()
    _load(world)
    with session_scope(world.database_url) as s:
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 0
        today = NOW.astimezone(tz).date()
        arrived = s.scalar(
            select(func.count()).select_from(SiteWorker).where(SiteWorker.arrived_on == today)
        )
    assert arrived >= rows["id_number"].nunique()


def test_sim006_indicators_make_a_plausible_risk_map(world):
    """Mostly blue, a few yellow, a handful of reds clustered where the cases are, moving daily."""
    import numpy as np

    from dashboard import risk
    from dashboard.models import Area, AreaLevel

    simulate_round(world, now=NOW)
    _load(world)
    model = risk.load_model()
    tz = ZoneInfo("Asia/Shanghai")
    with session_scope(world.database_url) as s:
        where = dict(
            (code, (lon, lat))
            for code, lon, lat in s.execute(
                select(Area.code, Area.label_lon, Area.label_lat).where(
                    Area.level == AreaLevel.COMPOUND
                )
            )
        )
    reds_by_day, blue_share = [], []
    for k in range(13, 0, -1):  # the first day has no history to carry forward; skip it
        day = NOW.astimezone(tz).date() - dt.timedelta(days=k)
        with session_scope(world.database_url) as s:
            scores = risk.score_day(day, session=s, model=model)
        bands = scores.band.tolist()
        blue_share.append(bands.count("blue") / len(bands))
        assert bands.count("yellow") >= 3, f"{day}: only {bands.count('yellow')} yellow"
        reds_by_day.append({c for c, b in zip(scores.codes, bands, strict=True) if b == "red"})
    assert min(blue_share) >= 0.9
    assert max(len(r) for r in reds_by_day) <= 40  # a handful, not a sea of red
    assert sum(1 for r in reds_by_day if r) >= 5
    assert len({frozenset(r) for r in reds_by_day}) > 3  # the map moves from day to day
    # Clustered: most reds have another red within 1.5 km.
    reds = sorted(set().union(*reds_by_day))
    xy = np.array([where[c] for c in reds]) * [94_000, 110_540]  # metres, roughly, at 31°N
    d = np.hypot(*(xy[:, None, :] - xy[None, :, :]).transpose(2, 0, 1))
    np.fill_diagonal(d, np.inf)
    assert (d.min(axis=1) < 1500).mean() >= 0.8


# --------------------------------------------------------------------------- a believable day

DAY = dt.date(2026, 11, 17)  # a Tuesday
TZ = ZoneInfo("Asia/Shanghai")
ROUNDS = [(6, 0), (7, 30), (8, 30), (9, 0), (9, 30), (10, 0), (10, 30), (11, 0), (14, 0),
          (15, 0), (18, 30)]  # fmt: skip


def _at(hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(DAY, dt.time(hour, minute), tzinfo=TZ).astimezone(dt.UTC)


@pytest.fixture(scope="module")
def played_day(tmp_path_factory, sqlite_template):
    """The demo district built at dawn of DAY, then rounds through the day (half an hour of
    simulated time each), every file loaded through the inbox at the round's time."""
    import shutil

    from dashboard import register_counts
    from dashboard.models import Enterprise

    root = tmp_path_factory.mktemp("day")
    shutil.copy(sqlite_template, root / "db.sqlite3")
    url = f"sqlite:///{root / 'db.sqlite3'}"
    settings = Settings(database_url=url, var_dir=root / "var", simulator_interval_s=1800,
                        simulator_pings_per_round=200)  # fmt: skip
    with session_scope(url) as s:
        write_demo(build_demo(20200301, today=DAY), session=s)
    states_seen: dict[str, list[str]] = {}
    figures = {}
    for hour, minute in ROUNDS:
        now = _at(hour, minute)
        simulate_round(settings, now=now)
        load_inbox(settings.inbox, session_factory=lambda: session_scope(url), now=now)
        with session_scope(url) as s:
            for code, state in s.execute(select(Enterprise.credit_code, Enterprise.state)):
                seq = states_seen.setdefault(code, [])
                if not seq or seq[-1] != state:
                    seq.append(state)
            figures[(hour, minute)] = register_counts.register_metrics(s, DAY)
    return settings, states_seen, figures


def _fig(figures, at, register, metric):
    return figures[at].get((register, "", metric), 0)


def test_sim007_a_day_loads_without_a_quarantined_row(played_day):
    settings, _, _ = played_day
    with session_scope(settings.database_url) as s:
        reasons = s.execute(
            select(QuarantinedRow.reason, func.count()).group_by(QuarantinedRow.reason)
        ).all()
        refused = s.scalar(
            select(func.count()).select_from(ImportBatch).where(ImportBatch.status != "loaded")
        )
    assert reasons == [] and refused == 0


def test_sim008_enterprises_only_take_allowed_steps_in_waves(played_day):
    from dashboard import states

    _, seen, figures = played_day
    moved = {code: seq for code, seq in seen.items() if len(seq) > 1}
    assert len(moved) >= 20  # a day of a campaign moves dozens
    for code, seq in moved.items():
        for old, new in zip(seq, seq[1:], strict=False):
            assert states.reopening_allowed(old, new), (code, seq)
    reopened = [_fig(figures, at, "enterprises", "state:reopened") for at in ROUNDS]
    # Reopenings happen in office hours: none before 08:00, most by the evening.
    assert reopened[ROUNDS.index((7, 30))] == reopened[0]
    assert reopened[-1] - reopened[0] >= 10


def test_sim009_checkins_climb_through_the_morning(played_day):
    _, _, figures = played_day
    checkins = [_fig(figures, at, "enterprises", "checkins_today") for at in ROUNDS]
    returned = _fig(figures, (10, 0), "enterprises", "returned_headcount")
    assert checkins[0] == 0  # the demo at dawn: nobody has checked in yet today
    morning = checkins[: ROUNDS.index((11, 0)) + 1]
    assert morning == sorted(morning)
    assert checkins[ROUNDS.index((10, 0))] > 0.3 * returned
    assert checkins[-1] <= _fig(figures, (18, 30), "enterprises", "returned_headcount")


def test_sim010_shops_open_in_the_morning(played_day):
    _, _, figures = played_day
    total = _fig(figures, (6, 0), "shops", "total")
    down = _fig(figures, (6, 0), "shops", "state:closed_down")
    assert _fig(figures, (6, 0), "shops", "state:unreported") == total - down
    assert _fig(figures, (6, 0), "shops", "state:open") == 0
    at10 = _fig(figures, (10, 0), "shops", "state:open") / total
    at11 = _fig(figures, (11, 0), "shops", "state:open") / total
    assert 0.75 <= at10 <= at11 <= 0.95
    assert _fig(figures, (11, 0), "shops", "state:unreported") == 0
    assert _fig(figures, (11, 0), "shops", "state:closed") > 0.05 * total


def test_sim011_some_site_flagged_all_day_and_crews_arrive(played_day):
    _, _, figures = played_day
    flagged = [_fig(figures, at, "sites", "flagged") for at in ROUNDS]
    assert min(flagged) >= 1
    arrivals = [_fig(figures, at, "sites", "new_arrivals_today") for at in ROUNDS]
    assert arrivals[ROUNDS.index((11, 0))] > arrivals[0]


def test_sim012_overview_feeds_move_through_the_day(played_day):
    from dashboard.models import (
        DisinfectionTask,
        EpidemicCount,
        HomeObservation,
        MaskSupply,
        OfficeReturnees,
    )

    settings, _, _ = played_day
    with session_scope(settings.database_url) as s:
        levels = set(s.scalars(select(EpidemicCount.level).where(EpidemicCount.date == DAY)))
        observed = s.scalar(select(func.sum(HomeObservation.people)).where(
            HomeObservation.date == DAY))  # fmt: skip
        before = s.scalar(select(func.sum(HomeObservation.people)).where(
            HomeObservation.date == DAY - dt.timedelta(days=13)))  # fmt: skip
        due, done = s.execute(
            select(func.count(), func.count(DisinfectionTask.done_at)).where(
                DisinfectionTask.due_on == DAY
            )
        ).one()
        reserved, delivered = s.execute(
            select(func.sum(MaskSupply.reserved), func.sum(MaskSupply.delivered)).where(
                MaskSupply.date == DAY
            )
        ).one()
        buildings = s.scalar(
            select(func.count()).select_from(OfficeReturnees).where(OfficeReturnees.date == DAY)
        )
    assert levels == {"country", "city", "district"}
    assert 100 <= observed < before  # a few hundred, fewer than two weeks ago
    # 64 daily places and about half of the 55 every-other-day ones; nearly all done by 18:30.
    assert 80 <= due <= 100 and done >= 0.9 * due
    assert reserved > 0 and delivered > 0
    assert buildings == 40


def test_sim013_key_region_arrival_checked_an_hour_or_two_later(world):
    """Rounds every 5 minutes through the morning: the key-region arrivals come unchecked and
    a round two hours after each finds it checked (a new row, certificate true)."""
    from dashboard.feeds.simulator import _read_world, write_site_checkins
    from dashboard.models import SiteWorker

    world = world.model_copy(update={"simulator_interval_s": 300})
    tz = ZoneInfo("Asia/Shanghai")
    start = dt.datetime(2026, 11, 17, 6, 0, tzinfo=tz).astimezone(dt.UTC)
    sent = []
    for k in range(60):  # 06:00-10:55
        now = start + dt.timedelta(minutes=5 * k)
        with session_scope(world.database_url) as s:
            state = _read_world(s)
        for path in write_site_checkins(world, state, world.inbox, now=now, tz=tz):
            rows = pd.read_csv(path, dtype=str, keep_default_na=False)
            sent += rows.loc[rows["from_key_region"] == "true", "id_number"].tolist()
        _load_at(world, now)
    assert sent, "no key-region arrival all morning"
    with session_scope(world.database_url) as s:
        checked = dict(s.execute(select(SiteWorker.id_number, SiteWorker.certificate_checked)
                                 .where(SiteWorker.id_number.in_(sent))).all())  # fmt: skip
    # Those sent before 09:00 have been checked by 10:55; none was checked on arrival.
    assert True in checked.values()
    later = start + dt.timedelta(hours=7)
    with session_scope(world.database_url) as s:
        state = _read_world(s)
    write_site_checkins(world, state, world.inbox, now=later, tz=tz)
    _load_at(world, later)
    with session_scope(world.database_url) as s:
        not_checked = SiteWorker.certificate_checked.is_not(True)
        left = s.scalar(
            select(func.count())
            .select_from(SiteWorker)
            .where(SiteWorker.id_number.in_(sent), not_checked)
        )
        assert left == 0
        assert s.scalar(select(func.count()).select_from(QuarantinedRow)) == 0


def _load_at(settings, now):
    return load_inbox(
        settings.inbox, session_factory=lambda: session_scope(settings.database_url), now=now
    )


# A Wednesday in May 2026, one week after the Labour Day holiday (1-5 May 2026; Saturday 9 May
# is worked in exchange). The four weeks back-filled reach back to 15 April.
AFTER_LABOUR_DAY = dt.datetime(2026, 5, 13, 9, 20, tzinfo=ZoneInfo("Asia/Shanghai")).astimezone(
    dt.UTC
)


def _daily_totals(settings, kind: str) -> pd.Series:
    with session_scope(settings.database_url) as s:
        code = s.scalar(select(Station.code).where(Station.kind == kind).order_by(Station.code))
        rows = s.execute(
            select(StationFlow.hour_start, StationFlow.arrivals).where(
                StationFlow.station_code == code
            )
        ).all()
    flows = pd.DataFrame(rows, columns=["hour", "arrivals"])
    day = pd.to_datetime(flows["hour"], utc=True).dt.tz_convert("Asia/Shanghai").dt.date
    return flows.groupby(day)["arrivals"].sum()


def test_sim010_holidays_quieten_the_metro_and_busy_the_railway(world):
    simulate_round(world, now=AFTER_LABOUR_DAY)
    _load(world)
    metro, rail = _daily_totals(world, "metro"), _daily_totals(world, "railway")
    d = dt.date
    # Metro: Monday 4 May (holiday) against Monday 11 May (ordinary): commuters stay home,
    # fewer than on a weekend (a weekend is 55% of a workday; the holiday 45%, +-10 points).
    holiday_monday = metro[d(2026, 5, 4)] / metro[d(2026, 5, 11)]
    assert 0.35 <= holiday_monday <= 0.52
    saturday = metro[d(2026, 5, 9)] / metro[d(2026, 5, 11)]  # adjusted working day
    assert 0.9 <= saturday <= 1.1
    ordinary_saturday = metro[d(2026, 4, 25)] / metro[d(2026, 5, 11)]
    assert 0.45 <= ordinary_saturday <= 0.65
    # Railway: the holiday's last day (Tuesday 5 May, the return rush) against Tuesday 12 May,
    # and its first day (Friday 1 May) against Friday 8 May (a Friday is 1.15 of a workday).
    assert 1.45 <= rail[d(2026, 5, 5)] / rail[d(2026, 5, 12)] <= 1.75
    assert 1.1 <= rail[d(2026, 5, 1)] / rail[d(2026, 5, 8)] <= 1.35
    # An ordinary Tuesday stays near the station's 5,000 a day.
    assert 4700 <= rail[d(2026, 5, 12)] <= 5300


def test_sim011_bookings_ramp_toward_the_actual_as_the_hour_nears(world):
    simulate_round(world, now=NOW)
    _load(world)
    with session_scope(world.database_url) as s:
        code = s.scalar(select(Station.code).where(Station.kind == "railway"))
        flows = dict(
            s.execute(
                select(StationFlow.hour_start, StationFlow.arrivals).where(
                    StationFlow.station_code == code
                )
            ).all()
        )
        booked = s.execute(
            select(StationBooking.as_of, StationBooking.hour_start, StationBooking.booked).where(
                StationBooking.station_code == code
            )
        ).all()
    near, far = [], []
    for as_of, hour, n in booked:
        actual = flows.get(hour)
        if not actual or actual < 200:  # the busy hours, where the shares are not noise
            continue
        ahead = round((hour - as_of).total_seconds() / 3600)
        if ahead == 1:
            near.append(n / actual)
        elif ahead == 24:
            far.append(n / actual)
    assert len(near) > 100 and len(far) > 100
    # One hour ahead about 95% of the arrivals are booked; a full day ahead about 60%.
    assert 0.88 <= float(pd.Series(near).median()) <= 1.0
    assert 0.52 <= float(pd.Series(far).median()) <= 0.68
    assert max(near) <= 1.0  # never more booked than arrive (no-shows are not simulated)
