"""The real facts the demo district is built on, read from ``data/geo/``.

The outline, the 14 subdistrict-level units, the 312 residential committees (plus the tech
park's virtual community) and the 30 stations are public facts; see ``data/README.md`` for the
sources. Everything finer is generated from them by :mod:`dashboard.demo.build`.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import shapely
from shapely import Polygon

from dashboard.config import DATA_DIR

logger = logging.getLogger(__name__)

GEO_DIR = DATA_DIR / "geo"


@dataclass(frozen=True)
class Reference:
    """The district's facts, all coordinates WGS84; codes and names are text."""

    district_code: str
    district_name: str
    outline: Polygon
    subdistricts: pd.DataFrame  # code, name, approx_lon, approx_lat, approx_area_km2, n_committees
    committees: pd.DataFrame  # code, name, subdistrict_code, is_virtual
    stations: pd.DataFrame  # name_en, kind, lon, lat


def load_reference(geo_dir: Path = GEO_DIR) -> Reference:
    """Read the reference files; fail loudly if they disagree with each other."""
    with open(geo_dir / "xuhui_district_outline.geojson", encoding="utf-8") as f:
        feature = json.load(f)["features"][0]
    outline = shapely.geometry.shape(feature["geometry"])
    if not isinstance(outline, Polygon) or not outline.is_valid:
        raise ValueError("the district outline must be one valid polygon")

    def read(name: str) -> pd.DataFrame:
        return pd.read_csv(geo_dir / name, dtype=str, keep_default_na=False, encoding="utf-8")

    subs = read("xuhui_subdistricts.csv").rename(
        columns={"n_residential_committees": "n_committees"}
    )
    for col in ("approx_lon", "approx_lat", "approx_area_km2"):
        subs[col] = subs[col].astype(float)
    subs["n_committees"] = subs["n_committees"].astype(int)
    subs = subs.sort_values("code", ignore_index=True)

    committees = read("xuhui_residential_committees.csv")
    committees["is_virtual"] = committees["name"].str.endswith("虚拟社区")
    committees = committees.sort_values("code", ignore_index=True)
    real = committees[~committees["is_virtual"]].groupby("subdistrict_code").size()
    listed = subs.set_index("code")["n_committees"]
    if not real.reindex(listed.index, fill_value=0).equals(listed):
        raise ValueError("committee counts in the two reference files disagree")

    stations = read("xuhui_stations.csv").rename(columns={"name": "name_en"})
    stations["lon"] = stations["lon"].astype(float)
    stations["lat"] = stations["lat"].astype(float)
    return Reference(
        district_code=str(feature["properties"]["adcode"]),
        district_name=str(feature["properties"]["name"]),
        outline=outline,
        subdistricts=subs,
        committees=committees,
        stations=stations,
    )
