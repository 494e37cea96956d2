"""Register snapshots: a small hand-made register, its figures per state and subdistrict counted
by hand, written as a day's ``register_counts`` rows, on SQLite and PostgreSQL; the job."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, update

from dashboard import jobs, register_counts
from dashboard.config import Settings
from dashboard.db import session_scope
from dashboard.models import (
    Area,
    AreaLevel,
    ConstructionSite,
    Enterprise,
    JobRun,
    RegisterCount,
    Shop,
)

TODAY = dt.date(2026, 3, 2)
YESTERDAY = TODAY - dt.timedelta(days=1)
TOMORROW = TODAY + dt.timedelta(days=1)
A, B = "310104001", "310104002"  # two subdistricts


def _areas(session) -> None:
    session.add(Area(code="310104", level=AreaLevel.DISTRICT, name="徐汇区"))
    session.flush()
    for code, name in ((A, "甲街道"), (B, "乙街道")):
        session.add(Area(code=code, level=AreaLevel.SUBDISTRICT, name=name, parent_code="310104"))
    session.flush()


def _register(session) -> None:
    """The hand-made register; the expected figures in the tests are counted from this list."""
    _areas(session)
    ent = [
        # code, sub, state, planned day, planned, returned, pending, check-ins and their day
        ("E1", A, "reopened", dt.date(2026, 2, 20), 10, 8, 1, 5, TODAY),
        ("E2", A, "approved", dt.date(2026, 2, 25), 20, 0, 4, 0, TODAY),  # lagging
        ("E3", A, "registered", dt.date(2026, 3, 5), 5, 0, 5, 0, None),
        ("E4", B, "not_registered", None, None, None, None, None, None),
        # lagging: not reopened; its 4 check-ins are yesterday's (suspended since)
        ("E5", B, "suspended", dt.date(2026, 2, 10), 30, 12, 0, 4, YESTERDAY),
        ("E6", B, "approved", TODAY, 8, 0, 2, 0, TODAY),  # due today: not lagging yet
    ]
    for code, sub, state, day, planned, returned, pending, checkins, on in ent:
        session.add(
            Enterprise(
                credit_code=code, name=code, subdistrict_code=sub, state=state,
                planned_reopen_date=day, planned_headcount=planned,
                returned_headcount=returned, pending_approvals=pending, checkins_today=checkins,
                checkins_on=on,
            )
        )  # fmt: skip
    shops = [
        # licence, sub, is_open, open_on, closed_down, staff
        ("S1", A, True, TODAY, False, 3),  # open today
        ("S2", A, True, YESTERDAY, False, 2),  # yesterday's report: unreported today
        ("S3", A, False, TODAY, False, 1),  # closed today
        ("S4", B, None, None, False, 0),  # never reported
        ("S5", B, False, YESTERDAY, True, 0),  # closed down
        ("S6", B, True, TODAY, False, 4),  # open today
    ]
    for lic, sub, is_open, on, down, staff in shops:
        session.add(
            Shop(licence_id=lic, name=lic, subdistrict_code=sub, is_open=is_open, open_on=on,
                 closed_down=down, staff_registered=staff)
        )  # fmt: skip
    sites = [
        # id, sub, state, planned day, headcount, new today, key-region arrivals, unchecked
        ("T1", A, "reopened", dt.date(2026, 2, 20), 50, 3, 2, 1),  # flagged
        ("T2", A, "approved", dt.date(2026, 2, 28), 0, 0, 0, 0),  # lagging
        ("T3", B, "suspended", dt.date(2026, 3, 10), 20, 0, 1, 0),
        ("T4", B, "reopened", dt.date(2026, 3, 1), 40, 5, 3, 2),  # flagged
    ]
    for sid, sub, state, day, head, new, key, unchecked in sites:
        session.add(
            ConstructionSite(
                site_id=sid, name=sid, subdistrict_code=sub, state=state, planned_reopen_date=day,
                headcount=head, new_arrivals_today=new, key_region_arrivals=key,
                unchecked_arrivals=unchecked,
            )
        )  # fmt: skip
    session.commit()


def _stored(session, day: dt.date) -> dict[tuple[str, str, str], float]:
    return register_counts.day_close(session, day)


@pytest.fixture
def register(session):
    _register(session)
    return session


def test_reg001_enterprise_counts_per_state_and_subdistrict(register):
    s = register
    written = register_counts.snapshot_registers(s, TODAY)
    s.commit()
    got = _stored(s, TODAY)
    assert written == s.scalar(select(func.count()).select_from(RegisterCount))
    want = {
        A: {"not_registered": 0, "registered": 1, "approved": 1, "reopened": 1, "suspended": 0},
        B: {"not_registered": 1, "registered": 0, "approved": 1, "reopened": 0, "suspended": 1},
        "": {"not_registered": 1, "registered": 1, "approved": 2, "reopened": 1, "suspended": 1},
    }
    for sub, states in want.items():
        for state, n in states.items():
            assert got[("enterprises", sub, f"state:{state}")] == n, (sub, state)
    assert got[("enterprises", A, "total")] == 3 and got[("enterprises", "", "total")] == 6
    assert got[("enterprises", "", "planned_headcount")] == 10 + 20 + 5 + 30 + 8
    assert got[("enterprises", "", "returned_headcount")] == 8 + 12
    assert got[("enterprises", "", "pending_approvals")] == 1 + 4 + 5 + 2
    assert got[("enterprises", "", "checkins_today")] == 5  # E5's 4 are yesterday's
    assert got[("enterprises", B, "checkins_today")] == 0
    assert got[("enterprises", B, "returned_headcount")] == 12


def test_reg002_laggards_planned_day_passed_not_reopened(register):
    register_counts.snapshot_registers(register, TODAY)
    got = _stored(register, TODAY)
    assert got[("enterprises", A, "lagging")] == 1  # E2
    assert got[("enterprises", B, "lagging")] == 1  # E5 (E6 is due today, not late yet)
    assert got[("enterprises", "", "lagging")] == 2
    assert got[("sites", "", "lagging")] == 1  # T2
    # Tomorrow E6 is late too; E3 (due 5 March) still is not.
    register_counts.snapshot_registers(register, TOMORROW)
    assert _stored(register, TOMORROW)[("enterprises", "", "lagging")] == 3


def test_reg003_shops_unreported_vs_open_on_a_day_boundary(register):
    register_counts.snapshot_registers(register, TODAY)
    register_counts.snapshot_registers(register, TOMORROW)
    today, tomorrow = _stored(register, TODAY), _stored(register, TOMORROW)
    assert {s: today[("shops", "", f"state:{s}")] for s in
            ("open", "closed", "unreported", "closed_down")} == {
        "open": 2, "closed": 1, "unreported": 2, "closed_down": 1}  # fmt: skip
    assert today[("shops", A, "state:unreported")] == 1  # S2: yesterday's report
    assert today[("shops", B, "state:unreported")] == 1  # S4: never reported
    # After midnight, today's reports are yesterday's: every live shop is unreported.
    assert {s: tomorrow[("shops", "", f"state:{s}")] for s in
            ("open", "closed", "unreported", "closed_down")} == {
        "open": 0, "closed": 0, "unreported": 5, "closed_down": 1}  # fmt: skip
    assert today[("shops", "", "staff_registered")] == 10
    assert today[("shops", A, "staff_registered")] == 6


def test_reg004_sites_flagged_and_arrivals(register):
    register_counts.snapshot_registers(register, TODAY)
    got = _stored(register, TODAY)
    assert got[("sites", "", "flagged")] == 2  # T1, T4
    assert got[("sites", A, "flagged")] == 1 and got[("sites", B, "flagged")] == 1
    assert got[("sites", "", "key_region_arrivals")] == 6
    assert got[("sites", "", "unchecked_arrivals")] == 3
    assert got[("sites", "", "headcount")] == 110
    assert got[("sites", "", "new_arrivals_today")] == 8
    assert got[("sites", "", "state:reopened")] == 2
    assert got[("sites", B, "state:suspended")] == 1


def test_reg005_district_row_is_the_sum_of_the_subdistricts(register):
    """The district is its subdistricts plus the records that have no subdistrict: one of each
    register here, counted once (not also as a subdistrict "" that is the district's key)."""
    s = register
    s.add(
        Enterprise(
            credit_code="E7", name="E7", subdistrict_code=None, state="reopened",
            planned_reopen_date=dt.date(2026, 2, 1), planned_headcount=6, returned_headcount=6,
            pending_approvals=0, checkins_today=3, checkins_on=TODAY,
        )
    )  # fmt: skip
    s.add(Shop(licence_id="S7", name="S7", is_open=True, open_on=TODAY, staff_registered=2))
    s.add(
        ConstructionSite(
            site_id="T5", name="T5", state="approved", planned_reopen_date=dt.date(2026, 2, 1),
            headcount=9, new_arrivals_today=1, key_region_arrivals=1, unchecked_arrivals=1,
        )
    )  # fmt: skip
    s.commit()
    # What those three add to the district, by hand (every other metric: nothing).
    extra = {
        ("enterprises", "state:reopened"): 1,
        ("enterprises", "total"): 1,
        ("enterprises", "planned_headcount"): 6,
        ("enterprises", "returned_headcount"): 6,
        ("enterprises", "checkins_today"): 3,
        ("shops", "state:open"): 1,
        ("shops", "staff_registered"): 2,
        ("shops", "total"): 1,
        ("sites", "state:approved"): 1,
        ("sites", "lagging"): 1,
        ("sites", "total"): 1,
        ("sites", "headcount"): 9,
        ("sites", "new_arrivals_today"): 1,
        ("sites", "key_region_arrivals"): 1,
        ("sites", "unchecked_arrivals"): 1,
        ("sites", "flagged"): 1,
    }
    register_counts.snapshot_registers(s, TODAY)
    got = _stored(s, TODAY)
    metrics = {(r, m) for r, sub, m in got if sub == ""}
    assert len(metrics) == 11 + 6 + 12  # every register's metrics have a district row
    assert {sub for _, sub, _ in got} == {"", A, B}
    for reg, metric in metrics:
        parts = got.get((reg, A, metric), 0) + got.get((reg, B, metric), 0)
        assert got[(reg, "", metric)] == parts + extra.get((reg, metric), 0), (reg, metric)
    assert got[("enterprises", "", "total")] == 7 and got[("shops", "", "total")] == 7


def test_reg006_rerunning_the_snapshot_replaces_it(register):
    s = register
    first = register_counts.snapshot_registers(s, TODAY)
    s.commit()
    s.execute(update(Enterprise).where(Enterprise.credit_code == "E2").values(state="reopened"))
    second = register_counts.snapshot_registers(s, TODAY)
    s.commit()
    assert first == second
    assert s.scalar(select(func.count()).select_from(RegisterCount)) == second
    got = _stored(s, TODAY)
    assert got[("enterprises", "", "state:reopened")] == 2
    assert got[("enterprises", "", "state:approved")] == 1
    assert got[("enterprises", "", "lagging")] == 1
    # Another day's rows are left alone.
    register_counts.snapshot_registers(s, TOMORROW)
    s.commit()
    assert s.scalar(select(func.count()).select_from(RegisterCount)) == 2 * second


def test_reg007_job_snapshots_the_local_day(db_url, tmp_path):
    settings = Settings(database_url=db_url, var_dir=tmp_path / "var", demo=False)
    with session_scope(db_url) as s:
        _register(s)
    # 16:30 UTC on 2 March is 00:30 on 3 March in Shanghai: the rows are the 3rd's.
    now = dt.datetime(2026, 3, 2, 16, 30, tzinfo=dt.UTC)
    run = jobs.run_job("snapshot_registers", settings=settings, now=now)
    assert run.status == "ok"
    with session_scope(db_url) as s:
        days = s.execute(select(RegisterCount.date, func.count()).group_by(RegisterCount.date))
        assert dict(days.all()) == {TOMORROW: run.rows}
        got = _stored(s, TOMORROW)
        assert got[("shops", "", "state:unreported")] == 5
        assert s.scalar(select(JobRun.status).where(JobRun.job_id == "snapshot_registers")) == "ok"
    assert jobs.JOBS["snapshot_registers"].expected_interval_s(settings) == 300


def test_reg008_job_rolls_site_counts_over_at_midnight(db_url, tmp_path):
    """A site's "arrivals today" and 14-day key-region counts move at midnight with no check-in
    file: the job recounts them, writes only the sites whose counts changed, and bumps sites."""
    from dashboard.models import DataVersion, SiteWorker

    settings = Settings(database_url=db_url, var_dir=tmp_path / "var", demo=False)
    with session_scope(db_url) as s:
        _areas(s)
        stale = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
        for site_id in ("W1", "W2"):
            # As recounted on 1 March: W1 had one arrival that day, a key-region one unchecked.
            s.add(
                ConstructionSite(
                    site_id=site_id, name=site_id, subdistrict_code=A, state="reopened",
                    headcount=0, new_arrivals_today=0, key_region_arrivals=0,
                    unchecked_arrivals=0, updated_at=stale,
                )
            )  # fmt: skip
        s.flush()
        s.add_all(
            [
                # arrived 1 March from a key region, unchecked: counts for 14 days (to 14 March)
                SiteWorker(id_number="420106199001011231", site_id="W1", name="甲",
                           home_province="湖北", arrived_on=dt.date(2026, 3, 1),
                           from_key_region=True, certificate_checked=None),
                # arrived 15 February from a key region: its 14 days end on 28 February
                SiteWorker(id_number="110105194912310021", site_id="W1", name="乙",
                           home_province="湖北", arrived_on=dt.date(2026, 2, 15),
                           from_key_region=True, certificate_checked=False),
            ]
        )  # fmt: skip
        s.execute(
            update(ConstructionSite)
            .where(ConstructionSite.site_id == "W1")
            .values(headcount=2, new_arrivals_today=1, key_region_arrivals=1, unchecked_arrivals=1)
        )
    # 00:30 on 2 March in Shanghai.
    now = dt.datetime(2026, 3, 1, 16, 30, tzinfo=dt.UTC)
    assert jobs.run_job("snapshot_registers", settings=settings, now=now).status == "ok"
    with session_scope(db_url) as s:
        w1, w2 = (s.get(ConstructionSite, k) for k in ("W1", "W2"))
        # Hand-counted for 2 March: 2 workers, none arrived today; the 1 March arrival is still
        # within its 14 days and unchecked; the 15 February one is out.
        assert (w1.headcount, w1.new_arrivals_today) == (2, 0)
        assert (w1.key_region_arrivals, w1.unchecked_arrivals) == (1, 1)
        assert w1.updated_at == now
        assert w2.updated_at == stale  # nothing changed there: not rewritten
        # The job bumped sites (its first version) before the recount, which stamped W1 only.
        assert s.get(DataVersion, "sites").version == 1
        assert (w1.sync_version, w2.sync_version) == (1, None)
        got = _stored(s, TODAY)
        assert got[("sites", "", "new_arrivals_today")] == 0
        assert got[("sites", "", "flagged")] == 1
    # A second run the same night changes nothing and bumps nothing.
    with session_scope(db_url) as s:
        before = s.get(DataVersion, "sites").version
    jobs.run_job("snapshot_registers", settings=settings, now=now + dt.timedelta(minutes=5))
    with session_scope(db_url) as s:
        assert s.get(DataVersion, "sites").version == before
        assert s.get(ConstructionSite, "W1").sync_version == 1


def test_reg009_checkins_count_only_on_their_day(register):
    """Check-ins are a count for one day (``checkins_on``): across midnight, yesterday's count
    is not today's."""
    for day in (YESTERDAY, TODAY, TOMORROW):
        register_counts.snapshot_registers(register, day)
    checkins = {
        day: {
            sub: _stored(register, day)[("enterprises", sub, "checkins_today")]
            for sub in ("", A, B)
        }
        for day in (YESTERDAY, TODAY, TOMORROW)
    }
    assert checkins == {
        YESTERDAY: {"": 4, A: 0, B: 4},  # E5's, counted on its day
        TODAY: {"": 5, A: 5, B: 0},  # E1's 5 (E2 and E6: 0 today)
        TOMORROW: {"": 0, A: 0, B: 0},  # after midnight nobody has checked in yet
    }
