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

from callbacks import station as station_callbacks
from callbacks.common import (
    basemap,
    current_scope,
    late_badge,
    local_today,
    map_base,
    map_size,
    user_view,
    with_values,
)
from dashboard import figures, freshness, overview, queries, states, versions
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
    today = local_today(now)
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
        parts.append(late_badge(lang))
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
    Output(Wall.FRESH_LIST, "children"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_freshness(store: dict[str, Any] | None, lang: str | None) -> Any:
    """The per-feed list: when each dataset was last written, late ones marked.

    No query: the store already holds versions, update times and lateness. The header's status
    (which feeds are late, the connection banner) is kept in the browser by assets/live.js, and
    so is the marking of an item that becomes late between two writes (``data-datasets``).
    """
    if not store:
        return no_update
    settings = get_settings()
    lang = lang or settings.language
    late = store.get("late", [])

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
                **{"data-datasets": name},
                children=[
                    html.Span(className="dot"),
                    html.Span(label("dataset", name, lang), className="fresh-name"),
                    html.Span(when, className="fresh-when"),
                ],
            )
        )
    return items


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
        date.append(late_badge(lang))
    return date, risk_counts(change, lang), risk_top(top, lang), risk_subdistricts(subs)


# --------------------------------------------------------------------------- overview tiles


def as_of(
    store: dict[str, Any] | None, dataset: str, lang: str, *, day: dt.date | None = None
) -> list[Any]:
    """What a block's data is as of: the day it is for (daily feeds) or the time its dataset
    was last written ("as of 14:05"), and a "late" badge when the dataset is late."""
    store = store or {}
    parts: list[Any] = []
    if day is not None:
        parts.append(f"{day:%m-%d}")
    elif dataset in store.get("updated_ms", {}):
        when = dt.datetime.fromtimestamp(store["updated_ms"][dataset] / 1000, dt.UTC)
        time = format_local_time(when, get_settings().timezone, "%H:%M")
        parts.append(t("wall.as_of_time", lang, time=time))
    else:
        parts.append("—")
    if dataset in store.get("late", []):
        parts.append(late_badge(lang))
    return parts


def delta_span(delta: float | None, *, since: str | None = None) -> Component | str:
    """The change since the day before as an arrow and a number; nothing when unknown."""
    if delta is None:
        return ""
    n = round(delta)
    arrow, css = ("▲", "up") if n > 0 else ("▼", "down") if n < 0 else ("=", "same")
    text = f"{arrow}{format_count(abs(n))}" if n else arrow
    children: list[Any] = [html.Span(since, className="since")] if since else []
    return html.Span([*children, text], className=f"delta {css}")


def _no_data(lang: str) -> Component:
    return html.Span(t("ov.no_data", lang), className="ov-empty")


def epidemic_table(cases: dict[str, overview.Cases | None], lang: str) -> list[Component]:
    """Country, city and district: new and current cases, each from its newest report."""
    newest = max((c.day for c in cases.values() if c), default=None)
    head = html.Div(
        className="ov-epi-row ov-epi-head",
        children=[html.Span(), html.Span(t("ov.new", lang)), html.Span(t("ov.current", lang))],
    )
    rows = [head]
    for level, c in cases.items():
        name: list[Any] = [t(f"ov.level.{level}", lang)]
        if c is not None and c.day != newest:
            name.append(html.Span(f"{c.day:%m-%d}", className="ov-old-day"))
        rows.append(
            html.Div(
                className=f"ov-epi-row level-{level}",
                children=[
                    html.Span(name, className="ov-epi-level"),
                    html.Span(format_count(c.new if c else None), className="ov-epi-new"),
                    html.Span(format_count(c.current if c else None), className="ov-epi-cur"),
                ],
            )
        )
    return rows


def home_tile(total: overview.DayTotal | None, lang: str) -> list[Any]:
    if total is None:
        return [_no_data(lang)]
    return [
        html.Span(format_count(total.value), className="ov-num"),
        delta_span(total.delta, since=t("ov.vs_day_before", lang)),
    ]


def disinfection_tile(d: overview.Disinfection, lang: str) -> list[Any]:
    overdue = html.Span(
        t("ov.overdue", lang, n=format_count(d.overdue)),
        className="ov-overdue" + (" some" if d.overdue else ""),
    )
    return [
        html.Span(
            [
                html.Span(format_count(d.done), className="ov-num"),
                html.Span(f"/ {format_count(d.due)}", className="of"),
            ],
            className="ov-value",
            title=t("ov.done_of", lang),
        ),
        overdue,
    ]


def masks_tile(m: overview.Masks, lang: str) -> list[Any]:
    week = t(
        "ov.masks.week",
        lang,
        days=m.days,
        d=format_count(m.delivered_7d),
        r=format_count(m.reserved_7d),
    )
    return [
        html.Span(
            [
                html.Span(format_count(m.delivered), className="ov-num"),
                html.Span(f"/ {format_count(m.reserved)}", className="of"),
            ],
            className="ov-value",
        ),
        html.Span(week, className="ov-sub"),
    ]


def returnee_rows(rises: list[overview.BuildingRise], lang: str) -> list[Component]:
    if not rises:
        return [html.Li(t("ov.returnees.none", lang), className="ov-empty")]
    return [
        html.Li(
            className="ov-rise-row",
            children=[
                html.Span(str(n), className="rank"),
                html.Span(b.name, className="name"),
                html.Span(short_area_name(b.subdistrict), className="where"),
                html.Span(format_count(b.returnees), className="people"),
                html.Span(f"+{format_count(b.increase)}", className="rise"),
                html.Span(t("ov.days", lang, n=(b.last_day - b.first_day).days), className="days"),
            ],
        )
        for n, b in enumerate(rises, start=1)
    ]


def _overview_callback(dataset: str, body: Wall, time: Wall, build: Callable) -> Callable:
    """A block that redraws only when ``dataset`` is among the changed datasets: ``build(session,
    scope, today, lang)`` -> (children, the day it is for or None)."""

    @callback(
        Output(time, "children"),
        Output(body, "children"),
        Input(Wall.VERSIONS, "data"),
        State(Wall.LANG, "data"),
        prevent_initial_call=True,
    )
    def refresh(store: dict[str, Any] | None, lang: str | None) -> tuple[Any, Any]:
        if dataset not in _changed(store):
            return no_update, no_update
        lang = lang or get_settings().language
        with session_scope(get_settings().database_url) as session:
            children, day = build(session, current_scope(), local_today(), lang)
        return as_of(store, dataset, lang, day=day), children

    refresh.__name__ = refresh.__qualname__ = f"refresh_{dataset}"
    return refresh


def _epidemic(session: Session, _scope: queries.AreaScope, today: dt.date, lang: str):
    cases = overview.epidemic(session=session, today=today)
    newest = max((c.day for c in cases.values() if c), default=None)
    return epidemic_table(cases, lang), newest


def _home(session: Session, scope: queries.AreaScope, today: dt.date, lang: str):
    total = overview.home_observation(session=session, scope=scope, today=today)
    return home_tile(total, lang), total.day if total else None


def _disinfection(session: Session, scope: queries.AreaScope, today: dt.date, lang: str):
    return disinfection_tile(
        overview.disinfection(session=session, scope=scope, today=today), lang
    ), None


def _masks(session: Session, scope: queries.AreaScope, today: dt.date, lang: str):
    return masks_tile(overview.masks(session=session, scope=scope, today=today), lang), today


def _returnees(session: Session, scope: queries.AreaScope, today: dt.date, lang: str):
    rises = overview.rising_buildings(session=session, scope=scope, today=today, top=RISING_TOP)
    return returnee_rows(rises, lang), max((b.last_day for b in rises), default=None)


RISING_TOP = 5
refresh_epidemic = _overview_callback(
    "epidemic", Wall.OV_EPIDEMIC, Wall.OV_EPIDEMIC_TIME, _epidemic
)
refresh_home_observation = _overview_callback(
    "home_observation", Wall.OV_HOME, Wall.OV_HOME_TIME, _home
)
refresh_disinfection = _overview_callback(
    "disinfection", Wall.OV_DISINFECTION, Wall.OV_DISINFECTION_TIME, _disinfection
)
refresh_masks = _overview_callback("masks", Wall.OV_MASKS, Wall.OV_MASKS_TIME, _masks)
refresh_returnees = _overview_callback(
    "returnees", Wall.OV_RETURNEES, Wall.OV_RETURNEES_TIME, _returnees
)


# --------------------------------------------------------------------------- the registers panel

REGISTER_DATASETS = {"enterprises": "enterprises", "shops": "shops", "sites": "sites"}
GAP_TRADES = 3
FLAGGED_SHOWN = 3


def _state_row(state: str, fig: overview.Figure, lang: str) -> Component:
    return html.Div(
        className=f"reg-row state-{state}",
        children=[
            html.Span(className=f"chip chip-p{overview.POINT_CODES[state]}"),
            html.Span(t(f"reg.state.{state}", lang), className="reg-label"),
            html.Span(format_count(fig.value), className="reg-num"),
            delta_span(fig.delta),
        ],
    )


def _figure_row(label_key: str, fig: overview.Figure, lang: str, css: str = "") -> Component:
    return html.Div(
        className=f"reg-row {css}".strip(),
        children=[
            html.Span(className="chip chip-blank"),
            html.Span(t(label_key, lang), className="reg-label"),
            html.Span(format_count(fig.value), className="reg-num"),
            delta_span(fig.delta),
        ],
    )


def enterprise_block(
    figs: overview.RegisterFigures, gap: list[tuple[str, int]], lang: str
) -> list[Component]:
    """Counts per reopening state with their change, staff back against planned, the trades
    most short of people."""
    rows = [_state_row(s, figs.state(s), lang) for s in states.REOPENING_STATES]
    planned, back = figs.of("planned_headcount").value, figs.of("returned_headcount").value
    share = back / planned if planned else 0.0
    headcount = html.Div(
        className="reg-headcount",
        children=[
            html.Div(
                className="reg-headcount-text",
                children=[
                    html.Span(t("reg.headcount", lang), className="reg-label"),
                    html.Span(
                        [
                            html.Span(format_count(back), className="reg-num"),
                            html.Span(f"/ {format_count(planned)}", className="of"),
                            html.Span(f"{100 * share:.0f}%" if planned else "—", className="pct"),
                        ]
                    ),
                ],
            ),
            html.Div(
                className="reg-bar",
                children=html.Span(
                    className="reg-bar-fill", style={"width": f"{100 * min(share, 1):.1f}%"}
                ),
            ),
        ],
    )
    trades = (
        [
            html.Span(
                [html.Span(trade, className="trade"), html.Span(format_count(n), className="n")],
                className="reg-trade",
            )
            for trade, n in gap
        ]
        if gap
        else [html.Span(t("reg.gap_none", lang), className="ov-empty")]
    )
    gap_line = html.Div(
        className="reg-gap",
        children=[html.Span(t("reg.gap", lang), className="reg-label"), *trades],
    )
    return [*rows, headcount, gap_line]


def shop_block(figs: overview.RegisterFigures, lang: str) -> list[Component]:
    states_shown = (states.SHOP_OPEN, states.SHOP_CLOSED, states.SHOP_UNREPORTED)
    rows = [_state_row(s, figs.state(s), lang) for s in states_shown]
    return [*rows, _figure_row("reg.staff", figs.of("staff_registered"), lang, "reg-staff")]


def site_block(
    figs: overview.RegisterFigures, flagged: list[overview.FlaggedSite], lang: str
) -> list[Component]:
    """Sites reopened, people on site and new today; the flagged sites in the warning colour."""
    reopened, total = figs.state(states.REOPENED), figs.of("total")
    rows = [
        html.Div(
            className="reg-row",
            children=[
                html.Span(className=f"chip chip-p{overview.POINT_CODES[states.REOPENED]}"),
                html.Span(t("reg.site_states", lang), className="reg-label"),
                html.Span(
                    [
                        html.Span(format_count(reopened.value), className="reg-num"),
                        html.Span(f"/ {format_count(total.value)}", className="of"),
                    ]
                ),
                delta_span(reopened.delta),
            ],
        ),
        _figure_row("reg.site_headcount", figs.of("headcount"), lang),
        _figure_row("reg.new_arrivals", figs.of("new_arrivals_today"), lang),
    ]
    n_flagged = round(figs.of("flagged").value)
    head = html.Div(
        className="reg-flag-head" + (" some" if n_flagged else ""),
        children=[
            html.Span(className="chip chip-p5"),
            html.Span(t("reg.flagged", lang), className="reg-label"),
            html.Span(format_count(n_flagged), className="reg-num"),
            delta_span(figs.of("flagged").delta),
        ],
    )
    items: list[Component] = [
        html.Li(
            className="reg-flag-row",
            children=[
                html.Span(s.name, className="name"),
                html.Span(short_area_name(s.subdistrict), className="where"),
                html.Span(t("reg.flagged_n", lang, n=format_count(s.unchecked)), className="n"),
            ],
        )
        for s in flagged[:FLAGGED_SHOWN]
    ]
    if n_flagged > len(items) and items:
        items.append(
            html.Li(t("reg.more", lang, n=n_flagged - len(items)), className="reg-flag-more")
        )
    if not n_flagged:
        items = [html.Li(t("reg.flagged_none", lang), className="reg-flag-none")]
    return [*rows, head, html.Ul(items, className="reg-flagged")]


@callback(
    Output(Wall.REG_ENTERPRISES_TIME, "children"),
    Output(Wall.REG_ENTERPRISES, "children"),
    Output(Wall.REG_SHOPS_TIME, "children"),
    Output(Wall.REG_SHOPS, "children"),
    Output(Wall.REG_SITES_TIME, "children"),
    Output(Wall.REG_SITES, "children"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    prevent_initial_call=True,
)
def refresh_registers(store: dict[str, Any] | None, lang: str | None) -> tuple[Any, ...]:
    """The three registers' blocks; a block redraws only when its register's dataset changed
    (its change since yesterday reads yesterday's close, stored by the snapshot job)."""
    due = [r for r in overview.REGISTERS if REGISTER_DATASETS[r] in _changed(store)]
    if not due:
        return (no_update,) * 6
    lang = lang or get_settings().language
    scope = current_scope()
    with session_scope(get_settings().database_url) as session:
        figs = overview.register_figures(session=session, scope=scope, today=local_today())
        blocks: dict[str, list[Component]] = {}
        if "enterprises" in due:
            gap = overview.labour_gap(session=session, scope=scope, top=GAP_TRADES)
            blocks["enterprises"] = enterprise_block(figs["enterprises"], gap, lang)
        if "shops" in due:
            blocks["shops"] = shop_block(figs["shops"], lang)
        if "sites" in due:
            flagged = overview.flagged_sites(session=session, scope=scope, limit=FLAGGED_SHOWN)
            blocks["sites"] = site_block(figs["sites"], flagged, lang)
    out: list[Any] = []
    for register in overview.REGISTERS:
        if register in blocks:
            out += [as_of(store, REGISTER_DATASETS[register], lang), blocks[register]]
        else:
            out += [no_update, no_update]
    return tuple(out)


# The points, once per (database, scope, register, its data version, day): each web process
# reads a register's points again only when that register changed (or at midnight).
@lru_cache(maxsize=16)
def cached_points(
    url: str, scope: queries.AreaScope, register: str, version: int | None, today: dt.date
) -> overview.Points:
    del version  # part of the cache key only
    with session_scope(url) as session:
        return overview.register_points(register, session=session, scope=scope, today=today)


@lru_cache(maxsize=8)
def _outlines(
    url: str, scope: queries.AreaScope, areas_version: int | None
) -> tuple[tuple[queries.AreaShape, ...], tuple[queries.AreaShape, ...]]:
    del areas_version
    with session_scope(url) as session:
        subs = queries.areas(session=session, scope=scope, level=AreaLevel.SUBDISTRICT)
        district = queries.areas(session=session, scope=scope, level=AreaLevel.DISTRICT)
    return tuple(subs), tuple(district)


@callback(
    Output(Wall.REG_MAP, "figure"),
    Output(Wall.REG_DRAWN, "data"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.REG_MAP_SIZE, "data"),
    State(Wall.REG_DRAWN, "data"),
    State(Wall.REG_MAP, "relayoutData"),
    prevent_initial_call=True,
)
def refresh_register_map(
    store: dict[str, Any] | None,
    measured: dict[str, Any] | None = None,
    drawn: dict[str, Any] | None = None,
    relayout: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """The registers' points coloured by state. When the browser already has every point where
    it is now, a Patch of the changed registers' colour codes; otherwise the whole figure (the
    first time, new or moved points, new outlines, another size)."""
    changed = _changed(store)
    due = [r for r in overview.REGISTERS if REGISTER_DATASETS[r] in changed]
    if not due and MAP_GEOMETRY_DATASET not in changed:
        return no_update, no_update
    settings = get_settings()
    scope = current_scope()
    today = local_today()
    known = (store or {}).get("versions", {})
    points = {
        r: cached_points(settings.database_url, scope, r, known.get(REGISTER_DATASETS[r]), today)
        for r in overview.REGISTERS
    }
    size = map_size(measured)
    wanted = {
        "areas": known.get(MAP_GEOMETRY_DATASET),
        "size": None if size is None else list(size),
        "where": {r: p.where_key for r, p in points.items()},
    }
    if drawn == wanted:
        patch = Patch()
        for i, register in enumerate(overview.REGISTERS):
            if register in due:
                patch["data"][i]["marker"]["color"] = list(points[register].codes)
        return patch, no_update
    fig = register_map_base(
        settings.database_url,
        scope,
        known.get(MAP_GEOMETRY_DATASET),
        tuple(known.get(REGISTER_DATASETS[r]) for r in overview.REGISTERS),
        today,
        None if size is None else tuple(size),
    )
    view = user_view(relayout)
    if view:
        fig = {**fig, "layout": {**fig["layout"], "map": {**fig["layout"]["map"], **view}}}
    return fig, wanted


@lru_cache(maxsize=4)
def register_map_base(
    url: str,
    scope: queries.AreaScope,
    areas_version: int | None,
    register_versions: tuple[int | None, ...],
    today: dt.date,
    size_px: tuple[int, int] | None,
) -> dict[str, Any]:
    """The whole points figure, once per (data versions, day, map size) in each web process:
    every wall that loads the page gets the same one without reading 16,000 points again."""
    points = [
        (r, p.lon, p.lat, p.codes)
        for r, version in zip(overview.REGISTERS, register_versions, strict=True)
        for p in [cached_points(url, scope, r, version, today)]
    ]
    subs, district = _outlines(url, scope, areas_version)
    return figures.register_points_map(points, subs, district, size_px=size_px, basemap=basemap())


# --------------------------------------------------------------------------- the station panel


@callback(
    Output(Wall.STATION_TITLE, "children"),
    Output(Wall.STATION_ISSUED, "children"),
    Output(Wall.STATION_GRAPH, "figure"),
    Output(Wall.STATION_PEAKS, "children"),
    Output(Wall.STATION_STAFF, "children"),
    Output(Wall.STATION_ACCURACY, "children"),
    Input(Wall.VERSIONS, "data"),
    State(Wall.LANG, "data"),
    State(Wall.STATION_SIZE, "data"),
    prevent_initial_call=True,
)
def refresh_station(
    store: dict[str, Any] | None, lang: str | None, measured: dict[str, Any] | None = None
) -> tuple[Any, ...]:
    """The wall's station (the first railway station with arrivals): redrawn only when the
    forecasts or the arrivals changed. The chart's text scales with the screen's height."""
    if not _changed(store) & set(station_callbacks.STATION_DATASETS):
        return (no_update,) * 6
    lang = lang or get_settings().language
    now = utcnow()
    height = (measured or {}).get("h") or station_callbacks.WALL_HEIGHT_PX
    scale = min(4.0, max(0.5, height / station_callbacks.WALL_HEIGHT_PX))
    view = station_callbacks.read_view(None, now=now)
    r = station_callbacks.render(view, lang, now=now, scale=scale)
    issued: list[Any] = [r.issued]
    if "forecasts" in (store or {}).get("late", []):
        issued.append(late_badge(lang))
    return r.title, issued, r.figure, r.peaks, r.staff, r.accuracy


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

clientside_callback(
    ClientsideFunction(namespace="wall", function_name="measureRegisters"),
    Output(Wall.REG_MAP_SIZE, "data"),
    Input(Wall.LANG, "data"),
)

# The screen's size, once: the station chart's text is sized for it (plotly sizes text in px).
clientside_callback(
    "function (_lang) { return {w: window.innerWidth, h: window.innerHeight}; }",
    Output(Wall.STATION_SIZE, "data"),
    Input(Wall.LANG, "data"),
)
