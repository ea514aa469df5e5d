#!/usr/bin/env python3
"""Nearest stations at 186,100 in PostgreSQL/PostGIS: the site's in-process index against PostGIS's own KNN.

The stations of ``scripts/bench_http.py`` (clustered around China's big cities) are loaded into a fresh
schema of the database (``stations.store.postgis.load``), with a GiST index on ``(geom::geography)`` for
PostGIS's KNN. On the same random query points (k = 5, open stations, as ``/api/nearest`` asks):

- in-process: ``NearestIndex.from_table(store.table())`` (what every worker builds per store version:
  the build is timed too), the answer's 5 records read from the database in one query; and the same
  index over records held in memory (the file store's case, or the ranking alone);
- PostGIS: ``stations.store.postgis.nearest`` (``ORDER BY geom::geography <-> point LIMIT n`` on the
  sphere, widened until the exact ellipsoid re-rank is certain; the records come with the rows).

Printed: per-query p50/p99 of each (alternated on the same points), the ratio, and whether both ranked
every point alike (ids and geodesic distances). The faster is the site's default; the other its check
(``tests/test_nearest_postgis.py``).

Usage: python scripts/bench_nearest_db.py [--count 186100] [--queries 2000] [--url postgresql+psycopg://...]
The schema ``yizhan_bench_nearest_<pid>`` is created and dropped again.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_db_load import DEFAULT_URL, drop  # noqa: E402
from bench_http import NATIONAL_COUNT, query_points, write_generated  # noqa: E402
from stations.counties import Counties  # noqa: E402
from stations.nearest import NearestIndex  # noqa: E402
from stations.store import open_store  # noqa: E402
from stations.store.postgis import load, upgrade  # noqa: E402
from stations.store.postgis.nearest import nearest as postgis_nearest  # noqa: E402
from stations.store.table import StationTable  # noqa: E402


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=NATIONAL_COUNT)
    parser.add_argument("--queries", type=int, default=2000)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    schema = f"yizhan_bench_nearest_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        stations_path, counties_path = write_generated(Path(tmp), args.count, seed=1)
        counties = Counties.load(counties_path)
        features = json.loads(stations_path.read_text(encoding="utf-8"))["features"]
        upgrade(args.url, schema=schema)
        store = open_store(args.url, counties, schema=schema)
        try:
            started = time.perf_counter()
            load(store, features)
            print(f"loaded {args.count:,} stations in {time.perf_counter() - started:.1f} s", flush=True)
            del features
            with store._connect() as connection, connection.begin():
                connection.exec_driver_sql("CREATE INDEX stations_geog ON stations USING gist ((geom::geography))")
                connection.exec_driver_sql("ANALYZE stations")
            started = time.perf_counter()
            index = NearestIndex.from_table(store.table())
            build_s = time.perf_counter() - started
            held = NearestIndex.from_table(StationTable.from_stations(store.all()))  # records in memory
            points = query_points("generated", counties_path, args.queries, seed=7)
            for lon, lat in points[:50]:  # warm all three (connections, caches)
                index.query(lon, lat, 5)
                held.query(lon, lat, 5)
                postgis_nearest(store, lon, lat, 5)
            ours, in_memory, theirs, same = [], [], [], 0
            for lon, lat in points:
                t = time.perf_counter()
                a = index.query(lon, lat, 5)
                ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                c = held.query(lon, lat, 5)
                in_memory.append(time.perf_counter() - t)
                t = time.perf_counter()
                b = postgis_nearest(store, lon, lat, 5)
                theirs.append(time.perf_counter() - t)
                ranked = [[(h.station.id, round(h.distance_m, 6)) for h in hits] for hits in (a, b, c)]
                same += ranked[0] == ranked[1] == ranked[2]
        finally:
            store.close()
            drop(args.url, schema)
    p50_ours, p50_theirs = statistics.median(ours) * 1e3, statistics.median(theirs) * 1e3
    print(f"in-process index: built from store.table() in {build_s:.2f} s; per query p50 {p50_ours:.3f} ms, "
          f"p99 {pct(ours, 99) * 1e3:.3f} ms (the 5 records read from the database included)")
    print(f"in-process index, records in memory (the ranking alone): per query p50 "
          f"{statistics.median(in_memory) * 1e3:.3f} ms, p99 {pct(in_memory, 99) * 1e3:.3f} ms")
    print(f"PostGIS KNN (geography GiST, exact re-rank): per query p50 {p50_theirs:.3f} ms, "
          f"p99 {pct(theirs, 99) * 1e3:.3f} ms")
    faster = "in-process index" if p50_ours <= p50_theirs else "PostGIS KNN"
    print(f"ratio PostGIS / in-process at p50: {p50_theirs / p50_ours:.1f}x; faster: {faster} "
          f"(goal: the faster is the site's default, the in-process index: "
          f"{'met' if p50_ours <= p50_theirs else 'MISSED'})")
    print(f"same ranking on {same:,} of {len(points):,} points")
    return 0 if same == len(points) else 1


if __name__ == "__main__":
    sys.exit(main())
