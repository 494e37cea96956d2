# ruff: noqa: T201 - a benchmark prints its figures
"""How fast the /risk page's what-if answers, next to re-weighting the usual way.

    .venv/bin/python bench/risk_whatif.py [--calls 100] [--naive-calls 50]

It builds the demo district in a temporary SQLite database, lets the demo simulator write its
indicator files, loads them through the ingestion path and scores yesterday (``risk.score_day``),
serves the app with gunicorn (one worker, as in production but smaller) and measures the server
round trip of POST /_dash-update-component for:

1. the what-if callback (``callbacks.risk.what_if``), the weights changing on every call: the
   first call of a day (it reads the day's inputs into the process's cache), then median and p95
   over N calls (target p95 ≤ 300 ms);
2. the usual way, registered on the same server by this script only: every call re-reads the
   day's indicator values into pandas, pivots them, and applies the formula compound by compound
   (``DataFrame.apply(axis=1)``) for the model in force and for the new weights, then compares
   the bands (checked to agree with (1));

and the ratio of the two.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from _serve import serve_app  # noqa: E402 - after the path is set

# Served by gunicorn: the app plus, for comparison only, the "usual" re-weighting callback.
# Nothing of it is part of the product.
NAIVE_APP = """
import datetime as dt

import numpy as np
import pandas as pd
from dash import Input, Output
from sqlalchemy import select

import app as product
from dashboard import risk
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.models import Area, AreaLevel, IndicatorValue


def _band(score):
    return "red" if score >= risk.RED_AT else "yellow" if score >= risk.YELLOW_AT else "blue"


@product.app.callback(
    Output("naive-whatif", "children"),
    Input("naive-weights", "data"),
    Input("naive-day", "data"),
)
def naive_whatif(percents, day_value):
    day = dt.date.fromisoformat(day_value)
    settings = get_settings()
    model = risk.load_model()
    start = day - dt.timedelta(days=settings.risk_carry_forward_days)
    with session_scope(settings.database_url) as session:
        values = pd.read_sql(
            select(IndicatorValue.date, IndicatorValue.compound_code, IndicatorValue.indicator,
                   IndicatorValue.value)
            .where(IndicatorValue.date >= start, IndicatorValue.date <= day),
            session.connection(),
        )
        areas = pd.read_sql(
            select(Area.code, Area.population).where(Area.level == AreaLevel.COMPOUND),
            session.connection(),
        )
    latest = values.sort_values("date").drop_duplicates(["compound_code", "indicator"], keep="last")
    wide = latest.pivot(index="compound_code", columns="indicator", values="value")
    wide = areas.set_index("code").join(wide)
    new = {k: percents[k] / 100 for k in model.keys}

    def row_score(row, weights):
        total = 0.0
        for item in model.indicators:
            value = row.get(item.key)
            if value is None or pd.isna(value):
                continue
            if item.basis == "per_1000_residents":
                if not row["population"]:
                    continue
                value = value / row["population"] * 1000
            total += weights[item.key] * 100 * min(max(value, 0) / item.cap, 1)
        return total

    before = wide.apply(lambda r: _band(row_score(r, dict(zip(model.keys, model.weights)))), axis=1)
    after = wide.apply(lambda r: _band(row_score(r, new)), axis=1)
    return int((before != after).sum())


server = product.server
"""

# Weight sets (percent) the benchmark cycles through: each valid, each different.
WEIGHT_SETS = [
    {"confirmed": 10, "hotline_reports": 14},
    {"confirmed": 15, "hotline_reports": 9},
    {"suspected": 8, "crowd_gathering": 9},
    {"confirmed": 16, "close_contacts": 18, "elderly_share": 3, "disinfection_overdue": 3},
    {"screening_unfinished": 12, "returnees_14d": 3, "home_observation": 3},
]


def build_database(folder: Path) -> tuple[str, dt.date]:
    """The demo district with the simulator's indicators, yesterday scored."""
    from dashboard import migrate, risk
    from dashboard.config import Settings
    from dashboard.db import get_engine, session_scope
    from dashboard.demo import build_demo, write_demo
    from dashboard.feeds.simulator import simulate_round
    from dashboard.ingest import load_inbox
    from dashboard.models import utcnow

    url = f"sqlite:///{folder / 'bench.sqlite3'}"
    migrate.upgrade(url)
    with session_scope(url) as session:
        write_demo(build_demo(), session=session)
    settings = Settings(database_url=url, var_dir=folder / "var")
    now = utcnow()
    simulate_round(settings, now=now)
    load_inbox(settings.inbox, session_factory=lambda: session_scope(url))
    day = now.astimezone(ZoneInfo(settings.timezone)).date() - dt.timedelta(days=1)
    with session_scope(url) as session:
        risk.score_day(
            day,
            session=session,
            model=risk.load_model(),
            carry_days=settings.risk_carry_forward_days,
        )
    get_engine(url).dispose()
    return url, day


def start_server(url: str, folder: Path) -> tuple[subprocess.Popen, str]:
    return serve_app(url, folder, module="bench_app", source=NAIVE_APP)


def post(base: str, body: dict) -> tuple[float, dict]:
    request = urllib.request.Request(
        base + "/_dash-update-component",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
    )
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=120) as response:
        payload = response.read()
    return (time.perf_counter() - started) * 1000, json.loads(payload)


def whatif_output(base: str) -> str:
    """The what-if callback's key, as the browser names it (from /_dash-dependencies)."""
    with urllib.request.urlopen(base + "/_dash-dependencies", timeout=30) as response:
        callbacks = json.load(response)
    return next(c["output"] for c in callbacks if "risk-whatif-result.children" in c["output"])


def whatif_body(output: str, keys: list[str], percents: dict[str, float], day: str) -> dict:
    ids = [{"type": "risk-weight", "key": k} for k in keys]
    return {
        "output": output,
        "outputs": [
            {"id": "risk-weight-sum", "property": "children"},
            {"id": "risk-weight-sum", "property": "className"},
            {"id": "risk-whatif-message", "property": "children"},
            {"id": "risk-whatif-result", "property": "children"},
        ],
        "inputs": [
            [{"id": i, "property": "value", "value": percents[i["key"]]} for i in ids],
            {"id": "risk-date", "property": "value", "value": day},
        ],
        "state": [
            [{"id": i, "property": "id", "value": i} for i in ids],
            {"id": "risk-lang", "property": "data", "value": "zh"},
        ],
        "changedPropIds": [json.dumps(ids[0], separators=(",", ":")) + ".value"],
    }


def naive_body(percents: dict[str, float], day: str) -> dict:
    return {
        "output": "naive-whatif.children",
        "outputs": {"id": "naive-whatif", "property": "children"},
        "inputs": [
            {"id": "naive-weights", "property": "data", "value": percents},
            {"id": "naive-day", "property": "data", "value": day},
        ],
        "changedPropIds": ["naive-weights.data"],
    }


def weights(model, n: int) -> dict[str, float]:
    percents = {k: round(100 * w, 6) for k, w in zip(model.keys, model.weights, strict=True)}
    chosen = {**percents, **WEIGHT_SETS[n % len(WEIGHT_SETS)]}
    assert abs(sum(chosen.values()) - 100) < 1e-6, WEIGHT_SETS[n % len(WEIGHT_SETS)]
    return chosen


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1]


def changed_count(response: dict) -> int | None:
    """How many compounds the what-if says change band (from its heading's first number)."""
    result = response["response"]["risk-whatif-result"]["children"]
    if not result:
        raise SystemExit(f"the what-if refused: {response['response']['risk-whatif-message']}")
    text = result[0]["props"]["children"]
    numbers = [int(t.replace(",", "")) for t in text.split() if t.replace(",", "").isdigit()]
    if "均不变" in text or "None" in text:
        return 0
    # "957 个小区中有 12 个等级改变": the second number is the count.
    return numbers[1] if len(numbers) > 1 else None


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=100, help="what-if calls (default 100)")
    parser.add_argument(
        "--naive-calls", type=int, default=50, help="usual-way calls (default 50)"
    )
    args = parser.parse_args()

    from dashboard import risk

    model = risk.load_model()
    with tempfile.TemporaryDirectory(prefix="whatif-bench-") as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        url, day = build_database(folder)
        print(f"demo district built, simulated and {day} scored in "
              f"{time.perf_counter() - started:.1f} s ({url})")
        proc, base = start_server(url, folder)
        try:
            output = whatif_output(base)
            keys = list(model.keys)
            cold, _ = post(base, whatif_body(output, keys, weights(model, 0), str(day)))
            ours, counts = [], []
            for n in range(args.calls):
                ms, response = post(
                    base, whatif_body(output, keys, weights(model, n + 1), str(day))
                )
                ours.append(ms)
                if n < len(WEIGHT_SETS):
                    counts.append(changed_count(response))
            naive, naive_counts = [], []
            for n in range(args.naive_calls):
                ms, response = post(base, naive_body(weights(model, n + 1), str(day)))
                naive.append(ms)
                if n < len(WEIGHT_SETS):
                    naive_counts.append(response["response"]["naive-whatif"]["children"])
        finally:
            proc.terminate()
            proc.wait(timeout=10)

    if counts != naive_counts:
        raise SystemExit(f"the two ways disagree: {counts} vs {naive_counts}")
    print()
    print(f"What-if re-weighting of {day}, server round trip (local gunicorn, 1 worker)")
    print(f"  compounds changing band for the first weight sets: {counts}")
    print(f"  first call of the day (reads the day's inputs into the cache): {cold:.1f} ms")
    print(f"  {'':44} {'median':>9} {'p95':>9} {'calls':>6}")
    rows = (
        ("this app: cached inputs, numpy re-score", ours),
        ("usual way: re-query + pandas apply per row", naive),
    )
    for name, times in rows:
        print(
            f"  {name:44} {statistics.median(times):>7.1f}ms {p95(times):>7.1f}ms {len(times):>6}"
        )
    ratio = statistics.median(naive) / statistics.median(ours)
    print(f"  ratio (usual / this app): median {ratio:.0f}×, p95 {p95(naive) / p95(ours):.0f}×")
    target = "met" if p95(ours) <= 300 else "MISSED"
    print(f"  target p95 ≤ 300 ms: {target}")


if __name__ == "__main__":
    main()
