"""The web app: builds the Dash app, registers its pages, callbacks and the JSON API.

``gunicorn app:server`` serves it in production; ``run_dev_server(host, port)`` (what
``python -m dashboard serve`` calls) runs Dash's development server. The database is
``get_settings().database_url`` (env ``DASHBOARD_DATABASE_URL``), read when a request needs it.

Pages: ``/`` the wall screen (no login, aggregates only), ``/crowd`` the crowd heatmap over the
last 24 hours and ``/risk`` community risk for leaders and staff, ``/registers`` the
enterprises, shops, sites and disinfection registers as tables (with CSV/Excel export),
``/station`` a station's passenger-flow forecast and backtest, ``/ops`` the operators' page;
``/api/v1/...`` the read-only JSON API (:mod:`dashboard.api`). Every page takes ``?lang=en``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import partial
from pathlib import Path

import dash
from dash import Dash, html
from dash.development.base_component import Component

import callbacks  # noqa: F401  (registers every module-level @callback)
import callbacks.registers  # noqa: F401  (the /registers page's callbacks)
import callbacks.station  # noqa: F401  (the /station page's callbacks)
from dashboard import api, i18n, live, register_tables, risk
from dashboard.config import Settings, check_rotate_s, check_views, get_settings
from dashboard.versions import DATASETS
from layouts.common import live_config
from layouts.crowd import crowd_layout
from layouts.ids import Crowd, Ops, Registers, Station, Wall
from layouts.ops import REFRESH_MS as OPS_REFRESH_MS
from layouts.ops import ops_layout
from layouts.registers import registers_layout
from layouts.risk import WeightField, risk_layout
from layouts.station import station_layout
from layouts.wall import wall_layout

logger = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent


def _translator(lang: str | None) -> tuple[str, i18n.Translator]:
    code = i18n.normalize_lang(lang, get_settings().language)
    return code, partial(i18n.t, lang=code)


def _live(tr: i18n.Translator, code: str, ticks: Sequence[str], refresh_ms: int | None = None):
    """The page's live-config (assets/live.js): poll period, the page's ticks, dataset labels."""
    settings = get_settings()
    names = sorted(set(DATASETS) | set(settings.dataset_expected_interval_s))
    return live_config(
        tr,
        lang=code,
        timezone=settings.timezone,
        refresh_ms=refresh_ms or settings.refresh_interval_s * 1000,
        ticks=ticks,
        reload_hours=settings.wall_reload_hours,
        dataset_labels={name: i18n.label("dataset", name, code) for name in names},
        build=live.build_id(),
    )


def wall_rotation(rotate: object, views: object, settings: Settings) -> tuple[int, tuple[str, ...]]:
    """The wall's seconds per view and its views: the URL's ``?rotate=30&views=risk,crowd``
    where valid, else the configuration's. A bad value is logged and ignored: a mistyped URL
    on a wall screen must still give a working wall."""
    seconds, names = settings.wall_rotate_s, tuple(settings.wall_views)
    if rotate is not None:
        try:
            if not isinstance(rotate, str):
                raise TypeError(f"not one number: {rotate!r}")
            seconds = check_rotate_s(int(rotate))
        except (TypeError, ValueError) as exc:
            logger.warning(
                "wall: ignoring ?rotate=%r (%s); using the configuration's %s s",
                rotate,
                exc,
                seconds,
            )
    if views is not None:
        try:
            if not isinstance(views, (str, list)):
                raise TypeError(f"not a list of names: {views!r}")
            names = tuple(check_views(views))
        except (TypeError, ValueError) as exc:
            logger.warning(
                "wall: ignoring ?views=%r (%s); using the configuration's %s",
                views,
                exc,
                ",".join(names),
            )
    return seconds, names


def wall_page(
    lang: str | None = None, rotate: object = None, views: object = None, **_query: str
) -> Component:
    """``/``: Dash pages call it with the query string's parameters (``?lang=en``,
    ``?rotate=30&views=risk,crowd``: seconds per view and the views, see wall_rotation)."""
    settings = get_settings()
    code, tr = _translator(lang)
    rotate_s, wall_views = wall_rotation(rotate, views, settings)
    return wall_layout(
        tr,
        lang=code,
        rotate_s=rotate_s,
        views=wall_views,
        timezone=settings.timezone,
        refresh_ms=settings.refresh_interval_s * 1000,
        crowd_thresholds=settings.crowd_thresholds_km2,
        crowd_min_count=settings.crowd_min_count,
        live=_live(tr, code, [Wall.TICK]),
    )


def crowd_page(lang: str | None = None, **_query: str) -> Component:
    """``/crowd``: the thresholds and k in the legend are the configuration's, as on the wall."""
    settings = get_settings()
    code, tr = _translator(lang)
    return crowd_layout(
        tr,
        lang=code,
        thresholds=settings.crowd_thresholds_km2,
        min_count=settings.crowd_min_count,
        refresh_ms=settings.refresh_interval_s * 1000,
        live=_live(tr, code, [Crowd.TICK]),
    )


def ops_page(lang: str | None = None, **_query: str) -> Component:
    code, tr = _translator(lang)
    return ops_layout(tr, lang=code, live=_live(tr, code, [Ops.REFRESH], OPS_REFRESH_MS))


def risk_page(lang: str | None = None, compound: str | None = None, **_query: str) -> Component:
    """``/risk[?compound=CODE]``: the what-if inputs start at the model in force, read now."""
    code, tr = _translator(lang)
    try:
        model = risk.load_model()
    except risk.ModelError as exc:
        return risk_layout(
            tr,
            lang=code,
            weights=[],
            model_note=i18n.t("risk.model_invalid", code, error=str(exc)),
            model_error=str(exc),
            compound=compound,
            live=_live(tr, code, []),
        )
    weights = [
        WeightField(i.key, i.name_en if code == "en" else i.name_zh, round(100 * i.weight, 6))
        for i in model.indicators
    ]
    note = i18n.t("risk.model_note", code, version=model.version)
    return risk_layout(
        tr,
        lang=code,
        weights=weights,
        model_note=note,
        compound=compound,
        live=_live(tr, code, []),
    )


def registers_page(
    lang: str | None = None, register: str | None = None, **_query: str
) -> Component:
    """``/registers[?register=shops]``: enterprises, shops, sites and disinfection as tables."""
    settings = get_settings()
    code, tr = _translator(lang)
    names = tuple(register_tables.REGISTERS)
    return registers_layout(
        tr,
        lang=code,
        refresh_ms=settings.refresh_interval_s * 1000,
        registers=names,
        register=register if register in names else names[0],
        live=_live(tr, code, [Registers.TICK]),
    )


def station_page(lang: str | None = None, station: str | None = None, **_query: str) -> Component:
    """``/station[?station=CODE]``: a station's forecast, peaks, staffing and backtest."""
    settings = get_settings()
    code, tr = _translator(lang)
    return station_layout(
        tr,
        lang=code,
        refresh_ms=settings.refresh_interval_s * 1000,
        station=station,
        live=_live(tr, code, [Station.TICK]),
    )


def shell() -> Component:
    """``app.layout``: only the page container (each page carries its own stores and timers)."""
    return html.Div(className="shell", children=[dash.page_container])


def create_app() -> Dash:
    settings = get_settings()
    title = i18n.t("app.title", settings.language)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        assets_folder=str(ROOT / "assets"),
        title=title,
        update_title=None,  # the wall's title must not flicker "Updating..." every tick
        serve_locally=True,  # no CDN: the wall runs without internet
        meta_tags=[{"name": "viewport", "content": "width=device-width, initial-scale=1"}],
    )
    dash.register_page("wall", path="/", layout=wall_page, title=title)
    # The browser pages: name (also the message key app.<name>_title), path, layout.
    for name, layout in (
        ("crowd", crowd_page),
        ("risk", risk_page),
        ("ops", ops_page),
        ("registers", registers_page),
        ("station", station_page),
    ):
        page_title = i18n.t(f"app.{name}_title", settings.language)
        dash.register_page(name, path=f"/{name}", layout=layout, title=f"{page_title} · {title}")
    app.layout = shell
    app.server.register_blueprint(api.blueprint)
    # Hashed now, as each worker starts, not at its first request: the code on disk is the code
    # this worker runs, so workers of one deployment agree.
    logger.info("build %s", live.build_id())
    return app


app = create_app()
server = app.server


def run_dev_server(
    host: str | None = None, port: int | None = None, *, debug: bool = False
) -> None:
    """Dash's development server (single process, threaded); production uses gunicorn."""
    settings = get_settings()
    app.run(host=host or settings.host, port=port or settings.port, debug=debug)


if __name__ == "__main__":
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    run_dev_server()
