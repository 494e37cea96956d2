"""``python -m dashboard forecast backtest``: JSON on a series small enough to check by hand,
and a one-line refusal (exit 2) for each kind of bad input."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from dashboard.config import PROJECT_ROOT

WEEKLY = PROJECT_ROOT / "tests" / "data" / "forecast_weekly_halfhourly.csv"


def _cli(*args: str, tmp_path: Path) -> subprocess.CompletedProcess:
    environ = {**os.environ, "DASHBOARD_DEMO": "false", "DASHBOARD_VAR_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "dashboard", "forecast", "backtest", *args],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_fcli001_hand_checked_mase(tmp_path):
    # The file: 28 days from Mon 2 March 2026 (day 0) to Sun 29 March (day 27), half-hourly,
    # 5 per half-hour on weekdays and 10 at weekends, so 10 / 20 an hour. The half-hour
    # Thu 5 March 05:30 (day 3) is missing, so the 05:00 hour of day 3 is missing (not 5).
    #
    # Origins (2): the last two local midnights with 24 hours after them: day 26 (Sat 28 March)
    # and day 27 (Sun 29 March).
    #
    # Scale (in-sample MAE of the 24 h naive), origin day 26: pairs (t, t - 24 h) for days 1-25,
    # 25 x 24 = 600, less the two that touch the missing hour (day 3 05:00 and day 4 05:00,
    # both errors of 0) = 598 pairs. Errors of 10 an hour on Saturdays (days 5, 12, 19: 20 vs
    # Friday's 10) and Mondays (days 7, 14, 21: 10 vs Sunday's 20): 6 x 24 x 10 = 1,440.
    # Scale = 1440 / 598. Naive 24 forecasts Saturday with Friday: |10 - 20| = 10 each hour,
    # MASE = 10 / (1440 / 598) = 598 / 144 = 4.152778. Naive 168: last Saturday, exact, 0.
    # Origin day 27: Sunday is forecast with Saturday (naive 24) and last Sunday: both 0.
    # Mean over the two origins: naive 24 = 4.152778 / 2 = 2.076389; naive 168 = 0.
    # Read as zero, the missing hour would add errors of 10 and change the scale.
    # The model sees a strictly weekly series: it must be (all but) exact.
    done = _cli(
        str(WEEKLY),
        "--time-col", "time",
        "--value-col", "passengers",
        "--origins", "2",
        "--tz", "Asia/Shanghai",
        tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["origins"] == 2 and result["horizon"] == 24
    assert result["first_origin"] == "2026-03-28T00:00:00+08:00"
    assert result["last_origin"] == "2026-03-29T00:00:00+08:00"
    assert result["mase_naive24"] == pytest.approx(2.0764, abs=1e-4)
    assert result["mase_naive168"] == 0.0
    assert result["ratio_to_best_naive"] is None  # a perfect naive leaves no ratio
    assert result["mase"] < 1e-3
    assert 0 < result["seconds_per_fit"] < 1.0
    assert 0.0 <= result["coverage80"] <= result["coverage95"] <= 1.0
    assert result["bookings_used"] is False


def test_fcli002_bookings_column(tmp_path):
    # Bookings are 90% of each hour's arrivals: the model may use them and stays exact.
    lines = WEEKLY.read_text().splitlines()
    rows = ["time,passengers,booked"]
    rows += [f"{line},{int(line.rsplit(',', 1)[1]) * 0.9}" for line in lines[1:]]
    path = tmp_path / "booked.csv"
    path.write_text("\n".join(rows) + "\n")
    done = _cli(
        str(path), "--time-col", "time", "--value-col", "passengers", "--bookings-col", "booked",
        "--origins", "2", tmp_path=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["bookings_used"] is True
    assert result["mase_naive24"] == pytest.approx(2.0764, abs=1e-4)
    assert result["mase"] < 1e-3


@pytest.mark.parametrize(
    ("content", "args", "message"),
    [
        ("time,passengers\n2026-03-02T00:00:00+08:00,5\n", ["--value-col", "count"],
         "refused: f.csv has no column 'count'; it has 'time', 'passengers'"),
        ("time,passengers\nyesterday,5\n", ["--value-col", "passengers"],
         "refused: column 'time' holds a time that cannot be read"),
        ("time,passengers\n" + "".join(
            f"2026-03-{d:02d}T{h:02d}:00:00+08:00,5\n" for d in range(1, 11) for h in range(24)),
         ["--value-col", "passengers"],
         # 14 days to fit on and one day to compare with: 15 x 24 = 360
         "refused: the series has 240 observed hours of history; the forecast needs at least "
         "360 (15 days)"),
        ("time,passengers\n" + "".join(
            f"2026-03-{d:02d}T{h:02d}:00:00+08:00,{h + d % 3}\n"
            for d in range(1, 21) for h in range(24)),
         ["--value-col", "passengers", "--origins", "10"],
         # 20 days; the first of 10 origins, 11 March, has 10 days (240 hours) before it
         "refused: origin 2026-03-11: the series has 240 observed hours of history; the "
         "forecast needs at least 336 (14 days); ask for fewer origins"),
    ],
)  # fmt: skip
def test_fcli003_bad_input_is_one_line_and_exit_2(tmp_path, content, args, message):
    path = tmp_path / "f.csv"
    path.write_text(content)
    done = _cli(str(path), "--time-col", "time", *args, tmp_path=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith(message), done.stderr
