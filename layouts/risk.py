"""The community-risk page ``/risk``: for leaders and staff, in a browser. Aggregates only.

Pick a scored day and a compound (on the map, or by searching its name), then see why it scored
what it did: its score over 30 days on the three bands, each indicator's contribution, the raw
values behind them, its rank and how it moved. Below, a what-if panel re-weights the 13
indicators for that day and lists the compounds that would change band; the model in force is
never touched.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from dash import dcc, html
from dash.development.base_component import Component

from layouts.common import BLANK_FIGURE, HTML_LANG, Translate, card, page_header, risk_legend
from layouts.ids import Risk

logger = logging.getLogger(__name__)


# Heights of the map and charts, in pixels (a browser page scrolls; the wall does not).
MAP_PX = 620
HISTORY_PX = 260
CONTRIBUTIONS_PX = 400


@dataclass(frozen=True)
class WeightField:
    """One indicator's what-if input: its key, its name in the page's language, and its weight
    in the model in force, in percent."""

    key: str
    name: str
    percent: float


def _graph(graph_id: Risk, class_name: str, height: int) -> Component:
    # The figure sets its own height; the box keeps it, so the page does not jump meanwhile.
    return dcc.Graph(
        id=graph_id,
        className=class_name,
        figure=BLANK_FIGURE,
        style={"height": f"{height}px"},
        config={"displayModeBar": False},
    )


def controls(tr: Translate, *, model_note: str) -> Component:
    return html.Div(
        className="risk-controls",
        children=[
            html.Label(
                className="risk-control",
                children=[
                    html.Span(tr("risk.pick_date")),
                    dcc.Dropdown(id=Risk.DATE, clearable=False, className="risk-dropdown"),
                ],
            ),
            html.Label(
                className="risk-control risk-control-wide",
                children=[
                    html.Span(tr("risk.pick_compound")),
                    dcc.Dropdown(
                        id=Risk.COMPOUND,
                        searchable=True,
                        placeholder=tr("risk.search_placeholder"),
                        className="risk-dropdown",
                    ),
                ],
            ),
            html.Span(model_note, className="risk-model-note"),
        ],
    )


def whatif_panel(
    tr: Translate, weights: Sequence[WeightField], model_error: str | None
) -> Component:
    """The 13 weights in percent, their sum, and what would change band."""
    if model_error is not None:
        return card(
            tr("whatif.title"),
            html.P(tr("whatif.err_model").format(error=model_error), className="risk-error"),
            class_name="whatif",
        )
    inputs = [
        html.Label(
            className="weight",
            children=[
                html.Span(w.name, className="weight-name", title=w.name),
                dcc.Input(
                    id={"type": Risk.WEIGHT, "key": w.key},
                    type="number",
                    value=w.percent,
                    # No min/max/step on the element: the browser would silently drop an
                    # out-of-range value, and the person must be told which weight is wrong.
                    step="any",
                    debounce=True,
                    className="weight-input",
                ),
                html.Span("%", className="weight-unit"),
            ],
        )
        for w in weights
    ]
    return card(
        tr("whatif.title"),
        html.P(tr("whatif.note"), className="risk-note"),
        html.Div(className="weights", children=inputs),
        html.Div(
            className="whatif-bar",
            children=[
                html.Span(id=Risk.WEIGHT_SUM, className="weight-sum"),
                html.Button(tr("whatif.reset"), id=Risk.WHATIF_RESET, className="button"),
            ],
        ),
        html.Div(id=Risk.WHATIF_MESSAGE, className="whatif-message", role="status"),
        html.Div(id=Risk.WHATIF_RESULT, className="whatif-result"),
        class_name="whatif",
    )


def risk_layout(
    tr: Translate,
    *,
    lang: str,
    weights: Sequence[WeightField],
    model_note: str,
    model_error: str | None = None,
    compound: str | None = None,
    live: Component | None = None,
) -> Component:
    """The whole page. ``weights``: the model in force (empty with ``model_error`` when its file
    is invalid); ``compound``: the one to show first (``/risk?compound=CODE``)."""
    return html.Div(
        className="riskpage",
        lang=HTML_LANG.get(lang, lang),
        children=[
            dcc.Store(id=Risk.LANG, data=lang),
            dcc.Store(id=Risk.REQUESTED, data=compound),
            dcc.Store(id=Risk.MAP_SIZE),
            dcc.Store(id=Risk.MAP_AREAS),
            live,
            page_header(tr, lang=lang, path="/risk", title_key="app.risk_title"),
            html.Main(
                className="risk-body",
                children=[
                    controls(tr, model_note=model_note),
                    html.Div(
                        className="risk-grid",
                        children=[
                            card(
                                tr("risk.map_title"),
                                dcc.Graph(
                                    id=Risk.MAP,
                                    className="risk-map",
                                    figure=BLANK_FIGURE,
                                    style={"height": f"{MAP_PX}px"},
                                    config={
                                        "displayModeBar": False,
                                        "scrollZoom": True,
                                        "responsive": True,
                                    },
                                ),
                                risk_legend(tr, "risk-map-legend"),
                                html.P(tr("risk.map_hint"), className="risk-note"),
                                class_name="risk-map-card",
                                datasets=("risk",),
                            ),
                            card(
                                None,
                                html.Div(id=Risk.SUMMARY, className="risk-summary"),
                                html.H3(tr("risk.history")),
                                _graph(Risk.HISTORY, "risk-history", HISTORY_PX),
                                html.H3(tr("risk.contributions")),
                                _graph(Risk.CONTRIBUTIONS, "risk-contributions", CONTRIBUTIONS_PX),
                                html.H3(tr("risk.values")),
                                html.Div(id=Risk.VALUES, className="risk-values"),
                                class_name="risk-detail",
                            ),
                        ],
                    ),
                    whatif_panel(tr, weights, model_error),
                ],
            ),
        ],
    )
