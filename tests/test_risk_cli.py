"""Community risk through the command line, end to end, checked against an independent
computation written here in plain Python (loops over the file's rows and the model's JSON,
nothing from dashboard.risk), so a mistake in the vectorised code cannot hide in its own test.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.config import PROJECT_ROOT
from dashboard.db import get_engine, session_scope
from dashboard.models import Area, AreaLevel, RiskScore

MODEL_JSON = json.loads((PROJECT_ROOT / "data" / "risk_model.json").read_text(encoding="utf-8"))
KEYS = [i["key"] for i in MODEL_JSON["indicators"]]
DAY = dt.date(2026, 11, 20)
CARRY_DAYS = 3  # the default setting


def _cli(*args: str, db_url: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    environ = {
        **os.environ,
        "DASHBOARD_DATABASE_URL": db_url,
        "DASHBOARD_DEMO": "false",
        "DASHBOARD_VAR_DIR": str(tmp_path / "var"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "-m", "dashboard", *args],
        cwd=PROJECT_ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=120,
    )


# --------------------------------------------------------------------------- a small district


def build_district(url: str, rng: random.Random) -> dict[str, dict]:
    """Two subdistricts, four committees, 40 compounds; one without residents, one unknown."""
    compounds: dict[str, dict] = {}
    with Session(get_engine(url)) as s:
        s.add(Area(code="310104", level=AreaLevel.DISTRICT, name="徐汇区"))
        for si in (1, 2):
            sub = f"31010400{si}"
            s.add(
                Area(code=sub, level=AreaLevel.SUBDISTRICT, name=f"街道{si}", parent_code="310104")
            )
            for ci in (1, 2):
                committee = f"{sub}00{ci}"
                s.add(
                    Area(
                        code=committee,
                        level=AreaLevel.COMMITTEE,
                        name=f"居委{si}{ci}",
                        parent_code=sub,
                    )
                )
                for k in range(10):
                    code = f"0{si}{ci}{k:02d}"  # leading zero on purpose
                    compounds[code] = {
                        "name": f"小区{code}",
                        "committee": committee,
                        "subdistrict": sub,
                        "population": rng.choice([300, 800, 1500, 2600, 4000]),
                    }
        compounds["01100"]["population"] = 0
        compounds["01101"]["population"] = None
        s.flush()
        for code, c in compounds.items():
            s.add(
                Area(
                    code=code,
                    level=AreaLevel.COMPOUND,
                    name=c["name"],
                    parent_code=c["committee"],
                    population=c["population"],
                )
            )
        s.commit()
    return compounds


def write_indicator_file(path: Path, compounds: dict[str, dict], rng: random.Random) -> None:
    """Two days of returns: hot and calm compounds, blanks, and every kind of bad row."""
    caps = {i["key"]: (i["basis"], i["cap"]) for i in MODEL_JSON["indicators"]}
    lines = [["date", "compound_code", *KEYS]]
    codes = sorted(compounds)
    silent = codes[-1]  # sends nothing at all, ever
    for day in (DAY - dt.timedelta(days=1), DAY):
        for n, code in enumerate(codes):
            if code == silent:
                continue
            hot, warm = n % 7 == 0, n % 5 == 1
            pop = compounds[code]["population"] or 1000
            cells = []
            for key in KEYS:
                basis, cap = caps[key]
                if hot:
                    share = rng.uniform(0.5, 1.4)
                elif warm:
                    share = rng.uniform(0.3, 0.8)
                else:
                    share = rng.uniform(0.0, 0.7)
                value = cap * share * (pop / 1000 if basis == "per_1000_residents" else 1)
                if rng.random() < 0.12:
                    cells.append("")  # not returned: missing, never zero
                elif key in ("confirmed", "suspected") and not (hot or warm):
                    cells.append("0")
                else:
                    cells.append(f"{value:.3f}")
            lines.append([day.isoformat(), code, *cells])
    zeros = ["0"] * len(KEYS)
    lines += [
        [DAY.isoformat(), "09999", *zeros],  # unknown compound
        [DAY.isoformat(), codes[1], "-1", *zeros[1:]],  # negative
        [DAY.isoformat(), codes[2], "abc", *zeros[1:]],  # non-numeric
        [DAY.isoformat(), codes[3], "9", *zeros[1:]],  # duplicated (date, compound)
    ]
    with path.open("w", encoding="utf-8", newline="") as f:
        csv.writer(f).writerows(lines)


# --------------------------------------------------------------------------- the independent model


def independent_scores(path: Path, compounds: dict[str, dict]) -> dict[str, dict]:
    """The documented rule, step by step, from the file as written."""
    accepted: dict[tuple[str, str], dict[str, str]] = {}
    with path.open(encoding="utf-8") as f:
        for row in csv.DictReader(f):
            if row["compound_code"] not in compounds:
                continue
            bad = False
            for key in KEYS:
                text = row[key].strip()
                if text == "":
                    continue
                try:
                    bad = bad or float(text) < 0
                except ValueError:
                    bad = True
            if bad or (row["date"], row["compound_code"]) in accepted:
                continue  # a bad row is set aside whole; a duplicate after the first too
            accepted[(row["date"], row["compound_code"])] = row

    result = {}
    for code, c in compounds.items():
        total, upper, complete, contributions = 0.0, 0.0, True, []
        for item in MODEL_JSON["indicators"]:
            key = item["key"]
            value = None
            for back in range(CARRY_DAYS + 1):  # the day's own value, else the latest earlier
                row = accepted.get(((DAY - dt.timedelta(days=back)).isoformat(), code))
                if row is not None and row[key].strip() != "":
                    value = float(row[key])
                    break
            if value is not None and item["basis"] == "per_1000_residents":
                pop = c["population"]
                value = value / pop * 1000 if pop else None
            if value is None:
                complete = False
                upper += item["weight"] * 100
                continue
            sub = 100 * min(max(value, 0.0) / item["cap"], 1.0)
            total += item["weight"] * sub
            upper += item["weight"] * sub
            contributions.append((item["weight"] * sub, key))
        if total >= 60 - 1e-9:
            band = "red"
        elif total >= 40 - 1e-9:
            band = "yellow"
        else:
            band = "blue"
        order = sorted(contributions, key=lambda pair: -pair[0])  # stable: model order on ties
        top = [(key, share) for share, key in order if share > 0][:3]
        result[code] = {"score": total, "band": band, "complete": complete, "top": top}
    for r in result.values():
        r["rank"] = 1 + sum(
            1 for other in result.values() if other["score"] > r["score"] + 1e-9
        )
    return result


# --------------------------------------------------------------------------- the tests


def test_risk040_end_to_end_import_score_export_matches_an_independent_computation(
    sqlite_url, tmp_path
):
    rng = random.Random(20200301)
    compounds = build_district(sqlite_url, rng)
    source = tmp_path / "indicators_20261120.csv"
    write_indicator_file(source, compounds, rng)

    imported = _cli("import", "indicators", str(source), db_url=sqlite_url, tmp_path=tmp_path)
    assert imported.returncode == 0, imported.stderr
    for reason in ("unknown_compound 1", "negative_value 1", "non_numeric 1", "duplicate_key 1"):
        assert reason in imported.stdout

    scored = _cli("risk", "score", "--date", DAY.isoformat(), db_url=sqlite_url, tmp_path=tmp_path)
    assert scored.returncode == 0, scored.stderr
    expected = independent_scores(source, compounds)
    bands = {b: sum(1 for r in expected.values() if r["band"] == b) for b in ("red", "yellow")}
    incomplete = sum(1 for r in expected.values() if not r["complete"])
    assert f"40 compounds (red {bands['red']}, yellow {bands['yellow']}," in scored.stdout
    assert f"incomplete {incomplete};" in scored.stdout
    assert bands["red"] >= 1 and bands["yellow"] >= 1 and incomplete >= 2  # the data is varied

    out = tmp_path / "risk.csv"
    exported = _cli(
        "risk", "export", "--date", DAY.isoformat(), "--out", str(out),
        db_url=sqlite_url, tmp_path=tmp_path,
    )
    assert exported.returncode == 0, exported.stderr
    with out.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == [
        "compound_code", "name", "committee_code", "subdistrict_code", "score", "band", "rank",
        "complete", "top1_indicator", "top1_contribution", "top2_indicator", "top2_contribution",
        "top3_indicator", "top3_contribution",
    ]
    assert [r["compound_code"] for r in rows] == sorted(
        expected, key=lambda c: (expected[c]["rank"], c)
    )
    for r in rows:
        want, c = expected[r["compound_code"]], compounds[r["compound_code"]]
        assert (r["name"], r["committee_code"], r["subdistrict_code"]) == (
            c["name"], c["committee"], c["subdistrict"]
        )
        assert len(r["score"].split(".")[1]) == 2
        assert float(r["score"]) == pytest.approx(want["score"], abs=0.0051)
        assert (r["band"], int(r["rank"]), r["complete"]) == (
            want["band"], want["rank"], str(want["complete"])
        )
        got_top = [
            (r[f"top{n}_indicator"], float(r[f"top{n}_contribution"]))
            for n in (1, 2, 3)
            if r[f"top{n}_indicator"]
        ]
        assert [k for k, _ in got_top] == [k for k, _ in want["top"]], r["compound_code"]
        assert [v for _, v in got_top] == pytest.approx([v for _, v in want["top"]], abs=0.0051)

    # Scoring the day again replaces it: the same rows, not twice as many.
    again = _cli("risk", "score", "--date", DAY.isoformat(), db_url=sqlite_url, tmp_path=tmp_path)
    assert again.returncode == 0
    with session_scope(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(RiskScore)) == 40

    # Without --out the CSV goes to standard output, the same rows.
    printed = _cli("risk", "export", "--date", DAY.isoformat(), db_url=sqlite_url,
                   tmp_path=tmp_path)
    assert printed.returncode == 0
    assert list(csv.DictReader(printed.stdout.splitlines())) == rows


def test_risk041_check_model_prints_the_model_or_refuses_naming_the_indicator(tmp_path):
    url = f"sqlite:///{tmp_path / 'unused.sqlite3'}"
    ok = _cli("risk", "check-model", db_url=url, tmp_path=tmp_path)
    assert ok.returncode == 0, ok.stderr
    assert "risk model 2020.1: 13 indicators, valid" in ok.stdout and "确诊病例" in ok.stdout
    bad = json.loads(json.dumps(MODEL_JSON))
    bad["indicators"][2]["weight"] = 0.21
    path = tmp_path / "candidate.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    refused = _cli("risk", "check-model", str(path), db_url=url, tmp_path=tmp_path)
    assert refused.returncode == 2
    assert "'close_contacts': weight 0.21 is above the maximum 0.2" in refused.stdout


def test_risk042_score_refuses_an_invalid_model_and_keeps_the_day(sqlite_url, tmp_path):
    rng = random.Random(7)
    compounds = build_district(sqlite_url, rng)
    source = tmp_path / "indicators.csv"
    write_indicator_file(source, compounds, rng)
    assert _cli("import", "indicators", str(source), db_url=sqlite_url,
                tmp_path=tmp_path).returncode == 0
    assert _cli("risk", "score", "--date", DAY.isoformat(), db_url=sqlite_url,
                tmp_path=tmp_path).returncode == 0
    with session_scope(sqlite_url) as s:
        before = sorted(s.execute(select(RiskScore.compound_code, RiskScore.computed_at)).all())

    bad = json.loads(json.dumps(MODEL_JSON))
    bad["indicators"][0]["weight"] = 0.19  # sums to 0.99
    path = tmp_path / "risk_model.json"
    path.write_text(json.dumps(bad), encoding="utf-8")
    refused = _cli("risk", "score", "--date", DAY.isoformat(), db_url=sqlite_url,
                   tmp_path=tmp_path, DASHBOARD_RISK_MODEL_PATH=str(path))
    assert refused.returncode == 2
    assert "refused, nothing scored" in refused.stdout and "weights sum to 0.99" in refused.stdout
    with session_scope(sqlite_url) as s:
        after = sorted(s.execute(select(RiskScore.compound_code, RiskScore.computed_at)).all())
    assert after == before


def test_risk043_score_without_compounds_and_export_of_an_unscored_day_are_refused(
    sqlite_url, tmp_path
):
    empty = _cli("risk", "score", "--date", "2026-11-20", db_url=sqlite_url, tmp_path=tmp_path)
    assert empty.returncode == 2 and "no compounds" in empty.stdout
    unscored = _cli("risk", "export", "--date", "2026-11-20", db_url=sqlite_url,
                    tmp_path=tmp_path)
    assert unscored.returncode == 2 and "no risk scores for 2026-11-20" in unscored.stdout
    bad_date = _cli("risk", "score", "--date", "2026-11-31", db_url=sqlite_url, tmp_path=tmp_path)
    assert bad_date.returncode == 2 and "not a date" in bad_date.stderr
