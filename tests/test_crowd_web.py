"""The crowd heatmap on the web, without a browser: the crowd reads (on SQLite and PostgreSQL),
the wall's crowd panel and the /crowd page's callbacks called as functions, on the small
district (tests/test_web_support) with hand-made windows whose every number is known.

The grid is the configured one (origin 121.38, 31.10; 250 m): the small district's outline
(121.40-121.46, 31.14-31.22) is covered by columns 7-30 and rows 17-53, 888 cells. In the main
window W (09:45-10:00 in Shanghai):

    cell      people  pings  density/km²  level
    15:44      5000   5000     80,000     red  ┐ one red area (17:45 touches 16:44 by a
    16:44      5000   5000     80,000     red  │ corner), at 甲站 (ST1, 121.42 31.20), about
    15:45      5000   5000     80,000     red  │ 300 m away; committee 二居委's label point is
    17:45      5000   5000     80,000     red  ┘ nearer, but a station within 500 m names it
    23:22      4000   4000     64,000     red    alone, next to 丙小区's label point
    20:30      5000      5     80,000     (red) hidden: 5 pings stand for 5,000 people
    10:20      2000   2000     32,000     yellow
    11:20      2000   2000     32,000     yellow
    25:50      1000   1000     16,000     green
    8:18        100    100      1,600     blue
    9:18          9      9        144     hidden: fewer than k = 10
    9:19         10     10        160     blue (exactly k: shown)
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from dash import Patch, no_update
from dash.development.base_component import Component
from plotly.utils import PlotlyJSONEncoder
from sqlalchemy import update
from test_web_support import (
    C11,
    C12,
    NOW,
    P111,
    P112,
    P211,
    S1,
    import_app,
    use_as_app_database,
    write_crowd_window,
)

from callbacks import crowd as crowd_callbacks
from callbacks import wall
from dashboard import crowd, figures, queries
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.models import Area

W0 = NOW - dt.timedelta(minutes=30)  # 09:30-09:45 in Shanghai
W = NOW - dt.timedelta(minutes=15)  # 09:45-10:00: the newest window that has ended at NOW
RUNNING = NOW  # 10:00-10:15: still running at NOW, never shown

RED_A = ["15:44", "16:44", "15:45", "17:45"]
RED_B = "23:22"
HIDDEN_RED = "20:30"
YELLOW = ["10:20", "11:20"]
GREEN = "25:50"
BLUE = "8:18"
UNDER_K = "9:18"
EXACTLY_K = "9:19"

MAIN: dict[str, tuple[float, int]] = {
    **{c: (5000.0, 5000) for c in RED_A},
    RED_B: (4000.0, 4000),
    HIDDEN_RED: (5000.0, 5),
    **{c: (2000.0, 2000) for c in YELLOW},
    GREEN: (1000.0, 1000),
    BLUE: (100.0, 100),
    UNDER_K: (9.0, 9),
    EXACTLY_K: (10.0, 10),
}
# The window before: area A was only yellow, and the hidden cell was shown (50 pings, green).
BEFORE: dict[str, tuple[float, int]] = {
    **{c: (2000.0, 2000) for c in RED_A},
    HIDDEN_RED: (800.0, 50),
}
# Label points: 二居委's is at area A's centre, nearer than the station.
LABELS = {
    P111: (121.411, 31.151),
    P112: (121.416, 31.151),
    P211: (121.441, 31.151),
    C11: (121.415, 31.160),
    C12: (121.4226, 31.2015),
}
SHOWN = {**{c: "red" for c in [*RED_A, RED_B]}, **{c: "yellow" for c in YELLOW}}
SHOWN |= {GREEN: "green", BLUE: "blue", EXACTLY_K: "blue"}


@pytest.fixture
def app_db(db_url, monkeypatch) -> Iterator[str]:
    yield from use_as_app_database(db_url, monkeypatch)


@pytest.fixture
def crowd_db(app_db, monkeypatch) -> str:
    """The small district with label points and three crowd windows; the clock at NOW."""
    with session_scope(app_db) as session:
        for code, (lon, lat) in LABELS.items():
            session.execute(
                update(Area).where(Area.code == code).values(label_lon=lon, label_lat=lat)
            )
        write_crowd_window(session, W0, BEFORE, at=W0 + dt.timedelta(minutes=16))
        write_crowd_window(session, W, MAIN, at=W + dt.timedelta(minutes=16))
        write_crowd_window(session, RUNNING, {GREEN: (4000.0, 4000)}, at=NOW)
    for cache in (crowd_callbacks.grid_cells, crowd_callbacks.named_places):
        cache.cache_clear()
    crowd_callbacks.crowd_base.cache_clear()
    monkeypatch.setattr(wall, "utcnow", lambda: NOW)
    monkeypatch.setattr(crowd_callbacks, "utcnow", lambda: NOW)
    return app_db


def _grid() -> crowd.Grid:
    return crowd.grid_from_settings(get_settings())


def _cells() -> list[str]:
    return list(crowd_callbacks.grid_cells(get_settings().database_url, _scope(), None, _grid()))


def _scope() -> queries.AreaScope:
    return queries.AreaScope.whole_district()


def _first_tick():
    return wall.check_versions(0, None)


def _text(component) -> str:
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    if isinstance(component, Component):
        return _text(getattr(component, "children", None) or [])
    return ""


def _ops(patch: Patch) -> dict[tuple, object]:
    return {
        tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]
    }


def _json(obj) -> str:
    if isinstance(obj, Patch):
        obj = obj.to_plotly_json()
    return json.dumps(obj, cls=PlotlyJSONEncoder)


# --------------------------------------------------------------------------- the reads


def test_crowdweb001_the_grid_over_the_small_district(crowd_db):
    with session_scope(crowd_db) as s:
        cells = queries.crowd_cells_covering(_grid(), session=s, scope=_scope())
    ix, iy = _grid().parse(cells)
    assert (ix.min(), ix.max(), iy.min(), iy.max()) == (7, 30, 17, 53)
    assert len(cells) == 24 * 37
    assert list(np.lexsort((ix, iy))) == list(range(len(cells)))  # south to north, west to east
    assert set(MAIN) <= set(cells)


def test_crowdweb002_newest_ended_window_and_the_last_windows(crowd_db):
    with session_scope(crowd_db) as s:
        newest = queries.latest_crowd_window(session=s, scope=_scope(), now=NOW, window_minutes=15)
        assert newest == W  # the running window (10:00) is left out
        windows = queries.crowd_windows(
            session=s, scope=_scope(), since=NOW - dt.timedelta(hours=24), until=newest
        )
    assert windows == [W0, W]


def test_crowdweb003_a_window_in_scope(crowd_db):
    with session_scope(crowd_db) as s:
        whole = queries.crowd_window(W, session=s, scope=_scope(), grid=_grid())
        s1 = queries.scope_of([S1], session=s)
        part = queries.crowd_window(W, session=s, scope=s1, grid=_grid())
    assert set(whole["cell_id"]) == set(MAIN)
    # S1 is the western half (121.40-121.43): columns 7 to 19.
    assert set(part["cell_id"]) == {*RED_A, *YELLOW, BLUE, UNDER_K, EXACTLY_K}
    assert queries.shown_levels(whole) == SHOWN
    assert HIDDEN_RED not in queries.shown_densities(whole)
    assert queries.shown_densities(whole)[GREEN] == pytest.approx(16_000)


def test_crowdweb004_level_totals_count_shown_cells_only(crowd_db):
    with session_scope(crowd_db) as s:
        frame = queries.crowd_window(W, session=s, scope=_scope(), grid=_grid())
    totals = queries.crowd_level_totals(frame)
    # The hidden cell would be red at 80,000/km², but its 5,000 people are not counted: with it
    # the red total would give away what the map hides.
    assert totals["red"] == queries.LevelTotal(24_000, 5)
    assert totals["yellow"] == queries.LevelTotal(4_000, 2)
    assert totals["green"] == queries.LevelTotal(1_000, 1)
    assert totals["blue"] == queries.LevelTotal(110, 2)


def test_crowdweb005_a_cells_history_hides_its_small_windows(crowd_db):
    with session_scope(crowd_db) as s:
        history = queries.crowd_cell_history(
            HIDDEN_RED, session=s, scope=_scope(), grid=_grid(), since=W0, until=W
        )
        s1 = queries.scope_of([S1], session=s)
        outside = queries.crowd_cell_history(
            HIDDEN_RED, session=s, scope=s1, grid=_grid(), since=W0, until=W
        )
        inside = queries.crowd_cell_history(
            RED_A[0], session=s, scope=s1, grid=_grid(), since=W0, until=NOW
        )
    assert [(p.window_start, p.density_km2, p.level) for p in history] == [
        (W0, pytest.approx(12_800), "green"),
        (W, None, None),  # 5 pings: not shown, not even as a number
    ]
    assert outside == []  # a cell outside the caller's scope has no history for them
    assert [p.level for p in inside] == ["yellow", "red"]


def test_crowdweb006_named_places_in_scope(crowd_db):
    with session_scope(crowd_db) as s:
        every = queries.named_places(session=s, scope=_scope())
        s1 = queries.scope_of([S1], session=s)
        part = queries.named_places(session=s, scope=s1)
    assert {(p.kind, p.code) for p in every} == {
        ("metro", "ST1"),
        ("metro", "ST2"),
        ("railway", "ST3"),
        *(("compound", c) for c in (P111, P112, P211)),
        *(("committee", c) for c in (C11, C12)),
    }
    assert {p.code for p in part} == {"ST1", P111, P112, C11, C12}


# --------------------------------------------------------------------------- red areas (pure)


def _place(kind, code, lon, lat, name=None):
    return queries.NamedPlace(kind, code, name or code, None, lon, lat)


def _frame(cells: dict[str, tuple[float, int]]) -> pd.DataFrame:
    grid = _grid()
    frame = pd.DataFrame(
        [(c, p, o, p / grid.cell_area_km2) for c, (p, o) in cells.items()],
        columns=["cell_id", "count", "observations", "density_km2"],
    )
    frame["level"] = crowd.level_of(frame["density_km2"].to_numpy(), [10_000, 30_000, 60_000])
    frame["visible"] = crowd.visible(frame, 10).to_numpy()
    return frame


def test_crowdweb010_red_areas_are_groups_of_touching_cells_named_by_a_near_place(app_db):
    grid = _grid()
    station = _place("metro", "ST1", 121.42, 31.20, "甲站")
    committee = _place("committee", C12, *LABELS[C12])
    compound = _place("compound", P211, *LABELS[P211])
    areas = queries.red_areas(_frame(MAIN), grid, [station, committee, compound], limit=5)
    assert [a.cells for a in areas] == [tuple(sorted(RED_A)), (RED_B,)]
    a, b = areas
    assert a.people == 20_000 and a.area_km2 == pytest.approx(0.25)
    # The people-weighted centre of area A: three cells in column 15-17 of rows 44-45.
    lon, lat = grid.centres(RED_A)
    assert (a.lon, a.lat) == pytest.approx((lon.mean(), lat.mean()))
    # 二居委's label is at the centre and 甲站 ~300 m away: the station names it.
    assert a.place == station and 250 < a.distance_m < 350
    # Area B has no station within 500 m: the nearest place of any kind.
    assert b.place == compound and b.distance_m < 100
    assert HIDDEN_RED not in {c for area in areas for c in area.cells}
    assert queries.red_areas(_frame(MAIN), grid, [station], limit=1) == areas[:1]


@pytest.mark.parametrize(
    ("cells", "groups"),
    [
        (["1:1", "2:2"], [("1:1", "2:2")]),  # corners touch: one area
        (["1:1", "3:1"], [("1:1",), ("3:1",)]),  # a cell apart: two areas
        (["1:1", "1:2", "5:5", "1:3"], [("1:1", "1:2", "1:3"), ("5:5",)]),  # largest first
        (["-1:0", "0:0"], [("-1:0", "0:0")]),  # negative indices are cells like any other
    ],
)
def test_crowdweb011_red_area_grouping(app_db, cells, groups):
    frame = _frame({c: (5000.0, 5000) for c in cells})
    areas = queries.red_areas(frame, _grid(), [], limit=5)
    assert [a.cells for a in areas] == groups
    assert all(a.place is None and a.distance_m is None for a in areas)


def test_crowdweb012_nearest_place_rule(app_db):
    near_compound = _place("compound", "P", 121.4201, 31.2001)
    station = _place("railway", "S", 121.4240, 31.2000)  # ~380 m east
    far_station = _place("metro", "F", 121.4300, 31.2000)  # ~960 m east
    assert queries.nearest_place(121.42, 31.20, []) is None
    place, metres = queries.nearest_place(121.42, 31.20, [near_compound, station])
    assert place is station and metres == pytest.approx(380, abs=5)
    place, metres = queries.nearest_place(121.42, 31.20, [near_compound, far_station])
    assert place is near_compound and metres < 20


# --------------------------------------------------------------------------- the wall's panel


def test_crowdweb020_wall_panel_redraws_only_when_crowd_or_areas_change(crowd_db):
    store = _first_tick()
    figure, drawn, *_ = crowd_callbacks.refresh_wall_crowd(store, "zh", {"w": 400, "h": 520})
    assert isinstance(figure, dict) and drawn is not no_update
    for others in (["work_orders"], ["risk", "pings", "indicators"], []):
        quiet = crowd_callbacks.refresh_wall_crowd(
            {**store, "changed": others}, "zh", {"w": 400, "h": 520}, drawn
        )
        assert quiet == (no_update,) * 5
    crowd_only = {**store, "changed": ["crowd"]}
    patch, same, *panel = crowd_callbacks.refresh_wall_crowd(
        crowd_only, "zh", {"w": 400, "h": 520}, drawn
    )
    assert isinstance(patch, Patch) and same is no_update
    assert all(part is not no_update for part in panel)


def test_crowdweb021_refresh_sends_level_codes_never_geometry_or_hidden_cells(crowd_db):
    store = _first_tick()
    size = {"w": 400, "h": 520}
    _, drawn, *_ = crowd_callbacks.refresh_wall_crowd(store, "zh", size)
    changed = {**store, "changed": ["crowd"]}
    patch, *_ = crowd_callbacks.refresh_wall_crowd(changed, "zh", size, drawn)
    ops = _ops(patch)
    assert set(ops) == {("data", 0, "z")}  # values only: no geometry, no counts, no names
    z = dict(zip(_cells(), ops[("data", 0, "z")], strict=True))
    codes = {level: i for i, level in enumerate(crowd.LEVELS)}
    assert {c: v for c, v in z.items() if v is not None} == {
        c: codes[level] for c, level in SHOWN.items()
    }
    assert z[HIDDEN_RED] is None and z[UNDER_K] is None
    sent = _json(patch)
    assert "geojson" not in sent and "coordinates" not in sent
    assert len(sent) < 10_000  # 888 small integers or nulls
    assert "5000" not in sent and "80000" not in sent  # no count, no density


def test_crowdweb022_full_figure_at_load_carries_the_squares_once(crowd_db):
    store = _first_tick()
    figure, drawn, *_ = crowd_callbacks.refresh_wall_crowd(store, "en", {"w": 400, "h": 520})
    trace = figure["data"][0]
    assert trace["type"] == "choroplethmap"
    assert list(trace["locations"]) == _cells()
    features = trace["geojson"]["features"]
    assert [f["id"] for f in features] == _cells()
    west, south = features[0]["geometry"]["coordinates"][0][0]
    assert (west, south) == pytest.approx((121.38 + 7 / 381.6178, 31.10 + 17 / 443.4847), abs=1e-5)
    assert trace["hoverinfo"] == "skip"  # the wall has no mouse; nothing to hover
    assert "text" not in trace
    z = dict(zip(_cells(), trace["z"], strict=True))
    assert z[HIDDEN_RED] is None and z[RED_A[0]] == 3
    layout = figure["layout"]
    assert layout["uirevision"] and layout["map"]["zoom"] > 10
    assert {layer["color"] for layer in layout["map"]["layers"]} == {
        figures.OUTLINE_COMMITTEE,
        figures.OUTLINE_SUBDISTRICT,
        figures.OUTLINE_DISTRICT,
    }
    assert "http" not in _json(figure)  # the offline style: no tiles, glyphs or sprites
    assert drawn == {"areas": 1, "grid": [121.38, 31.10, 250.0], "size": [400, 520]}
    # The hidden cell's numbers appear nowhere in what the page receives.
    assert not {"text", "customdata"} & set(trace)


def test_crowdweb023_the_view_survives_a_new_geometry(crowd_db):
    store = _first_tick()
    relayout = {"map.center": {"lon": 121.42, "lat": 31.2}, "map.zoom": 15.5}
    figure, *_ = crowd_callbacks.refresh_wall_crowd(
        store, "zh", {"w": 400, "h": 520}, {"areas": 0}, relayout
    )
    assert figure["layout"]["map"]["zoom"] == 15.5
    assert figure["layout"]["map"]["center"] == {"lon": 121.42, "lat": 31.2}


def test_crowdweb024_wall_panel_says_when_how_many_and_where(crowd_db):
    store = _first_tick()
    _, _, when, people, areas = crowd_callbacks.refresh_wall_crowd(store, "zh", None)
    assert _text(when) == "截至 10:00"  # the window 09:45-10:00 in Shanghai
    tiles = _text(people)
    assert "黄色网格人数 4,000" in tiles and "红色网格人数 24,000" in tiles
    rows = [_text(row) for row in areas]
    assert rows == ["1 甲站附近 20,000 人", "2 丙小区附近 4,000 人"]
    _, _, when, people, areas = crowd_callbacks.refresh_wall_crowd(store, "en", None)
    assert _text(when) == "as of 10:00"
    assert [_text(row) for row in areas][0] == "1 near 甲站 20,000 people"  # no name_en


def test_crowdweb025_a_late_feed_is_marked(crowd_db):
    store = {**_first_tick(), "late": ["crowd"]}
    _, _, when, *_ = crowd_callbacks.refresh_wall_crowd(store, "en", None)
    assert _text(when) == "as of 10:00 late"


def test_crowdweb026_no_crowd_data_yet(app_db, monkeypatch):
    monkeypatch.setattr(wall, "utcnow", lambda: NOW)
    monkeypatch.setattr(crowd_callbacks, "utcnow", lambda: NOW)
    crowd_callbacks.crowd_base.cache_clear()
    crowd_callbacks.grid_cells.cache_clear()
    store = _first_tick()
    figure, _, when, people, areas = crowd_callbacks.refresh_wall_crowd(store, "zh", None)
    assert set(figure["data"][0]["z"]) == {None}
    # Never written is late (docs/web.md): the badge says so.
    assert _text(when) == "— 迟到" and _text(people) == "暂无人群数据" and areas == []


# --------------------------------------------------------------------------- the /crowd page


def test_crowdweb030_windows_load_once_per_version_and_the_slider_follows_the_newest(
    crowd_db, monkeypatch
):
    store, top, marks, value = crowd_callbacks.load_windows(0, None, None)
    assert store["windows"] == [W0.isoformat(), W.isoformat()]
    assert (top, value) == (1, 1)
    assert marks == {1: "09:45"}
    # Nothing new: one version query, nothing sent.
    assert crowd_callbacks.load_windows(1, store, 1) == (no_update,) * 4
    later = NOW + dt.timedelta(minutes=15)
    monkeypatch.setattr(crowd_callbacks, "utcnow", lambda: later)
    with session_scope(crowd_db) as s:
        write_crowd_window(s, RUNNING, {GREEN: (4500.0, 4500)}, at=later)
    newer, top, _, value = crowd_callbacks.load_windows(2, store, 1)
    assert newer["windows"][-1] == RUNNING.isoformat() and (top, value) == (2, 2)
    # Someone looking at an older window stays on it when a new one arrives.
    with session_scope(crowd_db) as s:
        write_crowd_window(s, RUNNING, {GREEN: (4600.0, 4600)}, at=later)
    _, _, _, value = crowd_callbacks.load_windows(3, newer, 0)
    assert value == 0


def test_crowdweb031_slider_marks_every_four_hours_and_the_newest():
    start = dt.datetime(2026, 11, 20, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
    windows = [start + dt.timedelta(minutes=15 * n) for n in range(96)]
    marks = crowd_callbacks.slider_marks(windows)
    assert marks == {
        8: "12:00",
        24: "16:00",
        40: "20:00",
        56: "00:00",
        72: "04:00",
        88: "08:00",
        95: "09:45",
    }
    assert 89 not in crowd_callbacks.slider_marks(windows[:90])  # too near 08:00's mark


def test_crowdweb032_a_window_on_the_page_patches_codes_and_hover_densities(crowd_db):
    store, *_ = crowd_callbacks.load_windows(0, None, None)
    size = {"w": 900, "h": 720}
    figure, drawn, label, people, areas = crowd_callbacks.show_window(1, store, size, "zh")
    trace = figure["data"][0]
    assert "hovertemplate" in trace and len(trace["text"]) == len(_cells())
    assert label == "2026-11-21 09:45–10:00"
    assert _text(areas[0]) == "1 甲站附近 地铁站 0.25 平方公里 20,000 人"  # the kind and size too
    assert "5 个网格" in _text(people)
    patch, same, label, *_ = crowd_callbacks.show_window(0, store, size, "zh", drawn)
    assert same is no_update and label == "2026-11-21 09:30–09:45"
    ops = _ops(patch)
    assert set(ops) == {("data", 0, "z"), ("data", 0, "text")}
    z = dict(zip(_cells(), ops[("data", 0, "z")], strict=True))
    text = dict(zip(_cells(), ops[("data", 0, "text")], strict=True))
    assert z[RED_A[0]] == 2 and text[RED_A[0]] == "32,000"  # yellow at 09:30
    assert z[HIDDEN_RED] == 1 and text[HIDDEN_RED] == "12,800"  # shown then: 50 pings
    patch, *_ = crowd_callbacks.show_window(1, store, size, "zh", drawn)
    text = dict(zip(_cells(), _ops(patch)[("data", 0, "text")], strict=True))
    assert text[HIDDEN_RED] == "" and text[UNDER_K] == "" and text[EXACTLY_K] == "200"
    assert [c for c, v in text.items() if v == "80,000"] == RED_A  # in the grid's order


def test_crowdweb033_before_the_windows_are_read_nothing_is_drawn(crowd_db):
    assert crowd_callbacks.show_window(None, None, None, "zh") == (no_update,) * 5


def test_crowdweb034_a_click_on_a_cell_shows_its_24_hours(crowd_db):
    assert crowd_callbacks.pick_cell({"points": [{"location": HIDDEN_RED}]}) == HIDDEN_RED
    assert crowd_callbacks.pick_cell({"points": []}) is no_update
    store, *_ = crowd_callbacks.load_windows(0, None, None)
    title, figure = crowd_callbacks.show_cell(HIDDEN_RED, store, "en")
    assert "Cell 20:30" in _text(title) and "Gaps: no data, or fewer than 10" in _text(title)
    line = figure.data[-1]
    assert list(line.y) == [12_800, None]  # the 10:00 window is hidden, not zero
    assert [x.strftime("%H:%M") for x in line.x] == ["09:30", "09:45"]  # local times
    dashed = [s for s in figure.layout.shapes if s.line.dash == "dash"]
    assert sorted(s.y0 for s in dashed) == [10_000, 30_000, 60_000]
    title, _ = crowd_callbacks.show_cell(RED_A[0], store, "zh")
    assert "甲站附近" in _text(title)
    prompt, blank = crowd_callbacks.show_cell(None, store, "zh")
    assert "请点击地图上的一个网格" in _text(prompt) and blank["data"] == []


def test_crowdweb035_the_legend_states_the_configured_thresholds_on_every_page(
    crowd_db, monkeypatch
):
    monkeypatch.setenv("DASHBOARD_CROWD_THRESHOLDS_KM2", "[5000, 20000, 45000]")
    monkeypatch.setenv("DASHBOARD_CROWD_MIN_COUNT", "25")
    get_settings.cache_clear()
    app = import_app()

    def legend(page) -> list[str]:
        found = []

        def walk(c):
            if isinstance(c, Component):
                if "crowd-legend" in (getattr(c, "className", "") or ""):
                    found.append(" ".join(_text(c).split()))
                walk(getattr(c, "children", None))
            elif isinstance(c, list | tuple):
                for child in c:
                    walk(child)

        walk(page)
        return found

    wall_legend = legend(app.wall_page(lang="en"))
    page_legend = legend(app.crowd_page(lang="en"))
    assert wall_legend == page_legend == [
        "Blue, sparse: < 5,000 Green, moderate: 5,000–20,000 Yellow, busy: 20,000–45,000 "
        "Red, dense: ≥ 45,000"
    ]
    assert "cells under 25 hidden" in _text(app.wall_page(lang="en"))
    assert "fewer than 25 people" in _text(app.crowd_page(lang="en"))
    get_settings.cache_clear()
