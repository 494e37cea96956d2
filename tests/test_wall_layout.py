"""The wall as a kiosk: its views and their rotation, in settings, URL and a real browser.

Unit tests: the rotation settings' validation (DASHBOARD_WALL_ROTATE_S, DASHBOARD_WALL_VIEWS),
the URL's ``?rotate=&views=`` over them (bad values fall back, logged), and the attributes the
page gives assets/rotate.js. Browser tests (headless Chromium, the app in a subprocess on the
demo district, built once for the module): every view without scrollbars or cut-off text at
1920×1080 and 3840×2160 with its maps fitted to the whole district, the rotation
``?rotate=5&views=risk,crowd`` with the header's clock the same DOM node throughout, no rotation
by default, and a bad URL falling back to the configuration. The three resolutions of the
overview are tests/test_browser.py::test_browser001. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import ValidationError
from test_browser import (
    OVERFLOW_JS,
    _free_port,
    _severe,
    _viewport,
    _wait,
    chrome,
    demo_url,  # noqa: F401 (the fixture: the same demo district as test_browser's)
    start_app,
    stop_app,
)

from dashboard.config import PROJECT_ROOT, WALL_VIEWS, Settings

ARTIFACTS = PROJECT_ROOT / "test-artifacts"

# The panels each view shows (layouts/wall.py class names); the others are hidden.
VIEW_PANELS = {
    "overview": (
        "kpi-panel",
        "ov-panel",
        "fresh-panel",
        "map-panel",
        "station-panel",
        "reg-panel",
        "risk-panel",
        "crowd-panel",
    ),
    "risk": ("map-panel", "risk-panel"),
    "crowd": ("crowd-panel",),
    "registers": ("reg-panel",),
    "station": ("station-panel",),
}
VIEW_MAPS = {
    "overview": ("wall-map", "wall-crowd-map", "wall-reg-map"),
    "risk": ("wall-map",),
    "crowd": ("wall-crowd-map",),
    "registers": ("wall-reg-map",),
    "station": (),
}


# --------------------------------------------------------------------------- settings


@pytest.mark.parametrize("seconds", [0, 5, 30, 3600])
def test_layout001_rotate_seconds_accepted(seconds):
    assert Settings(wall_rotate_s=seconds).wall_rotate_s == seconds


@pytest.mark.parametrize("seconds", [1, 4, -5])
def test_layout002_rotate_seconds_refused_with_the_rule(seconds):
    with pytest.raises(ValidationError, match="0 \\(no rotation\\) or at least 5 seconds"):
        Settings(wall_rotate_s=seconds)


@pytest.mark.parametrize(
    ("env", "views"),
    [
        ("risk,crowd", ["risk", "crowd"]),
        (" Station , overview ", ["station", "overview"]),
        ('["registers", "risk"]', ["registers", "risk"]),
        ("overview,risk,overview,crowd", ["overview", "risk", "overview", "crowd"]),
    ],
)
def test_layout003_views_from_the_environment(monkeypatch, env, views):
    monkeypatch.setenv("DASHBOARD_WALL_VIEWS", env)
    assert Settings().wall_views == views


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ("risk,heatmap", "unknown: heatmap"),
        ("", "none given"),
        ("[]", "none given"),
        (" , ", "none given"),
    ],
)
def test_layout004_bad_views_refused_with_a_clear_message(monkeypatch, env, message):
    monkeypatch.setenv("DASHBOARD_WALL_VIEWS", env)
    with pytest.raises(ValidationError) as err:
        Settings()
    text = str(err.value)
    assert message in text
    assert "overview, risk, crowd, registers, station" in text  # what is allowed


def test_layout005_defaults_no_rotation_all_views():
    s = Settings()
    assert s.wall_rotate_s == 0
    assert s.wall_views == ["overview", "risk", "crowd", "registers", "station"]


# --------------------------------------------------------------------------- the URL


@pytest.fixture
def app_module():
    import app

    return app


@pytest.mark.parametrize(
    ("rotate", "views", "expected"),
    [
        (None, None, (0, ("overview", "risk", "crowd", "registers", "station"))),
        ("30", "risk,crowd", (30, ("risk", "crowd"))),
        ("5", None, (5, ("overview", "risk", "crowd", "registers", "station"))),
        ("0", "station", (0, ("station",))),
        (None, ["risk", "crowd"], (0, ("risk", "crowd"))),  # ?views=risk&views=crowd
    ],
)
def test_layout006_url_overrides_the_configuration(app_module, rotate, views, expected):
    assert app_module.wall_rotation(rotate, views, Settings()) == expected


@pytest.mark.parametrize(
    ("rotate", "views", "logged"),
    [
        ("abc", None, "?rotate='abc'"),
        ("3", None, "?rotate='3'"),
        ("-10", None, "?rotate='-10'"),
        ("7.5", None, "?rotate='7.5'"),
        (["5", "6"], None, "?rotate=['5', '6']"),
        (None, "risk,nope", "?views='risk,nope'"),
        (None, "", "?views=''"),
        (None, ",", "?views=','"),
    ],
)
def test_layout007_bad_url_values_fall_back_with_a_warning(
    app_module, caplog, rotate, views, logged
):
    configured = Settings(wall_rotate_s=20, wall_views=["crowd", "station"])
    with caplog.at_level(logging.WARNING, logger="app"):
        got = app_module.wall_rotation(rotate, views, configured)
    assert got == (20, ("crowd", "station"))
    assert logged in caplog.text and "ignoring" in caplog.text


def test_layout008_good_part_of_a_url_kept_when_the_other_is_bad(app_module, caplog):
    with caplog.at_level(logging.WARNING, logger="app"):
        got = app_module.wall_rotation("x", "crowd,risk", Settings(wall_rotate_s=15))
    assert got == (15, ("crowd", "risk"))
    assert "?rotate='x'" in caplog.text


def _find(component, predicate):
    found = []
    if predicate(component):
        found.append(component)
    children = getattr(component, "children", None)
    if children is None:
        return found
    for child in children if isinstance(children, (list, tuple)) else [children]:
        if hasattr(child, "to_plotly_json"):
            found.extend(_find(child, predicate))
    return found


def _attrs(component) -> dict:
    return {k: v for k, v in component.to_plotly_json()["props"].items() if k.startswith("data-")}


def test_layout009_page_attributes_from_the_url_and_the_configuration(app_module, monkeypatch):
    page = app_module.wall_page(rotate="30", views="risk,crowd")
    assert _attrs(page) == {"data-rotate": "30", "data-views": "risk,crowd", "data-view": "risk"}
    names = _find(page, lambda c: getattr(c, "className", None) == "view-dot")
    assert [c.children for c in names] == ["社区风险", "人群热力"]
    # No rotation: the first view stays and no indicator is drawn.
    page = app_module.wall_page()
    assert _attrs(page) == {
        "data-rotate": "0",
        "data-views": ",".join(WALL_VIEWS),
        "data-view": "overview",
    }
    assert _find(page, lambda c: getattr(c, "className", None) == "view-dots") == []
    # The configuration's rotation when the URL says nothing.
    configured = Settings(wall_rotate_s=45, wall_views=["station", "overview"])
    monkeypatch.setattr(app_module, "get_settings", lambda: configured)
    page = app_module.wall_page(lang="en")
    assert _attrs(page) == {
        "data-rotate": "45",
        "data-views": "station,overview",
        "data-view": "station",
    }
    names = _find(page, lambda c: getattr(c, "className", None) == "view-dot")
    assert [c.children for c in names] == ["Station", "Overview"]


# --------------------------------------------------------------------------- the browser

# A map graph's state: drawn (MapLibre loaded, fills rendered), its size on the screen, and where
# the district's bounds (its outline layers) fall in its pixels.
MAP_FIT_JS = """
const gd = document.querySelector('#' + arguments[0] + ' .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded() || !gd.layout.map.layers) return null;
let w = 180, s = 90, e = -180, n = -90;
const walk = c => {
  if (typeof c[0] === 'number') {
    w = Math.min(w, c[0]); e = Math.max(e, c[0]); s = Math.min(s, c[1]); n = Math.max(n, c[1]);
  } else c.forEach(walk);
};
for (const layer of gd.layout.map.layers)
  for (const f of (layer.source && layer.source.features) || [])
    if (f.geometry) walk(f.geometry.coordinates);
const sw = sub.map.project([w, s]), ne = sub.map.project([e, n]);
const box = gd.getBoundingClientRect();
const fills = sub.map.queryRenderedFeatures().filter(f => f.layer.id.endsWith('-fill')).length;
return {left: sw.x, right: ne.x, top: ne.y, bottom: sw.y, width: gd.clientWidth,
        height: gd.clientHeight, screenLeft: box.left, screenTop: box.top, fills: fills,
        canvas: sub.map.getCanvas().clientWidth};
"""

PANELS_JS = """
return [...document.querySelectorAll('.wall-body .panel')]
  .filter(el => el.getClientRects().length > 0)
  .map(el => { const r = el.getBoundingClientRect();
    return {cls: el.className, top: r.top, left: r.left, bottom: r.bottom, right: r.right,
            width: r.width, height: r.height}; });
"""


def _fitted(state: dict | None, *, points: bool = False) -> bool:
    """The whole district inside the map and filling it in one direction (the fit leaves 4%
    each side): not a corner, not a postage stamp."""
    if not state or state["width"] < 50 or state["canvas"] < state["width"] - 2:
        return False
    if not points and state["fills"] < 100:
        return False
    w, h = state["width"], state["height"]
    inside = (
        state["left"] >= -2
        and state["top"] >= -2
        and state["right"] <= w + 2
        and state["bottom"] <= h + 2
    )
    span_x = (state["right"] - state["left"]) / w
    span_y = (state["bottom"] - state["top"]) / h
    return inside and max(span_x, span_y) > 0.85


def _map_state(driver, graph_id: str) -> dict | None:
    return driver.execute_script(MAP_FIT_JS, graph_id)


def _wait_fitted(driver, graph_id: str, timeout: float = 30.0) -> dict:
    points = graph_id == "wall-reg-map"  # the registers' map has points, no fills
    deadline = time.monotonic() + timeout
    state = None
    while time.monotonic() < deadline:
        state = _map_state(driver, graph_id)
        if _fitted(state, points=points):
            return state
        time.sleep(0.25)
    ARTIFACTS.mkdir(exist_ok=True)
    driver.save_screenshot(str(ARTIFACTS / f"wall-layout-failed-{graph_id}.png"))
    info = driver.execute_script(
        "const r = document.getElementById('wall-root');"
        "return [location.href, r && r.dataset.view, document.readyState,"
        " r && getComputedStyle(document.getElementById(arguments[0]).closest('.panel')).display]",
        graph_id,
    )
    pytest.fail(f"{graph_id} is not fitted to the district: {state} {info}")


@pytest.fixture(scope="module")
def server_log(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("wall_layout_log") / "server.log"


@pytest.fixture(scope="module")
def server(demo_url, server_log) -> Iterator[str]:  # noqa: F811 (the imported fixture)
    """The app with the configuration's defaults for the rotation (none)."""
    port = _free_port()
    code = (
        "import logging; logging.basicConfig(level=logging.INFO); "
        "import app; app.app.run(host='127.0.0.1', port={port})"
    )
    with server_log.open("w+b") as log:
        proc = start_app(
            demo_url,
            {"DASHBOARD_RISK_CARRY_FORWARD_DAYS": "2"},
            log,
            port=port,
            drop=("DASHBOARD_WALL_ROTATE_S", "DASHBOARD_WALL_VIEWS"),
            code=code,
        )
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_app(proc)


@pytest.fixture
def browser() -> Iterator:
    with chrome() as driver:
        yield driver


def _view(driver) -> str | None:
    return driver.execute_script("return document.getElementById('wall-root')?.dataset.view")


def _wait_loaded(driver) -> None:
    """Every panel has had its first data (they draw hidden too)."""
    _wait(
        driver,
        "return document.querySelectorAll('.risk-top-row').length === 6"
        " && document.querySelectorAll('.crowd-red-row').length > 0"
        " && document.querySelectorAll('#wall-reg-enterprises .reg-row').length === 5"
        " && !!document.getElementById('wall-station-staff').textContent",
        what="the panels' data",
    )


def _check_layout(driver, view: str, width: int, height: int) -> None:
    layout = driver.execute_script(OVERFLOW_JS)
    assert (layout["innerW"], layout["innerH"]) == (width, height)
    assert layout["scrollW"] <= layout["clientW"], f"{view}: horizontal scrollbar"
    assert layout["scrollH"] <= layout["clientH"], f"{view}: vertical scrollbar"
    assert layout["cut"] == [], f"{view}: content cut off: {layout['cut']}"
    panels = driver.execute_script(PANELS_JS)
    shown = sorted(next(c for c in p["cls"].split() if c.endswith("-panel")) for p in panels)
    assert shown == sorted(VIEW_PANELS[view]), f"{view} shows {shown}"
    for p in panels:
        assert p["top"] >= 0 and p["left"] >= 0, p
        assert p["bottom"] <= height and p["right"] <= width, p
        assert p["height"] > 0.15 * height, f"{view}: a squeezed panel {p}"


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160)])
def test_layout010_every_view_fits_the_screen_with_its_maps_fitted(server, browser, width, height):
    """Each view in turn (set as rotate.js sets it; an hour per view, so no switch of its own
    interferes): no scrollbar, nothing cut off, exactly its panels, each inside the screen and
    its maps showing the whole district large."""
    _viewport(browser, width, height)
    browser.get(server + "/?rotate=3600&views=" + ",".join(VIEW_PANELS))
    _wait_loaded(browser)
    ARTIFACTS.mkdir(exist_ok=True)
    large = {"risk": (0.35, 0.75), "crowd": (0.35, 0.75), "registers": (0.25, 0.6)}
    for view in VIEW_PANELS:
        browser.execute_script(f"document.getElementById('wall-root').dataset.view = '{view}'")
        states = {graph: _wait_fitted(browser, graph) for graph in VIEW_MAPS[view]}
        _check_layout(browser, view, width, height)
        if view in large:
            min_w, min_h = large[view]
            (state,) = states.values()
            assert state["width"] > min_w * width and state["height"] > min_h * height, state
        if view == "station":
            graph = browser.execute_script(
                "const r = document.getElementById('wall-station-graph').getBoundingClientRect();"
                "return [r.width, r.height];"
            )
            assert graph[0] > 0.9 * width and graph[1] > 0.5 * height
        browser.save_screenshot(str(ARTIFACTS / f"wall-view-{view}-{width}x{height}.png"))
    assert _severe(browser) == []


# Every change of the wall's view, with its time: set up as soon as the wall is in the page.
SWITCHES_JS = """
const root = document.getElementById('wall-root');
if (!root) return false;
if (!window.__switches) {
  window.__switches = [];
  new MutationObserver(() => window.__switches.push([root.dataset.view, performance.now()]))
    .observe(root, {attributes: true, attributeFilter: ['data-view']});
}
return true;
"""


def _next_switch(driver, view: str, after: int, timeout: float) -> int:
    """Wait for a switch into ``view`` among the switches after the first ``after``; its index."""
    found = _wait(
        driver,
        f"const s = window.__switches.slice({after});"
        f"const i = s.findIndex(([v]) => v === '{view}');"
        f"return i < 0 ? null : [{after} + i];",
        timeout=timeout,
        what=f"the {view} view",
    )
    return found[0]


def test_layout011_rotation_from_the_url_keeps_the_header(server, browser):
    """``?rotate=5&views=risk,crowd``: risk first, then crowd, then risk again, a view every
    ~5 s; each view's map large and fitted to the whole district (the crowd map was hidden when
    the page mounted); the clock is the same DOM node throughout and keeps ticking, the header
    does not move. Each view is checked right after it comes, so a slow page load cannot make
    the test look at a view about to go. At 4K: the crowd map, fitted by the server for a
    default size while hidden, would be a postage stamp there unless refitted."""
    width, height = 3840, 2160
    _viewport(browser, width, height)
    browser.get(server + "/?rotate=5&views=risk,crowd")
    _wait(browser, SWITCHES_JS, what="the wall")
    views = browser.execute_script("return document.getElementById('wall-root').dataset.views")
    assert views == "risk,crowd"
    dots = browser.execute_script(
        "return [...document.querySelectorAll('.view-dot')].map(d => d.textContent)"
    )
    assert dots == ["社区风险", "人群热力"]
    _wait_loaded(browser)
    browser.execute_script(
        "window.__clock = document.getElementById('wall-clock-time');"
        "window.__header = document.querySelector('.wall-header');"
        "window.__clock.__mark = 'before';"
    )
    before = browser.execute_script("return window.__header.getBoundingClientRect().toJSON()")
    clock_before = browser.execute_script("return window.__clock.textContent")
    ARTIFACTS.mkdir(exist_ok=True)

    # The crowd map was display: none when the page mounted (the first view is risk).
    seen = browser.execute_script("return window.__switches.length")
    crowd_at = _next_switch(browser, "crowd", seen, timeout=11)
    crowd = _wait_fitted(browser, "wall-crowd-map", timeout=4)
    assert crowd["width"] > 0.35 * width and crowd["height"] > 0.75 * height, crowd
    _check_layout(browser, "crowd", width, height)
    active = browser.execute_script(
        "return getComputedStyle(document.querySelector('.view-dot[data-view=crowd]')).color"
        " !== getComputedStyle(document.querySelector('.view-dot[data-view=risk]')).color"
    )
    assert active, "the indicator does not light the view shown"
    browser.save_screenshot(str(ARTIFACTS / f"wall-rotate-crowd-{width}x{height}.png"))

    risk_at = _next_switch(browser, "risk", crowd_at + 1, timeout=6.5)
    risk = _wait_fitted(browser, "wall-map", timeout=4)
    assert risk["width"] > 0.35 * width and risk["height"] > 0.75 * height, risk
    _check_layout(browser, "risk", width, height)
    browser.save_screenshot(str(ARTIFACTS / f"wall-rotate-risk-{width}x{height}.png"))

    # A view every 5 s (the loop looks four times a second), and the views in their order.
    switches = browser.execute_script("return window.__switches")
    assert [v for v, _ in switches[crowd_at : risk_at + 1]] == ["crowd", "risk"]
    gap_s = (switches[risk_at][1] - switches[crowd_at][1]) / 1000
    assert 4.5 < gap_s < 6.0, f"{gap_s:.2f} s between two views"
    assert browser.execute_script(
        "const c = document.getElementById('wall-clock-time');"
        "return c === window.__clock && c.__mark === 'before'"
        " && document.querySelector('.wall-header') === window.__header"
    ), "the clock or the header was re-rendered by the rotation"
    after = browser.execute_script("return window.__header.getBoundingClientRect().toJSON()")
    assert after == before, "the header moved"
    assert browser.execute_script("return window.__clock.textContent") != clock_before
    assert _severe(browser) == []


def test_layout012_no_rotation_by_default(server, browser):
    """The configuration's default: the whole wall, and it stays."""
    _viewport(browser, 1920, 1080)
    browser.get(server + "/")
    _wait(browser, "return document.getElementById('wall-root')", what="the wall")
    root = browser.execute_script(
        "const r = document.getElementById('wall-root').dataset;return [r.rotate, r.views, r.view];"
    )
    assert root == ["0", ",".join(WALL_VIEWS), "overview"]
    assert browser.execute_script("return document.querySelectorAll('.view-dots').length") == 0
    time.sleep(6)  # longer than the shortest rotation
    assert _view(browser) == "overview"
    assert _severe(browser) == []


def test_layout013_bad_url_falls_back_to_the_configuration(server, browser, server_log):
    _viewport(browser, 1920, 1080)
    browser.get(server + "/?rotate=often&views=risk,heatmap")
    _wait(browser, "return document.getElementById('wall-root')", what="the wall")
    assert _view(browser) == "overview"
    _wait(browser, "return document.querySelectorAll('.risk-top-row').length === 6", what="risk")
    time.sleep(5.5)
    assert _view(browser) == "overview"
    log = server_log.read_text(errors="replace")
    assert "ignoring ?rotate='often'" in log and "ignoring ?views='risk,heatmap'" in log
    assert _severe(browser) == []
