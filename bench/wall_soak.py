# ruff: noqa: T201 - a benchmark prints its figures
"""The wall screen left alone: the 4K wall ticking for an hour in headless Chromium.

    .venv/bin/python bench/wall_soak.py [--minutes 60] [--interval 5] [--from-minute 10]

It builds the demo district in a temporary SQLite database, serves the app with gunicorn (two
workers of eight threads, one per core of a small server) and runs the scheduler beside it in
demo mode, so the simulator writes upstream files every 30 s and the jobs ingest and
aggregate them: the wall redraws panels during the hour, as on a real day. The wall is
opened at 3840x2160 with ``DASHBOARD_REFRESH_INTERVAL_S`` = ``--interval``.

Every minute it records, in the browser:
- the JS heap after a forced garbage collection (CDP HeapProfiler.collectGarbage, then
  Runtime.getHeapUsage: what the page retains, the figure that grows when something leaks),
  and the heap before it; the DOM's node and event-listener counts (Memory.getDOMCounters);
- every request of the minute (Resource Timing, cleared each minute): a tick is the
  /api/v1/live check and the callbacks it triggers until the next check; a tick's server time
  is from its first request's requestStart to its last response's end (the callbacks of one
  tick run in parallel), including localhost's network and gunicorn's queue; the sum of its
  requests' times is printed too (what the server spent, the CPU of one tick);
- the console's errors.

It prints one line a minute and a summary against the targets: heap growth from minute
``--from-minute`` to the end <= 10%, no console error, every tick's server time <= half the
interval.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _serve import serve_app  # noqa: E402 - after the path is set

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
CHROME_ARGS = (
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
    # An unattended wall is never "in the background": timers must not be throttled.
    "--disable-background-timer-throttling",
    "--disable-renderer-backgrounding",
)

# Every request since the last call, then the buffer is cleared (it holds 250 by default).
REQUESTS_JS = """
const out = performance.getEntriesByType('resource').map(e => ({
  name: e.name, start: e.requestStart, end: e.responseEnd, bytes: e.transferSize}));
performance.clearResourceTimings();
return out;
"""


def build_database(folder: Path) -> str:
    from dashboard import migrate
    from dashboard.db import session_scope
    from dashboard.demo import build_demo, write_demo

    url = f"sqlite:///{folder / 'soak.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        write_demo(build_demo(), session=session)
    return url


def start_scheduler(url: str, folder: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": url,
        "DASHBOARD_DEMO": "true",
        "DASHBOARD_INBOX_DIR": str(folder / "inbox"),
    }
    return subprocess.Popen(
        [sys.executable, "-m", "dashboard", "scheduler"],
        cwd=ROOT,
        env=env,
        stdout=open(folder / "scheduler.log", "wb"),  # noqa: SIM115 - lives as long as the run
        stderr=subprocess.STDOUT,
    )


def open_browser():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in CHROME_ARGS:
        options.add_argument(arg)
    options.add_argument(f"--user-data-dir={tempfile.mkdtemp(prefix='soak-profile-')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.execute_cdp_cmd(
        "Emulation.setDeviceMetricsOverride",
        {"width": 3840, "height": 2160, "deviceScaleFactor": 1, "mobile": False},
    )
    return driver


def sample(driver) -> dict:
    before = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"]
    driver.execute_cdp_cmd("HeapProfiler.collectGarbage", {})
    after = driver.execute_cdp_cmd("Runtime.getHeapUsage", {})["usedSize"]
    dom = driver.execute_cdp_cmd("Memory.getDOMCounters", {})
    return {
        "heap_mb": after / 2**20,
        "heap_before_gc_mb": before / 2**20,
        "nodes": dom["nodes"],
        "listeners": dom["jsEventListeners"],
    }


def ticks_of(requests: list[dict]) -> list[dict]:
    """Group the requests into ticks: a /api/v1/live check and what follows it."""
    ticks: list[dict] = []
    for r in sorted(requests, key=lambda r: r["start"]):
        if "/api/v1/live" in r["name"]:
            ticks.append(
                {
                    "start": r["start"],
                    "end": r["end"],
                    "sum_ms": r["end"] - r["start"],
                    "requests": 1,
                    "bytes": r["bytes"],
                }
            )
        elif "_dash-update-component" in r["name"] and ticks:
            tick = ticks[-1]
            tick["end"] = max(tick["end"], r["end"])
            tick["sum_ms"] += r["end"] - r["start"]
            tick["requests"] += 1
            tick["bytes"] += r["bytes"]
    for tick in ticks:
        tick["server_ms"] = tick["end"] - tick["start"]
    return ticks


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--interval", type=int, default=5, help="the wall's refresh, seconds")
    parser.add_argument("--from-minute", type=int, default=10, help="the heap's baseline")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (8 threads)")
    args = parser.parse_args()
    from dashboard import __version__

    folder = Path(tempfile.mkdtemp(prefix="wall-soak-"))
    print(f"dashboard {__version__}; building the demo district in {folder} ...", flush=True)
    url = build_database(folder)
    env = {"DASHBOARD_REFRESH_INTERVAL_S": str(args.interval), "DASHBOARD_BUILD_ID": "soak"}
    source = "from app import server\n"
    app, base = serve_app(
        url, folder, module="soak_app", source=source, env=env, workers=args.workers
    )
    scheduler = start_scheduler(url, folder)
    driver = open_browser()
    rows: list[dict] = []
    errors: list[str] = []
    all_ticks: list[dict] = []
    try:
        driver.get(base + "/")
        time.sleep(20)  # the first full render
        driver.execute_script(REQUESTS_JS)  # the first render's requests are not ticks
        print(
            "minute  heap MB (after GC / before)  DOM nodes  listeners  ticks  "
            "tick server ms (median / max)  changed ticks",
            flush=True,
        )
        start = time.monotonic()
        minute = 0
        while minute < args.minutes:
            minute += 1
            time.sleep(max(0.0, start + 60 * minute - time.monotonic()))
            ticks = ticks_of(driver.execute_script(REQUESTS_JS))
            all_ticks += ticks
            errors += [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
            row = {**sample(driver), "minute": minute, "ticks": len(ticks)}
            server = [t["server_ms"] for t in ticks] or [0.0]
            row["median_ms"], row["max_ms"] = statistics.median(server), max(server)
            row["changed"] = sum(1 for t in ticks if t["requests"] > 2)
            rows.append(row)
            print(
                f"{minute:>6}  {row['heap_mb']:>8.1f} / {row['heap_before_gc_mb']:<8.1f}"
                f"          {row['nodes']:>9,}  {row['listeners']:>9,}  {len(ticks):>5}  "
                f"{row['median_ms']:>12.1f} / {row['max_ms']:<10.1f}  {row['changed']:>12}",
                flush=True,
            )
        checks = driver.execute_script("return window.dashboardLive.checks;")
        reloaded = driver.execute_script("return window.dashboardLive.failures;")
    finally:
        driver.quit()
        scheduler.terminate()
        app.terminate()
        scheduler.wait(timeout=30)
        app.wait(timeout=30)

    base_row = next((r for r in rows if r["minute"] == args.from_minute), rows[0])
    last = rows[-1]
    growth = 100 * (last["heap_mb"] - base_row["heap_mb"]) / base_row["heap_mb"]
    server = [t["server_ms"] for t in all_ticks]
    half = 1000 * args.interval / 2
    over = [s for s in server if s > half]
    print()
    print(f"ticks: {len(all_ticks)} measured, {checks} checks in the page, {reloaded} failed")
    print(
        f"JS heap after GC: {base_row['heap_mb']:.1f} MB at minute {base_row['minute']}, "
        f"{last['heap_mb']:.1f} MB at minute {last['minute']}: {growth:+.1f}% (target <= +10%)"
    )
    print(
        f"DOM nodes {base_row['nodes']:,} -> {last['nodes']:,}; "
        f"listeners {base_row['listeners']:,} -> {last['listeners']:,}"
    )
    summed = [t["sum_ms"] for t in all_ticks]
    print(
        f"tick requests summed: median {statistics.median(summed):.1f} ms, "
        f"max {max(summed):.1f} ms; bytes per tick: median "
        f"{statistics.median(t['bytes'] for t in all_ticks):.0f} B"
    )
    print(
        f"tick server time: median {statistics.median(server):.1f} ms, "
        f"p95 {statistics.quantiles(server, n=20)[-1]:.1f} ms, max {max(server):.1f} ms; "
        f"{len(over)} over half the interval ({half:.0f} ms)"
    )
    print(f"console errors: {len(errors)}")
    for message in errors[:10]:
        print("  ", message[:200])
    ok = growth <= 10 and not errors and not over
    print("targets met" if ok else "TARGETS MISSED")
    shutil.rmtree(folder, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
