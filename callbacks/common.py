"""What every callback module needs: the caller's scope, small shaping helpers, and the district
map's geometry (built once per areas version, shared by the wall and /risk)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from dash import html
from dash.development.base_component import Component

from dashboard import figures, queries
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.i18n import t
from dashboard.models import AreaLevel, utcnow
from dashboard.queries import AreaScope

logger = logging.getLogger(__name__)


def current_scope() -> AreaScope:
    """The areas the person at this browser may see.

    The wall, leaders and operators see the whole district; staff logins (a later issue) will
    narrow it from the user's UserScope rows here, and every query already filters by it.
    """
    return AreaScope.whole_district()


def page_lang(lang: str | None) -> str:
    """The page's language, or the configured default."""
    return lang or get_settings().language


def local_today(now: dt.datetime | None = None) -> dt.date:
    """The district-local day (the registers' "today", the feeds' days)."""
    return (now or utcnow()).astimezone(ZoneInfo(get_settings().timezone)).date()


def late_badge(lang: str) -> Component:
    """The small "late" mark beside a panel's time when its dataset is overdue."""
    return html.Span(t("status.late", lang), className="late-badge")


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


# --------------------------------------------------------------------------- the district map


def map_labels(lang: str) -> figures.MapLabels:
    return figures.MapLabels(
        committee=t("map.committee", lang),
        subdistrict=t("map.subdistrict", lang),
        score=t("map.score", lang),
    )


def map_size(measured: dict[str, Any] | None) -> tuple[int, int] | None:
    """The measured map size, rounded to 10 px (so the cache below sees few distinct sizes)."""
    try:
        w, h = int(measured["w"]), int(measured["h"])  # type: ignore[index]
    except (TypeError, KeyError, ValueError):
        return None
    return (round(w, -1), round(h, -1)) if w > 0 and h > 0 else None


def basemap() -> figures.Basemap:
    """The configured intranet tiles under every map (none by default)."""
    settings = get_settings()
    return figures.Basemap(settings.map_tile_url, settings.map_tile_attribution)


def station_marks(places: Sequence[queries.NamedPlace], lang: str) -> list[figures.StationMark]:
    """The railway and metro stations among ``places`` (:func:`queries.named_places`, which
    keeps those in scope), named in the page's language, for the basemap."""
    return [
        figures.StationMark(p.label(lang), p.kind, p.lon, p.lat)
        for p in places
        if p.kind in queries.STATION_KINDS
    ]


@lru_cache(maxsize=16)
def map_base(
    url: str,
    scope: AreaScope,
    areas_version: int | None,
    lang: str,
    size_px: tuple[int, int] | None,
    with_scores: bool = False,
) -> dict[str, Any]:
    """The full map figure with no scores: the geometry and the stations (both the "areas"
    dataset), built once per areas version.

    A process-local cache keyed by the data version, so it is never stale (new data is a new
    key) and holds a few figures at most (one per page, language and screen size). Every screen
    that loads the page reuses the same GeoJSON instead of reading 957 polygons again.
    ``with_scores``: the figure carries a hover text per compound (the /risk page's).
    """
    with session_scope(url) as session:
        shapes = {
            level: queries.areas(session=session, scope=scope, level=level)
            for level in (
                AreaLevel.COMPOUND,
                AreaLevel.COMMITTEE,
                AreaLevel.SUBDISTRICT,
                AreaLevel.DISTRICT,
            )
        }
        stations = station_marks(queries.named_places(session=session, scope=scope), lang)
    fig = figures.risk_map(
        shapes[AreaLevel.COMPOUND],
        shapes[AreaLevel.COMMITTEE],
        shapes[AreaLevel.SUBDISTRICT],
        shapes[AreaLevel.DISTRICT],
        {},
        map_labels(lang),
        size_px=size_px,
        scores={} if with_scores else None,
        stations=stations,
        basemap=basemap(),
    )
    return fig.to_plotly_json()


def user_view(relayout: dict[str, Any] | None) -> dict[str, Any]:
    """The view the person set with the mouse (``map.center``, ``map.zoom``...), if any."""
    if not relayout:
        return {}
    keys = ("center", "zoom", "bearing", "pitch")
    return {k: relayout[f"map.{k}"] for k in keys if f"map.{k}" in relayout}


def with_values(
    base: dict[str, Any], trace: dict[str, Any], relayout: dict[str, Any] | None
) -> dict[str, Any]:
    """The cached full figure with this refresh's values in its first trace (any others kept
    as they are), carrying over the view the person chose: the Graph writes their zoom into
    its figure, so a new figure with the fitted view would override it even under the same
    uirevision."""
    layout = base["layout"]
    view = user_view(relayout)
    if view:
        layout = {**layout, "map": {**layout["map"], **view}}
    first = base["data"][0]
    marker = {**first.get("marker", {})}
    if "marker.line.color" in trace:
        marker["line"] = {**marker.get("line", {}), "color": trace.pop("marker.line.color")}
    data = [{**first, **trace, "marker": marker}, *base["data"][1:]]
    return {**base, "data": data, "layout": layout}
