"""Community risk: the 13-indicator red / yellow / blue model (疫情动态分析模型).

Where the rules live, in one file:

- the model is data (``data/risk_model.json``): each indicator's key, names, weight, basis and
  cap; :func:`validate` holds the rules a model must obey (weights 3–20 %, summing to 1);
- sub-score = 100 × min(max(basis value, 0) / cap, 1); score = Σ weight × sub-score;
- band from the unrounded score: ≥ 60 red, ≥ 40 yellow, else blue (:func:`band_of`);
- a missing value is never a zero: the latest value of the previous ``carry_days`` days is carried
  forward, older than that it stays missing, the score counts only what is known and is marked
  incomplete, and ``upper`` says what it would be with every missing indicator at its worst;
- rank 1 is the highest score of the day, ties share the best rank.

The arithmetic (:func:`sub_scores`, :func:`score`) is pure numpy so that scoring 13,000 compounds
takes milliseconds and a what-if re-weighting can run inside a web request. The data access
(:func:`day_inputs`, :func:`score_day`, :func:`export_frame`) takes ``*, session`` and never
commits. The reasoning behind the weights and caps is in ``docs/risk_model.md``.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import delete, exists, func, insert, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, aliased

from dashboard.config import get_settings
from dashboard.indicators import INDICATOR_KEYS
from dashboard.models import (
    Area,
    AreaLevel,
    ImportBatch,
    IndicatorValue,
    RiskModelVersion,
    RiskScore,
    utcnow,
)
from dashboard.versions import bump

logger = logging.getLogger(__name__)

RED_AT = 60.0
YELLOW_AT = 40.0
BANDS = ("red", "yellow", "blue")
BASES = ("count", "per_1000_residents", "ratio")
MIN_WEIGHT, MAX_WEIGHT = 0.03, 0.20

WEIGHT_TOLERANCE = 1e-9  # a weight written as 0.2 may arrive as 0.20000000000000001
SUM_TOLERANCE = 1e-6
# Thirteen weights summing to 1 in floating point give 0.9999999999999999 or 1.0000000000000004,
# so a compound exactly at 60 % of every cap would land at 59.99999999999999. The band compares
# with this much slack: noise never flips a band, any real difference (59.999) still does.
BAND_TOLERANCE = 1e-9
VERSION_MAX_LENGTH = 40  # risk_models.version


class ModelError(ValueError):
    """A risk model that breaks a rule; the message names the offending indicator(s)."""


class NoCompounds(LookupError):
    """There is no compound to score (the district's areas have not been loaded)."""


# --------------------------------------------------------------------------- the model


@dataclass(frozen=True)
class Indicator:
    key: str
    name_zh: str
    name_en: str
    weight: float
    basis: str
    cap: float


@dataclass(frozen=True)
class RiskModel:
    """A versioned model: its indicators in the order the feed and the screen list them."""

    version: str
    indicators: tuple[Indicator, ...]

    @cached_property
    def keys(self) -> tuple[str, ...]:
        return tuple(i.key for i in self.indicators)

    @cached_property
    def weights(self) -> np.ndarray:
        return _frozen(np.array([i.weight for i in self.indicators], dtype=float))

    @cached_property
    def caps(self) -> np.ndarray:
        return _frozen(np.array([i.cap for i in self.indicators], dtype=float))

    @cached_property
    def per_1000(self) -> np.ndarray:
        """Which indicators are counted per 1,000 residents of the compound (k booleans)."""
        return _frozen(np.array([i.basis == "per_1000_residents" for i in self.indicators]))

    def indicator(self, key: str) -> Indicator:
        for item in self.indicators:
            if item.key == key:
                return item
        raise KeyError(f"no indicator {key!r} in risk model {self.version}")

    def with_weights(self, weights: Mapping[str, float], version: str | None = None) -> RiskModel:
        """The same model with other weights (what-if), validated by the same rules.

        Keys not in ``weights`` keep their weight; an unknown key is refused. The new model is
        named ``version`` or ``<version>+custom``, so it can never pass for the model in force.
        """
        unknown = [k for k in weights if k not in self.keys]
        if unknown:
            raise ModelError(
                f"indicator {unknown[0]!r}: not in risk model {self.version} "
                f"(its indicators: {', '.join(self.keys)})"
            )
        for key, value in weights.items():
            if not _is_number(value):
                raise ModelError(f"indicator {key!r}: weight {value!r} is not a number")
        model = RiskModel(
            # Cut so that "+custom" fits the 40 characters a version may have.
            version=version or f"{self.version[:33]}+custom",
            indicators=tuple(
                replace(i, weight=float(weights[i.key])) if i.key in weights else i
                for i in self.indicators
            ),
        )
        validate(model)
        return model

    def to_dict(self) -> dict[str, Any]:
        return {
            "version": self.version,
            "indicators": [
                {
                    "key": i.key,
                    "name_zh": i.name_zh,
                    "name_en": i.name_en,
                    "weight": i.weight,
                    "basis": i.basis,
                    "cap": i.cap,
                }
                for i in self.indicators
            ],
        }

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> RiskModel:
        """Build and validate a model from its JSON form; :class:`ModelError` if it is not one."""
        if not isinstance(d, Mapping):
            raise ModelError("a risk model is a JSON object with 'version' and 'indicators'")
        version = d.get("version")
        if not isinstance(version, str) or not version.strip():
            raise ModelError("the model needs a 'version' (a non-empty text, e.g. \"2020.1\")")
        items = d.get("indicators")
        if not isinstance(items, list) or not items:
            raise ModelError("the model needs 'indicators', a non-empty list")
        errors: list[str] = []
        indicators = []
        for n, item in enumerate(items, start=1):
            indicator, problems = _indicator_from_dict(n, item)
            errors.extend(problems)
            if indicator is not None:
                indicators.append(indicator)
        if errors:
            raise ModelError("; ".join(errors))
        model = cls(version=version.strip(), indicators=tuple(indicators))
        validate(model)
        return model


def _frozen(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)  # cached on a frozen model: nobody may change it in place
    return array


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float)
        and not isinstance(value, bool)
        and math.isfinite(float(value))
    )


def _indicator_from_dict(n: int, item: Any) -> tuple[Indicator | None, list[str]]:
    """One indicator from its JSON form, or the reasons it is not one (named by key)."""
    if not isinstance(item, Mapping):
        return None, [f"indicator #{n}: not an object"]
    key = item.get("key")
    if not isinstance(key, str) or not key.strip():
        return None, [f"indicator #{n}: no 'key'"]
    name = f"indicator {key!r}"
    problems = []
    for field in ("name_zh", "name_en", "basis"):
        if not isinstance(item.get(field), str) or not item[field].strip():
            problems.append(f"{name}: '{field}' must be a non-empty text")
    for field in ("weight", "cap"):
        if not _is_number(item.get(field)):
            problems.append(f"{name}: '{field}' must be a number, not {item.get(field)!r}")
    if problems:
        return None, problems
    return (
        Indicator(
            key=key.strip(),
            name_zh=item["name_zh"].strip(),
            name_en=item["name_en"].strip(),
            weight=float(item["weight"]),
            basis=item["basis"].strip(),
            cap=float(item["cap"]),
        ),
        [],
    )


def validate(model: RiskModel) -> None:
    """Raise :class:`ModelError` naming every indicator that breaks a rule.

    The rules: keys unique and columns of the indicators feed; basis one of :data:`BASES`; cap a
    positive number, at most 1 for a ratio (a share can be no worse than everyone); every weight
    within [0.03, 0.20]; the weights sum to 1. All problems are reported at once, so a file is
    fixed in one go.
    """
    errors: list[str] = []
    if not model.version or len(model.version) > VERSION_MAX_LENGTH:
        errors.append(f"version {model.version!r} must be 1 to {VERSION_MAX_LENGTH} characters")
    if not model.indicators:
        raise ModelError("the model has no indicators")
    seen: set[str] = set()
    for i in model.indicators:
        name = f"indicator {i.key!r}"
        if i.key in seen:
            errors.append(f"{name}: listed more than once")
        seen.add(i.key)
        if i.key not in INDICATOR_KEYS:
            errors.append(
                f"{name}: not a column of the indicators feed, so it could never have a value "
                f"(known: {', '.join(INDICATOR_KEYS)})"
            )
        if i.basis not in BASES:
            errors.append(f"{name}: basis {i.basis!r} is not one of {', '.join(BASES)}")
        if not _is_number(i.cap) or i.cap <= 0:
            errors.append(f"{name}: cap {i.cap!r} must be a number above 0")
        elif i.basis == "ratio" and i.cap > 1:
            errors.append(f"{name}: cap {i.cap:g} of a ratio must be at most 1")
        if not _is_number(i.weight):
            errors.append(f"{name}: weight {i.weight!r} is not a number")
        elif i.weight < MIN_WEIGHT - WEIGHT_TOLERANCE:
            errors.append(
                f"{name}: weight {i.weight:g} is below the minimum {MIN_WEIGHT:g} "
                f"(every weight is within {MIN_WEIGHT:g}–{MAX_WEIGHT:g})"
            )
        elif i.weight > MAX_WEIGHT + WEIGHT_TOLERANCE:
            errors.append(
                f"{name}: weight {i.weight:g} is above the maximum {MAX_WEIGHT:g} "
                f"(every weight is within {MIN_WEIGHT:g}–{MAX_WEIGHT:g})"
            )
    if not errors:
        total = math.fsum(i.weight for i in model.indicators)
        if abs(total - 1.0) > SUM_TOLERANCE:
            listed = ", ".join(f"{i.key} {i.weight:g}" for i in model.indicators)
            errors.append(f"weights sum to {total:.6g}, not 1 ({listed})")
    if errors:
        raise ModelError("; ".join(errors))


def load_model(path: Path | None = None) -> RiskModel:
    """The model in force, read from ``path`` (default: setting ``risk_model_path``) and
    validated. Read on every run, so a corrected file takes effect without a restart, and a
    broken one is refused before anything is scored (yesterday's scores stay)."""
    path = Path(path if path is not None else get_settings().risk_model_path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except OSError as exc:
        raise ModelError(f"{path}: cannot read the risk model: {exc.strerror or exc}") from exc
    try:
        data = json.loads(text, parse_constant=_no_constant)
    except ValueError as exc:
        raise ModelError(f"{path}: not valid JSON: {exc}") from exc
    try:
        return RiskModel.from_dict(data)
    except ModelError as exc:
        raise ModelError(f"{path}: {exc}") from exc


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a model may hold")


def stored_model(version: str, *, session: Session) -> RiskModel | None:
    """A model version as it was when it scored, from ``risk_models`` (None if never used)."""
    definition = session.scalar(
        select(RiskModelVersion.definition).where(RiskModelVersion.version == version)
    )
    return None if definition is None else RiskModel.from_dict(definition)


# --------------------------------------------------------------------------- the arithmetic


def band_of(score: float | np.ndarray) -> str | np.ndarray:
    """red / yellow / blue from the unrounded score (59.999 is yellow even if shown as 60.00)."""
    s = np.asarray(score, dtype=float)
    band = np.where(
        s >= RED_AT - BAND_TOLERANCE,
        "red",
        np.where(s >= YELLOW_AT - BAND_TOLERANCE, "yellow", "blue"),
    )
    return str(band) if band.ndim == 0 else band.astype(object)


def sub_scores(values: np.ndarray, population: np.ndarray, model: RiskModel) -> np.ndarray:
    """n×k sub-scores 0..100 from raw values (NaN = missing, and stays NaN).

    A per-1,000 indicator of a compound whose population is unknown or 0 is missing too: a
    rate cannot be made up, and dividing by zero would make any case the worst possible.
    """
    v = np.asarray(values, dtype=float)
    pop = np.asarray(population, dtype=float)
    if v.ndim != 2 or v.shape[1] != len(model.indicators) or pop.shape != (v.shape[0],):
        raise ValueError(
            f"values must be n×{len(model.indicators)} and population n; "
            f"got {v.shape} and {pop.shape}"
        )
    basis = v.copy()
    per = model.per_1000
    if per.any():
        with np.errstate(divide="ignore", invalid="ignore"):
            rate = v[:, per] / pop[:, None] * 1000.0
        rate[~(pop > 0)] = np.nan
        basis[:, per] = rate
    # np.maximum / np.minimum propagate NaN: a missing value never becomes 0 or 100 here.
    return 100.0 * np.minimum(np.maximum(basis, 0.0) / model.caps, 1.0)


@dataclass(frozen=True)
class Scores:
    """One day's scores, one row per compound, every array aligned with ``codes``."""

    codes: np.ndarray
    score: np.ndarray
    upper: np.ndarray
    band: np.ndarray
    rank: np.ndarray
    complete: np.ndarray
    sub: np.ndarray  # n×k, NaN where missing

    def __len__(self) -> int:
        return len(self.codes)

    def contributions(self, model: RiskModel) -> np.ndarray:
        """n×k points of the 0–100 score each indicator gives (weight × sub-score)."""
        return self.sub * model.weights

    def frame(self, model: RiskModel) -> pd.DataFrame:
        frame = pd.DataFrame(
            {
                "compound_code": self.codes,
                "score": self.score,
                "upper": self.upper,
                "band": self.band,
                "rank": self.rank,
                "complete": self.complete,
            }
        )
        for j, key in enumerate(model.keys):
            frame[f"sub_{key}"] = self.sub[:, j]
        return frame


def score(
    codes: Sequence[str] | np.ndarray,
    values: np.ndarray,
    population: np.ndarray,
    model: RiskModel,
) -> Scores:
    """Score compounds: known indicators count, missing ones raise only the upper bound.

    ``score`` is a lower bound when something is missing (the missing indicators could only add
    to it); ``upper`` adds them at their worst. Rank 1 is the highest score; equal scores share
    the best rank ("min"), over all the compounds given.
    """
    codes = np.asarray(codes, dtype=object)
    sub = sub_scores(values, population, model)
    if len(codes) != sub.shape[0]:
        raise ValueError(f"{len(codes)} codes for {sub.shape[0]} rows of values")
    w = model.weights
    missing = np.isnan(sub)
    total = np.where(missing, 0.0, sub) @ w
    upper = total + missing @ (w * 100.0)
    ordered = np.sort(total)
    rank = len(total) - np.searchsorted(ordered, total, side="right") + 1
    return Scores(
        codes=codes,
        score=total,
        upper=upper,
        band=band_of(total),
        rank=rank.astype(np.int64),
        complete=~missing.any(axis=1),
        sub=sub,
    )


# --------------------------------------------------------------------------- one day, stored


@dataclass(frozen=True)
class DayInputs:
    """What one day is scored from: every compound, every indicator of the model."""

    date: dt.date
    codes: np.ndarray
    values: np.ndarray  # n×k, NaN = missing even after carrying forward
    carried: np.ndarray  # n×k bool: the value is an earlier day's
    population: np.ndarray  # n, NaN = unknown


def day_inputs(day: dt.date, *, session: Session, model: RiskModel, carry_days: int) -> DayInputs:
    """Every compound's values for ``day``, late returns carried forward up to ``carry_days``.

    Three queries (the compounds; the day's values; the earlier days' values, oldest first),
    then numpy: a cell the day left blank takes the latest value of [day − carry_days, day − 1]
    and is marked carried. A compound with no values at all still appears, all missing. Dates
    are never fetched (the order does the work): parsing 300,000 dates cost more than scoring.
    """
    if carry_days < 0:
        raise ValueError("carry_days must be 0 or more")
    areas = session.execute(
        select(Area.code, Area.population)
        .where(Area.level == AreaLevel.COMPOUND)
        .order_by(Area.code)
    ).all()
    codes = np.array([a.code for a in areas], dtype=object)
    population = np.array(
        [np.nan if a.population is None else a.population for a in areas], dtype=float
    )
    n, k = len(codes), len(model.keys)
    values = np.full((n, k), np.nan)
    carried = np.zeros((n, k), dtype=bool)
    if n == 0:
        return DayInputs(day, codes, values, carried, population)
    code_index, key_index = pd.Index(codes), pd.Index(model.keys)
    columns = (IndicatorValue.compound_code, IndicatorValue.indicator, IndicatorValue.value)
    wanted = IndicatorValue.indicator.in_(model.keys)

    def cells(rows: Sequence[Any]) -> tuple[np.ndarray, np.ndarray]:
        """Flat cell numbers (row × k + column) and values; areas that are not compounds
        (or no longer) are dropped."""
        if not rows:
            return np.empty(0, dtype=np.int64), np.empty(0)
        code, indicator, value = zip(*rows, strict=True)
        i = code_index.get_indexer(code)
        j = key_index.get_indexer(indicator)
        keep = i >= 0
        return (i * k + j)[keep], np.asarray(value, dtype=float)[keep]

    own, own_values = cells(
        session.execute(select(*columns).where(IndicatorValue.date == day, wanted)).all()
    )
    values.flat[own] = own_values
    if carry_days:
        # Only cells the day left blank: the day's own values are most of the window's rows.
        same_day = aliased(IndicatorValue)
        earlier = session.execute(
            select(*columns)
            .where(
                IndicatorValue.date >= day - dt.timedelta(days=carry_days),
                IndicatorValue.date < day,
                wanted,
                ~exists().where(
                    same_day.date == day,
                    same_day.compound_code == IndicatorValue.compound_code,
                    same_day.indicator == IndicatorValue.indicator,
                ),
            )
            .order_by(IndicatorValue.date)
        ).all()
        flat, old_values = cells(earlier)
        # The latest of each cell: first occurrence in the reversed (newest-first) order.
        _, first = np.unique(flat[::-1], return_index=True)
        latest = len(flat) - 1 - first
        flat, old_values = flat[latest], old_values[latest]
        blank = np.isnan(values.flat[flat])
        values.flat[flat[blank]] = old_values[blank]
        carried.flat[flat[blank]] = True
    return DayInputs(date=day, codes=codes, values=values, carried=carried, population=population)


def score_day(
    day: dt.date,
    *,
    session: Session,
    model: RiskModel,
    now: dt.datetime | None = None,
    carry_days: int | None = None,
) -> Scores:
    """Score ``day`` and replace its stored scores, inside the caller's transaction.

    The day's rows are deleted and the new ones inserted in the same transaction, with the data
    version "risk" bumped, so a reader sees the old day or the new one, never half of each; a
    failure leaves the old day as it was. ``now`` is recorded as ``computed_at``: pass the time
    *before* the values are read (the default), which the catch-up job compares with the time
    indicator files were loaded. Raises :class:`NoCompounds` if there is nothing to score, and
    :class:`ModelError` if the model's version is already stored with another definition.
    """
    if carry_days is None:
        carry_days = get_settings().risk_carry_forward_days
    now = now or utcnow()
    _serialise_day(day, session=session)
    inputs = day_inputs(day, session=session, model=model, carry_days=carry_days)
    if len(inputs.codes) == 0:
        raise NoCompounds("no compounds to score: load the compound boundaries first")
    scores = score(inputs.codes, inputs.values, inputs.population, model)
    _record_model(model, session=session, now=now)
    session.execute(delete(RiskScore).where(RiskScore.date == day))
    _insert_scores(session, _score_records(day, model, scores, inputs, now))
    bump("risk", session=session, at=now)
    session.flush()
    counts = {b: int((scores.band == b).sum()) for b in BANDS}
    logger.info(
        "risk %s scored with model %s: %s compounds (red %s, yellow %s, blue %s; incomplete %s)",
        day,
        model.version,
        len(scores),
        counts["red"],
        counts["yellow"],
        counts["blue"],
        int((~scores.complete).sum()),
    )
    return scores


def _serialise_day(day: dt.date, *, session: Session) -> None:
    """Let only one scoring of a day run at a time (the nightly run, the catch-up and a by-hand
    `risk score` can meet). Taken first, before anything is read, and held to the commit.

    PostgreSQL: a transaction-level advisory lock on the day. SQLite: a first write (deleting the
    day's rows) takes the database's write lock, so a second scorer waits for the first's commit
    and then reads what it wrote, instead of failing on a stale snapshot.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_DAY_LOCK_BASE + day.toordinal())))
    else:
        session.execute(delete(RiskScore).where(RiskScore.date == day))


_DAY_LOCK_BASE = 0x52_49_53_4B << 24  # "RISK": keeps these lock keys apart from any other use


def _record_model(model: RiskModel, *, session: Session, now: dt.datetime) -> None:
    """Keep the model's definition under its version; refuse a changed model under an old name,
    which would silently rewrite the explanation of every score that version produced."""
    definition = model.to_dict()
    table = RiskModelVersion.__table__
    dialect = session.get_bind().dialect.name
    ins = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(table)
    # Two scorers recording a new version at once: the second's insert does nothing.
    session.execute(
        ins.values(version=model.version, definition=definition, first_used_at=now)
        .on_conflict_do_nothing(index_elements=["version"])
    )
    stored = session.scalar(
        select(RiskModelVersion.definition).where(RiskModelVersion.version == model.version)
    )
    if stored != definition:
        before = {d.get("key"): d for d in stored.get("indicators", [])}
        changed = [d["key"] for d in definition["indicators"] if before.get(d["key"]) != d]
        changed += [key for key in before if key not in model.keys]
        raise ModelError(
            f"model version {model.version!r} already scored with another definition"
            + (f" (changed: {', '.join(map(str, changed))})" if changed else "")
            + "; give the changed model a new version"
        )


def _score_records(
    day: dt.date, model: RiskModel, scores: Scores, inputs: DayInputs, now: dt.datetime
) -> list[dict[str, Any]]:
    keys = model.keys
    missing = np.isnan(scores.sub)
    # Python floats and None (JSON null), never NaN: PostgreSQL's JSON refuses NaN.
    sub = np.where(missing, None, scores.sub).tolist()
    score_list, upper = scores.score.tolist(), scores.upper.tolist()
    band, rank, complete = scores.band.tolist(), scores.rank.tolist(), scores.complete.tolist()
    carried = inputs.carried & ~missing
    records = []
    for r, code in enumerate(scores.codes.tolist()):
        row_missing, row_carried = missing[r], carried[r]
        records.append(
            {
                "date": day,
                "compound_code": code,
                "model_version": model.version,
                "score": score_list[r],
                "score_upper": upper[r],
                "band": band[r],
                "rank": rank[r],
                "complete": complete[r],
                "subscores": dict(zip(keys, sub[r], strict=True)),
                "missing": [keys[j] for j in np.flatnonzero(row_missing)],
                "carried": [keys[j] for j in np.flatnonzero(row_carried)],
                "computed_at": now,
            }
        )
    return records


INSERT_CHUNK = 5_000


def _insert_scores(session: Session, records: list[dict[str, Any]]) -> None:
    """Bulk insert in chunks (tests replace it to fail half-way through a day)."""
    table = RiskScore.__table__
    for start in range(0, len(records), INSERT_CHUNK):
        session.execute(insert(table), records[start : start + INSERT_CHUNK])


# --------------------------------------------------------------------------- what is due

# How long before a day's computed_at an indicator file may have been marked loaded and still
# not be visible to that scoring (the loader stamps finished_at just before it commits).
# A file loaded within this margin causes at most one needless re-scoring.
RESCORE_MARGIN = dt.timedelta(seconds=10)


def dates_to_score(
    first: dt.date,
    last: dt.date,
    *,
    session: Session,
    carry_days: int,
    margin: dt.timedelta = RESCORE_MARGIN,
) -> list[dt.date]:
    """Days in [first, last] whose stored scores are missing or older than their inputs.

    A day is due when it has indicator values but no scores, or when an indicator file holding
    values for it (or for the ``carry_days`` before it, which it may have carried forward) was
    loaded after it was scored. Kept cheap for a job that runs every few minutes: a day's
    computed_at is read from its rank-1 rows (index on date, rank; every row of a day is written
    together), and values are only scanned for the few files loaded since the oldest scoring.
    """
    days = [first + dt.timedelta(days=n) for n in range((last - first).days + 1)]
    scored: dict[dt.date, dt.datetime] = {
        day: computed
        for day, computed in session.execute(
            select(RiskScore.date, func.min(RiskScore.computed_at))
            .where(RiskScore.date >= first, RiskScore.date <= last, RiskScore.rank == 1)
            .group_by(RiskScore.date)
        )
    }
    due = {
        day
        for day in days
        if day not in scored and session.scalar(select(exists().where(IndicatorValue.date == day)))
    }
    if scored:
        recent = session.execute(
            select(ImportBatch.id, ImportBatch.finished_at).where(
                ImportBatch.kind == "indicators",
                ImportBatch.status == "loaded",
                ImportBatch.finished_at > min(scored.values()) - margin,
            )
        ).all()
        for day, computed in scored.items():
            later = [b.id for b in recent if b.finished_at > computed - margin]
            if later and session.scalar(
                select(
                    exists().where(
                        IndicatorValue.date >= day - dt.timedelta(days=carry_days),
                        IndicatorValue.date <= day,
                        IndicatorValue.batch_id.in_(later),
                    )
                )
            ):
                due.add(day)
    return sorted(due)


# --------------------------------------------------------------------------- reading back


def scored_day(day: dt.date, *, session: Session) -> pd.DataFrame:
    """The stored scores of ``day`` with each compound's committee and subdistrict, by rank.

    Columns: compound_code, name, committee_code, subdistrict_code, model_version, score,
    score_upper, band, rank, complete, subscores, missing, carried. Empty if not scored.
    """
    committee = aliased(Area)
    rows = session.execute(
        select(
            RiskScore.compound_code,
            Area.name,
            Area.parent_code.label("committee_code"),
            committee.parent_code.label("subdistrict_code"),
            RiskScore.model_version,
            RiskScore.score,
            RiskScore.score_upper,
            RiskScore.band,
            RiskScore.rank,
            RiskScore.complete,
            RiskScore.subscores,
            RiskScore.missing,
            RiskScore.carried,
        )
        .join(Area, Area.code == RiskScore.compound_code)
        .outerjoin(committee, committee.code == Area.parent_code)
        .where(RiskScore.date == day)
        .order_by(RiskScore.rank, RiskScore.compound_code)
    ).all()
    columns = [
        "compound_code",
        "name",
        "committee_code",
        "subdistrict_code",
        "model_version",
        "score",
        "score_upper",
        "band",
        "rank",
        "complete",
        "subscores",
        "missing",
        "carried",
    ]
    return pd.DataFrame(rows, columns=columns)


EXPORT_COLUMNS = (
    "compound_code",
    "name",
    "committee_code",
    "subdistrict_code",
    "score",
    "band",
    "rank",
    "complete",
    *(f"top{n}_{part}" for n in (1, 2, 3) for part in ("indicator", "contribution")),
)


def export_frame(day: dt.date, *, session: Session) -> pd.DataFrame:
    """The export of one scored day, sorted by rank: the columns of :data:`EXPORT_COLUMNS`.

    The three largest contributions are explained with the model version that scored the day
    (from ``risk_models``), not the one in force now. Only contributions above zero are listed:
    "confirmed 0.00" would read as a reason when it is none. Ties keep the model's order.
    """
    stored = scored_day(day, session=session)
    out = pd.DataFrame(
        {
            "compound_code": stored["compound_code"],
            "name": stored["name"],
            "committee_code": stored["committee_code"],
            "subdistrict_code": stored["subdistrict_code"],
            "score": stored["score"].astype(float).round(2),
            "band": stored["band"],
            "rank": stored["rank"].astype("int64"),
            "complete": stored["complete"].astype(bool),
        }
    )
    tops: list[list[Any]] = [[None] * len(stored) for _ in range(6)]
    for version in stored["model_version"].unique():
        model = stored_model(version, session=session)
        if model is None:
            raise LookupError(f"risk model version {version!r} is not stored")
        rows = np.flatnonzero((stored["model_version"] == version).to_numpy())
        sub = np.array(
            [
                [np.nan if s.get(k) is None else s[k] for k in model.keys]
                for s in stored["subscores"].iloc[rows]
            ],
            dtype=float,
        ).reshape(len(rows), len(model.keys))
        contrib = np.where(np.isnan(sub), -1.0, sub * model.weights)
        order = np.argsort(-contrib, axis=1, kind="stable")[:, :3]
        for r, row in enumerate(rows):
            for n, j in enumerate(order[r]):
                if contrib[r, j] > 0:
                    tops[2 * n][row] = model.keys[j]
                    tops[2 * n + 1][row] = round(float(contrib[r, j]), 2)
    for n in range(3):
        out[f"top{n + 1}_indicator"] = tops[2 * n]
        out[f"top{n + 1}_contribution"] = tops[2 * n + 1]
    return out[list(EXPORT_COLUMNS)]
