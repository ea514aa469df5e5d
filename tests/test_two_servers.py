"""Two app servers on one PostGIS database: a change written through one is seen by the other within a second.

Two ``yizhan serve`` processes (gunicorn, two workers each, as two machines would run them) on two
ports share one PostGIS schema (``STORE_URL``) and one accounts database (an SQLite file here; the
token is made with ``yizhan user add`` and ``yizhan token create``). A change written through server
A's API (``PATCH`` with a bearer token and ``If-Match``) must be in server B's ``/api/nearest`` and
``/api/stations/<id>`` within 1 s, in every worker, and no stale nearest answer may follow. Polled with
deadlines, never fixed sleeps; the whole test is bounded (< 60 s). Skipped, saying why, without
PostgreSQL/PostGIS.
"""
from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from conftest import STATION_FEATURES

ROOT = Path(__file__).resolve().parent.parent
SECRET = "two-servers-test-secret-key-0123456789abcdef"
VISIBLE_WITHIN_S = 1.0
WHERE = (116.5500, 35.4400)  # WGS-84 (lon, lat) of JN-RS-0004 (夜班驿站), the station moved here


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Served:
    """``yizhan serve`` with two workers in a subprocess; ``request`` opens a new connection each time
    (so that successive requests reach either worker)."""

    def __init__(self, name: str, env: dict[str, str], folder: Path):
        from yizhan.server import serve_command

        self.name, self.port = name, _free_port()
        self.log_path = folder / f"gunicorn-{name}.log"
        self.log = open(self.log_path, "wb")
        cmd = serve_command("127.0.0.1", self.port, workers=2, threads=2, access_log=False, log_level="warning",
                            instance_secret_key=False)
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env={**env, "YIZHAN_INSTANCE_PATH": str(folder / name)},
                                     stdout=self.log, stderr=subprocess.STDOUT, start_new_session=True)

    def request(self, method: str, path: str, body: dict | None = None, headers: dict | None = None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            data = None if body is None else json.dumps(body).encode()
            conn.request(method, path, body=data, headers=headers or {})
            response = conn.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            conn.close()

    def wait_ready(self, deadline: float) -> None:
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                pytest.fail(f"server {self.name} exited: {self.log_path.read_text(errors='replace')[-2000:]}")
            try:
                if self.request("GET", "/api/health")[0] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.05)
        pytest.fail(f"server {self.name} not ready in time: {self.log_path.read_text(errors='replace')[-2000:]}")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.log.close()


def _poll(check, within_s: float) -> float:
    """Call ``check()`` until it is true; the seconds that took (fails past ``within_s``)."""
    started = time.monotonic()
    while True:
        last = check()
        if last is True:
            return time.monotonic() - started
        if time.monotonic() - started > within_s:
            pytest.fail(f"not seen within {within_s} s: {last}")
        time.sleep(0.01)


@pytest.fixture
def two_servers(tmp_path, counties_path):
    from postgis_db import fresh_schema, store_url
    from stations.counties import Counties
    from stations.store import open_store
    from stations.store.postgis import load
    from yizhan.cli import main

    url = store_url(fresh_schema())  # skips, saying why, without PostgreSQL/PostGIS
    with open_store(url, Counties.load(counties_path)) as seeding:
        load(seeding, STATION_FEATURES)
    accounts = f"sqlite:///{tmp_path / 'accounts.sqlite3'}"  # one accounts database for both servers
    env = {**os.environ, "YIZHAN_STORE_URL": url, "YIZHAN_COUNTIES_PATH": str(counties_path),
           "YIZHAN_DATABASE_URL": accounts, "YIZHAN_SECRET_KEY": SECRET, "YIZHAN_INSTANCE_PATH": str(tmp_path / "cli"),
           "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    env.pop("YIZHAN_STATIONS_PATH", None)
    runner = CliRunner()
    cli_env = {k: v for k, v in env.items() if k.startswith("YIZHAN_")}
    for args, stdin in ((["db", "upgrade"], None),
                        (["user", "add", "editor", "--role", "admin", "--password-stdin"], "a long enough password\n")):
        result = runner.invoke(main, args, input=stdin, env=cli_env)
        assert result.exit_code == 0, result.output
    made = runner.invoke(main, ["token", "create", "editor"], env=cli_env)
    assert made.exit_code == 0, made.output
    token = made.stdout.strip().splitlines()[0]
    servers = [Served("a", env, tmp_path), Served("b", env, tmp_path)]
    try:
        deadline = time.monotonic() + 40
        for server in servers:
            server.wait_ready(deadline)
        yield servers[0], servers[1], token
    finally:
        for server in servers:
            server.stop()


def _nearest_ids(server: Served) -> list[str]:
    status, _, body = server.request("GET", f"/api/nearest?lon={WHERE[0]}&lat={WHERE[1]}&k=3")
    assert status == 200, body
    return [r["id"] for r in json.loads(body)["results"]]


def _station(server: Served, station_id: str) -> tuple[str, dict]:
    status, headers, body = server.request("GET", f"/api/stations/{station_id}")
    assert status == 200, body
    return headers["ETag"], json.loads(body)


def test_a_change_through_one_server_is_seen_by_the_other_within_a_second(two_servers):
    started = time.monotonic()
    a, b, token = two_servers
    for _ in range(8):  # every worker of both servers has read the store and built its index
        assert _nearest_ids(b)[0] == "JN-RS-0004" and _nearest_ids(a)[0] == "JN-RS-0004"
    etag, before = _station(a, "JN-RS-0002")
    assert before["properties"]["name"] == "太白楼路驿站"

    # move JN-RS-0002 to the query point and rename it, through server A
    patch = {"geometry": {"type": "Point", "coordinates": [WHERE[0], WHERE[1] + 0.0001]},
             "properties": {"name": "搬迁后的驿站"}}
    headers = {"Authorization": f"Bearer {token}", "If-Match": etag, "Content-Type": "application/merge-patch+json"}
    status, answer_headers, body = a.request("PATCH", "/api/stations/JN-RS-0002", patch, headers)
    assert status == 200, body
    written = answer_headers["ETag"]

    def b_sees_the_move():
        nearest, (tag, feature) = _nearest_ids(b), _station(b, "JN-RS-0002")
        return (nearest[:2] == ["JN-RS-0004", "JN-RS-0002"] and tag == written
                and feature["properties"]["name"] == "搬迁后的驿站") or (nearest, tag)

    _poll(b_sees_the_move, VISIBLE_WITHIN_S)
    for _ in range(12):  # and no stale answer after that, from either worker of B (or of A)
        assert b_sees_the_move() is True
        assert _nearest_ids(a)[:2] == ["JN-RS-0004", "JN-RS-0002"]

    # close it through server B: server A's nearest (open stations) drops it within a second
    headers = {**headers, "If-Match": written}
    status, _, body = b.request("PATCH", "/api/stations/JN-RS-0002", {"properties": {"status": "closed"}}, headers)
    assert status == 200, body
    _poll(lambda: "JN-RS-0002" not in _nearest_ids(a) or _nearest_ids(a), VISIBLE_WITHIN_S)
    for _ in range(12):
        assert "JN-RS-0002" not in _nearest_ids(a) and "JN-RS-0002" not in _nearest_ids(b)
    assert time.monotonic() - started < 60
