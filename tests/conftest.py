"""Test fixtures: fresh, migrated databases on SQLite and on a real PostgreSQL with PostGIS.

``db_url`` is parametrized over both back ends, so every data-access test runs twice. The
PostgreSQL server comes from ``DASHBOARD_TEST_PG_URL`` (default: the local server's ``test``
database). Locally, with no server, those tests skip; under CI (``CI=true``) they fail instead,
because a skipped PostgreSQL test there would hide a broken production path.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from dashboard import migrate
from dashboard.db import get_engine

PG_URL = os.environ.get("DASHBOARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
UNDER_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _pg_admin_engine():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_available() -> str | None:
    try:
        with _pg_admin_engine().connect() as c:
            c.execute(text("select 1"))
            c.execute(text("select 1 from pg_available_extensions where name = 'postgis'")).one()
        return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not here"
        return f"PostgreSQL with PostGIS not reachable at {PG_URL}: {exc}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tmpl") / "template.sqlite3"
    migrate.upgrade(f"sqlite:///{path}")
    get_engine(f"sqlite:///{path}").dispose()
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    reason = _pg_available()
    if reason:
        if UNDER_CI:
            pytest.fail(reason + " (CI must run the PostgreSQL tests)")
        pytest.skip(reason)
    name = f"dash_tmpl_{uuid.uuid4().hex[:8]}"
    admin = _pg_admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    migrate.upgrade(url)
    get_engine(url).dispose()
    yield name
    with admin.connect() as c:
        c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _fresh_pg(template: str) -> Iterator[str]:
    name = f"dash_t_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_engine()
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    url = make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request, tmp_path) -> Iterator[str]:
    """URL of a fresh, migrated, empty database; once on SQLite, once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "db.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
        yield url
        get_engine(url).dispose()
    else:
        yield from _fresh_pg(request.getfixturevalue("pg_template"))


@pytest.fixture
def sqlite_url(tmp_path, sqlite_template) -> Iterator[str]:
    """A fresh migrated SQLite database only (for tests about logic, not the back end)."""
    path = tmp_path / "db.sqlite3"
    shutil.copy(sqlite_template, path)
    url = f"sqlite:///{path}"
    yield url
    get_engine(url).dispose()


@pytest.fixture
def session(db_url) -> Iterator[Session]:
    """A session on the fresh database; the test commits what it wants kept."""
    with Session(get_engine(db_url), expire_on_commit=False) as s:
        yield s


def pytest_sessionfinish(session, exitstatus):
    """Under CI a skipped test fails the run: PostgreSQL and browser tests must really run there."""
    if not UNDER_CI:
        return
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = reporter.stats.get("skipped", []) if reporter else []
    if skipped:
        reporter.write_line(
            f"CI: {len(skipped)} test(s) skipped; under CI every test must run "
            "(is PostgreSQL with PostGIS up? are chromium and chromedriver installed?)",
            red=True,
        )
        session.exitstatus = 1
