"""The crowd heatmap page ``/crowd``: for leaders and staff, in a browser. Aggregates only.

The same map as the wall's, large: the grid's cells in four fixed levels over the subdistricts
and committees. A slider runs over the last 24 hours of windows, with play and pause; the
wheel zooms from the district to a block and a cell keeps its level (a level is a range of
density, not a share of what is in view). A click on a cell shows its density over 24 hours on
the three thresholds. Cells under the small-count rule are never shown, and the page says so.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dash import dcc, html
from dash.development.base_component import Component

from layouts.common import BLANK_FIGURE, HTML_LANG, Translate, card, crowd_legend, page_header
from layouts.ids import Crowd

logger = logging.getLogger(__name__)


MAP_PX = 720
HISTORY_PX = 300
# One step of the replay: long enough to see a window, short enough to play 24 hours (96
# windows of 15 minutes) in two minutes.
PLAY_STEP_MS = 1200


def time_bar(tr: Translate) -> Component:
    """Play / pause, the slider over the last 24 hours' windows, and the window shown."""
    return html.Div(
        className="crowd-timebar",
        children=[
            html.Button(
                id=Crowd.PLAY,
                className="button crowd-play",
                n_clicks=0,
                # Both words are on the button; the class "playing" shows one (assets/wall.css),
                # so play / pause never asks the server.
                children=[
                    html.Span(tr("crowd.play"), className="when-paused"),
                    html.Span(tr("crowd.pause"), className="when-playing"),
                ],
            ),
            html.Div(
                className="crowd-slider-box",
                children=[
                    html.Span(tr("crowd.time"), className="crowd-slider-label"),
                    dcc.Slider(
                        id=Crowd.SLIDER,
                        min=0,
                        max=0,
                        step=1,
                        value=None,
                        marks={},
                        included=False,
                        allow_direct_input=False,
                        className="crowd-slider",
                    ),
                ],
            ),
            html.Span("—", id=Crowd.WINDOW, className="crowd-window"),
        ],
    )


def crowd_layout(
    tr: Translate,
    *,
    lang: str,
    thresholds: Sequence[float],
    min_count: int,
    refresh_ms: int,
    live: Component | None = None,
) -> Component:
    """The whole page. ``thresholds``: the three edges between the levels (people per km²);
    ``min_count``: the small-count rule's k; ``refresh_ms``: period of the version check that
    brings new windows."""
    return html.Div(
        className="riskpage crowdpage",
        lang=HTML_LANG.get(lang, lang),
        children=[
            dcc.Store(id=Crowd.LANG, data=lang),
            dcc.Store(id=Crowd.WINDOWS),
            dcc.Store(id=Crowd.MAP_SIZE),
            dcc.Store(id=Crowd.MAP_DRAWN),
            dcc.Store(id=Crowd.CELL),
            # Driven by assets/live.js (``live``: layouts.common.live_config), one tick at a time.
            dcc.Interval(id=Crowd.TICK, interval=refresh_ms, disabled=True),
            live,
            dcc.Interval(id=Crowd.PLAYER, interval=PLAY_STEP_MS, disabled=True),
            page_header(tr, lang=lang, path="/crowd", title_key="app.crowd_title"),
            html.Main(
                className="risk-body",
                children=[
                    time_bar(tr),
                    html.Div(
                        className="crowd-grid",
                        children=[
                            card(
                                tr("crowd.map_title"),
                                dcc.Graph(
                                    id=Crowd.MAP,
                                    className="crowd-map",
                                    figure=BLANK_FIGURE,
                                    style={"height": f"{MAP_PX}px"},
                                    config={
                                        "displayModeBar": False,
                                        "scrollZoom": True,
                                        "responsive": True,
                                    },
                                ),
                                crowd_legend(tr, thresholds, "risk-map-legend"),
                                html.P(tr("crowd.map_hint"), className="risk-note"),
                                html.P(
                                    tr("crowd.k_note").format(k=min_count),
                                    className="risk-note crowd-k-note",
                                ),
                                class_name="crowd-map-card",
                                datasets=("crowd",),
                            ),
                            card(
                                None,
                                html.H3(tr("crowd.summary")),
                                html.Div(id=Crowd.PEOPLE, className="crowd-people"),
                                html.H3(tr("crowd.red_areas")),
                                html.Ol(id=Crowd.RED_AREAS, className="crowd-red-areas"),
                                html.H3(tr("crowd.history")),
                                html.Div(id=Crowd.CELL_TITLE, className="crowd-cell-title"),
                                dcc.Graph(
                                    id=Crowd.HISTORY,
                                    className="crowd-history",
                                    figure=BLANK_FIGURE,
                                    style={"height": f"{HISTORY_PX}px"},
                                    config={"displayModeBar": False},
                                ),
                                class_name="crowd-detail",
                            ),
                        ],
                    ),
                ],
            ),
        ],
    )
