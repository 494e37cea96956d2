"""Every component ID of the web app, declared once, one class per view."""

from __future__ import annotations

from enum import StrEnum


class Wall(StrEnum):
    """The wall screen ``/``."""

    ROOT = "wall-root"
    LANG = "wall-lang"  # dcc.Store: the page's language
    TZ = "wall-tz"  # dcc.Store: the district's time zone, for the clock
    TICK = "wall-tick"  # dcc.Interval: the cheap data-version check
    VERSIONS = "wall-versions"  # dcc.Store: data versions, rewritten only when they change
    CLOCK_TICK = "wall-clock-tick"  # dcc.Interval: one second, clientside only
    CLOCK_TIME = "wall-clock-time"
    CLOCK_DATE = "wall-clock-date"
    FRESH_AGE = "wall-fresh-age"  # "data updated 2 minutes ago", clientside
    FRESH_STATUS = "wall-fresh-status"  # on time / which datasets are late
    FRESH_LIST = "wall-fresh-list"  # per-dataset freshness
    MAP = "wall-map"
    MAP_SIZE = "wall-map-size"  # dcc.Store: the map's size in pixels, measured in the browser
    KPI_SUBDISTRICTS = "kpi-subdistricts"
    KPI_COMMITTEES = "kpi-committees"
    KPI_COMPOUNDS = "kpi-compounds"
    KPI_RESIDENTS = "kpi-residents"
    KPI_ENTERPRISES = "kpi-enterprises"
    KPI_SHOPS = "kpi-shops"
    KPI_SITES = "kpi-sites"
    KPI_WORKERS = "kpi-workers"
    KPI_ARRIVALS = "kpi-arrivals"
    KPI_STATIONS = "kpi-stations"
    KPI_PINGS = "kpi-pings"
    KPI_WORK_ORDERS = "kpi-work-orders"
    RISK_DATE = "wall-risk-date"  # the day the risk panel and the map show
    RISK_COUNTS = "wall-risk-counts"  # compounds per band, change since the day before
    RISK_TOP = "wall-risk-top"  # the highest-scoring compounds
    RISK_SUBDISTRICTS = "wall-risk-subdistricts"  # band counts per subdistrict


# The key-figure tiles, in screen order (the layout labels them, the callback fills them).
KPI_TILES: tuple[Wall, ...] = (
    Wall.KPI_SUBDISTRICTS,
    Wall.KPI_COMMITTEES,
    Wall.KPI_COMPOUNDS,
    Wall.KPI_RESIDENTS,
    Wall.KPI_ENTERPRISES,
    Wall.KPI_SHOPS,
    Wall.KPI_SITES,
    Wall.KPI_WORKERS,
    Wall.KPI_ARRIVALS,
    Wall.KPI_STATIONS,
    Wall.KPI_PINGS,
    Wall.KPI_WORK_ORDERS,
)


class Ops(StrEnum):
    """The operators' page ``/ops``."""

    LANG = "ops-lang"
    REFRESH = "ops-refresh"  # dcc.Interval
    BATCHES = "ops-batches"
    QUARANTINE = "ops-quarantine"
    JOBS = "ops-jobs"
    FRESHNESS = "ops-freshness"


class Risk(StrEnum):
    """The community-risk page ``/risk``: leaders and staff, in a browser."""

    LANG = "risk-lang"
    DATE = "risk-date"  # dcc.Dropdown of the scored days
    COMPOUND = "risk-compound"  # dcc.Dropdown, searchable: the compound shown
    REQUESTED = "risk-requested"  # dcc.Store: the compound named in the URL (?compound=CODE)
    MAP = "risk-map"
    MAP_SIZE = "risk-map-size"  # dcc.Store: the map's size, measured in the browser
    MAP_AREAS = "risk-map-areas"  # dcc.Store: the areas version the map's geometry came from
    SUMMARY = "risk-summary"  # score, band, rank and its change
    HISTORY = "risk-history"
    CONTRIBUTIONS = "risk-contributions"
    VALUES = "risk-values"  # the raw values behind the score
    WEIGHT = "risk-weight"  # type of the pattern-matching IDs {"type": WEIGHT, "key": key}
    WEIGHT_SUM = "risk-weight-sum"
    WHATIF_RESET = "risk-whatif-reset"
    WHATIF_MESSAGE = "risk-whatif-message"
    WHATIF_RESULT = "risk-whatif-result"
