"""Coverage of each county by stations within a radius: shares, gaps, worst case, targets, new sites.

Entry point: :func:`analyse` -> :class:`CoverageResult` (``.to_dict()`` is the ``/api/coverage``
shape, ``.gaps_geojson()`` the uncovered polygons).

Method (all inputs and outputs WGS-84 lon/lat; distances geodesic metres; areas km²)
------------------------------------------------------------------------------------------
- Each county gets its own azimuthal equidistant projection (AEQD, WGS-84 ellipsoid) centred on its
  centroid. AEQD keeps geodesic distances from the centre exact; a circle drawn around a station at
  ρ km from the centre differs from the true geodesic circle by a relative scale of about
  ρ²/(6·6371²) (1e-5 at 50 km, 7e-4 at 400 km). UTM was not chosen: its scale error is up to 4e-4
  within a zone, and counties straddle zone borders.
- Circles are 128-gons (``QUAD_SEGS`` = 32) whose radius is enlarged so that the polygon's area
  equals the circle's (``_AREA_FIX``), then unioned and clipped to the county. Tests check the share
  against 720-point ``pyproj.Geod.fwd`` circles to 0.05 percentage points.
- ``covered_share`` = covered area / county area, both measured in the same projection;
  ``covered_km2`` = share x the county's geodesic area (geodesic area of the outline, not
  rounded, so it may differ from the 0.1 km² of :meth:`Counties.area_km2`); covered and total areas
  add up exactly over counties.
- Stations anywhere (also in neighbouring counties or cities) count for a county when within R.
- Worst case: Voronoi edges of the stations (in the county's projection; scipy's Qhull, ~10x faster
  than shapely.voronoi_polygons) clipped to the county;
  the farthest point from any station is a vertex of a clipped cell (distance to the cell's station
  is convex, so its maximum over a polygon is at a vertex). The stations used are all those within
  the resulting distance of the county (iterated until that holds), so a county with no station of
  its own gets the distance to the nearest station outside it. Distances are re-measured with
  ``pyproj.Geod.inv``. Only when no station is considered at all is the worst case ``None``.
- Counts: ``stations``/``rest_stations``/``by_kind`` count the considered stations (status open, or
  also under construction and planned with ``include_planned``); ``by_status`` counts every station
  in the county whatever its status. Coverage and worst case use the stations of the covering kinds:
  ``kinds`` (default ``COVERING_KINDS``, rest stations only), any kinds of the vocabulary, or the preset
  ``"water"`` (:data:`WATER_PRESET`): every site, of any kind, that offers ``drinking_water``.
  ``covering_stations`` counts them per county.
- Water (``water``: a ``stations.water.WaterMask``): each county's land is its outline less the mask.
  Coverage shares, the worst case (Voronoi cells clipped to the land: the farthest point is on land),
  the gaps and the siting grids (candidates, area-weighted demand) are then of the land only.
  ``area_km2`` stays the whole outline's area; ``land_km2`` is the land's (geodesic);
  ``covered_share`` is the share of the area used (``area_basis``: ``"land"`` with a mask, else
  ``"all"``), and ``covered_share_all_area`` the share of the whole outline within R of a station.
- Suggested sites carry their county (``county_code``, ``county``) and the nearest covering station
  (``nearest_station``: id, name, geodesic ``distance_m``).
- Targets (``DEFAULT_TARGETS``, overridable): the city's rest-station target is split over all
  counties by population share (largest remainder, so the parts add up to the city target; by area
  share if a population is missing); one convalescence base per county; class 1-2 palaces >= 80 %.
- Population figures are persons; ``rest_per_100k_residents`` is per 100,000 persons.
"""
from __future__ import annotations

import logging
import math
import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Callable, Sequence

import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import Geod, Transformer
from pyproj.enums import TransformDirection
from shapely.geometry import mapping

from .demand import PointLayer, as_point_layer
from .errors import NotFound, Problem, ValidationError
from .kdtree import cKDTree
from .model import KINDS, Station
from .siting import chord_for, cover_matrix, covered_mask, grid_in_polygon, solve_max_cover, unit_xyz

log = logging.getLogger(__name__)

__all__ = ["analyse", "CoverageResult", "CountyCoverage", "DEFAULT_TARGETS", "RADIUS_RANGE_M", "COVERING_KINDS",
           "WATER_PRESET", "KIND_CHOICES", "covering_kinds", "covers"]

RADIUS_RANGE_M = (100.0, 20_000.0)
MAX_NEW_SITES = 1000
QUAD_SEGS = 32  # segments per quarter circle
_N_SIDES = 4 * QUAD_SEGS
_AREA_FIX = math.sqrt(2 * math.pi / (_N_SIDES * math.sin(2 * math.pi / _N_SIDES)))  # polygon area = πR²
OPEN_STATUSES = ("open",)
PLANNED_STATUSES = ("open", "under_construction", "planned")
COVERING_KINDS = ("rest_station",)
#: the preset of ``kinds``: every site, whatever its kind, that offers drinking water
WATER_PRESET = "water"
WATER_AMENITY = "drinking_water"
KIND_CHOICES = (*KINDS, WATER_PRESET)
DEFAULT_TARGETS: dict[str, float] = {
    "rest_stations": 100,  # city-wide
    "convalescence_bases_per_county": 1,
    "palace_class_1_2_share": 0.8,
}
MAX_DEMAND_POINTS = 200_000  # area-weighted demand grid (spacing R/4, coarser if needed)
MAX_GRID_CANDIDATES = 50_000  # candidate grid (spacing R/2, coarser if needed)
_GEOD = Geod(ellps="WGS84")
_INVERSE = TransformDirection.INVERSE
#: fewer counties than this are analysed in one process even when ``workers`` allows more (forking
#: costs more than it saves)
PARALLEL_MIN_COUNTIES = 64
#: what the forked processes of an analysis read (set before they are forked; one analysis at a time)
_SHARED: tuple | None = None
_SHARED_LOCK = threading.Lock()

Progress = Callable[[int, int, str], None]


def covering_kinds(kinds=None) -> tuple[str, ...]:
    """The kinds that count towards coverage, checked and in the vocabulary's order.

    ``None`` or empty: :data:`COVERING_KINDS`; a text is split at commas. ``("water",)`` (alone) is the
    preset :data:`WATER_PRESET`. Anything else: ``ValidationError`` naming the value and what is allowed.
    """
    if kinds is None:
        return COVERING_KINDS
    items = [k.strip() for k in kinds.split(",")] if isinstance(kinds, str) else [str(k).strip() for k in kinds]
    items = [k for k in items if k]
    allowed = f"one or more of {', '.join(KINDS)}, or {WATER_PRESET!r} alone"
    unknown = [k for k in items if k not in KIND_CHOICES]
    if unknown:
        raise ValidationError([Problem("coverage", "kinds", k, allowed) for k in unknown])
    if WATER_PRESET in items:
        if len(set(items)) > 1:
            raise ValidationError(Problem("coverage", "kinds", ",".join(items), allowed))
        return (WATER_PRESET,)
    return tuple(k for k in KINDS if k in items) or COVERING_KINDS


def covers(station: Station, kinds: tuple[str, ...]) -> bool:
    """Whether ``station`` is of the covering ``kinds`` (:func:`covering_kinds`'s answer); status aside."""
    if kinds == (WATER_PRESET,):
        return WATER_AMENITY in station.amenities
    return station.kind in kinds


def _polygonal(geom):
    """The geometry if valid, else its repaired polygonal part (lines and points dropped)."""
    if geom.is_valid:
        return geom
    parts = shapely.get_parts(shapely.make_valid(geom))
    return shapely.union_all([p for p in parts if p.geom_type in ("Polygon", "MultiPolygon")])


class _Frame:
    """A county in its own AEQD projection (metres), centred on its centroid.

    ``geom``/``wgs84``/``area`` are the area analysed: the land (the outline less ``water``) when a
    water mask touches the county, else the whole outline; ``full_geom``/``full_area`` the whole outline.
    """

    def __init__(self, geom_wgs84, water=None):
        geom_wgs84 = _polygonal(geom_wgs84)
        c = geom_wgs84.centroid
        # a bare PROJ pipeline: ~0.1 ms to build, where Transformer.from_crs takes ~12 ms
        self._tr = Transformer.from_pipeline(
            "+proj=pipeline +step +proj=unitconvert +xy_in=deg +xy_out=rad "
            f"+step +proj=aeqd +lat_0={c.y:.7f} +lon_0={c.x:.7f} +ellps=WGS84")
        self.center = (c.x, c.y)
        self.full_wgs84 = geom_wgs84
        self.full_geom = self._project(geom_wgs84)
        self.full_area = self.full_geom.area
        self.has_water = False
        self.wgs84, self.geom, self.area = geom_wgs84, self.full_geom, self.full_area
        if water is not None:
            nearby = shapely.clip_by_rect(water, *geom_wgs84.bounds)  # a national mask: only what is here
            if not nearby.is_empty and shapely.intersects(geom_wgs84, nearby):
                self.has_water = True
                self.wgs84 = _polygonal(shapely.difference(geom_wgs84, shapely.make_valid(nearby)))
                self.geom = self._project(self.wgs84) if not self.wgs84.is_empty else shapely.Polygon()
                self.area = self.geom.area
        self.segments = None  # boundary segments and their STRtree, built when first needed
        coords = shapely.get_coordinates(self.full_geom)
        self.reach_m = float(np.hypot(*coords.T).max())  # exact in AEQD

    def _project(self, geom_wgs84):
        geom = shapely.transform(geom_wgs84, lambda xy: np.column_stack(self._tr.transform(xy[:, 0], xy[:, 1])))
        geom = _polygonal(geom)  # projecting can make near-touching rings touch
        shapely.prepare(geom)
        return geom

    def xy(self, lons, lats) -> np.ndarray:
        x, y = self._tr.transform(np.asarray(lons, float), np.asarray(lats, float))
        return np.column_stack([x, y]).reshape(-1, 2)

    def lonlat(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lons, lats = self._tr.transform(xy[:, 0], xy[:, 1], direction=_INVERSE)
        return np.asarray(lons, float), np.asarray(lats, float)

    def to_wgs84(self, geom):
        return shapely.transform(geom, lambda xy: np.column_stack(self.lonlat(xy)))


def _geodesic_area_km2(geom) -> float:
    """Area of a WGS-84 (multi)polygon on the ellipsoid, km² (pyproj.Geod on numpy rings).

    Same result as :func:`stations.counties.geodesic_area_km2`, ~20x faster on outlines with
    thousands of vertices (no Python lists).
    """
    total = 0.0
    for part in shapely.get_parts(geom):
        if part.geom_type != "Polygon":
            continue
        for k, ring in enumerate([part.exterior, *part.interiors]):
            xy = shapely.get_coordinates(ring)
            area, _ = _GEOD.polygon_area_perimeter(xy[:, 0], xy[:, 1])
            total += abs(area) if k == 0 else -abs(area)
    return total / 1e6


class _Points:
    """Station positions (WGS-84) with a unit-sphere KD-tree for 'near this county' queries."""

    def __init__(self, lons, lats):
        self.lons, self.lats = np.asarray(lons, float), np.asarray(lats, float)
        self.tree = cKDTree(unit_xyz(self.lons, self.lats)) if self.lons.size else None

    def near(self, frame: _Frame, dist_m: float) -> tuple[np.ndarray, np.ndarray]:
        """Stations within ``dist_m`` of the county: (indices, projected xy in metres)."""
        if self.tree is None:
            return np.zeros(0, np.int64), np.zeros((0, 2))
        reach = (frame.reach_m + dist_m) * 1.02 + 1000.0  # generous: the exact test follows
        idx = np.asarray(self.tree.query_ball_point(unit_xyz(*frame.center)[0], chord_for(reach)), np.int64)
        xy = frame.xy(self.lons[idx], self.lats[idx])
        # prepared geometry: an indexed distance test; AEQD is not exact far from the centre, so widen
        keep = shapely.dwithin(frame.geom, shapely.points(xy), dist_m * 1.001 + 1.0) if idx.size else idx > 0
        return idx[keep], xy[keep]

    def nearest_m(self, lon: float, lat: float) -> float:
        d, _ = self.tree.query(unit_xyz(lon, lat)[0])
        return 2 * 6_371_008.8 * math.asin(min(d / 2, 1.0))


def _covered(frame: _Frame, xy: np.ndarray, radius_m: float, full: bool = False):
    """Union of R-circles around projected points (metres) and the share of the county it covers.

    The county is its land (``frame.geom``), or with ``full`` its whole outline. Only circles that
    overlap are unioned (connected groups of centres closer than 2R), which is much faster than one
    big union; groups wholly inside the county are not clipped at all.
    """
    geom, whole = (frame.full_geom, frame.full_area) if full else (frame.geom, frame.area)
    if len(xy) == 0 or not whole:
        return shapely.Polygon(), 0.0
    r = radius_m * _AREA_FIX
    circles = shapely.buffer(shapely.points(xy), r, quad_segs=QUAD_SEGS)
    from scipy.sparse.csgraph import connected_components  # here: ~14 MB a worker serving the map does without

    pairs = cKDTree(xy).query_pairs(2 * r, output_type="ndarray")
    graph = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(xy), len(xy)))
    _, labels = connected_components(graph, directed=False)
    order = np.argsort(labels, kind="stable")
    groups = np.split(order, np.flatnonzero(np.diff(labels[order])) + 1)
    parts = np.array([circles[g[0]] if len(g) == 1 else shapely.union_all(circles[g]) for g in groups])
    inside = shapely.contains(geom, parts)  # prepared: cheap
    area = float(shapely.area(parts[inside]).sum())
    for part in parts[~inside & shapely.intersects(geom, parts)]:
        try:  # clip the (large) county to the group's box first: a far smaller overlay
            area += shapely.intersection(part, shapely.clip_by_rect(geom, *part.bounds)).area
        except shapely.errors.GEOSException:  # clip_by_rect may leave an invalid piece
            area += shapely.intersection(part, geom).area
    return shapely.multipolygons(shapely.get_parts(parts)), min(area / whole, 1.0)


def _boundary_segments(frame: _Frame):
    """The county's boundary as 2-point segments (start xy, end xy) and an STRtree over them."""
    if frame.segments is None:
        starts, ends = [], []
        for ring in shapely.get_parts(shapely.get_rings(shapely.get_parts(frame.geom))):
            c = shapely.get_coordinates(ring)
            starts.append(c[:-1])
            ends.append(c[1:])
        a, b = np.vstack(starts), np.vstack(ends)
        frame.segments = (a, b, shapely.STRtree(shapely.linestrings(np.stack([a, b], axis=1))))
    return frame.segments


def _crossings(frame: _Frame, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Points where segments p->q cross the county boundary (vectorised; projected metres)."""
    a, b, tree = _boundary_segments(frame)
    ei, bj = tree.query(shapely.linestrings(np.stack([p, q], axis=1)), predicate="intersects")
    if ei.size == 0:
        return np.zeros((0, 2))
    r, s = q[ei] - p[ei], b[bj] - a[bj]
    denom = r[:, 0] * s[:, 1] - r[:, 1] * s[:, 0]
    ok = np.abs(denom) > 1e-12
    diff = a[bj] - p[ei]
    t = np.where(ok, (diff[:, 0] * s[:, 1] - diff[:, 1] * s[:, 0]) / np.where(ok, denom, 1.0), 0.0)
    pts = p[ei] + np.clip(t, 0.0, 1.0)[:, None] * r
    # collinear overlaps: the overlapping segments' end points are the extreme points
    return np.vstack([pts[ok], p[ei][~ok], q[ei][~ok], a[bj][~ok], b[bj][~ok]])


def _farthest(frame: _Frame, xy: np.ndarray) -> tuple[float, float, float]:
    """Farthest point of the county from the projected stations: (geodesic m, lon, lat).

    Candidates: the county's vertices, Voronoi vertices inside the county and the points where
    Voronoi edges cross the county's boundary, i.e. every vertex of every clipped Voronoi cell.
    """
    from scipy.spatial import Voronoi  # here: all of scipy.spatial, which a worker serving the map does without

    xy = np.unique(xy, axis=0)
    verts = shapely.get_coordinates(frame.geom)
    if len(xy) > 1:
        # Qhull (scipy) is ~10x faster than GEOS here. Four far-away dummy sites make every real
        # cell bounded; the dummies' cells cannot reach into the county (they are > 2 extents away).
        lo, hi = np.minimum(xy.min(axis=0), verts.min(axis=0)), np.maximum(xy.max(axis=0), verts.max(axis=0))
        mid, ext = (lo + hi) / 2, float((hi - lo).max()) * 10 + 1e4
        dummies = mid + ext * np.array([[-1, -1], [-1, 1], [1, -1], [1, 1]])
        vor = Voronoi(np.vstack([xy, dummies]))
        ridges = np.asarray(vor.ridge_vertices, dtype=np.int64).reshape(-1, 2)
        ridges = ridges[(ridges >= 0).all(axis=1)]  # -1: an infinite ridge (between dummies only)
        p, q = vor.vertices[ridges[:, 0]], vor.vertices[ridges[:, 1]]
        inner = vor.vertices
        inner = inner[shapely.contains_xy(frame.geom, inner[:, 0], inner[:, 1])]
        verts = np.vstack([verts, inner, _crossings(frame, p, q)])
    tree = cKDTree(xy)
    d, _ = tree.query(verts)
    top = np.argsort(d)[::-1][:32]  # re-measure the best few geodesically
    lons, lats = frame.lonlat(verts[top])
    k = min(4, len(xy))
    _, near = tree.query(verts[top], k=k)
    near = near.reshape(len(top), k)
    s_lons, s_lats = frame.lonlat(xy[near.ravel()])
    _, _, geo = _GEOD.inv(np.repeat(lons, k), np.repeat(lats, k), s_lons, s_lats)
    geo = np.asarray(geo).reshape(len(top), k).min(axis=1)
    best = int(np.argmax(geo))
    return float(geo[best]), float(lons[best]), float(lats[best])


def _worst_case(frame: _Frame, pts: _Points, radius_m: float):
    if pts.tree is None or frame.geom.is_empty:
        return None, None
    dist = max(radius_m, frame.reach_m / 2)  # usually enough in one round
    for _ in range(20):
        _, xy = pts.near(frame, dist)
        if len(xy) == 0:  # nothing near: widen to reach the nearest station from the centre
            dist = pts.nearest_m(*frame.center) * 1.02 + frame.reach_m + 1.0
            continue
        worst, lon, lat = _farthest(frame, xy)
        if worst <= dist:  # every station that could be nearest was included
            return worst, (lon, lat)
        dist = worst * 1.001 + 1.0
    raise RuntimeError("worst-case search did not settle")  # pragma: no cover


@dataclass
class CountyCoverage:
    """Figures of one county; see the module docstring for definitions and units."""

    adcode: str
    name: str
    area_km2: float
    population: int | None
    stations: int
    rest_stations: int
    by_kind: dict
    by_status: dict
    covered_share: float
    worst_case_m: float | None
    worst_case_point: tuple[float, float] | None
    target: dict
    demand_weight: float | None = None
    demand_covered: float | None = None
    covered_share_after: float | None = None
    demand_covered_after: float | None = None
    frame: Any = field(default=None, repr=False)
    radius_m: float = 1000.0
    # projected xy (metres) of the stations within R: the circles are rebuilt on demand (gaps), as
    # keeping every union would cost ~2 kB per station (400 MB for all of China's stations)
    station_xy: Any = field(default=None, repr=False)
    station_xy_after: Any = field(default=None, repr=False)
    land_km2: float | None = None  # with a water mask: the outline less the water (geodesic)
    covered_share_all_area: float | None = None  # share of the whole outline (water too) within R
    covering_stations: int = 0  # considered stations of the covering kinds in the county

    @property
    def basis_km2(self) -> float:
        """The area the shares are of: the land with a water mask, else the whole outline."""
        return self.area_km2 if self.land_km2 is None else self.land_km2

    @property
    def covered_km2(self) -> float:
        return self.covered_share * self.basis_km2

    def to_dict(self) -> dict[str, Any]:
        out = {"adcode": self.adcode, "name": self.name}
        share_all = self.covered_share if self.covered_share_all_area is None else self.covered_share_all_area
        out.update(_figures(
            self.stations, self.rest_stations, self.by_kind, self.by_status, self.area_km2, self.population,
            self.covered_km2, self.worst_case_m, self.worst_case_point, self.target, self.demand_weight,
            self.demand_covered,
            None if self.covered_share_after is None else self.covered_share_after * self.basis_km2,
            self.demand_covered_after, land_km2=self.land_km2, covered_all_km2=share_all * self.area_km2,
            covering_stations=self.covering_stations))
        return out

    def gap(self, after: bool = False):
        """Uncovered part of the county (shapely, WGS-84)."""
        xy = self.station_xy_after if (after and self.station_xy_after is not None) else self.station_xy
        covered, _ = _covered(self.frame, xy, self.radius_m)
        # subtract in lon/lat so that the gap keeps the county's own border vertices exactly
        circles = shapely.make_valid(self.frame.to_wgs84(covered))
        return shapely.difference(self.frame.wgs84, circles)


def _share(part, whole):
    return None if part is None or not whole else part / whole


def _figures(stations, rest, by_kind, by_status, area_km2, population, covered_km2, worst_m, worst_pt,
             target, demand_weight, demand_covered, covered_km2_after, demand_covered_after, *,
             land_km2=None, covered_all_km2=None, covering_stations=0) -> dict:
    basis_km2 = area_km2 if land_km2 is None else land_km2
    out = {
        "stations": stations, "rest_stations": rest, "covering_stations": covering_stations,
        "area_km2": round(area_km2, 3), "population": population,
        "land_km2": None if land_km2 is None else round(land_km2, 3),
        "water_km2": None if land_km2 is None else round(max(area_km2 - land_km2, 0.0), 3),
        "covered_km2": round(covered_km2, 3), "covered_share": round(_share(covered_km2, basis_km2) or 0.0, 6),
        "covered_share_all_area": round(_share(covered_all_km2, area_km2) or 0.0, 6),
        "covered_share_land": None if land_km2 is None else round(_share(covered_km2, land_km2) or 0.0, 6),
        "worst_case_m": None if worst_m is None else round(worst_m, 1),
        "worst_case_point": None if worst_pt is None else [round(worst_pt[0], 6), round(worst_pt[1], 6)],
        "target": target, "by_kind": dict(by_kind), "by_status": dict(by_status),
        "rest_per_100km2": round(rest / area_km2 * 100, 3) if area_km2 else None,
        "rest_per_100k_residents": round(rest / population * 1e5, 3) if population else None,
    }
    if demand_weight is not None:
        out["demand_weight"] = demand_weight
        out["demand_covered"] = demand_covered
        out["demand_share"] = _share(demand_covered, demand_weight)
    if covered_km2_after is not None:
        out["covered_km2_after"] = round(covered_km2_after, 3)
        out["covered_share_after"] = round(covered_km2_after / basis_km2, 6) if basis_km2 else None
        if demand_weight is not None:
            out["demand_covered_after"] = demand_covered_after
            out["demand_share_after"] = _share(demand_covered_after, demand_weight)
    return out


@dataclass
class CoverageResult:
    """Result of :func:`analyse`: per-county figures, the city's totals, suggested sites."""

    radius_m: float
    include_planned: bool
    counties: list[CountyCoverage]
    targets: dict
    suggestions: list[dict] = field(default_factory=list)
    demand_report: dict | None = None
    candidates_report: dict | None = None
    siting: dict | None = None
    kinds: tuple[str, ...] = COVERING_KINDS
    water_mask: dict | None = None  # ``WaterMask.describe()`` of the mask used, if any

    @property
    def area_basis(self) -> str:
        """``"land"`` when a water mask was used (shares of the land), else ``"all"`` (of whole outlines)."""
        return "all" if self.water_mask is None else "land"

    def city(self) -> dict[str, Any]:
        """The city's figures: sums over the analysed counties (worst case: the largest)."""
        cs = self.counties
        by_kind, by_status = Counter(), Counter()
        for c in cs:
            by_kind.update(c.by_kind)
            by_status.update(c.by_status)
        pops = [c.population for c in cs]
        worst = max((c for c in cs if c.worst_case_m is not None), key=lambda c: c.worst_case_m, default=None)
        demand = None if cs and cs[0].demand_weight is None else sum(c.demand_weight for c in cs)
        after = None if not cs or cs[0].covered_share_after is None else \
            sum(c.covered_share_after * c.basis_km2 for c in cs)
        land = None if self.water_mask is None else sum(c.basis_km2 for c in cs)
        covered_all = sum((c.covered_share if c.covered_share_all_area is None else c.covered_share_all_area)
                          * c.area_km2 for c in cs)
        out = _figures(
            sum(c.stations for c in cs), sum(c.rest_stations for c in cs), by_kind, by_status,
            sum(c.area_km2 for c in cs), None if None in pops else sum(pops),
            sum(c.covered_km2 for c in cs), worst and worst.worst_case_m, worst and worst.worst_case_point,
            _city_target(cs, self.targets), demand,
            None if demand is None else sum(c.demand_covered for c in cs), after,
            None if demand is None or after is None else sum(c.demand_covered_after for c in cs),
            land_km2=land, covered_all_km2=covered_all, covering_stations=sum(c.covering_stations for c in cs))
        out["counties"] = len(cs)
        out["worst_case_county"] = worst.adcode if worst else None
        return out

    def to_dict(self) -> dict[str, Any]:
        """The ``/api/coverage`` JSON shape (plus reports of the demand and candidate inputs)."""
        out = {"radius_m": self.radius_m, "include_planned": self.include_planned, "kinds": list(self.kinds),
               "area_basis": self.area_basis, "water_mask": self.water_mask, "city": self.city(),
               "counties": [c.to_dict() for c in self.counties], "suggestions": self.suggestions}
        for key in ("demand_report", "candidates_report", "siting"):
            if getattr(self, key) is not None:
                out[key.replace("_report", "")] = getattr(self, key)
        return out

    def gaps_geojson(self, after: bool = False) -> dict[str, Any]:
        """Uncovered area per county as a WGS-84 FeatureCollection (adcode, name, area_km2 of the gap).

        ``after=True`` gives the gaps left once the suggested sites are built.
        """
        features = []
        for c in self.counties:
            share = c.covered_share_after if (after and c.covered_share_after is not None) else c.covered_share
            gap = c.gap(after)
            rounded = shapely.transform(gap, lambda xy: np.round(xy, 7))  # ~1 cm, as station positions
            gap = rounded if rounded.is_valid else gap
            if gap.is_empty:
                continue
            features.append({"type": "Feature", "geometry": mapping(gap), "properties": {
                "adcode": c.adcode, "name": c.name, "area_km2": round(c.basis_km2 * (1 - share), 3),
                "county_area_km2": round(c.area_km2, 3),
                "land_km2": None if c.land_km2 is None else round(c.land_km2, 3), "covered_share": round(share, 6)}})
        return {"type": "FeatureCollection", "features": features}


def _distribute(total: int, shares: dict[str, float]) -> dict[str, int]:
    """Split an integer total by shares, largest remainder first (parts add up to ``total``)."""
    s = sum(shares.values())
    raw = {k: total * v / s for k, v in shares.items()}
    out = {k: int(math.floor(v)) for k, v in raw.items()}
    for k in sorted(raw, key=lambda k: (out[k] - raw[k], k))[: total - sum(out.values())]:
        out[k] += 1
    return out


def _county_target(kind_counts: Counter, palaces: list[int | None], rest_target: int, basis: str,
                   targets: dict) -> dict:
    rest = kind_counts.get("rest_station", 0)
    bases = kind_counts.get("convalescence_base", 0)
    good = sum(1 for c in palaces if c in (1, 2))
    share = good / len(palaces) if palaces else None
    return {
        "rest_stations": {"target": rest_target, "actual": rest, "basis": basis,
                          "progress": round(rest / rest_target, 4) if rest_target else None},
        "convalescence_bases": {"target": targets["convalescence_bases_per_county"], "actual": bases,
                                "met": bases >= targets["convalescence_bases_per_county"]},
        "palaces_class_1_2": {"target_share": targets["palace_class_1_2_share"], "palaces": len(palaces),
                              "class_1_2": good, "share": share,
                              "met": None if share is None else share >= targets["palace_class_1_2_share"]},
    }


def _city_target(cs: list[CountyCoverage], targets: dict) -> dict:
    rest_target = sum(c.target["rest_stations"]["target"] for c in cs)
    rest = sum(c.target["rest_stations"]["actual"] for c in cs)
    with_base = sum(1 for c in cs if c.target["convalescence_bases"]["met"])
    palaces = sum(c.target["palaces_class_1_2"]["palaces"] for c in cs)
    good = sum(c.target["palaces_class_1_2"]["class_1_2"] for c in cs)
    share = good / palaces if palaces else None
    return {
        "rest_stations": {"target": rest_target, "actual": rest,
                          "progress": round(rest / rest_target, 4) if rest_target else None},
        "convalescence_bases": {"target_counties": len(cs), "counties_with_base": with_base,
                                "actual": sum(c.target["convalescence_bases"]["actual"] for c in cs),
                                "met": with_base == len(cs)},
        "palaces_class_1_2": {"target_share": targets["palace_class_1_2_share"], "palaces": palaces,
                              "class_1_2": good, "share": share,
                              "met": None if share is None else share >= targets["palace_class_1_2_share"]},
    }


def _check_args(counties, radius_m, new_sites, county, targets) -> tuple[list[str], dict]:
    lo, hi = RADIUS_RANGE_M
    if isinstance(radius_m, bool) or not isinstance(radius_m, (int, float)) or not lo <= radius_m <= hi:
        raise ValidationError(Problem("coverage", "radius_m", radius_m,
                                      f"a number of metres from {lo:g} to {hi:g}"))
    whole = isinstance(new_sites, (int, np.integer)) and not isinstance(new_sites, bool)
    if not whole or not 0 <= new_sites <= MAX_NEW_SITES:
        raise ValidationError(Problem("coverage", "new_sites", new_sites, f"a whole number from 0 to {MAX_NEW_SITES}"))
    if county is not None and county not in counties.codes:
        raise NotFound(f"unknown county code {county!r}; known: {', '.join(counties.codes)}")
    merged = dict(DEFAULT_TARGETS)
    unknown = sorted(set(targets or {}) - set(DEFAULT_TARGETS))
    if unknown:
        raise ValidationError([Problem("coverage", "targets", k, "one of " + ", ".join(DEFAULT_TARGETS))
                               for k in unknown])
    merged.update(targets or {})
    return ([county] if county is not None else list(counties.codes)), merged


def analyse(counties, stations: Sequence[Station], radius_m: float = 1000, include_planned: bool = False,
            demand=None, new_sites: int = 0, candidates=None, exact: bool = False, county: str | None = None,
            targets: dict | None = None, progress: Progress | None = None,
            max_candidates: int = MAX_GRID_CANDIDATES, max_demand_points: int = MAX_DEMAND_POINTS,
            kinds=None, water=None, workers: int = 1) -> CoverageResult:
    """Coverage of counties by stations within ``radius_m``, with optional suggested new sites.

    Parameters
    ----------
    counties : stations.counties.Counties
        County outlines (WGS-84) with names and populations (persons).
    stations : sequence of Station
        All stations (any status, any place: neighbours' stations cover across borders).
    radius_m : float
        Service radius in geodesic metres, 100 to 20,000.
    include_planned : bool
        Also count stations under construction and planned (to see what the plans will do).
    demand : PointLayer, path, or iterable of (lon, lat, weight), optional
        Demand layer (WGS-84); adds demand-weighted shares, and is what new sites maximise.
        Without one, demand is area-weighted (a grid over each county, weight = km² per point).
    new_sites : int
        Number of new sites to suggest (0 to 1000).
    candidates : PointLayer, path, or iterable of (lon, lat), optional
        Planner-supplied candidate sites; default a grid of spacing R/2 over each county.
    exact : bool
        Solve the siting problem to optimality with PuLP/CBC instead of greedy + swaps.
    county : str, optional
        Analyse one county (adcode) only; ``city`` then sums that county alone.
    targets : dict, optional
        Overrides of ``DEFAULT_TARGETS``.
    progress : callable(done, total, label), optional
        Called after each step (for a progress bar).
    max_candidates, max_demand_points : int
        Bounds of the siting grids (candidate sites, spacing R/2; area-weighted demand points, spacing
        R/4): past them the grids get coarser. They bound the work of ``new_sites`` (a web server sets
        lower ones than the defaults, 50,000 and 200,000).
    kinds : sequence of str or str, optional
        The kinds that count towards coverage (:func:`covering_kinds`): default rest stations only;
        ``"water"``: every site, of any kind, that offers drinking water.
    water : stations.water.WaterMask, optional
        Water taken out of every county's land: shares, worst case, gaps and grids are then of the land.
    workers : int
        Processes for the counties' geometry (covered share, worst case): with more than one and at
        least ``PARALLEL_MIN_COUNTIES`` counties, they are shared out over that many forked processes
        (the same figures as one process; all of China's counties in about half the time on 2 CPUs).

    Returns
    -------
    CoverageResult

    Raises
    ------
    stations.errors.ValidationError
        ``radius_m``/``new_sites`` out of range or unknown target keys (names the value and range).
    stations.errors.NotFound
        Unknown county code.
    """
    codes, targets = _check_args(counties, radius_m, new_sites, county, targets)
    kinds = covering_kinds(kinds)
    radius_m = float(radius_m)
    water_geom = None if water is None else water.geometry
    statuses = PLANNED_STATUSES if include_planned else OPEN_STATUSES
    located = [s.county_code if s.county_code in counties else None for s in stations]
    missing = [i for i, c in enumerate(located) if c is None]
    if missing:
        found = counties.locate_many([stations[i].lon for i in missing], [stations[i].lat for i in missing])
        for i, c in zip(missing, found):
            located[i] = c
    considered = [s.status in statuses for s in stations]
    covering = [i for i, s in enumerate(stations) if considered[i] and covers(s, kinds)
                and math.isfinite(s.lon) and math.isfinite(s.lat)]
    pts = _Points([stations[i].lon for i in covering], [stations[i].lat for i in covering])
    is_covering = np.zeros(len(stations), bool)
    is_covering[covering] = True

    by_county: dict[str | None, list[int]] = {}
    for i, c in enumerate(located):
        by_county.setdefault(c, []).append(i)
    pops = {c: counties.population(c) for c in counties.codes}
    basis = "population" if all(v for v in pops.values()) else "area"
    areas = {c: _geodesic_area_km2(counties.geometry(c)) for c in (counties.codes if basis == "area" else codes)}
    rest_targets = _distribute(int(targets["rest_stations"]), pops if basis == "population" else areas)

    layer = None if demand is None else as_point_layer(demand, weighted=True)
    d_codes = np.array(counties.locate_many(layer.lons, layer.lats), dtype=object) if layer else None
    d_cov = covered_mask(pts.lons, pts.lats, layer.lons, layer.lats, radius_m) if layer else None

    total = len(codes) * (3 if new_sites else 1) + (1 if new_sites else 0)
    step = 0
    results: list[CountyCoverage] = []
    geometry = _counties_geometry(counties, codes, water_geom, pts, radius_m, workers)
    for code, (frame, xy, share, share_all, worst_m, worst_pt) in zip(codes, geometry):
        mine = by_county.get(code, [])
        counted = Counter(stations[i].kind for i in mine if considered[i])
        palaces = [stations[i].palace_class for i in mine if considered[i] and stations[i].kind == "cultural_palace"]
        land_km2 = None
        if water is not None:
            land_km2 = _geodesic_area_km2(frame.wgs84) if frame.has_water else areas[code]
        cc = CountyCoverage(
            adcode=code, name=counties.name(code), area_km2=areas[code], population=pops[code],
            stations=sum(counted.values()), rest_stations=counted.get("rest_station", 0), by_kind=dict(counted),
            by_status=dict(Counter(stations[i].status for i in mine)),
            covered_share=share,
            worst_case_m=worst_m, worst_case_point=worst_pt,
            target=_county_target(counted, palaces, rest_targets[code], basis, targets),
            frame=frame, radius_m=radius_m, station_xy=xy, land_km2=land_km2,
            covered_share_all_area=share_all, covering_stations=int(is_covering[mine].sum()) if mine else 0)
        if layer is not None:
            here = d_codes == code
            cc.demand_weight = float(layer.weights[here].sum())
            cc.demand_covered = float(layer.weights[here & d_cov].sum())
        results.append(cc)
        step += 1
        if progress:
            progress(step, total, f"coverage {code}")

    result = CoverageResult(radius_m=radius_m, include_planned=include_planned, counties=results,
                            targets=targets, demand_report=layer.report() if layer else None, kinds=kinds,
                            water_mask=None if water is None else water.describe())
    if layer is not None:  # points in no county count nowhere: say how many
        result.demand_report["outside_counties"] = int(sum(c is None for c in d_codes))
    if new_sites:
        _suggest(result, counties, pts, layer, d_codes, d_cov, int(new_sites), candidates, exact,
                 progress, step, total, max_candidates=max_candidates, max_demand_points=max_demand_points)
        _describe_suggestions(result, counties, pts, [stations[i] for i in covering])
    return result


def _county_geometry(geom, water_geom, pts: _Points, radius_m: float) -> tuple:
    """One county's geometric figures: (frame, its stations' xy, covered share, share of the whole
    outline, worst case metres, worst case point)."""
    frame = _Frame(geom, water_geom)
    _, xy = pts.near(frame, radius_m)
    _, share = _covered(frame, xy, radius_m)
    share_all = _covered(frame, xy, radius_m, full=True)[1] if frame.has_water else share
    worst_m, worst_pt = _worst_case(frame, pts, radius_m)
    frame.segments = None  # one LineString per boundary segment: large, and no longer needed
    return frame, xy, share, share_all, worst_m, worst_pt


def _geometry_of(codes: list[str]) -> list[tuple]:
    """In a forked process: :func:`_county_geometry` of each county of ``codes``, without the frames
    (projected outlines: sending them back would cost more than making them again where needed)."""
    counties, water_geom, pts, radius_m = _SHARED
    return [(None, *_county_geometry(counties.geometry(code), water_geom, pts, radius_m)[1:]) for code in codes]


class _LazyFrame:
    """A county's :class:`_Frame`, made when first used (the gaps, the siting grids): an analysis shared
    out over processes gets figures back from them, not frames."""

    def __init__(self, geom, water_geom):
        self._made: _Frame | None = None
        self._args = (geom, water_geom)

    def __getattr__(self, name: str):  # only for names the proxy itself does not have
        if name.startswith("__"):
            raise AttributeError(name)
        made = self.__dict__.get("_made")
        if made is None:
            made = self.__dict__["_made"] = _Frame(*self.__dict__["_args"])
        return getattr(made, name)


def _counties_geometry(counties, codes: list[str], water_geom, pts: _Points, radius_m: float, workers: int):
    """:func:`_county_geometry` of every county of ``codes``, in order: in this process, or shared out
    over ``workers`` forked processes (which read the counties and stations from this one's memory)."""
    global _SHARED
    parallel = (workers > 1 and len(codes) >= PARALLEL_MIN_COUNTIES
                and "fork" in multiprocessing.get_all_start_methods() and _SHARED_LOCK.acquire(blocking=False))
    if not parallel:  # one process (also while another analysis of this process has the forked ones)
        for code in codes:
            yield _county_geometry(counties.geometry(code), water_geom, pts, radius_m)
        return
    try:
        _SHARED = (counties, water_geom, pts, radius_m)
        size = max(1, len(codes) // (workers * 8))  # small chunks: counties differ a lot in work
        chunks = [codes[i:i + size] for i in range(0, len(codes), size)]
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
            done = 0
            for part in pool.map(_geometry_of, chunks):
                for figures in part:
                    yield (_LazyFrame(counties.geometry(codes[done]), water_geom), *figures[1:])
                    done += 1
    finally:
        _SHARED = None
        _SHARED_LOCK.release()


def _describe_suggestions(result: CoverageResult, counties, pts: _Points, covering: list[Station]) -> None:
    """Each suggested site's county name and nearest covering station (id, name, geodesic metres)."""
    for s in result.suggestions:
        s["county"] = counties.name(s["county_code"]) if s.get("county_code") in counties else None
        s["nearest_station"] = None
        if pts.tree is None:
            continue
        k = min(4, len(covering))  # the chord's order is the great circle's: re-measure the nearest few
        _, idx = pts.tree.query(unit_xyz(s["lon"], s["lat"])[0], k=k)
        idx = np.atleast_1d(idx)
        _, _, dist = _GEOD.inv(np.full(idx.size, s["lon"]), np.full(idx.size, s["lat"]), pts.lons[idx], pts.lats[idx])
        best = int(np.argmin(dist))
        near = covering[int(idx[best])]
        s["nearest_station"] = {"id": near.id, "name": near.name, "kind": near.kind,
                                "distance_m": round(float(np.atleast_1d(dist)[best]), 1)}


def _suggest(result: CoverageResult, counties, pts: _Points, layer: PointLayer | None, d_codes, d_cov,
             p: int, candidates, exact: bool, progress, step: int, total: int,
             max_candidates: int = MAX_GRID_CANDIDATES, max_demand_points: int = MAX_DEMAND_POINTS) -> None:
    """Choose new sites (max-cover) and fill suggestions and the 'after' figures in place."""
    radius_m = result.radius_m
    codes = [c.adcode for c in result.counties]
    total_area_m2 = sum(c.frame.area for c in result.counties)
    if layer is not None:
        inside = np.isin(d_codes, codes)
        dem_lons, dem_lats, dem_w = layer.lons[inside], layer.lats[inside], layer.weights[inside]
        dem_cov = d_cov[inside]
    else:  # area-weighted: a grid over each county, each point worth its share of the county's km²
        spacing = max(radius_m / 4, math.sqrt(total_area_m2 / max_demand_points))
        parts = []
        for c in result.counties:
            gx, gy = grid_in_polygon(c.frame.geom, spacing)
            lons, lats = c.frame.lonlat(np.column_stack([gx, gy]))
            parts.append((lons, lats, np.full(gx.size, c.basis_km2 / max(gx.size, 1))))
        dem_lons, dem_lats, dem_w = (np.concatenate(a) for a in zip(*parts))
        dem_cov = covered_mask(pts.lons, pts.lats, dem_lons, dem_lats, radius_m)
    if candidates is not None:
        cand = as_point_layer(candidates, weighted=False)
        cand_codes = np.array(counties.locate_many(cand.lons, cand.lats), dtype=object)
        keep = np.isin(cand_codes, codes)
        result.candidates_report = dict(cand.report(), outside_counties=int((~keep).sum()))
        c_lons, c_lats, c_codes = cand.lons[keep], cand.lats[keep], cand_codes[keep]
    else:
        spacing = max(radius_m / 2, math.sqrt(total_area_m2 / max_candidates))
        parts = []
        for c in result.counties:
            gx, gy = grid_in_polygon(c.frame.geom, spacing)
            lons, lats = c.frame.lonlat(np.column_stack([gx, gy]))
            parts.append((lons, lats, np.full(gx.size, c.adcode, dtype=object)))
        c_lons, c_lats, c_codes = (np.concatenate(a) for a in zip(*parts))
    step += len(codes)
    if progress:
        progress(step, total, "candidates and demand")
    open_idx = np.flatnonzero(~dem_cov)
    cover = cover_matrix(c_lons, c_lats, dem_lons[open_idx], dem_lats[open_idx], radius_m)
    siting = solve_max_cover(cover, dem_w[open_idx], p, exact=exact)
    step += 1
    if progress:
        progress(step, total, "siting")
    chosen = siting.chosen
    before = float(dem_w[dem_cov].sum())  # demand covered by existing stations (not in the matrix)
    result.suggestions = [{"lon": round(float(c_lons[i]), 6), "lat": round(float(c_lats[i]), 6),
                           "county_code": c_codes[i], "gain": float(g)}
                          for i, g in zip(chosen, siting.gains)]
    result.siting = {"method": siting.method, "optimal": siting.optimal, "status": siting.status,
                     "seconds": round(siting.seconds, 4), "candidates": int(c_lons.size),
                     "demand_points": int(dem_lons.size), "gain_unit": "weight" if layer is not None else "km2",
                     "covered_before": before, "covered_after": before + float(siting.gains.sum()),
                     "total_weight": float(dem_w.sum())}
    new = _Points(np.concatenate([pts.lons, c_lons[chosen]]), np.concatenate([pts.lats, c_lats[chosen]]))
    new_only = _Points(c_lons[chosen], c_lats[chosen])
    after_cov = covered_mask(new.lons, new.lats, layer.lons, layer.lats, radius_m) if layer is not None else None
    for c in result.counties:
        touched = new_only.tree is not None and len(new_only.near(c.frame, radius_m)[0]) > 0
        if touched:
            _, xy = new.near(c.frame, radius_m)
            c.station_xy_after = xy
            c.covered_share_after = _covered(c.frame, xy, radius_m)[1]
        else:
            c.station_xy_after, c.covered_share_after = c.station_xy, c.covered_share
        if layer is not None:
            c.demand_covered_after = float(layer.weights[(d_codes == c.adcode) & after_cov].sum())
        step += 1
        if progress:
            progress(step, total, f"after {c.adcode}")
