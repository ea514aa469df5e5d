"""Bounded work per request: radius step, time budget (503), rate limits (429), URL length (414),
and gunicorn's own limits as ``yizhan serve`` sets them.

Slow analyses are simulated by an analysis that waits on an Event (thread executor, so the test can
hold and release it); one test runs the real child-process pool. No timing assertion beyond
generous bounds.
"""
from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest

from web import create_app

ROOT = Path(__file__).resolve().parent.parent
EXPENSIVE = ["/api/coverage", "/api/coverage/gaps", "/planning", "/planning/download.csv"]


def make_app(app_config, **config):
    return create_app({**app_config, **config})


@pytest.fixture
def slow_analysis(monkeypatch):
    """Analyses wait for ``release`` (set at teardown at the latest); ``calls`` lists their radii."""
    import web.background as background

    release = threading.Event()
    calls: list[float] = []
    real = background.analyse

    def slow(*args, **kwargs):
        calls.append(kwargs["radius_m"])
        release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(background, "analyse", slow)
    yield release, calls
    release.set()


def wait_for(predicate, timeout_s=30.0):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


def assert_error_shape(response, status):
    assert response.status_code == status
    error = response.get_json()["error"]
    assert error["status"] == status and error["message"]
    assert "Content-Security-Policy" in response.headers and response.headers["X-Content-Type-Options"] == "nosniff"


# ---- radius step ----------------------------------------------------------------------------------

def test_radii_are_snapped_to_the_step_and_share_one_analysis_and_etag(app_config, monkeypatch):
    import web.background as background

    calls = []
    real = background.analyse
    monkeypatch.setattr(background, "analyse", lambda *a, **k: calls.append(k["radius_m"]) or real(*a, **k))
    client = make_app(app_config, COVERAGE_EXECUTOR="thread").test_client()
    odd = client.get("/api/coverage?radius_m=1234")
    even = client.get("/api/coverage?radius_m=1200")
    assert odd.status_code == even.status_code == 200
    assert odd.get_json()["radius_m"] == even.get_json()["radius_m"] == 1200
    assert odd.headers["ETag"] == even.headers["ETag"]
    assert client.get("/api/coverage?radius_m=1160",
                      headers={"If-None-Match": odd.headers["ETag"]}).status_code == 304
    assert calls == [1200.0]


def test_the_step_is_a_setting_and_is_documented(app_config):
    client = make_app(app_config, RADIUS_STEP_M=250, COVERAGE_MAX_NEW_SITES=20).test_client()
    assert client.get("/api/coverage?radius_m=1100").get_json()["radius_m"] == 1000
    assert client.get("/api/coverage?radius_m=1130").get_json()["radius_m"] == 1250
    doc = client.get("/api/openapi.json").get_json()
    params = {p["name"]: p for p in doc["paths"]["/api/coverage"]["get"]["parameters"]}
    assert "250 m" in params["radius_m"]["description"]
    assert params["new_sites"]["schema"]["maximum"] == 20
    response = client.get("/api/coverage?new_sites=21")
    assert_error_shape(response, 400)
    assert response.get_json()["error"]["parameter"] == "new_sites" and "20" in response.get_json()["error"]["message"]
    assert "250 米取整" in client.get("/planning?radius_m=1000").get_data(as_text=True)


# ---- time budget ----------------------------------------------------------------------------------

def test_a_slow_analysis_answers_503_with_retry_after_then_the_retry_is_served(app_config, slow_analysis):
    release, calls = slow_analysis
    app = make_app(app_config, COVERAGE_EXECUTOR="thread", COVERAGE_TIME_BUDGET_S=0.05)
    client = app.test_client()
    busy = client.get("/api/coverage?radius_m=1500")
    assert_error_shape(busy, 503)
    assert int(busy.headers["Retry-After"]) >= 1
    assert busy.headers.get("Cache-Control") != "public"
    page = client.get("/planning?radius_m=1500")  # the same analysis: waits for it, no second one
    assert page.status_code == 503 and page.mimetype == "text/html"
    html = page.get_data(as_text=True)
    assert 'http-equiv="refresh"' in html and "正在计算" in html and "Content-Security-Policy" in page.headers
    assert int(page.headers["Retry-After"]) >= 1
    # cheap endpoints are not held up meanwhile
    assert client.get("/api/nearest?lat=35.41&lon=116.59").status_code == 200
    release.set()
    assert wait_for(lambda: client.get("/api/coverage?radius_m=1500").status_code == 200)
    assert client.get("/planning?radius_m=1500").status_code == 200
    assert client.get("/planning/download.csv?radius_m=1500").status_code == 200
    assert calls == [1500.0]


def test_when_the_queue_is_full_a_new_analysis_is_refused_at_once(app_config, slow_analysis):
    release, calls = slow_analysis
    client = make_app(app_config, COVERAGE_EXECUTOR="thread", COVERAGE_TIME_BUDGET_S=0.05,
                      COVERAGE_QUEUE_MAX=1).test_client()
    assert client.get("/api/coverage?radius_m=1500").status_code == 503
    refused = client.get("/api/coverage?radius_m=2500")
    assert_error_shape(refused, 503)
    assert "busy" in refused.get_json()["error"]["message"] and refused.headers["Retry-After"]
    assert calls == [1500.0]  # the refused one was not queued


def test_the_real_process_pool_computes_in_the_background_and_keeps_the_answer(app_config):
    client = make_app(app_config, COVERAGE_TIME_BUDGET_S=0).test_client()  # never waits: 503 first
    first = client.get("/api/coverage?radius_m=2700&new_sites=2")
    assert first.status_code in (200, 503)
    assert wait_for(lambda: client.get("/api/coverage?radius_m=2700&new_sites=2").status_code == 200, 60)
    body = client.get("/api/coverage?radius_m=2700&new_sites=2").get_json()
    assert body["radius_m"] == 2700 and len(body["suggestions"]) == 2
    gaps = client.get("/api/coverage/gaps?radius_m=2700&new_sites=2&after=1")
    assert gaps.status_code == 200 and gaps.get_json()["type"] == "FeatureCollection"


def test_bad_limit_settings_stop_the_start_naming_the_setting(app_config):
    for key, value in [("COVERAGE_TIME_BUDGET_S", "soon"), ("RADIUS_STEP_M", 0), ("COVERAGE_RATE_LIMIT", "lots"),
                       ("COVERAGE_EXECUTOR", "gpu"), ("MAX_URL_LENGTH", 100_000), ("COVERAGE_MAX_NEW_SITES", -1),
                       ("RATELIMIT_STORAGE_URI", "redis")]:
        with pytest.raises(ValueError, match=key):
            make_app(app_config, **{key: value})


# ---- rate limits ----------------------------------------------------------------------------------

def test_after_the_limit_analyses_get_429_with_retry_after_in_the_site_format(app_config):
    client = make_app(app_config, COVERAGE_RATE_LIMIT="2/minute").test_client()
    for url in ["/api/coverage?radius_m=1000", "/api/coverage?radius_m=1000", "/planning/download.csv?radius_m=1000",
                "/api/coverage?radius_m=2000"]:
        assert client.get(url).status_code == 200, url  # two analyses; answers already computed do not count
    limited = client.get("/api/coverage?radius_m=3000")
    assert_error_shape(limited, 429)
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    page = client.get("/planning?radius_m=3000")
    assert page.status_code == 429 and page.mimetype == "text/html" and "Content-Security-Policy" in page.headers
    assert int(page.headers["Retry-After"]) >= 1


def test_cheap_endpoints_are_never_rate_limited(app_config):
    client = make_app(app_config, COVERAGE_RATE_LIMIT="1/minute").test_client()
    assert client.get("/api/coverage?radius_m=1000").status_code == 200
    assert client.get("/api/coverage?radius_m=2000").status_code == 429
    for i in range(40):
        response = client.get(f"/api/nearest?lat=35.41&lon=116.{500 + i}")
        assert response.status_code == 200 and "Retry-After" not in response.headers
    for path in ["/", "/list", "/stations/JN-RS-0001", "/api/stations", "/api/health", "/api/counties"]:
        assert client.get(path).status_code == 200, path


def test_rate_limits_can_be_switched_off(app_config):
    client = make_app(app_config, COVERAGE_RATE_LIMIT="1/minute", RATELIMIT_ENABLED=False).test_client()
    assert all(client.get(f"/api/coverage?radius_m={r}").status_code == 200 for r in (1000, 2000, 3000))


# ---- URL length -----------------------------------------------------------------------------------

def test_an_over_long_url_gets_the_site_414(client):
    response = client.get("/api/nearest?lat=35.41&lon=116.59&x=" + "a" * 5000)
    assert_error_shape(response, 414)
    assert "4096" in response.get_json()["error"]["message"]
    page = client.get("/list?q=" + "驿" * 1500)
    assert page.status_code == 414 and page.mimetype == "text/html" and "Content-Security-Policy" in page.headers


def test_the_longest_filter_lists_stay_within_the_url_limit(client):
    from stations.model import AMENITIES, STATUSES

    every = "&".join(f"amenity={a}" for a in AMENITIES) + "&" + "&".join(f"status={s}" for s in STATUSES)
    nearest = ("/api/nearest?lat=35.412345&lon=116.587654&k=50&kind=rest_station&open_now=1&open_24_7=1"
               "&max_distance_m=20000&crs=gcj02&" + every)
    stations = "/api/stations?kind=rest_station&county=370811&status=open&bbox=116.5,35.3,116.7,35.5&crs=bd09&" \
        + "&".join(f"amenity={a}" for a in AMENITIES)
    listing = "/list?lat=35.41&lon=116.59&kind=rest_station&open_now=1&h24=1&q=" + "驿站" * 50 + "&" \
        + "&".join(f"amenity={a}" for a in AMENITIES)
    for url in (nearest, stations, listing):
        assert len(url.encode()) < 4096 / 2, url  # half the limit: room for longer vocabularies
        assert client.get(url).status_code == 200, url


def test_the_openapi_document_names_the_answers_of_the_limits(client):
    doc = client.get("/api/openapi.json").get_json()
    for path in ("/api/nearest", "/api/stations", "/api/coverage", "/api/coverage/gaps"):
        responses = doc["paths"][path]["get"]["responses"]
        assert {"400", "414", "431"} <= set(responses), path
    for path in ("/api/coverage", "/api/coverage/gaps"):
        responses = doc["paths"][path]["get"]["responses"]
        assert {"429", "503"} <= set(responses) and "Retry-After" in responses["503"]["headers"]


# ---- served by `yizhan serve` (gunicorn) ------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _raw_request(port: int, request_line: str, headers: str = "") -> tuple[int, dict, bytes]:
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"{request_line}\r\nHost: 127.0.0.1:{port}\r\n{headers}Connection: close\r\n\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
    return int(lines[0].split()[1]), fields, body


@pytest.fixture
def served(stations_path, counties_path, tmp_path):
    """``yizhan serve`` (gunicorn) on a free port, with the fixture data; skips if it cannot start."""
    from yizhan.server import serve_command

    port = _free_port()
    cmd = serve_command("127.0.0.1", port, workers=1, threads=2)
    env = dict(os.environ, YIZHAN_STATIONS_PATH=str(stations_path), YIZHAN_COUNTIES_PATH=str(counties_path))
    log = open(tmp_path / "gunicorn.log", "wb")
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        def ready():
            if proc.poll() is not None:
                return True
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                conn.request("GET", "/api/health")
                return conn.getresponse().status == 200
            except OSError:
                return False
        if not wait_for(ready, 60) or proc.poll() is not None:
            pytest.skip(f"gunicorn did not start: {(tmp_path / 'gunicorn.log').read_text(errors='replace')[-500:]}")
        yield port
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def test_served_by_gunicorn_the_limits_hold(served):
    port = served
    status, _, body = _raw_request(port, "GET /api/nearest?lat=35.41&lon=116.59 HTTP/1.1")
    assert status == 200 and json.loads(body)["results"]
    # between the app's limit and gunicorn's: the app's own 414, JSON with the security headers
    status, fields, body = _raw_request(port, "GET /api/nearest?lat=35.41&lon=116.59&x=" + "a" * 6000 + " HTTP/1.1")
    assert status == 414 and json.loads(body)["error"]["status"] == 414
    assert "Content-Security-Policy" in fields
    # beyond gunicorn's request-line limit (8,190 bytes): its own 414, whatever the body
    status, _, _ = _raw_request(port, "GET /api/health?x=" + "a" * 9000 + " HTTP/1.1")
    assert status == 414
    status, _, _ = _raw_request(port, "GET /api/health HTTP/1.1", headers="X-Big: " + "b" * 9000 + "\r\n")
    assert status == 431
    status, _, body = _raw_request(port, "GET /api/health HTTP/1.1")
    assert status == 200 and json.loads(body) == {"status": "ok"}
    # gunicorn's own X-Forwarded-Proto handling is off: only PROXY_COUNT (default 0) may trust it
    status, fields, _ = _raw_request(port, "GET /api/health HTTP/1.1", headers="X-Forwarded-Proto: https\r\n")
    assert status == 200 and "Strict-Transport-Security" not in fields
