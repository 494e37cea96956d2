# ruff: noqa: T201 - a benchmark prints its figures
"""How fast the wall screen draws, and what one refresh tick costs, next to the usual Dash way.

    .venv/bin/python bench/wall_render.py [--loads 5] [--ticks 200]

It builds the demo district in a temporary SQLite database, serves the app with gunicorn (one
worker, as in production but smaller), and measures:

1. first full render in headless Chromium at 3840x2160: navigation start -> map drawn (MapLibre
   loaded, the committees' fills rendered) and key figures filled; median of N fresh browsers;
2. the server side of one refresh tick when nothing changed: POST /_dash-update-component for the
   version-check callback, median and p95 over M requests;
3. the same for the usual alternative: an Interval whose callback rebuilds the full map figure
   every tick (registered on the same server by this script only), with the bytes it sends;
4. what our design sends when the risk scores did change: the size of the values Patch.

Needs Chromium and chromedriver for (1); the rest runs without a browser.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _serve import serve_app  # noqa: E402 - after the path is set

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"

# Served by gunicorn: the app plus, for comparison only, the "usual" callback that rebuilds the
# whole map figure on every tick. Nothing of it is part of the product.
NAIVE_APP = """
import app as product
from dash import Input, Output
from callbacks.common import map_labels
from dashboard import figures, queries
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.models import AreaLevel

LEVELS = (AreaLevel.COMPOUND, AreaLevel.COMMITTEE, AreaLevel.SUBDISTRICT, AreaLevel.DISTRICT)

@product.app.callback(Output("naive-map", "figure"), Input("naive-tick", "n_intervals"))
def naive_refresh(_n):
    scope = queries.AreaScope.whole_district()
    with session_scope(get_settings().database_url) as session:
        shapes = {lv: queries.areas(session=session, scope=scope, level=lv) for lv in LEVELS}
        day = queries.latest_risk_date(session=session, scope=scope)
        bands = {} if day is None else queries.risk_bands_by_compound(
            day, session=session, scope=scope)
    return figures.risk_map(*(shapes[lv] for lv in LEVELS), bands, map_labels("zh"))

server = product.server
"""

READY_JS = """
const done = arguments[arguments.length - 1];
(function poll() {
  const gd = document.querySelector('#wall-map .js-plotly-plot');
  const sub = gd && gd._fullLayout && gd._fullLayout.map && gd._fullLayout.map._subplot;
  const tiles = document.querySelector('#kpi-committees .num');
  if (sub && sub.map && sub.map.loaded() && tiles) {
    const fills = sub.map.queryRenderedFeatures().filter(f => f.layer.id.endsWith('-fill')).length;
    if (fills > 300) return done(performance.now());
  }
  setTimeout(poll, 20);
})();
"""


def build_database(folder: Path) -> str:
    from dashboard import migrate
    from dashboard.db import get_engine, session_scope
    from dashboard.demo import build_demo, write_demo

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        write_demo(build_demo(), session=session)
    get_engine(url).dispose()
    return url


def start_server(url: str, folder: Path) -> tuple[subprocess.Popen, str]:
    return serve_app(url, folder, module="bench_app", source=NAIVE_APP)


def post(base: str, body: dict) -> tuple[float, int, bytes]:
    data = json.dumps(body).encode()
    request = urllib.request.Request(
        base + "/_dash-update-component", data=data, headers={"Content-Type": "application/json"}
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        payload = response.read()
        status = response.status
    return (time.perf_counter() - started) * 1000, status, payload


def tick_body(store: dict | None, n: int) -> dict:
    return {
        "output": "wall-versions.data",
        "outputs": {"id": "wall-versions", "property": "data"},
        "inputs": [{"id": "wall-tick", "property": "n_intervals", "value": n}],
        "state": [{"id": "wall-versions", "property": "data", "value": store}],
        "changedPropIds": ["wall-tick.n_intervals"],
    }


def naive_body(n: int) -> dict:
    return {
        "output": "naive-map.figure",
        "outputs": {"id": "naive-map", "property": "figure"},
        "inputs": [{"id": "naive-tick", "property": "n_intervals", "value": n}],
        "changedPropIds": ["naive-tick.n_intervals"],
    }


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def measure_ticks(base: str, ticks: int) -> dict[str, float]:
    _, status, payload = post(base, tick_body(None, 0))
    assert status == 200, status
    store = json.loads(payload)["response"]["wall-versions"]["data"]
    times, sizes = [], []
    for n in range(ticks):
        ms, status, payload = post(base, tick_body(store, n + 1))
        # Nothing changed: Dash answers with no output at all (no_update).
        assert status == 204 or not json.loads(payload)["response"], payload[:200]
        times.append(ms)
        sizes.append(len(payload))
    request_bytes = len(json.dumps(tick_body(store, 1)))
    return {
        "median": statistics.median(times),
        "p95": p95(times),
        "response": max(sizes),
        "request": request_bytes,
    }


def measure_naive(base: str, ticks: int) -> dict[str, float]:
    times, sizes = [], []
    for n in range(ticks):
        ms, status, payload = post(base, naive_body(n))
        assert status == 200, status
        times.append(ms)
        sizes.append(len(payload))
    return {
        "median": statistics.median(times),
        "p95": p95(times),
        "response": statistics.median(sizes),
        "request": len(json.dumps(naive_body(1))),
    }


def patch_bytes(url: str) -> tuple[int, int]:
    """Bytes of the values Patch (scores changed) and of the full figure (page load)."""
    os.environ["DASHBOARD_DATABASE_URL"] = url
    from dashboard.config import get_settings

    get_settings.cache_clear()
    from plotly.utils import PlotlyJSONEncoder

    from callbacks import wall
    from dashboard import freshness, versions
    from dashboard.db import session_scope
    from dashboard.models import utcnow

    with session_scope(url) as session:
        current = versions.current(session=session)
    store = freshness.snapshot(current, {}, now=utcnow())
    full = wall.refresh_map({**store, "changed": ["areas"]}, "zh", {"w": 1880, "h": 1720})
    patch = wall.refresh_map({**store, "changed": ["risk"]}, "zh", {"w": 1880, "h": 1720})

    def size(obj) -> int:
        return len(json.dumps(obj, cls=PlotlyJSONEncoder))

    return size(patch.to_plotly_json()), size(full)


def measure_render(base: str, loads: int) -> list[float] | None:
    if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
        return None
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    results = []
    for _ in range(loads):
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
            "--disable-sync",
            "--disable-component-update",
            "--use-angle=swiftshader",
            "--enable-unsafe-swiftshader",
            f"--user-data-dir={profile}",
            "--window-size=3840,2160",
        ):
            options.add_argument(arg)
        driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
        try:
            driver.execute_cdp_cmd(
                "Emulation.setDeviceMetricsOverride",
                {"width": 3840, "height": 2160, "deviceScaleFactor": 1, "mobile": False},
            )
            driver.set_script_timeout(120)
            driver.get(base + "/")
            results.append(driver.execute_async_script(READY_JS))
        finally:
            driver.quit()
            shutil.rmtree(profile, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--loads", type=int, default=5, help="fresh browser loads (default 5)")
    parser.add_argument("--ticks", type=int, default=200, help="tick requests (default 200)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="wall-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        url = build_database(folder)
        print(f"demo district built in {time.perf_counter() - started:.1f} s ({url})")
        proc, base = start_server(url, folder)
        try:
            renders = measure_render(base, args.loads)
            ours = measure_ticks(base, args.ticks)
            naive = measure_naive(base, args.ticks)
        finally:
            proc.terminate()
            proc.wait(timeout=10)
        patch, full = patch_bytes(url)

    print()
    print("Wall screen, first full render at 3840x2160 (navigation start -> map and tiles drawn)")
    if renders is None:
        print("  skipped: chromium/chromedriver not installed")
    else:
        runs = ", ".join(f"{r:.0f}" for r in renders)
        median = statistics.median(renders)
        print(f"  median {median:.0f} ms over {len(renders)} fresh loads ({runs} ms)")
    print()
    print(f"Refresh tick, server round trip over {args.ticks} requests (local gunicorn, 1 worker)")
    print(f"  {'':42} {'median':>9} {'p95':>9} {'response B':>11} {'request B':>10}")
    for name, row in (
        ("this app: version check, nothing changed", ours),
        ("usual Dash: rebuild the full map figure", naive),
    ):
        print(
            f"  {name:42} {row['median']:>7.2f}ms {row['p95']:>7.2f}ms"
            f" {row['response']:>11,.0f} {row['request']:>10,}"
        )
    print()
    print("When the risk scores do change, this app sends a Patch of the band values:")
    print(f"  Patch {patch:,} bytes; the full figure, sent once at page load, is {full:,} bytes")


if __name__ == "__main__":
    main()
