"""The command line as an operator uses it: exit codes, what it prints, what it writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from sqlalchemy import func, select

from dashboard.config import PROJECT_ROOT
from dashboard.db import session_scope
from dashboard.models import ImportBatch, Ping

PINGS = "timestamp,lon,lat\n2026-11-20T10:00:00,121.4365,31.1950\n2026-11-20T10:01:00,abc,31.19\n"


def _cli(*args, db_url, tmp_path):
    env = {**os.environ, "DASHBOARD_DATABASE_URL": db_url, "DASHBOARD_DEMO": "false",
           "DASHBOARD_VAR_DIR": str(tmp_path / "var")}
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_cli001_init_db_creates_the_schema_on_an_empty_database(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.sqlite3'}"
    done = _cli("init-db", db_url=url, tmp_path=tmp_path)
    assert done.returncode == 0, done.stderr
    with session_scope(url) as s:
        assert s.scalar(select(func.count()).select_from(ImportBatch)) == 0


def test_cli002_import_exit_codes_and_report(sqlite_url, tmp_path):
    path = tmp_path / "pings.csv"
    path.write_text(PINGS, encoding="utf-8")

    refused = _cli("import", "pings", str(path), db_url=sqlite_url, tmp_path=tmp_path)
    assert refused.returncode == 2
    assert "no coordinate system" in refused.stdout and "--crs EPSG:4326" in refused.stdout

    loaded = _cli("import", "pings", str(path), "--crs", "EPSG:4326", db_url=sqlite_url,
                  tmp_path=tmp_path)
    assert loaded.returncode == 0, loaded.stderr
    assert "1 of 2 rows loaded" in loaded.stdout and "bad_coordinates 1" in loaded.stdout

    again = _cli("import", "pings", str(path), "--crs", "EPSG:4326", db_url=sqlite_url,
                 tmp_path=tmp_path)
    assert again.returncode == 0 and "already loaded" in again.stdout

    with session_scope(sqlite_url) as s:
        assert s.scalar(select(func.count()).select_from(Ping)) == 1
        statuses = sorted(s.scalars(select(ImportBatch.status)))
    assert statuses == ["loaded", "rejected"]


def test_cli003_unknown_kind_and_missing_file_are_refused(sqlite_url, tmp_path):
    unknown = _cli("import", "weather", str(tmp_path / "x.csv"), db_url=sqlite_url,
                   tmp_path=tmp_path)
    assert unknown.returncode == 2 and "known kinds" in unknown.stdout
    missing = _cli("import", "pings", str(tmp_path / "nope.csv"), db_url=sqlite_url,
                   tmp_path=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stdout


def test_cli004_health_is_degraded_until_the_feeds_arrive(sqlite_url, tmp_path):
    done = _cli("health", db_url=sqlite_url, tmp_path=tmp_path)
    report = json.loads(done.stdout)
    assert done.returncode == 1
    assert report["status"] == "degraded"
    assert report["datasets"]["pings"]["late"] is True
