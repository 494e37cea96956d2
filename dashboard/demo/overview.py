"""Generated overview feeds: the epidemic situation, home observation, disinfection of key
places, masks and returnees in office buildings, for the fortnight before ``today``.

The figures are small and believable for a Shanghai district in early March 2020 (district new
cases mostly 0-2, a few hundred people under home observation and falling, returnees rising).
Today's rows come from the simulator through the day; the helpers it shares with the builder
(:func:`disinfection_due`, :func:`returnee_morning_share`) live here so that both agree.
"""

from __future__ import annotations

import datetime as dt
import logging
import zlib

import numpy as np
import pandas as pd

from dashboard.demo import names

logger = logging.getLogger(__name__)

DAYS = 14  # days of history before today
DISINFECTION_DAYS = 7  # days of disinfection tasks before today (and today's)
OVERDUE = (3, 7)  # tasks due before today and not done

# Epidemic: (level, new cases per day at the start of the fortnight, daily decline, current
# cases at the start, share of the current cases discharged per day).
EPIDEMIC = (
    ("country", 420.0, 0.90, 30_000, 0.06),
    ("city", 3.0, 0.93, 180, 0.05),
    ("district", 0.6, 0.95, 14, 0.06),
)
HOME_OBSERVATION_START = 480  # people district-wide two weeks ago
HOME_OBSERVATION_DECLINE = 0.94  # per day
MASKS_PER_RESIDENT = 0.12  # masks reserved per resident per day

# Key places due for disinfection: kind, how many, every how many days.
PLACE_KINDS = {
    "农贸市场": (14, 1),
    "地铁站": (29, 1),
    "医院": (8, 1),
    "超市": (15, 1),
    "楼宇": (25, 2),
    "学校": (20, 2),
    "公园": (10, 2),
}
HOSPITALS = (
    ("复旦大学附属中山医院", "310104008"),
    ("复旦大学附属肿瘤医院", "310104008"),
    ("复旦大学附属儿科医院", "310104008"),
    ("上海中医药大学附属龙华医院", "310104016"),
    ("上海市第六人民医院", "310104017"),
    ("上海市第八人民医院", "310104017"),
    ("复旦大学附属眼耳鼻喉科医院", "310104004"),
    ("徐汇区中心医院", "310104004"),
)
PARKS = (
    ("徐家汇公园", "310104014"),
    ("光启公园", "310104014"),
    ("桂林公园", "310104017"),
    ("康健园", "310104013"),
    ("襄阳公园", "310104004"),
    ("衡山公园", "310104003"),
    ("龙华烈士陵园", "310104016"),
    ("上海植物园", "310104010"),
    ("华泾公园", "310104103"),
    ("漕溪公园", "310104017"),
)
# Office buildings (about 40) and their subdistricts; (name, subdistrict, growth): growth is
# "fast" for a few whose returnees climb quickly, else drawn.
OFFICE_BUILDINGS = (
    ("港汇恒隆广场", "310104014"), ("汇金广场", "310104014"), ("美罗大厦", "310104014"),
    ("东方商厦", "310104014"), ("飞洲国际广场", "310104014"), ("汇银广场", "310104014"),
    ("徐家汇中心", "310104014"), ("建汇大厦", "310104014"), ("汇京国际广场", "310104014"),
    ("天平大厦", "310104003"), ("衡山路十二号", "310104003"), ("嘉华中心", "310104003"),
    ("复兴中路商务楼", "310104004"), ("瑞丰国际大厦", "310104007"), ("斜土路万科中心", "310104007"),
    ("东安大厦", "310104008"), ("枫林国际大厦", "310104008"), ("西岸传媒港", "310104016"),
    ("西岸智塔", "310104016"), ("西岸国际人工智能中心", "310104016"), ("星扬西岸中心", "310104016"),
    ("西岸数字谷", "310104016"), ("绿地中心", "310104016"), ("漕溪北路商务中心", "310104017"),
    ("华鑫中心", "310104012"), ("光大会展中心", "310104012"), ("虹梅路大厦", "310104012"),
    ("田林路宏慧盟智园", "310104011"), ("钦州路商务楼", "310104011"), ("凯科国际大厦", "310104501"),
    ("漕河泾科技绿洲", "310104501"), ("新研大厦", "310104501"), ("创新大厦", "310104501"),
    ("华鑫慧享中心", "310104501"), ("腾飞大厦", "310104501"), ("智汇园", "310104501"),
    ("长桥商务中心", "310104010"), ("凌云路商务楼", "310104015"), ("康健商务中心", "310104013"),
    ("华泾科创中心", "310104103"),
)  # fmt: skip
FAST_BUILDINGS = 4


def _days(today: dt.date, n: int) -> list[dt.date]:
    """The ``n`` days before ``today``, oldest first."""
    return [today - dt.timedelta(days=k) for k in range(n, 0, -1)]


def epidemic_step(prev_current: int, new_mean: float, discharge: float, rng) -> tuple[int, int]:
    """One day of a level's figures: (new cases, current cases)."""
    new = int(rng.poisson(max(new_mean, 0.0)))
    discharged = int(rng.binomial(prev_current, discharge)) if prev_current else 0
    return new, max(prev_current + new - discharged, 0)


def build_epidemic(today: dt.date, rng: np.random.Generator) -> pd.DataFrame:
    """New and current cases per day for the country, the city and the district."""
    rows = []
    for level, new0, decline, current0, discharge in EPIDEMIC:
        current = current0
        for k, day in enumerate(_days(today, DAYS)):
            new, current = epidemic_step(current, new0 * decline**k, discharge, rng)
            rows.append({"date": day, "level": level, "new_cases": new, "current_cases": current})
    return pd.DataFrame(rows)


def build_home_observation(
    committees: pd.DataFrame, today: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """People under home observation per residential committee and day: a few hundred
    district-wide, falling as the 14-day periods end and fewer people arrive."""
    real = committees[~committees["is_virtual"].astype(bool)]
    pop = real["population"].to_numpy(float)
    share = pop / pop.sum()
    rows = []
    for k, day in enumerate(_days(today, DAYS)):
        total = HOME_OBSERVATION_START * HOME_OBSERVATION_DECLINE**k
        people = rng.poisson(total * share)
        rows.append(
            pd.DataFrame({"date": day, "committee_code": real["code"].to_numpy(), "people": people})
        )
    return pd.concat(rows, ignore_index=True)


def disinfection_every(place_kind: str) -> int:
    """Days between two disinfections of a kind of place (1: daily)."""
    return PLACE_KINDS.get(place_kind, (0, 1))[1]


def disinfection_due(place_id: str, place_kind: str, day: dt.date) -> bool:
    """Is a place due on ``day``? Every-other-day places alternate by their id."""
    every = disinfection_every(place_kind)
    return (day.toordinal() + zlib.crc32(place_id.encode())) % every == 0


def build_places(
    subdistricts: pd.DataFrame,
    metro: pd.DataFrame,
    offices: pd.DataFrame,
    rng: np.random.Generator,
) -> pd.DataFrame:
    """About 120 key places: markets, metro stations (``metro``: name, subdistrict_code),
    hospitals, supermarkets, office buildings, schools and parks, each in its subdistrict."""
    codes = subdistricts["code"].tolist()
    weights = subdistricts["n_committees"].to_numpy(float) + 6  # the tech park counts a little
    weights = weights / weights.sum()

    def where(n: int) -> list[str]:
        return [codes[i] for i in rng.choice(len(codes), n, p=weights)]

    def road(code: str) -> str:
        roads = names.ROADS[code]
        return roads[rng.integers(len(roads))]

    rows: list[tuple[str, str, str]] = []
    for code in where(PLACE_KINDS["农贸市场"][0]):
        rows.append(("农贸市场", f"{road(code)}菜市场", code))
    for name, code in zip(metro["name"], metro["subdistrict_code"], strict=True):
        rows.append(("地铁站", f"{name}地铁站", code))
    rows += [("医院", name, code) for name, code in HOSPITALS]
    for code in where(PLACE_KINDS["超市"][0]):
        stem = names.STEMS[rng.integers(len(names.STEMS))]
        rows.append(("超市", f"{stem}超市（{road(code)}店）", code))
    pick = rng.choice(len(offices), PLACE_KINDS["楼宇"][0], replace=False)
    rows += [("楼宇", offices["building_name"].iloc[i], offices["subdistrict_code"].iloc[i])
             for i in sorted(pick)]  # fmt: skip
    for code in where(PLACE_KINDS["学校"][0]):
        rows.append(("学校", f"{road(code)}{('小学', '中学', '幼儿园')[rng.integers(3)]}", code))
    rows += [("公园", name, code) for name, code in PARKS]
    seen: dict[str, int] = {}
    out = []
    for i, (kind, name, code) in enumerate(rows):
        seen[name] = seen.get(name, 0) + 1
        if seen[name] > 1:
            name = f"{name}（{seen[name]}）"
        out.append({"place_id": f"XH-XD-{i + 1:04d}", "place_name": name, "place_kind": kind,
                    "subdistrict_code": code})  # fmt: skip
    return pd.DataFrame(out)


def build_disinfection(
    places: pd.DataFrame, now: dt.datetime, rng: np.random.Generator
) -> pd.DataFrame:
    """Tasks due over the last week and today: done on their day between 07:00 and 18:00
    (today's only if that time has passed), except a few overdue (due before today, not done).
    ``done_at`` is UTC."""
    today = now.date()
    rows = []
    for day in [*_days(today, DISINFECTION_DAYS), today]:
        for p in places.itertuples(index=False):
            if not disinfection_due(p.place_id, p.place_kind, day):
                continue
            local = dt.datetime.combine(day, dt.time(7), tzinfo=now.tzinfo) + dt.timedelta(
                minutes=int(rng.integers(0, 11 * 60))
            )
            rows.append({**p._asdict(), "due_on": day, "done_at": local if local <= now else None})
    tasks = pd.DataFrame(rows)
    past = np.flatnonzero((tasks["due_on"] < today).to_numpy())
    overdue = rng.choice(past, int(rng.integers(*OVERDUE)), replace=False)
    tasks.loc[overdue, "done_at"] = None
    tasks["done_at"] = pd.to_datetime(tasks["done_at"], utc=True)
    return tasks


def build_masks(
    subdistricts: pd.DataFrame, today: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """Masks reserved per subdistrict and day, and delivered: the previous day's reservations
    (pharmacies hand out the day after booking), nearly all of them."""
    pop = subdistricts["population"].to_numpy(float)
    days = _days(today, DAYS + 1)  # one more day in front: the first day's deliveries
    reserved = {d: rng.poisson(np.maximum(pop, 2000) * MASKS_PER_RESIDENT) for d in days}
    rows = []
    for prev, day in zip(days, days[1:], strict=False):
        delivered = np.rint(reserved[prev] * rng.uniform(0.95, 1.0, len(pop))).astype(int)
        rows.append(
            pd.DataFrame(
                {
                    "date": day,
                    "subdistrict_code": subdistricts["code"].to_numpy(),
                    "reserved": reserved[day],
                    "delivered": delivered,
                }
            )
        )
    return pd.concat(rows, ignore_index=True)


def office_buildings() -> pd.DataFrame:
    """The office buildings' ids, names and subdistricts (points are drawn by the builder)."""
    return pd.DataFrame(
        [
            {"building_id": f"XH-OB-{i + 1:03d}", "building_name": n, "subdistrict_code": c}
            for i, (n, c) in enumerate(OFFICE_BUILDINGS)
        ]
    )


def returnee_morning_share(local: dt.datetime) -> float:
    """Share of a day's returnees in their building by a local time (they badge in 08-10)."""
    h = local.hour + local.minute / 60
    return float(np.interp(h, [0, 7.5, 8.5, 9.5, 10.5, 24], [0, 0, 0.4, 0.85, 1.0, 1.0]))


def build_returnees(
    buildings: pd.DataFrame, today: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """Returnees per building and day: each building fills towards its staff at its own pace,
    a few fast (from a tenth to most of their staff in two weeks)."""
    n = len(buildings)
    staff = rng.integers(800, 6000, n)
    start = rng.uniform(0.08, 0.25, n)
    growth = rng.uniform(0.01, 0.06, n)  # per day, relative
    fast = rng.choice(n, FAST_BUILDINGS, replace=False)
    start[fast] = rng.uniform(0.04, 0.08, len(fast))
    growth[fast] = rng.uniform(0.14, 0.2, len(fast))
    rows = []
    for k, day in enumerate(_days(today, DAYS)):
        share = np.minimum(start * (1 + growth) ** k, 0.95)
        weekend = 0.6 if day.weekday() >= 5 else 1.0
        count = rng.poisson(staff * share * weekend)
        rows.append(pd.DataFrame({"date": day, **buildings.to_dict("list"), "returnees": count}))
    return pd.concat(rows, ignore_index=True)
