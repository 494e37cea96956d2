"""The demo district: real facts kept, generated parts consistent, deterministic, writable.

Expected values come from the reference files read here independently, from the reports'
numbers, or from geometry checked in metres; never from what the builder just computed.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from zoneinfo import ZoneInfo

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from dashboard.demo import build_demo, write_demo
from dashboard.idcodes import is_valid_credit_code, is_valid_resident_id
from dashboard.models import (
    Area,
    AreaLevel,
    Building,
    ConstructionSite,
    DataVersion,
    DisinfectionTask,
    Enterprise,
    EpidemicCount,
    HomeObservation,
    MaskSupply,
    OfficeReturnees,
    RegisterCount,
    Shop,
    SiteWorker,
    Station,
    WorkOrder,
)

GEO = Path(__file__).resolve().parent.parent / "data" / "geo"
METRIC = "EPSG:32651"
TOLERANCE_M = 1.0
CENSUS_2020 = 1_113_078
POPULATION_TOLERANCE = 0.01  # the demo's total population is within 1% of the census
TODAY = dt.date(2020, 3, 1)
TZ = ZoneInfo("Asia/Shanghai")

# GB/T 2260 province prefixes, written out here rather than taken from the builder.
PROVINCE_PREFIX = {
    "北京": "11", "河北": "13", "上海": "31", "江苏": "32", "浙江": "33", "安徽": "34",
    "福建": "35", "江西": "36", "山东": "37", "河南": "41", "湖北": "42", "湖南": "43",
    "重庆": "50", "四川": "51", "贵州": "52", "云南": "53", "甘肃": "62",
}  # fmt: skip


@pytest.fixture(scope="module")
def demo():
    return build_demo(20200301, today=TODAY)


@pytest.fixture(scope="module")
def ref_subdistricts() -> pd.DataFrame:
    return pd.read_csv(GEO / "xuhui_subdistricts.csv", dtype=str)


@pytest.fixture(scope="module")
def ref_committees() -> pd.DataFrame:
    return pd.read_csv(GEO / "xuhui_residential_committees.csv", dtype=str)


@pytest.fixture(scope="module")
def outline_m():
    return gpd.read_file(GEO / "xuhui_district_outline.geojson").to_crs(METRIC).geometry.iloc[0]


@pytest.fixture(scope="module")
def metric(demo):
    """The demo's frames in metres, for containment and area checks."""
    names = ["district", "subdistricts", "committees", "compounds", "buildings", "enterprises",
             "shops", "sites"]  # fmt: skip
    return {n: getattr(demo, n).to_crs(METRIC) for n in names}


# --------------------------------------------------------------------------- counts and facts


def test_demo001_counts(demo):
    assert len(demo.district) == 1
    assert len(demo.subdistricts) == 14
    assert (~demo.committees["is_virtual"]).sum() == 312
    assert demo.committees["is_virtual"].sum() == 1
    assert len(demo.compounds) == 957
    assert len(demo.sites) == 167
    assert len(demo.stations) == 30


def test_demo002_district_is_xuhui(demo):
    row = demo.district.iloc[0]
    assert (row["code"], row["name"], row["level"]) == ("310104", "徐汇区", "district")
    assert row["parent_code"] is None or pd.isna(row["parent_code"])


def test_demo003_subdistricts_are_the_official_ones(demo, ref_subdistricts):
    got = demo.subdistricts.set_index("code")["name"].sort_index()
    want = ref_subdistricts.set_index("code")["name"].sort_index()
    assert got.to_dict() == want.to_dict()
    assert set(demo.subdistricts["parent_code"]) == {"310104"}


def test_demo004_committees_are_the_official_ones(demo, ref_committees):
    got = demo.committees[["code", "name", "parent_code"]].sort_values("code")
    want = ref_committees.rename(columns={"subdistrict_code": "parent_code"}).sort_values("code")
    assert got.to_numpy().tolist() == want.to_numpy().tolist()
    virtual = demo.committees[demo.committees["is_virtual"]]
    assert virtual["code"].tolist() == ["310104501498"]


def test_demo005_tech_park_has_no_real_committee(demo):
    park = demo.committees[demo.committees["parent_code"] == "310104501"]
    assert park["is_virtual"].all()


def test_demo006_compounds_per_committee(demo):
    real = demo.committees.loc[~demo.committees["is_virtual"], "code"]
    per = demo.compounds.groupby("parent_code").size().reindex(real, fill_value=0)
    assert per.between(1, 6).all()
    virtual = demo.committees.loc[demo.committees["is_virtual"], "code"]
    assert not demo.compounds["parent_code"].isin(virtual).any()
    codes = demo.compounds["code"]
    assert codes.is_unique
    assert (codes.str.len() == 15).all()
    assert (codes.str[:12] == demo.compounds["parent_code"]).all()
    assert demo.compounds["name"].is_unique


def test_demo007_buildings_per_compound(demo):
    per = demo.buildings.groupby("compound_code").size().reindex(demo.compounds["code"])
    assert per.notna().all() and (per >= 1).all() and (per <= 20).all()
    assert (per >= 4).mean() > 0.95  # "several": only slivers of compounds get fewer
    assert (demo.buildings["code"].str[:15] == demo.buildings["compound_code"]).all()
    assert demo.buildings["code"].str.fullmatch(r"\d{15}-\d{2}").all()
    assert (demo.buildings["floors"] >= 1).all()
    assert (demo.buildings["households"] <= demo.buildings["residents"]).all()


# --------------------------------------------------------------------------- population


def test_demo008_population_close_to_census(demo):
    total = int(demo.compounds["population"].sum())
    assert abs(total - CENSUS_2020) <= POPULATION_TOLERANCE * CENSUS_2020
    assert int(demo.district["population"].iloc[0]) == total


@pytest.mark.parametrize(
    ("child", "parent", "key"),
    [("compounds", "committees", "parent_code"), ("committees", "subdistricts", "parent_code")],
)
def test_demo009_population_sums_up_the_hierarchy(demo, child, parent, key):
    sums = getattr(demo, child).groupby(key)["population"].sum()
    p = getattr(demo, parent).set_index("code")["population"]
    assert (sums.reindex(p.index, fill_value=0) == p).all()


def test_demo010_building_residents_sum_to_compound(demo):
    sums = demo.buildings.groupby("compound_code")["residents"].sum()
    pop = demo.compounds.set_index("code")["population"]
    assert (sums.reindex(pop.index) == pop).all()


# --------------------------------------------------------------------------- geometry


@pytest.mark.parametrize(
    ("child", "parent", "key"),
    [
        ("subdistricts", "district", "parent_code"),
        ("committees", "subdistricts", "parent_code"),
        ("compounds", "committees", "parent_code"),
        ("buildings", "compounds", "compound_code"),
        ("enterprises", "subdistricts", "subdistrict_code"),
        ("shops", "subdistricts", "subdistrict_code"),
        ("sites", "subdistricts", "subdistrict_code"),
    ],
)
def test_demo011_every_child_inside_its_parent(metric, child, parent, key):
    c = metric[child]
    p = metric[parent].set_index("code").geometry
    parents = p.reindex(c[key]).to_numpy()
    assert not pd.isna(parents).any(), "a child refers to an unknown parent"
    inside = shapely.within(c.geometry.to_numpy(), shapely.buffer(parents, TOLERANCE_M))
    assert inside.all(), c.loc[~inside, c.columns[0]].tolist()[:5]


def test_demo012_district_is_the_real_outline(metric, outline_m):
    d = metric["district"].geometry.iloc[0]
    assert d.symmetric_difference(outline_m).area < 1.0  # m²


@pytest.mark.parametrize("level", ["subdistricts", "committees"])
def test_demo013_partition_without_gaps_or_overlaps(metric, outline_m, level):
    geoms = metric[level]
    if level == "committees":  # real committees partition the residential units
        geoms = geoms[~geoms["is_virtual"]]
        region = shapely.union_all(
            metric["subdistricts"].loc[metric["subdistricts"]["code"] != "310104501"].geometry
        )
    else:
        region = outline_m
    parts = geoms.geometry.to_numpy()
    total = shapely.area(parts).sum()
    union = shapely.union_all(parts)
    assert total == pytest.approx(region.area, rel=1e-6)  # sum of parts: nothing missing...
    assert union.area == pytest.approx(total, rel=1e-6)  # ...and nothing counted twice
    assert union.symmetric_difference(region).area < 10.0  # m²


def test_demo014_interior_points_in_their_own_subdistrict(metric, ref_subdistricts):
    lon = ref_subdistricts["approx_lon"].astype(float)
    lat = ref_subdistricts["approx_lat"].astype(float)
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs="EPSG:4326").to_crs(METRIC)
    polys = metric["subdistricts"].set_index("code").geometry.reindex(ref_subdistricts["code"])
    assert shapely.contains(polys.to_numpy(), pts.to_numpy()).all()


def test_demo015_subdistrict_areas_near_listed(demo, ref_subdistricts):
    listed = ref_subdistricts.set_index("code")["approx_area_km2"].astype(float)
    got = demo.subdistricts.set_index("code")["area_km2"].reindex(listed.index)
    assert ((got / listed - 1).abs() < 0.15).all(), (got / listed).round(2).to_dict()


def test_demo016_geometry_valid_and_in_wgs84(demo):
    for name in ["district", "subdistricts", "committees", "compounds", "buildings"]:
        frame = getattr(demo, name)
        assert frame.crs.to_epsg() == 4326
        assert frame.geometry.is_valid.all(), name
        assert not frame.geometry.is_empty.any(), name
        minx, miny, maxx, maxy = frame.total_bounds
        assert 121.3 < minx < maxx < 121.5 and 31.1 < miny < maxy < 31.25, name
    assert demo.compounds.geometry.geom_type.isin(["Polygon", "MultiPolygon"]).all()
    assert (demo.buildings.geometry.geom_type == "Polygon").all()


def test_demo017_compounds_do_not_overlap(metric):
    g = metric["compounds"].geometry.to_numpy()
    assert shapely.area(shapely.union_all(g)) == pytest.approx(shapely.area(g).sum(), rel=1e-9)


# --------------------------------------------------------------------------- determinism


def _frames(d):
    return {
        n: getattr(d, n)
        for n in ["district", "subdistricts", "committees", "compounds", "buildings",
                  "enterprises", "shops", "sites", "site_workers", "stations", "work_orders"]
    }  # fmt: skip


def test_demo018_same_seed_same_district(demo):
    again = build_demo(20200301, today=TODAY)
    for name, frame in _frames(demo).items():
        other = getattr(again, name)
        if isinstance(frame, gpd.GeoDataFrame):
            assert shapely.equals_exact(
                frame.geometry.to_numpy(), other.geometry.to_numpy(), tolerance=0
            ).all(), name
            frame, other = (
                pd.DataFrame(frame.drop(columns="geometry")),
                pd.DataFrame(other.drop(columns="geometry")),
            )
        pd.testing.assert_frame_equal(frame, other, obj=name)


def test_demo019_other_seed_other_district(demo):
    other = build_demo(7, today=TODAY)
    assert len(other.compounds) == 957 and len(other.sites) == 167  # the facts stay
    same_geom = shapely.equals_exact(
        demo.compounds.geometry.to_numpy(), other.compounds.geometry.to_numpy(), tolerance=1.0e-6
    )
    assert not same_geom.any()
    shared = set(demo.enterprises["credit_code"]) & set(other.enterprises["credit_code"])
    assert len(shared) < 0.01 * len(demo.enterprises)  # random codes: a rare collision at most
    assert demo.subdistricts["code"].tolist() == other.subdistricts["code"].tolist()


# --------------------------------------------------------------------------- IDs


def test_demo020_credit_codes_valid_unique_some_end_with_letter(demo):
    codes = pd.concat([demo.enterprises["credit_code"], demo.shops["licence_id"]])
    assert codes.map(is_valid_credit_code).all()
    assert codes.is_unique
    assert codes.str[2:8].eq("310104").all()  # registered in Xuhui
    assert demo.enterprises["credit_code"].str[-1].str.isalpha().any()
    assert demo.enterprises["credit_code"].str[-1].str.isdigit().any()


def test_demo021_resident_ids_valid_unique_some_end_with_x(demo):
    w = demo.site_workers
    assert w["id_number"].map(is_valid_resident_id).all()
    assert w["id_number"].is_unique
    assert w["id_number"].str.endswith("X").any()
    assert (w["id_number"].str[:2] == w["home_province"].map(PROVINCE_PREFIX)).all()
    birth = pd.to_datetime(w["id_number"].str[6:14], format="%Y%m%d")
    age = (pd.Timestamp(TODAY) - birth).dt.days / 365.25
    assert age.between(16, 65).all()


def test_demo022_key_region_arrivals_flagged(demo):
    w = demo.site_workers
    hubei = w["id_number"].str.startswith("42")  # GB/T 2260: 42 is Hubei, the key region
    assert hubei.any()
    assert (w["from_key_region"] == hubei).all()
    assert (w.loc[hubei, "home_province"] == "湖北").all()
    assert w.loc[~hubei, "certificate_checked"].isna().all()
    # A handful arrived in the last 14 days (today included), a few of them unchecked, each
    # at its own site; earlier ones were checked long ago.
    recent = hubei & (w["arrived_on"] >= TODAY - dt.timedelta(days=13))
    assert 8 <= recent.sum() <= 15
    unchecked = recent & w["certificate_checked"].isna()
    assert 2 <= unchecked.sum() <= 4
    assert w.loc[unchecked, "site_id"].is_unique
    assert (w.loc[hubei & ~unchecked, "certificate_checked"] == True).all()  # noqa: E712


@pytest.mark.parametrize(
    ("frame", "columns"),
    [
        ("district", ["code", "name"]),
        ("subdistricts", ["code", "name", "parent_code"]),
        ("committees", ["code", "name", "parent_code"]),
        ("compounds", ["code", "name", "parent_code"]),
        ("buildings", ["code", "compound_code"]),
        ("enterprises", ["credit_code", "subdistrict_code"]),
        ("shops", ["licence_id", "subdistrict_code"]),
        ("sites", ["site_id", "subdistrict_code"]),
        ("site_workers", ["id_number", "site_id"]),
        ("stations", ["code", "name"]),
        ("work_orders", ["area_code"]),
    ],
)
def test_demo023_ids_are_str(demo, frame, columns):
    df = getattr(demo, frame)
    for col in columns:
        assert df[col].map(lambda v: type(v) is str).all(), (frame, col)


# --------------------------------------------------------------------------- registers


def test_demo024_sites_about_ten_per_subdistrict(demo):
    per = demo.sites.groupby("subdistrict_code").size().reindex(demo.subdistricts["code"])
    assert per.notna().all() and per.between(5, 25).all()
    assert demo.sites["site_id"].is_unique
    workers = demo.site_workers.groupby("site_id").size().reindex(demo.sites["site_id"])
    assert workers.between(30, 150).all()
    assert (workers.to_numpy() == demo.sites["headcount"].to_numpy()).all()
    arrived = demo.site_workers["arrived_on"] == TODAY
    today = demo.site_workers[arrived].groupby("site_id").size()
    want = today.reindex(demo.sites["site_id"], fill_value=0).to_numpy()
    assert (want == demo.sites["new_arrivals_today"].to_numpy()).all()


def test_demo025_jiangsu_road_order_of_magnitude(demo):
    # Jiangsu Road tracked 204 enterprises and 977 shops; a Xuhui unit should be within x5.
    for frame, typical in ((demo.enterprises, 204), (demo.shops, 977)):
        per = frame.groupby("subdistrict_code").size().reindex(demo.subdistricts["code"])
        assert per.between(typical / 5, typical * 5).all()


def test_demo026_enterprise_states_consistent(demo):
    e = demo.enterprises
    share = e["state"].value_counts(normalize=True)
    # A campaign in progress: most approved or reopened, some registered, a few not, 3-5%
    # suspended.
    assert share["approved"] + share["reopened"] > 0.7
    assert 0.08 < share["registered"] < 0.2 and 0.02 < share["not_registered"] < 0.1
    assert 0.03 <= share["suspended"] <= 0.05
    filed = e[e["state"] != "not_registered"]
    assert filed["planned_headcount"].notna().all()
    assert e.loc[e["state"] == "not_registered", "planned_reopen_date"].isna().all()
    assert (filed["returned_headcount"] <= filed["planned_headcount"]).all()
    away = filed["state"].isin(["registered", "approved"])
    assert (filed.loc[away, "returned_headcount"] == 0).all()
    assert (filed.loc[filed["state"] == "reopened", "returned_headcount"] > 0).all()
    assert filed["capacity_pct"].between(0, 100).all()
    assert (filed["checkins_today"] <= filed["returned_headcount"]).all()
    # Plans spread over the last three weeks and the next one; some laggards.
    offset = (pd.to_datetime(filed["planned_reopen_date"]) - pd.Timestamp(TODAY)).dt.days
    assert offset.between(-21, 14).all() and (offset > 0).any() and (offset < -14).any()
    lagging = (offset < 0) & (filed["state"] != "reopened")
    assert 0.03 < lagging.sum() / len(e) < 0.25
    assert (filed["state_changed_at"] <= pd.Timestamp(demo.now)).all()
    gaps = e["labour_gap"].dropna()
    assert 0.25 < len(gaps) / len(e) < 0.35
    assert {"电工", "焊工", "普工", "保洁", "保安", "司机"} <= {t for g in gaps for t in g}
    cols = ["labour_gap", "planned_headcount", "returned_headcount"]
    for gap, planned, returned in filed[cols].itertuples(index=False):
        if gap:
            assert 0 < sum(gap.values()) <= planned - returned
            json.dumps(gap)  # stored as JSON


def test_demo027_stations(demo):
    s = demo.stations
    assert s["code"].is_unique
    assert set(s["kind"]) == {"metro", "railway"}
    railway = s[s["kind"] == "railway"]
    assert railway["name"].tolist() == ["上海南站"]
    assert (s.loc[s["name_en"] == "Xujiahui", "name"] == "徐家汇").all()


def test_demo028_work_orders(demo):
    wo = demo.work_orders
    assert 100 <= len(wo) <= 1000
    assert set(wo["source"]) == {"hotline_12345", "checkpoint", "health_cloud"}
    real = set(demo.committees.loc[~demo.committees["is_virtual"], "code"])
    assert wo["area_code"].isin(real).all()
    assert (wo["due_at"] > wo["created_at"]).all()
    closed = wo[wo["status"] == "closed"]
    assert (closed["closed_at"] >= closed["created_at"]).all()
    assert wo.loc[wo["status"] != "closed", "closed_at"].isna().all()
    assert str(wo["created_at"].dt.tz) == "UTC"


# --------------------------------------------------------------------------- database


def test_demo029_write_round_trip(demo, session):
    counts = write_demo(demo, session=session)
    # The caller owns the transaction: before its commit, another connection sees nothing.
    with Session(session.get_bind()) as other:
        assert other.scalar(select(func.count()).select_from(Area)) == 0
    session.commit()
    tables = {
        "areas": (Area, 1 + 14 + 313 + 957),
        "buildings": (Building, len(demo.buildings)),
        "enterprises": (Enterprise, len(demo.enterprises)),
        "shops": (Shop, len(demo.shops)),
        "construction_sites": (ConstructionSite, 167),
        "site_workers": (SiteWorker, len(demo.site_workers)),
        "stations": (Station, 30),
        "work_orders": (WorkOrder, len(demo.work_orders)),
        "epidemic_counts": (EpidemicCount, 3 * 14),
        "home_observations": (HomeObservation, 312 * 14),
        "disinfection_tasks": (DisinfectionTask, len(demo.disinfection)),
        "mask_supplies": (MaskSupply, 14 * 14),
        "office_returnees": (OfficeReturnees, len(demo.office_returnees)),
        "register_counts": (RegisterCount, None),
    }
    assert set(counts) == set(tables)
    for table, (model, expected) in tables.items():
        in_db = session.scalar(select(func.count()).select_from(model))
        if table == "register_counts":  # today's rows; yesterday's close is written first
            assert in_db == 2 * counts[table], table
            continue
        assert in_db == counts[table] == expected, table

    levels = dict(session.execute(select(Area.level, func.count()).group_by(Area.level)).all())
    assert levels == {
        AreaLevel.DISTRICT: 1,
        AreaLevel.SUBDISTRICT: 14,
        AreaLevel.COMMITTEE: 313,
        AreaLevel.COMPOUND: 957,
    }
    versions = set(session.scalars(select(DataVersion.dataset)))
    assert {"areas", "enterprises", "shops", "sites", "work_orders"} <= versions

    # Geometry comes back as the same shapes (MultiPolygon for areas).
    code = demo.compounds["code"].iloc[5]
    geom = session.scalar(select(Area.geom).where(Area.code == code))
    assert geom.geom_type == "MultiPolygon"
    assert geom.equals_exact(shapely.MultiPolygon([demo.compounds.geometry.iloc[5]]), 1e-9)
    district = session.scalar(select(Area.geom).where(Area.code == "310104"))
    assert shapely.equals_exact(
        shapely.get_parts(district)[0], demo.district.geometry.iloc[0], tolerance=1e-9
    )
    b = session.get(Building, demo.buildings["code"].iloc[0])
    assert b.geom.equals_exact(demo.buildings.geometry.iloc[0], 1e-9)

    # IDs with a trailing X and the JSON labour gap survive.
    ids = demo.site_workers["id_number"]
    x_id = ids[ids.str.endswith("X")].iloc[0]
    assert session.get(SiteWorker, x_id) is not None
    with_gap = demo.enterprises[demo.enterprises["labour_gap"].notna()].iloc[0]
    assert session.get(Enterprise, with_gap["credit_code"]).labour_gap == with_gap["labour_gap"]
    pop = session.scalar(select(func.sum(Area.population)).where(Area.level == AreaLevel.COMPOUND))
    assert pop == int(demo.compounds["population"].sum())
    assert session.scalar(select(Area.parent_code).where(Area.code == code)) == code[:12]


def test_demo031_checkins_are_counted_on_their_day(session):
    """Built at 11:00, the demo's enterprises have checked in today: today's figures count
    those (their day is today), yesterday's close yesterday's."""
    from dashboard import register_counts

    noon = build_demo(20200301, today=TODAY, now=dt.datetime(2020, 3, 1, 11, tzinfo=TZ))
    write_demo(noon, session=session)
    today = register_counts.day_close(session, TODAY)[("enterprises", "", "checkins_today")]
    close = register_counts.day_close(session, TODAY - dt.timedelta(days=1))
    assert today == noon.enterprises["checkins_today"].sum() > 0
    assert close[("enterprises", "", "checkins_today")] == (
        noon.yesterday("enterprises")["checkins_today"].sum()
    )


def test_demo030_points_are_points(demo):
    for name in ("enterprises", "shops", "sites", "stations"):
        assert (getattr(demo, name).geometry.geom_type == "Point").all()
    assert np.isfinite(demo.compounds[["label_lon", "label_lat"]].to_numpy()).all()


# --------------------------------------------------------------------------- issue 5


def test_demo031_overview_feeds_believable(demo):
    ep = demo.epidemic
    assert len(ep) == 3 * 14 and ep["date"].max() == TODAY - dt.timedelta(days=1)
    district = ep[ep["level"] == "district"]
    assert district["new_cases"].between(0, 4).all() and (district["new_cases"] <= 2).mean() > 0.8
    obs = demo.home_observation.groupby("date")["people"].sum()
    assert 100 <= obs.iloc[-1] < obs.iloc[0] <= 1000  # a few hundred, falling
    assert demo.home_observation["committee_code"].nunique() == 312  # not the virtual one
    tasks = demo.disinfection
    assert 100 <= tasks["place_id"].nunique() <= 130
    assert {"农贸市场", "地铁站", "楼宇", "学校", "医院"} <= set(tasks["place_kind"])
    overdue = tasks[(tasks["due_on"] < TODAY) & tasks["done_at"].isna()]
    assert 3 <= len(overdue) <= 6
    # At dawn (the default moment) none of today's tasks is done yet.
    assert tasks.loc[tasks["due_on"] == TODAY, "done_at"].isna().all()
    masks = demo.masks.pivot(index="date", columns="subdistrict_code")
    # Delivered on a day: about the day before's reservations.
    ratio = masks["delivered"].iloc[1:].to_numpy() / masks["reserved"].iloc[:-1].to_numpy()
    assert ((ratio > 0.9) & (ratio <= 1.0)).all()
    ret = demo.office_returnees
    assert ret["building_id"].nunique() == 40
    assert "港汇恒隆广场" in set(ret["building_name"])
    weekly = ret.pivot(index="date", columns="building_id", values="returnees")
    rise = weekly.iloc[-1] / weekly.iloc[-8]  # the same weekday a week apart
    assert (rise > 1.0).mean() > 0.8 and (rise > 2.0).sum() >= 3  # all rising, a few fast


def test_demo032_office_buildings_inside_their_subdistrict(demo, metric):
    pts = demo.office_returnees.drop_duplicates("building_id").to_crs(METRIC)
    polys = metric["subdistricts"].set_index("code").geometry.reindex(pts["subdistrict_code"])
    assert shapely.within(pts.geometry.to_numpy(), polys.to_numpy()).all()


def test_demo033_shops_report_after_seven(demo):
    from zoneinfo import ZoneInfo

    at_dawn = demo.shops
    assert (at_dawn["open_on"] == TODAY - dt.timedelta(days=1)).all()  # nothing for today yet
    later = build_demo(20200301, today=TODAY, now=dt.datetime(2020, 3, 1, 10, 30,
                                                             tzinfo=ZoneInfo("Asia/Shanghai")))
    live = later.shops[~later.shops["closed_down"]]
    assert (live["open_on"] == TODAY).mean() > 0.9
    assert 0.8 <= live["is_open"].mean() <= 0.92
    assert 0.002 <= later.shops["closed_down"].mean() <= 0.01
    assert not later.shops.loc[later.shops["closed_down"], "is_open"].any()


def test_demo034_yesterday_close_is_written_and_differs(session):
    from zoneinfo import ZoneInfo

    from dashboard.register_counts import day_close

    noon = dt.datetime(2020, 3, 1, 14, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
    district = build_demo(20200301, today=TODAY, now=noon)
    write_demo(district, session=session)
    session.commit()
    today, yesterday = day_close(session, TODAY), day_close(session, TODAY - dt.timedelta(days=1))
    e = district.enterprises
    # Today's figures are the frames' counts; yesterday's those of the rolled-back states.
    assert today[("enterprises", "", "state:reopened")] == (e["state"] == "reopened").sum()
    assert yesterday[("enterprises", "", "state:reopened")] == (e["y_state"] == "reopened").sum()
    assert today[("enterprises", "", "state:reopened")] > yesterday[
        ("enterprises", "", "state:reopened")
    ]
    assert today[("enterprises", "", "state:not_registered")] < yesterday[
        ("enterprises", "", "state:not_registered")
    ]
    # Shops reported for yesterday at its close, for today since the morning.
    assert yesterday[("shops", "", "state:unreported")] == 0
    assert today[("shops", "", "state:unreported")] == 0
    assert today[("shops", "", "state:open")] != yesterday[("shops", "", "state:open")]
    flagged = district.sites["unchecked_arrivals"].gt(0).sum()
    assert today[("sites", "", "flagged")] == flagged and 2 <= flagged <= 4
    assert session.scalar(select(func.count()).select_from(RegisterCount)) == 2 * len(today)
