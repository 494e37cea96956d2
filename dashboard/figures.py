"""Data -> plotly figures, pure (no database, no Dash).

The district map is a MapLibre ``choroplethmap`` of the housing compounds on a basemap of our
own (:func:`map_style`): a transparent background, the stations as GeoJSON circles and names,
and, only when configured, an intranet XYZ raster tile layer at the bottom. No token, no glyph
or sprite server, no request leaves the building. Geometry goes to the browser once, with the
full figure; a refresh changes only the values (see :func:`risk_map_values`), which the web
layer sends as a ``Patch``. The crowd heatmap is the same kind of map over the crowd grid's
squares (:func:`crowd_map`, :func:`crowd_values`).
"""

from __future__ import annotations

import datetime as dt
import html
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import plotly.graph_objects as go
import shapely

from dashboard.crowd import LEVELS
from dashboard.queries import AreaShape

logger = logging.getLogger(__name__)

FONT_FAMILY = (
    '"Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", sans-serif'
)
TEXT = "#cfe6ff"
OUTLINE_SUBDISTRICT = "#4fd1ff"
OUTLINE_DISTRICT = "#9ff3ff"
OUTLINE_COMMITTEE = "#2f7fc0"
MUTED = "#7fa3c7"
GRID = "rgba(79, 209, 255, 0.12)"

# The seeds' colour words, in hues that read on the dark wall (assets/wall.css uses the same).
BAND_COLORS = {"red": "#e5484d", "yellow": "#f5c542", "blue": "#3b82f6"}
# An incomplete score (some indicators still missing) is its band's hue washed out, with a white
# edge: MapLibre fills cannot be hatched, and a pale tint plus an edge survives any zoom.
BAND_COLORS_INCOMPLETE = {"red": "#f4a6a8", "yellow": "#fae3a1", "blue": "#a9c7fb"}
INCOMPLETE_EDGE = "#ffffff"
COMPOUND_EDGE = "#06182f"
NO_SCORE_COLOR = "#18395e"  # a compound the day's scoring did not cover
BAND_ORDER = ("blue", "yellow", "red")

# --------------------------------------------------------------------------- the basemap

# The style's layer ids. Our overlays (a map's traces and its outline layers) are inserted just
# below STATIONS_LAYER, so the stack is: tiles, fills, outlines, station circles, station names.
TILES_LAYER = "basemap-tiles"
STATIONS_LAYER = "stations-circle"
STATION_NAMES_LAYER = "stations-name"
STATION_FILL = {"railway": "#ffffff", "metro": "#d7ecff"}
STATION_EDGE = "#02132b"  # the circles' edge and the names' halo: both read on any fill
# MapLibre draws text with no "glyphs" URL in the style by rendering each character in the
# browser from the page's own fonts (its TinySDF path): no glyph server, none requested.
STATION_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei"]


@dataclass(frozen=True)
class Basemap:
    """What lies under the map's own layers: an intranet XYZ raster tile template (256 px tiles)
    and its credit; ``tile_url=None`` draws no tiles at all."""

    tile_url: str | None = None
    attribution: str = ""


@dataclass(frozen=True)
class StationMark:
    """A railway or metro station as the basemap draws it: a circle and its name."""

    name: str
    kind: str  # railway | metro
    lon: float
    lat: float


def _station_features(stations: Sequence[StationMark]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [round(s.lon, 5), round(s.lat, 5)]},
                "properties": {"name": s.name, "kind": s.kind},
            }
            for s in stations
        ],
    }


# Station names on the wall, read from a few metres: about a fortieth of the map's height,
# never under the wall's smallest text at 1080p (1.2 --u, 13 px) nor over 36 px; on a page read
# at a desk (/risk, /crowd), 13 px. A railway station's name is 1.2 times a metro station's.
STATION_TEXT_MIN_PX = 13.0
STATION_TEXT_MAX_PX = 36.0


def station_text_px(size_px: tuple[float, float] | None, *, wall: bool = True) -> float:
    """The metro stations' name size on a map of ``size_px``: on the wall the map's height / 40
    kept in [13, 36] px (13.0 on the 1080p wall's ~490 px map, 24.5 on the 4K one's ~980 px);
    13 px on a page."""
    if not wall:
        return STATION_TEXT_MIN_PX
    height = (size_px or DEFAULT_MAP_PX)[1]
    return round(min(STATION_TEXT_MAX_PX, max(STATION_TEXT_MIN_PX, height / 40)), 1)


def map_style(
    basemap: Basemap | None = None,
    stations: Sequence[StationMark] = (),
    *,
    text_px: float = STATION_TEXT_MIN_PX,
    names: bool = True,
) -> dict[str, Any]:
    """The MapLibre style every map is drawn on: a transparent background; the intranet tiles
    when ``basemap`` has a URL (the bottom layer, below every fill and line); the stations as
    circles and, with ``names``, their names, metro ones at ``text_px`` (see
    :func:`station_text_px`), railway ones larger.

    The station layers are there even with no station (an empty source): the maps put their
    traces and outlines just below :data:`STATIONS_LAYER`, which must exist. "sources" is never
    empty either: plotly.js drops an empty object from the layout, and restyling the map on the
    next update then fails with "missing required property sources". There is no "glyphs" and
    no "sprite": nothing here makes the browser fetch anything but the tiles asked for.
    """
    sources: dict[str, Any] = {
        "empty": {"type": "geojson", "data": {"type": "FeatureCollection", "features": []}},
        "stations": {"type": "geojson", "data": _station_features(stations)},
    }
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "rgba(0,0,0,0)"}}
    ]
    if basemap is not None and basemap.tile_url:
        tiles: dict[str, Any] = {"type": "raster", "tiles": [basemap.tile_url], "tileSize": 256}
        if basemap.attribution:
            # MapLibre shows attributions as HTML: the setting is plain text.
            tiles["attribution"] = html.escape(basemap.attribution)
        sources["tiles"] = tiles
        layers.append(
            {
                "id": TILES_LAYER,
                "type": "raster",
                "source": "tiles",
                "paint": {"raster-fade-duration": 0},
            }
        )
    railway = ["==", ["get", "kind"], "railway"]
    layers.append(
        {
            "id": STATIONS_LAYER,
            "type": "circle",
            "source": "stations",
            "paint": {
                "circle-radius": ["case", railway, 0.45 * text_px, 0.3 * text_px],
                "circle-color": ["case", railway, STATION_FILL["railway"], STATION_FILL["metro"]],
                "circle-stroke-color": STATION_EDGE,
                "circle-stroke-width": max(1.0, 0.1 * text_px),
            },
        }
    )
    if names:
        layers.append(
            {
                "id": STATION_NAMES_LAYER,
                "type": "symbol",
                "source": "stations",
                "layout": {
                    "text-field": ["get", "name"],
                    "text-font": STATION_FONTS,
                    "text-size": ["case", railway, round(1.2 * text_px, 1), text_px],
                    "text-anchor": "top",
                    "text-offset": [0, 0.55],
                    # Where names would collide, the railway station's wins.
                    "symbol-sort-key": ["case", railway, 0, 1],
                },
                "paint": {
                    "text-color": "#ffffff",
                    "text-halo-color": STATION_EDGE,
                    "text-halo-width": max(1.5, 0.12 * text_px),
                },
            }
        )
    return {"id": "yiwang-offline", "version": 8, "sources": sources, "layers": layers}


# The style with no tiles and no stations (what a map with nothing configured stands on).
MAP_STYLE: dict[str, Any] = map_style()


def blank() -> dict[str, Any]:
    """An empty chart: no axes, transparent (nothing to show yet, or nothing picked)."""
    hidden = {"visible": False}
    return {
        "data": [],
        "layout": {
            "paper_bgcolor": "rgba(0,0,0,0)",
            "plot_bgcolor": "rgba(0,0,0,0)",
            "xaxis": hidden,
            "yaxis": hidden,
        },
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


def risk_code(band: str | None, complete: bool = True) -> int:
    """A compound's value on the risk map: 0 not scored, 1-3 blue/yellow/red, 4-6 the same
    bands with an incomplete score."""
    if band not in BAND_COLORS:
        return 0
    return 1 + BAND_ORDER.index(band) + (0 if complete else len(BAND_ORDER))


def _step_colorscale(colors: Sequence[str]) -> list[list[Any]]:
    """One flat colour per integer code 0..n-1 (with zmin=-0.5, zmax=n-0.5)."""
    n = len(colors)
    scale: list[list[Any]] = []
    for i, color in enumerate(colors):
        scale += [[i / n, color], [(i + 1) / n, color]]
    return scale


RISK_COLORS = (
    NO_SCORE_COLOR,
    *(BAND_COLORS[b] for b in BAND_ORDER),
    *(BAND_COLORS_INCOMPLETE[b] for b in BAND_ORDER),
)
RISK_COLORSCALE = _step_colorscale(RISK_COLORS)


@dataclass(frozen=True)
class MapLabels:
    """The words of the map, in the screen's language."""

    committee: str
    subdistrict: str
    score: str


def risk_map_values(
    codes: Sequence[str], bands: Mapping[str, tuple[str, bool]]
) -> tuple[list[int], list[str]]:
    """Each compound's colour code and edge colour, in the map's order (``bands``: code ->
    (band, complete)). All a refresh sends: never the geometry."""
    z, edges = [], []
    for code in codes:
        band, complete = bands.get(code, (None, True))
        z.append(risk_code(band, complete))
        edges.append(COMPOUND_EDGE if complete else INCOMPLETE_EDGE)
    return z, edges


def score_texts(codes: Sequence[str], scores: Mapping[str, float]) -> list[str]:
    """The score shown on hover, one per compound in the map's order ("—" if not scored)."""
    return [f"{scores[c]:.1f}" if c in scores else "—" for c in codes]


def risk_map(
    compounds: Sequence[AreaShape],
    committees: Sequence[AreaShape],
    subdistricts: Sequence[AreaShape],
    district: Sequence[AreaShape],
    bands: Mapping[str, tuple[str, bool]],
    labels: MapLabels,
    *,
    size_px: tuple[float, float] | None = None,
    scores: Mapping[str, float] | None = None,
    stations: Sequence[StationMark] = (),
    basemap: Basemap | None = None,
) -> go.Figure:
    """The district map: compounds filled red / yellow / blue by ``bands``, under the
    committee, subdistrict and district outlines and the named ``stations``, over the
    ``basemap``'s tiles if any.

    Every compound is a location, in the given order, with or without a boundary (one without
    simply is not drawn): so the values of a refresh line up with the figure's locations
    whatever boundaries exist. ``scores`` (code -> score) adds the score to the hover text:
    the /risk page's map, read at a desk, where the station names are 13 px.
    """
    codes = [c.code for c in compounds]
    committee_of = {c.code: c for c in committees}
    names = {s.code: s.name for s in subdistricts}

    def where(compound: AreaShape) -> list[str]:
        committee = committee_of.get(compound.parent_code or "")
        sub = names.get(committee.parent_code or "", "") if committee else ""
        return [compound.name, committee.name if committee else "", sub]

    z, edges = risk_map_values(codes, bands)
    # Plotly sizes text and lines in pixels; the page scales with the screen, so must the map.
    k = min(3.0, max(0.75, (size_px or DEFAULT_MAP_PX)[1] / DEFAULT_MAP_PX[1]))
    hover = (
        f"<b>%{{customdata[0]}}</b><br>{labels.committee}: %{{customdata[1]}}"
        f"<br>{labels.subdistrict}: %{{customdata[2]}}"
    )
    trace: dict[str, Any] = {}
    if scores is not None:
        trace["text"] = score_texts(codes, scores)
        hover += f"<br>{labels.score}: %{{text}}"
    fig = go.Figure(
        go.Choroplethmap(
            geojson=feature_collection(compounds),
            locations=codes,
            z=z,
            zmin=-0.5,
            zmax=len(RISK_COLORS) - 0.5,
            colorscale=RISK_COLORSCALE,
            showscale=False,  # a discrete legend lives beside the map, in HTML
            marker={"line": {"color": edges, "width": 0.6 * k}, "opacity": 0.95},
            customdata=[where(c) for c in compounds],
            hovertemplate=hover + "<extra></extra>",
            below=STATIONS_LAYER,
            **trace,
        )
    )
    layers = outline_layers(
        district, subdistricts, committees, widths=(3 * k, 1.8 * k, 0.7 * k), opacity=(0.95, 0.75)
    )
    outline = [
        a.geom for a in (*district, *subdistricts, *committees, *compounds) if a.geom is not None
    ]
    text_px = station_text_px(size_px, wall=scores is None)  # scores: the /risk page
    style = map_style(basemap, stations, text_px=text_px)
    _map_layout(fig, layers, outline, style, size_px=size_px, k=k, uirevision="district-map")
    return fig


def outline_layers(
    district: Sequence[AreaShape],
    subdistricts: Sequence[AreaShape],
    committees: Sequence[AreaShape],
    *,
    widths: tuple[float, float, float],
    opacity: tuple[float, float],
) -> list[dict[str, Any]]:
    """Committee, subdistrict and district outlines as MapLibre line layers, finest first,
    each just below the stations (so above the map's fills, which go there first).

    ``widths``: district, subdistrict, committee; ``opacity``: subdistrict, committee.
    """
    district_w, subdistrict_w, committee_w = widths
    subdistrict_o, committee_o = opacity
    return [
        {
            "sourcetype": "geojson",
            "source": feature_collection(committees),
            "type": "line",
            "below": STATIONS_LAYER,
            "color": OUTLINE_COMMITTEE,
            "line": {"width": committee_w},
            "opacity": committee_o,
        },
        {
            "sourcetype": "geojson",
            "source": feature_collection(subdistricts),
            "type": "line",
            "below": STATIONS_LAYER,
            "color": OUTLINE_SUBDISTRICT,
            "line": {"width": subdistrict_w},
            "opacity": subdistrict_o,
        },
        {
            "sourcetype": "geojson",
            "source": feature_collection(district),
            "type": "line",
            "below": STATIONS_LAYER,
            "color": OUTLINE_DISTRICT,
            "line": {"width": district_w},
        },
    ]


def _map_layout(
    fig: go.Figure,
    layers: list[dict[str, Any]],
    outline: list[shapely.Geometry],
    style: dict[str, Any],
    *,
    size_px: tuple[float, float] | None,
    k: float,
    uirevision: str,
) -> None:
    """The basemap ``style``, the view fitted to ``outline``, and the wall's fonts."""
    view: dict[str, Any] = {}
    if outline:
        center, zoom = fit_view(tuple(shapely.total_bounds(outline)), size_px)
        view = {"center": center, "zoom": zoom}
    fig.update_layout(
        map={
            "style": style,
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
        uirevision=uirevision,
    )


# --------------------------------------------------------------------------- risk charts


def _dark_layout(fig: go.Figure, *, height: int | None) -> None:
    """The browser pages' chart style. Without ``height`` the chart fills its container."""
    if height is not None:
        fig.update_layout(height=height)
    fig.update_layout(
        margin={"l": 8, "r": 16, "t": 8, "b": 8},
        paper_bgcolor="rgba(0,0,0,0)",
        plot_bgcolor="rgba(0,0,0,0)",
        font={"family": FONT_FAMILY, "color": TEXT, "size": 12},
        hoverlabel={"bgcolor": "#0b2a4a", "bordercolor": OUTLINE_SUBDISTRICT},
        showlegend=False,
    )
    fig.update_xaxes(gridcolor=GRID, zeroline=False, color=MUTED, automargin=True)
    fig.update_yaxes(gridcolor=GRID, zeroline=False, color=MUTED, automargin=True)


@dataclass(frozen=True)
class HistoryLabels:
    score: str
    upper: str
    rank: str


def score_history(
    dates: Sequence[Any],
    scores: Sequence[float],
    uppers: Sequence[float],
    bands: Sequence[str],
    ranks: Sequence[int],
    labels: HistoryLabels,
    *,
    red_at: float,
    yellow_at: float,
    height: int | None = None,
) -> go.Figure:
    """A compound's score by day, on the three bands (blue under ``yellow_at``, yellow up to
    ``red_at``, red above), each point in its band's colour; where a score was incomplete, its
    upper bound (missing indicators at their worst) is drawn dotted above it."""
    fig = go.Figure()
    areas = ((0, yellow_at, "blue"), (yellow_at, red_at, "yellow"), (red_at, 100, "red"))
    for lo, hi, band in areas:
        fig.add_hrect(y0=lo, y1=hi, fillcolor=BAND_COLORS[band], opacity=0.08, line_width=0)
    for edge in (yellow_at, red_at):
        fig.add_hline(y=edge, line={"color": MUTED, "width": 1, "dash": "dash"})
    if any(u > s for u, s in zip(uppers, scores, strict=True)):
        fig.add_trace(
            go.Scatter(
                x=list(dates),
                y=list(uppers),
                mode="lines",
                line={"color": MUTED, "width": 1.5, "dash": "dot"},
                name=labels.upper,
                hovertemplate=f"{labels.upper}: %{{y:.1f}}<extra></extra>",
            )
        )
    fig.add_trace(
        go.Scatter(
            x=list(dates),
            y=list(scores),
            mode="lines+markers",
            line={"color": "#dcefff", "width": 2},
            marker={"color": [BAND_COLORS.get(b, MUTED) for b in bands], "size": 8},
            customdata=list(ranks),
            name=labels.score,
            hovertemplate=(
                f"%{{x|%Y-%m-%d}}<br>{labels.score}: %{{y:.1f}}"
                f"<br>{labels.rank}: %{{customdata}}<extra></extra>"
            ),
        )
    )
    _dark_layout(fig, height=height)
    fig.update_yaxes(range=[0, 100], tickvals=[0, yellow_at, red_at, 100])
    fig.update_xaxes(tickformat="%m-%d")
    return fig


@dataclass(frozen=True)
class ContributionLabels:
    contribution: str
    possible: str
    missing: str
    carried: str


def contributions(
    names: Sequence[str],
    weights: Sequence[float],
    contribution: Sequence[float | None],
    carried: Sequence[bool],
    labels: ContributionLabels,
    *,
    band: str,
    height: int | None = None,
) -> go.Figure:
    """Each indicator's points of the score (weight × sub-score) as horizontal bars, largest
    on top, over a faint bar of what it could give at most (its weight × 100). A missing
    indicator gives nothing and says so; a carried-forward one is marked."""
    rows = sorted(
        zip(names, weights, contribution, carried, strict=True),
        key=lambda r: (-1 if r[2] is None else r[2], r[1]),
    )
    y = [f"{n}{'*' if c else ''}" for n, _, _, c in rows]
    fig = go.Figure()
    fig.add_trace(
        go.Bar(
            y=y,
            x=[100 * w for _, w, _, _ in rows],
            orientation="h",
            marker={"color": "rgba(127, 163, 199, 0.16)"},
            hovertemplate=f"%{{y}}<br>{labels.possible}: %{{x:.1f}}<extra></extra>",
        )
    )
    fig.add_trace(
        go.Bar(
            y=y,
            x=[0 if c is None else c for _, _, c, _ in rows],
            orientation="h",
            marker={"color": BAND_COLORS.get(band, OUTLINE_SUBDISTRICT)},
            text=[labels.missing if c is None else f"{c:.1f}" for _, _, c, _ in rows],
            textposition="outside",
            cliponaxis=False,
            hovertemplate=f"%{{y}}<br>{labels.contribution}: %{{x:.2f}}<extra></extra>",
        )
    )
    _dark_layout(fig, height=height)
    fig.update_layout(barmode="overlay", bargap=0.25)
    fig.update_xaxes(title={"text": labels.contribution, "font": {"size": 11}}, rangemode="tozero")
    return fig


# --------------------------------------------------------------------------- crowd heatmap

# The four levels, sparse to dense, in the hues of assets/wall.css (.chip-c-*): the legend's
# chips and the map's cells are the same colours on every screen.
CROWD_COLORS = {"blue": "#2f7fe0", "green": "#31c48d", "yellow": "#f2c94c", "red": "#eb5757"}
CROWD_COLORSCALE = _step_colorscale([CROWD_COLORS[level] for level in LEVELS])
# Cells are filled, not outlined: neighbours of one level merge into one patch of colour, and
# the outlines of subdistricts and committees above them stay readable.
CROWD_OPACITY = 0.78


def crowd_code(level: str | None) -> int | None:
    """A cell's value on the heatmap: 0-3 for blue, green, yellow, red; None for a cell not
    shown (no data, or hidden by the small-count rule). Plotly draws nothing for None."""
    return LEVELS.index(level) if level in LEVELS else None


def crowd_values(cells: Sequence[str], levels: Mapping[str, str]) -> list[int | None]:
    """Each cell's code in the map's order (``levels``: cell id -> level of the cells that may
    be shown). All a refresh sends: never the geometry, never a count."""
    return [crowd_code(levels.get(cell)) for cell in cells]


def crowd_texts(cells: Sequence[str], densities: Mapping[str, float]) -> list[str]:
    """The density shown on hover on /crowd (people per km², rounded to 100), one per cell."""
    return [f"{round(densities[c], -2):,.0f}" if c in densities else "" for c in cells]


def square_features(cells: Sequence[str], squares: Sequence[shapely.Polygon]) -> dict[str, Any]:
    """GeoJSON of the grid's squares (id = cell id), corners to 5 decimals (about 1 m)."""
    features = []
    for cell, square in zip(cells, squares, strict=True):
        west, south, east, north = (round(v, 5) for v in square.bounds)
        ring = [[west, south], [east, south], [east, north], [west, north], [west, south]]
        features.append(
            {"type": "Feature", "id": cell, "geometry": {"type": "Polygon", "coordinates": [ring]}}
        )
    return {"type": "FeatureCollection", "features": features}


@dataclass(frozen=True)
class CrowdMapLabels:
    density_unit: str  # "people/km²", after the hover's number


def crowd_map(
    cells: Sequence[str],
    squares: Sequence[shapely.Polygon],
    committees: Sequence[AreaShape],
    subdistricts: Sequence[AreaShape],
    district: Sequence[AreaShape],
    labels: CrowdMapLabels,
    *,
    size_px: tuple[float, float] | None = None,
    hover: bool = False,
    stations: Sequence[StationMark] = (),
    basemap: Basemap | None = None,
) -> go.Figure:
    """The crowd heatmap: the grid's cells over the district (all of them locations, in the
    given order, none coloured yet: :func:`crowd_values` fills them), under the committee,
    subdistrict and district outlines.

    A level is a fixed range of density, so zooming from the district to a block changes the
    cells' size on screen, never their colour. ``hover`` (the /crowd page): the density shows
    under the mouse (a refresh then also sends :func:`crowd_texts`); the wall has no mouse.
    ``stations`` are drawn over it, named on the page (``hover``) and circles only on the wall's
    small panel, where names would cover the cells.
    """
    k = min(3.0, max(0.5, (size_px or DEFAULT_MAP_PX)[1] / DEFAULT_MAP_PX[1]))
    trace: dict[str, Any] = {"hoverinfo": "skip"}
    if hover:
        trace = {
            "text": [""] * len(cells),
            "hovertemplate": f"%{{text}} {labels.density_unit}<extra></extra>",
        }
    fig = go.Figure(
        go.Choroplethmap(
            geojson=square_features(cells, squares),
            locations=list(cells),
            z=[None] * len(cells),
            zmin=-0.5,
            zmax=len(LEVELS) - 0.5,
            colorscale=CROWD_COLORSCALE,
            showscale=False,  # the legend beside the map states the thresholds
            marker={"line": {"width": 0}, "opacity": CROWD_OPACITY},
            below=STATIONS_LAYER,
            **trace,
        )
    )
    layers = outline_layers(
        district, subdistricts, committees, widths=(2 * k, 1.2 * k, 0.5 * k), opacity=(0.9, 0.55)
    )
    outline = [a.geom for a in (*district, *subdistricts) if a.geom is not None] or list(squares)
    text_px = station_text_px(size_px, wall=not hover)
    style = map_style(basemap, stations, text_px=text_px, names=hover)
    _map_layout(fig, layers, outline, style, size_px=size_px, k=k, uirevision="crowd-map")
    return fig


@dataclass(frozen=True)
class CrowdHistoryLabels:
    density: str
    unit: str


def crowd_history(
    times: Sequence[dt.datetime],
    densities: Sequence[float | None],
    levels: Sequence[str | None],
    thresholds: Sequence[float],
    labels: CrowdHistoryLabels,
    *,
    height: int | None = None,
) -> go.Figure:
    """A cell's density per window (local times), on the four levels' bands with the three
    thresholds dashed; each point in its level's colour. A window not shown on the map (no
    data, or under the small-count rule) is a gap, not a zero."""
    fig = go.Figure()
    shown = [d for d in densities if d is not None]
    top = max([*shown, thresholds[-1]]) * 1.15
    edges = [0.0, *thresholds, top]
    for level, lo, hi in zip(LEVELS, edges[:-1], edges[1:], strict=True):
        fig.add_hrect(y0=lo, y1=hi, fillcolor=CROWD_COLORS[level], opacity=0.1, line_width=0)
    for edge in thresholds:
        fig.add_hline(y=edge, line={"color": MUTED, "width": 1, "dash": "dash"})
    fig.add_trace(
        go.Scatter(
            x=list(times),
            y=[None if d is None else round(d) for d in densities],
            mode="lines+markers",
            connectgaps=False,
            line={"color": "#dcefff", "width": 2},
            marker={"color": [CROWD_COLORS.get(lv or "", MUTED) for lv in levels], "size": 6},
            name=labels.density,
            hovertemplate=f"%{{x|%H:%M}}<br>{labels.density}: %{{y:,.0f}} {labels.unit}"
            "<extra></extra>",
        )
    )
    _dark_layout(fig, height=height)
    fig.update_yaxes(
        range=[0, top], tickvals=[0, *thresholds], tickformat=",.0f", title={"text": labels.unit}
    )
    fig.update_xaxes(tickformat="%H:%M")
    return fig


# --------------------------------------------------------------------------- register points

# The registers' points by state code (dashboard.overview.POINT_CODES): not registered or not
# reported today, registered, approved, reopened or open, suspended or closed, and a site with
# unchecked key-region arrivals. Not the risk bands' red / yellow / blue, which mean risk.
REGISTER_POINT_COLORS = ("#5b7391", "#8fb3ff", "#4fd1ff", "#35d0a0", "#b07cff", "#ff6b3d")
REGISTER_POINT_COLORSCALE = _step_colorscale(REGISTER_POINT_COLORS)
# Marker sizes at the 1080p wall, shops (many, small) under enterprises under sites (few).
REGISTER_POINT_SIZES = {"shops": 2.5, "enterprises": 3.5, "sites": 8.0}


def register_points_map(
    points: Sequence[tuple[str, Sequence[float], Sequence[float], Sequence[int]]],
    subdistricts: Sequence[AreaShape],
    district: Sequence[AreaShape],
    *,
    size_px: tuple[float, float] | None = None,
    basemap: Basemap | None = None,
) -> dict[str, Any]:
    """The registers' points coloured by state, as a figure dict: one ``scattermap`` trace per
    register, in the given order (the last on top), each ``(register, lon, lat, codes)``, over
    the ``basemap``'s tiles if any (no stations: 16,000 points are enough on a small panel). A
    refresh sends only a trace's ``marker.color`` codes (see
    :func:`dashboard.overview.register_points`).

    The traces are plain dicts, not ``go.Scattermap``: plotly's validation of 16,000-point
    arrays costs half a second per figure, and these arrays are numbers we built ourselves.
    """
    height = (size_px or DEFAULT_MAP_PX)[1]
    k = min(3.0, max(0.5, height / 300))  # the panel's map is about 300 px tall at 1080p
    fig = go.Figure()
    layers = outline_layers(
        district, subdistricts, [], widths=(1.5 * k, 0.8 * k, 0), opacity=(0.7, 0)
    )
    outline = [a.geom for a in (*district, *subdistricts) if a.geom is not None]
    _map_layout(
        fig, layers, outline, map_style(basemap), size_px=size_px, k=k, uirevision="register-map"
    )
    traces = [
        {
            "type": "scattermap",
            "name": register,
            "lon": list(lon),
            "lat": list(lat),
            "mode": "markers",
            "marker": {
                "color": list(codes),
                "cmin": -0.5,
                "cmax": len(REGISTER_POINT_COLORS) - 0.5,
                "colorscale": REGISTER_POINT_COLORSCALE,
                "size": REGISTER_POINT_SIZES.get(register, 3.0) * k,
                "opacity": 0.9,
            },
            "hoverinfo": "skip",
            "showlegend": False,
        }
        for register, lon, lat, codes in points
    ]
    return {**fig.to_plotly_json(), "data": traces}


# --------------------------------------------------------------------------- station flow

STATION_FORECAST = "#4fd1ff"
STATION_ACTUAL = "#35d0a0"
STATION_PAST_FORECAST = "#f5c542"
STATION_PEAK = "rgba(255, 181, 71, 0.16)"


@dataclass(frozen=True)
class StationLabels:
    forecast: str
    band80: str
    band95: str
    actual: str
    past_forecast: str
    unit: str
    now: str


@dataclass(frozen=True)
class PeakSpan:
    start: dt.datetime  # local, naive: the axis is the district's clock
    end: dt.datetime
    text: str  # its share of the day: "21%"


def _fill_band(
    x: Sequence[dt.datetime], lo: Sequence[float], hi: Sequence[float], color: str, name: str
) -> list[go.Scatter]:
    """An interval as a filled band, stepped so each hour's band spans its bar."""
    common = {"x": list(x), "mode": "lines", "line": {"width": 0, "shape": "hvh"}, "name": name}
    return [
        go.Scatter(y=list(lo), hoverinfo="skip", showlegend=False, **common),
        go.Scatter(
            y=list(hi), fill="tonexty", fillcolor=color, hoverinfo="skip", showlegend=True, **common
        ),
    ]


def station_flow(
    forecast_hours: Sequence[dt.datetime],
    forecast: Mapping[str, Sequence[float]],
    past_hours: Sequence[dt.datetime],
    actual: Sequence[float | None],
    past_forecast: Sequence[float | None],
    peaks: Sequence[PeakSpan],
    labels: StationLabels,
    *,
    now: dt.datetime | None = None,
    scale: float = 1.0,
    height: int | None = None,
    legend: bool = True,
) -> go.Figure:
    """A station's arrivals per hour on the district's clock (naive local times): today's past
    hours as bars of the actual count with what was forecast for each as a line, then the
    forecast's hours as bars of the mean inside the 80% and 95% interval bands, the peak
    windows shaded with their share. ``forecast`` holds mean, lo80, hi80, lo95, hi95. Text is
    ``scale`` times the browser pages' size (the wall measures its screen)."""
    fig = go.Figure()
    for span in peaks:
        fig.add_vrect(
            x0=span.start - dt.timedelta(minutes=30),
            x1=span.end - dt.timedelta(minutes=30),
            fillcolor=STATION_PEAK,
            line_width=0,
            layer="below",
            annotation={"text": span.text, "font": {"color": "#ffb547", "size": 11 * scale}},
            annotation_position="top left",
        )
    if len(forecast_hours):
        fig.add_traces(
            _fill_band(
                forecast_hours,
                forecast["lo95"],
                forecast["hi95"],
                "rgba(79,209,255,0.12)",
                labels.band95,
            )
        )
        fig.add_traces(
            _fill_band(
                forecast_hours,
                forecast["lo80"],
                forecast["hi80"],
                "rgba(79,209,255,0.24)",
                labels.band80,
            )
        )
        fig.add_trace(
            go.Bar(
                x=list(forecast_hours),
                y=[round(v) for v in forecast["mean"]],
                marker={"color": STATION_FORECAST, "opacity": 0.75},
                name=labels.forecast,
                customdata=[
                    [round(a), round(b)]
                    for a, b in zip(forecast["lo80"], forecast["hi80"], strict=True)
                ],
                hovertemplate=f"%{{x|%H:%M}} {labels.forecast}: %{{y:,}}"
                f"<br>{labels.band80}: %{{customdata[0]:,}}–%{{customdata[1]:,}}<extra></extra>",
            )
        )
    if len(past_hours):
        fig.add_trace(
            go.Bar(
                x=list(past_hours),
                y=[None if v is None else round(v) for v in actual],
                marker={"color": STATION_ACTUAL, "opacity": 0.85},
                name=labels.actual,
                hovertemplate=f"%{{x|%H:%M}} {labels.actual}: %{{y:,}}<extra></extra>",
            )
        )
        fig.add_trace(
            go.Scatter(
                x=list(past_hours),
                y=[None if v is None else round(v) for v in past_forecast],
                mode="lines+markers",
                connectgaps=False,
                line={"color": STATION_PAST_FORECAST, "width": 1.5 * scale, "shape": "hvh"},
                marker={"size": 4 * scale},
                name=labels.past_forecast,
                hovertemplate=f"%{{x|%H:%M}} {labels.past_forecast}: %{{y:,}}<extra></extra>",
            )
        )
    if now is not None:
        fig.add_vline(x=now, line={"color": MUTED, "width": 1, "dash": "dot"})
    _dark_layout(fig, height=height)
    fig.update_layout(
        bargap=0.15,
        font={"size": 12 * scale},
        margin={"l": 4 * scale, "r": 4 * scale, "t": 18 * scale, "b": 4 * scale},
        showlegend=legend,
        legend={
            "orientation": "h",
            "x": 1,
            "xanchor": "right",
            "y": 1.02,
            "yanchor": "bottom",
            "font": {"size": 11 * scale},
            "bgcolor": "rgba(0,0,0,0)",
        },
    )
    fig.update_xaxes(tickformat="%H:%M", dtick=6 * 3600 * 1000, tickangle=0, showgrid=False)
    fig.update_yaxes(tickformat="~s", nticks=4)
    return fig
