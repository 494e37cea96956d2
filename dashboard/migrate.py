"""Schema migrations (Alembic), callable from code and from ``python -m dashboard init-db``."""

from __future__ import annotations

import logging

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, inspect

from dashboard.config import PROJECT_ROOT, get_settings
from dashboard.db import get_engine

logger = logging.getLogger(__name__)


def alembic_config(url: str | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(PROJECT_ROOT / "migrations"))
    # ConfigParser interpolates "%": escape it (URL-encoded options contain it).
    cfg.set_main_option("sqlalchemy.url", (url or get_settings().database_url).replace("%", "%%"))
    return cfg


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Bring the database at ``url`` to ``revision`` (creating PostGIS if needed)."""
    url = url or get_settings().database_url
    engine: Engine = get_engine(url)
    cfg = alembic_config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, revision)
    logger.info("database at %s is at revision %s", engine.url.render_as_string(), revision)


def is_initialised(url: str | None = None) -> bool:
    return inspect(get_engine(url)).has_table("alembic_version")
