"""The JSON API on both back ends: /api/v1/health, /api/v1/areas and /api/v1/risk."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator

import pytest
from flask import Flask
from test_web_support import (
    C11,
    C12,
    C21,
    CV,
    NOW,
    P111,
    P211,
    RISK_DAY,
    RISK_PREV,
    S1,
    import_app,
    use_as_app_database,
    write_small_risk,
)

from dashboard import api
from dashboard.config import DATA_DIR, get_settings
from dashboard.db import session_scope
from dashboard.indicators import INDICATOR_KEYS
from dashboard.models import JobRun


@pytest.fixture
def app_db(db_url, monkeypatch) -> Iterator[str]:
    yield from use_as_app_database(db_url, monkeypatch)


@pytest.fixture
def client(app_db):
    flask_app = Flask(__name__)
    flask_app.register_blueprint(api.blueprint)
    return flask_app.test_client()


def test_api001_health_reports_every_dataset_and_job(app_db):
    body = api.health_report(now=NOW)
    assert body["time"] == "2026-11-21T10:00:00+08:00"  # shown in Asia/Shanghai
    pings = body["datasets"]["pings"]
    assert pings == {
        "version": 1,
        "updated_at": "2026-11-21T09:59:00+08:00",
        "age_s": 60.0,
        "expected_interval_s": 300,
        "late": False,
    }
    assert body["datasets"]["enterprises"]["late"] is False  # 10 min old, expected hourly
    never = body["datasets"]["station_flows"]
    assert never["late"] is True and never["version"] is None and never["age_s"] is None
    assert body["datasets"]["work_orders"]["expected_interval_s"] is None
    assert body["jobs"]["ingest_inbox"] == {
        "last_run_start": "2026-11-21T09:59:00+08:00",
        "status": "failed",
        "age_s": 60.0,
        "expected_interval_s": 15,
        "late": False,
    }
    assert body["jobs"]["prune_history"]["late"] is False  # nightly: 3 h old is on time
    assert body["jobs"]["simulate_feeds"]["last_run_start"] is None  # enabled, not run yet
    assert body["status"] == "degraded"


def test_api002_health_is_ok_when_nothing_is_late_and_no_last_run_failed(app_db, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATASET_EXPECTED_INTERVAL_S", '{"pings": 300, "shops": 3600}')
    get_settings.cache_clear()
    assert api.health_report(now=NOW)["status"] == "degraded"  # ingest_inbox's last run failed
    with session_scope(app_db) as s:
        s.add(JobRun(job_id="ingest_inbox", started_at=NOW - dt.timedelta(seconds=10), status="ok"))
    assert api.health_report(now=NOW)["status"] == "ok"
    # Ten minutes later the pings (expected every 5 min) are more than twice late.
    later = api.health_report(now=NOW + dt.timedelta(minutes=10))
    assert later["status"] == "degraded" and later["datasets"]["pings"]["late"] is True


def test_api002b_a_job_that_stopped_running_degrades_health(app_db, monkeypatch):
    monkeypatch.setenv("DASHBOARD_DATASET_EXPECTED_INTERVAL_S", "{}")
    get_settings.cache_clear()
    with session_scope(app_db) as s:
        s.add(JobRun(job_id="ingest_inbox", started_at=NOW - dt.timedelta(seconds=10), status="ok"))
    assert api.health_report(now=NOW)["status"] == "ok"
    # Every 15 s, plus the misfire grace: two minutes without a run means nobody runs it.
    stalled = api.health_report(now=NOW + dt.timedelta(minutes=2))
    assert stalled["jobs"]["ingest_inbox"]["late"] is True
    assert stalled["status"] == "degraded"


def test_api003_health_route(client):
    response = client.get("/api/v1/health")
    assert response.status_code == 200  # degraded is reported in the body, never as an error
    body = response.get_json()
    assert set(body) == {"status", "time", "datasets", "jobs"}
    assert body["status"] in {"ok", "degraded"}


def test_api004_areas_geojson_by_level(client):
    response = client.get("/api/v1/areas?level=committee")
    assert response.status_code == 200
    fc = response.get_json()
    assert fc["type"] == "FeatureCollection"
    by_code = {f["id"]: f for f in fc["features"]}
    assert list(by_code) == sorted(by_code)
    assert set(by_code) >= {C11, C12, CV}
    c11 = by_code[C11]
    assert c11["properties"] == {
        "code": C11,
        "name": "一居委",
        "level": "committee",
        "parent_code": S1,
        "population": 300,
        "area_km2": None,
    }
    assert c11["geometry"]["type"] == "MultiPolygon"
    ring = c11["geometry"]["coordinates"][0][0]
    assert {tuple(p) for p in ring} >= {(121.40, 31.14), (121.43, 31.18)}
    assert by_code[CV]["geometry"] is None  # an area without a boundary is still listed


def test_api005_areas_children_of_a_parent(client):
    fc = client.get(f"/api/v1/areas?level=committee&parent={S1}").get_json()
    assert [f["id"] for f in fc["features"]] == [C11, C12]


@pytest.mark.parametrize("query", ["", "?level=building", "?level=Committee", "?level="])
def test_api006_bad_level_is_a_clear_400(client, query):
    response = client.get(f"/api/v1/areas{query}")
    assert response.status_code == 400
    body = response.get_json()
    assert "level" in body["error"]
    assert body["allowed_levels"] == ["district", "subdistrict", "committee", "compound"]


def test_api007_the_dash_server_serves_the_api(app_db):
    server = import_app().server
    routes = {rule.rule for rule in server.url_map.iter_rules()}
    assert {"/api/v1/health", "/api/v1/areas"} <= routes
    response = server.test_client().get("/api/v1/areas?level=district")
    assert response.status_code == 200
    assert [f["id"] for f in response.get_json()["features"]] == ["310104"]


# --------------------------------------------------------------------------- community risk


@pytest.fixture
def risk_client(app_db, client):
    with session_scope(app_db) as session:
        write_small_risk(session)
    return client


def test_api008_the_risk_model_in_force(client):
    response = client.get("/api/v1/risk/model")
    assert response.status_code == 200
    body = response.get_json()
    assert body["version"] == "2020.1"
    assert [i["key"] for i in body["indicators"]] == list(INDICATOR_KEYS)
    confirmed = body["indicators"][0]
    assert confirmed == {
        "key": "confirmed",
        "name_zh": "确诊病例",
        "name_en": "Confirmed cases",
        "weight": 0.2,
        "basis": "count",
        "cap": 1.0,
    }
    assert sum(i["weight"] for i in body["indicators"]) == pytest.approx(1)
    assert body["bands"]["red"] == {"min": 60.0} and body["bands"]["yellow"] == {"min": 40.0}
    assert body["weight_range"] == [0.03, 0.2]


def test_api009_an_invalid_model_file_is_a_503_naming_the_indicator(
    client, tmp_path, monkeypatch
):
    model = json.loads((DATA_DIR / "risk_model.json").read_text(encoding="utf-8"))
    model["indicators"][1]["weight"] = 0.01  # suspected, under the 3 % minimum
    path = tmp_path / "risk_model.json"
    path.write_text(json.dumps(model), encoding="utf-8")
    monkeypatch.setenv("DASHBOARD_RISK_MODEL_PATH", str(path))
    get_settings.cache_clear()
    response = client.get("/api/v1/risk/model")
    assert response.status_code == 503
    assert "'suspected'" in response.get_json()["error"]


def test_api010_risk_per_compound_defaults_to_the_newest_day(risk_client):
    response = risk_client.get("/api/v1/risk")
    assert response.status_code == 200
    body = response.get_json()
    assert (body["date"], body["level"]) == (RISK_DAY.isoformat(), "compound")
    first = body["compounds"][0]
    assert set(first) == {
        "code",
        "name",
        "committee_code",
        "subdistrict_code",
        "score",
        "score_upper",
        "band",
        "rank",
        "complete",
    }
    assert (first["code"], first["band"], first["rank"], first["complete"]) == (
        P111,
        "red",
        1,
        True,
    )
    assert (first["committee_code"], first["subdistrict_code"]) == (C11, S1)
    assert first["score"] == pytest.approx(61.6)
    last = body["compounds"][-1]
    assert (last["code"], last["complete"], last["score_upper"]) == (
        P211,
        False,
        pytest.approx(18.5),
    )
    earlier = risk_client.get(f"/api/v1/risk?date={RISK_PREV}&level=compound").get_json()
    assert [c["band"] for c in earlier["compounds"]] == ["yellow", "blue", "blue"]


def test_api011_risk_per_area_counts_bands_and_names_the_worst(risk_client):
    body = risk_client.get(f"/api/v1/risk?date={RISK_DAY}&level=subdistrict").get_json()
    s1, s2 = body["areas"]
    # S1 holds a red (61.6) and a yellow (41.6) compound: red, whatever their average.
    assert s1 == {
        "code": S1,
        "name": "甲街道",
        "band": "red",
        "counts": {"red": 1, "yellow": 1, "blue": 0, "incomplete": 0, "total": 2},
        "worst": {"code": P111, "name": "甲小区", "score": pytest.approx(61.6), "band": "red"},
    }
    assert s2["band"] == "blue" and s2["counts"]["incomplete"] == 1
    committees = risk_client.get(f"/api/v1/risk?date={RISK_DAY}&level=committee").get_json()
    assert [(a["code"], a["band"]) for a in committees["areas"]] == [
        (C11, "red"),
        (C12, None),
        (C21, "blue"),
    ]
    assert committees["areas"][1]["worst"] is None


@pytest.mark.parametrize(
    ("query", "word"),
    [
        ("?date=2026-13-01", "date"),
        ("?date=20261120", "date"),
        ("?date=yesterday", "date"),
        ("?date=", "date"),
        ("?level=district", "level"),
        ("?level=Compound", "level"),
    ],
)
def test_api012_bad_date_or_level_is_a_clear_400(risk_client, query, word):
    response = risk_client.get(f"/api/v1/risk{query}")
    assert response.status_code == 400
    assert word in response.get_json()["error"]
    if word == "level":
        assert response.get_json()["allowed_levels"] == ["compound", "committee", "subdistrict"]


def test_api013_a_day_without_scores_is_a_404(risk_client):
    for level in ("compound", "subdistrict"):
        response = risk_client.get(f"/api/v1/risk?date=2020-02-01&level={level}")
        assert response.status_code == 404
        body = response.get_json()
        assert "2020-02-01" in body["error"] and body["latest_date"] == RISK_DAY.isoformat()


def test_api013b_nothing_scored_yet_is_a_404(client):
    response = client.get("/api/v1/risk")
    assert response.status_code == 404 and response.get_json()["error"] == "no risk scores yet"


def test_api014_the_dash_server_serves_the_risk_api(risk_client):
    server = import_app().server
    routes = {rule.rule for rule in server.url_map.iter_rules()}
    assert {"/api/v1/risk", "/api/v1/risk/model"} <= routes
    response = server.test_client().get("/api/v1/risk?level=subdistrict")
    assert response.status_code == 200 and len(response.get_json()["areas"]) == 2
