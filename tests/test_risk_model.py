"""The community-risk rule, pure: the model file's rules, bands, caps, bases, missing values, ranks.

No database here; the data access and the nightly job are in test_risk_db.py, the command line
end to end in test_risk_cli.py.
"""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from dashboard import risk
from dashboard.config import PROJECT_ROOT
from dashboard.indicators import INDICATOR_KEYS

MODEL_FILE = PROJECT_ROOT / "data" / "risk_model.json"
DEFINITION = json.loads(MODEL_FILE.read_text(encoding="utf-8"))
MODEL = risk.RiskModel.from_dict(DEFINITION)
K = len(MODEL.keys)


def definition_with(**weights: float) -> dict:
    """The shipped definition with some weights changed (nothing else)."""
    d = copy.deepcopy(DEFINITION)
    for item in d["indicators"]:
        if item["key"] in weights:
            item["weight"] = weights[item["key"]]
    return d


def row(**values: float) -> np.ndarray:
    """One compound's values: zero except those given (by key)."""
    out = np.zeros((1, K))
    for key, value in values.items():
        out[0, MODEL.keys.index(key)] = value
    return out


def one_score(population: float = 1000.0, **values: float) -> risk.Scores:
    return risk.score(["c"], row(**values), np.array([population]), MODEL)


# --------------------------------------------------------------------------- the model file


def test_risk001_shipped_model_is_valid_and_its_keys_are_the_feed_columns():
    model = risk.load_model(MODEL_FILE)
    assert model.keys == INDICATOR_KEYS
    assert math.isclose(model.weights.sum(), 1.0, abs_tol=1e-9)
    assert ((model.weights >= 0.03) & (model.weights <= 0.20)).all()
    assert model.indicator("confirmed").basis == "count"
    assert risk.load_model() == model  # the default path is the setting's, data/risk_model.json


@pytest.mark.parametrize(
    ("change", "named", "why"),
    [
        ({"confirmed": 0.029, "suspected": 0.301}, "'confirmed'", "below the minimum 0.03"),
        ({"confirmed": 0.201, "suspected": 0.129}, "'confirmed'", "above the maximum 0.2"),
        ({"crowd_gathering": 0.03}, "crowd_gathering 0.03", "weights sum to 0.99"),
        ({"crowd_gathering": 0.05}, "crowd_gathering 0.05", "weights sum to 1.01"),
    ],
)
def test_risk002_weight_rule_refuses_and_names_the_indicator(change, named, why):
    with pytest.raises(risk.ModelError) as excinfo:
        risk.RiskModel.from_dict(definition_with(**change))
    assert named in str(excinfo.value) and why in str(excinfo.value)


@pytest.mark.parametrize(
    "change",
    [
        # The bounds are inclusive, and a weight written in decimal may be off by an ulp.
        {"confirmed": 0.20, "suspected": 0.13},
        {"hotline_reports": 0.03, "crowd_gathering": 0.05},
        {"confirmed": 0.2000000000000001, "suspected": 0.1299999999999999},
    ],
)
def test_risk003_weights_at_the_bounds_are_accepted(change):
    risk.RiskModel.from_dict(definition_with(**change))


def _broken(mutate) -> dict:
    d = copy.deepcopy(DEFINITION)
    mutate(d["indicators"])
    return d


@pytest.mark.parametrize(
    ("definition", "message"),
    [
        (_broken(lambda i: i[1].update(key="confirmed")), "indicator 'confirmed': listed more"),
        (_broken(lambda i: i[0].update(basis="per_capita")), "'confirmed': basis 'per_capita'"),
        (_broken(lambda i: i[2].update(cap=0)), "'close_contacts': cap 0.0 must be a number above"),
        (_broken(lambda i: i[2].update(cap=-1)), "'close_contacts': cap -1.0"),
        (_broken(lambda i: i[11].update(cap=1.5)), "'elderly_share': cap 1.5 of a ratio"),
        (_broken(lambda i: i[3].update(key="fever")), "'fever': not a column of the indicators"),
        (_broken(lambda i: i[4].update(weight="0.06")), "'home_observation': 'weight' must be"),
        (_broken(lambda i: i[4].update(weight=True)), "'home_observation': 'weight' must be"),
        (_broken(lambda i: i[5].pop("name_zh")), "'central_quarantine': 'name_zh'"),
        (_broken(lambda i: i[6].update(cap=None)), "'fever_clinic_visits': 'cap' must be"),
        ({"indicators": DEFINITION["indicators"]}, "needs a 'version'"),
        ({"version": "x", "indicators": []}, "needs 'indicators'"),
        ({"version": "x" * 41, "indicators": DEFINITION["indicators"]}, "1 to 40 characters"),
    ],
)
def test_risk004_other_rules_name_the_indicator(definition, message):
    with pytest.raises(risk.ModelError) as excinfo:
        risk.RiskModel.from_dict(definition)
    assert message in str(excinfo.value)


def test_risk005_every_problem_is_reported_at_once():
    d = definition_with(confirmed=0.5)
    d["indicators"][11]["cap"] = 2
    message = str(pytest.raises(risk.ModelError, risk.RiskModel.from_dict, d).value)
    assert "'confirmed'" in message and "'elderly_share'" in message


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (None, "cannot read the risk model"),
        ("{not json", "not valid JSON"),
        (json.dumps(DEFINITION).replace('"cap": 5', '"cap": NaN', 1), "NaN is not a number"),
        (json.dumps(definition_with(confirmed=0.25)), "'confirmed': weight 0.25 is above"),
    ],
)
def test_risk006_load_model_refuses_a_bad_file_naming_it(tmp_path, text, message):
    path = tmp_path / "model.json"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(risk.ModelError) as excinfo:
        risk.load_model(path)
    assert str(path) in str(excinfo.value) and message in str(excinfo.value)


def test_risk007_round_trip_and_json():
    again = risk.RiskModel.from_dict(json.loads(json.dumps(MODEL.to_dict())))
    assert again == MODEL
    assert MODEL.to_dict()["indicators"][0] == {
        "key": "confirmed",
        "name_zh": "确诊病例",
        "name_en": "Confirmed cases",
        "weight": 0.2,
        "basis": "count",
        "cap": 1.0,
    }
    with pytest.raises(ValueError, match="read-only"):
        MODEL.weights[0] = 0.5  # the cached arrays of a frozen model cannot be changed in place


def test_risk008_with_weights_is_validated_and_leaves_the_model_in_force_alone():
    tried = MODEL.with_weights({"confirmed": 0.10, "hotline_reports": 0.14})
    assert tried.version == "2020.1+custom"
    assert tried.indicator("confirmed").weight == 0.10
    assert tried.indicator("suspected").weight == 0.13  # not given: kept
    assert MODEL.indicator("confirmed").weight == 0.20
    assert MODEL.with_weights({}, version="trial").version == "trial"
    for weights, named in (
        ({"confirmed": 0.25, "suspected": 0.08}, "'confirmed'"),
        ({"confirmed": 0.10}, "weights sum to 0.9"),
        ({"confirmd": 0.10}, "'confirmd': not in risk model"),
        ({"confirmed": float("nan")}, "'confirmed': weight nan is not a number"),
    ):
        with pytest.raises(risk.ModelError) as excinfo:
            MODEL.with_weights(weights)
        assert named in str(excinfo.value)


# --------------------------------------------------------------------------- bands


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0.0, "blue"),
        (39.999, "blue"),
        (40.0, "yellow"),
        (59.999, "yellow"),
        (59.9999999, "yellow"),  # shown as 60.00, and still yellow
        (60.0, "red"),
        (59.99999999999999, "red"),  # float noise of a sum that is 60 on paper
        (100.0, "red"),
    ],
)
def test_risk010_band_edges_from_the_unrounded_score(score, band):
    assert risk.band_of(score) == band
    assert list(risk.band_of(np.array([score, score]))) == [band, band]


@pytest.mark.parametrize(
    ("disinfection_overdue", "expected_score", "band"),
    [
        (0.747, 59.996, "yellow"),  # 2 decimals say 60.00; the band says yellow
        (0.75, 60.0, "red"),
        (0.0, 59.0, "yellow"),
    ],
)
def test_risk011_band_through_score_is_not_from_the_rounded_score(
    disinfection_overdue, expected_score, band
):
    # 20 + 13 + 12 + 6 + 4 + 4 = 59 points at their caps, then disinfection (0.04, cap 3).
    s = one_score(
        confirmed=1,
        suspected=2,
        close_contacts=5,
        central_quarantine=3,
        hotline_reports=5,
        crowd_gathering=5,
        disinfection_overdue=disinfection_overdue,
    )
    assert s.score[0] == pytest.approx(expected_score, abs=1e-9)
    assert s.band[0] == band


def test_risk012_everything_at_its_cap_scores_100_and_at_60_percent_is_red():
    caps = {i.key: i.cap for i in MODEL.indicators}
    population = 1000.0  # per-1,000 values equal their counts
    full = one_score(population, **caps)
    assert full.score[0] == pytest.approx(100.0) and full.band[0] == "red"
    sixty = one_score(population, **{k: 0.6 * c for k, c in caps.items()})
    assert sixty.score[0] == pytest.approx(60.0) and sixty.band[0] == "red"


# --------------------------------------------------------------------------- caps and bases


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("suspected", 3, 100.0),  # above the cap (2)
        ("suspected", 2, 100.0),  # at the cap
        ("suspected", 1, 50.0),
        ("suspected", 0, 0.0),
        ("suspected", -1, 0.0),  # negative (never loaded, but never below 0)
        ("screening_unfinished", 0.45, 100.0),
        ("screening_unfinished", 0.3, 100.0),
        ("screening_unfinished", 0.15, 50.0),
        ("screening_unfinished", -0.1, 0.0),
        ("key_region_arrivals", 10, 100.0),  # per 1,000 of 1,000 residents: 10 > cap 5
        ("key_region_arrivals", 5, 100.0),
        ("key_region_arrivals", 2, 40.0),
        ("key_region_arrivals", -2, 0.0),
    ],
)
def test_risk013_caps(key, value, expected):
    sub = risk.sub_scores(row(**{key: value}), np.array([1000.0]), MODEL)
    assert sub[0, MODEL.keys.index(key)] == pytest.approx(expected)


@pytest.mark.parametrize(
    ("population", "arrivals", "expected"),
    [
        (2500.0, 5, 40.0),  # 2 per 1,000; cap 5
        (500.0, 1, 40.0),  # the same rate in a small compound scores the same
        (250.0, 5, 100.0),  # 20 per 1,000: capped
        (0.0, 5, None),  # no residents known: a rate cannot be made up
        (np.nan, 5, None),  # population unknown
        (-10.0, 5, None),
        (2500.0, np.nan, None),  # the value itself missing
    ],
)
def test_risk014_per_1000_residents_basis(population, arrivals, expected):
    sub = risk.sub_scores(row(key_region_arrivals=arrivals), np.array([population]), MODEL)
    j = MODEL.keys.index("key_region_arrivals")
    if expected is None:
        assert np.isnan(sub[0, j])
    else:
        assert sub[0, j] == pytest.approx(expected)
    # Count and ratio bases never look at the population.
    assert sub[0, MODEL.keys.index("confirmed")] == 0.0


@pytest.mark.parametrize(
    ("basis", "cap", "value", "population", "expected"),
    [
        ("count", 4.0, 1.0, 100.0, 25.0),
        ("count", 4.0, 1.0, 0.0, 25.0),
        ("ratio", 0.5, 0.1, 100.0, 20.0),
        ("per_1000_residents", 10.0, 3.0, 600.0, 50.0),
    ],
)
def test_risk015_each_basis(basis, cap, value, population, expected):
    items = copy.deepcopy(DEFINITION)
    items["indicators"][7].update(basis=basis, cap=cap)  # hotline_reports
    model = risk.RiskModel.from_dict(items)
    sub = risk.sub_scores(row(hotline_reports=value), np.array([population]), model)
    assert sub[0, 7] == pytest.approx(expected)


# --------------------------------------------------------------------------- missing values


def test_risk016_missing_is_never_zero_score_is_a_lower_bound_with_an_upper_bound():
    known = row(confirmed=1, close_contacts=5)  # 20 + 12
    gaps = known.copy()
    gaps[0, MODEL.keys.index("suspected")] = np.nan  # weight 0.13
    gaps[0, MODEL.keys.index("returnees_14d")] = np.nan  # weight 0.05
    s = risk.score(["full", "gaps"], np.vstack([known, gaps]), np.array([1000.0, 1000.0]), MODEL)
    assert s.score.tolist() == pytest.approx([32.0, 32.0])
    assert s.upper.tolist() == pytest.approx([32.0, 32.0 + 13.0 + 5.0])
    assert s.complete.tolist() == [True, False]
    assert s.band.tolist() == ["blue", "blue"]  # the band of what is known ...
    assert s.upper[1] >= 40  # ... while the upper bound says it could be yellow
    contributions = s.contributions(MODEL)
    assert np.isnan(contributions[1, MODEL.keys.index("suspected")])
    assert contributions[0, MODEL.keys.index("confirmed")] == pytest.approx(20.0)


def test_risk017_all_missing_scores_zero_incomplete_with_upper_100():
    s = risk.score(["x"], np.full((1, K), np.nan), np.array([1000.0]), MODEL)
    assert (s.score[0], s.upper[0], bool(s.complete[0]), s.band[0]) == (0.0, 100.0, False, "blue")


# --------------------------------------------------------------------------- ranks and frame


@pytest.mark.parametrize(
    ("confirmed", "ranks"),
    [
        ([0.5, 1.0, 0.5, 0.0], [2, 1, 2, 4]),  # ties share the best rank ("min")
        ([0.0, 0.0, 0.0], [1, 1, 1]),
        ([1.0], [1]),
        ([], []),
    ],
)
def test_risk018_rank_one_is_the_highest_ties_share(confirmed, ranks):
    values = np.zeros((len(confirmed), K))
    values[:, 0] = confirmed
    s = risk.score([f"c{i}" for i in range(len(confirmed))], values, np.full(len(confirmed), 1e3),
                   MODEL)
    assert s.rank.tolist() == ranks


def test_risk019_frame_has_a_row_per_compound_and_a_column_per_sub_score():
    values = np.vstack([row(confirmed=1), row(elderly_share=0.2)])
    values[1, 1] = np.nan
    frame = risk.score(["a", "b"], values, np.array([800.0, 900.0]), MODEL).frame(MODEL)
    head = ["compound_code", "score", "upper", "band", "rank", "complete"]
    assert list(frame.columns) == head + [f"sub_{k}" for k in INDICATOR_KEYS]
    assert frame["sub_elderly_share"].tolist() == [0.0, 50.0]
    assert np.isnan(frame.loc[1, "sub_suspected"])
    assert frame["compound_code"].tolist() == ["a", "b"]


def test_risk019b_shapes_are_checked():
    with pytest.raises(ValueError, match="must be n×13"):
        risk.sub_scores(np.zeros((2, 12)), np.zeros(2), MODEL)
    with pytest.raises(ValueError, match="codes for"):
        risk.score(["a"], np.zeros((2, K)), np.zeros(2), MODEL)


def test_risk019c_what_if_works_for_a_model_with_a_long_version():
    version = "2020.1-xuhui-operations-centre-v2-ab"  # 36 characters: valid, near the limit
    long = risk.RiskModel.from_dict({**DEFINITION, "version": version})
    what_if = long.with_weights({"confirmed": 0.19, "suspected": 0.14})
    assert what_if.version.endswith("+custom") and len(what_if.version) <= 40
    assert what_if.version != long.version
