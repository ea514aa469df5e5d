"""Where new stations should go: the maximal covering location problem (MCLP).

Choose ``p`` new sites among candidate points to maximise the weight of demand points newly
brought within ``radius_m`` (geodesic, WGS-84 ellipsoid) of a station; existing stations are fixed
and demand they already cover counts nothing.

- :func:`cover_matrix` builds the sparse candidate x demand coverage matrix from WGS-84 lon/lat:
  a scipy cKDTree on unit-sphere xyz finds pairs by chord length, with the radius widened by
  :data:`SPHERE_SLACK` (the sphere's distances are within 0.6 % of the ellipsoid's); pairs in the
  uncertain band are settled with exact ``pyproj.Geod.inv`` distances. No projection is involved,
  so it works anywhere on Earth.
- :func:`greedy_max_cover` is greedy with lazy evaluation (CELF), then a 1-swap local search;
  :func:`exact_max_cover` solves the integer programme with PuLP/CBC on a reduced sparse model.
- :func:`grid_in_polygon` lays a square grid over a projected polygon (candidate or demand grids).
"""
from __future__ import annotations

import heapq
import logging
import time
import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import scipy.sparse as sp
import shapely
from pyproj import Geod

from .kdtree import cKDTree

log = logging.getLogger(__name__)

__all__ = [
    "EARTH_RADIUS_M", "SPHERE_SLACK", "SitingResult", "unit_xyz", "chord_for", "cover_matrix",
    "covered_mask", "greedy_max_cover", "exact_max_cover", "solve_max_cover", "grid_in_polygon",
]

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG), metres
SPHERE_SLACK = 0.01  # relative; sphere vs WGS-84 geodesic distances differ by < 0.6 %
_GEOD = Geod(ellps="WGS84")

Progress = Callable[[int, int, str], None]


def unit_xyz(lons, lats) -> np.ndarray:
    """Unit-sphere Cartesian coordinates (n, 3) of WGS-84 lon/lat degrees (geodetic latitude)."""
    lon = np.radians(np.asarray(lons, dtype=float))
    lat = np.radians(np.asarray(lats, dtype=float))
    cos_lat = np.cos(lat)
    return np.column_stack([cos_lat * np.cos(lon), cos_lat * np.sin(lon), np.sin(lat)])


def chord_for(distance_m: float) -> float:
    """Unit-sphere chord length for a great-circle distance in metres (capped at the diameter)."""
    angle = min(float(distance_m) / EARTH_RADIUS_M, np.pi)
    return 2.0 * np.sin(angle / 2.0)


def _arc_m(chord) -> np.ndarray:
    return 2.0 * EARTH_RADIUS_M * np.arcsin(np.clip(np.asarray(chord, dtype=float) / 2.0, 0.0, 1.0))


def _geodesic_m(lon1, lat1, lon2, lat2) -> np.ndarray:
    if np.size(lon1) == 0:
        return np.zeros(0)
    _, _, dist = _GEOD.inv(lon1, lat1, lon2, lat2)
    return np.asarray(dist, dtype=float)


def cover_matrix(a_lons, a_lats, b_lons, b_lats, radius_m: float) -> sp.csr_matrix:
    """Which points of B lie within ``radius_m`` (geodesic) of each point of A.

    Parameters
    ----------
    a_lons, a_lats, b_lons, b_lats : array_like
        WGS-84 degrees.
    radius_m : float
        Geodesic radius in metres (WGS-84 ellipsoid).

    Returns
    -------
    scipy.sparse.csr_matrix of bool, shape (len(A), len(B))
    """
    n_a, n_b = np.size(a_lons), np.size(b_lons)
    if n_a == 0 or n_b == 0:
        return sp.csr_matrix((n_a, n_b), dtype=bool)
    ta, tb = cKDTree(unit_xyz(a_lons, a_lats)), cKDTree(unit_xyz(b_lons, b_lats))
    coo = ta.sparse_distance_matrix(tb, chord_for(radius_m * (1 + SPHERE_SLACK)), output_type="coo_matrix")
    rows, cols = coo.row, coo.col
    arc = _arc_m(coo.data)
    keep = arc <= radius_m * (1 - SPHERE_SLACK)
    band = np.flatnonzero(~keep)
    a_lons, a_lats = np.asarray(a_lons, float), np.asarray(a_lats, float)
    b_lons, b_lats = np.asarray(b_lons, float), np.asarray(b_lats, float)
    if band.size:
        d = _geodesic_m(a_lons[rows[band]], a_lats[rows[band]], b_lons[cols[band]], b_lats[cols[band]])
        keep[band] = d <= radius_m
    rows, cols = rows[keep], cols[keep]  # coo output keeps zero distances (coincident points)
    mat = sp.csr_matrix((np.ones(rows.size, dtype=bool), (rows, cols)), shape=(n_a, n_b))
    mat.sum_duplicates()
    return mat


def covered_mask(station_lons, station_lats, lons, lats, radius_m: float) -> np.ndarray:
    """Whether each point (WGS-84) has a station within ``radius_m`` geodesic metres."""
    n = np.size(lons)
    if n == 0 or np.size(station_lons) == 0:
        return np.zeros(n, dtype=bool)
    tree = cKDTree(unit_xyz(station_lons, station_lats))
    xyz = unit_xyz(lons, lats)
    chord_max = chord_for(radius_m * (1 + SPHERE_SLACK))
    d1, _ = tree.query(xyz, k=1, distance_upper_bound=chord_max)
    arc = _arc_m(np.where(np.isfinite(d1), d1, 2.0))
    covered = arc <= radius_m * (1 - SPHERE_SLACK)
    maybe = np.flatnonzero(np.isfinite(d1) & ~covered)
    if maybe.size:
        lists = tree.query_ball_point(xyz[maybe], chord_max)
        lens = np.fromiter((len(x) for x in lists), dtype=np.int64, count=len(lists))
        pts = np.repeat(maybe, lens)
        sts = np.fromiter((j for x in lists for j in x), dtype=np.int64, count=int(lens.sum()))
        s_lons, s_lats = np.asarray(station_lons, float), np.asarray(station_lats, float)
        d = _geodesic_m(np.asarray(lons, float)[pts], np.asarray(lats, float)[pts], s_lons[sts], s_lats[sts])
        hit = np.zeros(n, dtype=bool)
        hit[pts[d <= radius_m]] = True
        covered |= hit
    return covered


def grid_in_polygon(polygon, spacing_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Centres of a square grid's cells that fall inside a projected polygon.

    Parameters
    ----------
    polygon : shapely (Multi)Polygon in metres (a local projection)
    spacing_m : float
        Cell side in the projection's metres.

    Returns
    -------
    (x, y) : numpy arrays of projected metres. A polygon smaller than a cell gets one point
    (its representative point) so that no county is left without a point.
    """
    if polygon.is_empty:  # a county wholly under water, once a water mask is taken out
        return np.zeros(0), np.zeros(0)
    minx, miny, maxx, maxy = polygon.bounds
    xs = np.arange(minx + spacing_m / 2, maxx, spacing_m)
    ys = np.arange(miny + spacing_m / 2, maxy, spacing_m)
    gx, gy = np.meshgrid(xs, ys)
    gx, gy = gx.ravel(), gy.ravel()
    inside = shapely.contains_xy(polygon, gx, gy)
    if not inside.any():
        rp = polygon.representative_point()
        return np.array([rp.x]), np.array([rp.y])
    return gx[inside], gy[inside]


@dataclass
class SitingResult:
    """Chosen sites and their effect. Weights are in the demand's units (km² when area-weighted).

    Attributes
    ----------
    chosen : numpy.ndarray of int
        Indices into the candidates, in the order they were picked (largest gain first).
    gains : numpy.ndarray of float
        Weight newly covered by each chosen site given the ones before it.
    covered_before, covered_after, total_weight : float
        Demand weight covered by existing stations, after the new sites, and all demand weight.
    method : {"greedy", "exact"}
    optimal : bool or None
        True when CBC proved optimality; None for the heuristic.
    seconds : float
        Wall time of the solve (not of building the matrix).
    """

    chosen: np.ndarray
    gains: np.ndarray
    covered_before: float
    covered_after: float
    total_weight: float
    method: str
    optimal: bool | None = None
    status: str = ""
    seconds: float = 0.0


def _covered_weight(cover: sp.csr_matrix, weights: np.ndarray, chosen) -> float:
    if len(chosen) == 0:
        return 0.0
    hit = np.asarray(cover[np.asarray(chosen)].sum(axis=0)).ravel() > 0
    return float(weights[hit].sum())


def _ordered_gains(cover: sp.csr_matrix, weights: np.ndarray, chosen) -> tuple[np.ndarray, np.ndarray]:
    """Order chosen sites greedily by marginal gain (lazy heap); return (order, gains)."""
    covered = np.zeros(cover.shape[1], dtype=bool)
    indptr, indices = cover.indptr, cover.indices
    heap = [(-float(weights[indices[indptr[c]:indptr[c + 1]]].sum()), int(c)) for c in chosen]
    heapq.heapify(heap)
    order, gains = [], []
    while heap:
        _, c = heapq.heappop(heap)
        cols = indices[indptr[c]:indptr[c + 1]]
        gain = float(weights[cols][~covered[cols]].sum())
        if heap and gain < -heap[0][0] - 1e-15:
            heapq.heappush(heap, (-gain, c))  # stale: try again with the true gain
            continue
        order.append(c)
        gains.append(gain)
        covered[cols] = True
    return np.asarray(order, dtype=np.int64), np.asarray(gains, dtype=float)


def _swap_improve(cover: sp.csr_matrix, weights: np.ndarray, chosen: list[int], max_passes: int) -> list[int]:
    """1-swap local search: replace a chosen site by the best outside one while that gains weight."""
    cover_f = cover.astype(np.float64)
    count = np.asarray(cover_f[chosen].sum(axis=0)).ravel() if chosen else np.zeros(cover.shape[1])
    eps = 1e-12 * max(float(weights.sum()), 1.0)
    for _ in range(max_passes):
        improved = False
        for pos in range(len(chosen)):
            site = chosen[pos]
            cols = cover.indices[cover.indptr[site]:cover.indptr[site + 1]]
            loss = float(weights[cols][count[cols] == 1].sum())
            count[cols] -= 1
            gains = cover_f @ (weights * (count == 0))
            gains[chosen] = -1.0
            best = int(np.argmax(gains))
            if gains[best] > loss + eps:
                chosen[pos] = best
                cols = cover.indices[cover.indptr[best]:cover.indptr[best + 1]]
                improved = True
            count[cols] += 1
        if not improved:
            break
    return chosen


def greedy_max_cover(cover: sp.csr_matrix, weights, p: int, *, refine: bool = True,
                     max_swap_passes: int = 5, progress: Progress | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy max-cover with lazy evaluation (CELF), then an optional 1-swap improvement.

    Parameters
    ----------
    cover : scipy.sparse.csr_matrix, shape (candidates, demand points)
        True where a candidate covers a demand point.
    weights : array_like, shape (demand points,)
        Non-negative weights of still-uncovered demand (0 for demand already covered).
    p : int
        Number of sites to choose.
    refine : bool
        Run the 1-swap local search after the greedy pass (a few sparse mat-vecs per pass).

    Returns
    -------
    (chosen, gains) : candidate indices in pick order and the weight each newly covers.
    """
    cover = sp.csr_matrix(cover, dtype=bool)
    weights = np.asarray(weights, dtype=float)
    covered = np.zeros(cover.shape[1], dtype=bool)
    indptr, indices = cover.indptr, cover.indices
    initial = cover.astype(np.float64) @ weights
    heap = [(-g, int(c)) for c, g in enumerate(initial) if g > 0]
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and len(chosen) < p:
        neg, c = heapq.heappop(heap)
        cols = indices[indptr[c]:indptr[c + 1]]
        gain = float(weights[cols][~covered[cols]].sum())
        if heap and gain < -heap[0][0] - 1e-15:
            if gain > 0:
                heapq.heappush(heap, (-gain, c))  # stale bound: re-insert with the true gain
            continue
        if gain <= 0:
            break
        chosen.append(c)
        covered[cols] = True
        if progress:
            progress(len(chosen), p, "greedy")
    if refine and chosen and len(chosen) < cover.shape[0]:
        chosen = _swap_improve(cover, weights, chosen, max_swap_passes)
    return _ordered_gains(cover, weights, chosen)


def _cbc(pulp, **options):
    """CBC on the PATH (COIN_CMD) when there is one, else the binary bundled with PuLP."""
    coin = pulp.COIN_CMD(**options)
    if coin.available():
        return coin
    with warnings.catch_warnings():  # PuLP 3.3 deprecates the bundled CBC in favour of pulp[cbc]
        warnings.simplefilter("ignore", DeprecationWarning)
        return pulp.PULP_CBC_CMD(**options)


def exact_max_cover(cover: sp.csr_matrix, weights, p: int, *, warm_start=None,
                    time_limit_s: float | None = None) -> tuple[np.ndarray, str, bool]:
    """Optimal max-cover by integer programming (PuLP + CBC) on a reduced sparse model.

    Only candidates that cover some weight and demand points that some candidate covers enter the
    model; demand points covered by exactly the same candidates are merged into one (weights
    added). Variables: binary x_c per candidate, continuous 0 <= y_g <= 1 per demand group;
    y_g <= sum of x_c over the group's candidates; sum x_c = p (or all, if fewer). Maximise
    sum w_g y_g.

    Returns
    -------
    (chosen, status, optimal) : chosen candidate indices, CBC's status text, and whether it is
    proven optimal (False after a time limit).
    """
    import pulp  # imported here: only the exact option needs it

    cover = sp.csr_matrix(cover, dtype=bool)
    weights = np.asarray(weights, dtype=float)
    useful_cols = np.flatnonzero((weights > 0) & (np.asarray(cover.sum(axis=0)).ravel() > 0))
    sub = cover[:, useful_cols]
    useful_rows = np.flatnonzero(np.asarray(sub.sum(axis=1)).ravel() > 0)
    if useful_rows.size <= p:
        return useful_rows.astype(np.int64), "trivial", True
    sub = sp.csc_matrix(sub[useful_rows])
    groups: dict[bytes, float] = {}
    members: dict[bytes, np.ndarray] = {}
    for k, col in enumerate(useful_cols):
        rows = sub.indices[sub.indptr[k]:sub.indptr[k + 1]]
        key = rows.tobytes()
        groups[key] = groups.get(key, 0.0) + weights[col]
        members.setdefault(key, rows)
    prob = pulp.LpProblem("max_cover", pulp.LpMaximize)
    new_var = getattr(prob, "add_variable", None) or pulp.LpVariable  # PuLP >= 3.3 prefers add_variable
    x = [new_var(f"x{i}", cat="Binary") for i in range(useful_rows.size)]
    y = [new_var(f"y{g}", lowBound=0, upBound=1) for g in range(len(groups))]
    prob += pulp.lpSum(w * yg for w, yg in zip(groups.values(), y))
    for yg, key in zip(y, groups):
        prob += yg <= pulp.lpSum(x[i] for i in members[key])
    prob += pulp.lpSum(x) == p
    warm = warm_start is not None and len(warm_start) > 0
    if warm:
        position = {int(c): i for i, c in enumerate(useful_rows)}
        start = {position[int(c)] for c in warm_start if int(c) in position}
        for i, xi in enumerate(x):
            xi.setInitialValue(1 if i in start else 0)
    prob.solve(_cbc(pulp, msg=False, timeLimit=time_limit_s, warmStart=warm))
    status = pulp.LpStatus[prob.status]
    values = np.array([xi.value() or 0.0 for xi in x])
    chosen = useful_rows[np.flatnonzero(values > 0.5)]
    optimal = status == "Optimal" and getattr(prob, "sol_status", 1) == pulp.LpSolutionOptimal
    return chosen.astype(np.int64), status, bool(optimal)


def solve_max_cover(cover: sp.csr_matrix, weights, p: int, *, already_covered=None, exact: bool = False,
                    time_limit_s: float | None = None, progress: Progress | None = None) -> SitingResult:
    """Choose ``p`` candidates maximising newly covered weight; see the module docstring.

    Parameters
    ----------
    cover : scipy.sparse matrix, shape (candidates, demand points)
    weights : array_like
        Demand weights (any non-negative unit).
    p : int
        Number of new sites (>= 0).
    already_covered : array_like of bool, optional
        Demand points covered by existing stations: they count nothing.
    exact : bool
        Solve to optimality with PuLP/CBC (warm-started from the greedy solution).
    """
    if int(p) != p or p < 0:
        raise ValueError(f"number of new sites p={p!r} must be a whole number >= 0")
    cover = sp.csr_matrix(cover, dtype=bool)
    weights = np.asarray(weights, dtype=float)
    done = np.zeros(weights.size, dtype=bool) if already_covered is None else np.asarray(already_covered, bool)
    open_w = np.where(done, 0.0, weights)
    t0 = time.perf_counter()
    chosen, gains = greedy_max_cover(cover, open_w, int(p), progress=progress)
    method, optimal, status = "greedy", None, "heuristic"
    if exact and p > 0:
        ex, status, optimal = exact_max_cover(cover, open_w, int(p), warm_start=chosen, time_limit_s=time_limit_s)
        if _covered_weight(cover, open_w, ex) >= gains.sum() - 1e-12:
            chosen, gains = _ordered_gains(cover, open_w, ex)
        method = "exact"
    seconds = time.perf_counter() - t0
    before = float(weights[done].sum())
    result = SitingResult(chosen=chosen, gains=gains, covered_before=before,
                          covered_after=before + float(gains.sum()), total_weight=float(weights.sum()),
                          method=method, optimal=optimal, status=status, seconds=seconds)
    log.info("max-cover %s: %d sites, +%.4g weight in %.3f s", method, len(chosen), gains.sum(), seconds)
    return result
