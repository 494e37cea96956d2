"""Migrations on an empty database produce exactly the schema the models describe."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

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
