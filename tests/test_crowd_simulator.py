"""The demo's pings make a plausible heatmap: a window adds up to the people present in the
district, and most of them sit in cells that pass the small-count rule, in all four levels."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from dashboard import crowd
from dashboard.config import Settings
from dashboard.db import session_scope
from dashboard.demo import build_demo, write_demo
from dashboard.feeds.simulator import _read_world, people_present, write_pings
from dashboard.ingest import load_inbox

TZ = ZoneInfo("Asia/Shanghai")


@pytest.fixture(scope="module")
def district():
    return build_demo(20200301)


@pytest.mark.parametrize(
    ("local", "people", "levels"),
    [
        # A Tuesday morning: offices full, Xujiahui busy; every level on the map.
        (
            dt.datetime(2026, 11, 17, 10, 0, tzinfo=TZ),
            1_290_000,
            {"blue", "green", "yellow", "red"},
        ),
        # 03:00: residents at home.
        (dt.datetime(2026, 11, 17, 3, 0, tzinfo=TZ), 1_080_000, {"blue", "green", "yellow"}),
    ],
)
def test_crowd070_a_simulated_window_adds_up_to_the_people_present(
    sqlite_url, tmp_path, district, local, people, levels
):
    settings = Settings(database_url=sqlite_url, var_dir=tmp_path / "var")
    with session_scope(sqlite_url) as session:
        write_demo(district, session=session)
    with session_scope(sqlite_url) as session:
        world = _read_world(session)
    start = local.astimezone(dt.UTC)
    rounds = settings.crowd_window_minutes * 60 // settings.simulator_interval_s
    for k in range(rounds):  # each round covers the interval before its time
        now = start + dt.timedelta(seconds=settings.simulator_interval_s * (k + 1) - 1)
        write_pings(settings, world, settings.inbox, now=now, tz=TZ)
    load_inbox(settings.inbox, session_factory=lambda: session_scope(sqlite_url))
    with session_scope(sqlite_url) as session:
        crowd.refresh(session=session, settings=settings, now=start + dt.timedelta(minutes=16))
    with session_scope(sqlite_url) as session:
        frame = crowd.crowd_frame(start, session=session, settings=settings)
    total = frame["count"].sum()
    assert total == pytest.approx(people, rel=0.02)
    assert total == pytest.approx(people_present(local, 1_113_078), rel=0.01)
    shown = frame[frame["visible"]]
    assert shown["count"].sum() / total > 0.9
    assert levels <= set(shown["level"])
