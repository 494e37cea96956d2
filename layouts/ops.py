"""The operators' page ``/ops``: feeds, quarantine, job runs and freshness, as plain tables."""

from __future__ import annotations

import logging

from dash import dcc, html
from dash.development.base_component import Component

from layouts.common import (
    HTML_LANG,
    Translate,
    brand,
    connection_banner,
    live_status,
    page_nav,
)
from layouts.ids import Ops

logger = logging.getLogger(__name__)

# Operators read this page, nobody watches it all day: a slow refresh is enough.
REFRESH_MS = 30_000


def section(title: str, body_id: Ops, note: str | None = None) -> Component:
    return html.Section(
        className="ops-section",
        children=[
            html.H2(title),
            *([html.P(note, className="ops-note")] if note else []),
            html.Div(id=body_id, className="ops-table-wrap"),
        ],
    )


def ops_layout(tr: Translate, *, lang: str, live: Component | None = None) -> Component:
    """The whole page; ``live`` (layouts.common.live_config) drives ``Ops.REFRESH``."""
    return html.Div(
        className="ops",
        lang=HTML_LANG.get(lang, lang),
        children=[
            dcc.Store(id=Ops.LANG, data=lang),
            dcc.Interval(id=Ops.REFRESH, interval=REFRESH_MS, disabled=True),
            live,
            html.Header(
                className="ops-header",
                children=[
                    brand(tr),
                    html.H2(tr("app.ops_title"), className="ops-title"),
                    html.Div(className="page-live", children=[live_status(), connection_banner()]),
                    page_nav(tr, lang=lang, path="/ops"),
                ],
            ),
            html.Main(
                className="ops-body",
                children=[
                    section(tr("ops.freshness"), Ops.FRESHNESS),
                    section(tr("ops.jobs"), Ops.JOBS),
                    section(tr("ops.batches"), Ops.BATCHES),
                    section(tr("ops.quarantine"), Ops.QUARANTINE, tr("ops.quarantine_note")),
                ],
            ),
        ],
    )
