#!/usr/bin/env python3
"""HTTP benchmark: the site under gunicorn on 127.0.0.1, /api/nearest against /api/health.

Two data sets: (a) the bundled geodata (Jining sample), (b) 186,100 generated stations across
China (the ACFTU's national count at the end of 2024), written to a temporary folder together
with a temporary counties file holding one synthetic "county" that covers China, because the
store checks that every station lies inside a county.

For each, a bounded load (a fixed number of requests, several client threads, each with its own
keep-alive ``http.client`` connection that reconnects when the server closes it) runs in
interleaved rounds on ``/api/nearest?lat=..&lon=..`` (random points near where stations are)
and on the trivial ``/api/health``. Printed: requests/s, p50/p99 latency, and the ratio.
Goal: at 186,100 stations, /api/nearest reaches at least 70 % of /api/health's throughput.

"Under attack" (bundled data): the same /api/nearest load while two clients keep sending expensive
``/api/coverage`` requests, each with a radius (and siting) never asked before, as fast as they get
answers; printed as a ratio against the quiet /api/nearest figure of the same server. Twice: with
the default settings (rate limits on) and with ``RATELIMIT_ENABLED=false`` (the background pool and
the time budget alone). Goal: at least 50 % of the quiet throughput.

Usage: python scripts/bench_http.py [--requests 3000] [--rounds 10] [--concurrency 6] [--workers 2]
       [--worker-class gthread|sync] [--only bundled|generated] [--no-attack] [--check]
The client runs on the same machine and takes some CPU from the server: absolute figures are
lower than from a separate load generator; the ratio is what the goal is about.
"""
from __future__ import annotations

import argparse
import http.client
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from stations.model import AMENITIES  # noqa: E402

NATIONAL_COUNT = 186_100
CHINA_BOX = (73.5, 18.0, 135.1, 53.6)  # minlon, minlat, maxlon, maxlat (WGS-84)
# Big cities (approximate WGS-84 lon, lat) and a weight: generated stations cluster around them.
CITIES = [
    (116.40, 39.90, 10), (121.47, 31.23, 10), (113.26, 23.13, 8), (114.06, 22.54, 8), (104.07, 30.67, 7),
    (106.55, 29.56, 7), (120.15, 30.27, 6), (114.30, 30.59, 6), (108.94, 34.34, 5), (118.80, 32.06, 5),
    (117.20, 39.13, 5), (112.98, 28.19, 4), (113.62, 34.75, 5), (117.00, 36.67, 4), (120.38, 36.07, 4),
    (123.43, 41.80, 4), (126.64, 45.75, 3), (125.32, 43.82, 3), (112.55, 37.87, 3), (114.51, 38.04, 4),
    (117.28, 31.86, 4), (119.30, 26.08, 3), (115.86, 28.68, 3), (102.71, 25.04, 3), (106.71, 26.58, 3),
    (108.37, 22.82, 3), (110.35, 20.02, 2), (103.83, 36.06, 2), (101.78, 36.62, 1), (106.23, 38.49, 1),
    (87.62, 43.82, 2), (91.13, 29.65, 1), (111.67, 40.82, 2), (116.59, 35.41, 3), (118.09, 24.48, 3),
    (120.30, 31.57, 3), (120.58, 31.30, 3), (113.12, 23.02, 3), (113.75, 23.02, 3), (121.62, 29.86, 3),
]
HOURS = ["24/7", "Mo-Su 07:00-20:00", "Mo-Fr 08:00-18:00; Sa,Su 09:00-17:00", "06:00-22:00"]


# ---- data ---------------------------------------------------------------------------------------

def _cluster_point(rng: random.Random) -> tuple[float, float]:
    """80 % around a big city (Gaussian, ~30 km), 20 % anywhere in China's bounding box."""
    minlon, minlat, maxlon, maxlat = CHINA_BOX
    if rng.random() < 0.8:
        lon0, lat0, _ = rng.choices(CITIES, weights=[c[2] for c in CITIES])[0]
        lon, lat = rng.gauss(lon0, 0.3), rng.gauss(lat0, 0.25)
    else:
        lon, lat = rng.uniform(minlon, maxlon), rng.uniform(minlat, maxlat)
    return (round(min(max(lon, minlon + 1e-6), maxlon - 1e-6), 6),
            round(min(max(lat, minlat + 1e-6), maxlat - 1e-6), 6))


def write_generated(folder: Path, n: int, seed: int) -> tuple[Path, Path]:
    """A counties file with one China-sized box and ``n`` valid stations inside it."""
    minlon, minlat, maxlon, maxlat = CHINA_BOX
    ring = [[minlon, minlat], [maxlon, minlat], [maxlon, maxlat], [minlon, maxlat], [minlon, minlat]]
    counties = {"type": "FeatureCollection", "features": [{
        "type": "Feature", "geometry": {"type": "Polygon", "coordinates": [ring]},
        "properties": {"adcode": "100000", "name": "全国 (benchmark box)", "area_km2": None, "population": None},
    }]}
    counties_path = folder / "counties.geojson"
    counties_path.write_text(json.dumps(counties), encoding="utf-8")

    rng = random.Random(seed)
    amenities = list(AMENITIES)
    features = []
    for i in range(n):
        lon, lat = _cluster_point(rng)
        sid = f"CN-RS-{i + 1:06d}"
        features.append({
            "type": "Feature", "id": sid,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {
                "id": sid, "name": f"驿站 {i + 1}", "kind": "rest_station", "county_code": "100000",
                "opening_hours": rng.choice(HOURS),
                "amenities": sorted(rng.sample(amenities, rng.randint(1, 6)), key=amenities.index),
                "status": "open" if rng.random() < 0.9 else rng.choice(["planned", "temporarily_closed"]),
                "sample": True, "source": "generated by scripts/bench_http.py",
            },
        })
    stations_path = folder / "stations.geojson"
    stations_path.write_text(json.dumps({"type": "FeatureCollection", "features": features}, ensure_ascii=False),
                             encoding="utf-8")
    return stations_path, counties_path


def query_points(kind: str, counties_path: Path, count: int, seed: int) -> list[tuple[float, float]]:
    rng = random.Random(seed)
    if kind == "generated":
        return [_cluster_point(rng) for _ in range(count)]
    data = json.loads(counties_path.read_text(encoding="utf-8"))
    xs, ys = [], []
    for feature in data["features"]:
        coords = feature["geometry"]["coordinates"]
        stack = [coords]
        while stack:
            item = stack.pop()
            if item and isinstance(item[0], (int, float)):
                xs.append(item[0])
                ys.append(item[1])
            else:
                stack.extend(item)
    return [(round(rng.uniform(min(xs), max(xs)), 5), round(rng.uniform(min(ys), max(ys)), 5))
            for _ in range(count)]


# ---- server -------------------------------------------------------------------------------------

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``yizhan serve`` (gunicorn on ``web.create_app``) with the given data files, in a subprocess."""

    def __init__(self, stations_path: Path, counties_path: Path, workers: int, worker_class: str,
                 threads: int, access_log: bool, log_path: Path, env_extra: dict | None = None):
        from yizhan.server import serve_command

        self.port = free_port()
        env = dict(os.environ, YIZHAN_STATIONS_PATH=str(stations_path), YIZHAN_COUNTIES_PATH=str(counties_path),
                   PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""), **(env_extra or {}))
        # sync only for comparison: yizhan serve runs gthread; without access_log, no line per request
        self.cmd = serve_command("127.0.0.1", self.port, workers, threads, worker_class=worker_class,
                                 access_log=access_log, log_level="warning")
        self.log = open(log_path, "wb")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, env=env, stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def wait_ready(self, timeout_s: float = 120) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.proc.returncode}; see {self.log.name}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/api/health")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn not ready after {timeout_s} s")

    def worker_rss_mb(self) -> list[float]:
        out = []
        for child in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split():
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    out.append(int(line.split()[1]) / 1024)
        return out

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # gunicorn's graceful stop; it ends its workers
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


# ---- load ---------------------------------------------------------------------------------------

def run_load(port: int, paths: list[str], total: int, concurrency: int) -> dict:
    """``total`` GETs over ``concurrency`` threads; returns throughput and latency figures."""
    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    counter = iter(range(total))
    counter_lock = threading.Lock()

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        while True:
            with counter_lock:
                i = next(counter, None)
            if i is None:
                break
            path = paths[i % len(paths)]
            t0 = time.perf_counter()
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                body = response.read()
                if response.status != 200 or not body:
                    errors.append(f"{response.status} {path}")
            except (OSError, http.client.HTTPException) as exc:
                errors.append(f"{type(exc).__name__} {path}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            mine.append(time.perf_counter() - t0)
        conn.close()
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    return {"requests": len(latencies), "wall_s": wall, "latencies": latencies, "errors": errors}


def percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return math.nan
    idx = min(len(sorted_values) - 1, max(0, math.ceil(q / 100 * len(sorted_values)) - 1))
    return sorted_values[idx]


def summarise(results: list[dict]) -> dict:
    lat = sorted(x for r in results for x in r["latencies"])
    wall = sum(r["wall_s"] for r in results)
    n = sum(r["requests"] for r in results)
    return {"requests": n, "rps": n / wall if wall else math.nan, "p50_ms": percentile(lat, 50) * 1e3,
            "p99_ms": percentile(lat, 99) * 1e3, "errors": sum(len(r["errors"]) for r in results),
            "rps_rounds": [r["requests"] / r["wall_s"] for r in results],
            "sample_errors": [e for r in results for e in r["errors"]][:3]}


class Attack:
    """``clients`` threads sending ``/api/coverage`` with parameters never asked before, back to back."""

    def __init__(self, port: int, clients: int = 2, seed: int = 7):
        rng = random.Random(seed)
        radii = list(range(100, 20_001, 100))  # the radius step: each one a new analysis
        rng.shuffle(radii)
        self.paths = [f"/api/coverage?radius_m={r}&new_sites={n}" + ("&include_planned=1" if planned else "")
                      for n in (100, 99, 98) for planned in (False, True) for r in radii]
        self.port, self.clients = port, clients
        self.statuses: dict[int, int] = {}
        self._next = iter(self.paths)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def _client(self) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self._stop.is_set():
            with self._lock:
                path = next(self._next, None)
            if path is None:
                break
            try:
                conn.request("GET", path)
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
                status = 0
            with self._lock:
                self.statuses[status] = self.statuses.get(status, 0) + 1
        conn.close()

    def __enter__(self) -> "Attack":
        self._threads = [threading.Thread(target=self._client, daemon=True) for _ in range(self.clients)]
        for t in self._threads:
            t.start()
        time.sleep(0.5)  # let the expensive requests reach the server first
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        for t in self._threads:
            t.join(timeout=60)


def bench_attack(server: Server, nearest_paths: list[str], args) -> dict:
    """/api/nearest throughput quiet, then while two clients send expensive requests (same server)."""
    per_round = max(1, args.requests // args.rounds)
    rounds = max(1, args.rounds // 2)
    quiet = [run_load(server.port, nearest_paths, per_round, args.concurrency) for _ in range(rounds)]
    loud = []
    with Attack(server.port) as attack:
        t0 = time.perf_counter()  # long enough for the attackers to fill the pool and meet the rate limit
        while len(loud) < rounds or time.perf_counter() - t0 < args.attack_seconds:
            loud.append(run_load(server.port, nearest_paths, per_round, args.concurrency))
        seconds = time.perf_counter() - t0
    q, a = summarise(quiet), summarise(loud)
    return {"quiet": q, "attack": a, "ratio": a["rps"] / q["rps"], "attack_statuses": dict(attack.statuses),
            "attack_s": seconds}


def bench_dataset(name: str, stations_path: Path, counties_path: Path, args, workdir: Path) -> dict:
    count = len(json.loads(stations_path.read_text(encoding="utf-8"))["features"])
    points = query_points(name, counties_path, 4096, args.seed + 1)
    nearest_paths = [f"/api/nearest?lat={lat}&lon={lon}" for lon, lat in points]
    health_paths = ["/api/health"]
    # the generated data's one China-sized "county" is no planner's: its coverage, which the server would
    # compute ahead in the background at its start (COVERAGE_PRECOMPUTE_S), would only take the CPU from
    # the requests measured (as in bench_startup.py and bench_load.py)
    extra = {"YIZHAN_COVERAGE_PRECOMPUTE_S": "0"} if name == "generated" else None
    server = Server(stations_path, counties_path, args.workers, args.worker_class, args.threads,
                    not args.no_access_log, workdir / f"gunicorn-{name}.log", env_extra=extra)
    try:
        t0 = time.perf_counter()
        server.wait_ready()
        # Warm up every worker: the first /api/nearest in a worker reads the stations and builds
        # the index (lazily, per store version). Keep going until a round is uniformly fast.
        warm = run_load(server.port, nearest_paths, max(50, 20 * args.workers), max(args.concurrency, 2 * args.workers))
        while max(warm["latencies"] or [0]) > 0.5 and time.perf_counter() - t0 < 300:
            warm = run_load(server.port, nearest_paths, max(50, 20 * args.workers), 2 * args.workers)
        startup_s = time.perf_counter() - t0
        run_load(server.port, health_paths, 200, args.concurrency)
        per_round = max(1, args.requests // args.rounds)
        health, nearest = [], []
        for _ in range(args.rounds):  # interleaved, so drift affects both alike
            health.append(run_load(server.port, health_paths, per_round, args.concurrency))
            nearest.append(run_load(server.port, nearest_paths, per_round, args.concurrency))
        rss = server.worker_rss_mb()
        attacks = {}
        if name == "bundled" and not args.no_attack:
            attacks["rate limits on (default)"] = bench_attack(server, nearest_paths, args)
    finally:
        server.stop()
    if name == "bundled" and not args.no_attack:  # the pool and the time budget alone
        server = Server(stations_path, counties_path, args.workers, args.worker_class, args.threads,
                        not args.no_access_log, workdir / f"gunicorn-{name}-nolimit.log",
                        env_extra={"YIZHAN_RATELIMIT_ENABLED": "false"})
        try:
            server.wait_ready()
            run_load(server.port, nearest_paths, max(50, 20 * args.workers), max(args.concurrency, 2 * args.workers))
            attacks["rate limits off"] = bench_attack(server, nearest_paths, args)
        finally:
            server.stop()
    h, n = summarise(health), summarise(nearest)
    round_ratios = [rn / rh for rn, rh in zip(n["rps_rounds"], h["rps_rounds"])]
    return {"dataset": name, "stations": count, "startup_s": startup_s, "health": h, "nearest": n,
            "ratio": n["rps"] / h["rps"], "ratio_round_median": statistics.median(round_ratios),
            "worker_rss_mb": rss, "cmd": " ".join(server.cmd), "attacks": attacks}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=3000, help="requests per endpoint per data set")
    parser.add_argument("--rounds", type=int, default=10, help="interleaved rounds per endpoint")
    parser.add_argument("--concurrency", type=int, default=6, help="client threads (4-8 sensible)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--worker-class", default="gthread", choices=["gthread", "sync"],
                        help="gthread as `yizhan serve`; sync for comparison")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--no-access-log", action="store_true",
                        help="run gunicorn without the access log that `yizhan serve` writes")
    parser.add_argument("--stations", type=int, default=NATIONAL_COUNT, help="generated stations")
    parser.add_argument("--only", choices=["bundled", "generated"], default=None)
    parser.add_argument("--seed", type=int, default=2024)
    parser.add_argument("--no-attack", action="store_true", help="skip the 'under attack' figures")
    parser.add_argument("--attack-seconds", type=float, default=15, help="least duration of each attack")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 if a goal (ratio >= 0.70; under attack >= 0.50) is missed")
    parser.add_argument("--json", dest="json_out", default=None, help="also write the figures to this file")
    args = parser.parse_args(argv)

    print(f"gunicorn {args.worker_class}, {args.workers} workers"
          + (f" x {args.threads} threads" if args.worker_class == "gthread" else "")
          + f"; client: {args.concurrency} threads, {args.requests} requests per endpoint in {args.rounds} rounds;"
          f" {os.cpu_count()} CPUs shared by client and server; access log "
          f"{'off' if args.no_access_log else 'on (as yizhan serve)'}; load average {_loadavg()}", flush=True)
    reports = []
    with tempfile.TemporaryDirectory(prefix="yizhan-bench-") as tmp:
        workdir = Path(tmp)
        if args.only in (None, "bundled"):
            stations = ROOT / "geodata" / "stations.geojson"
            counties = ROOT / "geodata" / "counties.geojson"
            if not stations.exists():
                print(f"skipping bundled data: {stations} missing (run `make sample`)")
            else:
                reports.append(bench_dataset("bundled", stations, counties, args, workdir))
                _print(reports[-1])
        if args.only in (None, "generated"):
            t0 = time.perf_counter()
            stations, counties = write_generated(workdir, args.stations, args.seed)
            print(f"generated {args.stations:,} stations in {time.perf_counter() - t0:.1f} s "
                  f"({stations.stat().st_size / 1e6:.0f} MB)", flush=True)
            reports.append(bench_dataset("generated", stations, counties, args, workdir))
            _print(reports[-1])
    if args.json_out:
        for r in reports:
            for key in ("health", "nearest"):
                r[key].pop("sample_errors", None)
            for attack in r.get("attacks", {}).values():
                for key in ("quiet", "attack"):
                    attack[key].pop("sample_errors", None)
                    attack[key].pop("latencies", None)
        Path(args.json_out).write_text(json.dumps(reports, indent=2))
    print(f"load average at the end: {_loadavg()} (other processes on the machine skew absolute figures)")
    missed = False
    goal = next((r for r in reports if r["dataset"] == "generated"), None)
    if goal is not None:
        ok = goal["ratio"] >= 0.70
        missed |= not ok
        print(f"goal: /api/nearest at {goal['stations']:,} stations = {goal['ratio']:.0%} of /api/health "
              f"(target >= 70 %): {'met' if ok else 'MISSED'}")
    attacked = next((r for r in reports if r.get("attacks")), None)
    if attacked is not None:
        default = attacked["attacks"]["rate limits on (default)"]
        ok = default["ratio"] >= 0.50
        missed |= not ok
        print(f"goal: /api/nearest under attack = {default['ratio']:.0%} of its quiet throughput "
              f"(target >= 50 %): {'met' if ok else 'MISSED'}")
    return 1 if args.check and missed else 0


def _loadavg() -> str:
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "n/a"


def _print(r: dict) -> None:
    print(f"\n[{r['dataset']}] {r['stations']:,} stations; ready and warm in {r['startup_s']:.1f} s; "
          f"worker RSS {', '.join(f'{m:.0f}' for m in r['worker_rss_mb'])} MB")
    print(f"  {'endpoint':<14} {'requests':>8} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}  rounds req/s")
    for key, label in (("health", "/api/health"), ("nearest", "/api/nearest")):
        s = r[key]
        rounds = " ".join(f"{x:.0f}" for x in s["rps_rounds"])
        print(f"  {label:<14} {s['requests']:>8} {s['rps']:>8.0f} {s['p50_ms']:>8.2f} {s['p99_ms']:>8.2f} "
              f"{s['errors']:>6}  {rounds}")
        if s["sample_errors"]:
            print(f"    e.g. {s['sample_errors']}")
    print(f"  nearest/health throughput: {r['ratio']:.0%} (median of per-round ratios "
          f"{r['ratio_round_median']:.0%})", flush=True)
    for label, a in r.get("attacks", {}).items():
        statuses = ", ".join(f"{k}: {v}" for k, v in sorted(a["attack_statuses"].items()))
        print(f"  under attack, {label}: /api/nearest {a['attack']['rps']:.0f} req/s "
              f"(p50 {a['attack']['p50_ms']:.2f} ms, p99 {a['attack']['p99_ms']:.2f} ms, errors "
              f"{a['attack']['errors']}) against {a['quiet']['rps']:.0f} req/s quiet "
              f"(p50 {a['quiet']['p50_ms']:.2f} ms): ratio {a['ratio']:.0%}; "
              f"the two attackers' answers in {a['attack_s']:.0f} s: {statuses}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
