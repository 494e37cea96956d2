"""Migrations on an empty database produce exactly the schema the models describe."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from dashboard import migrate
from dashboard.db import get_engine
from dashboard.models import Base


def _ignore_postgis(obj, name, type_, reflected, compare_to):
    if type_ == "table" and reflected and compare_to is None:
        return False  # spatial_ref_sys and friends belong to PostGIS
    if type_ == "index" and name and name.startswith("idx_") and name.endswith("_geom"):
        return False  # GiST indexes GeoAlchemy2 creates beside each geometry column
    return True


def test_mig001_empty_database_migrates_to_the_models(db_url):
    # db_url is already migrated from empty (the fixture runs the same upgrade); check it.
    engine = get_engine(db_url)
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"include_object": _ignore_postgis})
        assert compare_metadata(ctx, Base.metadata) == []
    assert migrate.is_initialised(db_url)
    tables = set(inspect(engine).get_table_names())
    assert set(Base.metadata.tables) <= tables


def test_mig002_upgrade_is_idempotent(db_url):
    migrate.upgrade(db_url)  # a second upgrade at head changes nothing and does not fail
    with get_engine(db_url).connect() as conn:
        assert conn.execute(text("select count(*) from alembic_version")).scalar_one() == 1


def test_mig003_postgis_columns_are_real_geometry(db_url):
    engine = get_engine(db_url)
    if engine.dialect.name != "postgresql":
        return  # SQLite stores WKB; nothing more to check there
    with engine.connect() as conn:
        rows = dict(
            conn.execute(
                text(
                    "select f_table_name || '.' || f_geometry_column, type || ':' || srid "
                    "from geometry_columns"
                )
            ).all()
        )
    assert rows["areas.geom"] == "MULTIPOLYGON:4326"
    assert rows["stations.geom"] == "POINT:4326"
    assert rows["buildings.geom"] == "POLYGON:4326"


def test_db001_a_snapshot_reader_does_not_see_a_commit_made_meanwhile(db_url):
    """What the API and panels rely on: several queries, one state of the data."""
    from dashboard.db import session_scope
    from dashboard.models import DataVersion
    from dashboard.versions import bump

    with session_scope(db_url) as s:
        bump("risk", session=s)
    with session_scope(db_url, snapshot=True) as reader:
        first = reader.get(DataVersion, "risk").version
        with session_scope(db_url) as writer:
            bump("risk", session=writer)
        reader.expire_all()
        assert reader.get(DataVersion, "risk").version == first
    with session_scope(db_url) as s:
        assert s.get(DataVersion, "risk").version == first + 1


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_url(request, tmp_path) -> Iterator[str]:
    """An empty database (no schema at all), on each back end."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        yield url
        get_engine(url).dispose()
        return
    # The server the conftest's pg_template uses (which skips, or fails under CI, if absent).
    request.getfixturevalue("pg_template")
    pg_url = os.environ.get(
        "DASHBOARD_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    )
    name = f"dash_e_{uuid.uuid4().hex[:10]}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    try:
        yield url
    finally:
        get_engine(url).dispose()
        with admin.connect() as c:
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def test_mig004_0002_upgrades_a_database_that_holds_registers(empty_url):
    """0002 adds NOT NULL columns to tables that already hold rows in a deployed 0001 database:
    the rows must survive with the documented defaults (sites not registered, shops not closed
    down, no key-region arrivals)."""
    migrate.upgrade(empty_url, "0001")
    engine = get_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "insert into construction_sites (site_id, name, headcount, new_arrivals_today, "
                "updated_at) values ('S1', '工地', 12, 1, '2026-11-20 01:00:00+00')"
            )
        )
        conn.execute(
            text(
                "insert into shops (licence_id, name, is_open, updated_at) "
                "values ('L1', '面馆', true, '2026-11-20 01:00:00+00')"
            )
        )
    migrate.upgrade(empty_url)
    with engine.connect() as conn:
        site = conn.execute(
            text(
                "select state, headcount, key_region_arrivals, unchecked_arrivals "
                "from construction_sites"
            )
        ).one()
        shop = conn.execute(text("select is_open, closed_down, open_on from shops")).one()
    assert tuple(site) == ("not_registered", 12, 0, 0)
    assert bool(shop.is_open) is True and bool(shop.closed_down) is False
    assert shop.open_on is None
