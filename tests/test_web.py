"""The web layer without a browser: callbacks called as functions, layouts built, the rules of
the project's shape (who imports whom, every ID once) checked."""

from __future__ import annotations

import ast
import datetime as dt
import json
from collections import Counter
from collections.abc import Iterator

import pytest
from dash import Patch, no_update
from dash.development.base_component import Component
from shapely import Point
from sqlalchemy import event
from sqlalchemy.exc import OperationalError
from test_web_support import (
    NOW,
    P111,
    P112,
    P211,
    RISK_DAY,
    S1,
    S2,
    import_app,
    use_as_app_database,
    write_small_risk,
)

from callbacks import ops as ops_callbacks
from callbacks import wall
from dashboard import figures, freshness, i18n, risk, versions
from dashboard.config import PROJECT_ROOT
from dashboard.db import get_engine, session_scope
from dashboard.models import (
    ConstructionSite,
    DisinfectionTask,
    Enterprise,
    EpidemicCount,
    IndicatorValue,
    MaskSupply,
    OfficeReturnees,
    RegisterCount,
    Shop,
)
from layouts.crowd import crowd_layout
from layouts.ids import KPI_TILES, Crowd, Ops, Risk, Wall
from layouts.ops import ops_layout
from layouts.risk import WeightField, risk_layout
from layouts.wall import wall_layout


@pytest.fixture
def app_db(db_url, monkeypatch) -> Iterator[str]:
    yield from use_as_app_database(db_url, monkeypatch)


@pytest.fixture
def risk_db(app_db) -> str:
    """The small district with its two scored days."""
    with session_scope(app_db) as session:
        write_small_risk(session)
    return app_db


# The compounds on the map, in its order, and their colour codes on RISK_DAY: P111 red, P112
# yellow, P211 blue with an incomplete score.
COMPOUNDS = [P111, P112, P211]
DAY_CODES = [3, 2, 4]


def _tr(lang):
    return lambda key: i18n.t(key, lang)


def _first_tick(monkeypatch, now=NOW):
    monkeypatch.setattr(wall, "utcnow", lambda: now)
    return wall.check_versions(0, None)


def _text(component) -> str:
    """All the text under a component (children strings, recursively)."""
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    if isinstance(component, Component):
        return _text(getattr(component, "children", None) or [])
    return ""


def _components(component) -> list[Component]:
    """Every component with an ID under ``component``."""
    found = []
    if isinstance(component, Component):
        if getattr(component, "id", None) is not None:
            found.append(component)
        found += _components(getattr(component, "children", None))
    elif isinstance(component, list | tuple):
        for child in component:
            found += _components(child)
    return found


def _ids(component) -> list[str]:
    """Every ID under a component; a pattern-matching ID counts by its type."""
    found = []
    if isinstance(component, Component):
        if getattr(component, "id", None) is not None:
            found.append(component.id["type"] if isinstance(component.id, dict) else component.id)
        found += _ids(getattr(component, "children", None))
    elif isinstance(component, list | tuple):
        for child in component:
            found += _ids(child)
    return found


# --------------------------------------------------------------------------- the tick


def test_web001_first_tick_names_every_dataset_then_nothing_changes(app_db, monkeypatch):
    store = _first_tick(monkeypatch)
    assert set(store["changed"]) >= set(versions.DATASETS)
    assert store["versions"]["work_orders"] == 1 and store["error"] is False
    assert store["updated_ms"]["pings"] == (NOW - dt.timedelta(minutes=1)).timestamp() * 1000
    assert wall.check_versions(1, store) is no_update


def test_web002_tick_names_only_the_dataset_that_moved(app_db, monkeypatch):
    store = _first_tick(monkeypatch)
    with session_scope(app_db) as s:
        versions.bump("work_orders", session=s, at=NOW)
    new = wall.check_versions(1, store)
    assert new["changed"] == ["work_orders"]
    assert new["versions"]["work_orders"] == 2
    assert wall.check_versions(2, new) is no_update


def test_web003_tick_reports_a_dataset_turning_late_without_new_data(app_db, monkeypatch):
    store = _first_tick(monkeypatch)
    assert "pings" not in store["late"]
    monkeypatch.setattr(wall, "utcnow", lambda: NOW + dt.timedelta(minutes=11))
    new = wall.check_versions(1, store)
    assert new["changed"] == ["pings"] and "pings" in new["late"]


def test_web004_tick_does_one_query(app_db, monkeypatch):
    store = _first_tick(monkeypatch)
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    engine = get_engine(app_db)
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert wall.check_versions(1, store) is no_update
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) == 1 and "data_versions" in statements[0]


def test_web005_database_down_marks_the_wall_stale_once_then_recovers(app_db, monkeypatch):
    store = _first_tick(monkeypatch)

    def down(*, session):
        raise OperationalError("select", {}, Exception("connection refused"))

    real = wall.versions.current
    monkeypatch.setattr(wall.versions, "current", down)
    failed = wall.check_versions(1, store)
    assert failed["error"] is True and failed["changed"] == []
    assert failed["versions"] == store["versions"]  # the last known data stays
    assert wall.check_versions(2, failed) is no_update  # no new store while still down
    monkeypatch.setattr(wall.versions, "current", real)
    recovered = wall.check_versions(3, failed)
    assert recovered["error"] is False and recovered["changed"] == []


# --------------------------------------------------------------------------- the panels


def _ops(patch: Patch) -> dict[tuple, object]:
    return {
        tuple(op["location"]): op["params"]["value"] for op in patch.to_plotly_json()["operations"]
    }


def test_web006_map_refresh_sends_band_values_not_geometry(risk_db, monkeypatch):
    store = {**_first_tick(monkeypatch), "changed": ["risk"]}
    patch = wall.refresh_map(store, "zh", {"w": 900, "h": 800})
    assert isinstance(patch, Patch)
    ops = _ops(patch)
    # Only each compound's colour code and edge: never geometry, names or scores.
    assert set(ops) == {("data", 0, "z"), ("data", 0, "marker", "line", "color")}
    assert ops[("data", 0, "z")] == DAY_CODES  # P111, P112, P211: the figure's order
    edges = ops[("data", 0, "marker", "line", "color")]
    assert edges == [figures.COMPOUND_EDGE, figures.COMPOUND_EDGE, figures.INCOMPLETE_EDGE]
    assert "geojson" not in str(patch.to_plotly_json())


def test_web007_map_full_figure_at_load_and_when_areas_change(risk_db, monkeypatch):
    store = _first_tick(monkeypatch)
    fig = wall.refresh_map(store, "en", {"w": 900, "h": 800})
    trace = fig["data"][0]
    assert trace["type"] == "choroplethmap"
    assert list(trace["locations"]) == COMPOUNDS
    assert trace["z"] == DAY_CODES
    assert trace["marker"]["line"]["color"][2] == figures.INCOMPLETE_EDGE
    assert len(trace["geojson"]["features"]) == 3
    layout = fig["layout"]
    # Committee, subdistrict and district outlines over the compounds.
    assert [layer["color"] for layer in layout["map"]["layers"]] == [
        figures.OUTLINE_COMMITTEE,
        figures.OUTLINE_SUBDISTRICT,
        figures.OUTLINE_DISTRICT,
    ]
    committees = {f["id"] for f in layout["map"]["layers"][0]["source"]["features"]}
    assert committees == {"310104001001", "310104001002", "310104002001"}  # not the virtual one
    assert layout["uirevision"]  # zoom and pan survive refreshes
    style = layout["map"]["style"]
    # No tile server, no token, no glyphs or sprites: nothing the browser would fetch.
    assert all(
        src["type"] == "geojson" and isinstance(src["data"], dict)
        for src in style["sources"].values()
    )
    # Our own layers only: the background and the stations' circles and names (GeoJSON).
    assert [layer["type"] for layer in style["layers"]] == ["background", "circle", "symbol"]
    assert not {"glyphs", "sprite"} & set(style)
    assert "http" not in json.dumps(fig, default=str)
    assert 121.40 < layout["map"]["center"]["lon"] < 121.46
    assert "Subdistrict" in trace["hovertemplate"]
    assert trace["customdata"][0] == ["甲小区", "一居委", "甲街道"]


def test_web007b_map_without_scores_shows_every_compound_unscored(app_db, monkeypatch):
    fig = wall.refresh_map(_first_tick(monkeypatch), "zh", None)
    assert fig["data"][0]["z"] == [0, 0, 0]


def test_web023_new_boundaries_keep_the_operators_view(app_db, monkeypatch):
    store = _first_tick(monkeypatch)
    relayout = {"map.center": {"lon": 121.41, "lat": 31.15}, "map.zoom": 14.5, "map.bearing": 0}
    fig = wall.refresh_map(store, "zh", {"w": 900, "h": 800}, relayout)
    assert fig["layout"]["map"]["zoom"] == 14.5
    assert fig["layout"]["map"]["center"] == {"lon": 121.41, "lat": 31.15}
    fitted = wall.refresh_map(store, "zh", {"w": 900, "h": 800}, {"autosize": True})
    assert fitted["layout"]["map"]["zoom"] < 14


def test_web008_map_ignores_datasets_it_does_not_show(app_db, monkeypatch):
    store = {**_first_tick(monkeypatch), "changed": ["shops", "pings", "work_orders"]}
    assert wall.refresh_map(store, "zh", None) is no_update


def test_web009_kpis_redraw_only_tiles_whose_dataset_changed(app_db, monkeypatch):
    store = _first_tick(monkeypatch)
    tiles = dict(zip(KPI_TILES, wall.refresh_kpis(store, "zh"), strict=True))
    assert all(value is not no_update for value in tiles.values())  # a reader for every tile
    assert _text(tiles[Wall.KPI_SUBDISTRICTS]) == "2"
    assert _text(tiles[Wall.KPI_RESIDENTS]) == "600"
    assert _text(tiles[Wall.KPI_ENTERPRISES]) == "2 / 4 50%"
    assert _text(tiles[Wall.KPI_SHOPS]) == "3 / 4 75%"
    assert _text(tiles[Wall.KPI_WORKERS]) == "70"
    assert _text(tiles[Wall.KPI_STATIONS]) == "3"
    assert _text(tiles[Wall.KPI_PINGS]) == "7"
    assert _text(tiles[Wall.KPI_WORK_ORDERS]) == "5"

    only_orders = wall.refresh_kpis({**store, "changed": ["work_orders"]}, "zh")
    updated = [
        tile for tile, value in zip(KPI_TILES, only_orders, strict=True) if value is not no_update
    ]
    assert updated == [Wall.KPI_WORK_ORDERS]
    assert all(v is no_update for v in wall.refresh_kpis({**store, "changed": ["risk"]}, "zh"))


def test_web010_a_late_dataset_marks_its_tiles(app_db, monkeypatch):
    store = {**_first_tick(monkeypatch), "changed": ["pings"], "late": ["pings"]}
    tiles = dict(zip(KPI_TILES, wall.refresh_kpis(store, "en"), strict=True))
    assert _text(tiles[Wall.KPI_PINGS]).endswith("late")


def test_web011_freshness_list(app_db, monkeypatch):
    """The feed list: each dataset's last write in the district's time, late ones marked and
    tagged with their dataset (live.js keeps the marking between writes; the header's status
    is live.js's, tested in tests/test_live.py)."""
    store = _first_tick(monkeypatch)
    items = wall.refresh_freshness(store, "zh")
    pings = next(i for i in items if "人流定位" in _text(i))
    assert "11-21 09:59" in _text(pings)  # Asia/Shanghai
    assert pings.className == "fresh-item"
    late = [i for i in items if "late" in i.className.split()]
    # indicators and station feeds were never written
    assert {"indicators", "station_flows"} <= {
        i.to_plotly_json()["props"]["data-datasets"] for i in late
    }
    assert wall.refresh_freshness(None, "zh") is no_update


def test_web012_ops_tables_show_no_raw_personal_data(app_db):
    freshness_table, jobs, batches, quarantine = ops_callbacks.refresh_ops(0, "en")
    assert "inbox unreadable" in _text(jobs)
    assert "pings-0955.csv" in _text(batches) and "rejected" in _text(batches)
    text = _text(quarantine)
    assert "bad_coordinate" in text and "lat 91.2 out of range" in text and "7" in text
    assert "310***********1234" not in str(quarantine)
    assert "Location pings" in _text(freshness_table)


# --------------------------------------------------------------------------- layouts and shape


@pytest.mark.parametrize("lang", i18n.LANGS)
def test_web013_layouts_build_and_declare_every_id_once(lang):
    wall = wall_layout(
        _tr(lang),
        lang=lang,
        timezone="Asia/Shanghai",
        refresh_ms=5000,
        crowd_thresholds=[10_000, 30_000, 60_000],
        crowd_min_count=10,
    )
    assert Counter(_ids(wall)) == Counter(set(Wall))
    page = crowd_layout(
        _tr(lang), lang=lang, thresholds=[10_000, 30_000, 60_000], min_count=10, refresh_ms=5000
    )
    assert Counter(_ids(page)) == Counter(set(Crowd))
    ops_ids = _ids(ops_layout(_tr(lang), lang=lang))
    assert Counter(ops_ids) == Counter(set(Ops))
    weights = [WeightField(f"k{n}", f"indicator {n}", 7.69) for n in range(13)]
    risk_ids = Counter(_ids(risk_layout(_tr(lang), lang=lang, weights=weights, model_note="")))
    assert risk_ids == Counter({**{i: 1 for i in Risk}, Risk.WEIGHT: 13})


def test_web013b_risk_page_with_an_invalid_model_explains_instead_of_weights():
    page = risk_layout(
        _tr("en"), lang="en", weights=[], model_note="", model_error="indicator 'x': weight"
    )
    assert Risk.WEIGHT not in _ids(page)
    assert "indicator 'x': weight" in _text(page)


def test_web014_every_id_value_is_unique_across_views():
    values = [member.value for view in (Wall, Ops, Risk, Crowd) for member in view]
    assert len(values) == len(set(values))


def test_web015_pages_take_the_language_from_the_url(app_db):
    app = import_app()
    english = _text(app.wall_page(lang="en"))
    assert "Key figures" in english and "核心指标" not in english
    assert "核心指标" in _text(app.wall_page())
    assert "核心指标" in _text(app.wall_page(lang="xx"))
    assert "Recent job runs" in _text(app.ops_page(lang="en"))
    risk_page = app.risk_page(lang="en")
    assert "What if the weights were different?" in _text(risk_page)
    assert "Model in force 2020.1" in _text(risk_page)
    weights = {c.id["key"]: c.value for c in _components(risk_page) if isinstance(c.id, dict)}
    assert weights["confirmed"] == 20 and weights["suspected"] == 13
    assert sum(weights.values()) == pytest.approx(100)


def _imports(path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
    return names


def _top(names: set[str]) -> set[str]:
    return {n.split(".")[0] for n in names}


@pytest.mark.parametrize("path", sorted(PROJECT_ROOT.glob("dashboard/**/*.py")), ids=str)
def test_web016_dashboard_never_imports_dash(path):
    # (The command line's `serve` imports app.py lazily: an entry point, not a dependency.)
    assert not (_top(_imports(path)) & {"dash", "layouts", "callbacks"})


@pytest.mark.parametrize("path", sorted(PROJECT_ROOT.glob("layouts/*.py")), ids=lambda p: p.name)
def test_web017_layouts_import_only_dash_and_layouts(path):
    assert not (_top(_imports(path)) & {"dashboard", "callbacks", "app", "sqlalchemy", "flask"})


@pytest.mark.parametrize("path", sorted(PROJECT_ROOT.glob("callbacks/*.py")), ids=lambda p: p.name)
def test_web018_callbacks_import_layout_ids_only(path):
    layout_modules = {n for n in _imports(path) if n.split(".")[0] == "layouts"}
    assert layout_modules <= {"layouts.ids"}


# --------------------------------------------------------------------------- pure pieces


def test_web019_fit_view_fits_and_scales_with_the_screen():
    bounds = (121.40, 31.14, 121.46, 31.22)
    center, z1080 = figures.fit_view(bounds, (940, 860))
    _, z2160 = figures.fit_view(bounds, (1880, 1720))
    assert z2160 == pytest.approx(z1080 + 1, abs=1e-3)  # twice the pixels: one zoom level more
    assert center["lon"] == pytest.approx(121.43)
    # The district is taller than wide here: at that zoom its height fills the usable height.
    height_px = 512 * 2**z1080 * (figures._mercator_y(31.14) - figures._mercator_y(31.22))
    assert height_px == pytest.approx(860 * 0.92, rel=1e-3)
    width_px = 512 * 2**z1080 * (0.06 / 360)
    assert width_px < 940 * 0.92


def test_web020_snapshot_diff():
    t = NOW
    current = {"pings": (3, t), "shops": (1, t - dt.timedelta(hours=3))}
    snap = freshness.snapshot(current, {"pings": 300, "shops": 3600}, now=t)
    assert snap["late"] == ["shops"]
    assert freshness.changed_datasets(snap, snap) == []
    moved = freshness.snapshot({**current, "pings": (4, t)}, {"pings": 300, "shops": 3600}, now=t)
    assert freshness.changed_datasets(snap, moved) == ["pings"]
    assert set(freshness.changed_datasets(None, snap)) >= set(versions.DATASETS)


def test_web020b_midnight_redraws_everything_without_a_data_change():
    current = {"pings": (3, NOW), "sites": (1, NOW)}
    before = dt.datetime(2026, 11, 21, 15, 59, 55, tzinfo=dt.UTC)  # 23:59:55 in Shanghai
    after = before + dt.timedelta(seconds=10)  # 00:00:05 the next day
    late_evening = freshness.snapshot(current, {}, now=before, timezone="Asia/Shanghai")
    just_before = freshness.snapshot(current, {}, now=before + dt.timedelta(seconds=4))
    next_day = freshness.snapshot(current, {}, now=after, timezone="Asia/Shanghai")
    assert freshness.changed_datasets(late_evening, just_before) == []
    assert set(freshness.changed_datasets(late_evening, next_day)) >= {"pings", "sites"}


def test_web021_map_values_line_up_with_locations():
    bands = {"c": ("red", True), "a": ("blue", False), "x": ("yellow", True)}
    z, edges = figures.risk_map_values(["a", "b", "c"], bands)
    assert z == [figures.risk_code("blue", False), 0, figures.risk_code("red")]
    assert edges == [figures.INCOMPLETE_EDGE, figures.COMPOUND_EDGE, figures.COMPOUND_EDGE]


@pytest.mark.parametrize(
    ("band", "complete", "color"),
    [
        ("red", True, "#e5484d"),
        ("yellow", True, "#f5c542"),
        ("blue", True, "#3b82f6"),
        ("red", False, figures.BAND_COLORS_INCOMPLETE["red"]),
        ("blue", False, figures.BAND_COLORS_INCOMPLETE["blue"]),
        (None, True, figures.NO_SCORE_COLOR),
    ],
)
def test_web021b_each_code_has_its_own_flat_colour(band, complete, color):
    code = figures.risk_code(band, complete)
    n = len(figures.RISK_COLORS)
    # zmin -0.5, zmax n - 0.5: code i sits in the middle of the i-th flat step.
    position = (code + 0.5) / n
    steps = figures.RISK_COLORSCALE
    inside = [
        c for (lo, c), (hi, _) in zip(steps[::2], steps[1::2], strict=True) if lo < position < hi
    ]
    assert inside == [color]


def test_web022_rescoring_a_day_changes_the_map_values(risk_db, monkeypatch):
    store = _first_tick(monkeypatch)
    with session_scope(risk_db) as s:
        # P112's confirmed case turns out a mistake: 41.6 - 20 = 21.6, blue.
        row = s.get(IndicatorValue, (RISK_DAY, P112, "confirmed"))
        row.value = 0
        risk.score_day(RISK_DAY, session=s, model=risk.load_model(), carry_days=2, now=NOW)
    new = wall.check_versions(1, store)
    assert new["changed"] == ["risk"]
    assert _ops(wall.refresh_map(new, "zh", None))[("data", 0, "z")] == [3, 1, 4]


# --------------------------------------------------------------------------- registers, overview

TODAY_LOCAL = dt.date(2026, 11, 21)  # NOW's day in Shanghai


def _overview_rows(url: str) -> None:
    """Hand-made figures on the small district for the registers panel and the overview tiles
    (the small district has sites G1 and G2, shops L1-L4, four enterprises)."""
    yesterday = TODAY_LOCAL - dt.timedelta(days=1)
    with session_scope(url) as s:
        # shops today: L1 open, L3 closed, L2 reported yesterday only, L4 never: 1 / 1 / 2
        s.get(Shop, "L1").open_on = TODAY_LOCAL
        s.get(Shop, "L3").open_on = TODAY_LOCAL
        s.get(Shop, "L2").open_on = yesterday
        for lid, x in (("L1", 121.41), ("L2", 121.42), ("L3", 121.415), ("L4", 121.45)):
            s.get(Shop, lid).geom = Point(x, 31.16)
        s.get(Enterprise, "91310104000000001X").labour_gap = {"电工": 3, "普工": 1}
        s.get(Enterprise, "91310104000000004X").labour_gap = {"电工": 2}
        s.get(Enterprise, "91310104000000001X").geom = Point(121.41, 31.17)
        s.get(Enterprise, "91310104000000004X").geom = Point(121.45, 31.17)
        g2 = s.get(ConstructionSite, "G2")
        g2.unchecked_arrivals, g2.key_region_arrivals, g2.geom = 2, 2, Point(121.44, 31.18)
        # yesterday's close: 3 shops open, 1 enterprise reopened (now 2), no sites
        for (register, metric), value in {
            ("shops", "state:open"): 3,
            ("enterprises", "state:reopened"): 1,
        }.items():
            s.add(
                RegisterCount(
                    date=yesterday,
                    register=register,
                    subdistrict_code="",
                    metric=metric,
                    value=value,
                )
            )
        s.add_all(
            [
                EpidemicCount(
                    date=TODAY_LOCAL, level="country", new_cases=350, current_cases=29000
                ),
                EpidemicCount(date=TODAY_LOCAL, level="city", new_cases=2, current_cases=150),
                EpidemicCount(date=yesterday, level="district", new_cases=0, current_cases=7),
                DisinfectionTask(
                    place_id="K1", due_on=yesterday, place_name="甲菜场", subdistrict_code=S1
                ),
                DisinfectionTask(
                    place_id="K2",
                    due_on=TODAY_LOCAL,
                    place_name="乙菜场",
                    subdistrict_code=S2,
                    done_at=NOW,
                ),
                DisinfectionTask(
                    place_id="K3", due_on=TODAY_LOCAL, place_name="丙菜场", subdistrict_code=S2
                ),
                MaskSupply(date=TODAY_LOCAL, subdistrict_code=S1, reserved=500, delivered=420),
                MaskSupply(date=yesterday, subdistrict_code=S1, reserved=300, delivered=300),
                OfficeReturnees(
                    date=TODAY_LOCAL - dt.timedelta(days=7),
                    building_id="B1",
                    building_name="甲大厦",
                    subdistrict_code=S1,
                    returnees=100,
                ),
                OfficeReturnees(
                    date=TODAY_LOCAL,
                    building_id="B1",
                    building_name="甲大厦",
                    subdistrict_code=S1,
                    returnees=340,
                ),
            ]
        )
        versions.bump("epidemic", "disinfection", "masks", "returnees", session=s, at=NOW)


@pytest.fixture
def overview_db(app_db) -> str:
    _overview_rows(app_db)
    return app_db


def test_web030_registers_redraw_only_the_register_that_changed(overview_db, monkeypatch):
    store = _first_tick(monkeypatch)
    out = wall.refresh_registers({**store, "changed": ["shops"]}, "zh")
    assert out[0] is no_update and out[1] is no_update  # enterprises
    assert out[4] is no_update and out[5] is no_update  # sites
    shops = _text(out[3])
    # open 1 (3 at yesterday's close: ▼2), closed 1, not reported 2
    assert "今日营业 1 ▼2" in shops and "今日未营业 1" in shops and "今日未报 2" in shops
    assert _text(out[2]) == "截至 09:50"  # the shops dataset was written at 01:50 UTC
    assert wall.refresh_registers({**store, "changed": ["pings"]}, "zh") == (no_update,) * 6


def test_web031_registers_panel_figures_and_flagged_site(overview_db, monkeypatch):
    out = wall.refresh_registers(_first_tick(monkeypatch), "en")
    ent, sites = _text(out[1]), _text(out[5])
    assert "Reopened 2 ▲1" in ent and "Approved 1" in ent  # no close for "approved": 0 then
    assert "电工 5" in ent and "普工 1" in ent  # 3 + 2 electricians
    assert "On site 70" in sites and "New today 4" in sites  # G1 50 + G2 20; 3 + 1
    assert "Unchecked arrivals 1" in sites and "二号工地" in sites and "乙街道" not in sites
    assert "乙" in sites  # the subdistrict's short name beside the site
    # counts only: no worker's name or ID number reaches the page
    assert "测试" not in json.dumps(out, default=str) and "X" not in sites.replace("▲", "")


def test_web032_register_map_patches_only_the_changed_registers_colours(overview_db, monkeypatch):
    store = _first_tick(monkeypatch)
    fig, drawn = wall.refresh_register_map(store, {"w": 300, "h": 280}, None)
    assert [t["type"] for t in fig["data"]] == ["scattermap"] * 3
    assert [t["name"] for t in fig["data"]] == ["enterprises", "shops", "sites"]
    shops = fig["data"][1]
    assert list(shops["lon"]) == [121.41, 121.42, 121.415, 121.45]
    assert list(shops["marker"]["color"]) == [3, 0, 4, 0]  # open, unreported, closed, never
    assert list(fig["data"][2]["marker"]["color"]) == [5]  # G2 flagged (G1 has no point)
    with session_scope(overview_db) as s:
        s.get(Shop, "L2").open_on = TODAY_LOCAL
        versions.bump("shops", session=s, at=NOW)
    tick = wall.check_versions(1, store)
    assert tick["changed"] == ["shops"]
    patch, same = wall.refresh_register_map(tick, {"w": 300, "h": 280}, drawn)
    assert same is no_update
    assert _ops(patch) == {("data", 1, "marker", "color"): [3, 3, 4, 0]}
    # another size: the whole figure again
    fig2, drawn2 = wall.refresh_register_map(tick, {"w": 600, "h": 560}, drawn)
    assert isinstance(fig2, dict) and drawn2 != drawn


def test_web033_overview_tiles_redraw_on_their_own_dataset(overview_db, monkeypatch):
    store = _first_tick(monkeypatch)
    assert wall.refresh_epidemic({**store, "changed": ["masks"]}, "zh") == (no_update, no_update)
    when, table = wall.refresh_epidemic(store, "zh")
    assert _text(when) == "11-21"
    text = _text(table)
    assert "全国 350 29,000" in text and "全市 2 150" in text
    assert "本区 11-20 0 7" in text  # the district's newest report is a day older: marked
    when, tile = wall.refresh_disinfection(store, "zh")
    # due today K2, K3 (K2 done); K1 due yesterday and not done: overdue
    assert _text(tile) == "1 / 2 逾期 1" and _text(when) == "截至 10:00"
    _, masks = wall.refresh_masks(store, "en")
    assert _text(masks) == "420 / 500 7 days: 720 / 800"
    _, rows = wall.refresh_returnees(store, "zh")
    assert _text(rows) == "1 甲大厦 甲 340 +240 7天"
    _, home = wall.refresh_home_observation(store, "zh")
    assert _text(home) == "暂无数据"
