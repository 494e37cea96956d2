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

import numpy as np
import pandas as pd
import shapely

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
ENTERPRISE_STATE_P = (0.12, 0.18, 0.25, 0.40, 0.05)

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
# Key regions of February 2020, by address-code prefix: Hubei, and Wenzhou (Zhejiang).
KEY_REGION_PREFIXES = ("42", "3303")


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
    subdistricts: pd.DataFrame, polys: list, today: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """Enterprises at every stage of reopening, so that every panel state has rows to show.

    A filed registration brings the plan (date, headcount); approval brings employees back
    (pending approvals, check-ins); whatever headcount is still missing is the labour gap,
    split over the industry's trades.
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
    rows = []
    for i in range(n):
        s = state[i]
        p = int(planned[i])
        rec: dict = {
            "planned_reopen_date": None,
            "planned_headcount": None,
            "returned_headcount": None,
            "capacity_pct": None,
            "pending_approvals": None,
            "checkins_today": None,
            "labour_gap": None,
        }
        if s != "not_registered":
            # Registration is what tells us the plan; before it we know nothing of it.
            lo, hi = {
                "registered": (1, 21),
                "approved": (-5, 11),
                "reopened": (-25, 0),
                "suspended": (-20, 6),
            }[s]
            share = {
                "registered": 0.0,
                "approved": rng.uniform(0.1, 0.6),
                "reopened": rng.uniform(0.5, 1.0),
                "suspended": rng.uniform(0.0, 0.1),
            }[s]
            returned = int(round(p * share))
            pending = {
                "registered": int(round(p * rng.uniform(0.3, 1.0))),
                "approved": int(round((p - returned) * rng.uniform(0.0, 0.5))),
                "reopened": int(round((p - returned) * rng.uniform(0.0, 0.2))),
                "suspended": 0,
            }[s]
            at_work = s in ("approved", "reopened")
            capacity = 0.0
            if at_work:
                capacity = float(np.clip(100 * returned / p * rng.uniform(0.8, 1.1), 0, 100))
            checkins = int(round(returned * rng.uniform(0.7, 1.0))) if at_work else 0
            gap = p - returned
            labour_gap = None
            if at_work and gap > 0:
                trades = names.INDUSTRIES[industry[i]]["trades"]
                k = int(rng.integers(1, len(trades) + 1))
                chosen = [trades[j] for j in sorted(rng.choice(len(trades), k, replace=False))]
                split = np.bincount(rng.integers(0, k, gap), minlength=k)
                labour_gap = {t: int(v) for t, v in zip(chosen, split, strict=True) if v}
            rec.update(
                planned_reopen_date=today + dt.timedelta(days=int(rng.integers(lo, hi))),
                planned_headcount=p,
                returned_headcount=returned,
                capacity_pct=round(capacity, 1),
                pending_approvals=pending,
                checkins_today=checkins,
                labour_gap=labour_gap,
            )
        rows.append(rec)
    frame = pd.DataFrame(rows)
    frame.insert(0, "credit_code", _credit_codes(n, "1", rng, set()))
    frame.insert(1, "name", company_names)
    frame.insert(2, "address", address)
    frame.insert(3, "subdistrict_code", codes)
    frame.insert(4, "industry", industry.astype(str))
    frame.insert(5, "state", state.astype(str))
    for col in ("planned_headcount", "returned_headcount", "pending_approvals", "checkins_today"):
        frame[col] = frame[col].astype("Int64")
    frame["capacity_pct"] = frame["capacity_pct"].astype("Float64")
    frame["geometry"] = shapely.points(xy)
    return frame


def build_shops(
    subdistricts: pd.DataFrame,
    polys: list,
    rng: np.random.Generator,
    taken_codes: set[str],
) -> pd.DataFrame:
    """Street shops with a sole-proprietor licence each, open or not, with registered staff.

    ``taken_codes`` are the enterprises' codes: a licence must not reuse one.
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
    is_open = rng.random(n) < 0.7
    # Open shops register their staff (Xuhui: 20,323 shop staff registered in all).
    staff = np.where(is_open, 1 + rng.poisson(1.3, n), rng.poisson(0.3, n))
    return pd.DataFrame(
        {
            "licence_id": _credit_codes(n, "2", rng, taken_codes),
            "name": shop_names,
            "street": street,
            "subdistrict_code": codes,
            "is_open": is_open,
            "staff_registered": staff.astype(int),
            "geometry": shapely.points(xy),
        }
    )


def build_sites(
    subdistricts: pd.DataFrame, polys: list, today: dt.date, rng: np.random.Generator
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Sites and their workers; a site's headcount and new arrivals are its workers' counts."""
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
    workers = build_workers(site_ids, sizes, today, rng)
    arrived_today = workers[workers["arrived_on"] == today].groupby("site_id").size()
    sites = pd.DataFrame(
        {
            "site_id": site_ids,
            "name": site_names,
            "contractor": contractors,
            "subdistrict_code": codes,
            "headcount": sizes.astype(int),
            "new_arrivals_today": arrived_today.reindex(site_ids, fill_value=0).to_numpy(),
            "geometry": shapely.points(xy),
        }
    )
    return sites, workers


def build_workers(
    site_ids: list[str], sizes: np.ndarray, today: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """Workers with valid 18-character ID numbers consistent with their home province."""
    n = int(sizes.sum())
    province_p = np.array([p for _, p, _ in PROVINCES])
    which = rng.choice(len(PROVINCES), n, p=province_p / province_p.sum())
    age_days = rng.integers(18 * 365 + 5, 60 * 365, n)
    # Most came back before or around the Spring Festival; some this fortnight; a few today.
    u = rng.random(n)
    ago = np.where(u < 0.03, 0, np.where(u < 0.35, rng.integers(1, 15, n), rng.integers(15, 90, n)))
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
        key.append(county.startswith(KEY_REGION_PREFIXES))
    arrived = [today - dt.timedelta(days=int(d)) for d in ago]
    key_arr = np.array(key)
    # Arrivals from a key region must show a 14-day home-isolation certificate; the recent
    # ones are still being checked.
    checked = np.where(ago > 14, True, rng.random(n) < 0.6)
    certificate = [bool(c) if k else None for c, k in zip(checked, key_arr, strict=True)]
    return pd.DataFrame(
        {
            "id_number": ids,
            "site_id": np.repeat(site_ids, sizes),
            "name": names_out,
            "home_province": home,
            "arrived_on": arrived,
            "from_key_region": key_arr,
            "certificate_checked": pd.Series(certificate, dtype=object),
        }
    )
