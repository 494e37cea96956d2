"""Alembic environment. Run through ``python -m dashboard init-db`` (or dashboard.migrate)."""

from __future__ import annotations

from alembic import context

from dashboard.db import get_engine
from dashboard.models import Base

config = context.config
target_metadata = Base.metadata


def render_item(type_, obj, autogen_context):
    """Render our geometry type as itself, importing it in the migration."""
    from dashboard.sqltypes import Geometry, UTCDateTime

    if type_ == "type" and isinstance(obj, Geometry):
        autogen_context.imports.add("import dashboard.sqltypes")
        return f"dashboard.sqltypes.Geometry({obj.geometry_type!r}, srid={obj.srid})"
    if type_ == "type" and isinstance(obj, UTCDateTime):
        autogen_context.imports.add("import dashboard.sqltypes")
        return "dashboard.sqltypes.UTCDateTime()"
    return False


def include_object(obj, name, type_, reflected, compare_to):
    # PostGIS's own tables (spatial_ref_sys, topology) are not ours to manage.
    if type_ == "table" and reflected and compare_to is None:
        return False
    # GeoAlchemy2 creates the GiST index of each geometry column itself.
    if type_ == "index" and name and name.startswith("idx_") and name.endswith("_geom"):
        return False
    return True


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = get_engine(config.get_main_option("sqlalchemy.url") or None)
    with engine.connect() as connection:
        _run(connection)


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_item=render_item,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations_online()
