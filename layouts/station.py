"""The station passenger-flow page ``/station``: for leaders and staff, in a browser.

Choose a station (those with arrivals, railway first); see the wall's view of it larger (today's
past hours against what was forecast for them, the next 24 hours in their 80% / 95% bands, the
peak windows, the staffing advice, yesterday's accuracy) and how the model did on the
station's own history: MASE of the model and of the two seasonal naives over up to 28 daily
origins, interval coverage and seconds per fit.
"""

from __future__ import annotations

import logging

from dash import dcc, html
from dash.development.base_component import Component

from layouts.common import BLANK_FIGURE, HTML_LANG, Translate, card, page_header
from layouts.ids import Station

logger = logging.getLogger(__name__)

GRAPH_PX = 420


def station_layout(
    tr: Translate,
    *,
    lang: str,
    refresh_ms: int,
    station: str | None = None,
    live: Component | None = None,
) -> Component:
    """The whole page. ``station``: the code the URL asked for (``?station=CODE``);
    ``refresh_ms``: period of the cheap data-version check."""
    return html.Div(
        className="riskpage stationpage",
        lang=HTML_LANG.get(lang, lang),
        children=[
            dcc.Store(id=Station.LANG, data=lang),
            dcc.Store(id=Station.REQUESTED, data=station),
            dcc.Store(id=Station.VERSIONS),
            # Driven by assets/live.js (``live``: layouts.common.live_config), one tick at a time.
            dcc.Interval(id=Station.TICK, interval=refresh_ms, disabled=True),
            live,
            page_header(tr, lang=lang, path="/station", title_key="app.station_title"),
            html.Main(
                className="risk-body",
                children=[
                    html.Div(
                        className="risk-controls",
                        children=[
                            html.Label(
                                className="risk-control risk-control-wide",
                                children=[
                                    html.Span(tr("station.pick")),
                                    dcc.Dropdown(
                                        id=Station.PICK,
                                        clearable=False,
                                        searchable=True,
                                        className="risk-dropdown",
                                    ),
                                ],
                            ),
                            html.Span(id=Station.FRESH, className="risk-model-note station-fresh"),
                        ],
                    ),
                    html.Div(
                        className="station-grid",
                        children=[
                            card(
                                tr("station.view_title"),
                                dcc.Graph(
                                    id=Station.GRAPH,
                                    className="station-page-graph",
                                    figure=BLANK_FIGURE,
                                    style={"height": f"{GRAPH_PX}px"},
                                    config={"displayModeBar": False},
                                ),
                                class_name="station-chart-card",
                                datasets=("forecasts", "station_flows"),
                            ),
                            card(
                                tr("station.advice_title"),
                                html.P(id=Station.PEAKS, className="station-line station-peaks"),
                                html.P(id=Station.STAFF, className="station-line station-staff"),
                                html.P(
                                    id=Station.ACCURACY,
                                    className="station-line station-accuracy",
                                ),
                                html.P(tr("station.accuracy_note"), className="risk-note"),
                                class_name="station-advice-card",
                            ),
                        ],
                    ),
                    card(
                        None,
                        dcc.Loading(
                            html.Div(id=Station.BACKTEST, className="station-backtest"),
                            type="dot",
                        ),
                        class_name="station-backtest-card",
                    ),
                ],
            ),
        ],
    )
