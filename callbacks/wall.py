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

from callbacks.common import current_scope, map_base, map_size, with_values
from dashboard import figures, freshness, queries, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.i18n import format_count, format_local_time, label, short_area_name, t
from dashboard.models import AreaLevel, utcnow
from layouts.ids import KPI_TILES, Wall

logger = logging.getLogger(__name__)

PING_WINDOW = dt.timedelta(minutes=15)

# The map reads these: the areas give its geometry, the risk scores its values (and the panel).
MAP_GEOMETRY_DATASET = "areas"
MAP_VALUE_DATASET = "risk"


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


def _risk_day(session: Session, scope: queries.AreaScope) -> dt.date | None:
    """The day the wall shows: the newest scored one (yesterday, after the nightly job)."""
    return queries.latest_risk_date(session=session, scope=scope)


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
    """A Patch of the compounds' band codes and edge colours when only the scores changed; the
    full figure (geometry and all) at page load and when the areas changed, keeping any view
    the operator chose."""
    changed = _changed(store)
    if MAP_GEOMETRY_DATASET not in changed and MAP_VALUE_DATASET not in changed:
        return no_update
    settings = get_settings()
    scope = current_scope()
    with session_scope(settings.database_url) as session:
        day = _risk_day(session, scope)
        bands = (
            {} if day is None else queries.risk_bands_by_compound(day, session=session, scope=scope)
        )
        if MAP_GEOMETRY_DATASET not in changed:
            compounds = queries.areas(
                session=session, scope=scope, level=AreaLevel.COMPOUND, with_geometry=False
            )
            z, edges = figures.risk_map_values([c.code for c in compounds], bands)
            patch = Patch()
            patch["data"][0]["z"] = z
            patch["data"][0]["marker"]["line"]["color"] = edges
            return patch
    base = map_base(
        settings.database_url,
        scope,
        store["versions"].get(MAP_GEOMETRY_DATASET) if store else None,
        lang or settings.language,
        map_size(measured),
    )
    z, edges = figures.risk_map_values(base["data"][0]["locations"], bands)
    return with_values(base, {"z": z, "marker.line.color": edges}, relayout)


# --------------------------------------------------------------------------- the risk panel

TOP_COMPOUNDS = 6


def _delta(n: int | None, change: queries.BandChange, lang: str) -> Component:
    if n is None:
        return html.Span(t("risk.first_day", lang), className="delta")
    if change.previous_day == change.day - dt.timedelta(days=1):
        since = t("risk.vs_yesterday", lang)
    else:
        since = t("risk.vs_day", lang, date=f"{change.previous_day:%m-%d}")
    arrow, css = ("▲", "up") if n > 0 else ("▼", "down") if n < 0 else ("=", "same")
    return html.Span(
        [html.Span(since, className="since"), f" {arrow}{abs(n) if n else ''}"],
        className=f"delta {css}",
    )


def risk_counts(change: queries.BandChange, lang: str) -> list[Component]:
    """One tile per band, red first: how many compounds, and the change since the day before."""
    tiles = [
        html.Div(
            className=f"risk-count band-{band}",
            children=[
                html.Div(
                    className="risk-count-label",
                    children=[
                        html.Span(className=f"chip chip-{band}"),
                        f"{t(f'risk.band.{band}', lang)} · {t(f'risk.level.{band}', lang)}",
                    ],
                ),
                html.Div(format_count(change.counts.of(band)), className="risk-count-num"),
                _delta(change.delta(band), change, lang),
            ],
        )
        for band in ("red", "yellow", "blue")
    ]
    note = html.Div(
        t("risk.incomplete_count", lang, n=format_count(change.counts.incomplete)),
        className="risk-incomplete" + (" some" if change.counts.incomplete else ""),
    )
    return [*tiles, note]


def risk_top(top: list[queries.CompoundScore], lang: str) -> list[Component]:
    return [
        html.Li(
            className=f"risk-top-row band-{c.band}",
            children=[
                html.Span(str(c.rank), className="rank"),
                html.Span(c.name, className="name"),
                html.Span(short_area_name(c.subdistrict_name), className="where"),
                html.Span(
                    [
                        f"{c.score:.1f}",
                        *(
                            []
                            if c.complete
                            else [html.Span(t("risk.incomplete_mark", lang), className="mark")]
                        ),
                    ],
                    className="score",
                ),
            ],
        )
        for c in top
    ]


def risk_subdistricts(rows: list[queries.AreaRisk]) -> list[Component]:
    """Each subdistrict: a bar split red / yellow / blue by its compounds, and the counts."""
    out = []
    for area in rows:
        c = area.counts
        segments = [
            html.Span(className=f"seg seg-{band}", style={"flexGrow": c.of(band)})
            for band in ("red", "yellow", "blue")
            if c.of(band)
        ]
        out.append(
            html.Div(
                className=f"risk-sub-row band-{area.band or 'none'}",
                title=area.name,
                children=[
                    html.Span(short_area_name(area.name), className="name"),
                    html.Span(segments, className="bar"),
                    html.Span(
                        [
                            html.Span(format_count(c.red), className="n-red"),
                            html.Span(format_count(c.yellow), className="n-yellow"),
                            html.Span(format_count(c.blue), className="n-blue"),
                        ],
                        className="counts",
                    ),
                ],
            )
        )
    return out


@callback(
    Output(Wall.RISK_DATE, "children"),
    Output(Wall.RISK_COUNTS, "children"),
    Output(Wall.RISK_TOP, "children"),
    Output(Wall.RISK_SUBDISTRICTS, "children"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_risk_panel(store: dict[str, Any] | None, lang: str | None) -> tuple[Any, ...]:
    """Redraw the risk panel only when the scores (or the areas naming them) changed."""
    changed = _changed(store)
    if MAP_VALUE_DATASET not in changed and MAP_GEOMETRY_DATASET not in changed:
        return no_update, no_update, no_update, no_update
    lang = lang or get_settings().language
    scope = current_scope()
    with session_scope(get_settings().database_url) as session:
        day = _risk_day(session, scope)
        if day is None:
            empty = html.P(t("risk.no_scores", lang), className="risk-empty")
            return "—", [empty], [], []
        change = queries.band_change(day, session=session, scope=scope)
        top = queries.top_compounds(day, session=session, scope=scope, limit=TOP_COMPOUNDS)
        subs = queries.area_risk(day, session=session, scope=scope, level=AreaLevel.SUBDISTRICT)
    late = MAP_VALUE_DATASET in (store or {}).get("late", [])
    date: list[Any] = [day.isoformat()]
    if late:
        date.append(html.Span(t("status.late", lang), className="late-badge"))
    return date, risk_counts(change, lang), risk_top(top, lang), risk_subdistricts(subs)


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
