"""Siting (max-cover): coverage matrices against brute force, greedy against the exact optimum."""
from __future__ import annotations

import itertools
import json

import numpy as np
import pytest
import scipy.sparse as sp
import shapely
from pyproj import Geod

from stations.counties import Counties
from stations.coverage import analyse
from stations.demand import PointLayer
from stations.model import Station
from stations.siting import (cover_matrix, covered_mask, exact_max_cover, greedy_max_cover,
                             grid_in_polygon, solve_max_cover)

GEOD = Geod(ellps="WGS84")


def brute_force_within(a_lons, a_lats, b_lons, b_lats, radius_m):
    out = np.zeros((a_lons.size, b_lons.size), dtype=bool)
    for i in range(a_lons.size):
        _, _, d = GEOD.inv(np.full(b_lons.size, a_lons[i]), np.full(b_lons.size, a_lats[i]), b_lons, b_lats)
        out[i] = d <= radius_m
    return out


def random_points(rng, n, lon0=116.5, lat0=35.4, span=0.08):
    return rng.uniform(lon0, lon0 + span, n), rng.uniform(lat0, lat0 + span, n)


def covered_weight(cover, weights, chosen):
    if len(chosen) == 0:
        return 0.0
    return float(weights[np.asarray(cover[np.asarray(chosen)].sum(axis=0)).ravel() > 0].sum())


# -- geodesic coverage matrices ---------------------------------------------------------------
@pytest.mark.parametrize("lat0", [35.4, 0.0, 60.0])  # the sphere's error varies with latitude
def test_cover_matrix_equals_brute_force_geodesic_distances(lat0):
    rng = np.random.default_rng(1)
    a_lons, a_lats = random_points(rng, 80, lat0=lat0)
    b_lons, b_lats = random_points(rng, 600, lat0=lat0)
    # put some points exactly on and just around the radius to exercise the uncertain band
    lons, lats, _ = GEOD.fwd(np.repeat(a_lons[:5], 4), np.repeat(a_lats[:5], 4), np.tile([0, 90, 180, 45], 5),
                             np.tile([999.9, 1000.1, 995.0, 1004.0], 5))
    b_lons, b_lats = np.concatenate([b_lons, lons, a_lons[:3]]), np.concatenate([b_lats, lats, a_lats[:3]])
    got = cover_matrix(a_lons, a_lats, b_lons, b_lats, 1000).toarray()
    assert (got == brute_force_within(a_lons, a_lats, b_lons, b_lats, 1000)).all()
    assert got[np.arange(3), b_lons.size - 3 + np.arange(3)].all()  # coincident points are covered


def test_covered_mask_equals_brute_force():
    rng = np.random.default_rng(2)
    s_lons, s_lats = random_points(rng, 30)
    p_lons, p_lats = random_points(rng, 3000)
    expected = brute_force_within(s_lons, s_lats, p_lons, p_lats, 1500).any(axis=0)
    assert (covered_mask(s_lons, s_lats, p_lons, p_lats, 1500) == expected).all()
    assert not covered_mask([], [], p_lons, p_lats, 1500).any()


def test_grid_in_polygon_spacing_and_tiny_polygons():
    x, y = grid_in_polygon(shapely.box(0, 0, 1000, 500), 100)
    assert x.size == 50 and x.min() == 50 and y.max() == 450
    x, y = grid_in_polygon(shapely.box(0, 0, 10, 10), 100)
    assert x.size == 1  # never empty


# -- greedy vs exact --------------------------------------------------------------------------
def random_instance(seed, n_cand=60, n_dem=400, radius=1500):
    rng = np.random.default_rng(seed)
    c_lons, c_lats = random_points(rng, n_cand, span=0.15)
    d_lons, d_lats = random_points(rng, n_dem, span=0.15)
    weights = rng.integers(1, 20, n_dem).astype(float)
    return cover_matrix(c_lons, c_lats, d_lons, d_lats, radius), weights


@pytest.mark.parametrize("seed", range(12))
def test_greedy_is_within_one_percent_of_the_pulp_optimum(seed):
    cover, weights = random_instance(seed)
    p = 3 + seed % 6
    greedy, gains = greedy_max_cover(cover, weights, p)
    optimum, status, optimal = exact_max_cover(cover, weights, p)
    assert optimal, status
    best = covered_weight(cover, weights, optimum)
    got = covered_weight(cover, weights, greedy)
    assert got == pytest.approx(gains.sum())
    assert len(set(greedy.tolist())) == len(greedy) <= p
    assert got >= 0.99 * best, (seed, got, best)
    assert got <= best + 1e-9


def test_exact_solution_matches_enumeration_on_a_tiny_instance():
    cover, weights = random_instance(5, n_cand=12, n_dem=150, radius=2500)
    best = max(covered_weight(cover, weights, combo) for combo in itertools.combinations(range(12), 3))
    chosen, _, optimal = exact_max_cover(cover, weights, 3)
    assert optimal and covered_weight(cover, weights, chosen) == pytest.approx(best)


def test_already_covered_demand_counts_nothing():
    # candidate 0 covers demand {0, 1}, candidate 1 covers {2}; demand 0 and 1 are already covered
    cover = sp.csr_matrix(np.array([[1, 1, 0], [0, 0, 1]], dtype=bool))
    res = solve_max_cover(cover, [5.0, 5.0, 1.0], 1, already_covered=[True, True, False])
    assert res.chosen.tolist() == [1] and res.gains.tolist() == [1.0]
    assert res.covered_before == 10 and res.covered_after == 11 and res.total_weight == 11
    exact = solve_max_cover(cover, [5.0, 5.0, 1.0], 1, already_covered=[True, True, False], exact=True)
    assert exact.chosen.tolist() == [1] and exact.optimal


def test_more_sites_than_useful_candidates_stops_early():
    cover = sp.csr_matrix(np.array([[1, 0], [0, 1], [0, 0]], dtype=bool))
    res = solve_max_cover(cover, [1.0, 2.0], 5)
    assert sorted(res.chosen.tolist()) == [0, 1] and res.gains.tolist() == [2.0, 1.0]
    with pytest.raises(ValueError, match="-1"):
        solve_max_cover(cover, [1.0, 2.0], -1)


# -- new sites in the coverage analysis -------------------------------------------------------
@pytest.fixture
def county(tmp_path):
    geom = shapely.segmentize(shapely.box(116.5, 35.4, 116.56, 35.45), 0.002)
    path = tmp_path / "counties.geojson"
    path.write_text(json.dumps({"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"adcode": "370811", "name": "任城区", "population": 100000},
         "geometry": shapely.geometry.mapping(geom)}]}), encoding="utf-8")
    return Counties.load(path)


def test_new_sites_raise_coverage_and_report_before_and_after(county):
    sts = [Station(id="RS0001", name="a", kind="rest_station", lon=116.52, lat=35.42)]
    res = analyse(county, sts, radius_m=1000, new_sites=4)
    out = res.to_dict()
    row = out["counties"][0]
    assert len(out["suggestions"]) == 4
    assert row["covered_share_after"] > row["covered_share"]
    assert out["city"]["covered_share_after"] == row["covered_share_after"]
    gains = [s["gain"] for s in out["suggestions"]]
    assert gains == sorted(gains, reverse=True) and all(g > 0 for g in gains)
    for s in out["suggestions"]:
        assert s["county_code"] == "370811" and county.locate(s["lon"], s["lat"]) == "370811"
        _, _, d = GEOD.inv(s["lon"], s["lat"], 116.52, 35.42)
        assert d > 1000  # no new site right on top of the existing station
    # gains are newly covered km² (area-weighted demand): close to the polygon figures
    added_km2 = (row["covered_share_after"] - row["covered_share"]) * row["area_km2"]
    assert sum(gains) == pytest.approx(added_km2, rel=0.05)
    gaps_after = res.gaps_geojson(after=True)["features"][0]["properties"]["area_km2"]
    assert gaps_after < res.gaps_geojson()["features"][0]["properties"]["area_km2"]


def test_exact_siting_is_at_least_as_good_as_greedy(county):
    kw = dict(radius_m=1500, new_sites=3)
    greedy = analyse(county, [], **kw).to_dict()
    exact = analyse(county, [], exact=True, **kw).to_dict()
    assert exact["siting"]["method"] == "exact" and exact["siting"]["optimal"] is True
    assert exact["siting"]["covered_after"] >= greedy["siting"]["covered_after"] - 1e-9
    assert greedy["siting"]["covered_after"] >= 0.99 * exact["siting"]["covered_after"]


def test_demand_layer_and_planner_candidates_drive_the_choice(county, tmp_path):
    demand = PointLayer.from_points([116.51, 116.511, 116.55], [35.41, 35.411, 35.44], [10, 10, 1])
    cands = tmp_path / "offices.csv"
    cands.write_text("lon,lat,name\n116.5105,35.4105,工会\n116.55,35.44,银行\n117.5,36.5,外地\n116.5,x,坏\n",
                     encoding="utf-8")
    out = analyse(county, [], radius_m=500, demand=demand, new_sites=1, candidates=cands).to_dict()
    assert out["suggestions"] == [{"lon": 116.5105, "lat": 35.4105, "county_code": "370811", "gain": 20.0,
                                   "county": county.name("370811"), "nearest_station": None}]  # no station yet
    row = out["counties"][0]
    assert row["demand_share"] == 0 and row["demand_share_after"] == pytest.approx(20 / 21)
    assert out["candidates"]["outside_counties"] == 1
    assert out["candidates"]["skipped"][0]["record"] == "offices.csv row 5"


def test_progress_covers_the_siting_steps(county):
    calls = []
    analyse(county, [], new_sites=2, progress=lambda d, t, label: calls.append((d, t, label)))
    assert calls[-1][0] == calls[-1][1] and [c[0] for c in calls] == sorted(c[0] for c in calls)


@pytest.mark.parametrize("bad", [-1, 1.5, True, 5000])
def test_bad_number_of_new_sites_is_refused(county, bad):
    with pytest.raises(ValueError, match="new_sites"):
        analyse(county, [], new_sites=bad)
