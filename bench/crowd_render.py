# ruff: noqa: T201 - a benchmark prints its figures
"""What one crowd-heatmap refresh costs on the wire and in a 4K browser, next to the usual way.

    .venv/bin/python bench/crowd_render.py [--refreshes 7] [--pings 1000000]

It builds the demo district in a temporary SQLite database and two 15-minute windows of
1,000,000 seeded pings each (bench/crowd_aggregate.py's generator: homes, offices, Xujiahui,
the South Station), aggregated by ``dashboard.crowd.aggregate`` and stored as the
``aggregate_crowd`` job stores them. It serves the app with gunicorn (one worker) together
with, for comparison only, a page ``/bench-naive`` whose callback returns what a Dash app
usually returns for a heatmap: a plotly ``density_map`` (``Densitymap``) of all the raw points,
rebuilt on every refresh. Then, side by side:

a. bytes per refresh: the response of the wall's crowd callback when the window changed (a
   Patch of the cells' level codes, plus the panel's text), raw and gzipped; the /crowd page's
   (codes and hover densities); the full heatmap figure a page receives once at load; and the
   naive callback's density_map figure of the 1,000,000 points (numpy arrays, which plotly
   sends as base64 typed arrays), raw and gzipped;
b. headless Chromium at 3840x2160 (software WebGL, as tests/test_browser.py): for each
   refresh, the time from the response's last byte (Resource Timing ``responseEnd`` of that
   request) to the map drawn (MapLibre's first ``idle`` after a ``render``: every tile of the
   new data painted; plotly's own ``plotly_afterplot`` only comes after that), and the
   longest browser task in between (PerformanceObserver ``longtask``). Ours on the wall (a
   recomputed window bumps the crowd version; the next tick redraws) and on /crowd (the
   slider steps between the two windows); the naive map (2200x720 px, the size of /crowd's
   map at 4K) on each click. Medians over N refreshes, after one warm-up each.

Targets: ≤ 250 KB gzipped per refresh; drawn ≤ 500 ms after the data arrives; no task over
200 ms. Needs Chromium and chromedriver for (b); (a) runs without a browser.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _serve import serve_app  # noqa: E402 - after the path is set

sys.path.insert(0, str(ROOT / "bench"))

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
WIDTH, HEIGHT = 3840, 2160
SEEDS = (20200301, 20200302)
# bench/crowd_aggregate.py's window (09:00 in Shanghai); the pings are moved to ours.
GENERATED_AT = np.datetime64("2026-11-21T01:00:00", "us")  # crowd_aggregate.WINDOW

# Served by gunicorn: the app plus, for comparison only, the usual density_map page. Nothing of
# it is part of the product.
NAIVE_APP = """
import os

import dash
import numpy as np
import plotly.graph_objects as go
from dash import Input, Output, dcc, html

import app as product
from dashboard import figures

folder = os.environ["BENCH_FOLDER"]
LAT = np.load(os.path.join(folder, "lat.npy"))
LON = np.load(os.path.join(folder, "lon.npy"))
WEIGHT = np.load(os.path.join(folder, "weight.npy"))
BOUNDS = (float(LON.min()), float(LAT.min()), float(LON.max()), float(LAT.max()))


def naive_page(**_query):
    return html.Div(
        style={"background": "#020b1c", "padding": "20px"},
        children=[
            html.Button("refresh", id="naive-go", n_clicks=0),
            html.Div(
                style={"width": "2200px", "height": "720px"},
                children=dcc.Graph(
                    id="naive-map",
                    style={"height": "720px"},
                    config={"displayModeBar": False, "scrollZoom": True},
                ),
            ),
        ],
    )


dash.register_page("bench-naive", path="/bench-naive", layout=naive_page)


@product.app.callback(
    Output("naive-map", "figure"), Input("naive-go", "n_clicks"), prevent_initial_call=True
)
def naive_refresh(n):
    # The usual way: every refresh rebuilds the heatmap from all the raw points (the first
    # `points` of them: the bench tries fewer when the browser cannot take them all).
    with open(os.path.join(folder, "points.txt"), encoding="utf-8") as f:
        k = int(f.read())
    center, zoom = figures.fit_view(BOUNDS, (2200, 720))
    z = WEIGHT[:k] * (1 + 0.01 * (n % 2))
    fig = go.Figure(go.Densitymap(lat=LAT[:k], lon=LON[:k], z=z, radius=6, opacity=0.8))
    fig.update_layout(
        map={"style": figures.MAP_STYLE, "center": center, "zoom": zoom},
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        uirevision="naive",
    )
    return fig


server = product.server
"""

# Installed before any page script: long tasks, and the start of every callback request whose
# body names the watched output (so its Resource Timing entry can be found).
HOOK_JS = """
window.__bench = {long: [], starts: [], drawn: []};
performance.setResourceTimingBufferSize(100000);
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.long.push([e.startTime, e.duration]);
}).observe({type: 'longtask', buffered: true});
const fetch0 = window.fetch;
window.fetch = function (input, init) {
  const body = init && typeof init.body === 'string' ? init.body : '';
  if (window.__benchWatch && body.includes(window.__benchWatch)) {
    window.__bench.starts.push(performance.now());
  }
  return fetch0.apply(this, arguments);
};
"""

# Listen on the map itself: MapLibre's render and idle events. (plotly_afterplot comes too late
# to tell: plotly emits it after MapLibre has already painted the new data and gone idle.)
LISTEN_JS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map) return false;
if (sub.map.__benchListening) return true;
sub.map.on('render', () => window.__bench.drawn.push(['render', performance.now()]));
sub.map.on('idle', () => window.__bench.drawn.push(['idle', performance.now()]));
sub.map.__benchListening = true;
return true;
"""

# The map has drawn a response that ended at `end`: the first idle after a render after it.
DRAWN_JS = """
const end = arguments[0];
const events = window.__bench.drawn.filter(([, t]) => t >= end);
const first = events.findIndex(([kind]) => kind === 'render');
if (first < 0) return null;
const idle = events.slice(first).find(([kind]) => kind === 'idle');
return idle ? idle[1] : null;
"""

# The request that started at `start`: its response end.
RESPONSE_END_JS = """
const start = arguments[0];
const entries = performance.getEntriesByType('resource')
  .filter(e => e.name.includes('_dash-update-component') && Math.abs(e.startTime - start) < 5);
return entries.length ? entries[0].responseEnd : null;
"""

MAP_READY_JS = """
const gd = document.querySelector(arguments[0] + ' .js-plotly-plot');
const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
if (!sub || !sub.map || !sub.map.loaded() || !gd.data || !gd.data.length) return false;
return sub.map.queryRenderedFeatures().length > 0;
"""


def make_pings(n: int, seed: int):
    """ts, lon, lat, weight of one window's pings, starting at GENERATED_AT."""
    import crowd_aggregate  # bench/crowd_aggregate.py: the same district-shaped pings

    outline = crowd_aggregate.district()
    return crowd_aggregate.synthetic_pings(n, outline, np.random.default_rng(seed))


def store_window(url: str, start: dt.datetime, ts, lon, lat, weight, *, factor: float = 1.0):
    """Aggregate a window's pings with dashboard.crowd and store its cells as the job does."""
    from sqlalchemy import delete, insert

    from dashboard import crowd, versions
    from dashboard.db import session_scope
    from dashboard.models import CrowdCount, CrowdWindow, utcnow

    grid = crowd.grid_from_settings()
    frame = crowd.aggregate(ts, lon, lat, weight * factor, grid=grid, window_minutes=15)
    assert frame["window_start"].nunique() == 1
    rows = [
        {
            "window_start": start,
            "cell_id": c,
            "count": float(p),
            "observations": int(o),
            "density_km2": float(d),
        }
        for c, p, o, d in zip(
            frame["cell_id"], frame["count"], frame["observations"], frame["density_km2"],
            strict=True,
        )
    ]
    with session_scope(url) as session:
        session.execute(delete(CrowdCount).where(CrowdCount.window_start == start))
        session.execute(delete(CrowdWindow).where(CrowdWindow.window_start == start))
        session.execute(insert(CrowdCount), rows)
        session.add(
            CrowdWindow(
                window_start=start,
                cells=len(rows),
                people=float(frame["count"].sum()),
                observations=int(frame["observations"].sum()),
            )
        )
        versions.bump("crowd", session=session, at=utcnow())
    return len(rows)


def build(folder: Path, pings: int) -> tuple[str, dt.datetime, list]:
    from dashboard import crowd, migrate
    from dashboard.db import get_engine, session_scope
    from dashboard.demo import build_demo, write_demo
    from dashboard.models import utcnow

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        write_demo(build_demo(), session=session)
    # The newest window that has ended, and the one before: what the wall and /crowd show.
    newest = crowd.window_start_of(utcnow(), 15) - dt.timedelta(minutes=15)
    windows = []
    for seed, start in zip(SEEDS, (newest - dt.timedelta(minutes=15), newest), strict=True):
        ts, lon, lat, weight = make_pings(pings, seed)
        ts = ts + (np.datetime64(start.replace(tzinfo=None), "us") - GENERATED_AT)
        cells = store_window(url, start, ts, lon, lat, weight)
        windows.append((start, ts, lon, lat, weight, cells))
    _, _, lon, lat, weight, _ = windows[-1]
    np.save(folder / "lat.npy", lat)
    np.save(folder / "lon.npy", lon)
    np.save(folder / "weight.npy", weight)
    get_engine(url).dispose()
    return url, newest, windows


# --------------------------------------------------------------------------- the server


def start_server(url: str, folder: Path) -> tuple[subprocess.Popen, str]:
    (folder / "points.txt").write_text(str(len(np.load(folder / "lat.npy"))))
    os.environ["BENCH_FOLDER"] = str(folder)
    return serve_app(
        url,
        folder,
        module="bench_crowd_app",
        source=NAIVE_APP,
        env={"DASHBOARD_REFRESH_INTERVAL_S": "1", "BENCH_FOLDER": str(folder)},
        timeout_s=90,
    )


def post(base: str, body: dict) -> bytes:
    request = urllib.request.Request(
        base + "/_dash-update-component",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        assert response.status == 200, response.status
        return response.read()


def _multi(outputs: list[tuple[str, str]]) -> tuple[str, list[dict]]:
    name = "...".join(f"{i}.{p}" for i, p in outputs)
    return f"..{name}..", [{"id": i, "property": p} for i, p in outputs]


def wall_body(store: dict, size: dict, drawn: dict | None) -> dict:
    output, outputs = _multi(
        [
            ("wall-crowd-map", "figure"),
            ("wall-crowd-drawn", "data"),
            ("wall-crowd-time", "children"),
            ("wall-crowd-people", "children"),
            ("wall-crowd-red-areas", "children"),
        ]
    )
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [{"id": "wall-versions", "property": "data", "value": store}],
        "state": [
            {"id": "wall-lang", "property": "data", "value": "zh"},
            {"id": "wall-crowd-map-size", "property": "data", "value": size},
            {"id": "wall-crowd-drawn", "property": "data", "value": drawn},
            {"id": "wall-crowd-map", "property": "relayoutData", "value": None},
        ],
        "changedPropIds": ["wall-versions.data"],
    }


def page_body(windows: dict, value: int, size: dict, drawn: dict | None) -> dict:
    output, outputs = _multi(
        [
            ("crowd-map", "figure"),
            ("crowd-map-drawn", "data"),
            ("crowd-window", "children"),
            ("crowd-people", "children"),
            ("crowd-red-areas", "children"),
        ]
    )
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [
            {"id": "crowd-slider", "property": "value", "value": value},
            {"id": "crowd-windows", "property": "data", "value": windows},
            {"id": "crowd-map-size", "property": "data", "value": size},
        ],
        "state": [
            {"id": "crowd-lang", "property": "data", "value": "zh"},
            {"id": "crowd-map-drawn", "property": "data", "value": drawn},
            {"id": "crowd-map", "property": "relayoutData", "value": None},
        ],
        "changedPropIds": ["crowd-slider.value"],
    }


def measure_bytes(base: str, url: str) -> dict[str, tuple[int, int]]:
    """(raw, gzipped) bytes of each response, as the server sends them."""
    from dashboard import freshness, versions
    from dashboard.db import session_scope
    from dashboard.models import utcnow

    with session_scope(url) as session:
        current = versions.current(session=session)
    store = {**freshness.snapshot(current, {}, now=utcnow()), "changed": ["crowd"]}
    size = {"w": 400, "h": 520}  # the 4K wall's crowd map, as the browser measures it
    full = post(base, wall_body(store, size, None))
    drawn = json.loads(full)["response"]["wall-crowd-drawn"]["data"]
    patch = post(base, wall_body(store, size, drawn))
    load = json.loads(
        post(
            base,
            {
                "output": "..crowd-windows.data...crowd-slider.max...crowd-slider.marks..."
                "crowd-slider.value..",
                "outputs": [
                    {"id": "crowd-windows", "property": "data"},
                    {"id": "crowd-slider", "property": "max"},
                    {"id": "crowd-slider", "property": "marks"},
                    {"id": "crowd-slider", "property": "value"},
                ],
                "inputs": [{"id": "crowd-tick", "property": "n_intervals", "value": 0}],
                "state": [
                    {"id": "crowd-windows", "property": "data", "value": None},
                    {"id": "crowd-slider", "property": "value", "value": None},
                ],
                "changedPropIds": ["crowd-tick.n_intervals"],
            },
        )
    )
    windows = load["response"]["crowd-windows"]["data"]
    page_size = {"w": 2200, "h": 720}
    page_full = post(base, page_body(windows, 1, page_size, None))
    page_drawn = json.loads(page_full)["response"]["crowd-map-drawn"]["data"]
    page_patch = post(base, page_body(windows, 0, page_size, page_drawn))
    naive = post(
        base,
        {
            "output": "naive-map.figure",
            "outputs": {"id": "naive-map", "property": "figure"},
            "inputs": [{"id": "naive-go", "property": "n_clicks", "value": 1}],
            "changedPropIds": ["naive-go.n_clicks"],
        },
    )
    assert b'"operations"' in patch and b"geojson" not in patch, "not a values Patch"

    def sizes(payload: bytes) -> tuple[int, int]:
        return len(payload), len(gzip.compress(payload, 6))

    return {
        "wall_patch": sizes(patch),
        "page_patch": sizes(page_patch),
        "wall_full": sizes(full),
        "page_full": sizes(page_full),
        "naive": sizes(naive),
    }


# --------------------------------------------------------------------------- the browser


def new_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bench-chrome-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--use-angle=swiftshader",
        "--enable-unsafe-swiftshader",
        f"--user-data-dir={profile}",
        f"--window-size={WIDTH},{HEIGHT}",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": WIDTH, "height": HEIGHT, "deviceScaleFactor": 1, "mobile": False},
    )
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": HOOK_JS})
    driver.set_script_timeout(300)
    return driver, profile


def _until(driver, script: str, *args, timeout: float = 180.0, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.05)
    raise TimeoutError(f"timed out waiting for {what}")


def run_refreshes(driver, selector: str, watch: str, trigger, refreshes: int) -> list[dict]:
    """Trigger ``refreshes + 1`` refreshes (the first is a warm-up); for each, the time from its
    response's end to the map drawn and the longest task in between."""
    _until(driver, MAP_READY_JS, selector, what=f"{selector} drawn")
    time.sleep(1.5)  # the first full figure's tiles settle
    driver.execute_script(f"window.__benchWatch = {json.dumps(watch)};")
    results = []
    for n in range(refreshes + 1):
        _until(driver, LISTEN_JS, selector, what="the listeners")  # a new map: listen again
        starts = driver.execute_script("return window.__bench.starts.length")
        trigger(n)
        _until(
            driver,
            f"return window.__bench.starts.length > {starts}",
            what=f"refresh {n}'s request",
        )
        start = driver.execute_script(f"return window.__bench.starts[{starts}]")
        end = _until(driver, RESPONSE_END_JS, start, what=f"refresh {n}'s response")
        done = _until(driver, DRAWN_JS, end, what=f"refresh {n}'s draw")
        longest = driver.execute_script(
            "return Math.max(0, ...window.__bench.long"
            f".filter(([s, d]) => s + d >= {end} - 1 && s <= {done}).map(([s, d]) => d));"
        )
        if n:
            results.append({"drawn_ms": done - end, "longest_ms": longest})
        time.sleep(0.5)
    return results


def measure_browser(base: str, url: str, windows: list, refreshes: int) -> dict | None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return None
    from selenium.webdriver.common.keys import Keys

    out = {}
    newest, ts, lon, lat, weight, _ = windows[-1]

    driver, profile = new_browser()
    try:
        driver.get(base + "/")

        def recompute(n: int) -> None:  # the job recomputes the newest window
            store_window(url, newest, ts, lon, lat, weight, factor=1.0 + 0.25 * ((n + 1) % 2))

        out["wall"] = run_refreshes(
            driver, "#wall-crowd-map", "wall-crowd-map.figure", recompute, refreshes
        )
        driver.get(base + "/crowd")
        thumb = None

        def step(n: int) -> None:  # the slider between the two windows
            nonlocal thumb
            thumb = thumb or driver.find_element("css selector", "#crowd-slider [role=slider]")
            thumb.send_keys(Keys.ARROW_LEFT if n % 2 == 0 else Keys.ARROW_RIGHT)

        _until(
            driver,
            "const el = document.getElementById('crowd-window');"
            "return el && el.textContent.includes(':');",
            what="the /crowd page's window",
        )
        out["page"] = run_refreshes(driver, "#crowd-map", "crowd-map.figure", step, refreshes)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)

    # The usual way with every point; if the tab crashes, with a half, a quarter... of them.
    from selenium.common.exceptions import WebDriverException

    out["naive"], out["naive_crashed"] = [], []
    points = len(lon)
    while points >= 1000 and not out["naive"]:
        (Path(os.environ["BENCH_FOLDER"]) / "points.txt").write_text(str(points))
        driver, profile = new_browser()
        try:
            driver.get(base + "/bench-naive")
            button = _until(driver, "return document.getElementById('naive-go')", what="page")
            button.click()  # the first figure (map creation), before the measured refreshes
            out["naive"] = run_refreshes(
                driver, "#naive-map", "naive-map.figure", lambda _n, b=button: b.click(), refreshes
            )
            out["naive_points"] = points
        except (WebDriverException, TimeoutError) as exc:
            out["naive_crashed"].append((points, str(exc).splitlines()[0]))
            points //= 2
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    return out


# --------------------------------------------------------------------------- report


def kb(n: int) -> str:
    return f"{n / 1024:,.1f} KB"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--refreshes", type=int, default=7, help="refreshes per map (default 7)")
    parser.add_argument("--pings", type=int, default=1_000_000, help="pings per window")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="crowd-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        url, newest, windows = build(folder, args.pings)
        print(
            f"demo district and 2 windows of {args.pings:,} pings built in "
            f"{time.perf_counter() - started:.1f} s ({windows[-1][-1]:,} cells in the newest)"
        )
        os.environ["DASHBOARD_DATABASE_URL"] = url
        from dashboard.config import get_settings

        get_settings.cache_clear()
        proc, base = start_server(url, folder)
        try:
            sizes = measure_bytes(base, url)
            browser = measure_browser(base, url, windows, args.refreshes)
        finally:
            proc.terminate()
            proc.wait(timeout=20)

    print()
    print(f"(a) Bytes per refresh ({args.pings:,} pings in the window; gzip level 6)")
    rows = [
        ("ours, wall: Patch of level codes + panel text", sizes["wall_patch"]),
        ("ours, /crowd: Patch of codes + hover densities", sizes["page_patch"]),
        ("usual: density_map of all raw points", sizes["naive"]),
        ("(ours, once per page load: the full wall figure)", sizes["wall_full"]),
        ("(ours, once per page load: the full /crowd figure)", sizes["page_full"]),
    ]
    print(f"  {'':52} {'raw':>12} {'gzipped':>12}")
    for name, (raw, packed) in rows:
        print(f"  {name:52} {kb(raw):>12} {kb(packed):>12}")
    ratio = sizes["naive"][1] / sizes["wall_patch"][1]
    print(f"  the usual way sends {ratio:,.0f}x more per refresh than the wall (gzipped)")

    print()
    print(f"(b) Headless Chromium at {WIDTH}x{HEIGHT}: response end -> map drawn, longest task")
    if browser is None:
        print("  skipped: chromium/chromedriver not installed")
        return
    print(f"  {'':38} {'drawn, median':>14} {'max':>9} {'longest task, median':>21} {'max':>9}")
    medians = {}
    for points, error in browser["naive_crashed"]:
        print(f"  usual: density_map of {points:,} points: {error}")
    if not browser["naive"]:
        print("  usual: density_map: no size the browser could draw")
    naive = f"usual: density_map, {browser.get('naive_points', 0):,} pts"
    for key, name in (
        ("wall", "ours, wall crowd panel"),
        ("page", "ours, /crowd (2200x720 map)"),
        ("naive", naive),
    ):
        runs = browser[key]
        if not runs:
            continue
        drawn = [r["drawn_ms"] for r in runs]
        longest = [r["longest_ms"] for r in runs]
        medians[key] = statistics.median(drawn)
        print(
            f"  {name:38} {statistics.median(drawn):>11,.0f} ms {max(drawn):>6,.0f} ms"
            f" {statistics.median(longest):>18,.0f} ms {max(longest):>6,.0f} ms"
        )
    print(
        f"  over {args.refreshes} refreshes each; drawn = MapLibre's first idle after it painted"
        " the response's data"
    )
    if "naive" in medians:
        print(
            f"  the usual way takes {medians['naive'] / medians['wall']:,.0f}x the wall's time"
            f" and {medians['naive'] / medians['page']:,.0f}x /crowd's"
        )


if __name__ == "__main__":
    main()
