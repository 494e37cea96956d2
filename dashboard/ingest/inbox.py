"""The inbox: upstream systems (and the demo simulator) drop files into ``inbox/<kind>/``.

Each file is loaded in a transaction of its own, oldest first, then moved to
``inbox/done/<kind>/`` or, refused, to ``inbox/rejected/<kind>/`` with a ``.reason.txt``
beside it. The move happens only after the transaction has committed, so a crash in between
leaves the file in the inbox, and the next scan sees it as already loaded (same hash) and
just moves it. Writers must write to a name starting with "." and rename when done; such
names, and suffixes other than .csv/.xlsx/.geojson/.json, are left alone.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

from sqlalchemy.orm import Session

from dashboard.coords import sidecar_prj
from dashboard.ingest.kinds import KINDS
from dashboard.ingest.pipeline import IngestReport, load_file, record_rejection
from dashboard.ingest.readers import SUFFIXES
from dashboard.ingest.spec import FileRejected
from dashboard.models import AreaLevel

logger = logging.getLogger(__name__)

SessionFactory = Callable[[], AbstractContextManager[Session]]


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

    A file that fails for a reason other than its content (the database is down, a bug) is
    logged and left in place for the next scan.
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
            message = str(exc)
            with session_factory() as session:
                batch_id = record_rejection(kind, path, message, session=session)
            _move(path, inbox / "rejected" / kind, reason=message)
            reports.append(
                IngestReport(
                    batch_id=batch_id, kind=kind, filename=path.name, rejected=True, message=message
                )
            )
            continue
        except Exception:
            logger.exception(
                "%s %s: not loaded; it stays in the inbox for the next scan", kind, path.name
            )
            continue
        _move(path, inbox / "done" / kind)
        reports.append(report)
    return reports


def _free_name(folder: Path, name: str) -> Path:
    target = folder / name
    n = 1
    while target.exists():
        stem, dot, suffix = name.partition(".")
        target = folder / f"{stem}-{n}{dot}{suffix}"
        n += 1
    return target


def _move(path: Path, folder: Path, *, reason: str | None = None) -> Path:
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
        os.replace(prj, prj_target)
    if reason is not None:
        target.with_name(target.name + ".reason.txt").write_text(reason + "\n", encoding="utf-8")
    logger.debug("moved %s to %s", path.name, target)
    return target
