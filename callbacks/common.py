"""What every callback module needs: the caller's scope and small shaping helpers."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from dash import html
from dash.development.base_component import Component

from dashboard.queries import AreaScope

logger = logging.getLogger(__name__)


def current_scope() -> AreaScope:
    """The areas the person at this browser may see.

    The wall, leaders and operators see the whole district; staff logins (a later issue) will
    narrow it from the user's UserScope rows here, and every query already filters by it.
    """
    return AreaScope.whole_district()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, empty: str) -> Component:
    """A plain HTML table; ``empty`` is shown instead when there are no rows."""
    if not rows:
        return html.P(empty, className="ops-empty")
    return html.Table(
        className="ops-table",
        children=[
            html.Thead(html.Tr([html.Th(h) for h in headers])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
    )
