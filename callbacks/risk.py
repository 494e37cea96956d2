"""The community-risk page ``/risk``: the day and compound pickers, the map, why a compound
scored what it did, and the what-if re-weighting.

The what-if callback must answer within a few hundred milliseconds however often a leader
changes a weight: it reads the day's inputs (every compound's 13 values, carried forward as the
nightly job did) once per (database, scope, day, data versions, model in force) into a small
process-local cache, then re-scores them with numpy (:func:`dashboard.risk.score`). The model in
force is read, never written: the what-if model is a copy, named ``<version>+custom``.
"""

from __future__ import annotations

import datetime as dt
import logging
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
from dash import (
    ALL,
    ClientsideFunction,
    Input,
    Output,
    Patch,
    State,
    callback,
    clientside_callback,
    html,
    no_update,
)
from dash.development.base_component import Component

from callbacks.common import current_scope, map_base, map_size, page_lang, table, with_values
from dashboard import figures, queries, risk, versions
from dashboard.config import get_settings
from dashboard.db import session_scope
from dashboard.i18n import format_count, label, t
from dashboard.models import AreaLevel
from layouts.ids import Risk

logger = logging.getLogger(__name__)

HISTORY_DAYS = 30
WHATIF_LIST_LIMIT = 30  # compounds listed by name; the transitions table counts them all
# The data a day's inputs come from: a new version of any is a new cache entry. Not "risk":
# the inputs do not depend on stored scores, and the catch-up re-scores every few minutes while
# returns arrive, which would empty the cache each time.
WHATIF_DATASETS = ("areas", "indicators")


def _day(value: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


def _band(band: str, lang: str) -> str:
    return t(f"risk.band.{band}", lang)


def _number(value: float | None, digits: int = 2) -> str:
    if value is None:
        return "—"
    return f"{value:,.{digits}f}".rstrip("0").rstrip(".") if digits else f"{value:,.0f}"


# --------------------------------------------------------------------------- pickers


@callback(
    Output(Risk.DATE, "options"),
    Output(Risk.DATE, "value"),
    Output(Risk.COMPOUND, "options"),
    Output(Risk.COMPOUND, "value"),
    Input(Risk.LANG, "data"),
    State(Risk.REQUESTED, "data"),
)
def load_choices(
    _lang: str | None, requested: str | None = None
) -> tuple[list[dict[str, str]], str | None, list[dict[str, str]], str | None]:
    """The scored days (newest first, the newest chosen), every compound to search, and the
    compound the URL asked for (if it is one in scope)."""
    scope = current_scope()
    with session_scope(get_settings().database_url) as session:
        days = queries.risk_dates(session=session, scope=scope)
        compounds = queries.compound_options(session=session, scope=scope)
    day_options = [{"label": d.isoformat(), "value": d.isoformat()} for d in reversed(days)]
    compound_options = [
        {"label": f"{name} · {sub}" if sub else name, "value": code, "search": f"{name} {sub}"}
        for code, name, sub in compounds
    ]
    known = {code for code, _, _ in compounds}
    chosen = requested if requested in known else None
    return day_options, (days[-1].isoformat() if days else None), compound_options, chosen


@callback(
    Output(Risk.COMPOUND, "value", allow_duplicate=True),
    Input(Risk.MAP, "clickData"),
    prevent_initial_call=True,
)
def pick_on_map(click: dict[str, Any] | None) -> Any:
    """A click on a compound selects it (the map's locations are compound codes)."""
    try:
        return click["points"][0]["location"]  # type: ignore[index]
    except (TypeError, KeyError, IndexError):
        return no_update


# --------------------------------------------------------------------------- the map


@callback(
    Output(Risk.MAP, "figure"),
    Output(Risk.MAP_AREAS, "data"),
    Input(Risk.DATE, "value"),
    Input(Risk.MAP_SIZE, "data"),
    State(Risk.LANG, "data"),
    State(Risk.MAP_AREAS, "data"),
    State(Risk.MAP, "relayoutData"),
)
def refresh_risk_map(
    day_value: str | None,
    measured: dict[str, Any] | None,
    lang: str | None,
    drawn: dict[str, Any] | None = None,
    relayout: dict[str, Any] | None = None,
) -> tuple[Any, Any]:
    """Another day: a Patch of the band codes, edges and hover scores. The full figure only
    when the page has none yet, or it was drawn for other boundaries or another map size
    (``drawn`` records both)."""
    settings = get_settings()
    scope = current_scope()
    day = _day(day_value)
    size = map_size(measured)
    with session_scope(settings.database_url) as session:
        areas_version = versions.current(session=session).get("areas", (None, None))[0]
        wanted = {"areas": areas_version, "size": None if size is None else list(size)}
        rows = [] if day is None else queries.risk_scores_for(day, session=session, scope=scope)
        codes = None
        if drawn == wanted:
            codes = [
                c.code
                for c in queries.areas(
                    session=session, scope=scope, level=AreaLevel.COMPOUND, with_geometry=False
                )
            ]
    bands = {r.code: (r.band, r.complete) for r in rows}
    scores = {r.code: r.score for r in rows}
    if codes is not None:
        z, edges = figures.risk_map_values(codes, bands)
        patch = Patch()
        patch["data"][0]["z"] = z
        patch["data"][0]["marker"]["line"]["color"] = edges
        patch["data"][0]["text"] = figures.score_texts(codes, scores)
        return patch, no_update
    base = map_base(settings.database_url, scope, areas_version, page_lang(lang), size, True)
    locations = base["data"][0]["locations"]
    z, edges = figures.risk_map_values(locations, bands)
    text = figures.score_texts(locations, scores)
    figure = with_values(base, {"z": z, "text": text, "marker.line.color": edges}, relayout)
    return figure, wanted


# --------------------------------------------------------------------------- one compound


def _summary(detail: queries.CompoundDetail, total: int, lang: str) -> Component:
    s = detail.score
    change = detail.rank_change
    since = f"{detail.previous_day:%m-%d}" if detail.previous_day else ""
    if change is None:
        moved = t("risk.rank_new", lang)
    elif change > 0:
        moved = t("risk.rank_up", lang, n=change, date=since)
    elif change < 0:
        moved = t("risk.rank_down", lang, n=-change, date=since)
    else:
        moved = t("risk.rank_same", lang, date=since)
    missing = [i.name(lang) for i in detail.indicators if i.missing]
    completeness = (
        t("risk.complete", lang)
        if s.complete
        else t(
            "risk.incomplete",
            lang,
            names=t("list.separator", lang).join(missing),
            upper=f"{s.score_upper:.1f}",
        )
    )
    where = " · ".join(x for x in (s.committee_name, s.subdistrict_name) if x)
    population = (
        t("risk.population", lang, n=format_count(detail.population))
        if detail.population
        else ""
    )
    return html.Div(
        className=f"summary band-{s.band}",
        children=[
            html.Div(
                className="summary-name",
                children=[
                    html.H2(s.name),
                    html.Span(" · ".join(x for x in (where, population) if x)),
                ],
            ),
            html.Div(
                className="summary-figures",
                children=[
                    html.Div(
                        className="summary-score",
                        children=[
                            html.Span(t("risk.score", lang), className="summary-label"),
                            html.Span(f"{s.score:.1f}", className="summary-num"),
                            html.Span(
                                f"{_band(s.band, lang)} · {t(f'risk.level.{s.band}', lang)}",
                                className=f"band-badge band-{s.band}",
                            ),
                        ],
                    ),
                    html.Div(
                        className="summary-rank",
                        children=[
                            html.Span(t("risk.rank", lang), className="summary-label"),
                            html.Span(
                                t("risk.rank_of", lang, rank=s.rank, total=format_count(total)),
                                className="summary-num small",
                            ),
                            html.Span(
                                moved,
                                className="rank-move"
                                + (" up" if change and change > 0 else "")
                                + (" down" if change and change < 0 else ""),
                            ),
                        ],
                    ),
                ],
            ),
            html.P(completeness, className="summary-complete" + ("" if s.complete else " warn")),
        ],
    )


def _values_table(detail: queries.CompoundDetail, lang: str) -> Component:
    rows = []
    for i in detail.indicators:
        if i.missing:
            note: Any = html.Span(t("risk.flag.missing", lang), className="flag missing")
        elif i.carried and i.value_date is not None:
            note = html.Span(
                t("risk.flag.carried", lang, date=f"{i.value_date:%m-%d}"), className="flag"
            )
        else:
            note = ""
        rows.append(
            [
                i.name(lang),
                _number(i.value, 3),
                label("basis", i.basis, lang),
                _number(i.basis_value, 3 if i.basis == "ratio" else 2),
                _number(i.cap, 3),
                f"{100 * i.weight:g}%",
                _number(i.sub_score, 1),
                _number(i.contribution, 2),
                note,
            ]
        )
    headers = [
        t(f"col.{k}", lang)
        for k in (
            "indicator",
            "value",
            "basis",
            "basis_value",
            "cap",
            "weight",
            "sub_score",
            "contribution",
            "note",
        )
    ]
    return table(headers, rows, empty=t("ops.empty", lang))


@callback(
    Output(Risk.SUMMARY, "children"),
    Output(Risk.HISTORY, "figure"),
    Output(Risk.CONTRIBUTIONS, "figure"),
    Output(Risk.VALUES, "children"),
    Input(Risk.COMPOUND, "value"),
    Input(Risk.DATE, "value"),
    State(Risk.LANG, "data"),
)
def show_compound(code: str | None, day_value: str | None, lang: str | None) -> tuple[Any, ...]:
    """Why the compound scored what it did on the day, and how it moved over 30 days."""
    lang = page_lang(lang)
    day = _day(day_value)
    if not code or day is None:
        prompt = html.P(t("risk.pick_prompt", lang), className="risk-note")
        return prompt, figures.blank(), figures.blank(), []
    scope = current_scope()
    with session_scope(get_settings().database_url) as session:
        detail = queries.compound_detail(code, day, session=session, scope=scope)
        if detail is None:
            message = t("risk.not_scored", lang, date=day.isoformat())
            return html.P(message, className="risk-note"), figures.blank(), figures.blank(), []
        history = queries.compound_history(
            code, session=session, scope=scope, until=day, days=HISTORY_DAYS
        )
        total = queries.band_totals(day, session=session, scope=scope).total
    history_fig = figures.score_history(
        [h.date for h in history],
        [h.score for h in history],
        [h.score_upper for h in history],
        [h.band for h in history],
        [h.rank for h in history],
        figures.HistoryLabels(
            score=t("risk.score", lang), upper=t("risk.upper", lang), rank=t("risk.rank", lang)
        ),
        red_at=risk.RED_AT,
        yellow_at=risk.YELLOW_AT,
    )
    contributions_fig = figures.contributions(
        [i.name(lang) for i in detail.indicators],
        [i.weight for i in detail.indicators],
        [i.contribution for i in detail.indicators],
        [i.carried for i in detail.indicators],
        figures.ContributionLabels(
            contribution=t("risk.contribution", lang),
            possible=t("risk.possible", lang),
            missing=t("risk.missing", lang),
            carried=t("risk.carried_note", lang),
        ),
        band=detail.score.band,
    )
    values = [_values_table(detail, lang)]
    if any(i.carried for i in detail.indicators):
        values.append(html.P(t("risk.carried_note", lang), className="risk-note"))
    return _summary(detail, total, lang), history_fig, contributions_fig, values


# --------------------------------------------------------------------------- what-if


@dataclass(frozen=True)
class WhatIfDay:
    """One day's inputs in scope, scored once with the model in force (the "from" side)."""

    inputs: risk.DayInputs
    names: np.ndarray
    subdistricts: np.ndarray
    baseline: risk.Scores


@lru_cache(maxsize=8)
def whatif_day(
    url: str,
    scope: queries.AreaScope,
    day: dt.date,
    data_versions: tuple[int | None, ...],
    model: risk.RiskModel,
    carry_days: int,
) -> WhatIfDay:
    """Read and score a day once; every what-if of that day reuses it.

    A process-local ``lru_cache`` keyed by the data versions it was read from (and the model
    in force), so it is never stale: new scores or indicators are a new key. Each web process
    keeps its own few entries (about 150 kB per day for 957 compounds); none is installed to
    share them, and a worker rebuilds one in well under a second.
    """
    del data_versions  # part of the cache key only
    with session_scope(url) as session:
        inputs = risk.day_inputs(day, session=session, model=model, carry_days=carry_days)
        labels = {
            code: (name, sub)
            for code, name, sub in queries.compound_options(session=session, scope=scope)
        }
    keep = np.array([scope.allows(code) for code in inputs.codes], dtype=bool)
    if not keep.all():
        inputs = risk.DayInputs(
            date=inputs.date,
            codes=inputs.codes[keep],
            values=inputs.values[keep],
            carried=inputs.carried[keep],
            population=inputs.population[keep],
        )
    names = np.array([labels.get(c, (c, ""))[0] for c in inputs.codes], dtype=object)
    subs = np.array([labels.get(c, (c, ""))[1] for c in inputs.codes], dtype=object)
    baseline = risk.score(inputs.codes, inputs.values, inputs.population, model)
    return WhatIfDay(inputs, names, subs, baseline)


def weight_problem(
    percents: dict[str, Any], model: risk.RiskModel, lang: str
) -> tuple[risk.RiskModel | None, str | None]:
    """The what-if model for these weights (in percent), or why they are refused.

    :meth:`dashboard.risk.RiskModel.with_weights` decides, by the rules the model file obeys;
    the message names the first offending indicator in the page's language (or the sum), and
    falls back to the rule's own words for anything else.
    """
    for key in model.keys:
        if not _is_number(percents.get(key)):
            return None, t("whatif.err_empty", lang, name=_indicator_name(model, key, lang))
    try:
        return model.with_weights({k: percents[k] / 100 for k in model.keys}), None
    except risk.ModelError as exc:
        limits = {"min": f"{100 * risk.MIN_WEIGHT:g}", "max": f"{100 * risk.MAX_WEIGHT:g}"}
        for key in model.keys:
            value = percents[key]
            name = _indicator_name(model, key, lang)
            if value / 100 < risk.MIN_WEIGHT - risk.WEIGHT_TOLERANCE:
                return None, t("whatif.err_low", lang, name=name, value=f"{value:g}", **limits)
            if value / 100 > risk.MAX_WEIGHT + risk.WEIGHT_TOLERANCE:
                return None, t("whatif.err_high", lang, name=name, value=f"{value:g}", **limits)
        total = math.fsum(percents[k] for k in model.keys)
        if abs(total / 100 - 1) > risk.SUM_TOLERANCE:
            return None, t("whatif.err_sum", lang, sum=f"{total:g}")
        return None, str(exc)


def _is_number(value: Any) -> bool:
    return (
        isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    )


def _indicator_name(model: risk.RiskModel, key: str, lang: str) -> str:
    indicator = model.indicator(key)
    return indicator.name_en if lang == "en" else indicator.name_zh


def band_transitions(before: np.ndarray, after: np.ndarray) -> Counter[tuple[str, str]]:
    """How many compounds go from each band to each other band."""
    moved = before != after
    return Counter(zip(before[moved].tolist(), after[moved].tolist(), strict=True))


# Transitions listed worst news first: into red, then into yellow, then the easings.
_TRANSITION_ORDER = {
    ("blue", "red"): 0,
    ("yellow", "red"): 1,
    ("blue", "yellow"): 2,
    ("red", "yellow"): 3,
    ("yellow", "blue"): 4,
    ("red", "blue"): 5,
}


def _band_chip(band: str, lang: str) -> Component:
    return html.Span(_band(band, lang), className=f"band-badge band-{band}")


def _whatif_result(
    day: WhatIfDay, after: risk.Scores, lang: str
) -> list[Component]:
    before = day.baseline
    counts = band_transitions(before.band, after.band)
    total = len(before)
    changed = int(sum(counts.values()))
    if not changed:
        return [html.P(t("whatif.none", lang, total=format_count(total)), className="whatif-head")]
    head = html.P(
        t("whatif.result", lang, n=format_count(changed), total=format_count(total)),
        className="whatif-head",
    )
    transitions = table(
        [t("col.transition", lang), t("col.count", lang)],
        [
            [html.Span([_band_chip(a, lang), " → ", _band_chip(b, lang)]), format_count(n)]
            for (a, b), n in sorted(counts.items(), key=lambda kv: _TRANSITION_ORDER[kv[0]])
        ],
        empty="",
    )
    rows = np.flatnonzero(before.band != after.band)
    rows = rows[np.argsort(-after.score[rows], kind="stable")]
    listed = [
        [
            day.names[r],
            day.subdistricts[r],
            html.Span([f"{before.score[r]:.1f} ", _band_chip(before.band[r], lang)]),
            html.Span([f"{after.score[r]:.1f} ", _band_chip(after.band[r], lang)]),
        ]
        for r in rows[:WHATIF_LIST_LIMIT]
    ]
    compounds = table(
        [t(f"col.{k}", lang) for k in ("compound", "subdistrict", "score_now", "score_whatif")],
        listed,
        empty="",
    )
    more = (
        [html.P(t("whatif.more", lang, n=format_count(len(rows) - WHATIF_LIST_LIMIT)))]
        if len(rows) > WHATIF_LIST_LIMIT
        else []
    )
    return [head, html.Div(className="whatif-tables", children=[transitions, compounds]), *more]


@callback(
    Output(Risk.WEIGHT_SUM, "children"),
    Output(Risk.WEIGHT_SUM, "className"),
    Output(Risk.WHATIF_MESSAGE, "children"),
    Output(Risk.WHATIF_RESULT, "children"),
    Input({"type": Risk.WEIGHT, "key": ALL}, "value"),
    Input(Risk.DATE, "value"),
    State({"type": Risk.WEIGHT, "key": ALL}, "id"),
    State(Risk.LANG, "data"),
)
def what_if(
    weights: list[Any], day_value: str | None, ids: list[dict[str, str]], lang: str | None
) -> tuple[Any, ...]:
    """Re-score the chosen day with these weights and list the compounds that change band."""
    lang = page_lang(lang)
    percents = {i["key"]: w for i, w in zip(ids, weights, strict=True)}
    numbers = [w for w in weights if _is_number(w)]
    total = math.fsum(numbers)
    sum_text = t("whatif.sum", lang, sum=f"{total:g}")
    sum_css = "weight-sum ok" if abs(total - 100) <= 1e-4 else "weight-sum bad"
    try:
        model = risk.load_model()
    except risk.ModelError as exc:
        return sum_text, sum_css, t("whatif.err_model", lang, error=str(exc)), []
    candidate, problem = weight_problem(percents, model, lang)
    if candidate is None:
        return sum_text, sum_css, html.Span(problem, className="risk-error"), []
    day = _day(day_value)
    if day is None:
        return sum_text, sum_css, t("whatif.no_day", lang), []
    settings = get_settings()
    scope = current_scope()
    with session_scope(settings.database_url) as session:
        current = versions.current(session=session)
    data_versions = tuple(current.get(name, (None, None))[0] for name in WHATIF_DATASETS)
    cached = whatif_day(
        settings.database_url, scope, day, data_versions, model, settings.risk_carry_forward_days
    )
    inputs = cached.inputs
    after = risk.score(inputs.codes, inputs.values, inputs.population, candidate)
    return sum_text, sum_css, "", _whatif_result(cached, after, lang)


@callback(
    Output({"type": Risk.WEIGHT, "key": ALL}, "value"),
    Input(Risk.WHATIF_RESET, "n_clicks"),
    State({"type": Risk.WEIGHT, "key": ALL}, "id"),
    prevent_initial_call=True,
)
def reset_weights(_n_clicks: int | None, ids: list[dict[str, str]]) -> list[Any]:
    """Back to the weights of the model in force."""
    try:
        model = risk.load_model()
    except risk.ModelError:
        return [no_update] * len(ids)
    return [percent(model.indicator(i["key"]).weight) for i in ids]


def percent(weight: float) -> float:
    """A weight as the percent shown in its input (0.13 -> 13, not 13.000000000000002)."""
    return round(100 * weight, 6)


# Measured once, when the page mounts: the map's size decides the zoom that fits the district.
clientside_callback(
    ClientsideFunction(namespace="risk", function_name="measure"),
    Output(Risk.MAP_SIZE, "data"),
    Input(Risk.LANG, "data"),
)
