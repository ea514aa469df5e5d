#!/usr/bin/env python3
"""Load test: 2 app servers x 2 workers on one PostgreSQL, national data, readers and 10 editors.

Everything on loopback. 186,100 generated stations (``scripts/bench_http.py``'s) are loaded into a
fresh PostGIS schema; the accounts live in the same database (their own schema); two ``yizhan serve``
processes (2 gthread workers each) serve them on two ports. Then, bounded in time:

1. reads only: client threads ask ``/api/nearest`` (the map's question: open first, what a passing
   worker needs; random points near the stations) of both servers in turn, each thread on keep-alive
   connections: requests per second, p50 and p99;
2. the same reads while 10 editors write: each editor (an account with its own bearer token) takes
   one of a few shared stations, reads it (``GET /api/stations/<id>``: its ETag and the count in its
   name), writes the count + 1 (``PATCH`` with ``If-Match``) through either server, and on 412 (someone
   wrote first) reads and tries again.

Checked at the end: no error (every read 200; every write 200 or 412), and no lost update: each shared
station's count equals the writes that succeeded on it. Printed: read throughput and p50/p99 of both
phases, writes per second, 412 retries, and the ratios of the busy phase to the reads-only one (the
peer in the same run).

Usage: python scripts/bench_load.py [--seconds 20] [--readers 8] [--editors 10] [--targets 20]
       [--count 186100] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
The schemas ``yizhan_bench_load_<pid>`` and ``yizhan_bench_accounts_<pid>`` are dropped again.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import re
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_db_load import DEFAULT_URL, drop  # noqa: E402
from bench_http import NATIONAL_COUNT, Server, percentile, query_points, write_generated  # noqa: E402

COUNT = re.compile(r" 计数 (\d+)$")


class Client:
    """One keep-alive connection per server, reconnecting when a server closes it."""

    def __init__(self, ports: list[int]):
        self.ports = ports
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def request(self, port: int, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        for attempt in (1, 2):
            conn = self.conns.get(port) or http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            self.conns[port] = conn
            try:
                conn.request(method, path, body=body, headers=headers or {})
                response = conn.getresponse()
                return response.status, dict(response.getheaders()), response.read()
            except (OSError, http.client.HTTPException):
                conn.close()
                self.conns.pop(port, None)
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


def reader(ports: list[int], paths: list[str], stop: threading.Event, out: list, errors: list, seed: int) -> None:
    rng, client = random.Random(seed), Client(ports)
    mine = []
    i = 0
    while not stop.is_set():
        port, path = ports[i % len(ports)], rng.choice(paths)
        i += 1
        started = time.perf_counter()
        try:
            status, _, _ = client.request(port, "GET", path)
        except (OSError, http.client.HTTPException) as exc:
            errors.append(f"{type(exc).__name__} {path}")
            continue
        mine.append(time.perf_counter() - started)
        if status != 200:
            errors.append(f"{status} {path}")
    out.extend(mine)


def editor(ports: list[int], token: str, targets: list[str], stop: threading.Event, tally: dict, lock: threading.Lock,
           errors: list, seed: int) -> None:
    rng, client = random.Random(seed), Client(ports)
    while not stop.is_set():
        sid = rng.choice(targets)
        while not stop.is_set():
            read_port, write_port = rng.choice(ports), rng.choice(ports)
            status, headers, body = client.request(read_port, "GET", f"/api/stations/{sid}")
            if status != 200:
                errors.append(f"read {status} {sid}")
                break
            name = json.loads(body)["properties"]["name"]
            found = COUNT.search(name)
            count = int(found.group(1)) if found else 0
            base = COUNT.sub("", name)
            patch = json.dumps({"properties": {"name": f"{base} 计数 {count + 1}"}}, ensure_ascii=False).encode()
            status, _, body = client.request(write_port, "PATCH", f"/api/stations/{sid}", patch, {
                "Authorization": f"Bearer {token}", "If-Match": headers["ETag"],
                "Content-Type": "application/merge-patch+json"})
            if status == 200:
                with lock:
                    tally["ok"][sid] = tally["ok"].get(sid, 0) + 1
                break
            if status == 412:  # someone wrote first: read again and retry
                with lock:
                    tally["retries"] += 1
                continue
            errors.append(f"write {status} {sid} {body[:200]!r}")
            break


def summary(latencies: list[float], seconds: float) -> str:
    ordered = sorted(latencies)
    return (f"{len(ordered) / seconds:,.0f} req/s, p50 {percentile(ordered, 50) * 1e3:.1f} ms, "
            f"p99 {percentile(ordered, 99) * 1e3:.1f} ms ({len(ordered):,} requests)")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20, help="each phase")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--editors", type=int, default=10)
    parser.add_argument("--targets", type=int, default=20, help="shared stations the editors write")
    parser.add_argument("--count", type=int, default=NATIONAL_COUNT)
    parser.add_argument("--url", default=DEFAULT_URL)
    args = parser.parse_args(argv)

    import sqlalchemy as sa

    from stations.counties import Counties
    from stations.store import open_store
    from stations.store.postgis import load, upgrade
    from web import accounts
    from web.db import migrate
    from web.db.engine import Database

    pid = os.getpid()
    stations_schema, accounts_schema = f"yizhan_bench_load_{pid}", f"yizhan_bench_accounts_{pid}"
    sep = "&" if "?" in args.url else "?"
    store_url = f"{args.url}{sep}schema={stations_schema}"
    accounts_url = f"{args.url}{sep}options={quote(f'-csearch_path={accounts_schema}')}"
    servers: list[Server] = []
    with tempfile.TemporaryDirectory(prefix="yizhan-load-") as tmp:
        folder = Path(tmp)
        try:
            stations_path, counties_path = write_generated(folder, args.count, seed=1)
            counties = Counties.load(counties_path)
            features = json.loads(stations_path.read_text(encoding="utf-8"))["features"]
            targets = [f["properties"]["id"] for f in random.Random(3).sample(features, args.targets)]
            upgrade(store_url)
            with open_store(store_url, counties) as store:
                load(store, features)
            del features
            engine = sa.create_engine(args.url.split("?")[0])
            with engine.begin() as connection:
                connection.exec_driver_sql(f'CREATE SCHEMA "{accounts_schema}"')
            engine.dispose()
            migrate.upgrade(accounts_url)
            database, tokens = Database(accounts_url), []
            with database.transaction() as session:
                for i in range(args.editors):
                    accounts.add_user(session, f"editor{i + 1}", "admin", (), "a long enough password", counties.codes)
                    tokens.append(accounts.create_token(session, f"editor{i + 1}")[1])
            database.dispose()
            env = {"YIZHAN_STORE_URL": store_url, "YIZHAN_DATABASE_URL": accounts_url,
                   "YIZHAN_SECRET_KEY": "bench-load-secret-key-0123456789abcdefghij",
                   "YIZHAN_INSTANCE_PATH": str(folder / "instance"),
                   "YIZHAN_COVERAGE_PRECOMPUTE_S": "0"}  # one synthetic China-sized county: no planner here
            started = time.perf_counter()
            servers = [Server(stations_path, counties_path, 2, "gthread", 4, False, folder / f"server-{n}.log",
                              env_extra=env) for n in "ab"]
            for server in servers:
                server.wait_ready()
            ports = [s.port for s in servers]
            points = query_points("generated", counties_path, 2000, seed=5)
            paths = [f"/api/nearest?lat={lat}&lon={lon}&rank=open_first&serves=passing_worker" for lon, lat in points]
            warm = Client(ports)
            for port in ports * 8:  # every worker has read the store and built its index
                warm.request(port, "GET", paths[0])
            print(f"{args.count:,} stations in PostgreSQL; 2 servers x 2 workers ready in "
                  f"{time.perf_counter() - started:.1f} s; {args.readers} reader threads, {args.editors} editors on "
                  f"{args.targets} shared stations; {os.cpu_count()} CPUs shared by clients, servers and PostgreSQL; "
                  f"load average {os.getloadavg()[0]:.1f}", flush=True)

            def phase(with_editors: bool) -> tuple[list, list, dict, float]:
                stop, lock = threading.Event(), threading.Lock()
                latencies: list[float] = []
                errors: list[str] = []
                tally = {"ok": {}, "retries": 0}
                threads = [threading.Thread(target=reader, args=(ports, paths, stop, latencies, errors, i))
                           for i in range(args.readers)]
                if with_editors:
                    threads += [threading.Thread(target=editor, args=(ports, tokens[i], targets, stop, tally, lock,
                                                                      errors, 100 + i)) for i in range(args.editors)]
                t0 = time.perf_counter()
                for t in threads:
                    t.start()
                time.sleep(args.seconds)
                stop.set()
                for t in threads:
                    t.join(timeout=60)
                return latencies, errors, tally, time.perf_counter() - t0

            quiet, quiet_errors, _, quiet_s = phase(False)
            print(f"  reads only: /api/nearest {summary(quiet, quiet_s)}; errors {len(quiet_errors)}", flush=True)
            busy, busy_errors, tally, busy_s = phase(True)
            writes = sum(tally["ok"].values())
            print(f"  while {args.editors} editors write: /api/nearest {summary(busy, busy_s)}; "
                  f"{writes / busy_s:.1f} writes/s ({writes:,} written, {tally['retries']:,} retried after 412); "
                  f"errors {len(busy_errors)}", flush=True)
            with open_store(store_url, counties) as store:
                final = {sid: int(m.group(1)) if (m := COUNT.search(store.get(sid).name)) else 0 for sid in targets}
            lost = {sid: (tally["ok"].get(sid, 0), final[sid]) for sid in targets if final[sid] != tally["ok"].get(sid, 0)}
            print(f"  lost updates: {len(lost)} (each shared station's count equals its successful writes: "
                  f"{'yes' if not lost else lost})")
            for sample in (quiet_errors + busy_errors)[:5]:
                print(f"    error: {sample}")
            ok = not quiet_errors and not busy_errors and not lost and writes > 0
            p99_quiet, p99_busy = percentile(sorted(quiet), 99), percentile(sorted(busy), 99)
            print(f"  goal: no error, no lost update: {'met' if ok else 'MISSED'}; /api/nearest while "
                  f"{args.editors} editors write against reads only (the peer, this run): p99 {p99_busy * 1e3:.1f} ms "
                  f"vs {p99_quiet * 1e3:.1f} ms, ratio {p99_busy / p99_quiet:.2f}; throughput "
                  f"{len(busy) / busy_s:,.0f} vs {len(quiet) / quiet_s:,.0f} req/s, ratio "
                  f"{(len(busy) / busy_s) / (len(quiet) / quiet_s):.2f}")
            return 0 if ok else 1
        finally:
            for server in servers:
                server.stop()
            drop(args.url, stations_schema)
            drop(args.url, accounts_schema)


if __name__ == "__main__":
    sys.exit(main())
