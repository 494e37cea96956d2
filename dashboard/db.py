"""The engine and sessions, made once per database URL.

Query functions take ``*, session`` and never commit; the caller owns the transaction through
:func:`session_scope`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from dashboard.config import get_settings

logger = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    # WAL lets the web read while the scheduler writes; busy_timeout makes a writer wait for
    # the other instead of failing at once.
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


@lru_cache(maxsize=8)
def get_engine(url: str | None = None) -> Engine:
    url = url or get_settings().database_url
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            from pathlib import Path

            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # hide_parameters: a failed statement's rows (which may hold ID numbers or names) never
        # reach an exception message or a log.
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True, hide_parameters=True)
    return engine


@lru_cache(maxsize=8)
def _sessionmaker(url: str | None) -> sessionmaker[Session]:
    return sessionmaker(bind=get_engine(url), expire_on_commit=False)


@contextmanager
def session_scope(url: str | None = None, *, snapshot: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error.

    ``snapshot=True`` is for readers that run several queries for one answer (a panel, an API
    response): every query sees the same committed state, so a re-scoring committed in between
    cannot show half of the old day beside half of the new one. PostgreSQL: REPEATABLE READ;
    SQLite: an explicit BEGIN (its driver would otherwise run each SELECT on its own).
    """
    session = _sessionmaker(url or get_settings().database_url)()
    try:
        if snapshot:
            if session.get_bind().dialect.name == "postgresql":
                session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            else:
                session.connection().exec_driver_sql("BEGIN")
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
