"""Data -> plotly figures, pure (no database, no Dash).

The wall map is a MapLibre ``choroplethmap`` on a style that holds nothing but a background
layer: no tile server, no token, no glyphs, no request leaves the building. Geometry goes to the
browser once, with the full figure; a refresh changes only the values (see :func:`map_values`),
which the web layer sends as a ``Patch`` of ``data[0].z``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import shapely

from dashboard.queries import AreaShape

logger = logging.getLogger(__name__)

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
)
TEXT = "#cfe6ff"
OUTLINE_SUBDISTRICT = "#4fd1ff"
OUTLINE_DISTRICT = "#9ff3ff"
COMMITTEE_EDGE = "#1d5c8f"
# One hue, dark to bright: red/yellow/blue and blue/green/yellow/red are reserved for the risk
# bands and the crowd levels, so a count must not borrow them.
COUNT_COLORSCALE = [
    [0.0, "#0a2748"],
    [0.25, "#0f4c7c"],
    [0.5, "#1681b8"],
    [0.75, "#38b6e8"],
    [1.0, "#b8f1ff"],
]
# The smallest top of the colour scale, so that one open order does not paint a committee as
# bright as the busiest committee on a busy day.
MIN_ZMAX = 5

# A MapLibre style of our own: a transparent background and nothing else (the map's layers
# are the figure's traces and layout layers). "sources" must not be empty: plotly.js drops an
# empty object from the layout, and restyling the map on the next update then fails with
# "missing required property sources"; one empty GeoJSON source keeps it.
MAP_STYLE: dict[str, Any] = {
    "id": "yiwang-offline",
    "version": 8,
    "sources": {
        "empty": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}}
    },
    "layers": [
        {"id": "background", "type": "background", "paint": {"background-color": "rgba(0,0,0,0)"}}
    ],
}


def _rounded(geom: shapely.Geometry, precision: int) -> dict[str, Any]:
    return shapely.geometry.mapping(shapely.transform(geom, lambda xy: np.round(xy, precision)))


def feature_collection(
    shapes: Sequence[AreaShape],
    *,
    precision: int = 5,
    properties: bool = False,
    include_empty: bool = False,
) -> dict[str, Any]:
    """GeoJSON of the areas, each feature's ``id`` being the area code.

    ``precision`` is the number of decimals kept (5 is about 1 m): the browser needs no more,
    and the 312 committees stay a few hundred kilobytes. Areas without a boundary are left out
    unless ``include_empty`` (then their geometry is null, as GeoJSON allows).
    """
    features = []
    for s in shapes:
        empty = s.geom is None or s.geom.is_empty
        if empty and not include_empty:
            continue
        feature: dict[str, Any] = {
            "type": "Feature",
            "id": s.code,
            "geometry": None if empty else _rounded(s.geom, precision),
            "properties": {},
        }
        if properties:
            feature["properties"] = {
                "code": s.code,
                "name": s.name,
                "level": str(s.level),
                "parent_code": s.parent_code,
                "population": s.population,
                "area_km2": s.area_km2,
            }
        features.append(feature)
    return {"type": "FeatureCollection", "features": features}


# MapLibre's zoom z shows the whole world in 512 * 2**z pixels.
WORLD_PX_AT_ZOOM_0 = 512
# The map size assumed before the browser has measured it (the 1080p wall's map panel).
DEFAULT_MAP_PX = (940, 860)


def _mercator_y(lat: float) -> float:
    """Web-Mercator y of a latitude, 0 (north edge) to 1 (south edge)."""
    s = math.sin(math.radians(lat))
    return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def fit_view(
    bounds: tuple[float, float, float, float],
    size_px: tuple[float, float] | None,
    *,
    padding: float = 0.04,
) -> tuple[dict[str, float], float]:
    """Center and zoom showing ``bounds`` (west, south, east, north) whole in ``size_px``.

    Plotly fits a map to its data only for point traces, not for ``choroplethmap``; and the
    zoom that fits depends on the screen (a 4K wall needs one more zoom level than a 1080p
    one), so the browser sends its map size and the server fits the view.
    """
    west, south, east, north = bounds
    width, height = size_px or DEFAULT_MAP_PX
    usable = 1 - 2 * padding
    dx = max((east - west) / 360, 1e-9)
    y_top, y_bottom = _mercator_y(north), _mercator_y(south)
    dy = max(y_bottom - y_top, 1e-9)
    zoom = math.log2(min(width * usable / dx, height * usable / dy) / WORLD_PX_AT_ZOOM_0)
    y_mid = (y_top + y_bottom) / 2
    lat_mid = math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y_mid))))
    return {"lon": (west + east) / 2, "lat": lat_mid}, round(zoom, 3)


@dataclass(frozen=True)
class MapLabels:
    """The words of the map, in the screen's language."""

    committee: str
    subdistrict: str
    value: str
    legend: str


def map_values(codes: Sequence[str], counts: Mapping[str, int]) -> tuple[list[int], int]:
    """The value of every committee on the map, in the map's order, and the colour-scale top."""
    z = [int(counts.get(code, 0)) for code in codes]
    return z, max(MIN_ZMAX, max(z, default=0))


def committee_map(
    committees: Sequence[AreaShape],
    subdistricts: Sequence[AreaShape],
    district: Sequence[AreaShape],
    counts: Mapping[str, int],
    labels: MapLabels,
    *,
    size_px: tuple[float, float] | None = None,
) -> go.Figure:
    """The district map: committees filled by ``counts``, subdistrict and district outlines.

    Every committee is a location, in the given order, with or without a boundary (one without
    simply is not drawn): so the value list of a refresh lines up with the figure's locations
    whatever boundaries exist.
    """
    codes = [c.code for c in committees]
    names = {s.code: s.name for s in subdistricts}
    z, zmax = map_values(codes, counts)
    # Plotly sizes text and lines in pixels; the page scales with the screen, so must the map.
    k = min(3.0, max(0.75, (size_px or DEFAULT_MAP_PX)[1] / DEFAULT_MAP_PX[1]))
    fig = go.Figure(
        go.Choroplethmap(
            geojson=feature_collection(committees),
            locations=codes,
            z=z,
            zmin=0,
            zmax=zmax,
            colorscale=COUNT_COLORSCALE,
            marker={"line": {"color": COMMITTEE_EDGE, "width": 0.6 * k}, "opacity": 0.92},
            customdata=[[c.name, names.get(c.parent_code or "", "")] for c in committees],
            hovertemplate=(
                f"<b>%{{customdata[0]}}</b><br>{labels.subdistrict}: %{{customdata[1]}}"
                f"<br>{labels.value}: %{{z}}<extra></extra>"
            ),
            colorbar={
                "title": {"text": labels.legend, "font": {"color": TEXT, "size": 13 * k}},
                "tickfont": {"color": TEXT, "size": 12 * k},
                "outlinewidth": 0,
                "thickness": 12 * k,
                "len": 0.45,
                "x": 0.99,
                "xanchor": "right",
                "y": 0.04,
                "yanchor": "bottom",
                "bgcolor": "rgba(4,16,38,0.6)",
            },
        )
    )
    layers = [
        {
            "sourcetype": "geojson",
            "source": feature_collection(subdistricts),
            "type": "line",
            "color": OUTLINE_SUBDISTRICT,
            "line": {"width": 1.6 * k},
            "opacity": 0.9,
        },
        {
            "sourcetype": "geojson",
            "source": feature_collection(district),
            "type": "line",
            "color": OUTLINE_DISTRICT,
            "line": {"width": 3 * k},
        },
    ]
    view: dict[str, Any] = {}
    outline = [a.geom for a in (*district, *subdistricts, *committees) if a.geom is not None]
    if outline:
        center, zoom = fit_view(tuple(shapely.total_bounds(outline)), size_px)
        view = {"center": center, "zoom": zoom}
    fig.update_layout(
        map={
            "style": MAP_STYLE,
            "layers": [layer for layer in layers if layer["source"]["features"]],
            **view,
        },
        margin={"l": 0, "r": 0, "t": 0, "b": 0},
        # Transparent: the panel's own background shows through, as on every other panel.
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": FONT_FAMILY, "color": TEXT, "size": 12 * k},
        hoverlabel={
            "bgcolor": "#0b2a4a",
            "bordercolor": OUTLINE_SUBDISTRICT,
            "font": {"family": FONT_FAMILY, "size": 14 * k},
        },
        # Zoom and pan survive every data refresh (the figure keeps this revision).
        uirevision="district-map",
    )
    return fig
