"""A few real browser checks: the app in a subprocess on the demo district, headless Chromium.

The demo district is scored for the last days (tests/test_web_support.write_risk_days), so the
wall's map and risk panel and the /risk page have red, yellow, blue and incomplete compounds; it
has 24 hours of crowd windows (write_crowd_day) with cells of all four levels and hidden ones,
for the wall's crowd panel and /crowd.

Locally these skip when Chromium or chromedriver is missing; under CI (``CI=true``) they fail
instead, because a skipped browser test there would hide a wall screen that does not render.
Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import pytest
import shapely
from sqlalchemy import case, func, select, update
from test_web_support import write_crowd_day, write_crowd_window, write_risk_days

from dashboard import crowd, migrate, risk, versions
from dashboard.config import PROJECT_ROOT
from dashboard.db import get_engine, session_scope
from dashboard.models import (
    Area,
    AreaLevel,
    CrowdCount,
    IndicatorValue,
    RiskScore,
    WorkOrder,
    utcnow,
)

pytestmark = pytest.mark.browser

UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
CHROME_ARGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # MapLibre needs WebGL: software rendering, asked for explicitly (the implicit fallback
    # is deprecated in Chromium).
    "--use-angle=swiftshader",
    "--enable-unsafe-swiftshader",
)

RISK_DAYS = 10
CARRY_DAYS = 2

# The map has drawn when MapLibre has loaded and the compounds' fills are rendered.
MAP_STATE_JS = """
const gd = document.querySelector('#wall-map .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded()) return null;
const layers = {};
for (const f of sub.map.queryRenderedFeatures()) layers[f.layer.id] = (layers[f.layer.id] || 0) + 1;
const fills = Object.entries(layers).filter(([id]) => id.endsWith('-fill')).map(([, n]) => n);
return {fills: fills.reduce((a, b) => a + b, 0), zoom: sub.map.getZoom(),
        center: sub.map.getCenter().toArray(), z: gd.data[0].z};
"""

OVERFLOW_JS = """
const root = document.documentElement;
const cut = [...document.querySelectorAll('.wall-header, .panel, .kpi, .freshness')]
  .filter(el => el.scrollHeight > el.clientHeight + 1 || el.scrollWidth > el.clientWidth + 1)
  .map(el => el.className + ': ' + (el.textContent || '').slice(0, 40));
// The risk and crowd panels' rows may shorten a long name with an ellipsis, but never lose a
// line.
const rows = [...document.querySelectorAll(
  '.risk-count, .risk-top-row, .risk-sub-row, .crowd-count, .crowd-red-row, .crowd-wall-side > *,'
  + '.kpi-static, .ov-epi-row, .ov-tile, .ov-rise-row, .reg-row, .reg-flag-head, .reg-flag-row,'
  + '.station-line')]
  .filter(el => el.scrollHeight > el.clientHeight + 1)
  .map(el => el.className + ': ' + (el.textContent || '').slice(0, 40));
cut.push(...rows);
return {scrollW: root.scrollWidth, clientW: root.clientWidth,
        scrollH: root.scrollHeight, clientH: root.clientHeight,
        innerW: window.innerWidth, innerH: window.innerHeight, cut: cut};
"""


CROWD_STATE_JS = MAP_STATE_JS.replace("#wall-map", "#wall-crowd-map")
CROWD_PAGE_STATE_JS = MAP_STATE_JS.replace("#wall-map", "#crowd-map")


def _crowd_codes(url: str, *, start: dt.datetime | None = None) -> dict:
    """What the heatmap should show for a window (default: the newest that has ended): each
    shown cell's code, the people in red cells, the red areas, and the window's local end."""
    from dashboard import queries

    scope = queries.AreaScope.whole_district()
    grid = crowd.grid_from_settings()
    with session_scope(url) as s:
        start = start or queries.latest_crowd_window(
            session=s, scope=scope, now=utcnow(), window_minutes=15
        )
        frame = queries.crowd_window(start, session=s, scope=scope, grid=grid)
        places = queries.named_places(session=s, scope=scope)
    levels = queries.shown_levels(frame)
    end = start + dt.timedelta(minutes=15) + dt.timedelta(hours=8)  # Shanghai
    return {
        "start": start,
        "codes": {cell: crowd.LEVELS.index(level) for cell, level in levels.items()},
        "red_people": round(queries.crowd_level_totals(frame)["red"].people),
        "red_areas": queries.red_areas(frame, grid, places, limit=3),
        "end": f"{end:%H:%M}",
    }


def _code_counts(z: list) -> dict:
    return {code: sum(1 for v in z if v == code) for code in (None, 0, 1, 2, 3)}


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).exists()]
    if missing:
        reason = f"headless browser not installed: {', '.join(missing)}"
        if UNDER_CI:
            pytest.fail(reason + " (CI must run the browser tests)")
        pytest.skip(reason)


def _risk_day() -> dt.date:
    """The day the nightly job scored this morning: yesterday in Shanghai."""
    return (utcnow() + dt.timedelta(hours=8)).date() - dt.timedelta(days=1)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def demo_url(tmp_path_factory) -> Iterator[str]:
    _require_browser()
    from dashboard.demo import build_demo, write_demo

    url = f"sqlite:///{tmp_path_factory.mktemp('browser') / 'demo.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        write_demo(build_demo(), session=session)
    with session_scope(url) as session:
        write_risk_days(session, last_day=_risk_day(), days=RISK_DAYS)
    with session_scope(url) as session:
        write_crowd_day(session, now=utcnow())
    write_station_days(url)
    yield url
    get_engine(url).dispose()


def start_app(
    db_url: str,
    env: Mapping[str, str],
    log: IO[bytes],
    *,
    port: int,
    drop: tuple[str, ...] = (),
    code: str = "import app; app.app.run(host='127.0.0.1', port={port})",
) -> subprocess.Popen:
    """The app in a subprocess (Dash's server) on ``port`` against ``db_url``, started and
    answering /api/v1/health; ``drop``: environment variables not to inherit. Shared by the
    browser test modules (this one, test_live, test_wall_layout, test_offline_maps)."""
    full = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": db_url,
        "DASHBOARD_REFRESH_INTERVAL_S": "1",
        "DASHBOARD_DEMO": "false",
        **env,
    }
    for name in drop:
        full.pop(name, None)
    proc = subprocess.Popen(
        [sys.executable, "-c", code.format(port=port)],
        cwd=PROJECT_ROOT,
        env=full,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(base + "/api/v1/health", timeout=2) as r:
                json.load(r)
            return proc
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                log.flush()
                log.seek(0)
                pytest.fail("the app did not start:\n" + log.read().decode(errors="replace"))
            time.sleep(0.3)


def stop_app(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@contextmanager
def serve_app(db_url: str, env: Mapping[str, str], **options) -> Iterator[str]:
    """:func:`start_app` on a free port for the ``with`` block; yields its base URL."""
    port = _free_port()
    with tempfile.TemporaryFile() as log:
        proc = start_app(db_url, env, log, port=port, **options)
        try:
            yield f"http://127.0.0.1:{port}"
        finally:
            stop_app(proc)


@contextmanager
def chrome(*extra_args: str, logs: Mapping[str, str] | None = None) -> Iterator:
    """Headless Chromium (CHROME_ARGS, a fresh profile, 1920x1080 window) for the block."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (*CHROME_ARGS, "--window-size=1920,1080", *extra_args):
        options.add_argument(arg)
    profile = tempfile.mkdtemp(prefix="chrome-profile-")
    options.add_argument(f"--user-data-dir={profile}")
    options.set_capability("goog:loggingPrefs", dict(logs or {"browser": "ALL"}))
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        yield driver
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def server(demo_url) -> Iterator[str]:
    with serve_app(demo_url, {"DASHBOARD_RISK_CARRY_FORWARD_DAYS": str(CARRY_DAYS)}) as base:
        yield base


@pytest.fixture
def browser() -> Iterator:
    with chrome() as driver:
        yield driver


def _viewport(driver, width: int, height: int) -> None:
    """An exact viewport (the window's chrome would otherwise take some of it)."""
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False},
    )


def _wait(driver, script: str, timeout: float = 45.0, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script)
        if value:
            return value
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}")


def _severe(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]


def _external_requests(driver, base: str) -> list[str]:
    names = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    return [n for n in names if not n.startswith((base, "data:", "blob:"))]


def _tile(driver, tile_id: str) -> str:
    return driver.execute_script(
        f"const el = document.getElementById('{tile_id}');"
        "return el ? el.querySelector('.num') && el.querySelector('.num').textContent : null;"
    )


def _db_counts(url: str) -> dict[str, int]:
    with session_scope(url) as s:
        committees = s.scalar(
            select(func.count()).where(
                Area.level == AreaLevel.COMMITTEE, Area.is_virtual.is_(False)
            )
        )
        orders = s.scalar(
            select(func.count()).where(
                WorkOrder.status.not_in(("closed", "cancelled")), WorkOrder.closed_at.is_(None)
            )
        )
        day = s.scalar(select(func.max(RiskScore.date)))
        bands = dict(
            s.execute(
                select(RiskScore.band, func.count())
                .where(RiskScore.date == day)
                .group_by(RiskScore.band)
            ).all()
        )
    return {"committees": committees, "orders": orders, **bands}


# The registers' map has drawn its three traces (enterprises, shops, sites): their point counts.
REG_MAP_JS = """
const gd = document.querySelector('#wall-reg-map .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded() || !gd.data || gd.data.length !== 3) return null;
return gd.data.map(t => t.lon.length);
"""


def _register_counts(url: str) -> dict[str, int]:
    """The registers' figures the panel should show, counted here with plain SQL."""
    from dashboard.models import ConstructionSite, Enterprise, Shop

    with session_scope(url) as s:
        return {
            "reopened": s.scalar(select(func.count()).where(Enterprise.state == "reopened")),
            "flagged": s.scalar(
                select(func.count()).where(ConstructionSite.unchecked_arrivals > 0)
            ),
            "enterprise_points": s.scalar(select(func.count()).where(Enterprise.geom.is_not(None))),
            "shop_points": s.scalar(select(func.count()).where(Shop.geom.is_not(None))),
            "site_points": s.scalar(select(func.count()).where(ConstructionSite.geom.is_not(None))),
        }


STATION_DAYS = 20


def write_station_days(url: str) -> None:
    """20 days of hourly arrivals at the demo's railway station, in the simulator's daily shape
    (peaks 09:00 and 12:00), and the hourly forecast job run once on them."""
    from dashboard import jobs
    from dashboard.config import get_settings
    from dashboard.feeds.simulator import SOUTH_STATION_PROFILE
    from dashboard.models import Station, StationFlow

    now = utcnow()
    first = (now + dt.timedelta(hours=8)).replace(minute=0, second=0, microsecond=0)
    first = first.replace(hour=0) - dt.timedelta(days=STATION_DAYS) - dt.timedelta(hours=8)
    with session_scope(url) as s:
        code = s.scalar(select(Station.code).where(Station.kind == "railway"))
        hour = first
        while hour < now - dt.timedelta(hours=1):
            local_hour = (hour + dt.timedelta(hours=8)).hour
            arrivals = round(5000 * SOUTH_STATION_PROFILE[local_hour] * (1 + 0.05 * (hour.day % 3)))
            s.add(StationFlow(station_code=code, hour_start=hour, arrivals=arrivals))
            hour += dt.timedelta(hours=1)
        versions.bump("station_flows", session=s)
    settings = get_settings().model_copy(update={"database_url": url})
    assert jobs.forecast_stations_at(settings, now).written == {code: 24}


# The station panel has drawn: its bars, and where the panel sits on the screen.
STATION_JS = """
const gd = document.querySelector('#wall-station-graph .js-plotly-plot');
if (!gd || !gd.data || !gd.data.some(t => t.type === 'bar')) return null;
const box = document.querySelector('.station-panel').getBoundingClientRect();
return {bars: gd.data.filter(t => t.type === 'bar').map(t => t.y.length),
        top: box.top, bottom: box.bottom, left: box.left, right: box.right,
        height: box.height,
        peaks: document.getElementById('wall-station-peaks').textContent,
        staff: document.getElementById('wall-station-staff').textContent,
        issued: document.getElementById('wall-station-issued').textContent};
"""


@pytest.mark.parametrize(("width", "height"), [(1920, 1080), (3840, 2160), (5760, 1080)])
def test_browser001_wall_renders_map_and_tiles_without_scrollbars(
    server, browser, demo_url, width, height
):
    _viewport(browser, width, height)
    browser.get(server + "/")
    state = _wait(
        browser,
        f"const s = (() => {{{MAP_STATE_JS}}})(); return s && s.fills > 300 && s;",
        what="the map",
    )
    counts = _db_counts(demo_url)
    _wait(
        browser,
        "return document.querySelector('#kpi-committees .num')?.textContent"
        f" === '{counts['committees']:,}'",
        what="the tiles",
    )
    assert _tile(browser, "kpi-work-orders") == f"{counts['orders']:,}"
    # The risk panel: the day's compounds per band, as many as the map paints in each colour.
    _wait(
        browser,
        "return document.querySelector('.risk-count.band-red .risk-count-num')?.textContent"
        f" === '{counts['red']:,}'",
        what="the risk panel",
    )
    for band, codes in (("yellow", (2, 5)), ("blue", (1, 4))):
        shown = browser.execute_script(
            f"return document.querySelector('.risk-count.band-{band} .risk-count-num').textContent"
        )
        assert shown == f"{counts[band]:,}"
        assert sum(1 for z in state["z"] if z in codes) == counts[band]
    assert sum(1 for z in state["z"] if z in (3, 6)) == counts["red"]
    assert browser.execute_script("return document.querySelectorAll('.risk-top-row').length") == 6
    assert browser.execute_script("return document.querySelectorAll('.risk-sub-row').length") == 14
    assert state["zoom"] > 10  # fitted to the district, not the whole world
    assert 121.3 < state["center"][0] < 121.6 and 31.0 < state["center"][1] < 31.3
    # The crowd panel: the newest ended window's cells in their levels, hidden ones not drawn.
    expected = _crowd_codes(demo_url)
    heat = _wait(
        browser,
        f"const s = (() => {{{CROWD_STATE_JS}}})(); return s && s.fills > 300 && s;",
        what="the crowd heatmap",
    )
    shown = _code_counts(heat["z"])
    assert {k: v for k, v in shown.items() if k is not None} == {
        k: v for k, v in _code_counts(list(expected["codes"].values())).items() if k is not None
    }
    assert heat["zoom"] > 10
    assert _text_of(browser, "#wall-crowd-time") == f"截至 {expected['end']}"
    red = f"{expected['red_people']:,}"
    assert red in _text_of(browser, ".crowd-count.level-red")
    rows = browser.execute_script("return document.querySelectorAll('.crowd-red-row').length")
    assert rows == len(expected["red_areas"]) > 0
    # The registers panel: counts per state as in the database, every point with a position
    # on its map, coloured by state.
    reg = _register_counts(demo_url)
    _wait(
        browser,
        "return document.querySelector('#wall-reg-enterprises .state-reopened .reg-num')"
        f"?.textContent === '{reg['reopened']:,}'",
        what="the registers panel",
    )
    points = _wait(browser, REG_MAP_JS, what="the registers' map")
    assert points == [reg["enterprise_points"], reg["shop_points"], reg["site_points"]]
    assert _text_of(browser, "#wall-reg-sites .reg-flag-head .reg-num") == f"{reg['flagged']:,}"
    rows = browser.execute_script("return document.querySelectorAll('.ov-epi-row').length")
    assert rows == 4  # the head, country, city, district
    # The station panel: 24 forecast bars, today's past hours, the peaks of the simulator's
    # shape, the staffing sentence, all inside the screen.
    station = _wait(browser, STATION_JS, what="the station panel")
    assert 24 in station["bars"]
    assert station["peaks"].startswith("09:00–10:00和12:00–13:00占全天到站客流的")
    assert station["staff"].startswith("09:00–10:00 需验票员")
    assert station["issued"].startswith("预测发布于")
    assert 0 <= station["top"] and station["bottom"] <= height and station["right"] <= width
    assert station["height"] > 0.2 * height  # a real panel, not a squeezed strip
    layout = browser.execute_script(OVERFLOW_JS)
    assert (layout["innerW"], layout["innerH"]) == (width, height)
    assert layout["scrollW"] <= layout["clientW"], "horizontal scrollbar"
    assert layout["scrollH"] <= layout["clientH"], "vertical scrollbar"
    assert layout["cut"] == [], f"content cut off: {layout['cut']}"
    assert browser.execute_script("return document.getElementById('wall-clock-time').textContent")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / f"wall-{width}x{height}.png"))
    assert _severe(browser) == []
    assert _external_requests(browser, server) == []  # no tiles, fonts or scripts from outside


def test_browser002_wall_in_english_from_the_url(server, browser):
    _viewport(browser, 1920, 1080)
    browser.get(server + "/?lang=en")
    _wait(
        browser,
        f"const s = (() => {{{MAP_STATE_JS}}})(); return s && s.fills > 300;",
        what="the map",
    )
    _wait(browser, "return document.querySelectorAll('.risk-top-row').length === 6", what="risk")
    body = browser.execute_script("return document.body.innerText")
    assert "Key figures" in body and "核心指标" not in body
    assert "Highest-scoring compounds" in body and "Bands by subdistrict" in body
    assert "Epidemic and prevention" in body and "Enterprises, shops, sites" in body
    assert "疫情与防控" not in body and "企业复工" not in body
    station = _wait(browser, STATION_JS, what="the station panel")
    assert station["staff"].startswith("09:00–10:00 needs")
    assert "hold" in station["peaks"] and station["issued"].startswith("forecast issued")
    _wait(
        browser,
        "return document.querySelectorAll('#wall-reg-enterprises .reg-row').length === 5",
        what="the registers panel",
    )
    layout = browser.execute_script(OVERFLOW_JS)
    assert layout["cut"] == [], "content cut off in English"
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "wall-en-1920x1080.png"))
    assert _severe(browser) == []


def test_browser003_ops_page(server, browser):
    _viewport(browser, 1920, 1080)
    browser.get(server + "/ops")
    _wait(
        browser,
        "return document.querySelectorAll('.ops-table tbody tr').length > 5",
        what="the tables",
    )
    body = browser.execute_script("return document.body.innerText")
    assert "数据新鲜度" in body and "最近任务运行" in body and "隔离行" in body
    browser.find_element("css selector", ".lang-option:not(.active)").click()
    _wait(browser, "return document.body.innerText.includes('Recent job runs')", what="English")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "ops-1920x1080.png"))
    assert _severe(browser) == []


def test_browser012_station_page_in_english(server, browser, demo_url):
    """/station?lang=en: the railway station chosen, its chart, sentences and backtest table
    (MASE of the model and both naives), the line saying what MASE means."""
    _viewport(browser, 1920, 1080)
    browser.get(server + "/station?lang=en")
    _wait(
        browser,
        "return document.querySelectorAll('#station-backtest tbody tr').length === 3",
        timeout=90,
        what="the backtest",
    )
    _wait(
        browser,
        "const gd = document.querySelector('#station-graph .js-plotly-plot');"
        "return gd && gd.data && gd.data.some(t => t.type === 'bar');",
        what="the chart",
    )
    body = browser.execute_script("return document.body.innerText")
    assert "Shanghai South Railway Station" in body
    assert "09:00–10:00 and 12:00–13:00 hold" in body and "needs" in body
    assert "forecast issued" in body and "arrivals as of" in body
    assert "Seasonal naive 24 h" in body and "Seasonal naive 168 h" in body
    assert "MASE: the forecast's mean absolute error" in body
    # 20 days of history: the first origin needs 14 days, the last ends yesterday
    assert "Backtest: 5 daily origins" in body
    assert "车站" not in body
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "station-en-1920x1080.png"))
    assert _severe(browser) == []


GEOJSON_SAME_JS = (
    "return document.querySelector('#wall-map .js-plotly-plot').data[0].geojson"
    " === window.__geojson"
)


def test_browser004_new_data_repaints_values_and_keeps_the_view(server, browser, demo_url):
    """The refresh path end to end: a write bumps a version, the next tick notices, the map gets
    a Patch of its band values only when the scores changed (its GeoJSON object stays the same
    one) and keeps the operator's zoom; new boundaries bring a whole figure, and the zoom still
    stays (uirevision)."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    _viewport(browser, 1920, 1080)
    browser.get(server + "/")
    state_js = f"const s = (() => {{{MAP_STATE_JS}}})();"
    before = _wait(browser, state_js + "return s && s.fills > 300 && s;", what="the map")
    browser.execute_script(
        "window.__geojson = document.querySelector('#wall-map .js-plotly-plot').data[0].geojson"
    )
    # The operator zooms in with the mouse wheel: a GUI edit.
    the_map = browser.find_element("css selector", "#wall-map")
    ActionChains(browser).scroll_from_origin(ScrollOrigin.from_element(the_map), 0, -400).perform()
    _wait(browser, state_js + f"return s && s.zoom > {before['zoom'] + 0.3};", what="the zoom")
    time.sleep(1)  # the wheel's easing ends
    zoomed = browser.execute_script(MAP_STATE_JS)
    before_red = _db_counts(demo_url)["red"]

    # New work orders: the key figure changes, the risk map does not.
    with session_scope(demo_url) as s:
        committee = s.scalar(
            select(Area.code)
            .where(Area.level == AreaLevel.COMMITTEE, Area.geom.is_not(None))
            .order_by(Area.code)
        )
        for _ in range(30):
            s.add(
                WorkOrder(source="hotline_12345", title="测试", area_code=committee, status="open")
            )
        versions.bump("work_orders", session=s, at=utcnow())
    orders = f"{_db_counts(demo_url)['orders']:,}"
    _wait(
        browser,
        f"return document.querySelector('#kpi-work-orders .num')?.textContent === '{orders}'",
        what="the new count",
    )
    assert browser.execute_script(MAP_STATE_JS)["z"] == zoomed["z"]  # not the map's data

    # New indicator values re-score the day: 30 blue compounds report every indicator at its
    # worst, so they turn red.
    day = _risk_day()
    with session_scope(demo_url) as s:
        codes = s.scalars(
            select(RiskScore.compound_code)
            .where(RiskScore.date == day, RiskScore.band == "blue", RiskScore.complete)
            .order_by(RiskScore.compound_code)
            .limit(30)
        ).all()
        ratios = [i.key for i in risk.load_model().indicators if i.basis == "ratio"]
        worst = case((IndicatorValue.indicator.in_(ratios), 1.0), else_=1000.0)
        s.execute(
            update(IndicatorValue)
            .where(IndicatorValue.date == day, IndicatorValue.compound_code.in_(codes))
            .values(value=worst)
        )
        risk.score_day(day, session=s, model=risk.load_model(), carry_days=CARRY_DAYS)
    red = _db_counts(demo_url)["red"]
    assert red == before_red + 30
    after = _wait(
        browser,
        state_js + f"return s && s.z.filter(z => z === 3 || z === 6).length === {red} && s;",
        what="the new bands",
    )
    assert browser.execute_script(GEOJSON_SAME_JS), "the values refresh resent the geometry"
    assert after["zoom"] == pytest.approx(zoomed["zoom"], abs=0.01)
    assert after["center"] == pytest.approx(zoomed["center"], abs=1e-6)
    _wait(
        browser,
        "return document.querySelector('.risk-count.band-red .risk-count-num')?.textContent"
        f" === '{red:,}'",
        what="the risk panel's new count",
    )

    with session_scope(demo_url) as s:
        versions.bump("areas", session=s, at=utcnow())
    _wait(browser, GEOJSON_SAME_JS.replace("===", "!=="), what="the whole new figure")
    time.sleep(1)
    final = _wait(browser, state_js + "return s && s.fills > 300 && s;", what="the map")
    assert final["zoom"] == pytest.approx(zoomed["zoom"], abs=0.01)
    assert _severe(browser) == []


RISK_MAP_JS = """
const gd = document.querySelector('#risk-map .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded()) return null;
const fills = sub.map.queryRenderedFeatures().filter(f => f.layer.id.endsWith('-fill')).length;
return fills > 300 ? {fills: fills} : null;
"""

# Where a point of the map is on the screen, relative to the centre of the map's canvas.
PROJECT_JS = """
const gd = document.querySelector('#risk-map .js-plotly-plot');
const map = gd._fullLayout.map._subplot.map;
const canvas = map.getCanvas().getBoundingClientRect();
const p = map.project([arguments[0], arguments[1]]);
return {dx: p.x - canvas.width / 2, dy: p.y - canvas.height / 2};
"""


def _largest_compound(url: str, day: dt.date) -> tuple[str, str, shapely.Point]:
    """A scored compound large enough to click on surely: code, name, a point inside it."""
    with session_scope(url) as s:
        rows = s.execute(
            select(Area.code, Area.name, Area.geom)
            .join(RiskScore, RiskScore.compound_code == Area.code)
            .where(RiskScore.date == day, Area.geom.is_not(None))
        ).all()
    code, name, geom = max(rows, key=lambda r: r.geom.area)
    return code, name, geom.representative_point()


def _set_weight(browser, key: str, percent: str) -> None:
    from selenium.webdriver.common.keys import Keys

    field = browser.find_element("css selector", f'.weight input[id*=\'"key":"{key}"\']')
    field.clear()
    field.send_keys(percent, Keys.TAB)  # the inputs report on blur (debounce)


def _text_of(browser, selector: str) -> str:
    return browser.execute_script(
        f"const el = document.querySelector({json.dumps(selector)});return el ? el.innerText : '';"
    )


def test_browser005_risk_page_explains_a_compound_and_tries_other_weights(
    server, browser, demo_url
):
    from selenium.webdriver.common.action_chains import ActionChains

    _viewport(browser, 1920, 1080)
    browser.get(server + "/risk?lang=en")
    _wait(browser, f"return (() => {{{RISK_MAP_JS}}})();", what="the risk map")
    day = _risk_day()
    assert _text_of(browser, "#risk-date") == day.isoformat()

    # Pick a compound by clicking it on the map.
    code, name, point = _largest_compound(demo_url, day)
    offset = browser.execute_script(PROJECT_JS, point.x, point.y)
    canvas = browser.find_element("css selector", "#risk-map canvas")
    ActionChains(browser).move_to_element_with_offset(
        canvas, round(offset["dx"]), round(offset["dy"])
    ).click().perform()
    _wait(
        browser,
        f"return document.querySelector('.summary-name h2')?.textContent === '{name}'",
        what="the compound's summary",
    )
    assert name in _text_of(browser, "#risk-compound")
    # Its score history (every scored day) and the 13 contributions are drawn.
    history = _wait(
        browser,
        "const gd = document.querySelector('#risk-history .js-plotly-plot');"
        "return gd && gd.data && gd.data.length && gd.data[gd.data.length - 1].x.length;",
        what="the history",
    )
    assert history == RISK_DAYS
    bars = browser.execute_script(
        "return document.querySelector('#risk-contributions .js-plotly-plot').data[1].y.length"
    )
    assert bars == 13
    assert (
        browser.execute_script("return document.querySelectorAll('#risk-values tbody tr').length")
        == 13
    )
    assert (
        browser.execute_script(
            "return document.querySelectorAll('#risk-history .scatterlayer .point').length"
        )
        == RISK_DAYS
    )

    # What if confirmed cases weighed 10 % and hotline reports 14 %?
    model = risk.load_model()
    reweighted = model.with_weights({"confirmed": 0.10, "hotline_reports": 0.14})
    with session_scope(demo_url) as s:
        inputs = risk.day_inputs(day, session=s, model=model, carry_days=CARRY_DAYS)
    before = risk.score(inputs.codes, inputs.values, inputs.population, model)
    after = risk.score(inputs.codes, inputs.values, inputs.population, reweighted)
    changed = int((before.band != after.band).sum())
    assert changed > 0
    _set_weight(browser, "confirmed", "10")
    _set_weight(browser, "hotline_reports", "14")
    expected = f"{changed:,} of {len(inputs.codes):,} compounds change band"
    _wait(
        browser,
        f"return document.querySelector('.whatif-head')?.textContent === '{expected}'",
        what="the what-if result",
    )
    assert _text_of(browser, ".weight-sum") == "Total 100 %"
    rows = browser.execute_script(
        "return [...document.querySelectorAll('.whatif-tables .ops-table')[0]"
        ".querySelectorAll('tbody tr')].map(r => r.innerText)"
    )
    assert sum(int(r.split()[-1].replace(",", "")) for r in rows) == changed
    # The model in force did not move.
    assert risk.load_model() == model
    browser.execute_script("window.scrollTo(0, document.body.scrollHeight)")
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "risk-whatif-1920x1080.png"))

    # A weight over 20 % is refused, naming the indicator.
    _set_weight(browser, "confirmed", "25")
    _wait(
        browser,
        "return document.querySelector('.whatif-message')?.textContent.includes("
        "'“Confirmed cases”: 25 % is above the maximum 20 %')",
        what="the refusal",
    )
    assert _text_of(browser, ".whatif-result") == ""
    assert _text_of(browser, ".weight-sum") == "Total 115 %"

    browser.execute_script("window.scrollTo(0, 0)")
    height = browser.execute_script("return document.documentElement.scrollHeight")
    _viewport(browser, 1920, height)
    time.sleep(1)
    browser.save_screenshot(str(ARTIFACTS / "risk-1920.png"))
    assert _severe(browser) == []
    assert _external_requests(browser, server) == []


CROWD_GEOJSON_SAME_JS = (
    "return document.querySelector('#wall-crowd-map .js-plotly-plot').data[0].geojson"
    " === window.__crowdGeojson"
)


def test_browser006_a_new_crowd_count_repaints_the_heatmap_and_keeps_the_view(
    server, browser, demo_url
):
    """The aggregation job recomputes the newest window: the next tick names "crowd", the wall's
    heatmap gets a Patch of level codes (its GeoJSON stays the same object) and keeps the
    operator's zoom; the panel's numbers follow."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    _viewport(browser, 1920, 1080)
    browser.get(server + "/")
    state_js = f"const s = (() => {{{CROWD_STATE_JS}}})();"
    before = _wait(browser, state_js + "return s && s.fills > 300 && s;", what="the heatmap")
    browser.execute_script(
        "window.__crowdGeojson ="
        " document.querySelector('#wall-crowd-map .js-plotly-plot').data[0].geojson"
    )
    heatmap = browser.find_element("css selector", "#wall-crowd-map")
    ActionChains(browser).scroll_from_origin(ScrollOrigin.from_element(heatmap), 0, -300).perform()
    _wait(browser, state_js + f"return s && s.zoom > {before['zoom'] + 0.3};", what="the zoom")
    time.sleep(1)  # the wheel's easing ends
    zoomed = browser.execute_script(CROWD_STATE_JS)

    # The newest window is recomputed with twice the people in every cell: more of it is red.
    newest = _crowd_codes(demo_url)
    with session_scope(demo_url) as s:
        rows = s.execute(
            select(CrowdCount.cell_id, CrowdCount.count, CrowdCount.observations).where(
                CrowdCount.window_start == newest["start"]
            )
        ).all()
        write_crowd_window(s, newest["start"], {c: (2 * n, o) for c, n, o in rows}, at=utcnow())
    after = _crowd_codes(demo_url)
    reds = sum(1 for code in after["codes"].values() if code == 3)
    assert reds > sum(1 for code in newest["codes"].values() if code == 3)
    now = _wait(
        browser,
        state_js + f"return s && s.z.filter(z => z === 3).length === {reds} && s;",
        what="the new levels",
    )
    assert browser.execute_script(CROWD_GEOJSON_SAME_JS), "the refresh resent the squares"
    assert now["zoom"] == pytest.approx(zoomed["zoom"], abs=0.01)
    assert now["center"] == pytest.approx(zoomed["center"], abs=1e-6)
    _wait(
        browser,
        "return document.querySelector('.crowd-count.level-red .crowd-count-num')?.textContent"
        f" === '{after['red_people']:,}'",
        what="the red people's new count",
    )
    assert _severe(browser) == []


def _window_text(start: dt.datetime) -> str:
    local = start + dt.timedelta(hours=8)
    return f"{local:%Y-%m-%d %H:%M}–{local + dt.timedelta(minutes=15):%H:%M}"


def test_browser007_crowd_page_slider_play_and_a_cells_history(server, browser, demo_url):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.keys import Keys

    _viewport(browser, 1920, 1080)
    browser.get(server + "/crowd?lang=en")
    state_js = f"const s = (() => {{{CROWD_PAGE_STATE_JS}}})();"
    _wait(browser, state_js + "return s && s.fills > 300 && s;", what="the /crowd map")
    newest = _crowd_codes(demo_url)
    _wait(
        browser,
        f"return document.getElementById('crowd-window').textContent"
        f" === '{_window_text(newest['start'])}'",
        what="the newest window",
    )
    body = browser.execute_script("return document.body.innerText")
    assert "Red, dense: ≥ 60,000" in body and "fewer than 10 people" in body

    # Home: the slider goes to the oldest window of the last 24 hours, and the map shows it.
    since = newest["start"] - dt.timedelta(hours=23, minutes=45)
    with session_scope(demo_url) as s:
        oldest = min(crowd.window_starts(session=s, since=since))
    browser.find_element("css selector", "#crowd-slider [role=slider]").send_keys(Keys.HOME)
    _wait(
        browser,
        f"return document.getElementById('crowd-window').textContent === '{_window_text(oldest)}'",
        what="the oldest window",
    )
    first = _crowd_codes(demo_url, start=oldest)
    reds = sum(1 for code in first["codes"].values() if code == 3)
    _wait(
        browser,
        state_js + f"return s && s.z.filter(z => z === 3).length === {reds};",
        what="the oldest window's levels",
    )

    # Play steps the slider on by itself; pause stops it.
    browser.find_element("id", "crowd-play").click()
    _wait(
        browser,
        "return document.getElementById('crowd-window').textContent"
        f" === '{_window_text(oldest + dt.timedelta(minutes=30))}'",
        what="two steps of the replay",
    )
    browser.find_element("id", "crowd-play").click()
    time.sleep(0.5)  # a step already under way may land
    paused = _text_of(browser, "#crowd-window")
    time.sleep(3)
    assert _text_of(browser, "#crowd-window") == paused

    # A click on a red cell: its density over 24 hours, on the three thresholds.
    cell = browser.execute_script(
        "const gd = document.querySelector('#crowd-map .js-plotly-plot');"
        "return gd.data[0].locations[gd.data[0].z.indexOf(3)];"
    )
    lon, lat = crowd.grid_from_settings().centres([cell])
    offset = browser.execute_script(
        PROJECT_JS.replace("#risk-map", "#crowd-map"), float(lon[0]), float(lat[0])
    )
    canvas = browser.find_element("css selector", "#crowd-map canvas")
    ActionChains(browser).move_to_element_with_offset(
        canvas, round(offset["dx"]), round(offset["dy"])
    ).click().perform()
    _wait(
        browser,
        f"return document.getElementById('crowd-cell-title').innerText.includes('Cell {cell}')",
        what="the cell's title",
    )
    with session_scope(demo_url) as s:
        windows = s.scalar(
            select(func.count()).where(
                CrowdCount.cell_id == cell,
                CrowdCount.window_start > newest["start"] - dt.timedelta(hours=24),
                CrowdCount.window_start <= newest["start"],
            )
        )
    points = _wait(
        browser,
        "const gd = document.querySelector('#crowd-history .js-plotly-plot');"
        "return gd && gd.data && gd.data.length && gd.data[gd.data.length - 1].x.length;",
        what="the history",
    )
    assert points == windows
    dashed = browser.execute_script(
        "return document.querySelector('#crowd-history .js-plotly-plot').layout.shapes"
        ".filter(s => s.line && s.line.dash === 'dash').map(s => s.y0)"
    )
    assert sorted(dashed) == [10_000, 30_000, 60_000]

    # Down to a block: the squares grow on screen, their levels stay (a level is a density).
    from selenium.webdriver.common.actions.wheel_input import ScrollOrigin

    before = browser.execute_script(CROWD_PAGE_STATE_JS)
    the_map = browser.find_element("css selector", "#crowd-map")
    for _ in range(4):
        ActionChains(browser).scroll_from_origin(
            ScrollOrigin.from_element(the_map), 0, -500
        ).perform()
        time.sleep(0.4)
    # Four wheel turns: about 2.4 zoom levels, a 250 m cell some 35 px wide at 1080p.
    block = _wait(
        browser, state_js + f"return s && s.zoom > {before['zoom'] + 2} && s;", what="a block"
    )
    assert block["z"] == before["z"]
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / "crowd-block-1920x1080.png"))
    height = browser.execute_script("return document.documentElement.scrollHeight")
    _viewport(browser, 1920, height)
    time.sleep(1)
    browser.save_screenshot(str(ARTIFACTS / "crowd-1920.png"))
    assert _severe(browser) == []
    assert _external_requests(browser, server) == []
