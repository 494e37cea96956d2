"""The operators' page: import batches, quarantined rows, job runs, freshness per dataset.

Quarantined rows are shown by reason, detail and row number only: their raw content may hold
(masked) personal data and never leaves the server here.
"""

from __future__ import annotations

import logging
from typing import Any

from dash import Input, Output, State, callback, html
from dash.development.base_component import Component

from callbacks.common import current_scope, table
from dashboard import freshness, queries, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.i18n import format_count, format_duration, format_local_time, label, t
from dashboard.models import utcnow
from layouts.ids import Ops

logger = logging.getLogger(__name__)


@callback(
    Output(Ops.FRESHNESS, "children"),
    Output(Ops.JOBS, "children"),
    Output(Ops.BATCHES, "children"),
    Output(Ops.QUARANTINE, "children"),
    Input(Ops.REFRESH, "n_intervals"),
    State(Ops.LANG, "data"),
)
def refresh_ops(_n_intervals: int | None, lang: str | None) -> tuple[Component, ...]:
    settings = get_settings()
    lang = lang or settings.language
    tz = settings.timezone
    scope = current_scope()
    now = utcnow()
    with session_scope(settings.database_url) as session:
        current = versions.current(session=session)
        runs = queries.recent_job_runs(session=session, scope=scope)
        batches = queries.recent_import_batches(session=session, scope=scope)
        quarantined = queries.recent_quarantined_rows(session=session, scope=scope)
    empty = t("ops.empty", lang)

    def col(*keys: str) -> list[str]:
        return [t(f"col.{k}", lang) for k in keys]

    fresh_rows: list[list[Any]] = []
    for f in freshness.assess(current, settings.dataset_expected_interval_s, now=now):
        if f.expected_interval_s is None:
            verdict: Any = t("status.not_tracked", lang)
        elif f.late:
            verdict = html.Span(t("status.late", lang), className="late")
        else:
            verdict = t("status.on_time", lang)
        fresh_rows.append(
            [
                label("dataset", f.dataset, lang),
                "—" if f.version is None else f.version,
                format_local_time(f.updated_at, tz),
                format_duration(f.age_s, lang),
                "—"
                if f.expected_interval_s is None
                else format_duration(f.expected_interval_s, lang),
                verdict,
            ]
        )
    job_rows = [
        [
            r.job_id,
            format_local_time(r.started_at, tz),
            format_local_time(r.finished_at, tz),
            html.Span(label("status", r.status, lang), className=r.status),
            "" if r.rows is None else format_count(r.rows),
            r.error or "",
        ]
        for r in runs
    ]
    batch_rows = [
        [
            b.id,
            b.kind,
            b.filename,
            label("status", b.status, lang),
            format_count(b.rows_read),
            format_count(b.rows_loaded),
            format_count(b.rows_quarantined),
            format_count(b.rows_duplicate),
            format_local_time(b.started_at, tz),
            b.message or "",
        ]
        for b in batches
    ]
    quarantine_rows = [
        [q.batch_id, q.kind, q.filename, q.row_number, q.reason, q.detail] for q in quarantined
    ]
    return (
        table(
            col("dataset", "version", "updated_at", "age", "expected", "late"),
            fresh_rows,
            empty=empty,
        ),
        table(col("job", "started", "finished", "status", "rows", "error"), job_rows, empty=empty),
        table(
            col(
                "id",
                "kind",
                "file",
                "status",
                "rows_read",
                "rows_loaded",
                "rows_quarantined",
                "rows_duplicate",
                "started",
                "message",
            ),
            batch_rows,
            empty=empty,
        ),
        table(
            col("batch", "kind", "file", "row", "reason", "detail"), quarantine_rows, empty=empty
        ),
    )
