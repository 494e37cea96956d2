"""Pieces shared by the pages: the translator type, the brand block, the navigation and the
language toggle, the colour legends."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Sequence

import dash
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


# The browser pages, in the order their links appear: (path, message key of the link).
PAGES = (
    ("/", "nav.wall"),
    ("/crowd", "nav.crowd"),
    ("/risk", "nav.risk"),
    ("/registers", "nav.registers"),
    ("/station", "nav.station"),
    ("/ops", "nav.ops"),
)


def page_nav(tr: Translate, *, lang: str, path: str) -> Component:
    """Links to the other pages (in the same language) and the language toggle."""
    return html.Nav(
        className="page-nav",
        children=[
            *(
                dcc.Link(tr(key), href=f"{href}?lang={lang}", className="nav-link")
                for href, key in PAGES
                if href != path
            ),
            language_toggle(tr, lang=lang, path=path),
        ],
    )


def card(
    title: str | None,
    *children: Component,
    class_name: str = "",
    datasets: Sequence[str] = (),
) -> Component:
    """A framed section of a browser page, with an optional title; ``datasets``: what it shows,
    marked stale by live.js when one of them is late."""
    return html.Section(
        className=f"risk-card {class_name}".strip(),
        children=[*([html.H2(title)] if title else []), *children],
        **(datasets_attr(datasets) if datasets else {}),
    )


def page_header(tr: Translate, *, lang: str, path: str, title_key: str) -> Component:
    """A browser page's header: the brand, the page's title, which feeds are late, the
    connection banner and the navigation."""
    return html.Header(
        className="page-header",
        children=[
            brand(tr),
            html.H2(tr(title_key), className="page-title"),
            html.Div(className="page-live", children=[live_status(), connection_banner()]),
            page_nav(tr, lang=lang, path=path),
        ],
    )


# --------------------------------------------------------------------------- staying live
# assets/live.js polls /api/v1/live once per tick and drives the page from what these carry.


def connection_banner() -> Component:
    """Hidden until a check fails: then "connection lost since 14:05" (filled by live.js)."""
    return html.Div(className="conn-banner", role="status", hidden=True, **{"data-live": "banner"})


def live_status(class_name: str = "live-status") -> Component:
    """Which datasets are late ("Late: crowd, pings") or that all are on time (live.js)."""
    return html.Div(className=class_name, role="status", **{"data-live": "status"})


def datasets_attr(datasets: Iterable[str]) -> dict[str, str]:
    """``data-datasets`` for a panel: live.js marks it stale when one of them is late."""
    return {"data-datasets": ",".join(datasets)}


def live_config(
    tr: Translate,
    *,
    lang: str,
    timezone: str,
    refresh_ms: int,
    ticks: Sequence[str],
    reload_hours: float,
    dataset_labels: dict[str, str],
    build: str,
) -> Component:
    """What live.js needs to keep the page live, as JSON on a hidden element.

    ``ticks``: the page's dcc.Interval ids. They are created disabled; live.js advances their
    ``n_intervals`` after each successful check, and never while the page's callbacks from the
    previous tick are still running, so ticks never pile up on a slow server. ``build``: the
    deployment that rendered the page; a check that answers another one reloads the page.
    """
    config = {
        "build": build,
        "url": dash.get_relative_path("/api/v1/live"),
        "page": dash.get_relative_path("/"),
        "interval_ms": refresh_ms,
        "timeout_ms": max(2000, min(refresh_ms, 10000)),
        "ticks": list(ticks),
        "reload_ms": round(reload_hours * 3_600_000),
        "tz": timezone,
        "locale": HTML_LANG.get(lang, lang),
        "labels": dataset_labels,
        "text": {
            "lost": tr("live.lost"),
            "late": tr("fresh.late"),
            "on_time": tr("fresh.all_on_time"),
            "no_data": tr("fresh.no_data"),
            "stale": tr("live.stale"),
            "stale_title": tr("live.stale_title"),
            "separator": tr("list.separator"),
        },
    }
    return html.Div(id="live-config", hidden=True, **{"data-config": json.dumps(config)})


# An empty, transparent figure until the first data arrives (no white flash on a dark page).
BLANK_FIGURE = {
    "data": [],
    "layout": {
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "xaxis": {"visible": False},
        "yaxis": {"visible": False},
        "margin": {"l": 0, "r": 0, "t": 0, "b": 0},
    },
}


def legend(items: list[tuple[str, str]], class_name: str = "") -> Component:
    """Colour chips with their meaning (the chips' colours are in assets/wall.css)."""
    return html.Ul(
        className=f"legend {class_name}".strip(),
        children=[
            html.Li([html.Span(className=f"chip chip-{color}"), html.Span(text)])
            for color, text in items
        ],
    )


def risk_legend(tr: Translate, class_name: str = "") -> Component:
    """The risk map's key: the three bands, an incomplete score (pale, white edge), no score."""
    return legend(
        [
            ("red", tr("risk.legend.red")),
            ("yellow", tr("risk.legend.yellow")),
            ("blue", tr("risk.legend.blue")),
            ("incomplete", tr("risk.legend.incomplete")),
            ("none", tr("risk.legend.none")),
        ],
        class_name,
    )


def _people(value: float) -> str:
    return f"{value:,.0f}"


def crowd_legend(
    tr: Translate, thresholds: Sequence[float], class_name: str = "", *, unit: bool = True
) -> Component:
    """The crowd heatmap's key: the four levels (dashboard.crowd.LEVELS) with their edges in
    people per km², from the configuration, so every screen states the same numbers. The
    chips' colours are in assets/wall.css, the map's the same in dashboard/figures.py."""
    low, mid, high = (_people(v) for v in thresholds)
    items = [
        ("c-blue", tr("crowd.legend.blue").format(hi=low)),
        ("c-green", tr("crowd.legend.green").format(lo=low, hi=mid)),
        ("c-yellow", tr("crowd.legend.yellow").format(lo=mid, hi=high)),
        ("c-red", tr("crowd.legend.red").format(lo=high)),
    ]
    key = legend(items, f"crowd-legend {class_name}".strip())
    if not unit:
        return key
    return html.Div(
        className="crowd-key",
        children=[key, html.Span(tr("crowd.legend.unit"), className="crowd-unit")],
    )
