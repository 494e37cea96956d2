"""Coordinate systems: CRS declarations, the GCJ-02 transform and its inverse."""

from __future__ import annotations

import numpy as np
import pyproj
import pytest

from dashboard import coords

# Published reference pairs from googollee/eviltransform's test suite (python/test.py):
# (wgs_lat, wgs_lon, gcj_lat, gcj_lon).
EVILTRANSFORM_VECTORS = [
    (31.1774276, 121.5272106, 31.17530398364597, 121.531541859215),  # Shanghai
    (22.543847, 113.912316, 22.540796131694766, 113.9171764808363),  # Shenzhen
    (39.911954, 116.377817, 39.91334545536069, 116.38404722455657),  # Beijing
]

_GEOD = pyproj.Geod(ellps="WGS84")


def _metres(lon1, lat1, lon2, lat2) -> np.ndarray:
    return np.asarray(_GEOD.inv(lon1, lat1, lon2, lat2)[2])


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), EVILTRANSFORM_VECTORS)
def test_coords001_forward_matches_reference(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = coords.wgs84_to_gcj02([wgs_lon], [wgs_lat])
    assert lon[0] == pytest.approx(gcj_lon, abs=1e-9)
    assert lat[0] == pytest.approx(gcj_lat, abs=1e-9)


@pytest.mark.parametrize(("wgs_lat", "wgs_lon", "gcj_lat", "gcj_lon"), EVILTRANSFORM_VECTORS)
def test_coords002_inverse_matches_reference(wgs_lat, wgs_lon, gcj_lat, gcj_lon):
    lon, lat = coords.gcj02_to_wgs84([gcj_lon], [gcj_lat])
    # The reference WGS84 points are given to 7 decimals (~1 cm): match them to 1e-6 degree.
    assert lon[0] == pytest.approx(wgs_lon, abs=1e-6)
    assert lat[0] == pytest.approx(wgs_lat, abs=1e-6)
    assert _metres(lon, lat, [wgs_lon], [wgs_lat])[0] < 0.5


def test_coords003_round_trip_over_shanghai_is_exact():
    rng = np.random.default_rng(7)
    lon = rng.uniform(120.85, 122.2, 20_000)
    lat = rng.uniform(30.68, 31.88, 20_000)
    g_lon, g_lat = coords.wgs84_to_gcj02(lon, lat)
    # The shift is real (hundreds of metres), so the test would notice an identity transform.
    assert _metres(lon, lat, g_lon, g_lat).min() > 100
    back_lon, back_lat = coords.gcj02_to_wgs84(g_lon, g_lat)
    assert np.abs(back_lon - lon).max() < 1e-9
    assert np.abs(back_lat - lat).max() < 1e-9


def test_coords004_outside_china_is_identity_and_nan_passes_through():
    lon, lat = coords.gcj02_to_wgs84([2.35, np.nan], [48.85, 31.2])
    assert lon[0] == 2.35 and lat[0] == 48.85
    assert np.isnan(lon[1])


@pytest.mark.parametrize("name", ["GCJ-02", "gcj02", "GCJ02", " gcj_02 "])
def test_coords005_gcj02_names(name):
    assert coords.parse_crs(name, origin="--crs").is_gcj02


@pytest.mark.parametrize(
    "name", ["EPSG:4326", "urn:ogc:def:crs:OGC:1.3:CRS84", "OGC:CRS84", "epsg:4326"]
)
def test_coords006_wgs84_names(name):
    source = coords.parse_crs(name, origin="--crs")
    assert source.is_wgs84 and not source.is_gcj02


def test_coords007_unknown_crs_is_an_error():
    with pytest.raises(coords.CRSError, match="unknown coordinate system"):
        coords.parse_crs("WGS-84-ish", origin="--crs")


def test_coords008_geojson_member_forms():
    assert coords.geojson_crs({"crs": "EPSG:4326"}) == "EPSG:4326"
    named = {"crs": {"type": "name", "properties": {"name": "urn:ogc:def:crs:OGC:1.3:CRS84"}}}
    assert coords.geojson_crs(named) == "urn:ogc:def:crs:OGC:1.3:CRS84"
    assert coords.geojson_crs({"type": "FeatureCollection"}) is None
    with pytest.raises(coords.CRSError):
        coords.geojson_crs({"crs": {"type": "link"}})


def test_coords009_resolve_order_and_prj(tmp_path):
    path = tmp_path / "pings.csv"
    path.write_text("timestamp,lon,lat\n")
    assert coords.resolve_crs(explicit=None, declared_in_file=None, path=path) is None
    (tmp_path / "pings.prj").write_text(pyproj.CRS.from_epsg(4490).to_wkt())
    from_prj = coords.resolve_crs(explicit=None, declared_in_file=None, path=path)
    assert from_prj is not None and from_prj.crs.to_epsg() == 4490
    assert "pings.prj" in from_prj.origin
    explicit = coords.resolve_crs(explicit="GCJ-02", declared_in_file=None, path=path)
    assert explicit is not None and explicit.is_gcj02


def test_coords010_projected_crs_reprojects():
    # Web Mercator metres of a point in Xuhui -> back to degrees.
    source = coords.parse_crs("EPSG:3857", origin="--crs")
    x, y = pyproj.Transformer.from_crs(4326, 3857, always_xy=True).transform(121.4365, 31.188)
    lon, lat = coords.to_wgs84([x], [y], source)
    assert lon[0] == pytest.approx(121.4365, abs=1e-9)
    assert lat[0] == pytest.approx(31.188, abs=1e-9)


@pytest.mark.parametrize("text", ["Beijing-ish", "EPSG:43\x00", "EPSG:43\ud800"])
def test_coords011_unreadable_crs_names_are_crs_errors(text):
    # Not a UnicodeEncodeError from inside pyproj: the operator gets the usual advice.
    with pytest.raises(coords.CRSError, match="unknown coordinate system .* give an EPSG code"):
        coords.parse_crs(text, origin="--crs")
