"""Pieces shared by the pages: the translator type, the brand block, the language toggle."""

from __future__ import annotations

import logging
from collections.abc import Callable

from dash import dcc, html
from dash.development.base_component import Component

logger = logging.getLogger(__name__)

# tr("kpi.residents") -> "常住人口": the message catalogue, bound to the page's language.
Translate = Callable[[str], str]

HTML_LANG = {"zh": "zh-CN", "en": "en"}


def brand(tr: Translate) -> Component:
    return html.Div(
        className="brand",
        children=[
            html.Div(className="brand-mark", children=html.Span()),
            html.Div(
                className="brand-text",
                children=[
                    html.H1(
                        className="brand-title",
                        children=[
                            html.Span(tr("app.district"), className="brand-district"),
                            html.Span(tr("app.brand"), className="brand-name"),
                        ],
                    ),
                    html.Div(tr("app.subtitle"), className="brand-subtitle"),
                ],
            ),
        ],
    )


def language_toggle(tr: Translate, *, lang: str, path: str) -> Component:
    """Links to the same page in each language (the choice lives in the URL, ``?lang=``)."""
    return html.Nav(
        className="lang-toggle",
        children=[
            dcc.Link(
                tr(f"lang.{code}"),
                href=f"{path}?lang={code}",
                className="lang-option active" if code == lang else "lang-option",
            )
            for code in ("zh", "en")
        ],
    )
