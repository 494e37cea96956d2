"""Every knob of the product, in one place, each with its description.

Values come from environment variables prefixed ``DASHBOARD_`` (for example
``DASHBOARD_DATABASE_URL``) or a ``.env`` file in the working directory.
``docs/configuration.md`` lists them; a test keeps that page complete.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = PROJECT_ROOT / "data"

# The wall's views (assets/rotate.js shows one at a time): the whole wall, then each large.
WALL_VIEWS: tuple[str, ...] = ("overview", "risk", "crowd", "registers", "station")
# Fewer seconds per view than this and no one can read a view before it goes.
WALL_ROTATE_MIN_S = 5


def check_rotate_s(value: int) -> int:
    """Seconds per view of the wall: 0 (no rotation) or at least WALL_ROTATE_MIN_S."""
    if value != 0 and value < WALL_ROTATE_MIN_S:
        raise ValueError(
            f"wall_rotate_s must be 0 (no rotation) or at least {WALL_ROTATE_MIN_S} seconds, "
            f"not {value}"
        )
    return value


def check_views(value: str | list[str] | tuple[str, ...]) -> list[str]:
    """The wall's views in their order: known names (WALL_VIEWS), at least one. A list or a
    comma-separated string ("risk,crowd", as in the URL); a name may come back (shown twice)."""
    names = value.split(",") if isinstance(value, str) else list(value)
    views = [str(name).strip().lower() for name in names if str(name).strip()]
    unknown = [name for name in views if name not in WALL_VIEWS]
    if unknown or not views:
        raise ValueError(
            f"wall_views must name at least one of {', '.join(WALL_VIEWS)}; "
            + (f"unknown: {', '.join(unknown)}" if unknown else "none given")
        )
    return views


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="DASHBOARD_", env_file=".env", extra="ignore")

    database_url: str = Field(
        default=f"sqlite:///{PROJECT_ROOT / 'var' / 'dashboard.sqlite3'}",
        description="SQLAlchemy URL of the database. SQLite is the embedded default; "
        "production uses PostgreSQL with PostGIS, e.g. postgresql+psycopg://user@host/db.",
    )
    var_dir: Path = Field(
        default=PROJECT_ROOT / "var",
        description="Folder for run-time files: the SQLite database, the inbox, processed files.",
    )
    inbox_dir: Path | None = Field(
        default=None,
        description="Folder watched for incoming feed files, one sub-folder per kind "
        "(inbox/pings/, inbox/indicators/, ...). Defaults to <var_dir>/inbox.",
    )
    timezone: str = Field(
        default="Asia/Shanghai", description="Time zone in which times are shown and days are cut."
    )
    language: str = Field(
        default="zh", description="Default UI language: 'zh' (Simplified Chinese) or 'en'."
    )
    district_code: str = Field(
        default="310104", description="Code of the district the screen shows (Xuhui: 310104)."
    )
    demo: bool = Field(
        default=True,
        description="Demo mode: build the demo district when the database is empty and let "
        "the simulator write upstream files into the inbox.",
    )
    demo_seed: int = Field(default=20200301, description="Seed of the demo district builder.")
    simulator_interval_s: int = Field(
        default=30, description="Seconds between two rounds of simulated upstream files."
    )
    simulator_pings_per_round: int = Field(
        default=1000,
        description="Location pings the simulator writes per round: a sample, each ping "
        "weighted to stand for its share of the people present. 1,000 per 30 s round is "
        "30,000 per 15-minute window, ~40 people per ping: enough pings per cell for most "
        "cells to pass the crowd small-count rule.",
    )
    ingest_interval_s: int = Field(
        default=15, description="Seconds between two scans of the inbox."
    )
    refresh_interval_s: int = Field(
        default=5,
        description="Seconds between two ticks of the screen's cheap data-version check.",
    )
    wall_reload_hours: float = Field(
        default=24,
        ge=0.005,  # 18 s: anything shorter would reload before the page has drawn
        description="Hours after which an open screen reloads itself (at its next successful "
        "check), which keeps a browser that runs for weeks within bounded memory.",
    )
    build_id: str | None = Field(
        default=None,
        description="What identifies this deployment; an open screen that sees another one "
        "reloads itself. Unset: a hash of the code and assets, the same in every worker.",
    )
    scheduler_lease_s: int = Field(
        default=30,
        description="Seconds a scheduler's database lock lasts without renewal; a second "
        "scheduler waits until the lock is free or this long after the holder stopped renewing.",
    )
    scheduler_misfire_grace_s: int = Field(
        default=60, description="Seconds a late job may still start (APScheduler misfire grace)."
    )
    pings_keep_hours: int = Field(
        default=26,
        description="Hours of raw location pings kept (the browser's slider spans 24 h; the "
        "aggregated windows are kept crowd_keep_days). Older windows can no longer be recomputed.",
    )
    inbox_keep_days: int = Field(
        default=7,
        description="Days processed files are kept in inbox/done/ and inbox/rejected/ "
        "(they may hold personal data, so they do not stay forever).",
    )
    job_runs_keep_days: int = Field(default=30, description="Days of job-run history kept.")
    risk_model_path: Path = Field(
        default=DATA_DIR / "risk_model.json",
        description="The community-risk model in force (indicators, weights, bases, caps; "
        "docs/risk_model.md). Read on every scoring run; a file that breaks a rule is refused "
        "and nothing is scored, so the last scores stay.",
    )
    risk_score_time: str = Field(
        default="01:00",
        description="Local time (HH:MM, in the configured time zone) of the nightly run that "
        "scores the previous day's community risk.",
    )
    risk_carry_forward_days: int = Field(
        default=3,
        ge=0,
        description="Days a compound's last indicator value is carried forward when a day's "
        "return is missing; older than that the indicator is missing and the score incomplete.",
    )
    crowd_cell_m: int = Field(
        default=250,
        ge=50,
        le=5000,
        description="Side in metres of the square cells of the crowd heatmap's grid "
        "(docs/crowd.md). Changing it changes every cell id: clear crowd_counts afterwards.",
    )
    crowd_origin_lon: float = Field(
        default=121.38,
        ge=-180,
        le=180,
        description="Longitude (WGS84) of the crowd grid's fixed origin, the south-west corner "
        "of the district's bounding box rounded down (Xuhui: 121.38). Fixed once: cell ids "
        "depend on it.",
    )
    crowd_origin_lat: float = Field(
        default=31.10,
        ge=-85,
        le=85,
        description="Latitude (WGS84) of the crowd grid's fixed origin (Xuhui: 31.10); also "
        "the latitude at which metres per degree are taken.",
    )
    crowd_window_minutes: int = Field(
        default=15,
        ge=1,
        le=1440,
        description="Length in minutes of one crowd time window; must divide a day (1440) so "
        "windows start on the same clock times every day.",
    )
    crowd_keep_days: int = Field(
        default=7, ge=1, description="Days of crowd windows (crowd_counts) kept."
    )
    crowd_min_count: int = Field(
        default=10,
        ge=1,
        description="k of the small-count rule: a cell with fewer observations behind it "
        "(pings, or the provider's count of people for pre-aggregated input) is not shown on "
        "its own, so no individual can be located from the map.",
    )
    crowd_thresholds_km2: list[float] = Field(
        default=[10_000, 30_000, 60_000],
        description="The three edges, in people per km², between the heatmap's four levels "
        "blue | green | yellow | red (a density equal to an edge takes the higher level). "
        "Ascending; see docs/crowd.md for why these values.",
    )
    crowd_interval_s: int = Field(
        default=120, ge=10, description="Seconds between two runs of the aggregate_crowd job."
    )
    wall_station: str = Field(
        default="",
        description="Code of the station whose passenger flow the wall shows (e.g. "
        "SHANGHAI_SOUTH); empty: the first railway station with arrivals.",
    )
    wall_rotate_s: int = Field(
        default=0,
        description="Seconds the wall shows each of wall_views before the next; 0: no "
        "rotation (the wall shows the first view, the whole wall by default). At least 5. "
        "A screen's URL may override it: /?rotate=30.",
    )
    wall_views: Annotated[list[str], NoDecode] = Field(
        default=list(WALL_VIEWS),
        description="The wall's views in the order they rotate: overview (the whole wall), "
        "risk, crowd, registers, station (each panel large). Comma-separated or a JSON list; "
        "at least one. A screen's URL may override it: /?views=risk,crowd.",
    )
    map_tile_url: str | None = Field(
        default=None,
        description="XYZ raster tile template served inside the operations centre's network, "
        "e.g. http://tiles.intranet/{z}/{x}/{y}.png (256 px tiles), drawn under every map's own "
        "layers. Unset: the maps show only our own layers (outlines, stations) and the page "
        "requests nothing outside this server. No token is ever sent.",
    )
    map_tile_attribution: str = Field(
        default="",
        description="Credit for the intranet tiles, shown in the maps' corner (plain text); "
        "empty shows none.",
    )
    key_regions: list[str] = Field(
        default=["湖北"],
        description="Home provinces (or regions, as the site feeds spell them) whose arrivals "
        "are flagged at construction sites and must show a 14-day isolation certificate. A "
        "JSON list, e.g. '[\"湖北\", \"浙江温州\"]'.",
    )
    key_region_days: int = Field(
        default=14,
        ge=1,
        description="Days after arrival during which a key-region arrival counts on a site's "
        "panel (the isolation period).",
    )
    forecast_checker_throughput: int = Field(
        default=200,
        ge=1,
        description="Passengers one ticket checker handles in an hour (ticket, ID and "
        "temperature check); checkers needed = ceil(upper 80% forecast / this).",
    )
    forecast_min_checkers: int = Field(
        default=2, ge=0, description="Fewest checkers on duty in any open hour, however quiet."
    )
    forecast_roster_checkers: int = Field(
        default=4,
        ge=0,
        description="Checkers the current roster puts on duty each hour; the staffing advice "
        "says what the forecast adds over it in the peak windows.",
    )
    forecast_history_days: int = Field(
        default=56,
        ge=14,
        description="Days of history the station forecast is fitted on (docs/forecast.md).",
    )
    forecast_min_history_days: int = Field(
        default=14,
        ge=8,
        description="Days of observed hours a station needs before it is forecast; with fewer "
        "the forecast is refused with a message saying how many hours it has.",
    )
    forecast_ridge_alpha: float = Field(
        default=1.0,
        ge=0,
        description="Ridge penalty of the forecast's regression: larger keeps the forecast "
        "closer to the station's hour-of-week profile.",
    )
    forecast_unusual_ratio: float = Field(
        default=1.5,
        gt=1,
        description="A day whose total is this many times above or below the median of its "
        "kind (same weekday, or day off / workday) is left out of the forecast's profiles.",
    )
    host: str = Field(default="127.0.0.1", description="Address the development server binds.")
    port: int = Field(default=8050, description="Port of the development server.")
    dataset_expected_interval_s: dict[str, int] = Field(
        default={
            "areas": 86400 * 365,
            "pings": 300,
            "indicators": 86400,
            "risk": 86400,
            # Registers change during working hours and rest at night: a day without a
            # single update is what is worth flagging.
            "enterprises": 86400,
            "shops": 86400,
            "sites": 86400,
            "station_flows": 3600,
            "station_bookings": 3600,
            "forecasts": 3600,  # the forecast_stations job, hourly at :05
            "crowd": 600,
            # The overview feeds arrive once a day (disinfection is ticked off through it).
            "epidemic": 86400,
            "home_observation": 86400,
            "disinfection": 86400,
            "masks": 86400,
            "returnees": 86400,
        },
        description="Expected seconds between two updates of each dataset; a dataset older "
        "than twice this is reported late on /ops, the health API and the screen's header.",
    )

    @field_validator("risk_score_time")
    @classmethod
    def _hh_mm(cls, value: str) -> str:
        hour, _, minute = value.partition(":")
        if not (hour.isdigit() and minute.isdigit() and int(hour) < 24 and int(minute) < 60):
            raise ValueError(f"risk_score_time must be HH:MM (e.g. 01:00), not {value!r}")
        return f"{int(hour):02d}:{int(minute):02d}"

    @field_validator("crowd_thresholds_km2")
    @classmethod
    def _three_ascending(cls, value: list[float]) -> list[float]:
        if len(value) != 3 or not all(a < b for a, b in zip([0.0, *value], value, strict=False)):
            raise ValueError(
                "crowd_thresholds_km2 must be three ascending positive numbers "
                f"(e.g. [10000, 30000, 60000]), not {value!r}"
            )
        return [float(v) for v in value]

    @field_validator("wall_rotate_s")
    @classmethod
    def _rotate_s(cls, value: int) -> int:
        return check_rotate_s(value)

    @field_validator("wall_views", mode="before")
    @classmethod
    def _views(cls, value: object) -> list[str]:
        if isinstance(value, str) and value.strip().startswith("["):
            value = json.loads(value)
        if not isinstance(value, (str, list, tuple)):
            raise ValueError(f"wall_views must be a list of view names, not {value!r}")
        return check_views(value)

    @field_validator("crowd_window_minutes")
    @classmethod
    def _divides_a_day(cls, value: int) -> int:
        if 1440 % value:
            raise ValueError(f"crowd_window_minutes must divide 1440 (a day), not {value}")
        return value

    @field_validator("map_tile_url")
    @classmethod
    def _xyz_template(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        value = value.strip()
        parts = urlsplit(value)
        missing = [p for p in ("{z}", "{x}", "{y}") if p not in value]
        if parts.scheme.lower() not in ("http", "https") or not parts.netloc or missing:
            why = f"it lacks {', '.join(missing)}" if missing else "it is not http(s)://host/..."
            raise ValueError(
                "map_tile_url must be an http(s) XYZ tile template with {z}, {x} and {y}, e.g. "
                f"http://tiles.intranet/{{z}}/{{x}}/{{y}}.png; {value!r}: {why}"
            )
        return value

    @property
    def risk_score_hour_minute(self) -> tuple[int, int]:
        hour, minute = self.risk_score_time.split(":")
        return int(hour), int(minute)

    @property
    def inbox(self) -> Path:
        return self.inbox_dir or self.var_dir / "inbox"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
