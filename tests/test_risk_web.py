"""Community risk on the web, without a browser: the wall's risk panel and the /risk page's
callbacks called as functions, on the small district's two scored days (tests/test_web_support).

The what-if figures are computed again here, independently: from data/risk_model.json and the
raw values in test_web_support, with plain Python arithmetic.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator

import pytest
from dash import Patch, no_update
from dash.development.base_component import Component
from sqlalchemy import event, func, select
from test_web_support import (
    NOW,
    P111,
    P112,
    P211,
    RISK_DAY,
    RISK_NOT_REPORTED,
    RISK_PREV,
    RISK_VALUES,
    S1,
    use_as_app_database,
    write_small_risk,
)

from callbacks import risk as risk_callbacks
from callbacks import wall
from dashboard import queries, risk, versions
from dashboard.config import DATA_DIR, get_settings
from dashboard.db import get_engine, session_scope
from dashboard.indicators import INDICATOR_KEYS
from dashboard.models import RiskModelVersion, RiskScore
from layouts.ids import Risk

MODEL = json.loads((DATA_DIR / "risk_model.json").read_text(encoding="utf-8"))
POPULATION = {P111: 100, P112: 200, P211: 300}
CARRY_DAYS = 2


@pytest.fixture
def app_db(db_url, monkeypatch) -> Iterator[str]:
    yield from use_as_app_database(db_url, monkeypatch)


@pytest.fixture
def risk_db(app_db, monkeypatch) -> str:
    monkeypatch.setenv("DASHBOARD_RISK_CARRY_FORWARD_DAYS", str(CARRY_DAYS))
    get_settings.cache_clear()
    with session_scope(app_db) as session:
        write_small_risk(session)
    risk_callbacks.whatif_day.cache_clear()
    return app_db


def _text(component) -> str:
    if isinstance(component, str | int | float):
        return str(component)
    if isinstance(component, list | tuple):
        return " ".join(_text(c) for c in component)
    if isinstance(component, Component):
        return _text(getattr(component, "children", None) or [])
    return ""


def _find(component, class_name: str) -> list[Component]:
    """Components whose className holds ``class_name``."""
    found = []
    if isinstance(component, Component):
        if class_name in (getattr(component, "className", None) or "").split():
            found.append(component)
        found += _find(getattr(component, "children", None), class_name)
    elif isinstance(component, list | tuple):
        for child in component:
            found += _find(child, class_name)
    return found


def _first_tick(monkeypatch):
    monkeypatch.setattr(wall, "utcnow", lambda: NOW)
    return wall.check_versions(0, None)


# --------------------------------------------------------------------------- independent sums


def _values_on(day, code) -> dict[str, float | None]:
    """The value each indicator of ``code`` is scored with on ``day``: that day's report, or
    the latest of the CARRY_DAYS before it; None when there is none."""
    out: dict[str, float | None] = {}
    days = sorted(d for d in RISK_VALUES if 0 <= (day - d).days <= CARRY_DAYS)
    for key in INDICATOR_KEYS:
        out[key] = None
        for d in days:  # oldest first: a later report wins
            if (d, code, key) not in RISK_NOT_REPORTED:
                out[key] = float(RISK_VALUES[d][code].get(key, 0))
    return out


def _score(code, weights: dict[str, float], day=RISK_DAY) -> float:
    total = 0.0
    for item in MODEL["indicators"]:
        value = _values_on(day, code)[item["key"]]
        if value is None:
            continue  # missing: counts nothing (the score is a lower bound)
        if item["basis"] == "per_1000_residents":
            value = value / POPULATION[code] * 1000
        total += weights[item["key"]] * 100 * min(max(value, 0) / item["cap"], 1)
    return total


def _band(score: float) -> str:
    return "red" if score >= 60 else "yellow" if score >= 40 else "blue"


IN_FORCE = {item["key"]: item["weight"] for item in MODEL["indicators"]}


def test_riskweb000_the_small_district_scores_as_the_comments_say(risk_db):
    expected = {P111: 61.6, P112: 41.6, P211: 11.5}
    assert {c: round(_score(c, IN_FORCE), 6) for c in expected} == expected
    with session_scope(risk_db) as s:
        stored = dict(
            s.execute(
                select(RiskScore.compound_code, RiskScore.score).where(RiskScore.date == RISK_DAY)
            ).all()
        )
    assert stored == pytest.approx(expected)


# --------------------------------------------------------------------------- the wall's panel


def test_riskweb001_wall_panel_redraws_only_when_the_scores_change(risk_db, monkeypatch):
    store = _first_tick(monkeypatch)
    drawn = wall.refresh_risk_panel(store, "zh")
    assert all(part is not no_update for part in drawn)
    for others in (["work_orders"], ["pings", "shops", "indicators"], []):
        assert wall.refresh_risk_panel({**store, "changed": others}, "zh") == (no_update,) * 4
    again = wall.refresh_risk_panel({**store, "changed": ["risk"]}, "zh")
    assert all(part is not no_update for part in again)


def test_riskweb002_wall_panel_counts_top_and_subdistricts(risk_db, monkeypatch):
    store = _first_tick(monkeypatch)
    date, counts, top, subdistricts = wall.refresh_risk_panel(store, "en")
    assert _text(date) == RISK_DAY.isoformat()
    tiles = {band: _find(counts, f"band-{band}")[0] for band in ("red", "yellow", "blue")}
    # RISK_PREV: 0 red, 1 yellow (P111), 2 blue; RISK_DAY: 1 of each, P211 incomplete.
    assert _text(_find(tiles["red"], "risk-count-num")) == "1"
    assert _text(_find(tiles["red"], "delta")) == "vs yesterday  ▲1"
    assert _find(tiles["red"], "up") and _find(tiles["blue"], "down")
    assert _text(_find(tiles["yellow"], "delta")).endswith("=")
    assert _text(_find(tiles["blue"], "delta")).endswith("▼1")
    assert "1 of them incomplete" in _text(counts)
    rows = [_text(row) for row in top]
    assert rows == [
        "1 甲小区 甲 61.6",  # "街道" is dropped: every row is a subdistrict's
        "2 乙小区 甲 41.6",
        "3 丙小区 乙 11.5 incomplete",
    ]
    assert [row.className.split()[-1] for row in top] == ["band-red", "band-yellow", "band-blue"]
    # Each subdistrict: red, yellow, blue counts, and its band is its worst compound's.
    subs = {_text(_find(r, "name")): (_text(_find(r, "counts")), r.className) for r in subdistricts}
    assert subs == {
        "甲": ("1 1 0", "risk-sub-row band-red"),
        "乙": ("0 0 1", "risk-sub-row band-blue"),
    }


def test_riskweb003_wall_panel_before_anything_was_scored(app_db, monkeypatch):
    date, counts, top, subs = wall.refresh_risk_panel(_first_tick(monkeypatch), "zh")
    assert date == "—" and "暂无风险评分" in _text(counts) and top == [] and subs == []


def test_riskweb004_late_scores_are_marked_late(risk_db, monkeypatch):
    store = {**_first_tick(monkeypatch), "late": ["risk"]}
    date, *_ = wall.refresh_risk_panel(store, "en")
    assert _text(date) == f"{RISK_DAY.isoformat()} late"


def test_riskweb005_a_gap_in_the_days_says_which_day_it_compares_with(risk_db, monkeypatch):
    with session_scope(risk_db) as s:
        s.execute(RiskScore.__table__.delete().where(RiskScore.date == RISK_PREV))
        versions.bump("risk", session=s, at=NOW)
    _, counts, _, _ = wall.refresh_risk_panel(_first_tick(monkeypatch), "en")
    assert "first day scored" in _text(counts)


# --------------------------------------------------------------------------- /risk: pickers, map


def test_riskweb010_pickers_offer_scored_days_and_every_compound(risk_db):
    days, day, compounds, chosen = risk_callbacks.load_choices("zh", None)
    assert [d["value"] for d in days] == [RISK_DAY.isoformat(), RISK_PREV.isoformat()]
    assert day == RISK_DAY.isoformat()
    assert [c["value"] for c in compounds] == [P111, P112, P211]
    assert compounds[0]["label"] == "甲小区 · 甲街道" and "甲街道" in compounds[0]["search"]
    assert chosen is None
    assert risk_callbacks.load_choices("zh", P211)[3] == P211  # /risk?compound=P211
    assert risk_callbacks.load_choices("zh", "310104999999999")[3] is None


def test_riskweb011_a_click_on_the_map_picks_the_compound():
    click = {"points": [{"location": P112, "z": 2}]}
    assert risk_callbacks.pick_on_map(click) == P112
    assert risk_callbacks.pick_on_map(None) is no_update
    assert risk_callbacks.pick_on_map({"points": []}) is no_update


def test_riskweb012_risk_map_full_once_then_patches_of_values(risk_db):
    size = {"w": 700, "h": 620}
    fig, drawn = risk_callbacks.refresh_risk_map(RISK_DAY.isoformat(), size, "en", None)
    trace = fig["data"][0]
    assert list(trace["locations"]) == [P111, P112, P211]
    assert trace["z"] == [3, 2, 4]
    assert trace["text"] == ["61.6", "41.6", "11.5"]
    assert "Risk score: %{text}" in trace["hovertemplate"]
    # Another day, same boundaries and size: only the values travel.
    patch, same = risk_callbacks.refresh_risk_map(RISK_PREV.isoformat(), size, "en", drawn)
    assert isinstance(patch, Patch) and same is no_update
    operations = patch.to_plotly_json()["operations"]
    ops = {tuple(op["location"]): op["params"]["value"] for op in operations}
    assert set(ops) == {
        ("data", 0, "z"),
        ("data", 0, "marker", "line", "color"),
        ("data", 0, "text"),
    }
    assert ops[("data", 0, "z")] == [2, 1, 4]  # yellow, blue, blue (incomplete)
    assert ops[("data", 0, "text")] == ["45.0", "14.0", "18.0"]
    # New boundaries: the whole figure again.
    with session_scope(risk_db) as s:
        versions.bump("areas", session=s)
    again, redrawn = risk_callbacks.refresh_risk_map(RISK_PREV.isoformat(), size, "en", drawn)
    assert isinstance(again, dict) and redrawn != drawn


# --------------------------------------------------------------------------- /risk: one compound


def test_riskweb013_why_a_compound_is_red(risk_db):
    summary, history, contributions, values = risk_callbacks.show_compound(
        P111, RISK_DAY.isoformat(), "en"
    )
    text = _text(summary)
    assert "甲小区" in text and "61.6" in text and "Red · high" in text
    assert "1 of 3" in text and "same as" in text and "All 13 indicators known" in text
    # History: both days, coloured by band, with the band edges drawn.
    line = history["data"][-1]
    assert list(line["y"]) == pytest.approx([45.0, 61.6])
    assert list(line["marker"]["color"]) == ["#f5c542", "#e5484d"]
    assert {shape["y0"] for shape in history["layout"]["shapes"] if shape["type"] == "line"} == {
        40,
        60,
    }
    # Contributions: weight × sub-score, largest on top (plotly draws y bottom-up).
    bars = contributions["data"][1]
    points = dict(zip(bars["y"], bars["x"], strict=True))
    assert points["Confirmed cases"] == pytest.approx(20)
    assert points["Hotline reports"] == pytest.approx(0.04 * 40)
    assert list(bars["y"])[-1] == "Confirmed cases"
    assert sum(bars["x"]) == pytest.approx(61.6)
    table = _text(values)
    assert "Arrivals from key regions 1 per 1,000 residents 10 5 8% 100 8" in table


def test_riskweb014_carried_missing_and_rank_change(risk_db):
    summary, _, contributions, values = risk_callbacks.show_compound(
        P112, RISK_DAY.isoformat(), "en"
    )
    # P112 was 3rd on RISK_PREV (14, under P211's 18), 2nd now.
    assert "2 of 3" in _text(summary) and f"up 1 since {RISK_PREV:%m-%d}" in _text(summary)
    assert f"carried from {RISK_PREV:%m-%d}" in _text(values)
    assert "Elderly share (60+)*" in contributions["data"][1]["y"]
    summary, _, contributions, values = risk_callbacks.show_compound(
        P211, RISK_DAY.isoformat(), "en"
    )
    assert "Incomplete: Screening unfinished (share) missing" in _text(summary)
    assert "could reach 18.5" in _text(summary)
    assert "missing" in _text(values)
    bars = contributions["data"][1]
    assert dict(zip(bars["y"], bars["text"], strict=True))["Screening unfinished (share)"] == (
        "missing"
    )


def test_riskweb015_nothing_picked_or_not_scored(risk_db):
    summary, history, _, values = risk_callbacks.show_compound(None, RISK_DAY.isoformat(), "en")
    assert "Pick a compound" in _text(summary) and history["data"] == [] and values == []
    summary, *_ = risk_callbacks.show_compound(P111, "2020-01-01", "en")
    assert "no score for 2020-01-01" in _text(summary)


# --------------------------------------------------------------------------- what-if


def _ids() -> list[dict[str, str]]:
    return [{"type": Risk.WEIGHT, "key": item["key"]} for item in MODEL["indicators"]]


def _percents(**changes: float | None) -> list[float | None]:
    weights = {k: round(100 * w, 6) for k, w in IN_FORCE.items()}
    weights.update(changes)
    return [weights[item["key"]] for item in MODEL["indicators"]]


def _transitions(result) -> dict[tuple[str, str], int]:
    """The transitions table of a what-if result: {(from, to): compounds}."""
    table = _find(result, "ops-table")[0]
    rows = table.children[1].children
    out = {}
    for row in rows:
        badges = _find(row.children[0], "band-badge")
        out[tuple(b.className.split()[-1].removeprefix("band-") for b in badges)] = int(
            _text(row.children[1])
        )
    return out


def test_riskweb020_what_if_lists_the_compounds_that_change_band(risk_db):
    new = {**IN_FORCE, "confirmed": 0.10, "hotline_reports": 0.14}
    expected = Counter(
        (_band(_score(c, IN_FORCE)), _band(_score(c, new)))
        for c in (P111, P112, P211)
        if _band(_score(c, IN_FORCE)) != _band(_score(c, new))
    )
    assert expected == {("red", "yellow"): 1, ("yellow", "blue"): 1}  # 55.6 and 31.6

    total, css, message, result = risk_callbacks.what_if(
        _percents(confirmed=10, hotline_reports=14), RISK_DAY.isoformat(), _ids(), "en"
    )
    assert (total, css, message) == ("Total 100 %", "weight-sum ok", "")
    assert "2 of 3 compounds change band" in _text(result)
    assert _transitions(result) == dict(expected)
    listed = _find(result, "ops-table")[1].children[1].children
    assert [_text(r.children[0]) for r in listed] == ["甲小区", "乙小区"]  # by what-if score
    assert _text(listed[0].children[3]).startswith(f"{_score(P111, new):.1f}")

    # The model in force is untouched: same file, same stored scores, no new model version.
    assert risk.load_model().weights.tolist() == list(IN_FORCE.values())
    with session_scope(risk_db) as s:
        assert s.scalar(select(func.count()).select_from(RiskModelVersion)) == 1
        band = select(RiskScore.band).where(
            RiskScore.date == RISK_DAY, RiskScore.compound_code == P111
        )
        assert s.scalar(band) == "red"


def test_riskweb021_the_weights_in_force_change_nothing(risk_db):
    _, css, message, result = risk_callbacks.what_if(
        _percents(), RISK_DAY.isoformat(), _ids(), "zh"
    )
    assert css == "weight-sum ok" and message == ""
    assert _text(result) == "3 个小区的等级均不变"


@pytest.mark.parametrize(
    ("changes", "lang", "expected"),
    [
        (
            {"confirmed": 25, "suspected": 8},
            "en",
            "“Confirmed cases”: 25 % is above the maximum 20 %",
        ),
        ({"confirmed": 25, "suspected": 8}, "zh", "“确诊病例”的权重 25% 高于上限 20%"),
        ({"hotline_reports": 2, "crowd_gathering": 6}, "en", "“Hotline reports”: 2 % is below"),
        ({"confirmed": 19}, "en", "The weights add up to 99 %, not 100 %."),
        ({"suspected": None}, "en", "Give a weight for “Suspected cases”."),
        ({"suspected": None}, "zh", "请填写“疑似病例”的权重。"),
    ],
)
def test_riskweb022_broken_weights_are_refused_naming_the_indicator(
    risk_db, changes, lang, expected
):
    total, css, message, result = risk_callbacks.what_if(
        _percents(**changes), RISK_DAY.isoformat(), _ids(), lang
    )
    assert expected in _text(message)
    assert result == []
    numbers = [w for w in _percents(**changes) if w is not None]
    assert (css == "weight-sum ok") == (abs(sum(numbers) - 100) < 1e-6)


def test_riskweb023_rules_come_from_the_model_not_from_the_page(risk_db):
    """The localized checks only word the refusal: with_weights decides."""
    model = risk.load_model()
    good = {k: round(100 * w, 6) for k, w in IN_FORCE.items()}
    candidate, problem = risk_callbacks.weight_problem(good, model, "en")
    assert problem is None and candidate.version == "2020.1+custom"
    assert candidate.weights.tolist() == pytest.approx(model.weights.tolist())


def test_riskweb024_an_invalid_model_file_stops_the_what_if_with_its_reason(
    risk_db, tmp_path, monkeypatch
):
    broken = json.loads(json.dumps(MODEL))
    broken["indicators"][0]["weight"] = 0.5
    path = tmp_path / "model.json"
    path.write_text(json.dumps(broken), encoding="utf-8")
    monkeypatch.setenv("DASHBOARD_RISK_MODEL_PATH", str(path))
    get_settings.cache_clear()
    _, _, message, result = risk_callbacks.what_if(
        _percents(), RISK_DAY.isoformat(), _ids(), "en"
    )
    assert "The model file in force is invalid" in _text(message)
    assert "'confirmed'" in _text(message) and result == []
    assert risk_callbacks.reset_weights(1, _ids()) == [no_update] * 13


def test_riskweb025_a_day_is_read_once_until_its_data_changes(risk_db):
    statements: list[str] = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    def reads() -> int:
        return len([s for s in statements if "indicator_values" in s])

    engine = get_engine(risk_db)
    event.listen(engine, "before_cursor_execute", count)
    try:
        risk_callbacks.what_if(_percents(), RISK_DAY.isoformat(), _ids(), "en")
        first = reads()
        assert first > 0
        for confirmed in (10, 12, 14):
            risk_callbacks.what_if(
                _percents(confirmed=confirmed, hotline_reports=24 - confirmed),
                RISK_DAY.isoformat(),
                _ids(),
                "en",
            )
        assert reads() == first  # the day was read once; the other calls re-scored in memory
        with session_scope(risk_db) as s:
            versions.bump("indicators", session=s)
        risk_callbacks.what_if(_percents(), RISK_DAY.isoformat(), _ids(), "en")
        assert reads() == 2 * first  # new indicators: read again
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_riskweb026_what_if_day_keeps_to_the_scope(risk_db):
    with session_scope(risk_db) as s:
        scope = queries.scope_of([S1], session=s)
    model = risk.load_model()
    day = risk_callbacks.whatif_day(risk_db, scope, RISK_DAY, (1, 1, 1), model, CARRY_DAYS)
    assert day.inputs.codes.tolist() == [P111, P112]
    assert day.baseline.band.tolist() == ["red", "yellow"]
    assert day.names.tolist() == ["甲小区", "乙小区"]


def test_riskweb027_band_transitions_count_each_pair():
    import numpy as np

    before = np.array(["red", "yellow", "blue", "blue", "yellow"], dtype=object)
    after = np.array(["yellow", "yellow", "yellow", "red", "blue"], dtype=object)
    assert risk_callbacks.band_transitions(before, after) == Counter(
        {("red", "yellow"): 1, ("blue", "yellow"): 1, ("blue", "red"): 1, ("yellow", "blue"): 1}
    )


def test_riskweb028_reset_puts_back_the_weights_in_force(risk_db):
    assert risk_callbacks.reset_weights(1, _ids()) == _percents()
    assert risk_callbacks.percent(0.13) == 13
