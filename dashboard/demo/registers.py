"""Generated registers: enterprises, street shops, construction sites and their workers.

Orders of magnitude come from the reports (see ``DOMAIN.md``): Jiangsu Road subdistrict tracked
204 enterprises, 977 street shops and 10 construction sites; Xuhui had 167 sites. We take
Jiangsu Road's figures as those of an average Xuhui subdistrict and scale:

- enterprises by land area (offices and workshops spread with land), and the Caohejing tech
  park, an enterprise zone, four times over;
- shops by residential committees (street shops follow residents); the tech park, with no
  committees, gets as many as a six-committee subdistrict (canteens and convenience stores);
- sites: exactly 167, about ten per subdistrict, more in the larger ones.

Every ID carries a correct check character (:mod:`dashboard.idcodes`), so the ingestion path's
validation can be exercised with the demo's own data.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib
from collections.abc import Iterable

import numpy as np
import pandas as pd
import shapely

from dashboard.config import Settings
from dashboard.demo import names
from dashboard.demo.areas import apportion
from dashboard.demo.geometry import sample_points
from dashboard.idcodes import (
    CREDIT_CHARSET,
    credit_code_check_char,
    organization_code_check_char,
    resident_id_check_char,
)

logger = logging.getLogger(__name__)

JIANGSU_ROAD_ENTERPRISES = 204
JIANGSU_ROAD_SHOPS = 977
TECH_PARK = "310104501"
TECH_PARK_ENTERPRISE_FACTOR = 4
SHOPS_MIN_COMMITTEES = 6
N_SITES = 167
WORKERS_PER_SITE = (30, 150)
POINT_INSET_M = 20.0  # keep generated points clearly inside their subdistrict

ENTERPRISE_STATES = ("not_registered", "registered", "approved", "reopened", "suspended")
# A campaign in progress: most approved or reopened, some registered, a few not yet, ~4% suspended.
ENTERPRISE_STATE_P = (0.06, 0.14, 0.26, 0.50, 0.04)
# Planned reopening day relative to today, per state (days, [lo, hi)): the plans spread over the
# last three weeks and the next one, so registered or approved ones past their day are laggards.
PLANNED_DAYS = {
    "registered": (-3, 12),
    "approved": (-4, 9),
    "reopened": (-21, 1),
    "suspended": (-21, -2),
}
# Trades enterprises lack (labour gap): their industry's own, and the ones every employer needs.
COMMON_TRADES = ("普工", "电工", "焊工", "厨师", "快递员", "保洁", "保安", "司机")
LABOUR_GAP_SHARE = 0.30
# The state an enterprise came from, for those that changed state today.
PREVIOUS_STATE = {
    "registered": "not_registered",
    "approved": "registered",
    "reopened": "approved",
    "suspended": "reopened",
}
# Chance that an enterprise in a state reached it today, over a whole working day.
CHANGED_TODAY_P = {"registered": 0.06, "approved": 0.07, "reopened": 0.05, "suspended": 0.03}

# Home provinces of construction workers: (name, share, real county-level address codes).
# Shares are illustrative (Anhui, Henan and Jiangsu supply most of Shanghai's site labour).
PROVINCES: tuple[tuple[str, float, tuple[str, ...]], ...] = (
    ("安徽", 0.27, ("340102", "340103", "340104", "341202", "341221")),
    ("河南", 0.15, ("410102", "410105", "411302", "411502")),
    ("江苏", 0.11, ("320102", "320106", "320311", "321302")),
    ("四川", 0.09, ("510104", "510105", "511302")),
    ("江西", 0.07, ("360102", "360103", "361102")),
    ("湖北", 0.02, ("420102", "420103", "420106", "420902", "421002", "421102")),
    ("湖南", 0.05, ("430102", "430104")),
    ("山东", 0.05, ("370102", "370103", "371302")),
    ("浙江", 0.04, ("330102", "330106", "330302", "330381")),
    ("重庆", 0.04, ("500101", "500103", "500106")),
    ("贵州", 0.03, ("520102", "520103")),
    ("云南", 0.02, ("530102", "530103")),
    ("河北", 0.02, ("130102", "130104")),
    ("福建", 0.01, ("350102", "350104")),
    ("甘肃", 0.01, ("620102",)),
    ("上海", 0.02, ("310104", "310110")),
)
# Key regions and the days an arrival from one counts: the product's defaults (config
# ``key_regions``, ``key_region_days``), which the demo follows.
KEY_REGIONS = tuple(Settings.model_fields["key_regions"].default)
KEY_REGION_DAYS = int(Settings.model_fields["key_region_days"].default)


def enterprise_counts(subdistricts: pd.DataFrame) -> np.ndarray:
    """Enterprises per subdistrict: Jiangsu Road's 204 scaled by land area (see module doc)."""
    area = subdistricts["approx_area_km2"].to_numpy()
    n = JIANGSU_ROAD_ENTERPRISES * area / area.mean()
    n = np.where(subdistricts["code"] == TECH_PARK, n * TECH_PARK_ENTERPRISE_FACTOR, n)
    return np.rint(n).astype(int)


def shop_counts(subdistricts: pd.DataFrame) -> np.ndarray:
    """Shops per subdistrict: Jiangsu Road's 977 scaled by residential committees."""
    committees = subdistricts["n_committees"].to_numpy()
    mean = committees[committees > 0].mean()
    return np.rint(JIANGSU_ROAD_SHOPS * np.maximum(committees, SHOPS_MIN_COMMITTEES) / mean).astype(
        int
    )


def site_counts(subdistricts: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Exactly N_SITES, about ten each, more where there is more land."""
    area = subdistricts["approx_area_km2"].to_numpy()
    return apportion(N_SITES, area**0.4 * rng.lognormal(0.0, 0.15, len(area)))


def _points(polys: list, counts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    out = []
    for poly, n in zip(polys, counts, strict=True):
        inner = poly.buffer(-POINT_INSET_M)
        out.append(sample_points(inner if not inner.is_empty else poly, int(n), rng))
    return np.concatenate(out) if out else np.empty((0, 2))


def _credit_codes(n: int, category: str, rng: np.random.Generator, used: set[str]) -> list[str]:
    """``n`` unique credit codes registered in Xuhui (authority 9 = market regulation).

    ``category`` is the second character: 1 for companies, 2 for sole proprietors. Since 2015
    most new organization codes start with ``MA``; older ones are eight digits.
    """
    body_chars = np.array(list(CREDIT_CHARSET))
    digits = np.array(list("0123456789"))
    codes: list[str] = []
    while len(codes) < n:
        if rng.random() < 0.6:
            body = "MA1" + "".join(rng.choice(body_chars, 5))
        else:
            body = "".join(rng.choice(digits, 8))
        org = body + organization_code_check_char(body)
        first17 = f"9{category}310104{org}"
        code = first17 + credit_code_check_char(first17)
        if code not in used:
            used.add(code)
            codes.append(code)
    return codes


def _pick(rng: np.random.Generator, options, size: int) -> np.ndarray:
    """``size`` draws with replacement (numpy's ``choice`` would turn str into numpy str)."""
    return np.asarray(options, dtype=object)[rng.integers(len(options), size=size)]


def build_enterprises(
    subdistricts: pd.DataFrame, polys: list, now: dt.datetime, rng: np.random.Generator
) -> pd.DataFrame:
    """Enterprises at every stage of reopening at local time ``now``, so that every panel
    state has rows to show.

    A filed registration brings the plan (date, headcount); reopening brings employees back
    (check-ins); a third of employers lack staff in some trades (the labour gap). Columns
    ``y_<column>`` hold yesterday's close of the fields that change (see
    :func:`_enterprise_record`).
    """
    counts = enterprise_counts(subdistricts)
    n = int(counts.sum())
    codes = subdistricts["code"].to_numpy().repeat(counts)
    in_park = codes == TECH_PARK
    xy = _points(polys, counts, rng)

    industries = list(names.INDUSTRIES)
    w_out = np.array([names.INDUSTRIES[k]["w"][0] for k in industries])
    w_in = np.array([names.INDUSTRIES[k]["w"][1] for k in industries])
    industry = np.where(
        in_park,
        np.asarray(industries, dtype=object)[rng.choice(len(industries), n, p=w_in / w_in.sum())],
        np.asarray(industries, dtype=object)[rng.choice(len(industries), n, p=w_out / w_out.sum())],
    )

    def make_name(ind: str) -> str:
        a, b = _pick(rng, names.STEMS, 2)
        stem = a if rng.random() < 0.7 else a + b
        return f"上海{stem}{names.INDUSTRIES[ind]['word']}有限公司"

    used: set[str] = set()
    company_names: list[str] = []
    for ind in industry:
        name = make_name(ind)
        while name in used:
            name = make_name(ind)
        used.add(name)
        company_names.append(name)

    roads = [names.ROADS[c] for c in codes]
    address = [
        f"徐汇区{r[rng.integers(len(r))]}{rng.integers(1, 1200)}号"
        + (f"{rng.integers(1, 40)}幢" if park else "")
        for r, park in zip(roads, in_park, strict=True)
    ]

    state = np.asarray(ENTERPRISE_STATES, dtype=object)[
        rng.choice(len(ENTERPRISE_STATES), n, p=ENTERPRISE_STATE_P)
    ]
    median = np.where(in_park, 60.0, 20.0)
    planned = np.clip(np.rint(median * rng.lognormal(0.0, 1.0, n)), 2, 3000).astype(int)
    rows = [
        _enterprise_record(str(state[i]), int(planned[i]), str(industry[i]), now, rng)
        for i in range(n)
    ]
    frame = pd.DataFrame(rows)
    frame.insert(0, "credit_code", _credit_codes(n, "1", rng, set()))
    frame.insert(1, "name", company_names)
    frame.insert(2, "address", address)
    frame.insert(3, "subdistrict_code", codes)
    frame.insert(4, "industry", industry.astype(str))
    frame.insert(5, "state", state.astype(str))
    for col in ("planned_headcount", "returned_headcount", "pending_approvals", "checkins_today",
                "y_returned_headcount", "y_checkins_today"):  # fmt: skip
        frame[col] = frame[col].astype("Int64")
    for col in ("capacity_pct", "y_capacity_pct"):
        frame[col] = frame[col].astype("Float64")
    for col in ("state_changed_at", "y_state_changed_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    frame["geometry"] = shapely.points(xy)
    return frame


def checkin_share(local: dt.datetime) -> float:
    """Share of an enterprise's returned staff who have done today's health check-in by a local
    time: none before 07:00, most by 10:00 (they check in on arrival), all but a few by noon."""
    h = local.hour + local.minute / 60
    return float(np.interp(h, [0, 7, 8, 9, 10, 12, 24], [0, 0, 0.35, 0.7, 0.85, 0.92, 0.95]))


def working_day_elapsed(local: dt.datetime) -> float:
    """Share of the office day (08:00-18:00) gone by a local time: approvals and reopenings
    happen in it."""
    return float(np.clip((local.hour + local.minute / 60 - 8) / 10, 0, 1))


def _enterprise_record(
    state: str, planned: int, industry: str, now: dt.datetime, rng: np.random.Generator
) -> dict:
    """One enterprise today, and as it stood at yesterday's close (``y_*`` fields).

    Returned staff only once reopened (a suspended one keeps those who came back); check-ins
    are today's, so they climb through the morning from zero; the labour gap is what ~30% of
    employers cannot fill, at most the staff still missing.
    """
    today = now.date()
    rec: dict = {
        "planned_reopen_date": None,
        "planned_headcount": None,
        "returned_headcount": None,
        "capacity_pct": None,
        "pending_approvals": None,
        "checkins_today": None,
        "labour_gap": None,
        "state_changed_at": None,
    }
    # Did it reach its state today (working hours only, except self-registration online)?
    elapsed = (now.hour + now.minute / 60) / 24 if state == "registered" else None
    elapsed = working_day_elapsed(now) if elapsed is None else elapsed
    changed_today = rng.random() < CHANGED_TODAY_P.get(state, 0.0) * elapsed
    prev = PREVIOUS_STATE[state] if changed_today else state
    if state == "not_registered":
        rec["y_state"] = prev
        return rec
    lo, hi = PLANNED_DAYS[state]
    planned_day = today + dt.timedelta(days=int(rng.integers(lo, hi)))
    if state == "reopened" and changed_today:
        planned_day = min(planned_day, today)
    returned = 0
    if state in ("reopened", "suspended"):
        returned = int(round(planned * rng.uniform(0.5, 1.0 if state == "reopened" else 0.8)))
    pending = {
        "registered": int(round(planned * rng.uniform(0.3, 1.0))),
        "approved": int(round(planned * rng.uniform(0.1, 0.6))),
        "reopened": int(round((planned - returned) * rng.uniform(0.0, 0.3))),
        "suspended": 0,
    }[state]
    capacity = 0.0
    if state == "reopened":
        capacity = float(np.clip(100 * returned / planned * rng.uniform(0.8, 1.1), 0, 100))
    diligence = rng.uniform(0.85, 1.0)
    checkins = int(returned * diligence * checkin_share(now)) if state == "reopened" else 0
    labour_gap = None
    missing = planned - returned
    if state != "registered" and missing > 0 and rng.random() < LABOUR_GAP_SHARE / 0.8:
        trades = sorted(set(names.INDUSTRIES[industry]["trades"]) | set(COMMON_TRADES))
        k = int(rng.integers(1, 4))
        chosen = [trades[j] for j in sorted(rng.choice(len(trades), k, replace=False))]
        short = max(1, int(round(missing * rng.uniform(0.1, 0.5))))
        split = np.bincount(rng.integers(0, k, short), minlength=k)
        labour_gap = {t: int(v) for t, v in zip(chosen, split, strict=True) if v}
    if changed_today:
        start = 0 if state == "registered" else 8 * 60
        span = max(1, int(now.hour * 60 + now.minute) - start)
        at = dt.datetime.combine(today, dt.time()) + dt.timedelta(
            minutes=start + int(rng.integers(0, span))
        )
    else:
        # Reached its state on or after its planned day when that is past; else days ago.
        ago = int(rng.integers(1, 15))
        if state == "reopened":
            ago = max(1, (today - planned_day).days - int(rng.integers(0, 3)))
        at = dt.datetime.combine(today - dt.timedelta(days=ago), dt.time(9)) + dt.timedelta(
            minutes=int(rng.integers(0, 8 * 60))
        )
    rec.update(
        planned_reopen_date=planned_day,
        planned_headcount=planned,
        returned_headcount=returned,
        capacity_pct=round(capacity, 1),
        pending_approvals=pending,
        checkins_today=checkins,
        labour_gap=labour_gap,
        state_changed_at=at.replace(tzinfo=now.tzinfo),
    )
    # Yesterday's close: the state before today's change, and a whole day of check-ins.
    at_work_y = prev in ("reopened", "suspended")
    y_returned = returned if at_work_y else 0
    y_capacity = 0.0
    if prev == "reopened":
        y_capacity = capacity if state == "reopened" else min(100.0, 100 * returned / planned)
    filed = prev != "not_registered"
    rec["y_state"] = prev
    rec["y_returned_headcount"] = y_returned if filed else None
    rec["y_capacity_pct"] = round(y_capacity, 1) if filed else None
    rec["y_checkins_today"] = (
        (int(y_returned * diligence * 0.95) if prev == "reopened" else 0) if filed else None
    )
    rec["y_state_changed_at"] = (
        rec["state_changed_at"] - dt.timedelta(days=int(rng.integers(2, 10)))
        if changed_today
        else rec["state_changed_at"]
    )
    return rec


SHOP_OPEN_P = 0.87  # of the shops not closed down, the share that opens on a given day
SHOP_REPORT_MINUTES = (7 * 60, 10 * 60)  # shops report between 07:00 and 10:00 ...
SHOP_LATE_P = 0.04  # ... except a few that report late in the morning (10:00-12:00)
SHOP_CLOSED_DOWN_P = 0.005


def _hash_uniform(seed: int, what: str, day: dt.date, ids: Iterable[str]) -> np.ndarray:
    """A uniform [0, 1) draw per id and day that depends on nothing else (not on which other
    ids are in the register), so the demo builder and the simulator agree on every shop."""
    prefix = f"{seed}:{what}:{day.isoformat()}:".encode()
    return np.array([zlib.crc32(prefix + i.encode()) for i in ids], dtype=float) / 2**32


def shop_day_plan(seed: int, day: dt.date, licence_ids: Iterable[str]) -> pd.DataFrame:
    """When each shop reports on ``day`` (minute of the local day) and whether it opens."""
    ids = list(licence_ids)
    u = _hash_uniform(seed, "shop-minute", day, ids)
    late = _hash_uniform(seed, "shop-late", day, ids) < SHOP_LATE_P
    lo, hi = SHOP_REPORT_MINUTES
    minute = np.where(late, hi + u * 120, lo + u * (hi - lo)).astype(int)
    is_open = _hash_uniform(seed, "shop-open", day, ids) < SHOP_OPEN_P
    return pd.DataFrame({"licence_id": ids, "minute": minute, "is_open": is_open})


def build_shops(
    subdistricts: pd.DataFrame,
    polys: list,
    rng: np.random.Generator,
    taken_codes: set[str],
    *,
    seed: int,
    now: dt.datetime,
) -> pd.DataFrame:
    """Street shops with a sole-proprietor licence each, with registered staff and their
    day's report at local time ``now``: yesterday's for all (``open_on`` yesterday), replaced
    by today's for the shops whose report time (07:00-10:00, see :func:`shop_day_plan`) has
    passed. ``y_is_open``/``y_open_on`` hold yesterday's close. ``taken_codes`` are the
    enterprises' codes: a licence must not reuse one.
    """
    counts = shop_counts(subdistricts)
    n = int(counts.sum())
    codes = subdistricts["code"].to_numpy().repeat(counts)
    xy = _points(polys, counts, rng)
    road = [r[rng.integers(len(r))] for r in (names.ROADS[c] for c in codes)]
    street = [f"{r}{k}号" for r, k in zip(road, rng.integers(1, 1200, n), strict=True)]
    stems = np.asarray(names.STEMS, dtype=object)[rng.integers(len(names.STEMS), size=n)]
    kinds = np.asarray(names.SHOP_KINDS, dtype=object)[rng.integers(len(names.SHOP_KINDS), size=n)]
    # A name seen before becomes a branch, the way chains name their shops: 兰馨便利店（田林路店）.
    shop_names, seen = [], set()
    for stem, kind, r in zip(stems, kinds, road, strict=True):
        name = stem + kind
        if name in seen:
            name = f"{name}（{r}店）"
        seen.add(name)
        shop_names.append(name)
    licences = _credit_codes(n, "2", rng, taken_codes)
    closed_down = rng.random(n) < SHOP_CLOSED_DOWN_P
    # Open shops register their staff (Xuhui: 20,323 shop staff registered in all).
    staff = np.where(closed_down, 0, 1 + rng.poisson(0.7, n))
    today = now.date()
    yesterday = today - dt.timedelta(days=1)
    y_plan = shop_day_plan(seed, yesterday, licences)
    plan = shop_day_plan(seed, today, licences)
    reported = plan["minute"].to_numpy() <= now.hour * 60 + now.minute
    y_open = y_plan["is_open"].to_numpy() & ~closed_down
    is_open = np.where(reported, plan["is_open"].to_numpy(), y_open) & ~closed_down
    return pd.DataFrame(
        {
            "licence_id": licences,
            "name": shop_names,
            "street": street,
            "subdistrict_code": codes,
            "is_open": is_open,
            "open_on": np.where(reported, today, yesterday),
            "closed_down": closed_down,
            "staff_registered": staff.astype(int),
            "y_is_open": y_open,
            "y_open_on": yesterday,
            "geometry": shapely.points(xy),
        }
    )


SITE_APPROVED_P = 0.12  # sites approved but not yet back at work; the rest reopened ...
SITE_SUSPENDED = 2  # ... but for two suspended (a safety or epidemic-control stop)
SITE_PLANNED_DAYS = {"reopened": (-21, 0), "approved": (-3, 8), "suspended": (-21, -6)}
KEY_RECENT = (8, 16)  # key-region arrivals in the last key_region_days, across the district
KEY_UNCHECKED = (2, 5)  # of those, certificates not yet checked (each at its own site)


def site_counts_on(sites: pd.Series, workers: pd.DataFrame, day: dt.date, key_days: int) -> dict:
    """Each site's figures on ``day`` from its workers, counted as the ingestion path's
    ``recount_sites`` counts them: headcount, arrivals that day, key-region arrivals within
    the last ``key_days`` days (that day included) and those of them not checked. Workers
    arriving after ``day`` are not there yet."""
    w = workers[workers["arrived_on"] <= day]
    since = day - dt.timedelta(days=key_days - 1)
    key = w["from_key_region"].astype(bool) & (w["arrived_on"] >= since)
    unchecked = key & (w["certificate_checked"].map(lambda v: v is not True))

    def per_site(mask) -> np.ndarray:
        return w[mask].groupby("site_id").size().reindex(sites, fill_value=0).to_numpy()

    return {
        "headcount": per_site(np.ones(len(w), dtype=bool)),
        "new_arrivals_today": per_site((w["arrived_on"] == day).to_numpy()),
        "key_region_arrivals": per_site(key.to_numpy()),
        "unchecked_arrivals": per_site(unchecked.to_numpy()),
    }


def build_sites(
    subdistricts: pd.DataFrame, polys: list, now: dt.datetime, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sites and their workers at local time ``now``: most back at work, a few approved, two
    suspended; a handful of recent key-region arrivals, a few not yet checked. A site's counts
    are its workers' (``y_<column>`` for yesterday's close)."""
    today = now.date()
    counts = site_counts(subdistricts, rng)
    codes = subdistricts["code"].to_numpy().repeat(counts)
    xy = _points(polys, counts, rng)
    site_ids = [f"SG310104{2017 + i % 3}{i + 1:04d}" for i in range(N_SITES)]

    def make_site_name(code: str) -> str:
        roads = names.ROADS[code]
        return f"{roads[rng.integers(len(roads))]}{_pick(rng, names.SITE_PROJECTS, 1)[0]}"

    site_names: list[str] = []
    for code in codes:
        name = make_site_name(code)
        k = 2
        base = name
        while name in site_names:
            name = f"{base}（{k}标段）"
            k += 1
        site_names.append(name)
    contractors = [
        f"上海{a}建设工程有限公司" if rng.random() < 0.8 else f"上海{a}{b}建筑集团有限公司"
        for a, b in (_pick(rng, names.STEMS[:40], 2) for _ in range(N_SITES))
    ]
    lo, hi = WORKERS_PER_SITE
    sizes = rng.integers(lo, hi + 1, N_SITES)
    workers = build_workers(
        site_ids,
        sizes,
        today,
        rng,
        key_recent=int(rng.integers(*KEY_RECENT)),
        key_unchecked=int(rng.integers(*KEY_UNCHECKED)),
    )

    state = np.where(rng.random(N_SITES) < SITE_APPROVED_P, "approved", "reopened").astype(object)
    state[rng.choice(N_SITES, SITE_SUSPENDED, replace=False)] = "suspended"
    planned, changed = [], []
    reopen_today = rng.random(N_SITES) < 0.01 * working_day_elapsed(now)
    y_state = state.copy()
    for i, s in enumerate(state):
        lo_d, hi_d = SITE_PLANNED_DAYS[s]
        day = today + dt.timedelta(days=int(rng.integers(lo_d, hi_d)))
        if s == "reopened" and reopen_today[i]:
            y_state[i] = "approved"
            at = dt.datetime.combine(today, dt.time(8)) + dt.timedelta(
                minutes=int(rng.integers(0, max(1, (now.hour - 8) * 60 + now.minute)))
            )
        else:
            at = dt.datetime.combine(day, dt.time(8)) + dt.timedelta(
                days=int(rng.integers(0, 3)), minutes=int(rng.integers(0, 120))
            )
            at = min(at, dt.datetime.combine(today - dt.timedelta(days=1), dt.time(17)))
        planned.append(day)
        changed.append(at.replace(tzinfo=now.tzinfo))
    key_days = KEY_REGION_DAYS
    sites = pd.DataFrame(
        {
            "site_id": site_ids,
            "name": site_names,
            "contractor": contractors,
            "subdistrict_code": codes,
            "state": state.astype(str),
            "planned_reopen_date": planned,
            "state_changed_at": pd.to_datetime(changed, utc=True),
            **site_counts_on(pd.Series(site_ids), workers, today, key_days),
            "y_state": y_state.astype(str),
            **{
                f"y_{k}": v
                for k, v in site_counts_on(
                    pd.Series(site_ids), workers, today - dt.timedelta(days=1), key_days
                ).items()
            },
            "geometry": shapely.points(xy),
        }
    )
    return sites, workers


def build_workers(
    site_ids: list[str],
    sizes: np.ndarray,
    today: dt.date,
    rng: np.random.Generator,
    *,
    key_recent: int = 0,
    key_unchecked: int = 0,
) -> pd.DataFrame:
    """Workers with valid 18-character ID numbers consistent with their home province.

    Recent arrivals (the last ``KEY_REGION_DAYS``) come from key regions only as told:
    ``key_recent`` of them, at as many different sites as possible, the first
    ``key_unchecked`` with their isolation certificate not yet checked. Earlier arrivals from
    a key region are flagged too, their certificate checked long ago.
    """
    n = int(sizes.sum())
    province_p = np.array([p for _, p, _ in PROVINCES])
    is_key = np.array([name.startswith(KEY_REGIONS) for name, _, _ in PROVINCES])
    which = rng.choice(len(PROVINCES), n, p=province_p / province_p.sum())
    other_p = np.where(is_key, 0.0, province_p)
    other = rng.choice(len(PROVINCES), n, p=other_p / other_p.sum())
    age_days = rng.integers(18 * 365 + 5, 60 * 365, n)
    # Most came back before or around the Spring Festival; some this fortnight; a few today.
    u = rng.random(n)
    ago = np.where(u < 0.03, 0, np.where(u < 0.35, rng.integers(1, 15, n), rng.integers(15, 90, n)))
    recent = ago < KEY_REGION_DAYS
    which = np.where(recent & is_key[which], other, which)
    # The key-region arrivals: one worker each at distinct sites (sites in order of the draw).
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(int)
    k = min(key_recent, len(site_ids))
    chosen_sites = rng.choice(len(site_ids), k, replace=False) if k else np.array([], int)
    key_idx = np.array(
        [starts[j] + int(rng.integers(sizes[j])) for j in chosen_sites], dtype=int
    )
    key_home = int(np.flatnonzero(is_key)[0])
    which[key_idx] = key_home
    ago[key_idx] = rng.integers(0, KEY_REGION_DAYS, len(key_idx)) if len(key_idx) else ago[key_idx]
    unchecked = np.zeros(n, dtype=bool)
    unchecked[key_idx[:key_unchecked]] = True
    used: set[str] = set()
    ids, names_out, home, key = [], [], [], []
    for i in range(n):
        province, _, counties = PROVINCES[which[i]]
        county = counties[rng.integers(len(counties))]
        birth = today - dt.timedelta(days=int(age_days[i]))
        while True:
            first17 = f"{county}{birth:%Y%m%d}{rng.integers(1, 1000):03d}"
            id_number = first17 + resident_id_check_char(first17)
            if id_number not in used:
                break
        used.add(id_number)
        ids.append(id_number)
        given = "".join(_pick(rng, names.GIVEN_CHARS, int(rng.integers(1, 3))))
        names_out.append(names.SURNAMES[rng.integers(len(names.SURNAMES))] + given)
        home.append(province)
        key.append(bool(is_key[which[i]]))
    arrived = [today - dt.timedelta(days=int(d)) for d in ago]
    # Arrivals from a key region must show a 14-day home-isolation certificate.
    certificate = [
        (None if u else True) if k else None for u, k in zip(unchecked, key, strict=True)
    ]
    return pd.DataFrame(
        {
            "id_number": ids,
            "site_id": np.repeat(site_ids, sizes),
            "name": names_out,
            "home_province": home,
            "arrived_on": arrived,
            "from_key_region": np.array(key, dtype=bool),
            "certificate_checked": pd.Series(certificate, dtype=object),
        }
    )
