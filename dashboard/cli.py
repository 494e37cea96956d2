"""``python -m dashboard …``: the product's command line.

Results go to standard output (what the operator asked for); diagnostics go to the log on
standard error. Exit codes: 0 done, 1 failed, 2 refused (bad input, nothing written).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

from dashboard.config import PROJECT_ROOT, get_settings

logger = logging.getLogger("dashboard.cli")


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _configure_logging(verbose: bool) -> None:
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)


# --------------------------------------------------------------------------- commands


def cmd_init_db(args) -> int:
    from dashboard import migrate

    migrate.upgrade()
    _out(f"database ready: {_safe_url()}")
    return 0


def cmd_demo(args) -> int:
    from dashboard import migrate

    migrate.upgrade()
    built = ensure_demo(seed=args.seed)
    if built is None:
        _out("the database already holds a district; the demo was not rebuilt "
             "(point DASHBOARD_DATABASE_URL at an empty database to build it again)")
        return 0
    _out("demo district built: " + ", ".join(f"{k} {v:,}" for k, v in built.items()))
    return 0


def ensure_demo(*, seed: int | None = None) -> dict[str, int] | None:
    """Build the demo district if the database holds no areas yet; counts, or None if present."""
    from sqlalchemy import func, select

    from dashboard.db import session_scope
    from dashboard.demo import build_demo, write_demo
    from dashboard.models import Area

    settings = get_settings()
    with session_scope() as session:
        if session.scalar(select(func.count()).select_from(Area)):
            return None
    started = time.perf_counter()
    # The registers stand as at this moment of the local day (shops open in the morning...).
    now = dt.datetime.now(ZoneInfo(settings.timezone))
    district = build_demo(
        seed if seed is not None else settings.demo_seed, today=now.date(), now=now
    )
    with session_scope() as session:
        counts = write_demo(district, session=session)
    logger.info("demo district built in %.1f s", time.perf_counter() - started)
    return counts


def cmd_import(args) -> int:
    from dashboard.db import session_scope
    from dashboard.ingest import KINDS, FileRejected, load_file, record_rejection

    path = Path(args.file)
    if args.kind not in KINDS:
        _out(f"unknown kind {args.kind!r}; known kinds: {', '.join(sorted(KINDS))}")
        return 2
    if not path.is_file():
        _out(f"no such file: {path}")
        return 2
    try:
        with session_scope() as session:
            report = load_file(
                args.kind,
                path,
                session=session,
                crs=args.crs,
                convert_gcj02=args.convert_gcj02,
                level=args.level,
            )
    except FileRejected as exc:
        with session_scope() as session:
            record_rejection(args.kind, path, str(exc), session=session)
        _out(f"refused, nothing written: {exc}")
        return 2
    _out(report.summary())
    return 0


def cmd_jobs_list(args) -> int:
    from dashboard.jobs import JOBS

    settings = get_settings()
    for spec in JOBS.values():
        state = "enabled" if spec.enabled(settings) else "disabled"
        _out(f"{spec.id:<20} {state:<9} {spec.trigger(settings)}  {spec.description}")
    return 0


def cmd_jobs_run(args) -> int:
    from dashboard.jobs import JOBS, run_job

    if args.name not in JOBS:
        _out(f"unknown job {args.name!r}; known jobs: {', '.join(JOBS)}")
        return 2
    run = run_job(args.name, scheduler_id=None)
    assert run is not None  # manual runs have no slot to collide on
    _out(f"{run.job_id}: {run.status}, rows={run.rows}, "
         f"{(run.finished_at - run.started_at).total_seconds():.2f} s")
    if run.error:
        _out(run.error)
    return 0 if run.status == "ok" else 1


def cmd_scheduler(args) -> int:
    from dashboard import migrate
    from dashboard.scheduler import LockedScheduler

    migrate.upgrade()
    LockedScheduler().run_forever()
    return 0


def cmd_serve(args) -> int:
    """Development / single-machine server: migrate, demo if empty, scheduler in-process, serve."""
    from dashboard import migrate
    from dashboard.scheduler import LockedScheduler

    settings = get_settings()
    migrate.upgrade()
    if settings.demo:
        built = ensure_demo()
        if built:
            logger.info("demo district built: %s", built)
    scheduler = None
    if not args.no_scheduler:
        scheduler = LockedScheduler(settings)
        scheduler.start()
    if str(PROJECT_ROOT) not in sys.path:
        sys.path.insert(0, str(PROJECT_ROOT))
    import app as web  # noqa: PLC0415 - the web layer is imported only by the command that serves it

    host, port = args.host or settings.host, args.port or settings.port
    logger.info("serving the wall screen on http://%s:%s", host, port)
    try:
        web.app.run(host=host, port=port, debug=False)
    finally:
        if scheduler:
            scheduler.stop()
    return 0


def cmd_health(args) -> int:
    """The health report as JSON; exit 1 when degraded, so a cron probe can alert on it."""
    from dashboard.api import health_report

    report = health_report()
    _out(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["status"] == "ok" else 1


def _parse_day(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from None


def cmd_risk_score(args) -> int:
    """Score one day by hand, as the nightly job does; replaces that day's scores."""
    from dashboard import risk
    from dashboard.db import session_scope

    settings = get_settings()
    try:
        model = risk.load_model(settings.risk_model_path)
    except risk.ModelError as exc:
        _out(f"refused, nothing scored: {exc}")
        return 2
    started = time.perf_counter()
    try:
        with session_scope() as session:
            scores = risk.score_day(
                args.date, session=session, model=model, carry_days=settings.risk_carry_forward_days
            )
    except (risk.NoCompounds, risk.ModelError) as exc:
        _out(f"refused, nothing scored: {exc}")
        return 2
    bands = ", ".join(f"{b} {int((scores.band == b).sum()):,}" for b in risk.BANDS)
    _out(
        f"risk {args.date} scored with model {model.version}: {len(scores):,} compounds "
        f"({bands}); incomplete {int((~scores.complete).sum()):,}; "
        f"{time.perf_counter() - started:.2f} s"
    )
    return 0


def cmd_risk_export(args) -> int:
    """One scored day as CSV, by rank, with the three indicators that drove each score."""
    from dashboard import risk
    from dashboard.db import session_scope

    with session_scope() as session:
        frame = risk.export_frame(args.date, session=session)
    if frame.empty:
        _out(f"no risk scores for {args.date}; score it first: risk score --date {args.date}")
        return 2
    if args.out:
        # A BOM, so that Excel on a Chinese Windows reads the names as UTF-8.
        frame.to_csv(args.out, index=False, encoding="utf-8-sig", float_format="%.2f")
        _out(f"{len(frame):,} compounds written to {args.out}")
    else:
        sys.stdout.write(frame.to_csv(index=False, float_format="%.2f"))
        sys.stdout.flush()
    return 0


def cmd_risk_check_model(args) -> int:
    """Validate a model file before putting it in force; prints the model or why it is refused."""
    from dashboard import risk

    try:
        model = risk.load_model(args.file)
    except risk.ModelError as exc:
        _out(f"refused: {exc}")
        return 2
    _out(f"risk model {model.version}: {len(model.indicators)} indicators, valid")
    _out(f"{'key':<22} {'weight':>6}  {'basis':<18} {'cap':>6}  name")
    for i in model.indicators:
        _out(f"{i.key:<22} {i.weight:>6.2f}  {i.basis:<18} {i.cap:>6g}  {i.name_zh} / {i.name_en}")
    return 0


def _refuse(message: str) -> int:
    """A one-line reason on standard error, exit code 2 (bad input, nothing done)."""
    sys.stderr.write(f"refused: {message}\n")
    sys.stderr.flush()
    return 2


def read_series_csv(
    path: Path, *, time_col: str, value_col: str, bookings_col: str | None, times_in: str
):
    """Counts (and bookings) from a CSV as tz-aware series; ValueError says what is wrong."""
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (OSError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise ValueError(f"cannot read {path}: {exc}") from None
    wanted = [time_col, value_col, *([bookings_col] if bookings_col else [])]
    missing = [c for c in wanted if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{path.name} has no column {', '.join(map(repr, missing))}; "
            f"it has {', '.join(map(repr, frame.columns))}"
        )
    try:
        times = pd.to_datetime(frame[time_col].str.strip(), format="ISO8601")
    except (ValueError, TypeError) as exc:
        raise ValueError(f"column {time_col!r} holds a time that cannot be read: {exc}") from None
    if times.dt.tz is None:
        try:
            times = times.dt.tz_localize(times_in, ambiguous="infer", nonexistent="shift_forward")
        except Exception:  # noqa: BLE001 - pytz/zoneinfo raise several kinds; fall back below
            # A repeated autumn hour written once: read it as the first of the two.
            times = times.dt.tz_localize(times_in, ambiguous=True, nonexistent="shift_forward")
    index = pd.DatetimeIndex(times).tz_convert("UTC")

    def column(name: str):
        values = pd.to_numeric(frame[name].str.strip().replace("", None), errors="coerce")
        if values.isna().any():
            logger.warning("%s: %d rows without a number in %r are read as missing",
                           path.name, int(values.isna().sum()), name)
        return pd.Series(values.to_numpy(float), index=index)

    return column(value_col), column(bookings_col) if bookings_col else None


def cmd_forecast_backtest(args) -> int:
    """Rolling-origin MASE of the station forecast and of the two seasonal naives, as JSON."""
    from zoneinfo import ZoneInfoNotFoundError

    from dashboard import forecast
    from dashboard.holidays import day_type, weekdays_only

    settings = get_settings()
    path = Path(args.file)
    if not path.is_file():
        return _refuse(f"no such file: {path}")
    tz_name = args.tz or settings.timezone
    try:
        tz = ZoneInfo(tz_name)
        ZoneInfo(args.times_in or tz_name)
    except (ZoneInfoNotFoundError, ValueError):
        return _refuse(f"unknown time zone {args.tz or args.times_in!r}")
    if not 1 <= args.horizon <= 24:
        return _refuse(f"--horizon must be 1 to 24 hours, not {args.horizon}")
    if args.origins < 1:
        return _refuse(f"--origins must be at least 1, not {args.origins}")
    try:
        values, bookings = read_series_csv(
            path,
            time_col=args.time_col,
            value_col=args.value_col,
            bookings_col=args.bookings_col,
            times_in=args.times_in or tz_name,
        )
        result = forecast.backtest(
            values,
            bookings=bookings,
            horizon=args.horizon,
            origins=args.origins,
            tz=tz,
            calendar=day_type if args.calendar == "cn" else weekdays_only,
            params=forecast.ModelParams.from_settings(settings),
        )
    except (ValueError, forecast.ForecastError) as exc:
        return _refuse(str(exc).splitlines()[0])
    _out(json.dumps({"file": path.name, **result}, ensure_ascii=False, indent=2))
    return 0


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    return make_url(get_settings().database_url).render_as_string(hide_password=True)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m dashboard", description=__doc__.splitlines()[0])
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub.add_parser("init-db", help="create or migrate the database schema").set_defaults(
        func=cmd_init_db
    )

    demo = sub.add_parser("demo", help="build the demo district into an empty database")
    demo.add_argument("--seed", type=int, default=None, help="seed (default: settings.demo_seed)")
    demo.set_defaults(func=cmd_demo)

    imp = sub.add_parser("import", help="load a feed file through the ingestion path")
    imp.add_argument("kind", help="kind of feed (areas, indicators, pings, enterprises, ...)")
    imp.add_argument("file", help="CSV, Excel (.xlsx) or GeoJSON file")
    imp.add_argument("--crs", help="coordinate system of the file, e.g. EPSG:4326 or GCJ-02")
    imp.add_argument(
        "--convert-gcj02", action="store_true", help="convert GCJ-02 coordinates to WGS84"
    )
    imp.add_argument("--level", help="areas only: district, subdistrict, committee or compound")
    imp.set_defaults(func=cmd_import)

    jobs = sub.add_parser("jobs", help="list or run the scheduled jobs")
    jobs_sub = jobs.add_subparsers(dest="jobs_command", required=True, metavar="ACTION")
    jobs_sub.add_parser("list", help="the jobs and their triggers").set_defaults(
        func=cmd_jobs_list
    )
    run = jobs_sub.add_parser("run", help="run one job now (recorded like a scheduled run)")
    run.add_argument("name")
    run.set_defaults(func=cmd_jobs_run)

    sub.add_parser(
        "scheduler", help="run the scheduler (one per database; a second one waits)"
    ).set_defaults(func=cmd_scheduler)

    serve = sub.add_parser("serve", help="serve the app with the scheduler in-process (make run)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.add_argument("--no-scheduler", action="store_true", help="do not run jobs here")
    serve.set_defaults(func=cmd_serve)

    risk = sub.add_parser("risk", help="community risk: score a day, export it, check a model")
    risk_sub = risk.add_subparsers(dest="risk_command", required=True, metavar="ACTION")
    score = risk_sub.add_parser(
        "score", help="score one day (replaces its scores), as the nightly job does"
    )
    score.add_argument("--date", type=_parse_day, required=True, help="the day, YYYY-MM-DD")
    score.set_defaults(func=cmd_risk_score)
    export = risk_sub.add_parser(
        "export", help="one scored day as CSV, by rank, with the three largest contributions"
    )
    export.add_argument("--date", type=_parse_day, required=True, help="the day, YYYY-MM-DD")
    export.add_argument("--out", type=Path, help="CSV file to write (default: standard output)")
    export.set_defaults(func=cmd_risk_export)
    check = risk_sub.add_parser("check-model", help="validate a risk model file (exit 2 if not)")
    check.add_argument(
        "file", nargs="?", type=Path, default=None, help="default: settings.risk_model_path"
    )
    check.set_defaults(func=cmd_risk_check_model)

    fc = sub.add_parser("forecast", help="station passenger-flow forecast")
    fc_sub = fc.add_subparsers(dest="forecast_command", required=True, metavar="ACTION")
    bt = fc_sub.add_parser(
        "backtest",
        help="rolling-origin MASE of the forecast and the 24 h / 168 h seasonal naive (JSON)",
        description="Origins are the last ORIGINS local midnights whose HORIZON hours lie in "
        "the file (docs/forecast.md). Finer series are summed to whole hours; missing hours "
        "stay missing. Exit 2 with a one-line reason on bad input.",
    )
    bt.add_argument("file", help="CSV with a time column and a count column")
    bt.add_argument("--time-col", required=True, help="column of the (start) times")
    bt.add_argument("--value-col", required=True, help="column of the counts")
    bt.add_argument("--bookings-col", help="column of the bookings for each hour (optional)")
    bt.add_argument("--horizon", type=int, default=24, help="hours forecast (1-24; default 24)")
    bt.add_argument("--origins", type=int, default=28, help="daily origins (default 28)")
    bt.add_argument(
        "--tz", help="time zone of the series' local days (default: settings.timezone)"
    )
    bt.add_argument(
        "--times-in", help="time zone of times written without an offset (default: --tz)"
    )
    bt.add_argument(
        "--calendar",
        choices=["cn", "none"],
        default="cn",
        help="holidays: China's official calendar (default) or none (weekends only)",
    )
    bt.set_defaults(func=cmd_forecast_backtest)

    sub.add_parser("health", help="print the health report as JSON").set_defaults(
        func=cmd_health
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    return args.func(args)
