"""Coordinate systems of incoming feeds: which one a file is in, and how it gets to WGS84.

Everything the product stores is WGS84 (EPSG:4326, lon/lat order). Departments' exports are not:
map-vendor and DataV exports are in GCJ-02, the obfuscated system every Chinese web map uses,
about 500 m off in Shanghai; GIS departments sometimes deliver projected systems (CGCS2000
Gauss-Kruger, Shanghai's local grid). A file that does not say which system it is in is refused
by the ingestion path rather than guessed, because a wrong guess puts every point half a
kilometre off without any visible error.

Where the system is declared, in order: the operator's ``--crs``; a GeoJSON ``crs`` member;
a sidecar ``FILE.prj`` (an authority string such as ``EPSG:4326`` or WKT).

GCJ-02 is not a CRS pyproj knows: it is a published (reverse-engineered) non-linear offset on
top of WGS84, so the conversion is written here, vectorised with numpy.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pyproj
from pyproj.exceptions import CRSError as PyprojCRSError

logger = logging.getLogger(__name__)

FloatArray = npt.NDArray[np.float64]

#: Spellings accepted for GCJ-02 (compared case-insensitively).
GCJ02_NAMES = frozenset({"gcj-02", "gcj02", "gcj_02", "gcj 02"})

_WGS84 = pyproj.CRS.from_epsg(4326)


class CRSError(ValueError):
    """A declared coordinate system that cannot be understood."""


@dataclass(frozen=True)
class SourceCRS:
    """The coordinate system a file declares, and where the declaration came from."""

    label: str  # as declared, for messages
    origin: str  # "--crs", "the GeoJSON crs member", "sidecar FILE.prj"
    is_gcj02: bool = False
    crs: pyproj.CRS | None = None  # None only for GCJ-02

    @property
    def is_wgs84(self) -> bool:
        return self.crs is not None and self.crs.equals(_WGS84, ignore_axis_order=True)


def parse_crs(text: str, *, origin: str) -> SourceCRS:
    """Read a CRS name (``EPSG:4326``, ``OGC:CRS84``, a URN, WKT, ``GCJ-02``)."""
    label = text.strip()
    if not label:
        raise CRSError(f"empty coordinate system in {origin}")
    if label.lower() in GCJ02_NAMES:
        return SourceCRS(label=label, origin=origin, is_gcj02=True)
    try:
        crs = pyproj.CRS.from_user_input(label)
    except (PyprojCRSError, ValueError) as exc:  # ValueError: a NUL or a lone surrogate
        short = label if len(label) < 80 else label[:77] + "..."
        raise CRSError(
            f"unknown coordinate system {short!r} in {origin}: give an EPSG code such as "
            "EPSG:4326, or GCJ-02"
        ) from exc
    return SourceCRS(label=label, origin=origin, crs=crs)


def geojson_crs(document: Mapping[str, Any]) -> str | None:
    """The CRS name in a GeoJSON document's ``crs`` member (2008 spec), if any.

    RFC 7946 dropped the member and says GeoJSON is WGS84, but Chinese portals export GCJ-02
    GeoJSON without saying so; so the absence of the member is not taken as WGS84.
    """
    member = document.get("crs")
    if member is None:
        return None
    if isinstance(member, str):
        return member
    if isinstance(member, Mapping):
        props = member.get("properties")
        if isinstance(props, Mapping):
            name = props.get("name") or props.get("code")
            if name is not None:
                return str(name)
    raise CRSError(
        "the GeoJSON crs member is not understood: use "
        '{"type": "name", "properties": {"name": "EPSG:4326"}}'
    )


def sidecar_prj(path: Path) -> Path | None:
    """The ``.prj`` file beside ``path``: ``pings.csv.prj`` or, shapefile-style, ``pings.prj``."""
    for candidate in (path.with_name(path.name + ".prj"), path.with_suffix(".prj")):
        if candidate != path and candidate.is_file():
            return candidate
    return None


def resolve_crs(
    *, explicit: str | None, declared_in_file: str | None, path: Path
) -> SourceCRS | None:
    """The file's coordinate system, from the first source that gives one, or None."""
    found: list[SourceCRS] = []
    if explicit:
        found.append(parse_crs(explicit, origin="--crs"))
    if declared_in_file:
        found.append(parse_crs(declared_in_file, origin="the GeoJSON crs member"))
    prj = sidecar_prj(path)
    if prj is not None:
        text = prj.read_text(encoding="utf-8-sig", errors="replace")
        found.append(parse_crs(text, origin=f"sidecar {prj.name}"))
    if not found:
        return None
    chosen = found[0]
    for other in found[1:]:
        if not _same(chosen, other):
            # The operator's --crs is meant as an override; say so in the log.
            logger.warning(
                "%s: using %s from %s, not %s from %s",
                path.name,
                chosen.label,
                chosen.origin,
                other.label,
                other.origin,
            )
    return chosen


def _same(a: SourceCRS, b: SourceCRS) -> bool:
    if a.is_gcj02 or b.is_gcj02:
        return a.is_gcj02 == b.is_gcj02
    assert a.crs is not None and b.crs is not None
    return a.crs.equals(b.crs, ignore_axis_order=True)


def to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, source: SourceCRS
) -> tuple[FloatArray, FloatArray]:
    """Coordinates in ``source`` -> WGS84 lon/lat. Failed points come back as inf or NaN.

    The caller decides whether GCJ-02 is acceptable (the ingestion path needs --convert-gcj02).
    """
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    if source.is_gcj02:
        return gcj02_to_wgs84(x, y)
    if source.is_wgs84:
        return x.copy(), y.copy()
    assert source.crs is not None
    transformer = pyproj.Transformer.from_crs(source.crs, _WGS84, always_xy=True)
    out_x, out_y = transformer.transform(x, y, errcheck=False)
    return np.asarray(out_x, dtype=np.float64), np.asarray(out_y, dtype=np.float64)


# --------------------------------------------------------------------------- GCJ-02
#
# Hand-written because no maintained package offers a vectorised GCJ-02 transform (the usual
# ones, eviltransform and coordTransform_py, work one point at a time in pure Python and are
# unmaintained), and a pings file has 10^5 points. The algorithm is the published forward
# formula (Krasovsky 1940 ellipsoid, a = 6378245 m, e^2 = 0.00669342162296594323) as in
# https://github.com/googollee/eviltransform; its test vectors are in tests/test_coords.py.
# There is no closed-form inverse; the offset varies slowly (its derivative is ~1e-5), so a
# fixed-point iteration wgs <- wgs - (forward(wgs) - gcj) converges to 1e-12 degree in a few
# steps, better than eviltransform's bisection "exact" inverse (1e-6 degree).

_KRASOVSKY_A = 6378245.0
_KRASOVSKY_EE = 0.00669342162296594323


def out_of_china(lon: FloatArray, lat: FloatArray) -> npt.NDArray[np.bool_]:
    """The rough bounding box outside which GCJ-02 applies no offset (as published)."""
    return ~((lon >= 72.004) & (lon <= 137.8347) & (lat >= 0.8293) & (lat <= 55.8271))


def _gcj02_offset(lon: FloatArray, lat: FloatArray) -> tuple[FloatArray, FloatArray]:
    x = lon - 105.0
    y = lat - 35.0
    pi = np.pi
    common = 20.0 * np.sin(6.0 * x * pi) + 20.0 * np.sin(2.0 * x * pi)
    d_lat = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * np.sqrt(np.abs(x))
    d_lat += (
        (
            common
            + 20.0 * np.sin(y * pi)
            + 40.0 * np.sin(y / 3.0 * pi)
            + 160.0 * np.sin(y / 12.0 * pi)
            + 320.0 * np.sin(y * pi / 30.0)
        )
        * 2.0
        / 3.0
    )
    d_lon = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * np.sqrt(np.abs(x))
    d_lon += (
        (
            common
            + 20.0 * np.sin(x * pi)
            + 40.0 * np.sin(x / 3.0 * pi)
            + 150.0 * np.sin(x / 12.0 * pi)
            + 300.0 * np.sin(x / 30.0 * pi)
        )
        * 2.0
        / 3.0
    )
    rad_lat = lat / 180.0 * pi
    magic = 1.0 - _KRASOVSKY_EE * np.sin(rad_lat) ** 2
    sqrt_magic = np.sqrt(magic)
    d_lat = (d_lat * 180.0) / ((_KRASOVSKY_A * (1.0 - _KRASOVSKY_EE)) / (magic * sqrt_magic) * pi)
    d_lon = (d_lon * 180.0) / (_KRASOVSKY_A / sqrt_magic * np.cos(rad_lat) * pi)
    return d_lon, d_lat


def wgs84_to_gcj02(lon: npt.ArrayLike, lat: npt.ArrayLike) -> tuple[FloatArray, FloatArray]:
    """WGS84 -> GCJ-02 (identity outside China's box)."""
    x = np.asarray(lon, dtype=np.float64)
    y = np.asarray(lat, dtype=np.float64)
    d_lon, d_lat = _gcj02_offset(x, y)
    outside = out_of_china(x, y)
    return np.where(outside, x, x + d_lon), np.where(outside, y, y + d_lat)


def gcj02_to_wgs84(
    lon: npt.ArrayLike, lat: npt.ArrayLike, *, tolerance: float = 1e-12, max_iterations: int = 20
) -> tuple[FloatArray, FloatArray]:
    """GCJ-02 -> WGS84 by fixed-point iteration of the forward transform (see above)."""
    gx = np.asarray(lon, dtype=np.float64)
    gy = np.asarray(lat, dtype=np.float64)
    wx, wy = gx.copy(), gy.copy()
    with np.errstate(invalid="ignore"):
        for _ in range(max_iterations):
            fx, fy = wgs84_to_gcj02(wx, wy)
            ex, ey = fx - gx, fy - gy
            wx, wy = wx - ex, wy - ey
            worst = np.nanmax(np.maximum(np.abs(ex), np.abs(ey)), initial=0.0)
            if worst < tolerance:
                break
    outside = out_of_china(gx, gy)
    return np.where(outside, gx, wx), np.where(outside, gy, wy)
