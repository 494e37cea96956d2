"""The registers page ``/registers``: the grid's rows, its incremental updates, the exports.

Two callbacks, so that the tick never cancels a full load (Dash drops a callback's answer
still on its way when the same callback is called again, and at 20,000 rows a full load takes
longer than a 1 s tick):

- :func:`load_grid`, on page load, a filter or tab change, and the day's change: the whole
  table (``rowData``) and the SYNC store: the view it belongs to, a load number, and the mark,
  the highest ``sync_version`` in the register when it was read (same snapshot);
- :func:`tick`, on the interval: nothing until SYNC holds the view on screen (the full load
  has landed); then one cheap data-version read, and when the register's version moved, only
  the rows whose ``sync_version`` is above the mark
  (:func:`dashboard.register_tables.changed_since`), each with ``match``, which the browser
  applies as one transaction keyed by row id (``registers.apply`` in assets/registers.js):
  update, add, or remove a row that no longer passes the filters or left the caller's scope.
  The tick's answer (CHANGES) carries the new mark for the next tick; a new local day makes
  the tick ask :func:`load_grid` for the whole table (RELOAD), since who is lagging changes at
  midnight.

Rows never stamped with a ``sync_version`` (written before stamping existed) come with the
whole table only.

An export asks the browser for the ids of the rows shown, after the grid's own filter, search
and sort (``virtualRowData``), and builds the file from the database with the register's
columns only.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import Any

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

from callbacks.common import current_scope, local_today, page_lang
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


def column_defs(name: str, lang: str) -> list[dict[str, Any]]:
    """The grid's columns: the register's fields with headers in ``lang``; numbers filter as
    numbers; sorted by the hidden ``lag_rank`` (the server's laggard order, see
    :func:`dashboard.register_tables.lag_ranks`), then by the key, so rows added or updated
    later take the place the server would give them."""
    reg = register_tables.register(name)
    headers = register_tables.headers(name, lang)
    defs: list[dict[str, Any]] = [
        {"field": "lag_rank", "hide": True, "sort": "asc", "sortIndex": 0},
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
        if field == reg.key:
            col |= {"sort": "asc", "sortIndex": 1}
        if field == "lag_reason":
            col["cellClass"] = "reg-reason"
            col["minWidth"] = 200
        defs.append(col)
    if reg.key not in reg.columns:  # disinfection: place|day, the row id
        defs.append({"field": reg.key, "hide": True, "sort": "asc", "sortIndex": 1})
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
    lang = page_lang(lang)
    try:
        reg = register_tables.register(name or "")
    except ValueError:
        return no_update, no_update, no_update
    with session_scope(get_settings().database_url) as session:
        subs = register_tables.subdistrict_options(session=session, scope=current_scope())
    sub_options = [{"label": sub_name, "value": code} for code, sub_name in subs]
    state_options = [{"label": t(f"registers.state.{s}", lang), "value": s} for s in reg.states]
    return sub_options, state_options, (no_update if state in (None, *reg.states) else None)


def _view(name: str, subdistrict: str | None, state: str | None) -> dict[str, Any] | None:
    """The view the filters ask for, or None for an unknown register; a state the register
    does not have (the other tab's, until load_options clears it) counts as none."""
    try:
        reg = register_tables.register(name or "")
    except ValueError:
        return None
    if state is not None and state not in reg.states:
        state = None
    return {"register": reg.name, "subdistrict": subdistrict, "state": state}


@callback(
    Output(Registers.GRID, "rowData"),
    Output(Registers.GRID, "columnDefs"),
    Output(Registers.SYNC, "data"),
    Output(Registers.FRESH, "children"),
    Output(Registers.COUNT, "children"),
    Input(Registers.REGISTER, "value"),
    Input(Registers.SUBDISTRICT, "value"),
    Input(Registers.STATE, "value"),
    Input(Registers.RELOAD, "data"),
    State(Registers.LANG, "data"),
    State(Registers.SYNC, "data"),
)
def load_grid(
    name: str | None,
    subdistrict: str | None,
    state: str | None,
    _reload: str | None,
    lang: str | None,
    sync: dict[str, Any] | None = None,
) -> tuple[Any, ...]:
    """The whole table of the view, its columns (when the register changed), the SYNC store
    (view and day, load number, mark, data version), freshness and counts."""
    lang = page_lang(lang)
    settings = get_settings()
    view = _view(name or "", subdistrict, state)
    if view is None:
        return (no_update,) * 5
    reg = register_tables.register(view["register"])
    scope = current_scope()
    now = utcnow()
    with session_scope(settings.database_url, snapshot=True) as session:
        snap = freshness.snapshot(
            versions.current(session=session),
            settings.dataset_expected_interval_s,
            now=now,
            timezone=settings.timezone,
        )
        mark = register_tables.sync_mark(reg.name, session=session)
        frame = register_tables.register_frame(
            reg.name,
            session=session,
            scope=scope,
            today=local_today(now),
            subdistrict=view["subdistrict"],
            state=view["state"],
        )
    rows = register_tables.records(frame, reg.name, lang=lang, timezone=settings.timezone)
    n, k = len(frame), int(frame["lagging"].sum()) if len(frame) else 0
    new_sync = {
        "view": view,
        "day": snap["day"],
        "load": ((sync or {}).get("load") or 0) + 1,
        "mark": mark,
        "version": snap["versions"].get(reg.dataset),
        "late": reg.dataset in snap["late"],
        "key": reg.key,
        "count": t("registers.count", lang),
        "n": n,
        "k": k,
    }
    same_register = bool(sync) and (sync.get("view") or {}).get("register") == reg.name  # type: ignore[union-attr]
    columns = no_update if same_register else column_defs(reg.name, lang)
    fresh = _fresh_text(snap, reg.dataset, lang)
    return rows, columns, new_sync, fresh, _count_text(n, k, lang)


@callback(
    Output(Registers.CHANGES, "data"),
    Output(Registers.FRESH, "children", allow_duplicate=True),
    Output(Registers.RELOAD, "data"),
    Input(Registers.TICK, "n_intervals"),
    State(Registers.REGISTER, "value"),
    State(Registers.SUBDISTRICT, "value"),
    State(Registers.STATE, "value"),
    State(Registers.LANG, "data"),
    State(Registers.SYNC, "data"),
    State(Registers.CHANGES, "data"),
    State(Registers.RELOAD, "data"),
    prevent_initial_call=True,
)
def tick(
    _tick: int | None,
    name: str | None,
    subdistrict: str | None,
    state: str | None,
    lang: str | None,
    sync: dict[str, Any] | None,
    changes: dict[str, Any] | None = None,
    reload: str | None = None,
) -> tuple[Any, ...]:
    """The rows changed since the mark, when the grid holds the view on screen and the
    register's data version moved; a new day asks for the whole table; else nothing."""
    nothing = (no_update,) * 3
    if not sync or sync.get("view") != _view(name or "", subdistrict, state):
        return nothing  # the full load for this view has not landed yet: it is on its way
    lang = page_lang(lang)
    settings = get_settings()
    reg = register_tables.register(sync["view"]["register"])
    # The newest of the full load's and the ticks' marks, for the table on screen.
    last = changes if changes and changes.get("load") == sync.get("load") else sync
    now = utcnow()
    with session_scope(settings.database_url, snapshot=True) as session:
        snap = freshness.snapshot(
            versions.current(session=session),
            settings.dataset_expected_interval_s,
            now=now,
            timezone=settings.timezone,
        )
        if snap["day"] != sync.get("day"):
            # Asked once: asking again would cancel the full load on its way.
            return (no_update, no_update, no_update if reload == snap["day"] else snap["day"])
        version = snap["versions"].get(reg.dataset)
        late = reg.dataset in snap["late"]
        if version == last.get("version") and late == last.get("late"):
            return nothing
        rows: list[dict[str, Any]] = []
        mark = last.get("mark")
        if version != last.get("version"):
            frame = register_tables.changed_since(
                reg.name,
                mark,
                session=session,
                scope=current_scope(),
                today=local_today(now),
                subdistrict=sync["view"]["subdistrict"],
                state=sync["view"]["state"],
            )
            mark = register_tables.sync_mark(reg.name, session=session)
            rows = register_tables.records(frame, reg.name, lang=lang, timezone=settings.timezone)
    new_changes = {
        "load": sync.get("load"),
        "seq": ((changes or {}).get("seq") or 0) + 1,
        "mark": mark,
        "version": version,
        "late": late,
        "key": reg.key,
        "rows": rows,
    }
    return new_changes, _fresh_text(snap, reg.dataset, lang), no_update


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
    lang = page_lang(lang)
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
            today=local_today(now),
            lang=lang,
            timezone=settings.timezone,
        )
    data = register_tables.export_bytes(frame, fmt)
    stamp = format_local_time(now, settings.timezone, "%Y%m%d-%H%M")
    logger.info("export of %d %s rows as %s", len(frame), reg.name, fmt)
    return dcc.send_bytes(data, f"{reg.name}-{stamp}.{fmt}", type=EXPORT_MEDIA[fmt])
