"""The crowd heatmap: its panel on the wall and the ``/crowd`` page.

Both maps are one ``choroplethmap`` over the grid's cells covering the district (about 900
squares of 250 m). The squares go to the browser once, with the full figure, cached per process
like the district map (:func:`crowd_base`); a refresh sends each cell's level code (0-3, or
null for a cell not shown) as a ``Patch``: never geometry, never a count, and nothing at all
for a cell the small-count rule hides. The wall redraws its panel only when the ``crowd`` data
version (or the areas, for the geometry) moved; the page's slider picks one of the last 24
hours' windows, and a clientside timer steps it while playing.
"""

from __future__ import annotations

import datetime as dt
import logging
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import pandas as pd
from dash import (
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    html,
    no_update,
)
from dash.development.base_component import Component

from callbacks.common import (
    basemap,
    current_scope,
    late_badge,
    map_size,
    page_lang,
    station_marks,
    user_view,
)
from dashboard import crowd, figures, queries, versions
from dashboard.config import get_settings
from dashboard.crowd import Grid
from dashboard.db import session_scope
from dashboard.i18n import format_count, format_local_time, label, t
from dashboard.models import AreaLevel, utcnow
from dashboard.queries import AreaScope
from layouts.ids import Crowd, Wall

logger = logging.getLogger(__name__)

CROWD_DATASET = "crowd"
GEOMETRY_DATASET = "areas"  # the outlines the cells cover, and the places that name them
HISTORY = dt.timedelta(hours=24)
WALL_RED_AREAS = 3
PAGE_RED_AREAS = 5


def _grid() -> Grid:
    return crowd.grid_from_settings(get_settings())


def _changed(store: dict[str, Any] | None) -> set[str]:
    return set(store.get("changed", [])) if store else set()


# --------------------------------------------------------------------------- cached geometry


@lru_cache(maxsize=8)
def grid_cells(
    url: str, scope: AreaScope, areas_version: int | None, grid: Grid
) -> tuple[str, ...]:
    """The cells covering the scope, in the maps' order, once per areas version and grid."""
    del areas_version  # part of the cache key only
    with session_scope(url) as session:
        return tuple(queries.crowd_cells_covering(grid, session=session, scope=scope))


@lru_cache(maxsize=8)
def named_places(
    url: str, scope: AreaScope, areas_version: int | None
) -> tuple[queries.NamedPlace, ...]:
    """Stations, compounds and committees that name a red area (reference data)."""
    del areas_version
    with session_scope(url) as session:
        return tuple(queries.named_places(session=session, scope=scope))


@lru_cache(maxsize=16)
def crowd_base(
    url: str,
    scope: AreaScope,
    areas_version: int | None,
    grid: Grid,
    lang: str,
    size_px: tuple[int, int] | None,
    hover: bool,
) -> dict[str, Any]:
    """The full heatmap figure with no values: the squares, the outlines and the stations,
    built once per (database, scope, areas version, grid, language, map size, page) in each
    web process. New areas or another grid are a new key, so it is never stale."""
    cells = grid_cells(url, scope, areas_version, grid)
    with session_scope(url) as session:
        shapes = {
            level: queries.areas(session=session, scope=scope, level=level)
            for level in (AreaLevel.COMMITTEE, AreaLevel.SUBDISTRICT, AreaLevel.DISTRICT)
        }
    ix, iy = grid.parse(cells) if cells else ([], [])
    squares = list(grid.polygons(ix, iy)) if cells else []
    fig = figures.crowd_map(
        cells,
        squares,
        shapes[AreaLevel.COMMITTEE],
        shapes[AreaLevel.SUBDISTRICT],
        shapes[AreaLevel.DISTRICT],
        figures.CrowdMapLabels(density_unit=t("crowd.density_unit", lang)),
        size_px=size_px,
        hover=hover,
        stations=station_marks(named_places(url, scope, areas_version), lang),
        basemap=basemap(),
    )
    return fig.to_plotly_json()


def _geometry_key(areas_version: int | None, grid: Grid, size: tuple[int, int] | None) -> dict:
    """What a drawn figure's geometry depends on: a page compares it with what it has."""
    return {
        "areas": areas_version,
        "grid": [grid.origin_lon, grid.origin_lat, grid.cell_m],
        "size": None if size is None else list(size),
    }


def map_figure(
    *,
    frame: pd.DataFrame | None,
    scope: AreaScope,
    areas_version: int | None,
    lang: str,
    measured: dict[str, Any] | None,
    drawn: dict[str, Any] | None,
    relayout: dict[str, Any] | None,
    hover: bool,
) -> tuple[Any, Any]:
    """(figure or Patch, drawn key or no_update) for one window's frame.

    The browser already has the squares when ``drawn`` equals what they would be now: then
    only the cells' codes go (and the hover densities on /crowd). Otherwise the cached full
    figure, carrying over the view the person chose.
    """
    settings = get_settings()
    grid = _grid()
    size = map_size(measured)
    wanted = _geometry_key(areas_version, grid, size)
    cells = grid_cells(settings.database_url, scope, areas_version, grid)
    levels = {} if frame is None else queries.shown_levels(frame)
    values: dict[str, Any] = {"z": figures.crowd_values(cells, levels)}
    if hover:
        densities = {} if frame is None else queries.shown_densities(frame)
        values["text"] = figures.crowd_texts(cells, densities)
    if drawn == wanted:
        patch = Patch()
        for key, value in values.items():
            patch["data"][0][key] = value
        return patch, no_update
    base = crowd_base(settings.database_url, scope, areas_version, grid, lang, size, hover)
    layout = base["layout"]
    view = user_view(relayout)
    if view:
        layout = {**layout, "map": {**layout["map"], **view}}
    figure = {**base, "data": [{**base["data"][0], **values}, *base["data"][1:]], "layout": layout}
    return figure, wanted


# --------------------------------------------------------------------------- summary pieces


def window_end(start: dt.datetime) -> dt.datetime:
    return start + dt.timedelta(minutes=get_settings().crowd_window_minutes)


def _local(when: dt.datetime, fmt: str) -> str:
    return format_local_time(when, get_settings().timezone, fmt)


def window_label(start: dt.datetime) -> str:
    """"2026-11-21 14:00–14:15" in the district's time zone."""
    return f"{_local(start, '%Y-%m-%d %H:%M')}–{_local(window_end(start), '%H:%M')}"


def people_tiles(totals: dict[str, queries.LevelTotal], lang: str) -> list[Component]:
    """People in yellow and in red cells (shown cells only), and how many cells."""
    return [
        html.Div(
            className=f"crowd-count level-{level}",
            children=[
                html.Div(
                    className="crowd-count-label",
                    children=[
                        html.Span(className=f"chip chip-c-{level}"),
                        t(f"crowd.people.{level}", lang),
                    ],
                ),
                html.Div(
                    className="crowd-count-value",
                    children=[
                        html.Span(format_count(totals[level].people), className="crowd-count-num"),
                        html.Span(
                            t("crowd.cells", lang, n=format_count(totals[level].cells)),
                            className="crowd-count-cells",
                        ),
                    ],
                ),
            ],
        )
        for level in ("yellow", "red")
    ]


def _place(area: queries.RedArea, lang: str, *, with_kind: bool) -> list[Any]:
    if area.place is None:
        return [f"{area.lon:.4f}, {area.lat:.4f}"]
    near = t("crowd.near", lang, place=area.place.label(lang))
    if not with_kind:
        return [near]
    return [near, html.Span(label("crowd.kind", area.place.kind, lang), className="kind")]


def red_area_rows(
    areas: list[queries.RedArea], lang: str, *, with_size: bool = True
) -> list[Component]:
    """The largest red areas: where (the nearest named place), how many people, and (on
    /crowd, where there is room) what kind of place names it and how large the area is."""
    if not areas:
        return [html.Li(t("crowd.no_red", lang), className="crowd-red-none")]
    rows = []
    for n, area in enumerate(areas, start=1):
        parts = [
            html.Span(str(n), className="rank"),
            html.Span(_place(area, lang, with_kind=with_size), className="name"),
            html.Span(
                t("crowd.people_n", lang, n=format_count(area.people)), className="people"
            ),
        ]
        if with_size:
            size = t("crowd.area_size", lang, km2=f"{area.area_km2:.2f}")
            parts.insert(2, html.Span(size, className="size"))
        rows.append(
            html.Li(
                className="crowd-red-row" + ("" if with_size else " compact"),
                title=", ".join(area.cells),
                children=parts,
            )
        )
    return rows


def _summary(
    frame: pd.DataFrame | None,
    scope: AreaScope,
    areas_version: int | None,
    lang: str,
    limit: int,
    *,
    wall: bool,
) -> tuple[list[Component], list[Component]]:
    """The people tiles and the red-area rows (the wall's rows leave out the size)."""
    settings = get_settings()
    if frame is None:
        empty = html.P(t("crowd.no_data", lang), className="risk-empty")
        return [empty], []
    places = named_places(settings.database_url, scope, areas_version)
    areas = queries.red_areas(frame, _grid(), places, limit=limit)
    rows = red_area_rows(areas, lang, with_size=not wall)
    return people_tiles(queries.crowd_level_totals(frame), lang), rows


# --------------------------------------------------------------------------- the wall's panel


@callback(
    Output(Wall.CROWD_MAP, "figure"),
    Output(Wall.CROWD_DRAWN, "data"),
    Output(Wall.CROWD_TIME, "children"),
    Output(Wall.CROWD_PEOPLE, "children"),
    Output(Wall.CROWD_RED_AREAS, "children"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    State(Wall.CROWD_MAP_SIZE, "data"),
    State(Wall.CROWD_DRAWN, "data"),
    State(Wall.CROWD_MAP, "relayoutData"),
    prevent_initial_call=True,
)
def refresh_wall_crowd(
    store: dict[str, Any] | None,
    lang: str | None,
    measured: dict[str, Any] | None = None,
    drawn: dict[str, Any] | None = None,
    relayout: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The newest window: only when ``crowd`` (or the areas) is among the changed datasets.
    The map gets a Patch of level codes unless its geometry is not the one drawn."""
    changed = _changed(store)
    if CROWD_DATASET not in changed and GEOMETRY_DATASET not in changed:
        return (no_update,) * 5
    lang = page_lang(lang)
    settings = get_settings()
    scope = current_scope()
    grid = _grid()
    areas_version = (store or {}).get("versions", {}).get(GEOMETRY_DATASET)
    with session_scope(settings.database_url) as session:
        newest = queries.latest_crowd_window(
            session=session,
            scope=scope,
            now=utcnow(),
            window_minutes=settings.crowd_window_minutes,
        )
        frame = (
            None
            if newest is None
            else queries.crowd_window(newest, session=session, scope=scope, grid=grid)
        )
    figure, drawn_key = map_figure(
        frame=frame,
        scope=scope,
        areas_version=areas_version,
        lang=lang,
        measured=measured,
        drawn=drawn,
        relayout=relayout,
        hover=False,
    )
    people, areas = _summary(frame, scope, areas_version, lang, WALL_RED_AREAS, wall=True)
    when: list[Any] = ["—"]
    if newest is not None:
        when = [t("crowd.as_of", lang, time=_local(window_end(newest), "%H:%M"))]
    if CROWD_DATASET in (store or {}).get("late", []):
        when.append(late_badge(lang))
    return figure, drawn_key, when, people, areas


# --------------------------------------------------------------------------- the /crowd page


def _iso(when: dt.datetime) -> str:
    return when.astimezone(dt.UTC).isoformat()


def _when(value: str) -> dt.datetime:
    return dt.datetime.fromisoformat(value)


MARK_GAP = 6  # windows between the newest window's mark and the one before it (no overlap)


def slider_marks(windows: list[dt.datetime]) -> dict[int, str]:
    """A mark every four hours (local time), and at the newest window unless one is near."""
    marks: dict[int, str] = {}
    for i, start in enumerate(windows):
        local = _local(start, "%H:%M")
        if local.endswith(":00") and int(local[:2]) % 4 == 0:
            marks[i] = local
    last = len(windows) - 1
    if windows and all(last - i >= MARK_GAP for i in marks if i != last):
        marks[last] = _local(windows[-1], "%H:%M")
    return marks


@callback(
    Output(Crowd.WINDOWS, "data"),
    Output(Crowd.SLIDER, "max"),
    Output(Crowd.SLIDER, "marks"),
    Output(Crowd.SLIDER, "value"),
    Input(Crowd.TICK, "n_intervals"),
    State(Crowd.WINDOWS, "data"),
    State(Crowd.SLIDER, "value"),
)
def load_windows(
    _n: int | None, previous: dict[str, Any] | None, value: int | None = None
) -> tuple[Any, ...]:
    """The last 24 hours' windows (to the newest one), read again only when the crowd or the
    areas version moved: one small query per tick otherwise. The slider keeps the window it
    shows, or follows the newest one when it was on the newest."""
    settings = get_settings()
    scope = current_scope()
    with session_scope(settings.database_url) as session:
        current = versions.current(session=session)
        key = {
            "crowd": current.get(CROWD_DATASET, (None, None))[0],
            "areas": current.get(GEOMETRY_DATASET, (None, None))[0],
        }
        if previous is not None and {k: previous.get(k) for k in key} == key:
            return (no_update,) * 4
        newest = queries.latest_crowd_window(
            session=session,
            scope=scope,
            now=utcnow(),
            window_minutes=settings.crowd_window_minutes,
        )
        windows = (
            []
            if newest is None
            else queries.crowd_windows(
                session=session,
                scope=scope,
                since=newest - HISTORY + dt.timedelta(minutes=settings.crowd_window_minutes),
                until=newest,
            )
        )
    iso = [_iso(w) for w in windows]
    last = max(len(iso) - 1, 0)
    old = (previous or {}).get("windows", [])
    chosen = last
    if value is not None and old and 0 <= value < len(old) - 1 and old[value] in iso:
        chosen = iso.index(old[value])  # the person was looking at an older window: stay
    return {**key, "windows": iso}, last, slider_marks(windows), chosen


def _chosen(value: int | None, store: dict[str, Any] | None) -> dt.datetime | None:
    windows = (store or {}).get("windows", [])
    if not windows:
        return None
    index = len(windows) - 1 if value is None else min(max(int(value), 0), len(windows) - 1)
    return _when(windows[index])


@callback(
    Output(Crowd.MAP, "figure"),
    Output(Crowd.MAP_DRAWN, "data"),
    Output(Crowd.WINDOW, "children"),
    Output(Crowd.PEOPLE, "children"),
    Output(Crowd.RED_AREAS, "children"),
    Input(Crowd.SLIDER, "value"),
    Input(Crowd.WINDOWS, "data"),
    Input(Crowd.MAP_SIZE, "data"),
    State(Crowd.LANG, "data"),
    State(Crowd.MAP_DRAWN, "data"),
    State(Crowd.MAP, "relayoutData"),
)
def show_window(
    value: int | None,
    store: dict[str, Any] | None,
    measured: dict[str, Any] | None,
    lang: str | None,
    drawn: dict[str, Any] | None = None,
    relayout: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The chosen window on the map (a Patch of level codes and hover densities once the page
    has the squares), its time, the people in yellow and red cells, the largest red areas."""
    if store is None:  # the windows are not read yet: draw once they are
        return (no_update,) * 5
    lang = page_lang(lang)
    settings = get_settings()
    scope = current_scope()
    start = _chosen(value, store)
    frame = None
    if start is not None:
        with session_scope(settings.database_url) as session:
            frame = queries.crowd_window(start, session=session, scope=scope, grid=_grid())
    areas_version = store.get("areas")
    figure, drawn_key = map_figure(
        frame=frame,
        scope=scope,
        areas_version=areas_version,
        lang=lang,
        measured=measured,
        drawn=drawn,
        relayout=relayout,
        hover=True,
    )
    people, areas = _summary(frame, scope, areas_version, lang, PAGE_RED_AREAS, wall=False)
    label = "—" if start is None else window_label(start)
    return figure, drawn_key, label, people, areas


@callback(
    Output(Crowd.CELL, "data"),
    Input(Crowd.MAP, "clickData"),
    prevent_initial_call=True,
)
def pick_cell(click: dict[str, Any] | None) -> Any:
    """A click on a cell chooses it (the map's locations are cell ids)."""
    try:
        return click["points"][0]["location"]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return no_update


@callback(
    Output(Crowd.CELL_TITLE, "children"),
    Output(Crowd.HISTORY, "figure"),
    Input(Crowd.CELL, "data"),
    Input(Crowd.WINDOWS, "data"),
    State(Crowd.LANG, "data"),
)
def show_cell(cell: str | None, store: dict[str, Any] | None, lang: str | None) -> tuple[Any, Any]:
    """The clicked cell's density in each window of the last 24 hours, on the thresholds."""
    lang = page_lang(lang)
    windows = (store or {}).get("windows", [])
    if not cell or not store or not windows:
        return html.P(t("crowd.pick_cell", lang), className="risk-note"), figures.blank()
    settings = get_settings()
    scope = current_scope()
    grid = _grid()
    until = _when(windows[-1])
    with session_scope(settings.database_url) as session:
        points = queries.crowd_cell_history(
            cell,
            session=session,
            scope=scope,
            grid=grid,
            since=until - HISTORY + dt.timedelta(minutes=settings.crowd_window_minutes),
            until=until,
        )
    lon, lat = grid.centres([cell])
    places = named_places(settings.database_url, scope, store.get("areas"))
    named = queries.nearest_place(float(lon[0]), float(lat[0]), places)
    where: list[Any] = [html.Strong(t("crowd.cell", lang, cell=cell))]
    if named is not None:
        place, metres = named
        where += [
            " · ",
            t("crowd.near", lang, place=place.label(lang)),
            html.Span(label("crowd.kind", place.kind, lang), className="kind"),
            f" ({t('crowd.distance', lang, m=format_count(metres))})",
        ]
    # Plotly shows a datetime's wall-clock time: local times, without a zone.
    zone = ZoneInfo(settings.timezone)
    figure = figures.crowd_history(
        [p.window_start.astimezone(zone).replace(tzinfo=None) for p in points],
        [p.density_km2 for p in points],
        [p.level for p in points],
        settings.crowd_thresholds_km2,
        figures.CrowdHistoryLabels(
            density=t("crowd.density", lang), unit=t("crowd.density_unit", lang)
        ),
    )
    note = html.P(t("crowd.gaps", lang, k=settings.crowd_min_count), className="risk-note")
    return [html.Div(where, className="crowd-cell-where"), note], figure


# --------------------------------------------------------------------------- clientside

# Play / pause: the button shows one of its two words (class "playing") and the timer runs or
# stops; no request to the server.
clientside_callback(
    ClientsideFunction(namespace="crowd", function_name="toggle"),
    Output(Crowd.PLAYER, "disabled"),
    Output(Crowd.PLAY, "className"),
    Input(Crowd.PLAY, "n_clicks"),
    State(Crowd.PLAYER, "disabled"),
    prevent_initial_call=True,
)

# While playing, each timer tick moves the slider one window on (after the newest, back to the
# oldest); the slider's new value then asks the server for that window's values.
clientside_callback(
    ClientsideFunction(namespace="crowd", function_name="step"),
    Output(Crowd.SLIDER, "value", allow_duplicate=True),
    Input(Crowd.PLAYER, "n_intervals"),
    State(Crowd.SLIDER, "value"),
    State(Crowd.SLIDER, "max"),
    prevent_initial_call=True,
)

# Measured once, when the page mounts: the map's size decides the zoom that fits the district.
clientside_callback(
    ClientsideFunction(namespace="crowd", function_name="measure"),
    Output(Crowd.MAP_SIZE, "data"),
    Input(Crowd.LANG, "data"),
)

clientside_callback(
    ClientsideFunction(namespace="wall", function_name="measureCrowd"),
    Output(Wall.CROWD_MAP_SIZE, "data"),
    Input(Wall.LANG, "data"),
)
