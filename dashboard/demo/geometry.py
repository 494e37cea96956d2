"""Plane geometry for the demo district: partitions, insets, rectangles, random points.

Everything here works in a metric CRS (metres; the builder uses UTM 51N) so that distances,
buffers and areas mean what they say. Partitions are exact (gapless, non-overlapping up to
floating point) because the finer levels of the hierarchy are cut out of the coarser ones and a
gap would show up as a hole in the map and as lost population in the sums.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

import numpy as np
import shapely
from shapely import MultiPolygon, Polygon

logger = logging.getLogger(__name__)

Areal = Polygon | MultiPolygon


def sample_points(region: Areal, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` points uniformly distributed inside ``region``, as an (n, 2) array.

    Rejection sampling in the bounding box, vectorised: cheap for the compact shapes we have.
    """
    if n <= 0:
        return np.empty((0, 2))
    shapely.prepare(region)
    minx, miny, maxx, maxy = region.bounds
    fill = max(region.area / ((maxx - minx) * (maxy - miny)), 0.05)
    found: list[np.ndarray] = []
    have = 0
    while have < n:
        m = int((n - have) / fill * 1.3) + 8
        x = rng.uniform(minx, maxx, m)
        y = rng.uniform(miny, maxy, m)
        ok = shapely.contains_xy(region, x, y)
        pts = np.column_stack([x[ok], y[ok]])
        found.append(pts)
        have += len(pts)
    return np.concatenate(found)[:n]


# --------------------------------------------------------------------------- power diagram


def power_partition(
    region: Polygon,
    sites: np.ndarray,
    targets: np.ndarray,
    *,
    spacing: float = 40.0,
    iterations: int = 400,
) -> list[Areal]:
    """Partition ``region`` into one cell per site, with cell areas close to ``targets``.

    A power diagram (a Voronoi diagram where each site carries a weight) is the natural way to
    give cells prescribed areas while keeping straight borders. The weights are fitted on a grid
    of sample points (cheap, vectorised), then the exact cells are cut once. Weights are kept
    small enough that every site stays inside its own cell: the sites are the real
    subdistricts' interior points and must land in the right polygon.
    """
    weights = _fit_power_weights(region, sites, targets, spacing=spacing, iterations=iterations)
    cells = _power_cells(region, sites, weights)
    return absorb_fragments(cells, sites)


def _fit_power_weights(
    region: Polygon, sites: np.ndarray, targets: np.ndarray, *, spacing: float, iterations: int
) -> np.ndarray:
    minx, miny, maxx, maxy = region.bounds
    gx, gy = np.meshgrid(
        np.arange(minx + spacing / 2, maxx, spacing), np.arange(miny + spacing / 2, maxy, spacing)
    )
    gx, gy = gx.ravel(), gy.ravel()
    shapely.prepare(region)
    inside = shapely.contains_xy(region, gx, gy)
    grid = np.column_stack([gx[inside], gy[inside]])
    d2 = ((grid[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    site_d2 = ((sites[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2)
    goal = targets / targets.sum() * len(grid)  # in grid points
    n = len(sites)
    w = np.zeros(n)
    # Moving one border by dw/(2d) metres changes an area by about (border length) * dw / (2d);
    # with borders and distances of the same order, a gain of a fraction of a cell is stable.
    gain = 0.25 * spacing**2
    for _ in range(iterations):
        owner = np.argmin(d2 - w, axis=1)
        have = np.bincount(owner, minlength=n)
        w += gain * (goal - have)
        w -= w.mean()
        w = _keep_sites_inside(w, site_d2)
    owner = np.argmin(d2 - w, axis=1)
    have = np.bincount(owner, minlength=n)
    logger.debug("power diagram: worst relative area error %.3f", np.max(np.abs(have / goal - 1)))
    return w


def _keep_sites_inside(w: np.ndarray, site_d2: np.ndarray, margin: float = 0.8) -> np.ndarray:
    """Project weights so that w_j - w_i <= margin * |p_i - p_j|^2 for all pairs.

    Site i lies in its own power cell iff w_j - w_i <= |p_i - p_j|^2 for every j.
    """
    w = w.copy()
    limit = margin * site_d2
    np.fill_diagonal(limit, np.inf)
    for _ in range(100):
        excess = w[None, :] - w[:, None] - limit  # [i, j]: w_j - w_i - limit_ij
        i, j = np.unravel_index(np.argmax(excess), excess.shape)
        if excess[i, j] <= 0:
            break
        w[j] -= excess[i, j] / 2
        w[i] += excess[i, j] / 2
    return w


def _power_cells(region: Polygon, sites: np.ndarray, w: np.ndarray) -> list[Areal]:
    """Exact power cells clipped to ``region``, from one noded arrangement of lines.

    Cutting every cell from the same arrangement (the region's boundary plus every pairwise
    power line) makes neighbouring cells share their borders vertex for vertex.
    """
    minx, miny, maxx, maxy = region.bounds
    pad = max(maxx - minx, maxy - miny)
    box = shapely.box(minx - pad, miny - pad, maxx + pad, maxy + pad)
    reach = 4 * pad
    centre = np.array(region.centroid.coords[0])
    lines = [region.boundary]
    n = len(sites)
    for i in range(n):
        for j in range(i + 1, n):
            normal = sites[j] - sites[i]
            c = (sites[j] @ sites[j] - sites[i] @ sites[i] + w[i] - w[j]) / 2
            norm2 = normal @ normal
            x0 = centre + normal * (c - normal @ centre) / norm2  # foot from the centre
            t = np.array([-normal[1], normal[0]]) / np.sqrt(norm2)
            line = shapely.LineString([x0 - reach * t, x0 + reach * t]).intersection(box)
            if not line.is_empty:
                lines.append(line)
    noded = shapely.union_all(lines)
    faces = np.asarray(shapely.get_parts(shapely.polygonize(shapely.get_parts(noded))))
    reps = shapely.point_on_surface(faces)
    shapely.prepare(region)
    faces = faces[shapely.contains(region, reps)]
    xy = shapely.get_coordinates(shapely.point_on_surface(faces))
    power = ((xy[:, None, :] - sites[None, :, :]) ** 2).sum(axis=2) - w[None, :]
    owner = np.argmin(power, axis=1)
    return [shapely.union_all(faces[owner == k]) for k in range(n)]


# --------------------------------------------------------------------------- Voronoi + Lloyd


def voronoi_partition(region: Areal, seeds: np.ndarray) -> list[Areal]:
    """The Voronoi cells of ``seeds`` clipped to ``region``, in the order of the seeds."""
    if len(seeds) == 1:
        return [region]
    diagram = shapely.voronoi_polygons(shapely.multipoints(seeds), extend_to=region, ordered=True)
    cells = shapely.get_parts(diagram)
    return list(shapely.intersection(cells, region))


def lloyd_partition(
    region: Areal, seeds: np.ndarray, iterations: int
) -> tuple[np.ndarray, list[Areal]]:
    """Voronoi partition after ``iterations`` Lloyd steps (seed -> centroid of its cell).

    Random seeds give a few slivers and a few giants; a handful of Lloyd steps evens the cells
    out the way real administrative units roughly are. Each cell is one polygon containing
    its seed; pieces cut off by a concave border are handed to a neighbour.
    """
    shapely.prepare(region)
    for _ in range(iterations):
        if len(seeds) == 1:
            break
        cells = voronoi_partition(region, seeds)
        centroids = shapely.centroid(cells)
        outside = ~shapely.contains(region, centroids)
        if outside.any():
            centroids[outside] = shapely.point_on_surface(np.asarray(cells)[outside])
        seeds = shapely.get_coordinates(centroids)
    cells = voronoi_partition(region, seeds)
    return seeds, absorb_fragments(cells, seeds)


def absorb_fragments(cells: Sequence[Areal], anchors: np.ndarray) -> list[Areal]:
    """Make each cell the single piece containing its anchor; give other pieces to neighbours.

    A cell clipped by a concave border can fall apart. The detached pieces go to the neighbour
    sharing the longest border, so that the partition stays gapless.
    """
    keep: list[Areal] = []
    orphans: list[Polygon] = []
    for cell, (ax, ay) in zip(cells, anchors, strict=True):
        parts = [p for p in shapely.get_parts(cell) if isinstance(p, Polygon) and p.area > 0]
        if len(parts) <= 1:
            keep.append(parts[0] if parts else cell)
            continue
        hits = [k for k, p in enumerate(parts) if shapely.intersects_xy(p, ax, ay)]
        main = hits[0] if hits else int(np.argmax([p.area for p in parts]))
        keep.append(parts[main])
        orphans.extend(p for k, p in enumerate(parts) if k != main)
    for orphan in sorted(orphans, key=lambda p: -p.area):
        touch = shapely.area(shapely.intersection(np.asarray(keep), orphan.buffer(0.5)))
        k = int(np.argmax(touch))
        keep[k] = shapely.union_all([keep[k], orphan])
    return keep


# --------------------------------------------------------------------------- shapes


def inset(poly: Areal, fraction: float, *, minimum: float = 2.0) -> Polygon:
    """``poly`` shrunk by ``fraction`` of its linear size (never less than ``minimum`` metres).

    Compounds sit inside their committee with room for streets, schools and parks around
    them; a mitred negative buffer keeps the straight Voronoi edges straight.
    """
    d = max(fraction * np.sqrt(poly.area), minimum)
    for _ in range(8):
        shrunk = poly.buffer(-d, join_style="mitre")
        if not shrunk.is_empty and shrunk.area > 0.1 * poly.area:
            return max(shapely.get_parts(shrunk), key=lambda p: p.area)
        d = max(d * 0.6, minimum)
    shrunk = poly.buffer(-minimum, join_style="mitre")
    return max(shapely.get_parts(shrunk), key=lambda p: p.area)


def rotate_xy(xy: np.ndarray, angle_deg: float, origin: tuple[float, float]) -> np.ndarray:
    """Rotate coordinates counter-clockwise about ``origin``."""
    a = np.radians(angle_deg)
    c, s = np.cos(a), np.sin(a)
    ox, oy = origin
    x, y = xy[:, 0] - ox, xy[:, 1] - oy
    return np.column_stack([ox + c * x - s * y, oy + s * x + c * y])


def rotate(geoms: np.ndarray | shapely.Geometry, angle_deg: float, origin: tuple[float, float]):
    """Vectorised rotation of one geometry or an array of them."""
    return shapely.transform(geoms, lambda xy: rotate_xy(xy, angle_deg, origin))


def rectangle_slots(
    region: Polygon,
    *,
    length: float,
    depth: float,
    gap_x: float,
    gap_y: float,
    angle_deg: float,
    rng: np.random.Generator,
) -> np.ndarray:
    """Rectangles ``length`` x ``depth`` laid out in rows inside ``region``, rotated by angle.

    This is how Shanghai housing is built: parallel rows facing (roughly) south with a gap
    between rows for daylight. Returned north row first, west to east, so numbering reads
    like the estate's own.
    """
    origin = region.centroid.coords[0]
    local = rotate(region, -angle_deg, origin)
    shapely.prepare(local)
    minx, miny, maxx, maxy = local.bounds
    px, py = length + gap_x, depth + gap_y
    x0 = minx + rng.uniform(0, min(px, max(maxx - minx - length, 0) + 1e-9))
    y0 = miny + rng.uniform(0, min(py, max(maxy - miny - depth, 0) + 1e-9))
    xs = np.arange(x0, maxx - length, px)
    ys = np.arange(y0, maxy - depth, py)
    if len(xs) == 0 or len(ys) == 0:
        return np.empty(0, dtype=object)
    gx, gy = np.meshgrid(xs, ys[::-1])
    gx, gy = gx.ravel(), gy.ravel()
    boxes = shapely.box(gx, gy, gx + length, gy + depth)
    boxes = boxes[shapely.contains(local, boxes)]
    return rotate(boxes, angle_deg, origin)
