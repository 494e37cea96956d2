"""The ingestion path: one pipeline, one declarative spec per kind of feed.

Public API (the CLI and the scheduler call exactly this)::

    from dashboard.ingest import load_file, IngestReport, FileRejected, KINDS
    report = load_file(kind, path, session=session, crs=None, convert_gcj02=False,
                       level=None, now=None)

``load_file`` writes inside the caller's transaction and never commits; ``FileRejected`` means
nothing was written, and ``record_rejection`` records the refusal in a new transaction.
``load_inbox`` runs the inbox folder, one transaction per file. Formats: docs/formats.md.
"""

from __future__ import annotations

from dashboard.ingest.inbox import load_inbox
from dashboard.ingest.kinds import KINDS
from dashboard.ingest.pipeline import IngestReport, load_file, record_rejection
from dashboard.ingest.spec import Column, ColumnType, FileRejected, Kind

__all__ = [
    "KINDS",
    "Column",
    "ColumnType",
    "FileRejected",
    "IngestReport",
    "Kind",
    "load_file",
    "load_inbox",
    "record_rejection",
]
