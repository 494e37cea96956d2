"""The wall screen's callbacks: one cheap version check per tick, panels that redraw only when
their datasets changed, and a map refresh that sends values, never geometry.

The flow: ``Wall.TICK`` (every ``refresh_interval_s``) -> :func:`check_versions` reads
``versions.current`` (one small query) and rewrites ``Wall.VERSIONS`` only when a version moved
or a dataset became late or on time again; the store names the datasets that changed. Each panel
listens to the store and leaves its outputs alone unless one of *its* datasets is named. A page
load starts with an empty store, so the first tick names every dataset and everything draws once.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

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
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from callbacks.common import current_scope
from dashboard import figures, freshness, queries, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.i18n import format_count, format_local_time, label, t
from dashboard.models import AreaLevel, utcnow
from layouts.ids import KPI_TILES, Wall

logger = logging.getLogger(__name__)

PING_WINDOW = dt.timedelta(minutes=15)

# The map reads these: the areas give its geometry, the work orders its values.
MAP_GEOMETRY_DATASET = "areas"
MAP_VALUE_DATASET = "work_orders"


def _changed(store: dict[str, Any] | None) -> set[str]:
    return set(store.get("changed", [])) if store else set()


# --------------------------------------------------------------------------- the tick


@callback(
    Output(Wall.VERSIONS, "data"),
    Input(Wall.TICK, "n_intervals"),
    State(Wall.VERSIONS, "data"),
)
def check_versions(_n_intervals: int | None, previous: dict[str, Any] | None) -> Any:
    """The one cheap check per tick: ``versions.current``, compared with what the page has."""
    settings = get_settings()
    now = utcnow()
    try:
        with session_scope(settings.database_url) as session:
            current = versions.current(session=session)
    except SQLAlchemyError:
        # The wall keeps showing what it has, marked as such; it never shows an error popup.
        if previous is not None and previous.get("error"):
            return no_update
        logger.exception("version check failed; the wall shows its last data as stale")
        base = previous or {"versions": {}, "updated_ms": {}, "late": []}
        return {**base, "changed": [], "error": True}
    new = freshness.snapshot(
        current, settings.dataset_expected_interval_s, now=now, timezone=settings.timezone
    )
    changed = freshness.changed_datasets(previous, new)
    if previous is not None and not changed and not previous.get("error"):
        return no_update
    return {**new, "changed": changed, "error": False}


# --------------------------------------------------------------------------- key figures


KpiValue = int | queries.Progress
KpiReader = Callable[[Session, queries.AreaScope, dt.datetime], dict[Wall, KpiValue]]


def _area_kpis(
    session: Session, scope: queries.AreaScope, _now: dt.datetime
) -> dict[Wall, KpiValue]:
    s = queries.area_summary(session=session, scope=scope)
    return {
        Wall.KPI_SUBDISTRICTS: s.subdistricts,
        Wall.KPI_COMMITTEES: s.committees,
        Wall.KPI_COMPOUNDS: s.compounds,
        Wall.KPI_RESIDENTS: s.residents,
        # Stations are reference data, loaded with the areas.
        Wall.KPI_STATIONS: queries.station_count(session=session, scope=scope),
    }


def _site_kpis(
    session: Session, scope: queries.AreaScope, now: dt.datetime
) -> dict[Wall, KpiValue]:
    today = now.astimezone(ZoneInfo(get_settings().timezone)).date()
    s = queries.site_summary(session=session, scope=scope, today=today)
    return {
        Wall.KPI_SITES: s.sites,
        Wall.KPI_WORKERS: s.workers_on_site,
        Wall.KPI_ARRIVALS: s.new_arrivals_today,
    }


# One reader per dataset: the tiles it fills when that dataset changed.
KPI_READERS: dict[str, KpiReader] = {
    "areas": _area_kpis,
    "enterprises": lambda session, scope, _now: {
        Wall.KPI_ENTERPRISES: queries.enterprise_progress(session=session, scope=scope)
    },
    "shops": lambda session, scope, _now: {
        Wall.KPI_SHOPS: queries.shop_progress(session=session, scope=scope)
    },
    "sites": _site_kpis,
    "pings": lambda session, scope, now: {
        Wall.KPI_PINGS: queries.recent_ping_count(
            session=session, scope=scope, now=now, window=PING_WINDOW
        )
    },
    "work_orders": lambda session, scope, _now: {
        Wall.KPI_WORK_ORDERS: queries.open_work_order_count(session=session, scope=scope)
    },
}


def kpi_children(value: KpiValue, *, late: bool, lang: str) -> list[Component]:
    """A tile's content: the number (or done / total and the share) and a "late" badge."""
    if isinstance(value, queries.Progress):
        share = f"{100 * value.done / value.total:.0f}%" if value.total else "—"
        parts = [
            html.Span(format_count(value.done), className="num"),
            html.Span(f"/ {format_count(value.total)}", className="of"),
            html.Span(share, className="pct"),
        ]
    else:
        parts = [html.Span(format_count(value), className="num")]
    if late:
        parts.append(html.Span(t("status.late", lang), className="late-badge"))
    return parts


@callback(
    [Output(tile, "children") for tile in KPI_TILES],
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_kpis(store: dict[str, Any] | None, lang: str | None) -> list[Any]:
    """Recount the tiles whose dataset changed; leave the others alone."""
    due = [name for name in KPI_READERS if name in _changed(store)]
    if not due:
        return [no_update] * len(KPI_TILES)
    lang = lang or get_settings().language
    late = set(store.get("late", [])) if store else set()
    tiles: dict[Wall, list[Component]] = {}
    now = utcnow()
    with session_scope(get_settings().database_url) as session:
        for name in due:
            for tile, value in KPI_READERS[name](session, current_scope(), now).items():
                tiles[tile] = kpi_children(value, late=name in late, lang=lang)
    return [tiles.get(tile, no_update) for tile in KPI_TILES]


# --------------------------------------------------------------------------- freshness


@callback(
    Output(Wall.FRESH_STATUS, "children"),
    Output(Wall.FRESH_STATUS, "className"),
    Output(Wall.FRESH_LIST, "children"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_freshness(store: dict[str, Any] | None, lang: str | None) -> tuple[Any, str, Any]:
    """Header status (on time / late datasets / database unreachable) and the per-feed list.

    No query: the store already holds versions, update times and lateness.
    """
    if not store:
        return no_update, no_update, no_update
    settings = get_settings()
    lang = lang or settings.language
    late = store.get("late", [])
    if store.get("error"):
        status, css = t("fresh.disconnected", lang), "fresh-status error"
    elif late:
        names = t("list.separator", lang).join(label("dataset", name, lang) for name in late)
        status, css = f"{t('fresh.late', lang)}: {names}", "fresh-status late"
    elif store.get("updated_ms"):
        status, css = t("fresh.all_on_time", lang), "fresh-status ok"
    else:
        status, css = t("fresh.no_data", lang), "fresh-status late"

    updated = store.get("updated_ms", {})
    names = sorted(
        set(settings.dataset_expected_interval_s) | set(updated), key=freshness.dataset_order
    )
    items = []
    for name in names:
        when = (
            format_local_time(
                dt.datetime.fromtimestamp(updated[name] / 1000, dt.UTC),
                settings.timezone,
                "%m-%d %H:%M",
            )
            if name in updated
            else t("fresh.never", lang)
        )
        is_late = name in late
        items.append(
            html.Li(
                className="fresh-item late" if is_late else "fresh-item",
                children=[
                    html.Span(className="dot"),
                    html.Span(label("dataset", name, lang), className="fresh-name"),
                    html.Span(when, className="fresh-when"),
                ],
            )
        )
    return status, css, items


# --------------------------------------------------------------------------- the map


def _map_labels(lang: str) -> figures.MapLabels:
    return figures.MapLabels(
        committee=t("map.committee", lang),
        subdistrict=t("map.subdistrict", lang),
        value=t("map.value", lang),
        legend=t("map.legend", lang),
    )


def _size(measured: dict[str, Any] | None) -> tuple[int, int] | None:
    """The measured map size, rounded to 10 px (so the cache below sees few distinct sizes)."""
    try:
        w, h = int(measured["w"]), int(measured["h"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return None
    return (round(w, -1), round(h, -1)) if w > 0 and h > 0 else None


@lru_cache(maxsize=16)
def map_base(
    url: str,
    scope: queries.AreaScope,
    areas_version: int | None,
    lang: str,
    size_px: tuple[int, int] | None,
) -> dict[str, Any]:
    """The full map figure with zero values: the geometry, built once per areas version.

    A process-local cache keyed by the data version, so it is never stale (new data is a new
    key) and holds a few figures at most (one per language and screen size). Every wall that
    loads the page reuses the same GeoJSON instead of reading 312 polygons again.
    """
    with session_scope(url) as session:
        shapes = {
            level: queries.areas(session=session, scope=scope, level=level)
            for level in (AreaLevel.COMMITTEE, AreaLevel.SUBDISTRICT, AreaLevel.DISTRICT)
        }
    fig = figures.committee_map(
        shapes[AreaLevel.COMMITTEE],
        shapes[AreaLevel.SUBDISTRICT],
        shapes[AreaLevel.DISTRICT],
        {},
        _map_labels(lang),
        size_px=size_px,
    )
    return fig.to_plotly_json()


def _user_view(relayout: dict[str, Any] | None) -> dict[str, Any]:
    """The view the operator set with the mouse (``map.center``, ``map.zoom``...), if any."""
    if not relayout:
        return {}
    keys = ("center", "zoom", "bearing", "pitch")
    return {k: relayout[f"map.{k}"] for k in keys if f"map.{k}" in relayout}


@callback(
    Output(Wall.MAP, "figure"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    State(Wall.MAP_SIZE, "data"),
    State(Wall.MAP, "relayoutData"),
    prevent_initial_call=True,
)
def refresh_map(
    store: dict[str, Any] | None,
    lang: str | None,
    measured: dict[str, Any] | None = None,
    relayout: dict[str, Any] | None = None,
) -> Any:
    """A Patch of the values when only the work orders changed; the full figure (geometry and
    all) at page load and when the areas changed, keeping any view the operator chose."""
    changed = _changed(store)
    if MAP_GEOMETRY_DATASET not in changed and MAP_VALUE_DATASET not in changed:
        return no_update
    settings = get_settings()
    scope = current_scope()
    with session_scope(settings.database_url) as session:
        counts = queries.open_work_orders_by_committee(session=session, scope=scope)
        if MAP_GEOMETRY_DATASET not in changed:
            committees = queries.areas(
                session=session, scope=scope, level=AreaLevel.COMMITTEE, with_geometry=False
            )
            z, zmax = figures.map_values([c.code for c in committees], counts)
            patch = Patch()
            patch["data"][0]["z"] = z
            patch["data"][0]["zmax"] = zmax
            return patch
    base = map_base(
        settings.database_url,
        scope,
        store["versions"].get(MAP_GEOMETRY_DATASET) if store else None,
        lang or settings.language,
        _size(measured),
    )
    z, zmax = figures.map_values(base["data"][0]["locations"], counts)
    # The Graph writes the operator's zoom into its figure, so a new figure with the fitted
    # view would override it even under the same uirevision: carry the operator's view over.
    layout = base["layout"]
    view = _user_view(relayout)
    if view:
        layout = {**layout, "map": {**layout["map"], **view}}
    return {**base, "data": [{**base["data"][0], "z": z, "zmax": zmax}], "layout": layout}


# --------------------------------------------------------------------------- the clock

# Runs in the browser every second (assets/wall.js): the time and the age of the newest data,
# in the district's time zone, with no request to the server.
clientside_callback(
    ClientsideFunction(namespace="wall", function_name="clock"),
    Output(Wall.CLOCK_TIME, "children"),
    Output(Wall.CLOCK_DATE, "children"),
    Output(Wall.FRESH_AGE, "children"),
    Input(Wall.CLOCK_TICK, "n_intervals"),
    State(Wall.TZ, "data"),
    State(Wall.LANG, "data"),
    State(Wall.VERSIONS, "data"),
)

# Measured once, when the page mounts: the map's size decides the zoom that fits the district.
clientside_callback(
    ClientsideFunction(namespace="wall", function_name="measure"),
    Output(Wall.MAP_SIZE, "data"),
    Input(Wall.LANG, "data"),
)
