#!/usr/bin/env python3
"""Load benchmark of the PostGIS store: 186,100 generated stations into a database, then dumped.

The stations are those of ``scripts/bench_http.py`` (clustered around China's big cities, inside one
China-sized benchmark county). Timed: ``stations.store.postgis.load`` (validation with the counties,
then COPY in batches of 5,000 in one transaction) into a fresh schema, ``dump`` back to text, and as
the peer in the same run the file store's ``save_all`` of the same stations. Goal: the load in under
a minute.

Usage: python scripts/bench_db_load.py [--count 186100] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
The schema ``yizhan_bench_<pid>`` is created and dropped again.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_http import NATIONAL_COUNT, write_generated  # noqa: E402
from stations.counties import Counties  # noqa: E402
from stations.store import GeoJSONStore, open_store  # noqa: E402
from stations.store.postgis import dump, load, upgrade  # noqa: E402

DEFAULT_URL = os.environ.get("YIZHAN_TEST_DATABASE_URL") or "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=NATIONAL_COUNT)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args(argv)
    schema = f"yizhan_bench_{os.getpid()}"
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        stations_path, counties_path = write_generated(folder, args.count, seed=1)
        counties = Counties.load(counties_path)
        features = json.loads(stations_path.read_text(encoding="utf-8"))["features"]
        upgrade(args.url, schema=schema)
        store = open_store(args.url, counties, schema=schema)
        try:
            started = time.perf_counter()
            load(store, features, progress=lambda done, total: print(f"\r  loading {done:,}/{total:,}", end="",
                                                                     flush=True))
            load_s = time.perf_counter() - started
            print()
            started = time.perf_counter()
            text = dump(store)
            dump_s = time.perf_counter() - started
            stations = store.all()
            files = GeoJSONStore(folder / "peer.geojson", counties)
            started = time.perf_counter()
            files.save_all(stations)
            peer_s = time.perf_counter() - started
            same = dump(files) == text
        finally:
            store.close()
            drop(args.url, schema)
    print(f"{args.count:,} stations: load {load_s:.1f} s (goal < 60 s; file store save_all {peer_s:.1f} s, "
          f"ratio {load_s / peer_s:.2f}); dump {dump_s:.1f} s; dump equals the file store's: {same}")
    return 0 if same and load_s < 60 else 1


def drop(url: str, schema: str) -> None:
    import sqlalchemy as sa

    from stations.store.postgis.engine import parse_url

    engine = sa.create_engine(parse_url(url)[0])
    with engine.begin() as connection:
        connection.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
    engine.dispose()


if __name__ == "__main__":
    sys.exit(main())
