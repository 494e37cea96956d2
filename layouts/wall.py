"""The wall screen ``/``: one full-screen 16:9 page, aggregates only, no keyboard, no login.

Header (district, freshness, clock) over three columns: key figures and feed freshness on the
left, the district's housing compounds in red / yellow / blue in the middle with the station
passenger-flow panel beside the map (the district is tall and narrow; the right column has no
room for a chart) and the registers below, the community-risk panel and the crowd heatmap on the
right. Everything is sized in vh/vw (assets/wall.css), so the same page fits 1920×1080 and
3840×2160; an ultra-wide screen (5760×1080) lays the panels out side by side.

Views: the wall can rotate between ``overview`` (all of the above) and one panel large
(``risk``, ``crowd``, ``registers``, ``station``). The root carries ``data-rotate`` (seconds)
and ``data-views``; assets/rotate.js sets ``data-view`` in the browser and assets/wall.css lays
out each view, so a rotation asks nothing of the server and the header never re-renders.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dash import dcc, html
from dash.development.base_component import Component

from layouts.common import (
    BLANK_FIGURE,
    HTML_LANG,
    Translate,
    brand,
    connection_banner,
    crowd_legend,
    datasets_attr,
    risk_legend,
)
from layouts.ids import KPI_TILES, Wall

logger = logging.getLogger(__name__)

KPI_LABELS: dict[Wall, str] = {
    Wall.KPI_SUBDISTRICTS: "kpi.subdistricts",
    Wall.KPI_COMMITTEES: "kpi.committees",
    Wall.KPI_COMPOUNDS: "kpi.compounds",
    Wall.KPI_RESIDENTS: "kpi.residents",
    Wall.KPI_ENTERPRISES: "kpi.enterprises",
    Wall.KPI_SHOPS: "kpi.shops",
    Wall.KPI_SITES: "kpi.sites",
    Wall.KPI_WORKERS: "kpi.workers",
    Wall.KPI_ARRIVALS: "kpi.arrivals",
    Wall.KPI_STATIONS: "kpi.stations",
    Wall.KPI_PINGS: "kpi.pings",
    Wall.KPI_WORK_ORDERS: "kpi.work_orders",
}


# The dataset behind each moving tile (callbacks.wall.KPI_READERS reads them per dataset).
KPI_DATASETS: dict[Wall, str] = {
    Wall.KPI_ENTERPRISES: "enterprises",
    Wall.KPI_SHOPS: "shops",
    Wall.KPI_SITES: "sites",
    Wall.KPI_WORKERS: "sites",
    Wall.KPI_ARRIVALS: "sites",
    Wall.KPI_PINGS: "pings",
    Wall.KPI_WORK_ORDERS: "work_orders",
}


def header(tr: Translate) -> Component:
    return html.Header(
        className="wall-header",
        children=[
            brand(tr),
            html.Div(
                className="freshness",
                children=[
                    html.Div(
                        className="fresh-age",
                        children=[
                            html.Span(tr("fresh.newest"), className="fresh-label"),
                            html.Span("—", id=Wall.FRESH_AGE, className="fresh-value"),
                        ],
                    ),
                    # Which feeds are late, kept by assets/live.js (also while the server is
                    # unreachable), and the "connection lost since 14:05" banner.
                    html.Div(
                        id=Wall.FRESH_STATUS,
                        className="fresh-status",
                        role="status",
                        **{"data-live": "status"},
                    ),
                    connection_banner(),
                ],
            ),
            html.Div(
                className="clock",
                children=[
                    html.Div(id=Wall.CLOCK_TIME, className="clock-time"),
                    html.Div(id=Wall.CLOCK_DATE, className="clock-date"),
                ],
            ),
        ],
    )


def kpi_tile(tr: Translate, value_id: Wall, label_key: str) -> Component:
    return html.Div(
        className="kpi",
        **datasets_attr([KPI_DATASETS[value_id]]),
        children=[
            html.Div(tr(label_key), className="kpi-label"),
            html.Div("—", id=value_id, className="kpi-value"),
        ],
    )


def panel(
    title: str,
    *children: Component,
    class_name: str = "",
    aside: Component | None = None,
    datasets: tuple[str, ...] = (),
) -> Component:
    """A framed panel; ``aside`` sits at the right of the title (the day a panel shows);
    ``datasets``: what it shows, marked stale in the browser when one is late (live.js)."""
    heading: Component = html.H2(title, className="panel-title")
    if aside is not None:
        heading = html.Div(className="panel-head", children=[heading, aside])
    return html.Section(
        className=f"panel {class_name}".strip(),
        children=[heading, *children],
        **(datasets_attr(datasets) if datasets else {}),
    )


# The area counts do not change during a day: one line of small figures, leaving the room to
# the figures that move.
STATIC_TILES: tuple[Wall, ...] = (
    Wall.KPI_SUBDISTRICTS,
    Wall.KPI_COMMITTEES,
    Wall.KPI_COMPOUNDS,
    Wall.KPI_RESIDENTS,
    Wall.KPI_STATIONS,
)


def kpi_panel(tr: Translate) -> Component:
    static = html.Div(
        className="kpi-static",
        children=[
            html.Div(
                className="kpi-static-item",
                children=[
                    html.Span("—", id=tile, className="kpi-static-value"),
                    html.Span(
                        tr(KPI_LABELS[tile].replace("kpi.", "kpi.short.")),
                        className="kpi-static-label",
                        title=tr(KPI_LABELS[tile]),
                    ),
                ],
            )
            for tile in STATIC_TILES
        ],
    )
    return panel(
        tr("kpi.section"),
        static,
        html.Div(
            className="kpi-grid",
            children=[
                kpi_tile(tr, tile, KPI_LABELS[tile])
                for tile in KPI_TILES
                if tile not in STATIC_TILES
            ],
        ),
        class_name="kpi-panel",
    )


def _block_head(tr: Translate, title_key: str, time_id: Wall) -> Component:
    """A block's title and, at its right, the day or time its data is as of."""
    return html.Div(
        className="block-head",
        children=[
            html.H3(tr(title_key), className="block-title"),
            html.Span("—", id=time_id, className="panel-date"),
        ],
    )


def overview_panel(tr: Translate) -> Component:
    """The overview tiles: cases (country, city, district), people under home observation,
    disinfection due / done / overdue, masks, and the office buildings whose returnees rise
    fastest (filled by callbacks.wall, one callback per feed)."""
    tile = [
        ("ov.home.title", Wall.OV_HOME_TIME, Wall.OV_HOME, "ov-home", "home_observation"),
        (
            "ov.disinfection.title",
            Wall.OV_DISINFECTION_TIME,
            Wall.OV_DISINFECTION,
            "ov-disinf",
            "disinfection",
        ),
        ("ov.masks.title", Wall.OV_MASKS_TIME, Wall.OV_MASKS, "ov-masks", "masks"),
    ]
    return panel(
        tr("ov.section"),
        html.Div(
            className="ov-block ov-epidemic-block",
            **datasets_attr(["epidemic"]),
            children=[
                _block_head(tr, "ov.epidemic.title", Wall.OV_EPIDEMIC_TIME),
                html.Div(id=Wall.OV_EPIDEMIC, className="ov-epidemic"),
            ],
        ),
        html.Div(
            className="ov-tiles",
            children=[
                html.Div(
                    className=f"ov-tile {css}",
                    **datasets_attr([dataset]),
                    children=[
                        _block_head(tr, key, time_id),
                        html.Div(id=body_id, className="ov-body"),
                    ],
                )
                for key, time_id, body_id, css, dataset in tile
            ],
        ),
        html.Div(
            className="ov-block ov-returnees-block",
            **datasets_attr(["returnees"]),
            children=[
                _block_head(tr, "ov.returnees.title", Wall.OV_RETURNEES_TIME),
                html.Ol(id=Wall.OV_RETURNEES, className="ov-returnees"),
            ],
        ),
        class_name="ov-panel",
    )


def freshness_panel(tr: Translate) -> Component:
    return panel(
        tr("ops.freshness"),
        html.Ul(id=Wall.FRESH_LIST, className="fresh-list"),
        class_name="fresh-panel",
    )


def map_panel(tr: Translate) -> Component:
    return panel(
        tr("map.title"),
        dcc.Graph(
            id=Wall.MAP,
            className="map-graph",
            figure=BLANK_FIGURE,
            config={"displayModeBar": False, "scrollZoom": True, "responsive": True},
        ),
        risk_legend(tr, "map-legend"),
        class_name="map-panel",
        datasets=("risk",),
    )


def risk_panel(tr: Translate) -> Component:
    """Compounds per band and the change since the day before, the highest scores, and each
    subdistrict's bands (filled by callbacks.wall.refresh_risk_panel)."""
    return panel(
        tr("panel.risk.title"),
        html.Div(id=Wall.RISK_COUNTS, className="risk-counts"),
        html.H3(tr("risk.top"), className="risk-heading"),
        html.Ol(id=Wall.RISK_TOP, className="risk-top"),
        html.H3(tr("risk.by_subdistrict"), className="risk-heading"),
        html.Div(id=Wall.RISK_SUBDISTRICTS, className="risk-subdistricts"),
        class_name="risk-panel",
        aside=html.Span("—", id=Wall.RISK_DATE, className="panel-date"),
        datasets=("risk",),
    )


def crowd_panel(tr: Translate, *, thresholds: Sequence[float], min_count: int) -> Component:
    """The crowd heatmap, compact: the grid cells in four levels over the subdistricts, and
    beside it the people in yellow and red cells and where the largest red areas are (filled
    by callbacks.crowd.refresh_wall_crowd)."""
    note = f"{tr('crowd.legend.unit')} · {tr('crowd.k_short').format(k=min_count)}"
    return panel(
        tr("panel.crowd.title"),
        html.Div(
            className="crowd-wall",
            children=[
                dcc.Graph(
                    id=Wall.CROWD_MAP,
                    className="crowd-wall-map",
                    figure=BLANK_FIGURE,
                    config={"displayModeBar": False, "scrollZoom": True, "responsive": True},
                ),
                html.Div(
                    className="crowd-wall-side",
                    children=[
                        html.Div(id=Wall.CROWD_PEOPLE, className="crowd-people"),
                        html.H3(tr("crowd.red_areas"), className="risk-heading"),
                        html.Ol(id=Wall.CROWD_RED_AREAS, className="crowd-red-areas"),
                        crowd_legend(tr, thresholds, "crowd-wall-legend", unit=False),
                        html.P(note, className="crowd-k-note"),
                    ],
                ),
            ],
        ),
        class_name="crowd-panel",
        aside=html.Span("—", id=Wall.CROWD_TIME, className="panel-date"),
        datasets=("crowd",),
    )


def station_panel(tr: Translate) -> Component:
    """One station's arrivals: today's past hours (actual against what was forecast for them),
    the next 24 hours as bars in their 80% / 95% bands, the peak windows shaded, the peak and
    staffing sentences and yesterday's accuracy (filled by callbacks.wall.refresh_station)."""
    return panel(
        html.Span(tr("panel.station.title"), id=Wall.STATION_TITLE),
        dcc.Store(id=Wall.STATION_SIZE),
        dcc.Graph(
            id=Wall.STATION_GRAPH,
            className="station-graph",
            figure=BLANK_FIGURE,
            config={"displayModeBar": False, "staticPlot": True, "responsive": True},
        ),
        html.Div(
            className="station-lines",
            children=[
                html.Div(id=Wall.STATION_PEAKS, className="station-line station-peaks"),
                html.Div(id=Wall.STATION_STAFF, className="station-line station-staff"),
                html.Div(id=Wall.STATION_ACCURACY, className="station-line station-accuracy"),
            ],
        ),
        class_name="station-panel",
        aside=html.Span("—", id=Wall.STATION_ISSUED, className="panel-date"),
        datasets=("forecasts", "station_flows"),
    )


def placeholder(tr: Translate, topic: str) -> Component:
    """The panel a later issue fills: its title and what will appear."""
    return panel(
        tr(f"panel.{topic}.title"),
        html.P(tr(f"panel.{topic}.body"), className="placeholder-body"),
        class_name=f"placeholder placeholder-{topic}",
        aside=html.Span(tr("panel.coming"), className="placeholder-badge"),
    )


REGISTER_BLOCKS = (
    ("reg.enterprises", Wall.REG_ENTERPRISES_TIME, Wall.REG_ENTERPRISES, "reg-enterprises"),
    ("reg.shops", Wall.REG_SHOPS_TIME, Wall.REG_SHOPS, "reg-shops"),
    ("reg.sites", Wall.REG_SITES_TIME, Wall.REG_SITES, "reg-sites"),
)
REGISTER_DATASETS = {"reg-enterprises": "enterprises", "reg-shops": "shops", "reg-sites": "sites"}

# The map's colour codes (dashboard.overview.POINT_CODES) and what the legend calls them.
REGISTER_LEGEND = (
    (3, "reg.legend.open"),
    (2, "reg.legend.approved"),
    (1, "reg.legend.registered"),
    (0, "reg.legend.none"),
    (4, "reg.legend.stopped"),
    (5, "reg.legend.flagged"),
)


def registers_panel(tr: Translate) -> Component:
    """Enterprises, shops and sites: counts per state with the change since yesterday,
    headcounts, the labour gap, the flagged sites; and their points on a compact map, coloured
    by state (filled by callbacks.wall, one callback per register and one for the map)."""
    legend = html.Ul(
        className="legend reg-legend",
        children=[
            html.Li([html.Span(className=f"chip chip-p{code}"), tr(key)])
            for code, key in REGISTER_LEGEND
        ],
    )
    return panel(
        tr("panel.registers.title"),
        html.Div(
            className="reg-grid",
            children=[
                html.Div(
                    className="reg-map-box",
                    **datasets_attr(REGISTER_DATASETS.values()),
                    children=[
                        dcc.Graph(
                            id=Wall.REG_MAP,
                            className="reg-map",
                            figure=BLANK_FIGURE,
                            config={
                                "displayModeBar": False,
                                "scrollZoom": True,
                                "responsive": True,
                            },
                        ),
                        legend,
                    ],
                ),
                *(
                    html.Div(
                        className=f"reg-block {css}",
                        **datasets_attr([REGISTER_DATASETS[css]]),
                        children=[
                            _block_head(tr, key, time_id),
                            html.Div(id=body_id, className="reg-body"),
                        ],
                    )
                    for key, time_id, body_id, css in REGISTER_BLOCKS
                ),
            ],
        ),
        class_name="reg-panel",
        aside=html.Span(tr("reg.delta_note"), className="panel-date"),
    )


def view_attrs(rotate_s: int, views: Sequence[str]) -> dict[str, str]:
    """The root's attributes assets/rotate.js reads: seconds per view, the views in order, and
    the first view (set here, so the page mounts in it and the maps measure their real size)."""
    shown = list(views) or ["overview"]
    return {"data-rotate": str(rotate_s), "data-views": ",".join(shown), "data-view": shown[0]}


def view_indicator(tr: Translate, rotate_s: int, views: Sequence[str]) -> Component | None:
    """A discreet line of the views' names at the foot of the wall, the one shown lit (by CSS on
    the root's ``data-view``); only when the wall rotates."""
    if rotate_s <= 0 or len(set(views)) < 2:
        return None
    return html.Ol(
        className="view-dots",
        children=[
            html.Li(tr(f"view.{name}"), className="view-dot", **{"data-view": name})
            for name in dict.fromkeys(views)
        ],
    )


def wall_layout(
    tr: Translate,
    *,
    lang: str,
    timezone: str,
    refresh_ms: int,
    crowd_thresholds: Sequence[float],
    crowd_min_count: int,
    rotate_s: int = 0,
    views: Sequence[str] = ("overview",),
    live: Component | None = None,
) -> Component:
    """The whole wall page. ``refresh_ms``: period of the cheap data-version check;
    ``crowd_thresholds``: the three edges between the heatmap's levels, in people per km²;
    ``crowd_min_count``: the k below which a cell is not shown; ``rotate_s``: seconds per
    view (0: none, the first of ``views`` stays), ``views``: the views in their order."""
    return html.Div(
        id=Wall.ROOT,
        className="wall",
        lang=HTML_LANG.get(lang, lang),
        **view_attrs(rotate_s, views),
        children=[
            dcc.Store(id=Wall.LANG, data=lang),
            dcc.Store(id=Wall.TZ, data=timezone),
            dcc.Store(id=Wall.VERSIONS),
            dcc.Store(id=Wall.MAP_SIZE),
            dcc.Store(id=Wall.CROWD_MAP_SIZE),
            dcc.Store(id=Wall.CROWD_DRAWN),
            dcc.Store(id=Wall.REG_MAP_SIZE),
            dcc.Store(id=Wall.REG_DRAWN),
            # The data-version check, advanced by assets/live.js after each successful
            # /api/v1/live poll (``live``: layouts.common.live_config), one tick at a time.
            dcc.Interval(id=Wall.TICK, interval=refresh_ms, disabled=True),
            live,
            dcc.Interval(id=Wall.CLOCK_TICK, interval=1000),
            header(tr),
            html.Main(
                className="wall-body",
                children=[
                    html.Div(
                        className="column column-left",
                        children=[kpi_panel(tr), overview_panel(tr), freshness_panel(tr)],
                    ),
                    html.Div(
                        className="column column-center",
                        children=[
                            # The district map is tall and narrow: the station panel takes the
                            # width beside it (the right column has no room for a chart).
                            html.Div(
                                className="center-top", children=[map_panel(tr), station_panel(tr)]
                            ),
                            registers_panel(tr),
                        ],
                    ),
                    html.Div(
                        className="column column-right",
                        children=[
                            risk_panel(tr),
                            crowd_panel(tr, thresholds=crowd_thresholds, min_count=crowd_min_count),
                        ],
                    ),
                ],
            ),
            view_indicator(tr, rotate_s, views),
        ],
    )
