"""The wall's register figures and overview tiles (dashboard.overview) on a real database, SQLite
and PostgreSQL, with hand-made rows and numbers checked by hand in the comments."""

from __future__ import annotations

import datetime as dt

import pytest
from shapely import Point
from sqlalchemy.orm import Session

from dashboard import overview
from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    DisinfectionTask,
    Enterprise,
    EpidemicCount,
    HomeObservation,
    MaskSupply,
    OfficeReturnees,
    RegisterCount,
    Shop,
)
from dashboard.queries import AreaScope

TODAY = dt.date(2026, 11, 21)
YESTERDAY = TODAY - dt.timedelta(days=1)
D, S1, S2 = "310104", "310104001", "310104002"
C11, C21 = "310104001001", "310104002001"
WHOLE = AreaScope.whole_district()
ONLY_S1 = AreaScope(frozenset({S1, C11}))


def _day(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def _areas(session: Session) -> None:
    rows = [
        Area(code=D, level=AreaLevel.DISTRICT, name="徐汇区"),
        Area(code=S1, level=AreaLevel.SUBDISTRICT, name="甲街道", parent_code=D),
        Area(code=S2, level=AreaLevel.SUBDISTRICT, name="乙街道", parent_code=D),
        Area(code=C11, level=AreaLevel.COMMITTEE, name="一居委", parent_code=S1),
        Area(code=C21, level=AreaLevel.COMMITTEE, name="二居委", parent_code=S2),
    ]
    for area in rows:
        session.add(area)
        session.flush()


def _ent(code: str, sub: str, state: str, **kw) -> Enterprise:
    return Enterprise(
        credit_code=code, name=f"企业{code[-2:]}", subdistrict_code=sub, state=state, **kw
    )


def _close(session: Session, day: dt.date, values: dict[tuple[str, str, str], float]) -> None:
    for (register, sub, metric), value in values.items():
        session.add(
            RegisterCount(
                date=day, register=register, subdistrict_code=sub, metric=metric, value=value
            )
        )


# --------------------------------------------------------------------------- register figures


def _registers(session: Session) -> None:
    _areas(session)
    session.add_all(
        [
            _ent("E01", S1, "reopened", planned_headcount=100, returned_headcount=60),
            _ent("E02", S1, "reopened", planned_headcount=50, returned_headcount=50),
            _ent("E03", S1, "approved", planned_headcount=20, returned_headcount=0),
            _ent("E04", S2, "registered", planned_headcount=30, returned_headcount=5),
            Shop(licence_id="L1", name="一号店", subdistrict_code=S1, is_open=True, open_on=TODAY),
            Shop(licence_id="L2", name="二号店", subdistrict_code=S1, is_open=False, open_on=TODAY),
            # reported open yesterday, nothing yet today: unreported, not open
            Shop(
                licence_id="L3", name="三号店", subdistrict_code=S2, is_open=True, open_on=YESTERDAY
            ),
            ConstructionSite(
                site_id="G1",
                name="一号工地",
                subdistrict_code=S1,
                state="reopened",
                headcount=40,
                new_arrivals_today=3,
            ),
        ]
    )
    session.flush()


def test_ovw001_change_since_yesterdays_close(session):
    _registers(session)
    _close(
        session,
        YESTERDAY,
        {
            ("enterprises", "", "state:reopened"): 1,
            ("enterprises", "", "state:approved"): 2,
            ("enterprises", "", "returned_headcount"): 80,
            ("shops", "", "state:open"): 2,
            ("enterprises", S1, "state:reopened"): 1,
            ("enterprises", S2, "state:registered"): 1,
            # the day before yesterday: never read
        },
    )
    _close(session, _day(-2), {("enterprises", "", "state:reopened"): 40})
    session.flush()
    got = overview.register_figures(session=session, scope=WHOLE, today=TODAY)
    ent, shops = got["enterprises"], got["shops"]
    assert ent.state("reopened") == overview.Figure(2, 1)  # 2 now, 1 at yesterday's close
    assert ent.state("approved") == overview.Figure(1, -1)
    assert ent.state("registered") == overview.Figure(1, 1)  # not in the close: 0 then
    assert ent.of("returned_headcount") == overview.Figure(115, 35)  # 60 + 50 + 0 + 5
    assert ent.of("planned_headcount").value == 200
    assert shops.state("open") == overview.Figure(1, -1)
    assert shops.state("unreported").value == 1 and shops.state("closed").value == 1
    assert got["sites"].of("headcount").value == 40
    assert got["sites"].of("new_arrivals_today").value == 3


def test_ovw002_no_close_yesterday_means_no_change_and_scope_sums_its_subdistricts(session):
    _registers(session)
    _close(session, _day(-2), {("enterprises", "", "state:reopened"): 1})
    session.flush()
    got = overview.register_figures(session=session, scope=WHOLE, today=TODAY)
    assert got["enterprises"].state("reopened") == overview.Figure(2, None)
    _close(
        session,
        YESTERDAY,
        {
            ("enterprises", S1, "state:reopened"): 2,
            ("enterprises", S2, "state:reopened"): 7,
            ("enterprises", "", "state:reopened"): 9,
        },
    )
    session.flush()
    mine = overview.register_figures(session=session, scope=ONLY_S1, today=TODAY)
    assert mine["enterprises"].state("reopened") == overview.Figure(2, 0)  # S1 only: 2 and 2
    assert mine["enterprises"].of("planned_headcount").value == 170  # E04 is in S2
    assert mine["shops"].state("unreported").value == 0  # L3 is in S2


# --------------------------------------------------------------------------- labour gap, sites


def test_ovw003_labour_gap_summed_by_trade(session):
    _areas(session)
    session.add_all(
        [
            _ent("E01", S1, "reopened", labour_gap={"电工": 3, "焊工": 2}),
            _ent("E02", S1, "approved", labour_gap={"电工": 4, "普工": 10}),
            _ent("E03", S1, "approved", labour_gap={"焊工": "x", "厨师": 0}),  # not numbers / none
            _ent("E04", S1, "approved", labour_gap=None),
            _ent("E05", S2, "registered", labour_gap={"普工": 5, "保洁": 1}),
        ]
    )
    session.flush()
    # 普工 10 + 5, 电工 3 + 4, 焊工 2, 保洁 1
    assert overview.labour_gap(session=session, scope=WHOLE, top=10) == [
        ("普工", 15),
        ("电工", 7),
        ("焊工", 2),
        ("保洁", 1),
    ]
    assert overview.labour_gap(session=session, scope=WHOLE, top=2) == [("普工", 15), ("电工", 7)]
    assert overview.labour_gap(session=session, scope=ONLY_S1, top=10) == [
        ("普工", 10),
        ("电工", 7),
        ("焊工", 2),
    ]


def test_ovw004_flagged_sites_most_unchecked_first_within_scope(session):
    _areas(session)
    session.add_all(
        [
            ConstructionSite(
                site_id="G1",
                name="一号工地",
                subdistrict_code=S1,
                unchecked_arrivals=2,
                key_region_arrivals=3,
            ),
            ConstructionSite(
                site_id="G2",
                name="二号工地",
                subdistrict_code=S2,
                unchecked_arrivals=5,
                key_region_arrivals=5,
            ),
            ConstructionSite(
                site_id="G3",
                name="三号工地",
                subdistrict_code=S1,
                unchecked_arrivals=0,
                key_region_arrivals=4,
            ),  # all checked: not flagged
        ]
    )
    session.flush()
    assert overview.flagged_sites(session=session, scope=WHOLE) == [
        overview.FlaggedSite("G2", "二号工地", "乙街道", 5),
        overview.FlaggedSite("G1", "一号工地", "甲街道", 2),
    ]
    assert [s.site_id for s in overview.flagged_sites(session=session, scope=ONLY_S1)] == ["G1"]


# --------------------------------------------------------------------------- overview tiles


def test_ovw005_epidemic_newest_figures_per_level(session):
    session.add_all(
        [
            EpidemicCount(date=YESTERDAY, level="country", new_cases=400, current_cases=30000),
            EpidemicCount(date=TODAY, level="country", new_cases=350, current_cases=29000),
            EpidemicCount(date=YESTERDAY, level="city", new_cases=2, current_cases=150),
            EpidemicCount(date=_day(1), level="city", new_cases=99, current_cases=99),  # future
        ]
    )
    session.flush()
    got = overview.epidemic(session=session, today=TODAY)
    assert got == {
        "country": overview.Cases(TODAY, 350, 29000),
        "city": overview.Cases(YESTERDAY, 2, 150),
        "district": None,
    }


def test_ovw006_home_observation_total_and_change(session):
    _areas(session)
    session.add_all(
        [
            HomeObservation(date=YESTERDAY, committee_code=C11, people=10),
            HomeObservation(date=YESTERDAY, committee_code=C21, people=5),
            HomeObservation(date=TODAY, committee_code=C11, people=12),
            HomeObservation(date=TODAY, committee_code=C21, people=1),
            HomeObservation(date=_day(-5), committee_code=C11, people=3),
        ]
    )
    session.flush()
    # today 12 + 1 = 13, yesterday 10 + 5 = 15
    assert overview.home_observation(session=session, scope=WHOLE, today=TODAY) == (
        overview.DayTotal(TODAY, 13, -2)
    )
    assert overview.home_observation(session=session, scope=ONLY_S1, today=TODAY) == (
        overview.DayTotal(TODAY, 12, 2)
    )
    # four days ago shows the newest report before it (five days ago), with no day before it
    assert overview.home_observation(session=session, scope=WHOLE, today=_day(-4)) == (
        overview.DayTotal(_day(-5), 3, None)
    )
    assert overview.home_observation(session=session, scope=WHOLE, today=_day(-6)) is None


def _task(place: str, due: dt.date, done_at: dt.datetime | None, sub: str = S1) -> DisinfectionTask:
    return DisinfectionTask(
        place_id=place, due_on=due, place_name=place, subdistrict_code=sub, done_at=done_at
    )


def test_ovw007_disinfection_overdue_on_the_day_boundary(session):
    _areas(session)
    # 00:10 today in Shanghai is 16:10 UTC yesterday
    just_after_midnight = dt.datetime(2026, 11, 20, 16, 10, tzinfo=dt.UTC)
    session.add_all(
        [
            _task("K1", YESTERDAY, None),  # due yesterday, not done: overdue
            _task("K2", YESTERDAY, just_after_midnight),  # done late, but done: not overdue
            _task("K3", TODAY, None),  # due today, the day is not over: due, not overdue
            _task("K4", TODAY, just_after_midnight),  # due today, done
            _task("K5", _day(1), None),  # tomorrow's: nothing today
            _task("K6", _day(-30), None, sub=S2),  # long overdue, in S2
            _task("K1", TODAY, None),  # K1 is due again today as well
        ]
    )
    session.flush()
    assert overview.disinfection(session=session, scope=WHOLE, today=TODAY) == (
        overview.Disinfection(TODAY, due=3, done=1, overdue=2)
    )
    assert overview.disinfection(session=session, scope=ONLY_S1, today=TODAY) == (
        overview.Disinfection(TODAY, due=3, done=1, overdue=1)
    )
    # yesterday, K1 and K2 were due and not overdue yet (K2's done_at is today: done now)
    assert overview.disinfection(session=session, scope=WHOLE, today=YESTERDAY) == (
        overview.Disinfection(YESTERDAY, due=2, done=1, overdue=1)
    )


def test_ovw008_masks_today_and_the_last_seven_days(session):
    _areas(session)
    session.add_all(
        [
            MaskSupply(date=TODAY, subdistrict_code=S1, reserved=100, delivered=60),
            MaskSupply(date=TODAY, subdistrict_code=S2, reserved=50, delivered=50),
            MaskSupply(date=_day(-6), subdistrict_code=S1, reserved=10, delivered=9),  # in the 7
            MaskSupply(date=_day(-7), subdistrict_code=S1, reserved=1000, delivered=1000),  # out
            MaskSupply(date=_day(1), subdistrict_code=S1, reserved=7, delivered=7),  # future
        ]
    )
    session.flush()
    assert overview.masks(session=session, scope=WHOLE, today=TODAY) == overview.Masks(
        TODAY, reserved=150, delivered=110, reserved_7d=160, delivered_7d=119
    )
    assert overview.masks(session=session, scope=ONLY_S1, today=TODAY) == overview.Masks(
        TODAY, reserved=100, delivered=60, reserved_7d=110, delivered_7d=69
    )


def _ret(building: str, day: dt.date, n: int, sub: str = S1) -> OfficeReturnees:
    return OfficeReturnees(
        date=day,
        building_id=building,
        building_name=f"{building}大厦",
        subdistrict_code=sub,
        returnees=n,
    )


def test_ovw009_fastest_rising_buildings_over_seven_days(session):
    _areas(session)
    session.add_all(
        [
            # A: 100 seven days ago, 180 today: +80
            _ret("A", _day(-7), 100),
            _ret("A", _day(-3), 150),
            _ret("A", TODAY, 180),
            # B: a gap (no report seven days ago, none on day -4): 10 on day -5, 100 today: +90
            _ret("B", _day(-5), 10),
            _ret("B", _day(-3), 40),
            _ret("B", TODAY, 100),
            # C: one report in the window (the other is 8 days ago): not measured
            _ret("C", _day(-8), 0),
            _ret("C", _day(-1), 500),
            # D: falling: not listed
            _ret("D", _day(-7), 300),
            _ret("D", TODAY, 200),
            # E: in S2, rose by 80 to 90 (ties A's +80 but has fewer people: after A)
            _ret("E", _day(-2), 10, S2),
            _ret("E", _day(-1), 90, S2),
            # F: reported tomorrow too: the future is not read; +1 up to today
            _ret("F", _day(-1), 1),
            _ret("F", TODAY, 2),
            _ret("F", _day(1), 900),
        ]
    )
    session.flush()
    got = overview.rising_buildings(session=session, scope=WHOLE, today=TODAY)
    assert [(b.building_id, b.increase, b.returnees) for b in got] == [
        ("B", 90, 100),
        ("A", 80, 180),
        ("E", 80, 90),
        ("F", 1, 2),
    ]
    assert (got[0].first_day, got[0].last_day, got[0].subdistrict) == (_day(-5), TODAY, "甲街道")
    assert got[2].last_day == _day(-1)
    top2 = overview.rising_buildings(session=session, scope=ONLY_S1, today=TODAY, top=2)
    assert [b.building_id for b in top2] == ["B", "A"]


# --------------------------------------------------------------------------- map points


def test_ovw010_points_carry_a_code_per_state(session):
    _areas(session)
    session.add_all(
        [
            _ent("E01", S1, "reopened", geom=Point(121.41, 31.15)),
            _ent("E02", S2, "suspended", geom=Point(121.45, 31.16)),
            _ent("E03", S1, "approved"),  # no point: not on the map
            Shop(
                licence_id="L1",
                name="一",
                subdistrict_code=S1,
                is_open=True,
                open_on=TODAY,
                geom=Point(121.411, 31.151),
            ),
            Shop(
                licence_id="L2",
                name="二",
                subdistrict_code=S1,
                is_open=True,
                open_on=YESTERDAY,
                geom=Point(121.412, 31.152),
            ),
            Shop(
                licence_id="L3",
                name="三",
                subdistrict_code=S1,
                is_open=False,
                open_on=TODAY,
                geom=Point(121.413, 31.153),
            ),
            ConstructionSite(
                site_id="G1",
                name="一",
                subdistrict_code=S1,
                state="reopened",
                unchecked_arrivals=1,
                geom=Point(121.42, 31.17),
            ),
            ConstructionSite(
                site_id="G2",
                name="二",
                subdistrict_code=S2,
                state="registered",
                geom=Point(121.44, 31.17),
            ),
        ]
    )
    session.flush()
    ent = overview.register_points("enterprises", session=session, scope=WHOLE, today=TODAY)
    assert (ent.ids, ent.codes, ent.lon, ent.lat) == (
        ("E01", "E02"),
        (3, 4),
        (121.41, 121.45),
        (31.15, 31.16),
    )
    shops = overview.register_points("shops", session=session, scope=WHOLE, today=TODAY)
    assert shops.codes == (3, 0, 4)  # open, unreported (yesterday's report), closed
    sites = overview.register_points("sites", session=session, scope=WHOLE, today=TODAY)
    assert sites.codes == (5, 1)  # G1 flagged whatever its state
    assert overview.register_points("sites", session=session, scope=ONLY_S1, today=TODAY).ids == (
        "G1",
    )
    # a state change keeps the positions' key; a moved point changes it
    key = ent.where_key
    session.get(Enterprise, "E02").state = "reopened"
    session.flush()
    again = overview.register_points("enterprises", session=session, scope=WHOLE, today=TODAY)
    assert again.codes == (3, 3) and again.where_key == key
    session.get(Enterprise, "E02").geom = Point(121.46, 31.16)
    session.flush()
    moved = overview.register_points("enterprises", session=session, scope=WHOLE, today=TODAY)
    assert moved.where_key != key
    with pytest.raises(ValueError, match="unknown register"):
        overview.register_points("stations", session=session, scope=WHOLE, today=TODAY)
