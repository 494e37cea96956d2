"""The read-only JSON API under ``/api/v1/``: a Flask blueprint registered on the Dash server.

``GET /api/v1/health``  freshness of every dataset and the last run of every job; ``status`` is
                        ``degraded`` when a dataset is late or a job's last run failed. Always
                        HTTP 200: a late feed must not take the web server out of a load balancer.
``GET /api/v1/live``    what an open screen polls each tick: the build id and each dataset's last
                        write (:mod:`dashboard.live`); ``ETag``, so an unchanged answer is a
                        304; 503 when the database is unreachable.
``GET /api/v1/areas``   GeoJSON of one level of the hierarchy (``?level=...[&parent=CODE]``).
``GET /api/v1/risk/model``  the community-risk model in force (503 if its file is invalid).
``GET /api/v1/risk``    one day's risk scores (``?date=YYYY-MM-DD``, default the newest scored
                        day; ``&level=compound|committee|subdistrict``, default compound).
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from typing import Any
from zoneinfo import ZoneInfo

from flask import Blueprint, Response, jsonify, request
from sqlalchemy.exc import SQLAlchemyError

from dashboard import freshness, live, queries, risk, versions
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
    with session_scope(settings.database_url, snapshot=True) as session:
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
            "late": age is not None and age > 2 * interval + settings.scheduler_misfire_grace_s,
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


@blueprint.get("/live")
def live_state() -> Response | tuple[Response, int]:
    settings = get_settings()
    try:
        with session_scope(settings.database_url) as session:
            current = versions.current(session=session)
    except SQLAlchemyError as exc:  # every open screen asks each tick: one line, no traceback
        logger.warning("live check: database unreachable: %s", str(exc).splitlines()[0])
        return _error(503, "database unreachable; screens keep their last data, marked stale")
    body = live.payload(current, settings.dataset_expected_interval_s)
    response = jsonify(body)
    response.set_etag(live.etag(body))
    # Revalidate every time: the browser may keep the body but must ask whether it is current.
    response.headers["Cache-Control"] = "no-cache"
    return response.make_conditional(request)


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
    with session_scope(settings.database_url, snapshot=True) as session:
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


RISK_LEVELS = ("compound", "committee", "subdistrict")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@blueprint.get("/risk/model")
def risk_model() -> Response | tuple[Response, int]:
    """The model in force: its version, each indicator's key, names, weight, basis and cap, and
    the band edges. 503 when the model file breaks a rule: nothing can be explained by it."""
    try:
        model = risk.load_model()
    except risk.ModelError as exc:
        return _error(503, str(exc))
    return jsonify(
        {
            **model.to_dict(),
            "bands": {"red": {"min": risk.RED_AT}, "yellow": {"min": risk.YELLOW_AT}, "blue": {}},
            "weight_range": [risk.MIN_WEIGHT, risk.MAX_WEIGHT],
        }
    )


def _band_counts(counts: queries.BandCounts) -> dict[str, int]:
    return {
        "red": counts.red,
        "yellow": counts.yellow,
        "blue": counts.blue,
        "incomplete": counts.incomplete,
        "total": counts.total,
    }


@blueprint.get("/risk")
def risk_scores() -> Response | tuple[Response, int]:
    """One day's scores. Per compound: score (counting the indicators known), score_upper
    (missing ones at their worst), band, rank, complete. Per committee or subdistrict: how many
    of its compounds are in each band (``incomplete`` counts those of them whose score lacked
    an indicator, within their band), its worst compound, and its band: the worst band of its
    compounds, never an average that would hide a red one."""
    level = request.args.get("level") or "compound"
    if level not in RISK_LEVELS:
        return _error(
            400,
            f"unknown level {level!r}: give level= one of {', '.join(RISK_LEVELS)}",
            allowed_levels=list(RISK_LEVELS),
        )
    raw_date = request.args.get("date")
    day: dt.date | None = None
    if raw_date is not None:
        try:
            if not _ISO_DATE.fullmatch(raw_date):
                raise ValueError(raw_date)
            day = dt.date.fromisoformat(raw_date)
        except ValueError:
            return _error(400, f"date {raw_date!r} is not a date: give date=YYYY-MM-DD")
    scope = queries.AreaScope.whole_district()
    with session_scope(get_settings().database_url, snapshot=True) as session:
        if day is None:
            day = queries.latest_risk_date(session=session, scope=scope)
            if day is None:
                return _error(404, "no risk scores yet")
        if level == "compound":
            rows = queries.risk_scores_for(day, session=session, scope=scope)
            body: dict[str, Any] = {
                "compounds": [
                    {
                        "code": r.code,
                        "name": r.name,
                        "committee_code": r.committee_code,
                        "subdistrict_code": r.subdistrict_code,
                        "score": r.score,
                        "score_upper": r.score_upper,
                        "band": r.band,
                        "rank": r.rank,
                        "complete": r.complete,
                    }
                    for r in rows
                ]
            }
            found = bool(rows)
        else:
            areas = queries.area_risk(day, session=session, scope=scope, level=AreaLevel(level))
            body = {
                "areas": [
                    {
                        "code": a.code,
                        "name": a.name,
                        "band": a.band,
                        "counts": _band_counts(a.counts),
                        "worst": None
                        if a.worst is None
                        else {
                            "code": a.worst.code,
                            "name": a.worst.name,
                            "score": a.worst.score,
                            "band": a.worst.band,
                        },
                    }
                    for a in areas
                ]
            }
            found = any(a.counts.total for a in areas)
        latest = queries.latest_risk_date(session=session, scope=scope)
    if not found:
        return _error(
            404,
            f"no risk scores for {day.isoformat()}",
            latest_date=None if latest is None else latest.isoformat(),
        )
    return jsonify({"date": day.isoformat(), "level": level, **body})
