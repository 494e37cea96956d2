"""The demo hierarchy: subdistricts, committees, compounds and buildings, in metres.

Real: the outline, the subdistricts' codes, names, interior points and listed areas, the
committees' codes, names and subdistricts. Generated: every internal polygon, the compounds and
their buildings, and the population. Each level is cut out of the level above, so containment
and the sums hold by construction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from shapely import Polygon

from dashboard.demo import names
from dashboard.demo.geometry import (
    inset,
    lloyd_partition,
    power_partition,
    rectangle_slots,
    sample_points,
)
from dashboard.demo.reference import Reference

logger = logging.getLogger(__name__)

N_COMPOUNDS = 957  # Xuhui's housing compounds scored by the community-risk model
CENSUS_POPULATION = 1_113_078  # Xuhui, 7th national census (2020)
COMPOUNDS_PER_COMMITTEE = (1, 6)
BUILDINGS_PER_COMPOUND = (4, 20)
STOREY_M = 2.9
OLD_TOWN = {"310104003", "310104004"}  # 天平路, 湖南路: the old lanes of the former concession


@dataclass(frozen=True)
class MetricAreas:
    """The hierarchy with geometry in the metric CRS; converted to WGS84 by the builder."""

    district: Polygon
    subdistricts: list[Polygon]  # aligned with reference.subdistricts rows
    committees: pd.DataFrame  # code, name, parent_code, is_virtual, geometry
    compounds: pd.DataFrame  # code, name, parent_code, kind, population, geometry
    buildings: pd.DataFrame  # code, compound_code, name, floors, households, residents, geometry


def apportion(total: int, weights: np.ndarray) -> np.ndarray:
    """Integers proportional to ``weights`` summing exactly to ``total`` (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    quota = total * weights / weights.sum()
    out = np.floor(quota).astype(np.int64)
    short = int(total - out.sum())
    if short:
        order = np.argsort(-(quota - out), kind="stable")
        out[order[:short]] += 1
    return out


def build_areas(ref: Reference, to_metric, rng: np.random.Generator) -> MetricAreas:
    """Partition the real outline into the four generated levels below it."""
    outline = to_metric(ref.outline)
    subs = ref.subdistricts
    sites = shapely.get_coordinates(
        to_metric(shapely.points(subs["approx_lon"].to_numpy(), subs["approx_lat"].to_numpy()))
    )
    sub_polys = power_partition(outline, sites, subs["approx_area_km2"].to_numpy())
    committees = _committees(ref, sub_polys, rng)
    compounds = _compounds(committees, rng)
    buildings = _buildings(compounds, rng)
    _populate(compounds, buildings, rng)
    return MetricAreas(
        district=outline,
        subdistricts=sub_polys,
        committees=committees,
        compounds=compounds,
        buildings=buildings,
    )


def _committees(ref: Reference, sub_polys: list, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for code, poly in zip(ref.subdistricts["code"], sub_polys, strict=True):
        members = ref.committees[ref.committees["subdistrict_code"] == code]
        real = members[~members["is_virtual"]]
        if len(real):
            seeds = sample_points(poly, len(real), rng)
            _, cells = lloyd_partition(poly, seeds, iterations=6)
            # Which real committee gets which cell is unknown; shuffle rather than pretend.
            cells = [cells[k] for k in rng.permutation(len(cells))]
        else:
            cells = []
        for (_, c), cell in zip(real.iterrows(), cells, strict=True):
            rows.append((c["code"], c["name"], code, False, cell))
        # A virtual community (the tech park's) covers its whole unit, so the committee level
        # of the map has no hole there; it has no housing and no residents.
        for _, c in members[members["is_virtual"]].iterrows():
            rows.append((c["code"], c["name"], code, True, poly))
    return pd.DataFrame(rows, columns=["code", "name", "parent_code", "is_virtual", "geometry"])


def _compound_counts(areas: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """1-6 compounds per committee, N_COMPOUNDS in all, larger committees getting more."""
    lo, hi = COMPOUNDS_PER_COMMITTEE
    counts = np.full(len(areas), lo)
    for _ in range(N_COMPOUNDS - counts.sum()):
        p = np.where(counts < hi, areas, 0.0)
        counts[rng.choice(len(areas), p=p / p.sum())] += 1
    return counts


class _NamePool:
    """Unique compound names: the committee's own estate names first, then generated ones."""

    def __init__(self, rng: np.random.Generator):
        self.rng = rng
        self.used: set[str] = set()
        kinds = list(names.COMPOUND_KINDS)
        self.kinds = kinds
        self.kind_p = np.array([names.COMPOUND_KINDS[k]["weight"] for k in kinds])

    def kind(self, subdistrict_code: str) -> str:
        p = self.kind_p.copy()
        if subdistrict_code in OLD_TOWN:
            p[self.kinds.index("lane")] *= 4
        return self.kinds[self.rng.choice(len(p), p=p / p.sum())]

    def claim(self, name: str) -> str:
        if name not in self.used:
            self.used.add(name)
            return name
        for numeral in "二三四五六七八九":
            candidate = f"{name}{numeral}期"
            if candidate not in self.used:
                self.used.add(candidate)
                return candidate
        raise RuntimeError(f"no free variant of compound name {name!r}")

    def suffixed(self, stem: str, kind: str) -> str:
        suffixes = names.COMPOUND_KINDS[kind]["suffixes"]
        return stem + suffixes[self.rng.integers(len(suffixes))]

    def generated(self, kind: str) -> str:
        for _ in range(40):
            name = self.suffixed(names.STEMS[self.rng.integers(len(names.STEMS))], kind)
            if name not in self.used:
                return self.claim(name)
        return self.claim(name)


def _compounds(committees: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    real = committees[~committees["is_virtual"]].reset_index(drop=True)
    counts = _compound_counts(shapely.area(real["geometry"].to_numpy()), rng)
    pool = _NamePool(rng)
    rows = []
    for (_, c), n in zip(real.iterrows(), counts, strict=True):
        own, own_kind = names.committee_compound_names(c["name"])
        labels: list[tuple[str, str]] = []
        for stem in own[:n]:
            if own_kind is None:
                kind = pool.kind(c["parent_code"])
                labels.append((pool.claim(pool.suffixed(stem, kind)), kind))
            else:
                labels.append((pool.claim(stem), own_kind))
        while len(labels) < n:
            kind = pool.kind(c["parent_code"])
            labels.append((pool.generated(kind), kind))
        poly = c["geometry"]
        seeds = sample_points(poly, n, rng)
        _, cells = lloyd_partition(poly, seeds, iterations=2)
        for i, ((name, kind), cell) in enumerate(zip(labels, cells, strict=True), start=1):
            shape = inset(cell, rng.uniform(0.07, 0.15))
            rows.append((f"{c['code']}{i:03d}", name, c["code"], kind, shape))
    return pd.DataFrame(rows, columns=["code", "name", "parent_code", "kind", "geometry"])


def _buildings(compounds: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for code, kind, poly in compounds[["code", "kind", "geometry"]].itertuples(index=False):
        spec = names.COMPOUND_KINDS[kind]
        shapes = _place_buildings(poly, spec, kind, rng)
        lo, hi = spec["floors"]
        base = int(rng.integers(lo, hi + 1))
        floors = np.clip(base + rng.integers(-2, 3, len(shapes)), lo, hi)
        unit = "号" if kind == "lane" else "号楼"
        for n, (shape, f) in enumerate(zip(shapes, floors, strict=True), start=1):
            rows.append((f"{code}-{n:02d}", code, f"{n}{unit}", int(f), shape))
    return pd.DataFrame(rows, columns=["code", "compound_code", "name", "floors", "geometry"])


def _place_buildings(
    poly: Polygon, spec: dict, kind: str, rng: np.random.Generator
) -> list[Polygon]:
    """Rows of rectangular blocks inside the compound, shrinking them until a few fit."""
    lo_n, hi_n = BUILDINGS_PER_COMPOUND
    wanted = int(np.clip(round(poly.area / 3500 * rng.uniform(0.7, 1.3)), lo_n, hi_n))
    (l_lo, l_hi), (d_lo, d_hi) = spec["size"]
    length, depth = rng.uniform(l_lo, l_hi), rng.uniform(d_lo, d_hi)
    floors_mid = sum(spec["floors"]) / 2
    # Rows are spaced for daylight (about the height of the block in front); lanes are tight.
    gap_x, gap_y = spec["gap_x"], 3.0 if kind == "lane" else max(8.0, 0.8 * floors_mid * STOREY_M)
    angle = float(rng.normal(0.0, 8.0))  # Shanghai blocks face (roughly) south
    setback = poly.buffer(-3.0, join_style="mitre")
    region = max(shapely.get_parts(setback), key=lambda p: p.area) if not setback.is_empty else poly
    slots = np.empty(0, dtype=object)
    for _ in range(8):
        slots = rectangle_slots(
            region, length=length, depth=depth, gap_x=gap_x, gap_y=gap_y, angle_deg=angle, rng=rng
        )
        if len(slots) >= min(lo_n, wanted):
            break
        length, depth, gap_x, gap_y = length * 0.8, depth * 0.9, gap_x * 0.8, gap_y * 0.8
    if len(slots) == 0:
        return [_fallback_block(region)]
    if len(slots) > wanted:
        slots = slots[np.sort(rng.choice(len(slots), size=wanted, replace=False))]
    return list(slots)


def _fallback_block(region: Polygon) -> Polygon:
    """One small block at the compound's representative point (for slivers of compounds)."""
    x, y = region.representative_point().coords[0]
    size = 12.0
    while size > 0.5:
        block = shapely.box(x - size / 2, y - size / 3, x + size / 2, y + size / 3)
        if region.contains(block):
            return block
        size *= 0.7
    return shapely.box(x - 0.2, y - 0.1, x + 0.2, y + 0.1)


def _populate(compounds: pd.DataFrame, buildings: pd.DataFrame, rng: np.random.Generator) -> None:
    """Spread the census population over compounds by floor space, then over buildings.

    Floor space (footprint x floors) is what houses people, but committees are drawn around
    a similar number of households, so the small inner-city committees are denser than
    their floor space alone says: a committee's share goes with the square root of its floor
    space, and within it each compound's with its floor space. A log-normal factor stands
    for what floor space does not tell (flat sizes, vacancy, group rentals).
    """
    floor_space = shapely.area(buildings["geometry"].to_numpy()) * buildings["floors"].to_numpy()
    buildings["floor_space"] = floor_space
    per_compound = buildings.groupby("compound_code", sort=False)["floor_space"].sum()
    per_compound = per_compound.reindex(compounds["code"]).to_numpy()
    committee = compounds["parent_code"].to_numpy()
    per_committee = pd.Series(per_compound).groupby(committee).transform("sum").to_numpy()
    weight = np.sqrt(per_committee) * (per_compound / per_committee)
    weight *= rng.lognormal(0.0, 0.3, len(per_compound))
    compounds["population"] = apportion(CENSUS_POPULATION, weight)
    residents = np.zeros(len(buildings), dtype=np.int64)
    owner = buildings["compound_code"].to_numpy()
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    ends = np.r_[starts[1:], len(buildings)]
    for pop, s, e in zip(compounds["population"].to_numpy(), starts, ends, strict=True):
        residents[s:e] = apportion(int(pop), floor_space[s:e])
    buildings["residents"] = residents
    household = rng.uniform(2.2, 2.9, len(buildings))
    households = np.rint(residents / household).astype(np.int64)
    buildings["households"] = np.where(residents > 0, np.maximum(households, 1), 0)
    del buildings["floor_space"]
