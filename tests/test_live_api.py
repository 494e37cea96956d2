"""What an open screen polls (``GET /api/v1/live``), the build id that makes it reload after a
redeploy, and the live-config a page carries (the browser side is tests/test_live.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from test_web_support import import_app, use_as_app_database

from dashboard import api, live, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from layouts.common import live_config


@pytest.fixture
def app_db(db_url, monkeypatch) -> Iterator[str]:
    yield from use_as_app_database(db_url, monkeypatch)


@pytest.fixture
def client(app_db):
    flask_app = Flask(__name__)
    flask_app.register_blueprint(api.blueprint)
    return flask_app.test_client()


def test_live_api001_last_writes_build_and_expected_intervals(client, app_db, monkeypatch):
    monkeypatch.setenv("DASHBOARD_BUILD_ID", "deploy-42")
    get_settings.cache_clear()
    r = client.get("/api/v1/live")
    assert r.status_code == 200
    body = r.get_json()
    assert body["build"] == "deploy-42"
    with session_scope(app_db) as s:
        current = versions.current(session=s)
    assert set(body["updated_ms"]) == set(current)
    for name, (_version, at) in current.items():
        assert abs(body["updated_ms"][name] - at.timestamp() * 1000) < 1
    assert body["expected_s"] == get_settings().dataset_expected_interval_s
    assert r.headers["Cache-Control"] == "no-cache" and r.headers["ETag"]
    assert r.headers["Date"]  # live.js reads the server's clock off it


def test_live_api002_unchanged_is_an_empty_304_and_a_write_changes_it(client, app_db):
    first = client.get("/api/v1/live")
    tag = first.headers["ETag"].strip('"')
    again = client.get("/api/v1/live", headers={"If-None-Match": f'"{tag}"'})
    assert again.status_code == 304 and again.data == b""
    with session_scope(app_db) as s:
        versions.bump("pings", session=s)
    moved = client.get("/api/v1/live", headers={"If-None-Match": f'"{tag}"'})
    assert moved.status_code == 200
    assert moved.headers["ETag"].strip('"') != tag


def test_live_api003_an_unreachable_database_is_a_503(client, monkeypatch, tmp_path):
    missing = tmp_path / "no" / "such" / "dir" / "db.sqlite3"
    monkeypatch.setenv("DASHBOARD_DATABASE_URL", f"sqlite:///{missing}")
    get_settings.cache_clear()
    r = client.get("/api/v1/live")
    assert r.status_code == 503
    assert "database unreachable" in r.get_json()["error"]


def _tree(root: Path) -> None:
    for name, text in {
        "app.py": "app = 1\n",
        "dashboard/a.py": "A = 1\n",
        "assets/live.js": "// js\n",
        "assets/font.woff2": "binary",
        "requirements.lock": "dash==4.4.1\n",
    }.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)


def test_live_api004_the_build_hash_follows_code_assets_and_pins_only(tmp_path):
    _tree(tmp_path)
    first = live.code_hash.__wrapped__(tmp_path)
    assert first == live.code_hash.__wrapped__(tmp_path)  # the same in every worker
    (tmp_path / "var").mkdir()
    (tmp_path / "var" / "dashboard.sqlite3").write_text("data")
    (tmp_path / "dashboard" / "__pycache__").mkdir()
    (tmp_path / "dashboard" / "__pycache__" / "a.cpython-311.pyc").write_text("x")
    assert live.code_hash.__wrapped__(tmp_path) == first  # run-time files are not the build
    seen = {first}
    for name, text in (
        ("dashboard/a.py", "A = 2\n"),
        ("assets/font.woff2", "other"),  # any asset, whatever its suffix
        ("requirements.lock", "dash==4.5.0\n"),
        ("app.py", "app = 2\n"),
    ):
        (tmp_path / name).write_text(text)
        new = live.code_hash.__wrapped__(tmp_path)
        assert new not in seen, name
        seen.add(new)


def test_live_api005_a_page_carries_its_ticks_and_the_build(app_db):
    app = import_app()
    with app.server.test_request_context("/"):
        element = live_config(
            lambda key: key,
            lang="en",
            timezone="Asia/Shanghai",
            refresh_ms=5000,
            ticks=["wall-tick"],
            reload_hours=24,
            dataset_labels={"pings": "Pings"},
            build="b1",
        )
    config = json.loads(element.to_plotly_json()["props"]["data-config"])
    assert config["ticks"] == ["wall-tick"] and config["build"] == "b1"
    assert config["interval_ms"] == 5000 and config["timeout_ms"] == 5000
    assert config["reload_ms"] == 24 * 3_600_000
    assert config["url"].endswith("/api/v1/live") and config["locale"] == "en"
    # A page's dcc.Interval is disabled: live.js alone advances it.
    with app.server.test_request_context("/"):
        page = app.wall_page(lang="en")
    found = []

    def walk(node):
        if hasattr(node, "to_plotly_json"):
            props = node.to_plotly_json()["props"]
            if node.to_plotly_json()["type"] == "Interval":
                found.append((props["id"], props.get("disabled")))
            for child in props.get("children") or []:
                walk(child) if isinstance(props.get("children"), list) else None
            if not isinstance(props.get("children"), list):
                walk(props.get("children"))

    walk(page)
    assert ("wall-tick", True) in found
