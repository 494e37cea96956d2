# ruff: noqa: T201 - a benchmark prints its figures
"""What a tick of the /registers grid costs at 20,000 enterprises, 1 % changing per tick.

    .venv/bin/python bench/registers_grid.py [--rows 20000] [--ticks 25]

A fresh SQLite database with 20,000 enterprises in 14 subdistricts (a fifth of them lagging),
served by gunicorn (bench/_serve.py), the page ticking every second. Each tick, 200 rows
change (state, headcounts, capacity): the enterprises' data version is bumped and the rows are
stamped with it (``sync_version``), as the ingestion does. Side by side, in one run:

a. bytes per refresh, from the real server: the tick callback's response when the version
   moved (only the rows whose sync_version is above the mark, each with its ``match`` flag)
   against the full load's response, the whole table as ``rowData`` (what a filter change
   sends, and what a naive page would send every tick); raw and gzipped. Target: >= 50x.
b. headless Chromium on /registers with the 20,000 rows loaded (with the 1 s tick running
   from the start: the full load must land although it takes longer than a tick): the time
   the browser takes from the tick's changes arriving to the grid having applied them and the
   row count recounted (``performance.now()`` around the row-node look-ups,
   ``applyTransaction``, which re-sorts and redraws the visible rows, and the count text, in
   assets/registers.js), median over the ticks; target <= 100 ms. For comparison, replacing
   the whole ``rowData`` (20,000 rows, 200 of them changed) via ``setGridOption('rowData')``
   on the same grid, also median.
"""

from __future__ import annotations

import argparse
import datetime as dt
import gzip
import json
import shutil
import statistics
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from _serve import serve_app  # noqa: E402 - after the path is set

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
STATES = ("not_registered", "registered", "approved", "reopened", "suspended")
INDUSTRIES = ("制造业", "批发零售", "信息技术", "餐饮", "建筑", "物流", "商务服务")
TODAY = dt.date.today()


def build(url: str, rows: int, seed: int = 5) -> list[str]:
    """The district's 14 subdistricts and ``rows`` enterprises; returns their credit codes."""
    from sqlalchemy import insert

    from dashboard import migrate, versions
    from dashboard.db import session_scope
    from dashboard.models import Area, AreaLevel, Enterprise

    migrate.upgrade(url)
    rng = np.random.default_rng(seed)
    subs = [f"310104{n:03d}" for n in range(1, 15)]
    at = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    codes = [f"91310104MA{n:07d}X" for n in range(rows)]
    with session_scope(url) as session:
        session.add(Area(code="310104", level=AreaLevel.DISTRICT, name="徐汇区"))
        session.flush()
        for n, code in enumerate(subs):
            session.add(
                Area(
                    code=code,
                    level=AreaLevel.SUBDISTRICT,
                    name=f"第{n + 1}街道",
                    parent_code="310104",
                )
            )
        session.flush()
        planned = rng.integers(-20, 20, rows)
        state = rng.choice(len(STATES), rows, p=[0.05, 0.15, 0.2, 0.55, 0.05])
        session.execute(
            insert(Enterprise),
            [
                {
                    "credit_code": code,
                    "name": f"上海市徐汇区示例企业第{i}号有限公司",
                    "address": f"徐汇区某某路{i % 900 + 1}号",
                    "subdistrict_code": subs[i % len(subs)],
                    "industry": INDUSTRIES[i % len(INDUSTRIES)],
                    "state": STATES[state[i]],
                    "planned_reopen_date": TODAY + dt.timedelta(days=int(planned[i])),
                    "planned_headcount": 50,
                    "returned_headcount": int(rng.integers(0, 50)),
                    "capacity_pct": float(rng.integers(0, 100)),
                    "pending_approvals": int(rng.integers(0, 5)),
                    "checkins_today": int(rng.integers(0, 50)),
                    "labour_gap": {"电工": int(rng.integers(0, 3))},
                    "updated_at": at,
                }
                for i, code in enumerate(codes)
            ],
        )
        versions.bump("enterprises", session=session, at=at)
    return codes


def change(url: str, codes: list[str], rng, n: int) -> None:
    """One tick's worth of feed: ``n`` enterprises change, the version is bumped."""
    from sqlalchemy import update

    from dashboard import versions
    from dashboard.db import session_scope
    from dashboard.models import Enterprise, utcnow

    now = utcnow()
    picked = rng.choice(len(codes), n, replace=False)
    with session_scope(url) as session:
        version = versions.bump("enterprises", session=session, at=now)
        for i in picked:
            session.execute(
                update(Enterprise)
                .where(Enterprise.credit_code == codes[i])
                .values(
                    state=STATES[int(rng.integers(1, 4))],
                    returned_headcount=int(rng.integers(0, 50)),
                    capacity_pct=float(rng.integers(0, 100)),
                    updated_at=now,
                    sync_version=version,
                )
            )


# --------------------------------------------------------------------------- (a) bytes


def callback_outputs(base: str, first_output: str) -> tuple[str, list[dict[str, str]]]:
    """The output spec of the page's callback whose first output is ``first_output`` (as the
    browser sends it: duplicate outputs carry a hash after ``@``)."""
    with urllib.request.urlopen(base + "/_dash-dependencies", timeout=30) as response:
        deps = json.loads(response.read())
    spec = next(d for d in deps if d["output"].startswith(f"..{first_output}..."))
    outputs = []
    for part in spec["output"].strip(".").split("..."):
        component, prop = part.rsplit(".", 1)
        outputs.append({"id": component, "property": prop})
    return spec["output"], outputs


def full_body(base: str) -> dict:
    """The full load, as on page load (no SYNC yet)."""
    output, outputs = callback_outputs(base, "reg-grid.rowData")
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [
            {"id": "reg-register", "property": "value", "value": "enterprises"},
            {"id": "reg-subdistrict", "property": "value", "value": None},
            {"id": "reg-state", "property": "value", "value": None},
            {"id": "reg-reload", "property": "data", "value": None},
        ],
        "state": [
            {"id": "reg-lang", "property": "data", "value": "zh"},
            {"id": "reg-sync", "property": "data", "value": None},
        ],
        "changedPropIds": ["reg-register.value"],
    }


def tick_body(base: str, sync: dict, tick: int) -> dict:
    output, outputs = callback_outputs(base, "reg-changes.data")
    return {
        "output": output,
        "outputs": outputs,
        "inputs": [{"id": "reg-tick", "property": "n_intervals", "value": tick}],
        "state": [
            {"id": "reg-register", "property": "value", "value": "enterprises"},
            {"id": "reg-subdistrict", "property": "value", "value": None},
            {"id": "reg-state", "property": "value", "value": None},
            {"id": "reg-lang", "property": "data", "value": "zh"},
            {"id": "reg-sync", "property": "data", "value": sync},
            {"id": "reg-changes", "property": "data", "value": None},
            {"id": "reg-reload", "property": "data", "value": None},
        ],
        "changedPropIds": ["reg-tick.n_intervals"],
    }


def post(base: str, payload: dict) -> bytes:
    request = urllib.request.Request(
        base + "/_dash-update-component",
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=300) as response:
        return response.read()


def measure_bytes(base: str, url: str, codes: list[str], rng, per_tick: int, ticks: int):
    """(full responses, incremental responses): (raw, gzipped) sizes, and rows per tick."""
    full, incremental, rows = [], [], []
    for tick in range(ticks):
        whole = post(base, full_body(base))  # the whole table
        full.append((len(whole), len(gzip.compress(whole, 6))))
        sync = json.loads(whole)["response"]["reg-sync"]["data"]
        change(url, codes, rng, per_tick)
        part = post(base, tick_body(base, sync, tick + 1))
        answer = json.loads(part)["response"]
        assert "reg-grid" not in answer, "a tick resent the table"
        rows.append(len(answer["reg-changes"]["data"]["rows"]))
        incremental.append((len(part), len(gzip.compress(part, 6))))
    return full, incremental, rows


# --------------------------------------------------------------------------- (b) the browser

READY_JS = """
let api = null;
try { api = dash_ag_grid.getApi('reg-grid'); } catch (e) { return null; }
return api.getDisplayedRowCount() >= arguments[0] ? api.getDisplayedRowCount() : null;
"""

REPLACE_JS = """
const api = dash_ag_grid.getApi('reg-grid');
const rows = [];
api.forEachNode(n => rows.push(Object.assign({}, n.data)));
for (let i = 0; i < rows.length; i += 100) rows[i].capacity_pct = (rows[i].capacity_pct || 0) + 1;
const t0 = performance.now();
api.setGridOption('rowData', rows);
return performance.now() - t0;
"""


def measure_browser(base: str, url: str, codes, rng, per_tick: int, ticks: int, rows: int):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="bench-reg-")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        f"--user-data-dir={profile}",
        "--window-size=1920,1080",
    ):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    try:
        driver.get(base + "/registers")
        started = time.monotonic()
        deadline = started + 180
        while not driver.execute_script(READY_JS, rows):
            if time.monotonic() > deadline:
                raise TimeoutError("the grid never showed every row")
            time.sleep(0.2)
        loaded_s = time.monotonic() - started
        driver.execute_script("dash_ag_grid.getApi('reg-grid').__benchMarker = 1;")
        applied = []
        for _ in range(ticks + 1):  # the first is a warm-up
            before = driver.execute_script("return window.dashRegisters.applied.length")
            change(url, codes, rng, per_tick)
            deadline = time.monotonic() + 60
            while driver.execute_script("return window.dashRegisters.applied.length") <= before:
                if time.monotonic() > deadline:
                    raise TimeoutError("a tick was not applied")
                time.sleep(0.05)
            applied.append(driver.execute_script("return window.dashRegisters.applied.at(-1)"))
        same_grid = driver.execute_script(
            "return dash_ag_grid.getApi('reg-grid').__benchMarker === 1"
        )
        replace = [driver.execute_script(REPLACE_JS) for _ in range(6)][1:]
        shown = driver.execute_script(READY_JS, 1)
        return applied[1:], replace, same_grid, shown, loaded_s
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)


def kb(n: float) -> str:
    return f"{n / 1024:,.1f} kB"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20_000)
    parser.add_argument("--ticks", type=int, default=25)
    args = parser.parse_args()
    per_tick = args.rows // 100
    rng = np.random.default_rng(11)
    folder = Path(tempfile.mkdtemp(prefix="bench-registers-"))
    url = f"sqlite:///{folder / 'registers.sqlite3'}"
    started = time.perf_counter()
    codes = build(url, args.rows)
    print(f"{args.rows:,} enterprises written in {time.perf_counter() - started:.1f} s")
    proc, base = serve_app(
        url,
        folder,
        module="bench_registers_app",
        source="from app import server  # noqa: F401\n",
        env={"DASHBOARD_REFRESH_INTERVAL_S": "1"},
    )
    try:
        full, incremental, rows = measure_bytes(base, url, codes, rng, per_tick, 5)
        print()
        print(f"(a) Bytes per refresh, {per_tick} of {args.rows:,} rows changed (real server)")
        raw_full = statistics.median(f[0] for f in full)
        gz_full = statistics.median(f[1] for f in full)
        raw_inc = statistics.median(i[0] for i in incremental)
        gz_inc = statistics.median(i[1] for i in incremental)
        print(f"  {'':44} {'raw':>12} {'gzipped':>12}")
        print(
            f"  {'tick: the changed rows (with match flags)':44} {kb(raw_inc):>12} {kb(gz_inc):>12}"
        )
        print(f"  {'whole table as rowData':44} {kb(raw_full):>12} {kb(gz_full):>12}")
        print(f"  rows per tick: {sorted(set(rows))}")
        print(
            f"  ratio: {raw_full / raw_inc:,.0f}x raw, {gz_full / gz_inc:,.0f}x gzipped "
            f"(target >= 50x)"
        )
        print()
        print(f"(b) Headless Chromium, {args.rows:,} rows in the grid, {args.ticks} ticks")
        if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
            print("  skipped: chromium/chromedriver not installed")
            return
        applied, replace, same_grid, shown, loaded_s = measure_browser(
            base, url, codes, rng, per_tick, args.ticks, args.rows
        )
        ms = [a["ms"] for a in applied]
        print(f"  the whole table shown {loaded_s:.1f} s after the page opened (1 s tick running)")
        print(
            f"  transaction of {per_tick} rows and the recount: "
            f"median {statistics.median(ms):.1f} ms, "
            f"max {max(ms):.1f} ms (target <= 100 ms)"
        )
        print(
            "  rows per transaction: "
            f"update {statistics.median(a['update'] for a in applied):.0f}, "
            f"add {statistics.median(a['add'] for a in applied):.0f}, "
            f"remove {statistics.median(a['remove'] for a in applied):.0f}"
        )
        print(
            f"  whole rowData replaced: median {statistics.median(replace):.1f} ms "
            f"({statistics.median(replace) / statistics.median(ms):.1f}x the transaction)"
        )
        print(f"  same grid after every tick: {same_grid}; rows shown at the end: {shown:,}")
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
