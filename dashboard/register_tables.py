"""The registers as tables for the browser's ``/registers`` page and its exports.

Four registers: enterprises (复工), street shops (复市), construction sites (复产) and the key
places due for disinfection (today's tasks and the overdue ones). For each, :func:`register_frame`
returns the rows to show, filtered by the caller's :class:`~dashboard.queries.AreaScope` and the
page's subdistrict and state filters, with a ``lagging`` flag, the reason (a message key) and
``lag_rank``, laggards first: those behind for no date first (a shop that never reported, a
site with unchecked key-region arrivals), then the most days behind.

Who is lagging (the rule, in one place):

- enterprises and sites: the planned reopening date has passed and the state is not reopened;
- sites also: any key-region arrival whose isolation certificate is unchecked;
- shops: no open/closed report for today, unless closed down for good;
- disinfection: due before today and not done.

Register fields and aggregates only: a site's row carries its headcount and arrival counts,
never a worker (nothing here reads ``site_workers``). :func:`changed_since` gives the rows
whose ``sync_version`` is above the page's mark, each with ``match`` (does it still pass the
page's filters and scope?), for the page's incremental updates; :func:`export_bytes` writes the
shown rows as CSV or Excel, text that a spreadsheet would run as a formula defused.

Query functions take ``*, session``, never commit, and use bound parameters only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final
from zoneinfo import ZoneInfo

import pandas as pd
from sqlalchemy import Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from dashboard import states
from dashboard.i18n import t
from dashboard.models import Area, AreaLevel, ConstructionSite, DisinfectionTask, Enterprise, Shop
from dashboard.queries import AreaScope

logger = logging.getLogger(__name__)

ENTERPRISES: Final = "enterprises"
SHOPS: Final = "shops"
SITES: Final = "sites"
DISINFECTION: Final = "disinfection"

# Disinfection tasks' states (derived, not stored).
TASK_DONE: Final = "done"
TASK_PENDING: Final = "pending"
TASK_OVERDUE: Final = "overdue"

# Why a row is lagging: message keys (dashboard.i18n), joined by "," when there are several.
LAG_PLANNED_PASSED: Final = "registers.lag.planned_passed"
LAG_UNCHECKED: Final = "registers.lag.unchecked_arrivals"
LAG_UNREPORTED: Final = "registers.lag.unreported"
LAG_OVERDUE: Final = "registers.lag.overdue"


@dataclass(frozen=True)
class Register:
    """One register as a table: its data version, its row key, its states and its columns.

    ``columns`` are the fields shown and exported, in order; each one's header is the message
    ``registers.col.<field>``. ``key`` is the row id the grid and the exports use.
    """

    name: str
    dataset: str
    key: str
    states: tuple[str, ...]
    columns: tuple[str, ...]
    numeric: tuple[str, ...] = ()


REGISTERS: Final[dict[str, Register]] = {
    ENTERPRISES: Register(
        name=ENTERPRISES,
        dataset="enterprises",
        key="credit_code",
        states=states.REOPENING_STATES,
        columns=(
            "credit_code",
            "name",
            "subdistrict",
            "industry",
            "state",
            "planned_reopen_date",
            "overdue_days",
            "planned_headcount",
            "returned_headcount",
            "labour_gap",
            "capacity_pct",
            "pending_approvals",
            "checkins_today",
            "address",
            "lag_reason",
        ),
        numeric=(
            "overdue_days",
            "planned_headcount",
            "returned_headcount",
            "capacity_pct",
            "pending_approvals",
            "checkins_today",
        ),
    ),
    SHOPS: Register(
        name=SHOPS,
        dataset="shops",
        key="licence_id",
        states=states.SHOP_STATES,
        columns=(
            "licence_id",
            "name",
            "subdistrict",
            "street",
            "state",
            "open_on",
            "overdue_days",
            "staff_registered",
            "lag_reason",
        ),
        numeric=("overdue_days", "staff_registered"),
    ),
    SITES: Register(
        name=SITES,
        dataset="sites",
        key="site_id",
        states=states.REOPENING_STATES,
        columns=(
            "site_id",
            "name",
            "contractor",
            "subdistrict",
            "state",
            "planned_reopen_date",
            "overdue_days",
            "headcount",
            "new_arrivals_today",
            "key_region_arrivals",
            "unchecked_arrivals",
            "lag_reason",
        ),
        numeric=(
            "overdue_days",
            "headcount",
            "new_arrivals_today",
            "key_region_arrivals",
            "unchecked_arrivals",
        ),
    ),
    DISINFECTION: Register(
        name=DISINFECTION,
        dataset="disinfection",
        key="task_id",  # place_id|due_on: a place is due on several days
        states=(TASK_OVERDUE, TASK_PENDING, TASK_DONE),
        columns=(
            "place_id",
            "place_name",
            "place_kind",
            "subdistrict",
            "state",
            "due_on",
            "overdue_days",
            "done_at",
            "lag_reason",
        ),
        numeric=("overdue_days",),
    ),
}

# Columns every frame carries besides the register's own.
FLAGS: Final = ("lagging",)

# The laggards' order as one integer per row (ascending), computed here and sorted on by the
# grid too: a rank depends on its row alone, so a row changed later falls into its place. AG
# Grid sorts blanks last in descending order, so "days behind, descending" cannot put the
# never-reported first; a rank can.
LAG_RANK_NO_DATE: Final = 0  # behind with no date to wait for: first
LAG_RANK_MAX_DAYS: Final = 999_999  # days behind beyond this tie (no register is 2,700 years late)
LAG_RANK_NONE: Final = 2_000_000  # not lagging: last


def register(name: str) -> Register:
    """The register called ``name``; ``ValueError`` for any other name (it comes from a URL
    or a browser, so it is checked, never used to pick a table by itself)."""
    try:
        return REGISTERS[name]
    except KeyError:
        raise ValueError(f"unknown register {name!r}; known: {', '.join(REGISTERS)}") from None


# --------------------------------------------------------------------------- the queries


def _subdistricts() -> Any:
    return aliased(Area, name="subdistrict_area")


def _model(reg: Register) -> Any:
    return {
        ENTERPRISES: Enterprise,
        SHOPS: Shop,
        SITES: ConstructionSite,
        DISINFECTION: DisinfectionTask,
    }[reg.name]


def _base_select(reg: Register, scope: AreaScope | None, subdistrict: str | None) -> Select:
    """The register's rows in scope (None: every row; and in ``subdistrict``, if given), with
    the subdistrict's name; the lagging rule is applied afterwards, in :func:`_finish`."""
    sub = _subdistricts()
    if reg.name == ENTERPRISES:
        model: Any = Enterprise
        fields = [
            Enterprise.credit_code,
            Enterprise.name,
            Enterprise.industry,
            Enterprise.state,
            Enterprise.planned_reopen_date,
            Enterprise.planned_headcount,
            Enterprise.returned_headcount,
            Enterprise.labour_gap,
            Enterprise.capacity_pct,
            Enterprise.pending_approvals,
            Enterprise.checkins_today,
            Enterprise.address,
            Enterprise.updated_at,
        ]
    elif reg.name == SHOPS:
        model = Shop
        fields = [
            Shop.licence_id,
            Shop.name,
            Shop.street,
            Shop.is_open,
            Shop.open_on,
            Shop.closed_down,
            Shop.staff_registered,
            Shop.updated_at,
        ]
    elif reg.name == SITES:
        model = ConstructionSite
        # The counts are the site's own columns, recounted at ingestion: no join to the workers.
        fields = [
            ConstructionSite.site_id,
            ConstructionSite.name,
            ConstructionSite.contractor,
            ConstructionSite.state,
            ConstructionSite.planned_reopen_date,
            ConstructionSite.headcount,
            ConstructionSite.new_arrivals_today,
            ConstructionSite.key_region_arrivals,
            ConstructionSite.unchecked_arrivals,
            ConstructionSite.updated_at,
        ]
    else:
        model = DisinfectionTask
        fields = [
            DisinfectionTask.place_id,
            DisinfectionTask.place_name,
            DisinfectionTask.place_kind,
            DisinfectionTask.due_on,
            DisinfectionTask.done_at,
        ]
    query = select(
        *fields, model.sync_version, model.subdistrict_code, sub.name.label("subdistrict")
    ).outerjoin(sub, and_(sub.code == model.subdistrict_code, sub.level == AreaLevel.SUBDISTRICT))
    if scope is not None:
        query = query.where(scope.clause(model.subdistrict_code))
    if subdistrict:
        query = query.where(model.subdistrict_code == subdistrict)
    return query


def _read(query: Select, session: Session) -> pd.DataFrame:
    result = session.execute(query)
    return pd.DataFrame(result.all(), columns=list(result.keys()))


def _days(today: dt.date, days: pd.Series) -> pd.Series:
    """Whole days from each date to ``today`` (missing stays missing)."""
    out = [None if pd.isna(d) else (today - d).days for d in days]
    return pd.Series(out, index=days.index, dtype="Int64")


def _finish(reg: Register, frame: pd.DataFrame, today: dt.date, state: str | None) -> pd.DataFrame:
    """States, the lagging rule and the order, on the rows read."""
    frame = frame.copy()
    reasons: list[pd.Series] = []
    if reg.name in (ENTERPRISES, SITES):
        days = _days(today, frame["planned_reopen_date"])
        late = (days > 0).fillna(False).astype(bool) & (frame["state"] != states.REOPENED)
        frame["overdue_days"] = days.where(late)
        reasons.append(late.map({True: LAG_PLANNED_PASSED, False: ""}))
        if reg.name == SITES:
            unchecked = frame["unchecked_arrivals"].fillna(0).astype(int) > 0
            reasons.append(unchecked.map({True: LAG_UNCHECKED, False: ""}))
    elif reg.name == SHOPS:
        reported = frame["open_on"].map(lambda d: d == today).astype(bool)
        closed_down = frame["closed_down"].fillna(False).astype(bool)
        is_open = frame["is_open"].map(lambda v: v is True).astype(bool)
        frame["state"] = [
            states.SHOP_CLOSED_DOWN
            if down
            else (states.SHOP_OPEN if op else states.SHOP_CLOSED)
            if rep
            else states.SHOP_UNREPORTED
            for down, rep, op in zip(closed_down, reported, is_open, strict=True)
        ]
        late = ~reported & ~closed_down
        # Days since the last report; a shop that never reported is the most overdue of all.
        frame["overdue_days"] = _days(today, frame["open_on"]).where(late)
        reasons.append(late.map({True: LAG_UNREPORTED, False: ""}))
    else:
        done = frame["done_at"].notna()
        due = frame["due_on"]
        overdue = ~done & (due < today)
        frame["state"] = [
            TASK_DONE if d else TASK_OVERDUE if o else TASK_PENDING
            for d, o in zip(done, overdue, strict=True)
        ]
        frame["overdue_days"] = _days(today, due).where(overdue)
        frame["task_id"] = frame["place_id"] + "|" + due.map(lambda d: d.isoformat())
        reasons.append(overdue.map({True: LAG_OVERDUE, False: ""}))
        late = overdue
    if reasons:
        joined = pd.concat(reasons, axis=1).apply(lambda r: ",".join(x for x in r if x), axis=1)
        frame["lag_reason"] = joined if len(frame) else pd.Series(dtype=str)
    frame["lagging"] = frame["lag_reason"].astype(str) != ""
    frame["lag_rank"] = lag_ranks(frame)
    if reg.name == ENTERPRISES:
        frame["labour_gap"] = frame["labour_gap"].map(_gap_total)
    if state:
        frame = frame[frame["state"] == state]
    order = pd.DataFrame({"rank": frame["lag_rank"], "key": frame[reg.key]})
    index = order.sort_values(["rank", "key"], kind="stable").index
    return frame.loc[index].reset_index(drop=True)


def lag_ranks(frame: pd.DataFrame) -> pd.Series:
    """Each row's place among the laggards, ascending (the server's order and the grid's sort):

    1. behind with no date to wait for (:data:`LAG_RANK_NO_DATE`): a shop that never reported,
       a site with unchecked key-region arrivals (whatever its planned date);
    2. behind by a number of days: the most days first;
    3. not lagging (:data:`LAG_RANK_NONE`).

    Ties keep the key's order. Needs ``lagging``, ``overdue_days`` and ``lag_reason``.
    """
    days = frame["overdue_days"].astype("Float64")
    no_date = frame["lagging"] & (
        days.isna().fillna(True).astype(bool)
        | frame["lag_reason"].astype(str).str.contains(LAG_UNCHECKED, regex=False)
    )
    by_days = 1 + LAG_RANK_MAX_DAYS - days.fillna(0).clip(0, LAG_RANK_MAX_DAYS)
    rank = by_days.where(frame["lagging"], LAG_RANK_NONE).where(~no_date, LAG_RANK_NO_DATE)
    return rank.astype("int64")


def _gap_total(gap: Any) -> int | None:
    """People short over every trade (the per-trade detail is on the wall's panel)."""
    if not isinstance(gap, dict):
        return None
    try:
        return int(sum(int(v) for v in gap.values()))
    except (TypeError, ValueError):
        return None


def _disinfection_due(query: Select, today: dt.date) -> Select:
    """Today's tasks, and the earlier ones not done."""
    return query.where(
        or_(
            DisinfectionTask.due_on == today,
            and_(DisinfectionTask.due_on < today, DisinfectionTask.done_at.is_(None)),
        )
    )


def register_frame(
    name: str,
    *,
    session: Session,
    scope: AreaScope,
    today: dt.date,
    subdistrict: str | None = None,
    state: str | None = None,
) -> pd.DataFrame:
    """The rows of register ``name`` to show, laggards first.

    ``today`` is the district's local date; ``subdistrict`` a subdistrict code and ``state`` one
    of the register's states (None: all). Columns: the register's ``columns`` (``state`` and
    ``lag_reason`` as codes and message keys), ``lagging``, ``subdistrict_code`` and its key.
    """
    reg = register(name)
    if state is not None and state not in reg.states:
        raise ValueError(f"unknown state {state!r} for {name}")
    query = _base_select(reg, scope, subdistrict)
    if reg.name == DISINFECTION:
        query = _disinfection_due(query, today)
    return _finish(reg, _read(query, session), today, state)


def changed_since(
    name: str,
    mark: int | None,
    *,
    session: Session,
    scope: AreaScope,
    today: dt.date,
    subdistrict: str | None = None,
    state: str | None = None,
) -> pd.DataFrame:
    """Rows of register ``name`` whose ``sync_version`` is above ``mark`` (None: above 0), each
    with ``match``: whether it belongs in the table under this scope and these filters now. A
    changed row that does not match is one the page must take out (if it holds it); one that
    matches, one to add or update. Rows never stamped (NULL) are not changes: the full table
    carries them.

    A row that moved out of ``scope`` comes with its key and ``match`` False only (the other
    columns blank): the page drops it and learns nothing else of it.
    """
    reg = register(name)
    model = _model(reg)
    query = _base_select(reg, None, None).where(model.sync_version > (mark or 0))
    frame = _read(query, session)
    in_scope = frame["subdistrict_code"].map(scope.allows).astype(bool)
    gone = frame.loc[~in_scope]
    frame = _finish(reg, frame.loc[in_scope], today, None)
    match = pd.Series(True, index=frame.index)
    if reg.name == DISINFECTION and len(frame):
        due = frame["due_on"]
        match &= (due == today) | ((due < today) & frame["done_at"].isna())
    if subdistrict:
        match &= frame["subdistrict_code"] == subdistrict
    if state:
        match &= frame["state"] == state
    frame["match"] = match.astype(bool)
    if len(gone):
        keys = (
            gone["place_id"] + "|" + gone["due_on"].map(lambda d: d.isoformat())
            if reg.name == DISINFECTION
            else gone[reg.key]
        )
        left = pd.DataFrame({reg.key: list(keys), "match": False})
        frame = pd.concat([frame, left], ignore_index=True)
    return frame


def sync_mark(name: str, *, session: Session) -> int | None:
    """The highest ``sync_version`` among the register's rows, in or out of scope (a row
    leaving the scope is a change too): the next :func:`changed_since` asks for rows above it.
    Read in the same snapshot as the rows sent; the writers' versions commit in order, so no
    row can later appear below it."""
    model = _model(register(name))
    return session.scalar(select(func.max(model.sync_version)))


def subdistrict_options(*, session: Session, scope: AreaScope) -> list[tuple[str, str]]:
    """(code, name) of the subdistricts in scope, by code."""
    rows = session.execute(
        select(Area.code, Area.name)
        .where(Area.level == AreaLevel.SUBDISTRICT, scope.clause(Area.code))
        .order_by(Area.code)
    )
    return [(code, name) for code, name in rows]


# --------------------------------------------------------------------------- shaping


def _value(value: Any) -> Any:
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return None
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return value


def _reason_text(reasons: str, lang: str) -> str:
    if not reasons:
        return ""
    return t("list.separator", lang).join(t(key, lang) for key in reasons.split(","))


def labelled(
    frame: pd.DataFrame, name: str, *, lang: str, timezone: str, with_flags: bool = True
) -> pd.DataFrame:
    """The frame as people read it: states and reasons in ``lang``, times local ("14:05"),
    only the register's columns (plus the key and ``lagging``/``match`` when ``with_flags``)."""
    reg = register(name)
    out = pd.DataFrame(index=frame.index)
    tz = ZoneInfo(timezone)
    for column in reg.columns:
        if column not in frame:
            out[column] = None
            continue
        values = frame[column]
        if column == "state":
            out[column] = values.map(lambda s: t(f"registers.state.{s}", lang))
        elif column == "lag_reason":
            out[column] = values.map(lambda r: _reason_text(r, lang))
        elif column == "done_at":
            out[column] = values.map(
                lambda v: None if pd.isna(v) else v.astimezone(tz).strftime("%Y-%m-%d %H:%M")
            )
        else:
            out[column] = values
    if with_flags:
        out[reg.key] = frame[reg.key]
        for flag in (*FLAGS, "match"):
            if flag in frame:
                out[flag] = frame[flag].astype(bool)
        if "lag_rank" in frame:
            out["lag_rank"] = frame["lag_rank"]
    return out


def records(frame: pd.DataFrame, name: str, *, lang: str, timezone: str) -> list[dict[str, Any]]:
    """The rows as JSON-ready dicts for the grid (``None`` for blanks, dates as ISO text). A
    row with ``match`` False (from :func:`changed_since`) is only ``{key, "match": False}``:
    the grid removes it, so nothing else of it is sent (it may be out of the caller's scope)."""
    key = register(name).key
    if "match" in frame:
        gone = [{key: _value(k), "match": False} for k in frame.loc[~frame["match"], key]]
        frame = frame.loc[frame["match"]]
    else:
        gone = []
    shown = labelled(frame, name, lang=lang, timezone=timezone)
    columns = list(shown.columns)
    return [
        {c: _value(v) for c, v in zip(columns, row, strict=True)}
        for row in shown.itertuples(index=False, name=None)
    ] + gone


def headers(name: str, lang: str) -> list[str]:
    return [t(f"registers.col.{c}", lang) for c in register(name).columns]


# --------------------------------------------------------------------------- exports

CSV: Final = "csv"
XLSX: Final = "xlsx"
EXPORT_FORMATS: Final = (CSV, XLSX)


def export_frame(
    name: str,
    ids: Sequence[str],
    *,
    session: Session,
    scope: AreaScope,
    today: dt.date,
    lang: str,
    timezone: str,
) -> pd.DataFrame:
    """The rows with these ids, in that order (the grid's), with the page's columns and
    headers; ids not in the register or out of scope are left out (they come from a browser).

    Reads the register in scope and keeps the ids asked for: one query whatever their number.
    """
    reg = register(name)
    frame = register_frame(name, session=session, scope=scope, today=today)
    wanted = [str(i) for i in dict.fromkeys(ids)]
    frame = frame.set_index(reg.key, drop=False)
    frame = frame.loc[[i for i in wanted if i in frame.index]].reset_index(drop=True)
    shown = labelled(frame, name, lang=lang, timezone=timezone, with_flags=False)
    shown.columns = headers(name, lang)
    return shown


# A text cell starting with one of these is run as a formula by Excel, LibreOffice and Sheets
# (CSV) or written as one by openpyxl (XLSX): a register's name "=HYPERLINK(...)" must stay text.
FORMULA_STARTS: Final = ("=", "+", "-", "@", "\t", "\r")


def defused(value: Any) -> Any:
    """A text cell that a spreadsheet would take for a formula, prefixed with ``'`` (OWASP's
    advice for CSV injection); anything else, numbers included, unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def export_bytes(frame: pd.DataFrame, fmt: str) -> bytes:
    """CSV (UTF-8 with a byte-order mark, so Excel reads the Chinese right) or XLSX bytes;
    text cells that would run as formulas are defused (:func:`defused`)."""
    frame = frame.copy()
    for column in frame.columns:
        if not pd.api.types.is_numeric_dtype(frame[column]):
            frame[column] = frame[column].map(defused)
    if fmt == CSV:
        text = io.StringIO()
        frame.to_csv(text, index=False, quoting=csv.QUOTE_MINIMAL)
        return text.getvalue().encode("utf-8-sig")
    if fmt == XLSX:
        data = io.BytesIO()
        with pd.ExcelWriter(data, engine="openpyxl") as writer:
            frame.to_excel(writer, index=False, sheet_name="register")
        return data.getvalue()
    raise ValueError(f"unknown export format {fmt!r}; known: {', '.join(EXPORT_FORMATS)}")
