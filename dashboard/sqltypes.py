"""Column types that behave the same on SQLite and PostgreSQL.

``UTCDateTime``: aware datetimes in, aware UTC datetimes out (SQLite keeps no offset).

``Geometry``: stores shapely geometries on SQLite and on PostGIS.

On PostgreSQL the column is a real PostGIS ``geometry(<type>, 4326)`` (via GeoAlchemy2) so GIS
staff can open the tables in QGIS; on SQLite, where SpatiaLite cannot be assumed on a fresh
machine, it is a WKB blob. Either way Python code reads and writes shapely objects in WGS84.
"""

from __future__ import annotations

import datetime as dt

import shapely
from geoalchemy2 import Geometry as PostGISGeometry
from geoalchemy2.elements import WKBElement
from sqlalchemy import DateTime, LargeBinary
from sqlalchemy.types import TypeDecorator

WGS84 = 4326


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC; naive values are refused rather than guessed."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a time zone")
        value = value.astimezone(dt.UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC)


class Geometry(TypeDecorator):
    """shapely geometry <-> PostGIS geometry (PostgreSQL) or WKB blob (other databases)."""

    impl = LargeBinary
    cache_ok = True

    def __init__(self, geometry_type: str = "GEOMETRY", srid: int = WGS84):
        super().__init__()
        self.geometry_type = geometry_type
        self.srid = srid
        # GeoAlchemy2's DDL hooks read these off the column type to add the GiST index.
        self.spatial_index = True
        self.use_N_D_index = False
        self.dimension = 2
        self.use_typmod = None

    def load_dialect_impl(self, dialect):
        if dialect is None:  # GeoAlchemy2's DDL hooks ask without a dialect
            return self._postgis()
        if dialect.name == "postgresql":
            return dialect.type_descriptor(self._postgis())
        return dialect.type_descriptor(LargeBinary())

    def _postgis(self) -> PostGISGeometry:
        return PostGISGeometry(self.geometry_type, srid=self.srid, spatial_index=True)

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if not isinstance(value, shapely.Geometry):
            raise TypeError(f"expected a shapely geometry, got {type(value).__name__}")
        wkb = shapely.to_wkb(value)
        if dialect.name == "postgresql":
            return WKBElement(wkb, srid=self.srid)
        return wkb

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, WKBElement):
            value = value.data
        if isinstance(value, memoryview):
            value = bytes(value)
        return shapely.from_wkb(value)
