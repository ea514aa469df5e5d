#!/usr/bin/env python3
"""Benchmark of ``stations.nearest.NearestIndex`` (k=5, exact WGS-84 geodesic) against two baselines.

- naive: a geopy ``geodesic`` loop over every station (what one would write first);
- floor: a bare ``cKDTree`` query on unit-sphere xyz (lon/lat -> xyz included), no exact re-rank,
  so not exact: the least any tree-based lookup can cost.

For N = 100, 10,000 and 186,100 random stations over China's bounding box (seeded), prints index
build time, single-query p50/p99 (ours and the floor timed alternately on the same points),
batched per-query time and memory: the tracemalloc peak of what Python and numpy allocate while
building and running one query, plus cKDTree's C++ node buffer, which tracemalloc does not see
(estimated as tree.size x 72 bytes); the stations themselves are not counted. At 186,100 the naive
loop takes ~15-60 s per query, so only 3 queries are timed (with --quick: 3 over a 2,000-station
slice, extrapolated linearly and labelled so). Then checks 1,000 random queries at 186,100
against an exact brute force (pyproj over all stations, ties by id).

Usage: python scripts/bench_nearest.py [--quick] [--seed 0]
Goals at 186,100: single-query p50 <= 150 µs, >= 1,000x faster than naive, <= 4x the floor.
"""
from __future__ import annotations

import argparse
import gc
import math
import statistics
import time
import tracemalloc

import numpy as np
from geopy.distance import geodesic
from pyproj import Geod
from scipy.spatial import cKDTree

from stations.model import Station
from stations.nearest import NearestIndex

CHINA_BBOX = (73.5, 18.2, 134.8, 53.5)  # (minlon, minlat, maxlon, maxlat)
SIZES = (100, 10_000, 186_100)
K = 5


def make_stations(n, rng):
    minlon, minlat, maxlon, maxlat = CHINA_BBOX
    lons = rng.uniform(minlon, maxlon, n).tolist()
    lats = rng.uniform(minlat, maxlat, n).tolist()
    return [Station(id=f"RS{i:06d}", name=f"station {i}", kind="rest_station", lon=lon, lat=lat)
            for i, (lon, lat) in enumerate(zip(lons, lats))]


def random_points(n, rng):
    minlon, minlat, maxlon, maxlat = CHINA_BBOX
    return rng.uniform(minlon, maxlon, n), rng.uniform(minlat, maxlat, n)


def unit_xyz(lon, lat):
    a, b = math.radians(lon), math.radians(lat)
    return (math.cos(b) * math.cos(a), math.cos(b) * math.sin(a), math.sin(b))


def timed_each(func, points):
    out = []
    for lon, lat in points:
        t = time.perf_counter()
        func(lon, lat)
        out.append(time.perf_counter() - t)
    return out


def pct(samples, q):
    return float(np.percentile(samples, q)) if len(samples) >= 100 else float("nan")


def memory_of(build, query, point):
    """tracemalloc peak (MiB) while building and querying once."""
    gc.collect()
    tracemalloc.start()
    obj = build()
    query(obj, *point)
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    del obj
    return peak


def naive_query(stations, lon, lat, k=K):
    # geopy takes (lat, lon)
    d = [(geodesic((lat, lon), (s.lat, s.lon)).m, s.id) for s in stations]
    d.sort()
    return d[:k]


def bench_size(n, args, rng):
    stations = make_stations(n, rng)
    qlon, qlat = random_points(args.singles, rng)
    points = list(zip(qlon.tolist(), qlat.tolist()))
    blon, blat = random_points(args.batch, rng)
    row = {"n": n}

    t = time.perf_counter()
    index = NearestIndex(stations)
    row["ours_build"] = time.perf_counter() - t
    xyz = np.array([unit_xyz(s.lon, s.lat) for s in stations])
    t = time.perf_counter()
    tree = cKDTree(xyz, balanced_tree=False)
    row["floor_build"] = time.perf_counter() - t

    index.query(*points[0], k=K)  # warm-up
    tree.query(unit_xyz(*points[0]), k=K)
    row["ours"], row["floor"] = [], []
    for lon, lat in points:  # alternate, so that machine load hits both alike
        t0 = time.perf_counter()
        index.query(lon, lat, k=K)
        t1 = time.perf_counter()
        tree.query(unit_xyz(lon, lat), k=K)
        t2 = time.perf_counter()
        row["ours"].append(t1 - t0)
        row["floor"].append(t2 - t1)
    t = time.perf_counter()
    index.query_batch(blon, blat, k=K)
    row["ours_batch"] = (time.perf_counter() - t) / args.batch
    bxyz = np.array([unit_xyz(a, b) for a, b in zip(blon.tolist(), blat.tolist())])
    t = time.perf_counter()
    tree.query(bxyz, k=K)
    row["floor_batch"] = (time.perf_counter() - t) / args.batch

    n_naive = {100: 200, 10_000: 5}.get(n, args.naive_big)
    if n >= 100_000 and args.quick:
        part = stations[:2_000]
        per = timed_each(lambda lon, lat: naive_query(part, lon, lat), points[:3])
        row["naive"] = [x * n / len(part) for x in per]
        row["naive_note"] = f"extrapolated x{n / len(part):.1f} from 3 queries over 2,000 stations"
    else:
        row["naive"] = timed_each(lambda lon, lat: naive_query(stations, lon, lat), points[:n_naive])
        row["naive_note"] = f"measured, {n_naive} queries"

    nodes = tree.size * 72 / 2**20  # C++ nodes; the same tree shape inside NearestIndex
    row["mem_ours"] = nodes + memory_of(lambda: NearestIndex(stations), lambda o, a, b: o.query(a, b),
                                        points[0])
    row["mem_floor"] = nodes + memory_of(lambda: cKDTree(xyz, balanced_tree=False),
                                         lambda o, a, b: o.query(unit_xyz(a, b), k=K), points[0])
    row["mem_naive"] = memory_of(lambda: stations, lambda o, a, b: naive_query(o, a, b), points[0])
    return row, index, stations


def verify(index, stations, n_queries, rng):
    """Mismatches of single and batched queries against an exact brute force over all stations."""
    geod = Geod(ellps="WGS84")
    lons = np.array([s.lon for s in stations])
    lats = np.array([s.lat for s in stations])
    ids = np.array([s.id for s in stations])
    rank = np.argsort(np.argsort(ids, kind="stable"), kind="stable")
    qlon, qlat = random_points(n_queries, rng)
    batch = index.query_batch(qlon, qlat, k=K)
    bad_single = bad_batch = 0
    for i, (lon, lat) in enumerate(zip(qlon.tolist(), qlat.tolist())):
        n = len(lons)
        d = geod.inv(np.full(n, lon), np.full(n, lat), lons, lats)[2]  # same argument order as ours
        top = np.lexsort((rank, d))[:K]
        expected = [(str(ids[j]), float(d[j])) for j in top]
        single = [(h.station.id, h.distance_m) for h in index.query(lon, lat, k=K)]
        bad_single += single != expected
        bad_batch += [(h.station.id, h.distance_m) for h in batch[i]] != expected
    return bad_single, bad_batch


def us(x):
    return f"{'-':>10}" if math.isnan(x) else f"{x * 1e6:10,.1f}"


def report(row):
    n = row["n"]
    ours, floor, naive = row["ours"], row["floor"], row["naive"]
    print(f"\nN = {n:,} stations")
    print(f"  {'approach':<8} {'build ms':>9} {'p50 µs':>14} {'p99 µs':>10} {'batch µs/q':>11}"
          f" {'peak MiB':>9}")
    lines = [
        ("ours", f"{row['ours_build'] * 1e3:9.1f}", ours, row["ours_batch"], row["mem_ours"]),
        ("floor", f"{row['floor_build'] * 1e3:9.1f}", floor, row["floor_batch"], row["mem_floor"]),
        ("naive", f"{'-':>9}", naive, float("nan"), row["mem_naive"]),
    ]
    for name, build, samples, batch, peak in lines:
        print(f"  {name:<8} {build} {us(statistics.median(samples)):>14} {us(pct(samples, 99))}"
              f"  {us(batch)} {peak:9.2f}")
    p50 = statistics.median(ours)
    print(f"  naive: {row['naive_note']}; p99 shown only with >= 100 samples")
    print(f"  ratio naive/ours (p50): {statistics.median(naive) / p50:,.0f}x faster")
    print(f"  ratio ours/floor: p50 {p50 / statistics.median(floor):.2f}x,"
          f" batch {row['ours_batch'] / row['floor_batch']:.2f}x")
    return p50, statistics.median(naive) / p50, p50 / statistics.median(floor)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer queries; naive at 186,100 extrapolated")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.singles = 1_000 if args.quick else 5_000
    args.batch = 2_000 if args.quick else 20_000
    args.naive_big = 3
    args.verify = 200 if args.quick else 1_000
    rng = np.random.default_rng(args.seed)
    print(f"k = {K}; single queries: {args.singles} per size; batch: {args.batch} points;"
          f" seed {args.seed}{'; --quick' if args.quick else ''}")
    for n in SIZES:
        row, index, stations = bench_size(n, args, rng)
        goals = report(row)
    t = time.perf_counter()
    bad_single, bad_batch = verify(index, stations, args.verify, rng)
    print(f"\nexactness at N = {SIZES[-1]:,}: {args.verify} random queries vs pyproj brute force over all"
          f" stations: {bad_single} mismatches (single), {bad_batch} (batch)"
          f" [{time.perf_counter() - t:.0f} s]")
    p50, speedup, vs_floor = goals
    print(f"goals at {SIZES[-1]:,}: p50 {p50 * 1e6:.1f} µs <= 150 µs: {'PASS' if p50 <= 150e-6 else 'FAIL'};"
          f" {speedup:,.0f}x >= 1,000x naive: {'PASS' if speedup >= 1000 else 'FAIL'};"
          f" {vs_floor:.2f}x <= 4x floor: {'PASS' if vs_floor <= 4 else 'FAIL'};"
          f" exact: {'PASS' if bad_single == bad_batch == 0 else 'FAIL'}")


if __name__ == "__main__":
    main()
