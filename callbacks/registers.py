"""The registers page ``/registers``: the grid's rows, its incremental updates, the exports.

A filter or tab change sends the whole table (``rowData``). The tick reads the data versions
(one cheap query); when the shown register's version moved, it sends only the rows written
since the last sync (:func:`dashboard.register_tables.changed_since`), each with ``match``, and
the browser applies them as one transaction keyed by row id (``registers.apply`` in
assets/registers.js): update, add, or remove a row that no longer passes the filters. The sync
mark is the newest write time in the data, kept in the page's SYNC store with the view it
belongs to; a new local day reloads the whole table (who is lagging changes at midnight).

An export asks the browser for the ids of the rows shown, after the grid's own filter, search
and sort (``virtualRowData``), and builds the file from the database with the register's
columns only.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any
from zoneinfo import ZoneInfo

from dash import (
    ClientsideFunction,
    Input,
    Output,
    State,
    callback,
    clientside_callback,
    dcc,
    no_update,
)

from callbacks.common import current_scope
from dashboard import freshness, register_tables, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.i18n import format_count, format_local_time, t
from dashboard.models import utcnow
from layouts.ids import Registers

logger = logging.getLogger(__name__)

EXPORT_MEDIA = {
    register_tables.CSV: "text/csv",
    register_tables.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _lang(lang: str | None) -> str:
    return lang or get_settings().language


def _today(now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(get_settings().timezone)).date()


def column_defs(name: str, lang: str) -> list[dict[str, Any]]:
    """The grid's columns: the register's fields with headers in ``lang``; numbers filter as
    numbers; sorted laggards first (a hidden ``lagging`` column), then the most days behind,
    so rows added or updated later keep that order too."""
    reg = register_tables.register(name)
    headers = register_tables.headers(name, lang)
    defs: list[dict[str, Any]] = [
        {"field": "lagging", "hide": True, "sort": "desc", "sortIndex": 0},
    ]
    for field, header in zip(reg.columns, headers, strict=True):
        col: dict[str, Any] = {"field": field, "headerName": header}
        if field in reg.numeric:
            col["filter"] = "agNumberColumnFilter"
            col["type"] = "numericColumn"
        else:
            col["filter"] = "agTextColumnFilter"
        if field == reg.columns[0]:
            col["pinned"] = "left"
        if field == "overdue_days":
            col |= {"sort": "desc", "sortIndex": 1}
        if field == "lag_reason":
            col["cellClass"] = "reg-reason"
            col["minWidth"] = 200
        defs.append(col)
    return defs


def _fresh_text(snapshot: dict[str, Any], dataset: str, lang: str) -> str:
    updated = snapshot["updated_ms"].get(dataset)
    if updated is None:
        return t("fresh.no_data", lang)
    when = dt.datetime.fromtimestamp(updated / 1000, dt.UTC)
    text = t(
        "registers.as_of", lang, time=format_local_time(when, get_settings().timezone, "%H:%M")
    )
    return text + (t("registers.late", lang) if dataset in snapshot["late"] else "")


def _count_text(n: int, k: int, lang: str) -> str:
    return t("registers.count", lang, n=format_count(n), k=format_count(k))


@callback(
    Output(Registers.SUBDISTRICT, "options"),
    Output(Registers.STATE, "options"),
    Output(Registers.STATE, "value"),
    Input(Registers.REGISTER, "value"),
    State(Registers.LANG, "data"),
    State(Registers.STATE, "value"),
)
def load_options(
    name: str | None, lang: str | None, state: str | None = None
) -> tuple[Any, Any, Any]:
    """The subdistricts in scope, the register's states; a state the new register does not
    have is cleared."""
    lang = _lang(lang)
    try:
        reg = register_tables.register(name or "")
    except ValueError:
        return no_update, no_update, no_update
    with session_scope(get_settings().database_url) as session:
        subs = register_tables.subdistrict_options(session=session, scope=current_scope())
    sub_options = [{"label": sub_name, "value": code} for code, sub_name in subs]
    state_options = [{"label": t(f"registers.state.{s}", lang), "value": s} for s in reg.states]
    return sub_options, state_options, (no_update if state in (None, *reg.states) else None)


@callback(
    Output(Registers.GRID, "rowData"),
    Output(Registers.GRID, "columnDefs"),
    Output(Registers.CHANGES, "data"),
    Output(Registers.SYNC, "data"),
    Output(Registers.FRESH, "children"),
    Output(Registers.COUNT, "children"),
    Input(Registers.REGISTER, "value"),
    Input(Registers.SUBDISTRICT, "value"),
    Input(Registers.STATE, "value"),
    Input(Registers.TICK, "n_intervals"),
    State(Registers.LANG, "data"),
    State(Registers.SYNC, "data"),
)
def refresh_grid(
    name: str | None,
    subdistrict: str | None,
    state: str | None,
    _tick: int | None,
    lang: str | None,
    sync: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The whole table when the view (register, filters, day) is not the one the grid holds;
    else, when the register's data version moved, only the rows changed since the sync mark;
    else nothing at all (the tick's answer is empty)."""
    nothing = (no_update,) * 6
    lang = _lang(lang)
    settings = get_settings()
    scope = current_scope()
    try:
        reg = register_tables.register(name or "")
    except ValueError:
        return nothing
    if state is not None and state not in reg.states:
        state = None  # the other register's state, until load_options clears it
    now = utcnow()
    today = _today(now)
    with session_scope(settings.database_url, snapshot=True) as session:
        current = versions.current(session=session)
        snap = freshness.snapshot(
            current, settings.dataset_expected_interval_s, now=now, timezone=settings.timezone
        )
        view = {
            "register": reg.name,
            "subdistrict": subdistrict,
            "state": state,
            "day": snap["day"],
        }
        version = snap["versions"].get(reg.dataset)
        late = reg.dataset in snap["late"]
        fresh = _fresh_text(snap, reg.dataset, lang)
        same_view = bool(sync) and sync.get("view") == view  # type: ignore[union-attr]
        if same_view and sync.get("version") == version:  # type: ignore[union-attr]
            if sync.get("late") == late:  # type: ignore[union-attr]
                return nothing
            return (*nothing[:3], {**sync, "late": late}, fresh, no_update)  # type: ignore[dict-item]
        mark = register_tables.sync_mark(reg.name, session=session, scope=scope)
        if same_view:
            since = sync.get("mark")  # type: ignore[union-attr]
            frame = register_tables.changed_since(
                reg.name,
                dt.datetime.fromisoformat(since) if since else None,
                session=session,
                scope=scope,
                today=today,
                subdistrict=subdistrict,
                state=state,
            )
        else:
            frame = register_tables.register_frame(
                reg.name,
                session=session,
                scope=scope,
                today=today,
                subdistrict=subdistrict,
                state=state,
            )
    rows = register_tables.records(frame, reg.name, lang=lang, timezone=settings.timezone)
    new_sync = {
        "view": view,
        "version": version,
        "late": late,
        "mark": mark.isoformat() if mark else (sync or {}).get("mark"),
        "key": reg.key,
        "count": t("registers.count", lang),
        "seq": ((sync or {}).get("seq") or 0) + 1,
    }
    if same_view:
        changes = {"seq": new_sync["seq"], "key": reg.key, "rows": rows}
        return no_update, no_update, changes, new_sync, fresh, no_update
    columns = (
        no_update
        if sync and sync.get("view", {}).get("register") == reg.name
        else column_defs(reg.name, lang)
    )
    count = _count_text(len(frame), int(frame["lagging"].sum()) if len(frame) else 0, lang)
    return rows, columns, None, new_sync, fresh, count


# The browser applies the changed rows to the grid as one transaction (assets/registers.js).
clientside_callback(
    ClientsideFunction(namespace="registers", function_name="apply"),
    Output(Registers.APPLIED, "data"),
    Output(Registers.COUNT, "children", allow_duplicate=True),
    Input(Registers.CHANGES, "data"),
    State(Registers.GRID, "id"),
    State(Registers.SYNC, "data"),
    prevent_initial_call=True,
)

# The quick search filters in the browser, on every key stroke.
clientside_callback(
    ClientsideFunction(namespace="registers", function_name="search"),
    Output(Registers.GRID, "dashGridOptions"),
    Input(Registers.SEARCH, "value"),
    State(Registers.GRID, "dashGridOptions"),
    prevent_initial_call=True,
)

# An export asks the grid for the ids of the rows shown (filtered and sorted there).
clientside_callback(
    ClientsideFunction(namespace="registers", function_name="exportRequest"),
    Output(Registers.EXPORT_REQUEST, "data"),
    Input(Registers.EXPORT_CSV, "n_clicks"),
    Input(Registers.EXPORT_XLSX, "n_clicks"),
    State(Registers.GRID, "virtualRowData"),
    State(Registers.SYNC, "data"),
    prevent_initial_call=True,
)


@callback(
    Output(Registers.DOWNLOAD, "data"),
    Input(Registers.EXPORT_REQUEST, "data"),
    State(Registers.LANG, "data"),
    prevent_initial_call=True,
)
def export(request: dict[str, Any] | None, lang: str | None) -> Any:
    """The file of the rows asked for, from the database, in scope, register columns only."""
    lang = _lang(lang)
    if not request:
        return no_update
    fmt = request.get("format")
    ids = request.get("ids") or []
    try:
        reg = register_tables.register(str(request.get("register") or ""))
    except ValueError:
        return no_update
    if fmt not in register_tables.EXPORT_FORMATS or not isinstance(ids, list):
        return no_update
    settings = get_settings()
    now = utcnow()
    with session_scope(settings.database_url, snapshot=True) as session:
        frame = register_tables.export_frame(
            reg.name,
            [str(i) for i in ids],
            session=session,
            scope=current_scope(),
            today=_today(now),
            lang=lang,
            timezone=settings.timezone,
        )
    data = register_tables.export_bytes(frame, fmt)
    stamp = format_local_time(now, settings.timezone, "%Y%m%d-%H%M")
    logger.info("export of %d %s rows as %s", len(frame), reg.name, fmt)
    return dcc.send_bytes(data, f"{reg.name}-{stamp}.{fmt}", type=EXPORT_MEDIA[fmt])
