"""``build_demo``: the whole demo district as data frames, from a seed, with no database.

The demo must look like Xuhui (the real outline, units, committees and stations) and must be
the same every time for a given seed, so that a screenshot, a test or a bug report made on one
machine can be reproduced on another. Each part draws from its own random stream, spawned from
the seed, so that changing how shops are generated does not move every compound.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import time
from dataclasses import dataclass
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pyproj
import shapely

from dashboard.demo import overview, registers
from dashboard.demo.areas import MetricAreas, build_areas
from dashboard.demo.geometry import sample_points
from dashboard.demo.reference import Reference, load_reference
from dashboard.models import AreaLevel

logger = logging.getLogger(__name__)

DEMO_SEED = 20200301
DEMO_TODAY = dt.date(2020, 3, 1)  # the reports' time: Xuhui reopening, early March 2020
TIMEZONE = ZoneInfo("Asia/Shanghai")
WGS84 = "EPSG:4326"
METRIC_CRS = "EPSG:32651"  # UTM zone 51N: metres, negligible distortion over Xuhui
N_WORK_ORDERS = 300

AREA_COLUMNS = [
    "code",
    "name",
    "level",
    "parent_code",
    "population",
    "area_km2",
    "label_lon",
    "label_lat",
    "is_virtual",
    "geometry",
]

STATION_NAMES_ZH = {
    "Longcao Road": "龙漕路",
    "Yishan Road": "宜山路",
    "South Shaanxi Road": "陕西南路",
    "Longyao Road": "龙耀路",
    "Jinjiang Amusement Park": "锦江乐园",
    "Hengshan Road": "衡山路",
    "Shanghai Library": "上海图书馆",
    "Hongmei Road": "虹梅路",
    "Hongcao Road": "虹漕路",
    "Guilin Park": "桂林公园",
    "Shanghai Swimming Center": "上海游泳馆",
    "Yunjin Road": "云锦路",
    "Shilong Road": "石龙路",
    "Caoxi Road": "漕溪路",
    "Caohejing Hi-Tech Park": "漕河泾开发区",
    "Guilin Road": "桂林路",
    "Shanghai Stadium": "上海体育场",
    "Jiaotong University": "交通大学",
    "Zhaojiabang Road": "肇嘉浜路",
    "Dong'an Road": "东安路",
    "Damuqiao Road": "大木桥路",
    "Longhua": "龙华",
    "Changshu Road": "常熟路",
    "Xujiahui": "徐家汇",
    "Shanghai South Railway Station": "上海南站",
    "Shanghai Indoor Stadium": "上海体育馆",
    "Longhua Middle Road": "龙华中路",
    "Jiashan Road": "嘉善路",
    "Caobao Road": "漕宝路",
}

WORK_ORDER_SOURCES = ("hotline_12345", "checkpoint", "health_cloud")
WORK_ORDER_SOURCE_P = (0.5, 0.25, 0.25)
WORK_ORDER_DUE_H = {"hotline_12345": 24, "checkpoint": 12, "health_cloud": 12}
WORK_ORDER_TITLES = {
    "hotline_12345": (
        "{c}居民反映有返沪人员未按要求居家观察",
        "{c}居民反映小区门岗未测体温",
        "{c}居民咨询口罩预约购买",
        "{c}居民反映群租房人员进出频繁",
        "{c}居民反映垃圾箱房未按时消毒",
    ),
    "checkpoint": (
        "道口登记：{n}名重点地区来沪人员前往{c}",
        "道口登记：{n}名来沪人员目的地为{c}，需社区核实",
    ),
    "health_cloud": (
        "健康云：{c}{n}名居家观察人员未按时上报健康状况",
        "健康云：{c}新增{n}名来沪登记人员待核实",
    ),
}

_STREAMS = ("areas", "enterprises", "shops", "sites", "work_orders", "overview")
DAWN = dt.time(6, 0)  # the demo's moment when no time is given: before the morning reports

# Columns of a register that change from yesterday's close to now; the frames carry yesterday's
# values as ``y_<column>``.
YESTERDAY_COLUMNS = {
    "enterprises": ("credit_code", ("state", "returned_headcount", "capacity_pct",
                                    "checkins_today", "state_changed_at")),
    "shops": ("licence_id", ("is_open", "open_on")),
    "sites": ("site_id", ("state", "headcount", "new_arrivals_today", "key_region_arrivals",
                          "unchecked_arrivals")),
}  # fmt: skip


@dataclass(frozen=True)
class DemoDistrict:
    """The demo district, one frame per table; geometry in WGS84 (EPSG:4326).

    Area frames share ``AREA_COLUMNS`` (the ``areas`` table's columns, ``geometry`` for
    ``geom``); the other frames use their table's column names. IDs and codes are ``str``.
    """

    seed: int
    today: dt.date
    now: dt.datetime  # the local moment the registers stand at
    district: gpd.GeoDataFrame
    subdistricts: gpd.GeoDataFrame  # + interior_lon, interior_lat, listed_area_km2, n_committees
    committees: gpd.GeoDataFrame
    compounds: gpd.GeoDataFrame  # + kind (estate, lane, compound, garden, tower)
    buildings: gpd.GeoDataFrame
    enterprises: gpd.GeoDataFrame
    shops: gpd.GeoDataFrame
    sites: gpd.GeoDataFrame
    site_workers: pd.DataFrame
    stations: gpd.GeoDataFrame
    work_orders: pd.DataFrame
    epidemic: pd.DataFrame  # date, level, new_cases, current_cases
    home_observation: pd.DataFrame  # date, committee_code, people
    disinfection: pd.DataFrame  # place_id, due_on, place_name, place_kind, subdistrict_code,
    # done_at
    masks: pd.DataFrame  # date, subdistrict_code, reserved, delivered
    office_returnees: gpd.GeoDataFrame  # date, building_id, building_name, subdistrict_code, ...

    def yesterday(self, register: str) -> pd.DataFrame:
        """A register as it stood at yesterday's close: its key and the columns that changed
        since (``enterprises``, ``shops`` or ``sites``)."""
        key, columns = YESTERDAY_COLUMNS[register]
        frame = getattr(self, register)
        out = frame[[key, *(f"y_{c}" for c in columns)]]
        return pd.DataFrame(out.rename(columns={f"y_{c}": c for c in columns}))

    def areas(self) -> gpd.GeoDataFrame:
        """All four levels in one frame, parents before children."""
        frames = [self.district, self.subdistricts, self.committees, self.compounds]
        return gpd.GeoDataFrame(
            pd.concat([f[AREA_COLUMNS] for f in frames], ignore_index=True),
            geometry="geometry",
            crs=WGS84,
        )


def build_demo(
    seed: int = DEMO_SEED, *, today: dt.date = DEMO_TODAY, now: dt.datetime | None = None
) -> DemoDistrict:
    """Build the demo district from ``seed``; the same seed and moment give the same district.

    ``today`` anchors every date and time (arrivals, reopening plans, work orders); pass the
    local date to make a live screen look current. ``now`` (aware, on ``today``; default
    06:00 local) is the moment the registers stand at: shops have reported for today only
    after 07:00, enterprises reopen and check in during the morning, and so on.
    """
    if now is None:
        now = dt.datetime.combine(today, DAWN, tzinfo=TIMEZONE)
    now = now.astimezone(TIMEZONE)
    if now.date() != today:
        raise ValueError(f"now ({now.isoformat()}) is not on today ({today})")
    started = time.perf_counter()
    ref = load_reference()
    streams = dict(
        zip(
            _STREAMS,
            (np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(len(_STREAMS))),
            strict=True,
        )
    )
    forward = pyproj.Transformer.from_crs(WGS84, METRIC_CRS, always_xy=True)
    back = pyproj.Transformer.from_crs(METRIC_CRS, WGS84, always_xy=True)

    def to_metric(geoms):
        return shapely.transform(geoms, lambda xy: np.column_stack(forward.transform(*xy.T)))

    def to_wgs84(geoms):
        return shapely.transform(geoms, lambda xy: np.column_stack(back.transform(*xy.T)))

    m = build_areas(ref, to_metric, streams["areas"])
    district, subdistricts, committees, compounds = _area_frames(ref, m, to_wgs84)
    buildings = _geo(m.buildings, to_wgs84)

    sub_polys = m.subdistricts
    enterprises = registers.build_enterprises(
        ref.subdistricts, sub_polys, now, streams["enterprises"]
    )
    shops = registers.build_shops(
        ref.subdistricts,
        sub_polys,
        streams["shops"],
        set(enterprises["credit_code"]),
        seed=seed,
        now=now,
    )
    sites, workers = registers.build_sites(ref.subdistricts, sub_polys, now, streams["sites"])
    work_orders = _work_orders(compounds, today, streams["work_orders"])
    stations = _stations(ref)
    rng = streams["overview"]
    offices = overview.office_buildings()
    poly_by_code = dict(zip(ref.subdistricts["code"], sub_polys, strict=True))
    inset = registers.POINT_INSET_M
    office_xy = np.vstack(
        [sample_points(poly_by_code[c].buffer(-inset), 1, rng) for c in offices["subdistrict_code"]]
    )
    offices["geometry"] = to_wgs84(shapely.points(office_xy))
    offices["lon"] = shapely.get_x(offices["geometry"].to_numpy()).round(6)
    offices["lat"] = shapely.get_y(offices["geometry"].to_numpy()).round(6)
    metro = stations[stations["kind"] == "metro"]
    metro_m = to_metric(metro.geometry.to_numpy())
    metro_sub = [
        next((c for c, poly in zip(ref.subdistricts["code"], sub_polys, strict=True)
              if poly.buffer(1.0).contains(pt)), None)
        for pt in metro_m
    ]  # fmt: skip
    metro = pd.DataFrame({"name": metro["name"].to_numpy(), "subdistrict_code": metro_sub})
    metro = metro.dropna()
    places = overview.build_places(subdistricts, metro, offices, rng)
    returnees = overview.build_returnees(
        offices[["building_id", "building_name", "subdistrict_code", "lon", "lat"]], today, rng
    )
    returnees = gpd.GeoDataFrame(
        returnees,
        geometry=shapely.points(returnees["lon"].to_numpy(), returnees["lat"].to_numpy()),
        crs=WGS84,
    )

    demo = DemoDistrict(
        seed=seed,
        today=today,
        now=now,
        district=district,
        subdistricts=subdistricts,
        committees=committees,
        compounds=compounds,
        buildings=buildings,
        enterprises=_geo(enterprises, to_wgs84),
        shops=_geo(shops, to_wgs84),
        sites=_geo(sites, to_wgs84),
        site_workers=workers,
        stations=stations,
        work_orders=work_orders,
        epidemic=overview.build_epidemic(today, rng),
        home_observation=overview.build_home_observation(committees, today, rng),
        disinfection=overview.build_disinfection(places, now, rng),
        masks=overview.build_masks(subdistricts, today, rng),
        office_returnees=returnees,
    )
    logger.info(
        "built demo district %s (seed %d): %d compounds, %d buildings, %d enterprises, "
        "%d shops, %d sites in %.1f s",
        ref.district_name,
        seed,
        len(compounds),
        len(buildings),
        len(demo.enterprises),
        len(demo.shops),
        len(demo.sites),
        time.perf_counter() - started,
    )
    return demo


def _geo(frame: pd.DataFrame, to_wgs84) -> gpd.GeoDataFrame:
    out = frame.copy()
    out["geometry"] = to_wgs84(frame["geometry"].to_numpy())
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _area_frame(
    rows: pd.DataFrame, level: AreaLevel, to_wgs84, extra: tuple[str, ...] = ()
) -> gpd.GeoDataFrame:
    """Fill the shared area columns from metric geometry, then convert to WGS84."""
    metric = rows["geometry"].to_numpy()
    labels = to_wgs84(shapely.point_on_surface(metric))
    out = pd.DataFrame(
        {
            "code": rows["code"].astype(str).to_numpy(),
            "name": rows["name"].astype(str).to_numpy(),
            "level": str(level),
            "parent_code": rows["parent_code"].to_numpy(),
            "population": rows["population"].astype("int64").to_numpy(),
            "area_km2": shapely.area(metric) / 1e6,
            "label_lon": shapely.get_x(labels),
            "label_lat": shapely.get_y(labels),
            "is_virtual": rows.get("is_virtual", pd.Series(False, index=rows.index))
            .astype(bool)
            .to_numpy(),
            "geometry": to_wgs84(metric),
        }
    )
    for col in extra:
        out[col] = rows[col].to_numpy()
    return gpd.GeoDataFrame(out, geometry="geometry", crs=WGS84)


def _area_frames(ref: Reference, m: MetricAreas, to_wgs84) -> tuple[gpd.GeoDataFrame, ...]:
    """The four area levels in WGS84, with populations summed up the hierarchy."""
    compounds = m.compounds
    committees = m.committees.copy()
    committees["population"] = (
        compounds.groupby("parent_code")["population"].sum().reindex(committees["code"]).fillna(0)
    ).to_numpy()
    subs = ref.subdistricts.copy()
    subs["geometry"] = m.subdistricts
    subs["parent_code"] = ref.district_code
    subs["population"] = (
        committees.groupby("parent_code")["population"].sum().reindex(subs["code"]).fillna(0)
    ).to_numpy()
    subs = subs.rename(
        columns={
            "approx_lon": "interior_lon",
            "approx_lat": "interior_lat",
            "approx_area_km2": "listed_area_km2",
        }
    )
    district = pd.DataFrame(
        {
            "code": [ref.district_code],
            "name": [ref.district_name],
            "parent_code": [None],
            "population": [int(compounds["population"].sum())],
            "geometry": [m.district],
        }
    )
    return (
        _area_frame(district, AreaLevel.DISTRICT, to_wgs84),
        _area_frame(
            subs,
            AreaLevel.SUBDISTRICT,
            to_wgs84,
            ("interior_lon", "interior_lat", "listed_area_km2", "n_committees"),
        ),
        _area_frame(committees, AreaLevel.COMMITTEE, to_wgs84),
        _area_frame(compounds, AreaLevel.COMPOUND, to_wgs84, ("kind",)),
    )


def _station_code(kind: str, name_en: str) -> str:
    """A stable readable code: kind and the English name as a slug (``metro-xujiahui``)."""
    slug = re.sub(r"[^a-z0-9]+", "-", name_en.lower().replace("'", "")).strip("-")
    return f"{kind}-{slug}"


def _stations(ref: Reference) -> gpd.GeoDataFrame:
    s = ref.stations
    return gpd.GeoDataFrame(
        {
            "code": [_station_code(k, n) for k, n in zip(s["kind"], s["name_en"], strict=True)],
            "name": [STATION_NAMES_ZH.get(n, n) for n in s["name_en"]],
            "name_en": s["name_en"].to_numpy(),
            "kind": s["kind"].to_numpy(),
            "geometry": shapely.points(s["lon"].to_numpy(), s["lat"].to_numpy()),
        },
        geometry="geometry",
        crs=WGS84,
    )


def _work_orders(
    compounds: gpd.GeoDataFrame, today: dt.date, rng: np.random.Generator
) -> pd.DataFrame:
    """A fortnight of dispatched cases, each addressed to the committee of one compound."""
    now = dt.datetime.combine(today, dt.time(8, 0), tzinfo=TIMEZONE)
    n = N_WORK_ORDERS
    pick = rng.integers(len(compounds), size=n)
    compound_names = compounds["name"].to_numpy()[pick]
    committee = compounds["parent_code"].to_numpy()[pick]
    source = np.asarray(WORK_ORDER_SOURCES, dtype=object)[
        rng.choice(len(WORK_ORDER_SOURCES), n, p=WORK_ORDER_SOURCE_P)
    ]
    minutes_ago = np.sort(rng.integers(10, 14 * 24 * 60, n))[::-1]
    handling_h = rng.lognormal(np.log(8.0), 0.8, n)
    stuck = rng.random(n) < 0.05
    rows = []
    for i in range(n):
        templates = WORK_ORDER_TITLES[source[i]]
        title = templates[rng.integers(len(templates))].format(
            c=compound_names[i], n=int(rng.integers(1, 6))
        )
        created = now - dt.timedelta(minutes=int(minutes_ago[i]))
        closed = created + dt.timedelta(hours=float(handling_h[i]))
        if closed <= now and not stuck[i]:
            status, closed_at = "closed", closed
        else:
            status, closed_at = ("in_progress" if rng.random() < 0.6 else "open"), None
        rows.append(
            {
                "source": str(source[i]),
                "title": title,
                "area_code": str(committee[i]),
                "status": status,
                "created_at": created.astimezone(dt.UTC),
                "due_at": (created + dt.timedelta(hours=WORK_ORDER_DUE_H[source[i]])).astimezone(
                    dt.UTC
                ),
                "closed_at": closed_at.astimezone(dt.UTC) if closed_at else None,
            }
        )
    frame = pd.DataFrame(rows)
    for col in ("created_at", "due_at", "closed_at"):
        frame[col] = pd.to_datetime(frame[col], utc=True)
    return frame
