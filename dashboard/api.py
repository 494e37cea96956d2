"""The read-only JSON API under ``/api/v1/``: a Flask blueprint registered on the Dash server.

``GET /api/v1/health``  freshness of every dataset and the last run of every job; ``status`` is
                        ``degraded`` when a dataset is late or a job's last run failed. Always
                        HTTP 200: a late feed must not take the web server out of a load balancer.
``GET /api/v1/areas``   GeoJSON of one level of the hierarchy (``?level=...[&parent=CODE]``).
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request

from dashboard import freshness, queries, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.figures import feature_collection
from dashboard.jobs import enabled_jobs
from dashboard.models import AreaLevel, utcnow

logger = logging.getLogger(__name__)

blueprint = Blueprint("api_v1", __name__, url_prefix="/api/v1")

COORDINATE_DECIMALS = 6  # about 0.1 m: the API gives the stored geometry, not a display copy


def _iso(value: dt.datetime | None, tz: ZoneInfo) -> str | None:
    return None if value is None else value.astimezone(tz).isoformat(timespec="seconds")


def _age(value: dt.datetime | None, now: dt.datetime) -> float | None:
    return None if value is None else round(max(0.0, (now - value).total_seconds()), 1)


def _error(status: int, message: str, **details: Any) -> tuple[Response, int]:
    return jsonify({"error": message, **details}), status


def health_report(now: dt.datetime | None = None) -> dict[str, Any]:
    """The body of ``/api/v1/health`` (a function so the CLI or a probe can reuse it)."""
    settings = get_settings()
    tz = ZoneInfo(settings.timezone)
    now = now or utcnow()
    scope = queries.AreaScope.whole_district()
    with session_scope(settings.database_url) as session:
        current = versions.current(session=session)
        runs = queries.last_job_runs(session=session, scope=scope)
    datasets = {
        f.dataset: {
            "version": f.version,
            "updated_at": _iso(f.updated_at, tz),
            "age_s": None if f.age_s is None else round(f.age_s, 1),
            "expected_interval_s": f.expected_interval_s,
            "late": f.late,
        }
        for f in freshness.assess(current, settings.dataset_expected_interval_s, now=now)
    }
    jobs = {}
    for spec in enabled_jobs(settings):
        run = runs.get(spec.id)
        interval = spec.expected_interval_s(settings)
        age = _age(run.started_at, now) if run else None
        jobs[spec.id] = {
            "last_run_start": _iso(run.started_at, tz) if run else None,
            "status": run.status if run else None,
            "age_s": age,
            "expected_interval_s": interval,
            # A job that stopped running (a dead scheduler) is as bad as one that failed.
            "late": age is not None
            and age > 2 * interval + settings.scheduler_misfire_grace_s,
        }
    degraded = any(d["late"] for d in datasets.values()) or any(
        j["status"] == "failed" or j["late"] for j in jobs.values()
    )
    return {
        "status": "degraded" if degraded else "ok",
        "time": _iso(now, tz),
        "datasets": datasets,
        "jobs": jobs,
    }


@blueprint.get("/health")
def health() -> Response:
    return jsonify(health_report())


@blueprint.get("/areas")
def areas() -> Response | tuple[Response, int]:
    levels = [level.value for level in AreaLevel]
    raw_level = request.args.get("level", "")
    try:
        level = AreaLevel(raw_level)
    except ValueError:
        return _error(
            400,
            f"unknown level {raw_level!r}: give level= one of {', '.join(levels)}",
            allowed_levels=levels,
        )
    parent = request.args.get("parent") or None
    settings = get_settings()
    with session_scope(settings.database_url) as session:
        shapes = queries.areas(
            session=session,
            scope=queries.AreaScope.whole_district(),
            level=level,
            parent=parent,
        )
    return jsonify(
        feature_collection(
            shapes, precision=COORDINATE_DECIMALS, properties=True, include_empty=True
        )
    )
