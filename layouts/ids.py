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
    CROWD_MAP = "wall-crowd-map"  # the crowd heatmap
    CROWD_MAP_SIZE = "wall-crowd-map-size"  # dcc.Store: its size, measured in the browser
    CROWD_DRAWN = "wall-crowd-drawn"  # dcc.Store: the geometry the heatmap was drawn with
    CROWD_TIME = "wall-crowd-time"  # the time window shown ("as of 14:15")
    CROWD_PEOPLE = "wall-crowd-people"  # people in yellow and in red cells
    CROWD_RED_AREAS = "wall-crowd-red-areas"  # the largest red areas, by the nearest place
    # The registers panel (enterprises, shops, sites) and its map of their points by state.
    REG_ENTERPRISES = "wall-reg-enterprises"
    REG_ENTERPRISES_TIME = "wall-reg-enterprises-time"  # "as of 14:05" of each block
    REG_SHOPS = "wall-reg-shops"
    REG_SHOPS_TIME = "wall-reg-shops-time"
    REG_SITES = "wall-reg-sites"
    REG_SITES_TIME = "wall-reg-sites-time"
    REG_MAP = "wall-reg-map"
    REG_MAP_SIZE = "wall-reg-map-size"  # dcc.Store: its size, measured in the browser
    REG_DRAWN = "wall-reg-drawn"  # dcc.Store: the points' positions the map was drawn with
    # The overview tiles (left column): each its content and the day or time it is as of.
    OV_EPIDEMIC = "wall-ov-epidemic"
    OV_EPIDEMIC_TIME = "wall-ov-epidemic-time"
    OV_HOME = "wall-ov-home"
    OV_HOME_TIME = "wall-ov-home-time"
    OV_DISINFECTION = "wall-ov-disinfection"
    OV_DISINFECTION_TIME = "wall-ov-disinfection-time"
    OV_MASKS = "wall-ov-masks"
    OV_MASKS_TIME = "wall-ov-masks-time"
    OV_RETURNEES = "wall-ov-returnees"
    OV_RETURNEES_TIME = "wall-ov-returnees-time"
    # The station panel (right column): one station's next 24 hours, peaks, staffing, accuracy.
    STATION_TITLE = "wall-station-title"  # the station's name in the panel's title
    STATION_ISSUED = "wall-station-issued"  # when the forecast shown was issued
    STATION_GRAPH = "wall-station-graph"
    STATION_SIZE = "wall-station-size"  # dcc.Store: the screen's size, for the chart's text
    STATION_PEAKS = "wall-station-peaks"  # the peak windows' sentence
    STATION_STAFF = "wall-station-staff"  # the staffing sentence
    STATION_ACCURACY = "wall-station-accuracy"  # yesterday's MAPE and MAE


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


class Crowd(StrEnum):
    """The crowd heatmap page ``/crowd``: leaders and staff, in a browser. Aggregates only."""

    LANG = "crowd-lang"
    TICK = "crowd-tick"  # dcc.Interval: the cheap data-version check (new windows)
    WINDOWS = "crowd-windows"  # dcc.Store: the crowd version and the last 24 hours' windows
    SLIDER = "crowd-slider"  # the window shown, an index into WINDOWS
    PLAY = "crowd-play"  # play / pause button
    PLAYER = "crowd-player"  # dcc.Interval stepping the slider while playing (clientside)
    WINDOW = "crowd-window"  # the window's date and time
    MAP = "crowd-map"
    MAP_SIZE = "crowd-map-size"  # dcc.Store: the map's size, measured in the browser
    MAP_DRAWN = "crowd-map-drawn"  # dcc.Store: the geometry the map was drawn with
    PEOPLE = "crowd-people"  # people in yellow and in red cells
    RED_AREAS = "crowd-red-areas"  # the largest red areas, by the nearest place
    CELL = "crowd-cell"  # dcc.Store: the cell clicked
    CELL_TITLE = "crowd-cell-title"  # where the clicked cell is
    HISTORY = "crowd-history"  # the clicked cell's density over 24 hours


class Registers(StrEnum):
    """The registers page ``/registers``: enterprises, shops, sites and disinfection as tables.
    Register fields and aggregates only: never a worker's name or ID number."""

    LANG = "reg-lang"
    TICK = "reg-tick"  # dcc.Interval: the cheap data-version check
    SYNC = "reg-sync"  # dcc.Store: what the grid holds (register, filters, version, sync mark)
    CHANGES = "reg-changes"  # dcc.Store: rows changed since the last sync, each with `match`
    RELOAD = "reg-reload"  # dcc.Store: the day the tick asked for the whole table again
    APPLIED = "reg-applied"  # dcc.Store: what the browser applied (and how long it took)
    REGISTER = "reg-register"  # dcc.Tabs: which register
    SUBDISTRICT = "reg-subdistrict"  # dcc.Dropdown
    STATE = "reg-state"  # dcc.Dropdown
    SEARCH = "reg-search"  # dcc.Input: the grid's quick filter, in the browser only
    GRID = "reg-grid"  # dash_ag_grid.AgGrid
    FRESH = "reg-fresh"  # "as of 14:05"
    COUNT = "reg-count"  # rows and laggards
    EXPORT_CSV = "reg-export-csv"
    EXPORT_XLSX = "reg-export-xlsx"
    EXPORT_REQUEST = "reg-export-request"  # dcc.Store: format and the ids shown, from the grid
    DOWNLOAD = "reg-download"  # dcc.Download


class Station(StrEnum):
    """The station passenger-flow page ``/station``: one station's forecast and its backtest."""

    LANG = "station-lang"
    REQUESTED = "station-requested"  # dcc.Store: the station named in the URL (?station=CODE)
    TICK = "station-tick"  # dcc.Interval: the cheap data-version check
    VERSIONS = "station-versions"  # dcc.Store: the forecast and flow versions the page shows
    PICK = "station-pick"  # dcc.Dropdown of the stations with history
    FRESH = "station-fresh"  # forecast issued at, arrivals as of
    GRAPH = "station-graph"
    PEAKS = "station-peaks"
    STAFF = "station-staff"
    ACCURACY = "station-accuracy"
    BACKTEST = "station-backtest"  # MASE of the model and the two naives, coverage, seconds
