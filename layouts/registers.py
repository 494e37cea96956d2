"""The registers page ``/registers``: enterprises, street shops, construction sites and the
key places due for disinfection, as searchable, sortable tables for leaders and staff.

One AG Grid (dash-ag-grid) shows the register picked in the tabs, filtered on the server by
subdistrict and state, searched in the browser (the grid's quick filter), laggards first and
marked. The grid keeps up by row changes: once the whole table has landed, a tick checks the
data version, and when the register moved the server sends the rows changed since the last
sync, which the browser applies as a transaction keyed by row id (assets/registers.js). Two
buttons export the rows shown, as the grid filtered and sorted them, as CSV or Excel. Register
fields and aggregates only: no person's name or ID number reaches this page.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import dash_ag_grid as dag
from dash import dcc, html
from dash.development.base_component import Component

from layouts.common import HTML_LANG, Translate, page_header
from layouts.ids import Registers

logger = logging.getLogger(__name__)

GRID_PX = 640

# Every register's row key, tried in turn: the rows of one table all carry exactly one of them
# (enterprises: credit code, shops: licence, sites: site id, disinfection: place|day).
ROW_ID = (
    "params.data.credit_code || params.data.licence_id || params.data.site_id"
    " || params.data.task_id"
)

# The page is dark; the grid follows (AG Grid's theming API, its Quartz theme's parameters).
GRID_THEME = (
    "themeQuartz.withParams({backgroundColor: '#061a3a', foregroundColor: '#d6e6ff',"
    " headerBackgroundColor: '#0b2550', oddRowBackgroundColor: '#07204a',"
    " borderColor: '#1d3b6e', accentColor: '#4fd1ff', fontSize: 13})"
)


def controls(tr: Translate) -> Component:
    """Subdistrict and state (server-side filters), the quick search, the two exports."""
    return html.Div(
        className="risk-controls reg-controls",
        children=[
            html.Label(
                className="risk-control",
                children=[
                    html.Span(tr("registers.subdistrict")),
                    dcc.Dropdown(
                        id=Registers.SUBDISTRICT,
                        placeholder=tr("registers.all_subdistricts"),
                        className="risk-dropdown",
                    ),
                ],
            ),
            html.Label(
                className="risk-control",
                children=[
                    html.Span(tr("registers.state")),
                    dcc.Dropdown(
                        id=Registers.STATE,
                        placeholder=tr("registers.all_states"),
                        className="risk-dropdown",
                    ),
                ],
            ),
            html.Label(
                className="risk-control risk-control-wide",
                children=[
                    html.Span(tr("registers.search")),
                    dcc.Input(
                        id=Registers.SEARCH,
                        type="search",
                        debounce=False,
                        placeholder=tr("registers.search_placeholder"),
                        className="reg-search",
                    ),
                ],
            ),
            html.Div(
                className="reg-exports",
                children=[
                    html.Button(
                        tr("registers.export_csv"),
                        id=Registers.EXPORT_CSV,
                        n_clicks=0,
                        className="button",
                    ),
                    html.Button(
                        tr("registers.export_excel"),
                        id=Registers.EXPORT_XLSX,
                        n_clicks=0,
                        className="button",
                    ),
                ],
            ),
        ],
    )


def grid() -> Component:
    """The grid, empty: the rows and columns come from the first callback. Rows are
    virtualised (AG Grid's default), sortable and filterable; lagging ones get a class."""
    return dag.AgGrid(
        id=Registers.GRID,
        rowData=[],
        columnDefs=[],
        getRowId=ROW_ID,
        defaultColDef={"sortable": True, "filter": True, "resizable": True, "minWidth": 90},
        rowClassRules={"reg-lagging": "params.data.lagging"},
        dashGridOptions={
            "theme": {"function": GRID_THEME},
            "quickFilterText": "",
            "animateRows": False,
            "suppressCellFocus": True,
        },
        style={"height": f"{GRID_PX}px", "width": "100%"},
        className="reg-grid",
    )


def registers_layout(
    tr: Translate,
    *,
    lang: str,
    refresh_ms: int,
    registers: Sequence[str],
    register: str,
    live: Component | None = None,
) -> Component:
    """The whole page. ``registers``: the tabs, in order; ``register``: the one shown first."""
    return html.Div(
        className="riskpage regpage",
        lang=HTML_LANG.get(lang, lang),
        children=[
            dcc.Store(id=Registers.LANG, data=lang),
            dcc.Store(id=Registers.SYNC),
            dcc.Store(id=Registers.CHANGES),
            dcc.Store(id=Registers.RELOAD),
            dcc.Store(id=Registers.APPLIED),
            dcc.Store(id=Registers.EXPORT_REQUEST),
            dcc.Download(id=Registers.DOWNLOAD),
            # Driven by assets/live.js (``live``: layouts.common.live_config), one tick at a time.
            dcc.Interval(id=Registers.TICK, interval=refresh_ms, disabled=True),
            live,
            page_header(tr, lang=lang, path="/registers", title_key="app.registers_title"),
            html.Main(
                className="risk-body",
                children=[
                    dcc.Tabs(
                        id=Registers.REGISTER,
                        value=register,
                        className="reg-tabs",
                        children=[
                            dcc.Tab(
                                label=tr(f"registers.tab.{name}"),
                                value=name,
                                className="reg-tab",
                                selected_className="reg-tab-selected",
                            )
                            for name in registers
                        ],
                    ),
                    controls(tr),
                    html.Div(
                        className="reg-status",
                        children=[
                            html.Span(id=Registers.FRESH, className="reg-fresh"),
                            html.Span(id=Registers.COUNT, className="reg-count"),
                        ],
                    ),
                    html.P(tr("registers.lagging_note"), className="risk-note"),
                    grid(),
                    html.P(tr("registers.export_note"), className="risk-note"),
                ],
            ),
        ],
    )
