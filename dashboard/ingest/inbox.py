"""The inbox: upstream systems (and the demo simulator) drop files into ``inbox/<kind>/``.

Each file is loaded in a transaction of its own, oldest first, then moved to
``inbox/done/<kind>/`` or, refused, to ``inbox/rejected/<kind>/`` with a ``.reason.txt``
beside it. The move happens only after the transaction has committed, so a crash in between
leaves the file in the inbox, and the next scan sees it as already loaded (same hash) and
just moves it. Writers must write to a name starting with "." and rename when done; such
names, and suffixes other than .csv/.xlsx/.geojson/.json, are left alone.

A load that fails on the file's data (the database refuses a value, a parser trips) is
refused like a ``FileRejected`` one: retrying the same bytes would fail the same way every
scan, forever. A failure of the database itself (down, locked) leaves the file for the next
scan.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy import exc as sa_exc
from sqlalchemy import select
from sqlalchemy.orm import Session

from dashboard.coords import sidecar_prj
from dashboard.ingest.kinds import KINDS
from dashboard.ingest.pipeline import (
    IngestReport,
    file_sha256,
    load_file,
    record_rejection,
    storable_text,
)
from dashboard.ingest.readers import SUFFIXES
from dashboard.ingest.spec import FileRejected
from dashboard.models import AreaLevel, ImportBatch

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]

#: Failures caused by what the file holds: the same bytes would fail again on every scan.
DATA_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.DataError,
    sa_exc.IntegrityError,
    ValueError,  # includes UnicodeError, json and pandas parser errors
    ArithmeticError,  # OverflowError, decimal errors
)
#: Failures of the database, not of the file: try again at the next scan.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
)


def waiting_files(inbox: Path) -> list[tuple[str, Path]]:
    """(kind, path) of every complete file in ``inbox/<kind>/``, oldest first."""
    found: list[tuple[int, int, str, str, Path]] = []
    order = {name: i for i, name in enumerate(KINDS)}
    for kind in KINDS:
        folder = inbox / kind
        if not folder.is_dir():
            continue
        for path in folder.iterdir():
            if path.name.startswith(".") or path.suffix.lower() not in SUFFIXES:
                continue
            if not path.is_file():
                continue
            try:
                mtime = path.stat().st_mtime_ns
            except FileNotFoundError:  # taken by another scanner meanwhile
                continue
            found.append((mtime, order[kind], path.name, kind, path))
    found.sort(key=lambda f: f[:3])
    return [(kind, path) for *_, kind, path in found]


def level_from_name(path: Path) -> AreaLevel | None:
    """Boundaries in the inbox say their level by their name: ``compound-2026-11.geojson``."""
    name = path.name.lower()
    for level in sorted(AreaLevel, key=lambda lv: -len(lv.value)):
        if name.startswith(level.value):
            return level
    return None


def load_inbox(
    inbox: Path,
    *,
    session_factory: SessionFactory,
    convert_gcj02: bool = False,
    now: dt.datetime | None = None,
) -> list[IngestReport]:
    """Load every waiting file, each in its own transaction; one report per file handled.

    A file refused as a whole, or whose load failed on its data, is moved to ``rejected/``.
    A file that fails for another reason (the database is down, a bug) is logged and left in
    place for the next scan. One file's trouble never stops the scan.
    """
    reports: list[IngestReport] = []
    for kind, path in waiting_files(inbox):
        level = None
        if kind == "areas":
            found = level_from_name(path)
            level = found.value if found else None
        try:
            if kind == "areas" and level is None:
                raise FileRejected(
                    f"{path.name}: boundaries in the inbox must be named after their level, "
                    "e.g. compound-2026-11.geojson (district, subdistrict, committee, compound)"
                )
            with session_factory() as session:
                report = load_file(
                    kind, path, session=session, level=level, convert_gcj02=convert_gcj02, now=now
                )
        except FileRejected as exc:
            if not path.exists():
                logger.warning("%s %s: gone from the inbox meanwhile; skipped", kind, path.name)
                continue
            rejected = _reject(inbox, kind, path, str(exc), session_factory)
            if rejected is not None:
                reports.append(rejected)
            continue
        except Exception as exc:  # noqa: BLE001 - sorted below; the scan goes on
            handled = _failed(inbox, kind, path, exc, session_factory)
            if handled is not None:
                reports.append(handled)
            continue
        _move(path, inbox / "done" / kind)
        reports.append(report)
    return reports


def _failed(
    inbox: Path, kind: str, path: Path, exc: Exception, session_factory: SessionFactory
) -> IngestReport | None:
    """An unexpected failure of one file's load: refuse the file if its data caused it."""
    if not path.exists():
        logger.warning("%s %s: gone from the inbox during its load; skipped", kind, path.name)
        return None
    if is_data_error(exc) and not (
        isinstance(exc, sa_exc.IntegrityError) and _loaded_meanwhile(kind, path, session_factory)
    ):
        problem = describe_error(exc, personal=any(c.personal for c in KINDS[kind].columns))
        logger.warning("%s %s: the load failed on the file's data: %s", kind, path.name, problem)
        message = f"the load failed on the file's data, nothing was written: {problem}"
        return _reject(inbox, kind, path, message, session_factory)
    problem = describe_error(exc)  # about the database, not the rows: shown in full
    if isinstance(exc, sa_exc.SQLAlchemyError):
        # No traceback: SQLAlchemy's text carries the statement's parameters (the file's rows).
        logger.error(
            "%s %s: not loaded (%s); it stays in the inbox for the next scan",
            kind,
            path.name,
            problem,
        )
    else:
        logger.exception(
            "%s %s: not loaded; it stays in the inbox for the next scan", kind, path.name
        )
    return None


def is_data_error(exc: BaseException) -> bool:
    """Whether a failure comes from the file's data rather than from the database or a bug."""
    if isinstance(exc, TRANSIENT_ERRORS):
        return False
    if isinstance(exc, DATA_ERRORS):
        return True
    # A value refused by a column type's own Python code arrives wrapped, parameters and all.
    orig = getattr(exc, "orig", None)
    return isinstance(exc, sa_exc.StatementError) and isinstance(orig, DATA_ERRORS)


def describe_error(exc: BaseException, *, personal: bool = False) -> str:
    """The error's class and first line, without the SQL statement and its parameters (which
    SQLAlchemy appends, and which hold the file's rows). For a kind with personal data only
    the classes: a driver's message may quote a value (an ID number)."""
    name = type(exc).__name__
    text = str(exc)
    if isinstance(exc, sa_exc.StatementError):
        orig = exc.orig
        if orig is not None:
            name = f"{name} ({type(orig).__module__}.{type(orig).__name__})"
            diag = getattr(orig, "diag", None)
            text = getattr(diag, "message_primary", None) or str(orig)
        else:
            text = text.split("[SQL:", 1)[0]
    if personal:
        return f"{name} (details withheld: this kind of file carries personal data)"
    first = text.strip().splitlines()[0] if text.strip() else ""
    first = first if len(first) <= 300 else first[:297] + "..."
    return f"{name}: {first}" if first else name


def _loaded_meanwhile(kind: str, path: Path, session_factory: SessionFactory) -> bool:
    """Whether another process (the CLI, a second scanner) loaded the same bytes meanwhile:
    then the failure was the race on the batch's uniqueness, not the data."""
    try:
        sha = file_sha256(path.read_bytes())
        with session_factory() as session:
            return (
                session.scalar(
                    select(ImportBatch.id)
                    .where(
                        ImportBatch.kind == kind,
                        ImportBatch.sha256 == sha,
                        ImportBatch.status == "loaded",
                    )
                    .limit(1)
                )
                is not None
            )
    except Exception:  # noqa: BLE001 - cannot tell: leave the file for the next scan
        logger.debug("could not check whether %s was loaded meanwhile", path.name, exc_info=True)
        return True


def _reject(
    inbox: Path, kind: str, path: Path, message: str, session_factory: SessionFactory
) -> IngestReport | None:
    """Record the refusal, then move the file to ``rejected/<kind>/`` with its reason."""
    message = storable_text(message)
    try:
        with session_factory() as session:
            batch_id = record_rejection(kind, path, message, session=session)
    except Exception as exc:  # noqa: BLE001 - the database is away: next scan
        logger.error(
            "%s %s: refused, but the refusal could not be recorded (%s); it stays in the inbox",
            kind,
            path.name,
            describe_error(exc),
        )
        return None
    _move(path, inbox / "rejected" / kind, reason=message)
    return IngestReport(
        batch_id=batch_id, kind=kind, filename=path.name, rejected=True, message=message
    )


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        stem, dot, suffix = name.partition(".")
        target = folder / f"{stem}-{n}{dot}{suffix}"
        n += 1
    return target


def _move(path: Path, folder: Path, *, reason: str | None = None) -> Path | None:
    """Move ``path`` (and its .prj sidecar) into ``folder``; None if it could not be moved
    (gone meanwhile, taken by another scanner, no permission): logged, the scan goes on."""
    try:
        return _move_now(path, folder, reason=reason)
    except FileNotFoundError:
        logger.warning("%s: gone from the inbox before it could be moved", path.name)
    except OSError as exc:
        logger.error("%s: could not be moved to %s: %s", path.name, folder, exc)
    return None


def _move_now(path: Path, folder: Path, *, reason: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    prj = sidecar_prj(path)
    target = _free_name(folder, path.name)
    os.replace(path, target)
    if prj is not None:
        prj_target = (
            target.with_name(target.name + ".prj")
            if prj.name == path.name + ".prj"
            else target.with_suffix(".prj")
        )
        try:
            os.replace(prj, prj_target)
        except FileNotFoundError:
            pass  # moved with another file of the same stem
    if reason is not None:
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    logger.debug("moved %s to %s", path.name, target)
    return target
