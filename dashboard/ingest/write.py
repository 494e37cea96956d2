"""Writing parsed rows: upsert by natural key, or append; in chunks, inside the caller's
transaction (nothing here commits, so a failure anywhere leaves nothing of the file)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Table, bindparam, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

logger = logging.getLogger(__name__)

CHUNK_ROWS = 5_000


def _after_chunk(kind: str, table: str, chunk_number: int) -> None:
    """Called after each chunk is written. Does nothing; tests replace it to simulate a crash
    in the middle of a file and check that the rollback leaves nothing of it behind."""


def _insert(session: Session, table: Table) -> Any:
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table)
    if dialect == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"ingestion writes to SQLite or PostgreSQL, not {dialect}")


def _chunks(records: Sequence[dict[str, Any]], size: int) -> Iterator[Sequence[dict[str, Any]]]:
    for start in range(0, len(records), size):
        yield records[start : start + size]


def upsert(
    session: Session,
    table: Table,
    records: Sequence[dict[str, Any]],
    *,
    key: Sequence[str],
    kind: str,
    chunk_rows: int | None = None,
) -> int:
    """Insert or update ``records`` keyed by ``key``; rows written.

    A record updates only the columns it carries: a column the file lacks, or a blank cell,
    leaves the stored value alone (and a new row gets the column's default). Records are
    grouped by the columns they carry because one statement has one column list. A record
    without every NOT NULL column can only update an existing row (the pipeline has checked
    that it exists: ``new_row_needs``), and goes through UPDATE, because INSERT ... ON CONFLICT
    checks NOT NULL before it looks for the conflict.
    """
    must_have = {
        c.name
        for c in table.c
        if not c.nullable and not c.primary_key and c.default is None and c.server_default is None
    }
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for record in records:
        groups.setdefault(tuple(record), []).append(record)
    size = chunk_rows or CHUNK_ROWS
    chunk_number = 0
    for columns, group in groups.items():
        values = [c for c in columns if c not in key]
        if must_have <= set(columns):
            stmt = _insert(session, table)
            if values:
                stmt = stmt.on_conflict_do_update(
                    index_elements=list(key), set_={c: stmt.excluded[c] for c in values}
                )
            else:
                stmt = stmt.on_conflict_do_nothing(index_elements=list(key))
            params: Sequence[dict[str, Any]] = group
        else:
            stmt = (
                update(table)
                .where(*(table.c[k] == bindparam(f"key_{k}") for k in key))
                .values({c: bindparam(f"new_{c}") for c in values})
            )
            params = [
                {**{f"key_{k}": r[k] for k in key}, **{f"new_{c}": r[c] for c in values}}
                for r in group
            ]
        for chunk in _chunks(params, size):
            session.execute(stmt, list(chunk))
            chunk_number += 1
            _after_chunk(kind, table.name, chunk_number)
    return len(records)


def append(
    session: Session,
    table: Table,
    records: Sequence[Mapping[str, Any]],
    *,
    kind: str,
    chunk_rows: int | None = None,
) -> int:
    """Plain inserts for tables without a natural key (the file's hash guards re-delivery).

    On PostgreSQL this uses COPY in the session's transaction: psycopg's executemany sends
    one statement per row, ~3x slower for a 10^5-row pings file.
    """
    if not records:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        _copy(session, table, records, kind=kind, chunk_rows=chunk_rows or CHUNK_ROWS)
        return len(records)
    stmt = table.insert()
    chunk_number = 0
    for chunk in _chunks(records, chunk_rows or CHUNK_ROWS):  # type: ignore[arg-type]
        session.execute(stmt, list(chunk))
        chunk_number += 1
        _after_chunk(kind, table.name, chunk_number)
    return len(records)


def _copy(
    session: Session,
    table: Table,
    records: Sequence[Mapping[str, Any]],
    *,
    kind: str,
    chunk_rows: int,
) -> None:
    dialect = session.get_bind().dialect
    names = list(records[0])
    # The column types' own bind processing (UTCDateTime refuses naive times), as for INSERT.
    processors = [table.c[n].type.bind_processor(dialect) for n in names]
    quote = dialect.identifier_preparer
    sql = (
        f"COPY {quote.format_table(table)} ({', '.join(quote.quote(n) for n in names)}) FROM STDIN"
    )
    driver = session.connection().connection.driver_connection
    assert driver is not None
    chunk_number = 0
    with driver.cursor() as cursor:
        for chunk in _chunks(records, chunk_rows):  # type: ignore[arg-type]
            with cursor.copy(sql) as copy:
                for record in chunk:
                    copy.write_row(
                        tuple(
                            p(record[n]) if p is not None else record[n]
                            for n, p in zip(names, processors, strict=True)
                        )
                    )
            chunk_number += 1
            _after_chunk(kind, table.name, chunk_number)
