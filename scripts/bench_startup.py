#!/usr/bin/env python3
"""A worker at national scale: how soon it answers, what it holds, and a county's box, on both backends.

186,100 generated stations (``scripts/bench_http.py``'s, clustered around China's big cities, in one
China-sized benchmark county), served three ways:

- the GeoJSON file store, first start (no cache: the file is validated and its cache written);
- the GeoJSON file store, next starts (the validated cache beside the file);
- PostgreSQL/PostGIS (loaded into a fresh schema; the worker reads the columns the index needs).

For each, a fresh Python process does what ``yizhan serve`` does: imports the site's modules (the
master, once per server: ``yizhan.server.preload_modules``), then what each worker does when it
starts: builds the app and makes it ready (``create_app`` and ``web.state.warm_up``: the store read,
the nearest index built), timed from the worker's start, and answers its first ``/api/nearest`` (the
map's query: open first, what a passing worker needs); then 300 more nearest answers, 200 pages of
``/api/stations?bbox=`` over county-sized boxes (0.5° x 0.5° around random stations, the default page
of 1,000) and 200 ``/api/stations/<id>``, printing the resident memory (RSS) after each step and the
bbox answers' p50/p99. Then ``yizhan serve`` (gunicorn, 2 workers) on the warm file store and on
PostGIS: from the command's start to its first HTTP answer of ``/api/nearest``, the workers' RSS, and
the bbox p50/p99 over HTTP.

Goals: ready < 3 s, RSS < 200 MB, a county's box < 50 ms. The peers in the same run: the file store's
first start (what every worker did before the validated cache: read and validate the whole file), and
each backend against the other. The planner's precomputation is off here (``COVERAGE_PRECOMPUTE_S=0``):
the benchmark's one China-sized county is no planner's data, and an analysis of it in the worker's
background pool would hold the worker's exit (``scripts/bench_planning.py`` measures the planner).

Usage: python scripts/bench_startup.py [--count 186100] [--url postgresql+psycopg://postgres@127.0.0.1:5432/test]
       [--skip-postgis] [--skip-serve]
The schema ``yizhan_bench_startup_<pid>`` is created and dropped again.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()  # the child's clock starts before its imports
ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

GOAL_READY_S, GOAL_RSS_MB, GOAL_BBOX_MS = 3.0, 200.0, 50.0
BOX_DEG = 0.5  # a county-sized box: ~50 km x ~40 km in central China


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def private_mb(pid: int | str = "self") -> float:
    """Memory that is the process's own (not shared with its gunicorn master, the other worker or
    other processes mapping the same libraries): Private_Clean + Private_Dirty, MB."""
    total = 0
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
        if line.startswith(("Private_Clean:", "Private_Dirty:")):
            total += int(line.split()[1])
    return total / 1024


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q / 100 * len(ordered)))]


# ---- the worker's part (a fresh process) ---------------------------------------------------------

def child(store_url: str, counties_path: str, instance: str) -> None:
    """What a worker does, measured; prints one JSON line."""
    from yizhan.server import preload_modules

    preload_modules()  # the master's part, once per server, before it forks the workers
    out: dict = {"master_s": time.perf_counter() - STARTED, "rss": {"modules imported": rss_mb()}}
    from web import create_app
    from web.state import warm_up

    worker_started, cpu_started = time.perf_counter(), time.process_time()
    app = create_app({"STORE_URL": store_url, "COUNTIES_PATH": counties_path, "INSTANCE_PATH": instance,
                      "SECRET_KEY": "bench-startup-secret-key-0123456789abcdef", "RATELIMIT_ENABLED": False,
                      "COVERAGE_PRECOMPUTE_S": 0})
    out["create_app_s"] = time.perf_counter() - worker_started
    warm_up(app)
    out["warm_s"] = time.perf_counter() - worker_started
    out["rss"]["worker ready"] = rss_mb()
    client = app.test_client()
    rng = random.Random(3)
    with app.app_context():
        from web.state import state
        table = state().store.table()
        ids = [table.id_at(i) for i in rng.sample(range(len(table)), 200)]
        places = [(float(table.lon[i]), float(table.lat[i])) for i in rng.sample(range(len(table)), 500)]
    map_query = "/api/nearest?lat={lat:.5f}&lon={lon:.5f}&rank=open_first&serves=passing_worker"
    answer = client.get(map_query.format(lon=places[0][0], lat=places[0][1]))
    assert answer.status_code == 200, answer.data[:300]
    out["ready_s"] = time.perf_counter() - worker_started
    out["ready_cpu_s"] = time.process_time() - cpu_started  # this process's CPU: the figure a busy machine inflates least
    out["rss"]["first /api/nearest"] = rss_mb()
    for lon, lat in places[1:301]:
        assert client.get(map_query.format(lon=lon + rng.uniform(-0.05, 0.05), lat=lat)).status_code == 200
    out["rss"]["+300 /api/nearest"] = rss_mb()
    latencies, cpu = [], []
    for lon, lat in places[301:501]:
        url = (f"/api/stations?bbox={lon - BOX_DEG / 2:.4f},{lat - BOX_DEG / 2:.4f},"
               f"{lon + BOX_DEG / 2:.4f},{lat + BOX_DEG / 2:.4f}")
        t, c = time.perf_counter(), time.process_time()
        got = client.get(url)
        latencies.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
        assert got.status_code == 200, got.data[:300]
    out["bbox_ms"] = [statistics.median(latencies) * 1e3, pct(latencies, 99) * 1e3]
    out["bbox_cpu_ms"] = [statistics.median(cpu) * 1e3, pct(cpu, 99) * 1e3]
    out["rss"]["+200 /api/stations?bbox"] = rss_mb()
    for sid in ids:
        assert client.get(f"/api/stations/{sid}").status_code == 200
    out["rss"]["+200 /api/stations/<id>"] = rss_mb()
    out["private_mb"] = private_mb()
    print(json.dumps(out))


def run_child(store_url: str, counties_path: Path, folder: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", store_url, str(counties_path), str(folder / "instance")],
                          capture_output=True, text=True, cwd=ROOT)
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def show(name: str, figures: dict) -> None:
    ready, peak = figures["ready_s"], max(figures["rss"].values())
    print(f"  {name}: the master's imports {figures['master_s']:.2f} s (once per server); a worker: app built "
          f"{figures['create_app_s']:.2f} s, store read and index built {figures['warm_s']:.2f} s, first "
          f"/api/nearest answered {ready:.2f} s after its start ({figures['ready_cpu_s']:.2f} s of its CPU; goal < "
          f"{GOAL_READY_S:g} s: {'met' if ready < GOAL_READY_S else 'MISSED'})")
    print("    RSS: " + ", ".join(f"{k} {v:.0f} MB" for k, v in figures["rss"].items())
          + f" (goal < {GOAL_RSS_MB:g} MB: {'met' if peak < GOAL_RSS_MB else 'MISSED'}, max {peak:.0f} MB; at the end "
          f"{figures['private_mb']:.0f} MB of it private, the rest shared libraries)")
    p50, p99 = figures["bbox_ms"]
    print(f"    /api/stations?bbox= (0.5° box, first page of up to 1,000): p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"(goal < {GOAL_BBOX_MS:g} ms: {'met' if p99 < GOAL_BBOX_MS else 'MISSED'}); the worker's CPU per answer "
          f"p50 {figures['bbox_cpu_ms'][0]:.1f} ms, p99 {figures['bbox_cpu_ms'][1]:.1f} ms")


# ---- gunicorn, end to end ------------------------------------------------------------------------

def serve(name: str, env: dict, folder: Path, points: list[tuple[float, float]]) -> None:
    from bench_http import free_port
    from yizhan.server import serve_command

    port = free_port()
    cmd = serve_command("127.0.0.1", port, workers=2, threads=4, access_log=False, log_level="warning")
    log = open(folder / f"serve-{name}.log", "wb")
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        first = None
        while time.perf_counter() - started < 120:
            if proc.poll() is not None:
                raise RuntimeError(f"yizhan serve exited; see {log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                conn.request("GET", f"/api/nearest?lat={points[0][1]}&lon={points[0][0]}")
                if conn.getresponse().status == 200:
                    first = time.perf_counter() - started
                    break
            except OSError:
                time.sleep(0.05)
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies = []
        for i, (lon, lat) in enumerate(points[1:401]):
            path = (f"/api/nearest?lat={lat:.5f}&lon={lon:.5f}&rank=open_first&serves=passing_worker" if i % 2 else
                    f"/api/stations?bbox={lon - BOX_DEG / 2:.4f},{lat - BOX_DEG / 2:.4f},"
                    f"{lon + BOX_DEG / 2:.4f},{lat + BOX_DEG / 2:.4f}")
            t = time.perf_counter()
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            if not i % 2:
                latencies.append(time.perf_counter() - t)
        workers = Path(f"/proc/{proc.pid}/task/{proc.pid}/children").read_text().split()
        rss, own = [rss_mb(w) for w in workers], [private_mb(w) for w in workers]
        print(f"  yizhan serve ({name}, 2 workers): first /api/nearest answered {first:.2f} s after the command "
              f"started; worker RSS {', '.join(f'{r:.0f}' for r in rss)} MB (goal < {GOAL_RSS_MB:g} MB: "
              f"{'met' if max(rss) < GOAL_RSS_MB else 'MISSED'}; private {', '.join(f'{r:.0f}' for r in own)} MB, the "
              f"rest shared with the master); /api/stations?bbox= over HTTP p50 "
              f"{statistics.median(latencies) * 1e3:.1f} ms, p99 {pct(latencies, 99) * 1e3:.1f} ms")
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def main(argv=None) -> int:
    if argv is None and len(sys.argv) > 1 and sys.argv[1] == "--child":
        child(*sys.argv[2:5])
        return 0
    from bench_db_load import DEFAULT_URL, drop
    from bench_http import NATIONAL_COUNT, query_points, write_generated

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=NATIONAL_COUNT)
    parser.add_argument("--url", default=DEFAULT_URL)
    parser.add_argument("--skip-postgis", action="store_true")
    parser.add_argument("--skip-serve", action="store_true")
    args = parser.parse_args(argv)
    print(f"{args.count:,} stations; {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)
    with tempfile.TemporaryDirectory(prefix="yizhan-startup-") as tmp:
        folder = Path(tmp)
        stations_path, counties_path = write_generated(folder, args.count, seed=1)
        points = query_points("generated", counties_path, 500, seed=9)
        print("GeoJSON file store:", flush=True)
        first = run_child(str(stations_path), counties_path, folder)
        show("first start (no cache yet: validated, cache written)", first)
        cached = run_child(str(stations_path), counties_path, folder)
        show("next starts (the validated cache)", cached)
        postgis = None
        env = {**os.environ, "YIZHAN_STORE_URL": str(stations_path), "YIZHAN_COUNTIES_PATH": str(counties_path),
               "YIZHAN_INSTANCE_PATH": str(folder / "served"), "YIZHAN_SECRET_KEY": "x" * 40,
               "YIZHAN_RATELIMIT_ENABLED": "false", "YIZHAN_COVERAGE_PRECOMPUTE_S": "0", "PYTHONPATH": str(ROOT)}
        if not args.skip_serve:
            serve("file store", env, folder, points)
        if not args.skip_postgis:
            from stations.counties import Counties
            from stations.store import open_store
            from stations.store.postgis import load, upgrade

            schema = f"yizhan_bench_startup_{os.getpid()}"
            url = f"{args.url}{'&' if '?' in args.url else '?'}schema={schema}"
            try:
                upgrade(url)
                with open_store(url, Counties.load(counties_path)) as store:
                    load(store, json.loads(stations_path.read_text(encoding="utf-8"))["features"])
                print("PostgreSQL/PostGIS store:", flush=True)
                postgis = run_child(url, counties_path, folder)
                show("any start", postgis)
                if not args.skip_serve:
                    serve("PostGIS", {**env, "YIZHAN_STORE_URL": url}, folder, points)
            finally:
                drop(args.url, schema)
    return 0 if summary(first, cached, postgis) else 1


def summary(first: dict, cached: dict, postgis: dict | None) -> bool:
    """Goal, measured figure and the ratio against a peer of the same run, per figure; all goals met?"""
    print("Summary (goal; measured; ratio against a peer of this run):")
    met = True
    rows = [("file store (cache)", cached)] + ([("PostGIS", postgis)] if postgis else [])
    for name, figures in rows:
        ready, peak, bbox = figures["ready_s"], max(figures["rss"].values()), figures["bbox_ms"][1]
        met &= ready < GOAL_READY_S and peak < GOAL_RSS_MB and bbox < GOAL_BBOX_MS
        print(f"  {name}: ready < {GOAL_READY_S:g} s: {ready:.2f} s, {ready / first['ready_s']:.3f}x the file "
              f"store's first start ({first['ready_s']:.1f} s, validating the file); RSS < {GOAL_RSS_MB:g} MB: "
              f"{peak:.0f} MB, {peak / max(first['rss'].values()):.2f}x the first start's; county box p99 < "
              f"{GOAL_BBOX_MS:g} ms: {bbox:.1f} ms")
    if postgis:
        print(f"  PostGIS / file store (cache): ready {postgis['ready_s'] / cached['ready_s']:.2f}x, RSS "
              f"{max(postgis['rss'].values()) / max(cached['rss'].values()):.2f}x, county box p99 "
              f"{postgis['bbox_ms'][1] / cached['bbox_ms'][1]:.2f}x")
    print(f"  {'every goal met' if met else 'a goal MISSED'}")
    return met


if __name__ == "__main__":
    sys.exit(main())
